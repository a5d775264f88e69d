"""Every real CloudTrail record in ../shared normalises and evaluates, raw and in an EventBridge envelope."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from llmops_sentinel.domain.governance import Status, evaluate, load_default_policies, normalise_document, to_asff
from sentinel_dev.cli.main import main
from tests.conftest import AWS_EVENTS

RECORDS = AWS_EVENTS / "cloudtrail_records"
NAMES = sorted(p.name for p in RECORDS.glob("*.json"))
POLICIES = load_default_policies()

#: (policy, expected status) per record; records not listed must only avoid errors and false passes.
EXPECTED: dict[str, list[tuple[str, Status]]] = {
    "cloudtrail_record_kms_DisableKeyRotation__awsdocs.json": [("kms-key-rotation", Status.NON_COMPLIANT)],
    "cloudtrail_record_kms_ScheduleKeyDeletion__awsdocs.json": [
        ("kms-key-not-pending-deletion", Status.NON_COMPLIANT),
        ("kms-key-rotation", Status.NOT_APPLICABLE),
    ],
    # Disabled, but the record does not say which endpoints use the key: insufficient data.
    "cloudtrail_record_kms_DisableKey__awsdocs.json": [("kms-key-not-pending-deletion", Status.NOT_APPLICABLE)],
    # The policy gives the account root kms:* — not a public principal.
    "cloudtrail_record_kms_PutKeyPolicy__awsdocs.json": [("kms-key-policy-not-public", Status.COMPLIANT)],
    # EXTERNAL origin: automatic rotation does not apply; PendingImport is not pending deletion.
    "cloudtrail_record_kms_CreateKey__awsdocs.json": [
        ("kms-key-rotation", Status.NOT_APPLICABLE),
        ("kms-key-not-pending-deletion", Status.COMPLIANT),
    ],
    # CreateModel without VpcConfig or EnableNetworkIsolation: both fail.
    "cloudtrail_record_sagemaker_CreateModel__awsdocs.json": [
        ("model-network-isolation", Status.NON_COMPLIANT),
        ("model-vpc", Status.NON_COMPLIANT),
    ],
    # CreateEndpoint names the config but carries none of its settings: nothing can be judged yet.
    "cloudtrail_record_sagemaker_CreateEndpoint__awsdocs.json": [
        ("endpoint-config-kms", Status.NOT_APPLICABLE),
        ("endpoint-config-data-capture", Status.NOT_APPLICABLE),
    ],
    # CreateGrant is not a governed call: no resources, no findings.
    "cloudtrail_record_kms_CreateGrant__awsdocs.json": [],
}


def envelope(record: dict[str, Any]) -> dict[str, Any]:
    """The EventBridge 'AWS API Call via CloudTrail' envelope (shape per ../shared SOURCES.md)."""
    service = record["eventSource"].split(".", 1)[0]
    return {
        "version": "0",
        "id": "6f8f6d7a-0000-4000-8000-000000000000",
        "detail-type": "AWS API Call via CloudTrail",
        "source": f"aws.{service}",
        "account": record.get("recipientAccountId", "111122223333"),
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": copy.deepcopy(record),
    }


def test_fixtures_are_present() -> None:
    if not NAMES:
        pytest.fail(f"no CloudTrail records in {RECORDS}: CI clones the repo beside ../shared")
    assert set(NAMES) == set(EXPECTED), "a new shared record needs its expectation here"


@pytest.mark.parametrize("wrapped", [False, True], ids=["raw", "eventbridge"])
@pytest.mark.parametrize("name", NAMES)
def test_record_evaluates_with_expected_findings(name: str, wrapped: bool) -> None:
    record = json.loads((RECORDS / name).read_text())
    event = envelope(record) if wrapped else record
    findings = evaluate(normalise_document(event), POLICIES)
    by_policy = {f.policy: f for f in findings}
    for policy, status in EXPECTED[name]:
        assert policy in by_policy, sorted(by_policy)
        assert by_policy[policy].status is status, by_policy[policy].reason
    if not EXPECTED[name]:
        assert findings == []
    for finding in findings:
        # A record carries partial state: it may prove a violation, never a pass on unknown fields.
        if finding.status is Status.NOT_APPLICABLE:
            assert finding.reason
        if finding.status is Status.NON_COMPLIANT:
            assert finding.remediation is not None and finding.remediation.status == "skipped-dry-run"


@pytest.mark.parametrize("name", NAMES)
def test_findings_are_valid_securityhub_imports(name: str) -> None:
    record = json.loads((RECORDS / name).read_text())
    shape = get_session().get_service_model("securityhub").operation_model("BatchImportFindings").input_shape
    for finding in evaluate(normalise_document(record), POLICIES):
        report = ParamValidator().validate({"Findings": [to_asff(finding, region="us-east-1")]}, shape)
        assert not report.has_errors(), report.generate_report()


def test_cli_takes_every_record_at_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wrapped = []
    for name in NAMES:
        path = tmp_path / f"eb_{name}"
        path.write_text(json.dumps(envelope(json.loads((RECORDS / name).read_text()))))
        wrapped.append(str(path))
    raw = [str(RECORDS / n) for n in NAMES]
    assert main(["govern", "evaluate", "--input", *raw, *wrapped, "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    failed = {(f["policy"], f["resource_type"]) for f in findings if f["compliant"] is False}
    assert ("kms-key-rotation", "AWS::KMS::Key") in failed
    assert ("kms-key-not-pending-deletion", "AWS::KMS::Key") in failed

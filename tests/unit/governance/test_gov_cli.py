"""``sentinel govern evaluate``: JSON contract, human output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentinel_dev.cli.main import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["govern", "evaluate", "--input", str(FIXTURES / "config_endpoint_config_noncompliant.json"),
                 str(FIXTURES / "config_model_compliant.json"), "--json"])  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    keys = {"policy", "resource_type", "resource_id", "compliant", "severity", "reason", "remediation"}
    assert out["findings"] and all(keys <= set(f) for f in out["findings"])
    kms = next(f for f in out["findings"] if f["policy"] == "endpoint-config-kms")
    assert kms["compliant"] is False and kms["remediation"]["status"] == "skipped-dry-run"
    assert {f["resource_type"] for f in out["findings"]} == {"AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Model"}


def test_role_and_policy_in_separate_files_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["govern", "evaluate", "-i", str(FIXTURES / "config_role_clean.json"),
                 str(FIXTURES / "config_policy_llm_deploy.json"), "--json"])  # fmt: skip
    assert code == 0
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert next(f for f in findings if f["policy"] == "role-no-admin")["compliant"] is True


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["govern", "evaluate", "-i", str(FIXTURES / "config_kms_key_not_rotating.json")]) == 0
    out = capsys.readouterr().out
    assert "FAIL" in out and "kms-key-rotation" in out and "enable-key-rotation: skipped-dry-run" in out


def test_bad_policy_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "policies.yaml"
    bad.write_text("version: 1\npolicies:\n  - name: x\n    resource: AWS::KMS::Key\n")
    code = main(["govern", "evaluate", "-i", str(FIXTURES / "config_kms_key_rotating.json"), "-p", str(bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}:3:" in err


BAD_INPUTS = ["not json", '{"foo": 1}', '{"resourceType": "AWS::S3::Bucket", "configuration": {}}']


@pytest.mark.parametrize("content", BAD_INPUTS)
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    assert main(["govern", "evaluate", "-i", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sentinel: ") and str(path) in err

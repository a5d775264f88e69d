"""template.yaml and the sampled Comprehend extractor: the permissions exist on the two functions that call
Comprehend (Firehose processor, data-capture profiler) and only when sampling is on; "on" in the template
means what it means in the code for every value the parameter admits; the dashboard and the alarm read
the quality metrics with the dimensions they are published with."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmops_sentinel.services.drift import CaptureResult, DriftSettings, EndpointBatch
from llmops_sentinel.services.emf import publish_capture_quality, publish_firehose_batch
from sentinel_dev.local.intrinsics import Resolver
from sentinel_dev.local.template import load_template, translate
from tests.conftest import REPO

SOURCE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = translate(SOURCE, "us-east-1")["Resources"]
ACTIONS = {"comprehend:DetectToxicContent", "comprehend:DetectPiiEntities"}
CALLERS = {"FirehoseProcessorFunction", "DataCaptureProfilerFunction"}
PARAMETER = SOURCE.raw["Parameters"]["QualitySampleRate"]
COUNTERS = {
    "sampled": 12,
    "scored": 10,
    "toxicity_calls": 2,
    "pii_calls": 10,
    "units": 61,
    "skipped_records": 2,
    "failures": 1,
    "stopped": "throttled",
    "cut": 0,
    "blank": 0,
}


def _statements(role: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for policy in role["Properties"].get("Policies", []):
        out.extend(policy["PolicyDocument"]["Statement"])
    return out


def test_only_the_two_ingest_functions_may_call_comprehend_and_only_when_sampling() -> None:
    holders = {
        lid
        for lid, r in RESOURCES.items()
        if r["Type"] == "AWS::IAM::Role" and "comprehend:" in json.dumps(r.get("Properties", {}))
    }
    assert holders == {f"{name}Role" for name in CALLERS}
    for role in holders:
        (conditional,) = [s for s in _statements(RESOURCES[role]) if "Fn::If" in s]
        condition, statement, otherwise = conditional["Fn::If"]
        assert condition == "QualitySampling" and otherwise == {"Ref": "AWS::NoValue"}, role
        assert set(statement["Action"]) == ACTIONS and statement["Resource"] == "*"  # no resource-level permissions
        assert not [s for s in _statements(RESOURCES[role]) if "Fn::If" not in s and "comprehend:" in json.dumps(s)]


def test_sample_rate_parameter_defaults_to_off_and_reaches_both_functions() -> None:
    assert PARAMETER["Default"] == "0"
    for name in CALLERS:
        env = RESOURCES[name]["Properties"]["Environment"]["Variables"]
        assert env["SENTINEL_QUALITY_SAMPLE_RATE"] == {"Ref": "QualitySampleRate"}, name


def _condition(value: str) -> bool:
    resolver = Resolver(
        lambda name: value if name == "QualitySampleRate" else f"ref:{name}",
        lambda lid, attr: f"{lid}.{attr}",
        conditions={},
    )
    return bool(resolver.resolve(SOURCE.raw["Conditions"]["QualitySampling"]))


def _admitted(value: str) -> bool:
    return re.fullmatch(PARAMETER["AllowedPattern"], value) is not None


def _code_rate(value: str, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("SENTINEL_DATA_BUCKET", "b")
    monkeypatch.setenv("SENTINEL_KMS_KEY_ID", "k")
    monkeypatch.setenv("SENTINEL_QUALITY_SAMPLE_RATE", value)
    return DriftSettings.from_env().monitors.quality.sample_rate


@pytest.mark.parametrize(
    "value",
    ["0", "0.0", "0.00", "0.000000", "0.000001", "0.01", "0.1", "0.10", "0.5", "0.999999", "1", "1.0", "1.000000"],
)
def test_the_condition_is_on_exactly_when_the_code_samples(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _admitted(value)
    assert _condition(value) is (_code_rate(value, monkeypatch) > 0) is (float(value) > 0)


# "\u0661" is an Arabic-Indic one, which float() reads: refused all the same
@pytest.mark.parametrize(
    "value",
    [
        "",
        "00",
        "01",
        ".5",
        "0.",
        "1.",
        "1.5",
        "1.000001",
        "2",
        "-0",
        "-0.1",
        "0.0000001",
        "1e-2",
        "0,01",
        " 0.01",
        "0.01 ",
        "off",
        "0x1",
        "\u0661",
    ],
)
def test_the_parameter_refuses_anything_but_a_decimal_in_0_1(value: str) -> None:
    assert not _admitted(value)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A(0(\.[0-9]{1,6})?|1(\.0{1,6})?)\Z"))
def test_every_admitted_value_switches_the_permission_as_the_code_reads_it(value: str) -> None:
    assert _admitted(value)
    rate = float(value)
    assert 0.0 <= rate <= 1.0
    assert _condition(value) is (rate > 0)


# ------------------------------------------------------------------------------------ metrics and alarm


def _published(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_both_paths_publish_the_counters_the_dashboard_plots_with_its_dimensions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LLMOpsSentinel")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "llmops-sentinel")  # as the template's Globals set it
    publish_firehose_batch(EndpointBatch(endpoint="ep", records_ok=3, records_failed=0, quality=COUNTERS))
    publish_capture_quality(CaptureResult(status="profiled", bucket="b", key="k", endpoint="ep", quality=COUNTERS))
    publish_capture_quality(CaptureResult(status="profiled", bucket="b", key="k", endpoint="ep"))  # sampling off
    publish_firehose_batch(EndpointBatch(endpoint="off", records_ok=3, records_failed=0))
    docs = _published(capsys.readouterr().out)
    assert len(docs) == 3
    names = [{m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]} for doc in docs]
    quality = {n for n in names[0] if n.startswith("Quality")}
    assert quality == names[1] and len(quality) == 8
    assert not {n for n in names[2] if n.startswith("Quality")}  # off: no quality metric at all
    assert (
        docs[0]["QualityScoredRecords"],
        docs[0]["QualitySkippedRecords"],
        docs[0]["QualityBudgetExhausted"],
        docs[0]["QualityBilledUnits"],
    ) == ([10.0], [2.0], [1.0], [61.0])
    published = {
        frozenset(dims) for doc in docs[:2] for d in doc["_aws"]["CloudWatchMetrics"] for dims in d["Dimensions"]
    }
    assert published == {frozenset({"EndpointName"})}
    from tests.template.test_operations import dashboard_lines

    plotted = [
        line for line in dashboard_lines() if line.namespace == "LLMOpsSentinel" and line.name.startswith("Quality")
    ]
    assert {line.name for line in plotted} == quality
    for line in plotted:
        assert line.dimensions == {"EndpointName"} and line.pinned is None, line  # every watched endpoint


def test_the_budget_alarm_exists_only_with_sampling_and_reads_the_published_metric() -> None:
    alarm = SOURCE.raw["Resources"]["QualityBudgetExhaustedAlarm"]
    assert alarm["Condition"] == "QualitySampling"
    props = alarm["Properties"]
    (query,) = props["Metrics"]  # every watched endpoint, the published metric with its exact dimensions
    assert query["Expression"] == 'SELECT MAX(QualityBudgetExhausted) FROM SCHEMA("LLMOpsSentinel", EndpointName)'
    assert query["ReturnData"] is True and query["Period"] == 300
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"], props["Threshold"]) == (3, 3, 1)  # repeatedly
    assert props["TreatMissingData"] == "notBreaching"  # no batch, no sampling: not an exhausted budget
    assert props["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    assert ".health." in props["AlarmName"]["Fn::Sub"]  # never routed to a remediation

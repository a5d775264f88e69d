"""template.yaml: the Comprehend permissions exist on the Firehose processor only, and only when sampling is on."""

from __future__ import annotations

import json
from typing import Any

from sentinel_dev.local.template import load_template, translate
from tests.conftest import REPO

SOURCE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = translate(SOURCE, "us-east-1")["Resources"]
ACTIONS = {"comprehend:DetectToxicContent", "comprehend:DetectPiiEntities"}


def _statements(role: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for policy in role["Properties"].get("Policies", []):
        out.extend(policy["PolicyDocument"]["Statement"])
    return out


def test_only_the_firehose_processor_may_call_comprehend_and_only_when_sampling() -> None:
    holders = {
        lid
        for lid, r in RESOURCES.items()
        if r["Type"] == "AWS::IAM::Role" and "comprehend:" in json.dumps(r.get("Properties", {}))
    }
    assert holders == {"FirehoseProcessorFunctionRole"}
    (conditional,) = [s for s in _statements(RESOURCES["FirehoseProcessorFunctionRole"]) if "Fn::If" in s]
    condition, statement, otherwise = conditional["Fn::If"]
    assert condition == "QualitySampling" and otherwise == {"Ref": "AWS::NoValue"}
    assert set(statement["Action"]) == ACTIONS and statement["Resource"] == "*"  # no resource-level permissions
    assert SOURCE.raw["Conditions"]["QualitySampling"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "QualitySampleRate"}, "0"]}]
    }


def test_sample_rate_parameter_defaults_to_off_and_reaches_the_function() -> None:
    assert SOURCE.raw["Parameters"]["QualitySampleRate"]["Default"] == "0"
    env = RESOURCES["FirehoseProcessorFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SENTINEL_QUALITY_SAMPLE_RATE"] == {"Ref": "QualitySampleRate"}

"""template.yaml + statemachines/drift_checks.asl.json pins for the drift fan-out (issue 11, deliverable 4):
the schedule starts the state machine (not the function), the Map runs at most 10 checks at a time with
a Retry on throttling and a Catch per item, and every grant is the narrowest the services allow."""

from __future__ import annotations

import json
from typing import Any

from llmops_sentinel.errors import ThrottledError
from tests.conftest import REPO
from tests.template.test_template import RESOURCES, TRANSLATED, of_type

ASL = json.loads((REPO / "statemachines" / "drift_checks.asl.json").read_text())


def _statements(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def test_the_map_bounds_concurrency_and_isolates_each_item() -> None:
    listing, fan = ASL["States"]["ListEndpoints"], ASL["States"]["CheckEach"]
    assert listing["Next"] == "CheckEach" and fan["Type"] == "Map"
    assert fan["MaxConcurrency"] == 10 and fan["ItemsPath"] == "$.plan.endpoints"
    assert fan["ItemSelector"]["phase"] == "check"
    task = fan["ItemProcessor"]["States"]["CheckEndpoint"]
    assert ThrottledError.__name__ in task["Retry"][0]["ErrorEquals"]
    assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"] and task["Catch"][0]["Next"] == "CheckFailed"
    # Longer than the function's own timeout: the Lambda always ends first (its timeout is the item's
    # caught error), so no check keeps running, writing a report and a drift event, after the Map has
    # already recorded that endpoint as failed.
    assert task["TimeoutSeconds"] > RESOURCES["DriftDetectorFunction"]["Properties"]["Timeout"]
    assert ASL["States"]["ListEndpoints"]["TimeoutSeconds"] > 0


def test_the_schedule_starts_the_state_machine_and_the_function_has_no_schedule_of_its_own() -> None:
    assert not RESOURCES["DriftDetectorFunction"]["Properties"].get("Events")
    rule = RESOURCES["DriftChecksSchedule"]["Properties"]
    assert rule["ScheduleExpression"] == {"Ref": "DriftCheckSchedule"}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "DriftChecksStateMachine"} and "Input" not in target  # the event's time


def test_the_state_machine_may_invoke_only_the_drift_detector() -> None:
    role = of_type("AWS::IAM::Role", TRANSLATED)["DriftChecksStateMachineRole"]["Properties"]
    invoke = [s for s in _statements(role["Policies"]) if "lambda:InvokeFunction" in json.dumps(s["Action"])]
    assert len(invoke) == 1
    resources = json.dumps(invoke[0]["Resource"])
    assert "DriftDetectorFunction" in resources and '*"' not in resources.replace(":*", "")
    starter = of_type("AWS::IAM::Role", TRANSLATED)["DriftChecksScheduleRole"]["Properties"]
    starts = [s for s in _statements(starter["Policies"]) if s["Action"] == "states:StartExecution"]
    assert [s["Resource"] for s in starts] == [{"Ref": "DriftChecksStateMachine"}]


def test_the_drift_detector_reads_only_the_fleet_partition_and_the_baseline_listing() -> None:
    policies = RESOURCES["DriftDetectorFunction"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for p in policies for s in p.get("Statement", [])}
    query = statements["ReadTheFleetRegistryOnly"]
    assert query["Action"] == "dynamodb:Query"
    assert query["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["fleet"]}}
    listing = statements["ListProfilesAndBaselinesOnly"]
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["profiles/*", "baselines/*"]
    env = RESOURCES["DriftDetectorFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SENTINEL_TABLE_NAME"] == {"Ref": "SentinelTable"}

"""Routing decisions and idempotent execution names."""

from __future__ import annotations

import re

import pytest

from llmops_sentinel.domain.routing import MAX_EXECUTION_NAME, decide, execution_name
from llmops_sentinel.models.alarms import parse_alarm_event
from tests.conftest import EVENTS, aws_event, load_json

P99_EVENT = EVENTS / "alarm_router" / "p99_latency_alarm.json"


def p99_event() -> dict:
    return load_json(P99_EVENT)


def test_p99_latency_alarm_starts_scale_out_for_its_endpoint_and_variant() -> None:
    decision = decide(parse_alarm_event(p99_event()), alarm_prefix="sentinel-")
    assert decision.action == "start"
    assert decision.workflow == "scale-out"
    assert (decision.endpoint_name, decision.variant_name) == ("demo-llm-endpoint", "AllTraffic")
    assert decision.input["endpoint_name"] == "demo-llm-endpoint"
    assert decision.input["signal"]["state"] == "ALARM"  # type: ignore[index]


def test_recovery_to_ok_does_not_act() -> None:
    event = p99_event()
    event["detail"]["state"]["value"] = "OK"
    decision = decide(parse_alarm_event(event), alarm_prefix="sentinel-")
    assert decision.action == "ignore"
    assert "only ALARM" in decision.reason


def test_alarms_of_other_stacks_are_ignored() -> None:
    decision = decide(parse_alarm_event(p99_event()), alarm_prefix="other-stack-")
    assert decision.action == "ignore"
    assert "not managed" in decision.reason


def test_unrouted_metric_is_ignored_with_a_reason() -> None:
    transition = parse_alarm_event(aws_event("cloudwatch_alarm_state_change_eventbridge_single_metric__awsdocs.json"))
    decision = decide(transition)
    assert decision.action == "ignore"
    assert "no route" in decision.reason


def test_latency_alarm_without_endpoint_dimensions_is_ignored() -> None:
    event = p99_event()
    event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {}
    decision = decide(parse_alarm_event(event), alarm_prefix="sentinel-")
    assert decision.action == "ignore"
    assert "dimensions" in decision.reason


def test_same_transition_gets_the_same_name_and_a_new_transition_a_new_one() -> None:
    first = parse_alarm_event(p99_event())
    again = parse_alarm_event(p99_event())
    later_event = p99_event()
    later_event["detail"]["state"]["timestamp"] = "2026-11-26T11:00:00.000+0000"
    later = parse_alarm_event(later_event)
    assert execution_name("scale-out", first, "ep") == execution_name("scale-out", again, "ep")
    assert execution_name("scale-out", first, "ep") != execution_name("scale-out", later, "ep")


def test_same_transition_via_alarm_action_and_eventbridge_share_a_name() -> None:
    bridge = parse_alarm_event(p99_event())
    action_event = load_json(EVENTS / "alarm_router" / "p99_latency_alarm_action.json")
    action = parse_alarm_event(action_event)
    assert action.delivery == "alarm-action"
    assert execution_name("scale-out", bridge, "ep") == execution_name("scale-out", action, "ep")


@pytest.mark.parametrize("subject", ["e", "x" * 200, "weird name/with:chars"])
def test_execution_names_fit_step_functions_rules(subject: str) -> None:
    name = execution_name("scale-out", parse_alarm_event(p99_event()), subject)
    assert len(name) <= MAX_EXECUTION_NAME
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)

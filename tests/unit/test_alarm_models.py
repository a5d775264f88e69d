"""Alarm events in both delivery shapes, as AWS publishes them (quirks included)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.alarms import parse_alarm_event, parse_alarm_timestamp
from tests.conftest import AWS_EVENTS, aws_event

EVENTBRIDGE = sorted(p.name for p in AWS_EVENTS.glob("cloudwatch_alarm_state_change_eventbridge_*.json"))
ALARM_ACTION = sorted(p.name for p in AWS_EVENTS.glob("cloudwatch_alarm_lambda_action_*.json"))


def test_fixture_sets_are_present() -> None:
    assert len(EVENTBRIDGE) == 4
    assert len(ALARM_ACTION) == 4


@pytest.mark.parametrize("name", EVENTBRIDGE)
def test_eventbridge_alarm_state_changes_parse(name: str) -> None:
    event = aws_event(name)
    transition = parse_alarm_event(event)
    assert transition.delivery == "eventbridge"
    assert transition.alarm_name == event["detail"]["alarmName"]
    assert transition.alarm_arn == event["resources"][0]
    assert transition.state == event["detail"]["state"]["value"]
    assert transition.state_timestamp == event["detail"]["state"]["timestamp"]


@pytest.mark.parametrize("name", ALARM_ACTION)
def test_lambda_alarm_action_payloads_parse(name: str) -> None:
    event = aws_event(name)
    transition = parse_alarm_event(event)
    assert transition.delivery == "alarm-action"
    assert transition.alarm_name == event["alarmData"]["alarmName"]
    assert " " not in transition.alarm_arn  # the docs' "us-east-1: 4444..." typo is normalised
    assert transition.account == event["accountId"]


def test_single_metric_alarm_exposes_its_metric_and_dimensions() -> None:
    transition = parse_alarm_event(aws_event("cloudwatch_alarm_state_change_eventbridge_single_metric__awsdocs.json"))
    assert [(m.namespace, m.name, m.stat) for m in transition.metrics] == [("AWS/EC2", "CPUUtilization", "Average")]
    assert transition.metrics[0].dimensions == {"InstanceId": "i-12345678901234567"}
    assert transition.previous_state == "OK"
    assert not transition.is_composite


def test_anomaly_band_alarm_keeps_its_expression() -> None:
    transition = parse_alarm_event(
        aws_event("cloudwatch_alarm_state_change_eventbridge_anomaly_detection__awsdocs.json")
    )
    assert any("ANOMALY_DETECTION_BAND" in e for e in transition.expressions)


def test_composite_alarm_is_flagged() -> None:
    transition = parse_alarm_event(
        aws_event("cloudwatch_alarm_state_change_eventbridge_composite_suppressor__awsdocs.json")
    )
    assert transition.is_composite
    assert transition.metrics == ()


def test_timestamps_with_the_published_typos_are_read() -> None:
    assert parse_alarm_timestamp("2023-08-04T12: 36: 15.490+0000") == datetime(2023, 8, 4, 12, 36, 15, 490000, UTC)
    assert parse_alarm_timestamp("2019-10-02T17:04:40.989+0000") == datetime(2019, 10, 2, 17, 4, 40, 989000, UTC)
    assert parse_alarm_timestamp("yesterday") is None


@pytest.mark.parametrize(
    "name", ["sns_wrapped_cloudwatch_alarm_single_metric__lambdago.json", "eventbridge_scheduled_event__awsdocs.json"]
)
def test_other_event_shapes_are_a_typed_error(name: str) -> None:
    with pytest.raises(InvalidEventError, match="not a CloudWatch alarm event"):
        parse_alarm_event(aws_event(name))


@pytest.mark.parametrize("event", [None, [], "ALARM", 3])
def test_non_objects_are_a_typed_error(event: object) -> None:
    with pytest.raises(InvalidEventError, match="JSON object"):
        parse_alarm_event(event)


def test_missing_state_names_the_field() -> None:
    event = aws_event("cloudwatch_alarm_state_change_eventbridge_single_metric__awsdocs.json")
    del event["detail"]["state"]
    with pytest.raises(InvalidEventError, match=r"detail\.state"):
        parse_alarm_event(event)


def test_unknown_state_value_is_rejected() -> None:
    event = aws_event("cloudwatch_alarm_state_change_eventbridge_single_metric__awsdocs.json")
    event["detail"]["state"]["value"] = "PANIC"
    with pytest.raises(InvalidEventError):
        parse_alarm_event(event)

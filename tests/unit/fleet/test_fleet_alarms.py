"""domain/fleet/alarms.py: the desired per-variant alarms and the put/delete plan against what exists."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from llmops_sentinel.domain.fleet.alarms import ENDPOINT_TAG, AlarmSpec, alarm_name, desired_alarms, plan
from llmops_sentinel.domain.fleet.policy import STACK_TAG, parse_fleet_policy
from llmops_sentinel.services.deployment import rollback_alarms_for

DEFAULTS = parse_fleet_policy("").defaults


def names(specs: list[AlarmSpec]) -> list[str]:
    return [s.name for s in specs]


def test_single_variant_keeps_the_single_endpoint_names() -> None:
    specs = desired_alarms("s", "ep", ["AllTraffic"], DEFAULTS)
    assert names(specs) == ["s-ep-p99-latency", "s-ep-latency-anomaly", "s-ep-drift"]
    p99 = specs[0].request("s")
    assert p99["Dimensions"] == [
        {"Name": "EndpointName", "Value": "ep"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    assert (p99["ExtendedStatistic"], p99["Unit"], p99["Threshold"]) == ("p99", "Microseconds", 2_000_000.0)
    assert (p99["Period"], p99["EvaluationPeriods"], p99["DatapointsToAlarm"]) == (60, 3, 2)
    assert {t["Key"]: t["Value"] for t in p99["Tags"]} == {STACK_TAG: "s", ENDPOINT_TAG: "ep"}
    anomaly = specs[1].request("s")
    assert anomaly["ThresholdMetricId"] == "ad1" and "Threshold" not in anomaly
    assert anomaly["Metrics"][1]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 3)"
    drift = specs[2].request("s")
    assert drift["Dimensions"] == [{"Name": "EndpointName", "Value": "ep"}]
    assert (drift["MetricName"], drift["Statistic"], drift["Threshold"]) == ("DriftDetected", "Maximum", 1.0)


def test_further_variants_get_their_own_latency_alarms_and_one_drift_alarm() -> None:
    specs = desired_alarms("s", "ep", ["blue", "green", "blue"], DEFAULTS)  # duplicates collapse
    assert names(specs) == [
        "s-ep-p99-latency",
        "s-ep-latency-anomaly",
        "s-ep-green-p99-latency",
        "s-ep-green-latency-anomaly",
        "s-ep-drift",
    ]
    assert specs[2].variant_name == "green" and ("VariantName", "green") in specs[2].dimensions


def test_policy_settings_shape_the_alarms() -> None:
    policy = parse_fleet_policy(
        "endpoints:\n  big:\n    latency: {p99_threshold_ms: 4500, anomaly_alarm: false, period_seconds: 300}\n"
        "    drift: {enabled: false}\n"
    )
    specs = desired_alarms("s", "big", ["AllTraffic"], policy.settings("big"))
    assert names(specs) == ["s-big-p99-latency"]
    assert (specs[0].threshold, specs[0].period) == (4_500_000.0, 300)
    assert names(desired_alarms("s", "big", [], policy.settings("big"))) == []  # no variants yet: nothing


def _existing(spec: AlarmSpec, stack: str = "s") -> dict[str, Any]:
    """A DescribeAlarms entry for ``spec`` as CloudWatch returns it (real shape: moto)."""
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        cw.put_metric_alarm(**spec.request(stack))
        (alarm,) = cw.describe_alarms(AlarmNames=[spec.name])["MetricAlarms"]
    return dict(alarm)


def test_every_spec_matches_what_cloudwatch_returns_for_it() -> None:
    for spec in desired_alarms("s", "ep", ["a", "b"], DEFAULTS):
        assert spec.matches(_existing(spec)), spec.name


def test_plan_puts_new_updates_changed_and_deletes_owned_leftovers() -> None:
    old = desired_alarms("s", "ep", ["a", "b"], DEFAULTS)
    existing = {s.name: _existing(s) for s in old}
    owned = {s.name: {STACK_TAG: "s", ENDPOINT_TAG: "ep"} for s in old}
    # Nothing changed: nothing to do.
    same = plan("s", "ep", old, existing, owned)
    assert (same.put, same.delete, same.conflicts) == ([], [], [])
    # Threshold changed, variant b removed.
    changed = parse_fleet_policy("defaults: {latency: {p99_threshold_ms: 3000}}").defaults
    new = desired_alarms("s", "ep", ["a"], changed)
    todo = plan("s", "ep", new, existing, owned)
    assert names(todo.put) == ["s-ep-p99-latency"]
    assert todo.delete == ["s-ep-b-latency-anomaly", "s-ep-b-p99-latency"]
    assert todo.unchanged == ["s-ep-drift", "s-ep-latency-anomaly"]
    # Offboarding: nothing desired, every owned alarm goes.
    assert plan("s", "ep", [], existing, owned).delete == sorted(existing)


@pytest.mark.parametrize(
    "tags",
    [{}, {STACK_TAG: "other-stack", ENDPOINT_TAG: "ep"}, {STACK_TAG: "s", ENDPOINT_TAG: "ep-b"}],
    ids=["untagged", "another-stack", "another-endpoint"],
)
def test_alarms_the_stack_does_not_own_for_this_endpoint_are_never_touched(tags: dict[str, str]) -> None:
    """``s-ep-b-p99-latency`` is both ep's variant b and endpoint ep-b's first variant: tags decide."""
    spec = desired_alarms("s", "ep", ["a", "b"], DEFAULTS)[2]
    existing = {spec.name: _existing(spec)}
    foreign = {spec.name: tags}
    assert plan("s", "ep", [], existing, foreign).delete == []
    assert plan("s", "ep", [spec], existing, foreign).conflicts == [spec.name]


def test_alarm_name_is_the_documented_pattern() -> None:
    assert alarm_name("st", "ep", "drift") == "st-ep-drift"
    assert alarm_name("st", "ep", "p99-latency", "v2") == "st-ep-v2-p99-latency"


def test_rollback_alarms_name_the_deployed_variants_alarms() -> None:
    templates = ("st-{endpoint}-p99-latency", "st-{endpoint}-latency-anomaly", "st.health.router")
    first = rollback_alarms_for(templates, "ep", "blue", ["blue", "green"])
    assert first == ("st-ep-p99-latency", "st-ep-latency-anomaly", "st.health.router")
    second = rollback_alarms_for(templates, "ep", "green", ["blue", "green"])
    assert second[:2] == (
        alarm_name("st", "ep", "p99-latency", "green"),
        alarm_name("st", "ep", "latency-anomaly", "green"),
    )
    assert all("{" not in a for a in (*first, *second))

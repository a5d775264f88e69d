"""Signals from bus events, and the retrain candidate comparison."""

from __future__ import annotations

import pytest

from llmops_sentinel.domain.remediation.evaluation import MetricValue, compare
from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.signals import parse_signal
from tests.conftest import EVENTS, load_json


def test_bus_signal_keeps_its_attributes_and_event_id() -> None:
    raw = load_json(EVENTS / "alarm_router" / "latency_regression_load.json")
    signal = parse_signal(raw)
    assert signal.kind == "latency-regression"
    assert signal.source_id == raw["id"]
    assert signal.attributes["cause"] == "load"
    assert (signal.endpoint_name, signal.variant_name) == ("demo-llm-endpoint", "AllTraffic")


def test_bus_signal_without_endpoint_is_rejected() -> None:
    raw = load_json(EVENTS / "alarm_router" / "drift_detected.json")
    del raw["detail"]["endpoint_name"]
    with pytest.raises(InvalidEventError, match="endpoint_name"):
        parse_signal(raw)


def test_bus_signal_from_a_foreign_source_is_rejected() -> None:
    raw = load_json(EVENTS / "alarm_router" / "drift_detected.json")
    raw["source"] = "someone.else"
    with pytest.raises(InvalidEventError, match="unsupported event"):
        parse_signal(raw)


def test_alarm_signal_kinds_follow_the_metric() -> None:
    raw = load_json(EVENTS / "alarm_router" / "p99_latency_alarm.json")
    assert parse_signal(raw).kind == "latency-alarm"
    metric = raw["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]
    metric.update(namespace="LLMOpsSentinel", name="DriftDetected")
    assert parse_signal(raw).kind == "drift-alarm"


def m(name: str, value: float) -> MetricValue:
    return MetricValue(metric_name=name, value=value)


@pytest.mark.parametrize(
    ("candidate", "current", "objective", "floor", "register"),
    [
        (0.8, 0.9, "minimize", 0.0, True),
        (0.9, 0.8, "minimize", 0.0, False),
        (0.85, 0.9, "minimize", 0.1, False),  # better, but less than the required improvement
        (0.95, 0.9, "maximize", 0.0, True),
        (0.9, 0.9, "maximize", 0.0, False),  # equal is not better
        (0.5, None, "minimize", 0.0, True),  # nothing to beat
    ],
)
def test_compare(candidate: float, current: float | None, objective: str, floor: float, register: bool) -> None:
    result = compare([m("other", 1.0), m("validation:loss", candidate)], current, "validation:loss", objective, floor)  # type: ignore[arg-type]
    assert result.register_candidate is register
    assert result.candidate_value == candidate


def test_candidate_without_the_objective_is_not_registered() -> None:
    result = compare([m("train:progress", 100.0)], 0.5, "validation:loss", "minimize")
    assert result.register_candidate is False
    assert "train:progress" in result.reason


def test_non_finite_objective_is_ignored() -> None:
    result = compare([m("validation:loss", float("nan"))], None, "validation:loss", "minimize")
    assert result.register_candidate is False

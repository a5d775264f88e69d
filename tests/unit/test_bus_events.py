"""Sentinel bus events: one strict model per detail-type, shared by producers and the router."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmops_sentinel.domain.remediation.scope import ConfiguredEndpoints
from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.bus_events import (
    DETAILS,
    EndpointIdleDetail,
    LatencyRegressionDetail,
    ModelDriftDetail,
    parse_bus_event,
)
from llmops_sentinel.models.signals import BUS_DETAIL_TYPES, parse_signal
from tests.conftest import EVENTS, load_json


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(load_json(EVENTS / "alarm_router" / name))
    return event


def test_every_modelled_detail_type_is_a_router_signal() -> None:
    assert set(BUS_DETAIL_TYPES) == set(DETAILS.values())


@pytest.mark.parametrize("detail_type", [["Latency Regression Detected"], {"a": 1}, 7, None])
def test_a_non_string_detail_type_is_a_typed_rejection_not_a_crash(detail_type: Any) -> None:
    for source in ("llmops.sentinel", "aws.cloudwatch", "someone.else"):
        event = sample("latency_regression_load.json")
        event["detail-type"], event["source"] = detail_type, source
        with pytest.raises(InvalidEventError):
            parse_signal(event)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"endpoint_name": ["demo-llm-endpoint"]}, "endpoint_name"),
        ({"cause": "sabotage"}, "cause"),
        ({"magnitude": "0.4"}, "magnitude"),
        ({"instance_type": "ml.p3.16xlarge"}, "instance_type"),  # detail is ours: unknown keys are errors
        ({"endpoint_name": ""}, "endpoint_name"),
    ],
)
def test_detail_fields_are_strictly_typed(change: dict[str, Any], complaint: str) -> None:
    event = sample("latency_regression_load.json")
    event["detail"].update(change)
    with pytest.raises(InvalidEventError, match=complaint):
        parse_signal(event)


def test_envelope_fields_aws_may_add_are_ignored() -> None:
    event = sample("latency_regression_load.json")
    event["replay-name"] = "archive-replay-1"
    assert parse_bus_event(event).detail_type == "Latency Regression Detected"


def test_a_previous_config_named_by_the_event_never_reaches_the_signal() -> None:
    event = sample("latency_regression_deployment_no_history.json")
    event["detail"]["previous_endpoint_config"] = "attacker-ml-p3-16xlarge-config"
    signal = parse_signal(event)
    assert signal.attributes["cause"] == "deployment"
    assert "previous_endpoint_config" not in signal.attributes
    assert "attacker" not in repr(signal)


def test_what_producers_build_is_what_the_router_parses() -> None:
    details = [
        LatencyRegressionDetail(endpoint_name="e", cause="load", magnitude=0.4, summary="p99 +40%"),
        ModelDriftDetail(endpoint_name="e", report_id="r1", share_drifted=0.5, summary="5 of 10 drifted"),
        EndpointIdleDetail(endpoint_name="e", idle_hours=7.0, summary="idle 7 h"),
    ]
    for detail in details:
        event = {
            "version": "0",
            "id": f"id-{detail.DETAIL_TYPE}",
            "detail-type": detail.DETAIL_TYPE,
            "source": "llmops.sentinel",
            "time": "2026-11-26T10:20:00Z",
            "detail": detail.wire(),
        }
        signal = parse_signal(event)
        assert (signal.kind, signal.endpoint_name, signal.summary) == (
            BUS_DETAIL_TYPES[type(detail)],
            "e",
            detail.summary,
        )


def test_watched_endpoints_compare_names_exactly() -> None:
    watched = ConfiguredEndpoints.parse(" demo-llm-endpoint, ,other ")
    assert watched.names == frozenset({"demo-llm-endpoint", "other"})
    assert watched.watches("demo-llm-endpoint")
    assert not watched.watches("Demo-LLM-Endpoint")
    assert not watched.watches("demo-llm-endpoint ")
    assert not ConfiguredEndpoints.parse("").watches("demo-llm-endpoint")

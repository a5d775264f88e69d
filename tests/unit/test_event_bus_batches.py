"""SentinelBus.put_details: many modelled events in PutEvents calls of 10, rejected entries by position.

The EventBridge client is botocore's Stubber (AWS's wire shapes checked against the service model), so
what is asserted is the requests we send and how a partial failure is reported back.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.stub import Stubber

from llmops_sentinel.adapters.events import SentinelBus
from llmops_sentinel.models.bus_events import EndpointIdleDetail, ModelDriftDetail, SentinelDetail


def _idle(i: int) -> EndpointIdleDetail:
    return EndpointIdleDetail(summary=f"idle {i}", endpoint_name=f"ep-{i}", idle_hours=float(i))


def _answer(n: int, failed_at: int | None = None) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [{"EventId": f"id-{i}"} for i in range(n)]
    if failed_at is not None:
        entries[failed_at] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
    return {"FailedEntryCount": int(failed_at is not None), "Entries": entries}


def _record(events: Any, sent: list[list[dict[str, Any]]]) -> None:
    """Keep each PutEvents request's entries (the Stubber answers before any before-call hook)."""

    def keep(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["Entries"])

    events.meta.events.register("provide-client-params.events.PutEvents", keep)


def test_events_go_in_calls_of_ten_and_a_rejection_names_its_position() -> None:
    events = boto3.client("events", region_name="us-east-1")
    details: list[tuple[SentinelDetail, list[str] | None]] = [
        (_idle(i), [f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep-{i}"] if i % 2 else None) for i in range(23)
    ]
    sent: list[list[dict[str, Any]]] = []
    with Stubber(events) as stub:
        for n, failed_at in ((10, None), (10, 4), (3, None)):
            stub.add_response("put_events", _answer(n, failed_at))
        _record(events, sent)
        published = SentinelBus("bus", events).put_details(details)
        stub.assert_no_pending_responses()
    assert [len(call) for call in sent] == [10, 10, 3]
    flat = [entry for call in sent for entry in call]
    assert [json.loads(e["Detail"])["endpoint_name"] for e in flat] == [f"ep-{i}" for i in range(23)]
    assert [e.get("Resources", []) for e in flat] == [list(r or []) for _, r in details]
    assert {e["DetailType"] for e in flat} == {"Endpoint Idle"} and {e["EventBusName"] for e in flat} == {"bus"}
    assert published.sent == 22 and len(published.event_ids) == 22
    assert [(f.index, f.error_code) for f in published.failed] == [(14, "InternalFailure")]


def test_each_detail_type_keeps_its_own_detail_type_and_positions() -> None:
    events = boto3.client("events", region_name="us-east-1")
    drift = ModelDriftDetail(summary="drift", endpoint_name="ep-d", report_id="r1", share_drifted=0.5)
    details: list[tuple[SentinelDetail, list[str] | None]] = [(_idle(0), None), (_idle(1), None), (drift, None)]
    sent: list[list[dict[str, Any]]] = []
    with Stubber(events) as stub:
        stub.add_response("put_events", _answer(2))
        stub.add_response("put_events", _answer(1, failed_at=0))
        _record(events, sent)
        published = SentinelBus("bus", events).put_details(details)
    assert [[e["DetailType"] for e in call] for call in sent] == [["Endpoint Idle"] * 2, ["Model Drift Detected"]]
    assert published.sent == 2 and [f.index for f in published.failed] == [2]


def test_nothing_to_put_makes_no_call() -> None:
    events = boto3.client("events", region_name="us-east-1")
    with Stubber(events):  # any call would fail: no response is queued
        published = SentinelBus("bus", events).put_details([])
    assert published.sent == 0 and published.failed == []

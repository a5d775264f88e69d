"""Signals: everything that may lead to a remediation, in one typed shape.

Sources and their wire shapes:

| kind | arrives as |
| --- | --- |
| ``latency-alarm`` | CloudWatch alarm transition (EventBridge or alarm action) on ``AWS/SageMaker`` ``ModelLatency`` |
| ``drift-alarm`` | CloudWatch alarm transition on ``LLMOpsSentinel`` ``DriftDetected`` |
| ``alarm`` | any other alarm transition of this stack |
| ``latency-regression`` | bus event ``Latency Regression Detected`` (detail: endpoint_name, variant_name, cause, ...) |
| ``drift`` | bus event ``Model Drift Detected`` (detail: endpoint_name, report_id, share_drifted, ...) |
| ``idle`` | bus event ``Endpoint Idle`` (detail: endpoint_name, variant_name, idle_hours) |
| ``governance-finding`` | bus event ``Governance Finding`` (detail: policy, resource_id, remediation, ...) |

Every signal has a ``source_id`` that identifies the occurrence (alarm ARN + state + state
timestamp, or the bus event's ``id``); execution names and decision ids derive from it, so a
redelivered occurrence is recognised as the same one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.alarms import AlarmTransition, parse_alarm_event

SOURCE = "llmops.sentinel"
SignalKind = Literal[
    "latency-alarm", "drift-alarm", "alarm", "latency-regression", "drift", "idle", "governance-finding"
]
BUS_DETAIL_TYPES: dict[str, SignalKind] = {
    "Latency Regression Detected": "latency-regression",
    "Model Drift Detected": "drift",
    "Endpoint Idle": "idle",
    "Governance Finding": "governance-finding",
}


class Signal(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: SignalKind
    source_id: str
    occurred_at: str
    summary: str
    endpoint_name: str | None = None
    variant_name: str | None = None
    state: str | None = None
    """For alarm signals: the new alarm state (only ALARM acts)."""
    attributes: dict[str, Any] = Field(default_factory=dict)
    alarm: AlarmTransition | None = None


class _BusEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    time: str
    detail: dict[str, Any]


def _from_alarm(transition: AlarmTransition) -> Signal:
    kind: SignalKind = "alarm"
    endpoint = variant = None
    for metric in transition.metrics:
        if metric.namespace == "AWS/SageMaker" and metric.name == "ModelLatency":
            kind = "latency-alarm"
        elif metric.namespace == "LLMOpsSentinel" and metric.name == "DriftDetected":
            kind = "drift-alarm"
        endpoint = endpoint or metric.dimensions.get("EndpointName")
        variant = variant or metric.dimensions.get("VariantName")
    return Signal(
        kind=kind,
        source_id=f"{transition.alarm_arn}|{transition.state}|{transition.state_timestamp}",
        occurred_at=transition.state_timestamp,
        summary=f"{transition.summary} ({transition.reason[:160]})",
        endpoint_name=endpoint,
        variant_name=variant,
        state=transition.state,
        attributes={
            "alarm_name": transition.alarm_name,
            "anomaly_band": any("ANOMALY_DETECTION_BAND" in e for e in transition.expressions),
        },
        alarm=transition,
    )


def _from_bus(event: dict[str, Any]) -> Signal:
    try:
        envelope = _BusEvent.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidEventError(
            f"not a Sentinel bus event: {'.'.join(map(str, first['loc']))}: {first['msg']}"
        ) from exc
    kind = BUS_DETAIL_TYPES.get(envelope.detail_type)
    if kind is None or envelope.source != SOURCE:
        raise InvalidEventError(
            f"unsupported event {envelope.source!r}/{envelope.detail_type!r}; expected source {SOURCE!r} with one of "
            + ", ".join(sorted(BUS_DETAIL_TYPES))
        )
    detail = envelope.detail
    endpoint = detail.get("endpoint_name")
    if kind != "governance-finding" and not isinstance(endpoint, str):
        raise InvalidEventError(f"{envelope.detail_type} event {envelope.id} has no detail.endpoint_name")
    summary = detail.get("summary") or f"{envelope.detail_type} for {endpoint or detail.get('resource_id', '?')}"
    return Signal(
        kind=kind,
        source_id=envelope.id,
        occurred_at=envelope.time,
        summary=str(summary)[:300],
        endpoint_name=endpoint if isinstance(endpoint, str) else None,
        variant_name=detail.get("variant_name") if isinstance(detail.get("variant_name"), str) else None,
        attributes=detail,
    )


def parse_signal(event: Any) -> Signal:
    """Any supported event -> Signal; anything else is an :class:`InvalidEventError`."""
    if isinstance(event, dict) and ("alarmArn" in event or event.get("detail-type") == "CloudWatch Alarm State Change"):
        return _from_alarm(parse_alarm_event(event))
    if isinstance(event, dict) and event.get("detail-type") in BUS_DETAIL_TYPES:
        return _from_bus(event)
    return _from_alarm(parse_alarm_event(event))  # raises the alarm parser's precise error

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
| ``model-approved`` | ``SageMaker Model Package State Change`` from ``aws.sagemaker`` (no endpoint in it: see below) |
| ``budget-exceeded`` | AWS Budgets notification on the stack budget topic (SNS, plain text), one per mapped endpoint |

A model package event names a package group, not an endpoint: the router maps the group to the
watched endpoint whose policy names it (``retrain.model_package_group``).

Bus event details are parsed with the shared models of :mod:`llmops_sentinel.models.bus_events`
(one per detail-type, strict); ``previous_endpoint_config`` never becomes a signal attribute (a
rollback target comes from the tracked config history only).

Every signal has a ``source_id`` that identifies the occurrence (alarm ARN + state + state
timestamp, or the bus event's ``id``); execution names and decision ids derive from it, so a
redelivered occurrence is recognised as the same one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.domain.remediation.signals import SignalKind
from llmops_sentinel.models.alarms import AlarmTransition, parse_alarm_event
from llmops_sentinel.models.bus_events import (
    SOURCE,
    EndpointIdleDetail,
    GovernanceFindingDetail,
    LatencyRegressionDetail,
    ModelDriftDetail,
    SentinelDetail,
    is_sentinel_detail_type,
    parse_bus_event,
)
from llmops_sentinel.models.sagemaker_events import MODEL_PACKAGE_STATE_CHANGE, parse_model_package_state_change

BUS_DETAIL_TYPES: dict[type[SentinelDetail], SignalKind] = {
    LatencyRegressionDetail: "latency-regression",
    ModelDriftDetail: "drift",
    EndpointIdleDetail: "idle",
    GovernanceFindingDetail: "governance-finding",
}
UNTRUSTED_ATTRIBUTES = frozenset({"previous_endpoint_config"})
"""Detail fields a signal never carries: a rollback target comes from the tracked history only."""


class Signal(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

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
    parsed = parse_bus_event(event)
    detail = parsed.detail
    attributes = {k: v for k, v in detail.wire().items() if k not in UNTRUSTED_ATTRIBUTES}
    endpoint: str | None = getattr(detail, "endpoint_name", None)
    variant: str | None = getattr(detail, "variant_name", None)
    resource = getattr(detail, "resource_id", "?")
    return Signal(
        kind=BUS_DETAIL_TYPES[type(detail)],
        source_id=parsed.id,
        occurred_at=parsed.time,
        summary=(detail.summary or f"{parsed.detail_type} for {endpoint or resource}")[:300],
        endpoint_name=endpoint,
        variant_name=variant,
        attributes=attributes,
    )


def _from_model_package(event: dict[str, Any]) -> Signal:
    parsed = parse_model_package_state_change(event)
    detail = parsed.detail
    return Signal(
        kind="model-approved",
        source_id=parsed.id,
        occurred_at=parsed.time,
        summary=f"model package {detail.ModelPackageGroupName}/{detail.ModelPackageVersion} is "
        f"{detail.ModelApprovalStatus or 'unknown'}",
        attributes={
            "model_package_group": detail.ModelPackageGroupName,
            "model_package_arn": detail.ModelPackageArn,
            "model_package_version": detail.ModelPackageVersion,
            "approval_status": detail.ModelApprovalStatus,
        },
    )


def parse_signal(event: Any) -> Signal:
    """Any supported event -> Signal; anything else is an :class:`InvalidEventError`."""
    if isinstance(event, dict):
        detail_type = event.get("detail-type")
        if "alarmArn" in event or detail_type == "CloudWatch Alarm State Change":
            return _from_alarm(parse_alarm_event(event))
        if event.get("source") == SOURCE or is_sentinel_detail_type(detail_type):
            return _from_bus(event)
        if detail_type == MODEL_PACKAGE_STATE_CHANGE:
            return _from_model_package(event)
    return _from_alarm(parse_alarm_event(event))  # raises the alarm parser's precise error

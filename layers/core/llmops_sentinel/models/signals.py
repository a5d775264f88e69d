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
| ``governance-finding`` | bus event ``Governance Finding``, or each finding of a ``Governance Findings`` event |
| ``model-approved`` | ``SageMaker Model Package State Change`` from ``aws.sagemaker`` (no endpoint in it: see below) |
| ``budget-exceeded`` | AWS Budgets notification on the stack budget topic (SNS, plain text), one per mapped endpoint |

A model package event names a package group, not an endpoint: the router maps the group to the
watched endpoint whose policy names it (``retrain.model_package_group``).

Bus event details are parsed with the shared models of :mod:`llmops_sentinel.models.bus_events`
(one per detail-type, strict); ``previous_endpoint_config`` never becomes a signal attribute (a
rollback target comes from the tracked config history only).

Every signal has a ``source_id`` that identifies the occurrence (alarm ARN + state + state
timestamp, the bus event's ``id``, or ``<id>/<finding_id>`` for a finding of a ``Governance Findings``
event); execution names and decision ids derive from it, so a redelivered occurrence is recognised as
the same one.

A ``Governance Findings`` event (:func:`parse_finding_batch`) carries a scan batch's findings: each is
validated on its own (the same strict :class:`GovernanceFindingDetail` as a single event), so a
malformed finding is a :class:`RejectedFinding` and the others in the event are still signals.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.domain.remediation.signals import SignalKind
from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.alarms import AlarmTransition, parse_alarm_event
from llmops_sentinel.models.bus_events import (
    SOURCE,
    EndpointIdleDetail,
    GovernanceFindingDetail,
    GovernanceFindingsDetail,
    LatencyRegressionDetail,
    ModelDriftDetail,
    SentinelDetail,
    is_sentinel_detail_type,
    parse_bus_event,
)
from llmops_sentinel.models.sagemaker_events import MODEL_PACKAGE_STATE_CHANGE, parse_model_package_state_change
from llmops_sentinel.models.validation import first_error

BUS_DETAIL_TYPES: dict[type[SentinelDetail], SignalKind] = {
    LatencyRegressionDetail: "latency-regression",
    ModelDriftDetail: "drift",
    EndpointIdleDetail: "idle",
    GovernanceFindingDetail: "governance-finding",
    GovernanceFindingsDetail: "governance-finding",  # one signal per finding (parse_finding_batch)
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


class RejectedFinding(BaseModel):
    """A finding of a ``Governance Findings`` event that is not a valid ``Governance Finding`` detail."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    index: int
    finding_id: str | None = None
    reason: str


def _from_bus(event: dict[str, Any]) -> Signal:
    parsed = parse_bus_event(event)
    if isinstance(parsed.detail, GovernanceFindingsDetail):
        raise InvalidEventError(f"{parsed.detail_type} event {parsed.id} carries many signals: use parse_finding_batch")
    return _bus_signal(parsed.detail, parsed.detail_type, parsed.id, parsed.time)


def _bus_signal(detail: SentinelDetail, detail_type: str, source_id: str, occurred_at: str) -> Signal:
    attributes = {k: v for k, v in detail.wire().items() if k not in UNTRUSTED_ATTRIBUTES}
    endpoint: str | None = getattr(detail, "endpoint_name", None)
    variant: str | None = getattr(detail, "variant_name", None)
    resource = getattr(detail, "resource_id", "?")
    return Signal(
        kind=BUS_DETAIL_TYPES[type(detail)],
        source_id=source_id,
        occurred_at=occurred_at,
        summary=(detail.summary or f"{detail_type} for {endpoint or resource}")[:300],
        endpoint_name=endpoint,
        variant_name=variant,
        attributes=attributes,
    )


def is_finding_batch(event: Any) -> bool:
    """True for an event that names itself a ``Governance Findings`` batch (parsing still decides)."""
    return isinstance(event, dict) and event.get("detail-type") == GovernanceFindingsDetail.DETAIL_TYPE


def parse_finding_batch(event: Any) -> tuple[list[Signal], list[RejectedFinding]]:
    """A ``Governance Findings`` event -> one ``governance-finding`` signal per valid finding, and the
    findings that are not valid (each validated alone: one bad finding never drops the rest).

    The envelope and the batch shape are checked first (:class:`InvalidEventError` for the whole
    event: wrong source, not a list, more than ``MAX_FINDINGS_PER_EVENT``). A finding's ``source_id``
    is ``<event id>/<finding_id>``: a redelivered event gives every finding its earlier decision id."""
    parsed = parse_bus_event(event)
    if not isinstance(parsed.detail, GovernanceFindingsDetail):
        expected = GovernanceFindingsDetail.DETAIL_TYPE
        raise InvalidEventError(f"{parsed.detail_type} event {parsed.id} is not a {expected} event")
    signals: list[Signal] = []
    rejected: list[RejectedFinding] = []
    for index, raw in enumerate(parsed.detail.findings):
        named = raw.get("finding_id") if isinstance(raw, dict) else None
        try:
            finding = GovernanceFindingDetail.model_validate(raw)
        except ValidationError as exc:
            reason = f"{parsed.detail_type} event {parsed.id}: detail.findings[{index}].{first_error(exc)}"
            named = named if isinstance(named, str) else None
            rejected.append(RejectedFinding(index=index, finding_id=named, reason=reason))
            continue
        source_id = f"{parsed.id}/{finding.finding_id}"
        signals.append(_bus_signal(finding, GovernanceFindingDetail.DETAIL_TYPE, source_id, parsed.time))
    return signals, rejected


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

"""CloudWatch alarm transitions as they reach a Lambda, in both shapes AWS sends.

1. EventBridge ``CloudWatch Alarm State Change`` (``detail-type``/``detail``/``resources``).
2. The Lambda *alarm action* payload (``alarmArn``/``alarmData``), which Powertools' parser has no
   model for.

Both normalise to :class:`AlarmTransition`. Timestamps are kept verbatim as strings: the published
AWS examples contain typos such as ``"2023-08-04T12: 36: 15.490+0000"``, and the idempotency key
must be derived from exactly what AWS sent, not from our reading of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.validation import first_error

AlarmStateValue = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


class _Loose(BaseModel):
    """AWS adds fields over time: accept unknown keys, validate the ones we use."""

    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)


class AlarmState(_Loose):
    value: AlarmStateValue
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: str
    actions_suppressed_by: str | None = Field(default=None, alias="actionsSuppressedBy")


class MetricRef(_Loose):
    namespace: str
    name: str
    dimensions: dict[str, str] = Field(default_factory=dict)


class MetricStat(_Loose):
    metric: MetricRef
    period: int | None = None
    stat: str | None = None


class AlarmMetric(_Loose):
    id: str
    metric_stat: MetricStat | None = Field(default=None, alias="metricStat")
    expression: str | None = None
    label: str | None = None
    return_data: bool | None = Field(default=None, alias="returnData")


class AlarmConfiguration(_Loose):
    description: str | None = None
    metrics: list[AlarmMetric] = Field(default_factory=list)
    alarm_rule: str | None = Field(default=None, alias="alarmRule")


class AlarmData(_Loose):
    alarm_name: str = Field(alias="alarmName")
    state: AlarmState
    previous_state: AlarmState | None = Field(default=None, alias="previousState")
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)


class AlarmStateChangeEvent(_Loose):
    """EventBridge envelope, detail-type ``CloudWatch Alarm State Change``."""

    version: str = "0"
    id: str
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    source: Literal["aws.cloudwatch"]
    account: str
    time: str
    region: str
    resources: list[str] = Field(min_length=1)
    detail: AlarmData


class AlarmActionEvent(_Loose):
    """Payload CloudWatch sends when an alarm's action is a Lambda function."""

    source: Literal["aws.cloudwatch"]
    alarm_arn: str = Field(alias="alarmArn")
    account_id: str = Field(alias="accountId")
    time: str
    region: str
    alarm_data: AlarmData = Field(alias="alarmData")


class MetricDimensions(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str | None = None


class AlarmTransition(BaseModel):
    """One alarm state change, whichever way it was delivered."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    delivery: Literal["eventbridge", "alarm-action"]
    alarm_name: str
    alarm_arn: str
    account: str
    region: str
    state: AlarmStateValue
    previous_state: AlarmStateValue | None
    reason: str
    state_timestamp: str
    metrics: tuple[MetricDimensions, ...]
    expressions: tuple[str, ...]
    is_composite: bool

    @property
    def changed_at(self) -> datetime | None:
        """Best-effort reading of ``state_timestamp`` (tolerates the published typos)."""
        return parse_alarm_timestamp(self.state_timestamp)

    @property
    def summary(self) -> str:
        previous = self.previous_state or "?"
        return f"{self.alarm_name}: {previous} -> {self.state}"


_SPACE_AFTER_COLON = re.compile(r":\s+")


def parse_alarm_timestamp(raw: str) -> datetime | None:
    """Parse CloudWatch's ``2019-10-02T17:04:40.989+0000``; ``None`` if it cannot be read."""
    text = _SPACE_AFTER_COLON.sub(":", raw.strip())
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text.replace("Z", "+0000"), fmt).astimezone(UTC)
        except ValueError:
            continue
    return None


def _metrics_of(data: AlarmData) -> tuple[tuple[MetricDimensions, ...], tuple[str, ...]]:
    metrics: list[MetricDimensions] = []
    expressions: list[str] = []
    for item in data.configuration.metrics:
        if item.metric_stat is not None:
            metric = item.metric_stat.metric
            metrics.append(
                MetricDimensions(
                    namespace=metric.namespace,
                    name=metric.name,
                    dimensions=dict(metric.dimensions),
                    stat=item.metric_stat.stat,
                )
            )
        if item.expression:
            expressions.append(item.expression)
    return tuple(metrics), tuple(expressions)


def _transition(
    data: AlarmData, *, delivery: Literal["eventbridge", "alarm-action"], arn: str, account: str, region: str
) -> AlarmTransition:
    metrics, expressions = _metrics_of(data)
    return AlarmTransition(
        delivery=delivery,
        alarm_name=data.alarm_name,
        alarm_arn=_SPACE_AFTER_COLON.sub(":", arn),
        account=account,
        region=region,
        state=data.state.value,
        previous_state=data.previous_state.value if data.previous_state else None,
        reason=data.state.reason,
        state_timestamp=data.state.timestamp,
        metrics=metrics,
        expressions=expressions,
        is_composite=data.configuration.alarm_rule is not None or not data.configuration.metrics,
    )


def parse_alarm_event(event: Any) -> AlarmTransition:
    """Normalise either delivery shape; raise :class:`InvalidEventError` for anything else."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"alarm event must be a JSON object, got {type(event).__name__}")
    try:
        if "detail-type" in event:
            envelope = AlarmStateChangeEvent.model_validate(event)
            return _transition(
                envelope.detail,
                delivery="eventbridge",
                arn=envelope.resources[0],
                account=envelope.account,
                region=envelope.region,
            )
        if "alarmArn" in event:
            action = AlarmActionEvent.model_validate(event)
            return _transition(
                action.alarm_data,
                delivery="alarm-action",
                arn=action.alarm_arn,
                account=action.account_id,
                region=action.region,
            )
    except ValidationError as exc:
        raise InvalidEventError(f"not a CloudWatch alarm event: {first_error(exc)}") from exc
    raise InvalidEventError(
        "not a CloudWatch alarm event: expected an EventBridge 'CloudWatch Alarm State Change' "
        "or a Lambda alarm-action payload (keys 'detail-type' or 'alarmArn')"
    )

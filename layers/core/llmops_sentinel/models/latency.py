"""What the latency monitor accepts and returns.

Two inputs, told apart by shape:

- an EventBridge ``Scheduled Event`` (``source: aws.events``, as AWS publishes it; an optional
  ``detail.endpoints`` list overrides the configured endpoints): a scheduled run;
- a confirmation request ``{endpoint_name, variant_name, alarm_name, state_timestamp}``: the router
  asks whether an alarm transition is a regression the detector sees.

Anything else is an :class:`InvalidEventError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmops_sentinel.domain.idle import IdleResult
from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.alarms import parse_alarm_timestamp
from llmops_sentinel.models.validation import parse_as

Cause = Literal["deployment", "load", "instance", "unknown"]


class MonitoredEndpoint(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    endpoint_name: str = Field(min_length=1, max_length=63)
    variant_name: str = Field("AllTraffic", min_length=1, max_length=63)


class _ScheduledDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")

    endpoints: list[MonitoredEndpoint] | None = None


class ScheduledRun(BaseModel):
    """An EventBridge Scheduler / rule ``Scheduled Event``; ``time`` is the run's clock."""

    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    source: Literal["aws.events", "aws.scheduler"]
    time: datetime
    detail: _ScheduledDetail = Field(default_factory=_ScheduledDetail)


class ConfirmRequest(BaseModel):
    """The router's synchronous question for one alarm transition."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    endpoint_name: str = Field(min_length=1, max_length=63)
    variant_name: str = Field("AllTraffic", min_length=1, max_length=63)
    alarm_name: str = Field(min_length=1)
    state_timestamp: str

    @field_validator("state_timestamp")
    @classmethod
    def _readable(cls, value: str) -> str:
        if alarm_time(value) is None:
            raise ValueError(f"unreadable alarm state timestamp {value!r}")
        return value

    @property
    def at(self) -> datetime:
        parsed = alarm_time(self.state_timestamp)
        assert parsed is not None  # validated
        return parsed


def alarm_time(raw: str) -> datetime | None:
    parsed = parse_alarm_timestamp(raw)
    if parsed is not None:
        return parsed
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


class Regression(BaseModel):
    """A confirmed regression with its likely cause: the ``Latency Regression Detected`` detail."""

    model_config = ConfigDict(defer_build=True)

    endpoint_name: str
    variant_name: str
    cause: Cause
    onset: str
    detected_at: str
    magnitude: float
    evidence: dict[str, Any]
    summary: str
    previous_endpoint_config: str | None = None
    signal: str = "latency"
    """The detector that raised the episode: latency (p99), ttft, tokens_per_s or error_rate."""


class ConfirmResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    confirmed: bool
    verdict: Literal["confirmed", "rejected", "insufficient-history"] = "rejected"
    """``insufficient-history``: the detector cannot judge yet (too few points); the router then keeps the
    alarm's own rule instead of suppressing it."""
    cause: Cause | None = None
    onset: str | None = None
    detected_at: str | None = None
    magnitude: float | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    summary: str
    previous_endpoint_config: str | None = None
    signal: str | None = None
    """The signal whose episode confirmed the alarm (latency, ttft, tokens_per_s, error_rate)."""
    warming_up: bool = False
    """The detector's baseline is not yet in its steady state (it can confirm, with less power)."""


class SignalStatus(BaseModel):
    """One signal's detector after a run."""

    model_config = ConfigDict(defer_build=True)

    points: int
    accepted: int
    score: float
    max_score: float
    alarm: bool
    warming_up: bool


class EndpointRun(BaseModel):
    """One endpoint variant in a scheduled run."""

    model_config = ConfigDict(defer_build=True)

    endpoint_name: str
    variant_name: str
    points: int
    accepted: int
    score: float
    max_score: float
    alarm: bool
    warming_up: bool = True
    """The latency detector's baseline is still warming up (see docs/latency.md)."""
    signals: dict[str, SignalStatus] = Field(default_factory=dict)
    """Every detected signal's status (latency, ttft, tokens_per_s, error_rate)."""
    status: Literal["ok", "no-data", "conflict", "deferred", "bad-input", "error"] = "ok"
    """``deferred``: a new detector's backfill waits for a later run (``backfills_per_run``);
    ``bad-input``/``error``: this endpoint's check failed (typed bad input, or anything else: an AWS
    error, a bug); the run went on with the next endpoint and LatencyCheckErrors says so."""
    reason: str | None = None
    """Why the check failed (``bad-input``/``error``): the exception's class and message."""
    published: list[str] = Field(default_factory=list)
    """Event ids of ``Latency Regression Detected`` put on the bus in this run."""
    stale_alarms: int = 0
    """Alarm episodes found in a backfill but too old to act on (not published)."""
    idle: IdleResult | None = None
    """The idle check of this endpoint variant (``Endpoint Idle`` is put once per idle episode)."""


class ScheduledResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    mode: Literal["scheduled"] = "scheduled"
    at: str
    endpoints: list[EndpointRun]


def parse_monitor_event(event: Any) -> ScheduledRun | ConfirmRequest:
    if not isinstance(event, dict):
        raise InvalidEventError(f"expected a JSON object, got {type(event).__name__}")
    model: type[ScheduledRun] | type[ConfirmRequest] = ScheduledRun if "detail-type" in event else ConfirmRequest
    return parse_as(model, event, "scheduled event" if model is ScheduledRun else "confirmation request")

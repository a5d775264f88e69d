"""The typed content of a report. Times are epoch seconds (UTC); latency values are milliseconds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.domain.cost import VariantCost


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Point(_Frozen):
    t: float
    v: float


class DriftPoint(_Frozen):
    t: float
    effect: float
    threshold: float
    drifted: bool


class FeatureDriftSeries(_Frozen):
    feature: str
    method: str
    critical: bool = False
    points: list[DriftPoint]


class Marker(_Frozen):
    """A moment on a time axis; ``link`` is the id of the audit row it belongs to, if any."""

    t: float
    label: str
    kind: Literal["onset", "detected", "action", "deploy"]
    link: str | None = None


class LatencySeries(_Frozen):
    variant: str
    p99_ms: list[Point]
    score: list[Point]
    """Detector score (0-1) of each accepted point, recomputed from the p99 series by the same detector."""
    markers: list[Marker] = Field(default_factory=list)
    threshold_ms: float | None = None
    """The p99 guard alarm's threshold, when known."""


class InstanceSeries(_Frozen):
    variant: str
    instance_type: str | None
    steps: list[Point]
    """Instance count from each time on (a step function)."""


class AuditRow(_Frozen):
    anchor: str
    occurred_at: str
    signal: str
    summary: str
    decision: str
    """The router's outcome (started / dry-run / cooldown / duplicate / ...)."""
    reason: str
    action: str
    workflow: str | None
    status: str | None
    deliveries: int = 1


class FindingRow(_Frozen):
    severity: str
    policy: str
    resource: str
    compliant: bool
    remediation: str | None = None


class EndpointView(_Frozen):
    name: str
    drift: list[FeatureDriftSeries] = Field(default_factory=list)
    drift_share: list[DriftPoint] = Field(default_factory=list)
    """Share of drifted features per check, against the monitor's share threshold."""
    latency: list[LatencySeries] = Field(default_factory=list)
    instances: list[InstanceSeries] = Field(default_factory=list)
    costs: list[VariantCost] = Field(default_factory=list)
    audit: list[AuditRow] = Field(default_factory=list)


class ReportModel(_Frozen):
    title: str = "LLMOps Sentinel report"
    source: str
    """Where the data came from (stack / local cloud, region)."""
    generated_at: float
    start: float
    end: float
    endpoints: list[EndpointView]
    findings: list[FindingRow] = Field(default_factory=list)
    price_book: str | None = None
    notes: list[str] = Field(default_factory=list)

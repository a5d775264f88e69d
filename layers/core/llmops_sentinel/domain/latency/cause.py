"""Likely cause of a confirmed latency regression, from typed evidence (pure rules).

Decision order (first rule that holds wins; every rule's evidence is reported either way):

1. ``deployment``: an endpoint update or new endpoint config within ``deployment_window_s`` before the
   onset (or up to ``onset_tolerance_s`` after it, for onset-estimation error). Most specific and most
   actionable: a rollback undoes it.
2. ``load``: invocations in ``[onset, detected_at]`` are at least ``load_increase`` above the median of
   the ``reference_s`` before the onset.
3. ``instance``: errors (4XX + 5XX) rose by at least ``error_increase`` relative and ``error_min_delta``
   absolute per point, or exactly one production variant regressed by at least ``variant_regression``
   while every other one stayed below ``variant_quiet``.
4. ``unknown``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_sentinel.errors import BadInputError

Cause = Literal["deployment", "load", "instance", "unknown"]
Rule = Literal["deployment", "load", "errors", "variant"]


class InsufficientEvidenceError(BadInputError):
    """A metric series given as evidence is malformed (lengths differ, not sorted)."""


class EndpointChange(BaseModel):
    """An endpoint update or endpoint-config change (SageMaker state-change event or describe call)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    timestamp: float = Field(description="epoch s when the change took effect (or started)")
    kind: Literal["endpoint_update", "endpoint_config", "model", "other"] = "endpoint_update"
    endpoint_config: str | None = None
    detail: str = ""


class MetricSeries(BaseModel):
    """A metric as (timestamp, value) pairs, sorted by time."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    timestamps: list[float]
    values: list[float]

    @model_validator(mode="after")
    def _check(self) -> MetricSeries:
        if len(self.timestamps) != len(self.values):
            raise InsufficientEvidenceError("timestamps and values differ in length")
        if any(b < a for a, b in zip(self.timestamps, self.timestamps[1:], strict=False)):
            raise InsufficientEvidenceError("timestamps are not sorted")
        return self

    def window(self, start: float, end: float) -> np.ndarray:
        """Finite values with ``start <= t <= end``."""
        t = np.asarray(self.timestamps, dtype=np.float64)
        v = np.asarray(self.values, dtype=np.float64)
        sel = (t >= start) & (t <= end) & np.isfinite(v)
        return v[sel]


class CauseEvidence(BaseModel):
    """Everything the classifier looked at, whether or not it decided the cause."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    onset: float
    detected_at: float
    magnitude: float
    changes: list[EndpointChange] = Field(default_factory=list)
    invocations: MetricSeries | None = None
    errors_4xx: MetricSeries | None = None
    errors_5xx: MetricSeries | None = None
    variant_latency: dict[str, MetricSeries] = Field(default_factory=dict)


class CauseParams(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    deployment_window_s: float = Field(3600.0, ge=0, description="look-back before onset for changes")
    onset_tolerance_s: float = Field(300.0, ge=0, description="a change this soon after onset still counts")
    reference_s: float = Field(3600.0, gt=0, description="pre-onset window for before/after comparisons")
    min_after_s: float = Field(300.0, ge=0, description="the after-window spans at least this long")
    min_points: int = Field(3, ge=1, description="points needed in each window to use a series")
    load_increase: float = Field(0.3, gt=0, description="relative rise of invocations meaning load")
    error_increase: float = Field(1.0, gt=0, description="relative rise of errors (1.0 = doubled)")
    error_min_delta: float = Field(1.0, ge=0, description="and at least this many more errors per point")
    variant_regression: float = Field(0.2, gt=0, description="a variant regressed by at least this")
    variant_quiet: float = Field(0.1, ge=0, description="...while the others changed less than this")


class Finding(BaseModel):
    """One rule's outcome with the numbers it used."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    rule: Rule
    met: bool
    reason: str
    before: float | None = None
    after: float | None = None
    change: float | None = None
    change_event: EndpointChange | None = None
    variant: str | None = None


class CauseResult(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    cause: Cause
    reason: str
    findings: list[Finding]


def _before_after(
    series: MetricSeries, ev: CauseEvidence, p: CauseParams, stat: Literal["median", "mean"]
) -> tuple[float, float] | None:
    before = series.window(ev.onset - p.reference_s, ev.onset - 1e-9)
    after = series.window(ev.onset, max(ev.detected_at, ev.onset + p.min_after_s))
    if before.size < p.min_points or after.size < p.min_points:
        return None
    fn = np.median if stat == "median" else np.mean
    return float(fn(before)), float(fn(after))


def _deployment(ev: CauseEvidence, p: CauseParams) -> Finding:
    lo, hi = ev.onset - p.deployment_window_s, ev.onset + p.onset_tolerance_s
    near = [c for c in ev.changes if lo <= c.timestamp <= hi]
    if not near:
        return Finding(
            rule="deployment", met=False, reason=f"no endpoint change in {len(ev.changes)} events near onset"
        )
    last = max(near, key=lambda c: c.timestamp)
    lag = ev.onset - last.timestamp
    return Finding(
        rule="deployment",
        met=True,
        reason=f"{last.kind} {lag:+.0f} s before onset",
        change=lag,
        change_event=last,
    )


def _load(ev: CauseEvidence, p: CauseParams) -> Finding:
    if ev.invocations is None:
        return Finding(rule="load", met=False, reason="no invocations series")
    ba = _before_after(ev.invocations, ev, p, "median")
    if ba is None:
        return Finding(rule="load", met=False, reason="too few invocation points around onset")
    before, after = ba
    rise = after / before - 1.0 if before > 0 else (np.inf if after > 0 else 0.0)
    met = bool(rise >= p.load_increase)
    return Finding(
        rule="load",
        met=met,
        reason=f"invocations {rise:+.0%} ({'>=' if met else '<'} {p.load_increase:.0%})",
        before=before,
        after=after,
        change=float(rise),
    )


def _errors(ev: CauseEvidence, p: CauseParams) -> Finding:
    parts = [s for s in (ev.errors_4xx, ev.errors_5xx) if s is not None]
    if not parts:
        return Finding(rule="errors", met=False, reason="no error series")
    pairs = [_before_after(s, ev, p, "mean") for s in parts]
    usable = [ba for ba in pairs if ba is not None]
    if not usable:
        return Finding(rule="errors", met=False, reason="too few error points around onset")
    before = sum(b for b, _ in usable)
    after = sum(a for _, a in usable)
    delta = after - before
    met = delta >= p.error_min_delta and after >= before * (1.0 + p.error_increase)
    rel = delta / before if before > 0 else (np.inf if delta > 0 else 0.0)
    return Finding(
        rule="errors",
        met=bool(met),
        reason=f"errors per point {before:.2f} -> {after:.2f}",
        before=before,
        after=after,
        change=float(rel),
    )


def _variant(ev: CauseEvidence, p: CauseParams) -> Finding:
    if len(ev.variant_latency) < 2:
        return Finding(rule="variant", met=False, reason="fewer than two variants")
    changes: dict[str, float] = {}
    for name, series in sorted(ev.variant_latency.items()):
        ba = _before_after(series, ev, p, "median")
        if ba is not None and ba[0] > 0:
            changes[name] = ba[1] / ba[0] - 1.0
    if len(changes) < 2:
        return Finding(rule="variant", met=False, reason="too few variant points around onset")
    regressed = [n for n, c in changes.items() if c >= p.variant_regression]
    quiet = [n for n, c in changes.items() if c < p.variant_quiet]
    met = len(regressed) == 1 and len(quiet) == len(changes) - 1
    summary = ", ".join(f"{n} {c:+.0%}" for n, c in changes.items())
    return Finding(
        rule="variant",
        met=met,
        reason=("only " if met else "") + summary,
        change=changes[regressed[0]] if met else None,
        variant=regressed[0] if met else None,
    )


def classify_cause(evidence: CauseEvidence, params: CauseParams | None = None) -> CauseResult:
    """Name the likely cause of a regression; all rules run so the evidence is complete."""
    p = params or CauseParams()
    deployment = _deployment(evidence, p)
    load = _load(evidence, p)
    errors = _errors(evidence, p)
    variant = _variant(evidence, p)
    findings = [deployment, load, errors, variant]
    if deployment.met:
        return CauseResult(cause="deployment", reason=deployment.reason, findings=findings)
    if load.met:
        return CauseResult(cause="load", reason=load.reason, findings=findings)
    for f in (errors, variant):
        if f.met:
            return CauseResult(cause="instance", reason=f.reason, findings=findings)
    return CauseResult(cause="unknown", reason="no rule matched", findings=findings)

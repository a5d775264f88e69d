"""Latency monitor: advance the detector over the series since its last run, report regressions with a cause.

Per endpoint variant, each run:
1. loads the detector state (``latency#<endpoint>#<variant>`` in the Sentinel table; a fresh detector
   backfills ``lookback_s``);
2. reads the detector's series (``ModelLatency`` p99 by default) from the point after the last one it
   accepted up to the last complete period (``settle_s`` before the run's clock), oldest first;
3. updates the detector (causal: resuming gives the same scores as one long run);
4. for each new alarm episode recent enough to act on: reads the evidence (invocations, 4XX/5XX, every
   variant's latency, model setup time, TTFT and tokens/s) around the onset, the endpoint's config
   history and DescribeEndpoint, classifies the cause, and (scheduled mode) puts
   ``Latency Regression Detected`` on the Sentinel bus;
5. stores the state, conditional on the revision it read.

Confirmation mode does steps 1-4 up to the alarm's state timestamp and answers whether an alarm episode
was detected within ``confirm_window_s`` of it; it publishes nothing (the router acts on its answer).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from llmops_sentinel.adapters.cloudwatch import MetricsReader, Series, latency_queries
from llmops_sentinel.adapters.dynamodb import SentinelTable
from llmops_sentinel.adapters.endpoints import EndpointReader, EndpointState
from llmops_sentinel.adapters.events import BusPublisher
from llmops_sentinel.adapters.latency_store import ConfigSeen, LatencyStore, StateConflictError, StoredState
from llmops_sentinel.domain.latency import (
    AlarmRecord,
    CauseEvidence,
    CauseParams,
    CauseResult,
    DetectorState,
    EndpointChange,
    LatencyDetector,
    LatencyParams,
    MetricSeries,
    classify_cause,
)
from llmops_sentinel.domain.remediation.policy import RemediationPolicy, load_policy
from llmops_sentinel.errors import ConfigError, SentinelError
from llmops_sentinel.models.bus_events import LatencyRegressionDetail
from llmops_sentinel.models.latency import (
    ConfirmRequest,
    ConfirmResult,
    EndpointRun,
    MonitoredEndpoint,
    Regression,
    ScheduledResult,
    ScheduledRun,
)
from llmops_sentinel.services.idle import check_idle

DETAIL_TYPE = LatencyRegressionDetail.DETAIL_TYPE
MAX_PULL_S = 14 * 86_400
STATISTIC_QUERY = {"p99": "latency_p99", "Average": "latency_avg"}


class PublishFailedError(SentinelError):
    """EventBridge refused the regression event; the run fails before storing state, so it is retried."""


class MonitorSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    table_name: str
    bus_name: str
    endpoints: list[MonitoredEndpoint] = Field(default_factory=list)
    period_s: int = Field(60, ge=60)
    statistic: Literal["p99", "Average"] = "p99"
    lookback_s: int = Field(3 * 86_400, gt=0, description="history a fresh detector backfills")
    settle_s: int = Field(60, ge=0, description="the newest period read ends this long before the clock")
    report_age_s: int = Field(1800, gt=0, description="older alarm episodes (backfills) are not reported")
    confirm_window_s: int = Field(1800, gt=0, description="an episode this close to the alarm confirms it")
    confirm_threshold_ratio: float = Field(
        0.5, gt=0, le=1, description="decision thresholds of the one look a confirmation takes, relative"
    )
    idle_policy: RemediationPolicy | None = None
    """Remediation policy whose per-endpoint ``idle_hours`` the idle check uses (None: no idle check)."""
    cause: CauseParams = Field(default_factory=lambda: CauseParams(min_points=2))
    """Two points after the onset are enough here: a confirmation comes two or three periods after it, and
    per-minute invocation counts and error sums are far less noisy than latency."""

    @classmethod
    def from_env(cls) -> MonitorSettings:
        missing = [n for n in ("SENTINEL_TABLE_NAME", "SENTINEL_EVENT_BUS_NAME") if not os.environ.get(n)]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        return cls(
            table_name=os.environ["SENTINEL_TABLE_NAME"],
            bus_name=os.environ["SENTINEL_EVENT_BUS_NAME"],
            endpoints=parse_endpoints(os.environ.get("SENTINEL_LATENCY_ENDPOINTS", "")),
            period_s=int(os.environ.get("SENTINEL_LATENCY_PERIOD_SECONDS", "60")),
            statistic=os.environ.get("SENTINEL_LATENCY_STATISTIC", "p99"),  # type: ignore[arg-type]
            lookback_s=int(os.environ.get("SENTINEL_LATENCY_LOOKBACK_MINUTES", "4320")) * 60,
            idle_policy=_idle_policy(),
        )


def _idle_policy() -> RemediationPolicy | None:
    if os.environ.get("SENTINEL_IDLE_CHECK", "on").lower() in {"off", "false", "0"}:
        return None
    override = os.environ.get("SENTINEL_REMEDIATION_POLICY", "").strip()
    return load_policy(text=override) if override else load_policy()


def parse_endpoints(text: str) -> list[MonitoredEndpoint]:
    """``endpoint[:variant],...`` (variant defaults to AllTraffic)."""
    found = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, variant = part.partition(":")
        found.append(MonitoredEndpoint(endpoint_name=name.strip(), variant_name=variant.strip() or "AllTraffic"))
    return found


@dataclass
class MonitorDeps:
    metrics: MetricsReader
    store: LatencyStore
    endpoints: EndpointReader
    bus: BusPublisher

    @classmethod
    def default(cls, settings: MonitorSettings) -> MonitorDeps:
        return cls(
            MetricsReader(), LatencyStore(settings.table_name), EndpointReader(), BusPublisher(settings.bus_name)
        )


class StoredAlarm(BaseModel):
    """The last alarm episode the monitor saw, kept beside the detector state."""

    record: AlarmRecord
    cause: str | None = None
    event_id: str | None = None
    source: Literal["scheduled", "confirmation"] = "scheduled"
    confirmed_by: str | None = None


@dataclass
class _Advanced:
    detector: LatencyDetector
    stored: StoredState
    scores: np.ndarray
    new_alarms: list[AlarmRecord]
    last_alarm: StoredAlarm | None
    points: int
    confirm_alarms: list[AlarmRecord]
    """Alarms of the confirming look (thresholds times ``confirm_threshold_ratio``); confirmation mode only."""


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _resume(stored: StoredState, settings: MonitorSettings) -> LatencyDetector:
    if stored.state_json:
        state = DetectorState.model_validate_json(stored.state_json)
        if state.params.expected_interval_s == settings.period_s:
            return LatencyDetector.from_state(state)
    return LatencyDetector(LatencyParams(expected_interval_s=float(settings.period_s)))


def _confirming(detector: LatencyDetector, ratio: float) -> LatencyDetector:
    """The same detector with its decision thresholds times ``ratio``, for one look after an alarm."""
    state = detector.state()
    params = state.params.model_copy(
        update={"level_h": state.params.level_h * ratio, "spread_h": state.params.spread_h * ratio}
    )
    return LatencyDetector.from_state(state.model_copy(update={"params": params}))


def _advance(
    target: MonitoredEndpoint, end: float, settings: MonitorSettings, deps: MonitorDeps, confirming: bool = False
) -> _Advanced:
    stored = deps.store.load(target.endpoint_name, target.variant_name)
    detector = _resume(stored, settings)
    look = _confirming(detector, settings.confirm_threshold_ratio) if confirming else None
    last_ts = detector.state().last_ts
    start = end - settings.lookback_s if last_ts is None else last_ts + settings.period_s
    start = max(start, end - MAX_PULL_S)
    scores = np.empty(0)
    new_alarms: list[AlarmRecord] = []
    confirm_alarms: list[AlarmRecord] = []
    points = 0
    if start < end:
        query = next(
            q
            for q in latency_queries(target.endpoint_name, target.variant_name, settings.period_s)
            if q.id == STATISTIC_QUERY[settings.statistic]
        )
        series = deps.metrics.series([query], _dt(start), _dt(end))[query.id]
        points = len(series.values)
        if points:
            update = detector.update(series.timestamps, series.values)
            scores, new_alarms = update.scores, update.new_alarms
            if look is not None:
                confirm_alarms = look.update(series.timestamps, series.values).new_alarms
    last = StoredAlarm.model_validate_json(stored.last_alarm_json) if stored.last_alarm_json else None
    return _Advanced(detector, stored, scores, new_alarms, last, points, confirm_alarms)


def _save(
    target: MonitoredEndpoint, advanced: _Advanced, last: StoredAlarm | None, deps: MonitorDeps, now: float
) -> None:
    deps.store.save(
        target.endpoint_name,
        target.variant_name,
        advanced.detector.state().model_dump_json(),
        last.model_dump_json() if last else None,
        advanced.stored.revision,
        now=now,
    )


# --------------------------------------------------------------------------- cause
def _metric_series(series: Series | None) -> MetricSeries | None:
    if series is None or not series.values:
        return None
    return MetricSeries(timestamps=series.timestamps, values=series.values)


def _changes(history: list[ConfigSeen], described: EndpointState | None) -> list[EndpointChange]:
    changes = [
        EndpointChange(
            timestamp=seen.seen_at,
            kind="endpoint_config",
            endpoint_config=seen.config_name,
            detail=f"InService on {seen.config_name} (endpoint config history)",
        )
        for seen in history
    ]
    if described is not None and described.last_modified:
        changes.append(
            EndpointChange(
                timestamp=described.last_modified,
                kind="endpoint_update",
                endpoint_config=described.endpoint_config,
                detail=f"DescribeEndpoint LastModifiedTime ({described.status})",
            )
        )
    return changes


def previous_config(history: list[ConfigSeen], deployed: str | None, changed_at: float) -> str | None:
    """The config the endpoint ran before the change (history is newest first)."""
    for index, seen in enumerate(history):
        if (deployed is None or seen.config_name == deployed) and seen.seen_at <= changed_at + 1:
            older = [h.config_name for h in history[index + 1 :] if h.config_name != seen.config_name]
            return older[0] if older else None
    return None


def _before_after(series: Series | None, onset: float, end: float, reference_s: float) -> dict[str, float] | None:
    if series is None or not series.values:
        return None
    t = np.asarray(series.timestamps)
    v = np.asarray(series.values)
    before = v[(t >= onset - reference_s) & (t < onset)]
    after = v[(t >= onset) & (t <= end)]
    if not before.size or not after.size:
        return None
    return {"before": round(float(np.median(before)), 3), "after": round(float(np.median(after)), 3)}


def explain(
    target: MonitoredEndpoint, record: AlarmRecord, end: float, settings: MonitorSettings, deps: MonitorDeps
) -> Regression:
    """Classify the cause of one alarm episode and describe it with the evidence used."""
    p = settings.cause
    described = deps.endpoints.describe(target.endpoint_name)
    variants = described.variants if described else [target.variant_name]
    queries = latency_queries(target.endpoint_name, target.variant_name, settings.period_s, variants)
    window_start = record.onset - max(p.reference_s, p.deployment_window_s) - settings.period_s
    window_end = max(end, record.onset + p.min_after_s + settings.period_s)
    data = deps.metrics.series(queries, _dt(window_start), _dt(window_end))
    variant_ids = {q.id: q.dimensions["VariantName"] for q in queries if q.id.startswith("variant_")}
    history = deps.store.config_history(target.endpoint_name)
    evidence = CauseEvidence(
        onset=record.onset,
        detected_at=record.detected_at,
        magnitude=record.magnitude,
        changes=_changes(history, described),
        invocations=_metric_series(data.get("invocations")),
        errors_4xx=_metric_series(data.get("errors_4xx")),
        errors_5xx=_metric_series(data.get("errors_5xx")),
        variant_latency={
            name: s for qid, name in variant_ids.items() if (s := _metric_series(data.get(qid))) is not None
        },
    )
    cause = classify_cause(evidence, p)
    previous = None
    deployment = next((f for f in cause.findings if f.rule == "deployment" and f.met), None)
    if cause.cause == "deployment" and deployment is not None and deployment.change_event is not None:
        event = deployment.change_event
        previous = previous_config(history, event.endpoint_config, event.timestamp)
    return Regression(
        endpoint_name=target.endpoint_name,
        variant_name=target.variant_name,
        cause=cause.cause,
        onset=iso(record.onset),
        detected_at=iso(record.detected_at),
        magnitude=round(record.magnitude, 4),
        evidence=_evidence(record, cause, data, described, end, settings),
        summary=_summary(target, record, cause, settings, previous),
        previous_endpoint_config=previous,
    )


def _evidence(
    record: AlarmRecord,
    cause: CauseResult,
    data: dict[str, Series],
    described: EndpointState | None,
    end: float,
    settings: MonitorSettings,
) -> dict[str, Any]:
    context = {
        name: found
        for name in ("latency_avg", "latency_p99", "invocations", "setup_time", "ttft_p50", "tokens_per_s")
        if (found := _before_after(data.get(name), record.onset, end, settings.cause.reference_s)) is not None
    }
    return {
        "metric": f"AWS/SageMaker ModelLatency {settings.statistic} (microseconds)",
        "baseline": round(record.baseline, 1),
        "score": round(record.score, 4),
        "detector_statistic": record.statistic,
        "cause_reason": cause.reason,
        "findings": [json.loads(f.model_dump_json(exclude_none=True)) for f in cause.findings],
        "context": context,
        "endpoint_config": described.endpoint_config if described else None,
    }


def _summary(
    target: MonitoredEndpoint, record: AlarmRecord, cause: CauseResult, settings: MonitorSettings, previous: str | None
) -> str:
    text = (
        f"{target.endpoint_name}/{target.variant_name}: ModelLatency {settings.statistic} {record.magnitude:+.0%} "
        f"since {iso(record.onset)} (baseline {record.baseline / 1e6:.2f} s), detected {iso(record.detected_at)}; "
        f"likely cause: {cause.cause} ({cause.reason})"
    )
    if previous:
        text += f"; previous endpoint config {previous}"
    return text


# --------------------------------------------------------------------------- modes
def run_scheduled(run: ScheduledRun, settings: MonitorSettings, deps: MonitorDeps | None = None) -> ScheduledResult:
    deps = deps or MonitorDeps.default(settings)
    now = run.time.timestamp()
    end = float((int(now) - settings.settle_s) // settings.period_s * settings.period_s)
    targets = run.detail.endpoints or settings.endpoints
    if not targets:
        raise ConfigError("no endpoints to monitor (SENTINEL_LATENCY_ENDPOINTS is empty)")
    runs = []
    for target in targets:
        run_one = _run_one(target, end, now, settings, deps)
        if settings.idle_policy is not None:
            run_one.idle = check_idle(
                target.endpoint_name,
                target.variant_name,
                now,
                settings.idle_policy,
                deps.metrics,
                deps.endpoints,
                SentinelTable(deps.store.name, ddb=deps.store.ddb),
                deps.bus,
            )
        runs.append(run_one)
    return ScheduledResult(at=iso(now), endpoints=runs)


def _run_one(
    target: MonitoredEndpoint, end: float, now: float, settings: MonitorSettings, deps: MonitorDeps
) -> EndpointRun:
    advanced = _advance(target, end, settings, deps)
    last = advanced.last_alarm
    published: list[str] = []
    stale = 0
    for record in advanced.new_alarms:
        if record.detected_at < end - settings.report_age_s:
            stale += 1
            last = StoredAlarm(record=record)
            continue
        if (
            last is not None
            and last.source == "confirmation"
            and abs(record.onset - last.record.onset) <= settings.confirm_window_s
        ):
            continue  # the router already acted on this episode through its alarm
        regression = explain(target, record, end, settings, deps)
        sent = deps.bus.publish_detail(LatencyRegressionDetail.model_validate(regression.model_dump(mode="json")))
        if sent.failed:
            failed = sent.failed[0]
            raise PublishFailedError(f"PutEvents rejected {DETAIL_TYPE}: {failed.error_code} {failed.error_message}")
        event_id = sent.event_ids[0]
        published.append(event_id)
        last = StoredAlarm(record=record, cause=regression.cause, event_id=event_id)
    state = advanced.detector.state()
    status: Literal["ok", "no-data", "conflict"] = "ok" if advanced.points else "no-data"
    try:
        _save(target, advanced, last, deps, now)
    except StateConflictError:
        status = "conflict"  # another run advanced it; the next run resumes from its state
    return EndpointRun(
        endpoint_name=target.endpoint_name,
        variant_name=target.variant_name,
        points=advanced.points,
        accepted=state.n_accepted,
        score=round(float(state.last_score), 4),
        max_score=round(float(advanced.scores.max()), 4) if advanced.scores.size else round(state.last_score, 4),
        alarm=state.last_alarm,
        status=status,
        published=published,
        stale_alarms=stale,
    )


def confirm(request: ConfirmRequest, settings: MonitorSettings, deps: MonitorDeps | None = None) -> ConfirmResult:
    """Is the alarm a regression the detector sees? Advances the state up to the alarm, publishes nothing."""
    deps = deps or MonitorDeps.default(settings)
    target = MonitoredEndpoint(endpoint_name=request.endpoint_name, variant_name=request.variant_name)
    at = request.at.timestamp()
    end = float(int(at) // settings.period_s * settings.period_s)
    for attempt in range(2):
        advanced = _advance(target, end, settings, deps, confirming=True)
        last = advanced.last_alarm
        fresh = advanced.new_alarms or advanced.confirm_alarms
        if fresh:
            how = "detector alarm" if advanced.new_alarms else f"thresholds x{settings.confirm_threshold_ratio}"
            last = StoredAlarm(record=fresh[-1], source="confirmation", confirmed_by=how)
        candidate = last.record if last else None
        try:
            _save(target, advanced, last, deps, at)
            break
        except StateConflictError:
            if attempt:
                raise
    state = advanced.detector.state()
    min_history = state.params.min_history
    if state.n_accepted < min_history:
        return ConfirmResult(
            confirmed=False,
            verdict="insufficient-history",
            summary=f"detector has {state.n_accepted} points of {request.endpoint_name}/{request.variant_name}, "
            f"needs {min_history} before it can confirm",
            evidence={"accepted_points": state.n_accepted},
        )
    if candidate is None or not (at - settings.confirm_window_s <= candidate.detected_at <= at + settings.period_s):
        seen = f"; last episode detected {iso(candidate.detected_at)}" if candidate else ""
        return ConfirmResult(
            confirmed=False,
            summary=f"no sustained regression in the {settings.statistic} series "
            f"(score {state.last_score:.2f} at {iso(state.last_ts or at)}{seen})",
            evidence={"score": round(state.last_score, 4), "accepted_points": state.n_accepted},
        )
    regression = explain(target, candidate, end, settings, deps)
    how = (last.confirmed_by if last is not None else None) or "scheduled detector alarm"
    return ConfirmResult(
        confirmed=True,
        verdict="confirmed",
        cause=regression.cause,
        onset=regression.onset,
        detected_at=regression.detected_at,
        magnitude=regression.magnitude,
        evidence={**regression.evidence, "confirmed_by": how},
        summary=regression.summary,
        previous_endpoint_config=regression.previous_endpoint_config,
    )

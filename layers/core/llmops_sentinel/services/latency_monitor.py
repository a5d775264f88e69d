"""Latency monitor: advance the detector over the series since its last run, report regressions with a cause.

Per endpoint variant, each run:
1. loads the detector states (``latency#<endpoint>#<variant>`` in the Sentinel table), one per signal:
   ``latency`` (``ModelLatency`` p99 by default), ``ttft`` (TimeToFirstTokenMs), ``tokens_per_s`` (a
   drop is the regression) and ``error_rate`` (Invocation5XXErrors / Invocations); a fresh detector
   backfills what GetMetricData retains at the period (``backfill_seconds``: 15 days of 1-minute data),
   so a newly watched endpoint is out of its warm-up after one run;
2. reads every signal's series from the point after the last one its detector accepted up to the last
   complete period (``settle_s`` before the run's clock), oldest first, in one GetMetricData call;
3. updates each detector (causal: resuming gives the same scores as one long run);
4. for the new alarm episodes recent enough to act on (all signals together: one regression, one
   event, with every signal's episode in ``evidence.signals``): reads the evidence (invocations, 4XX/5XX, every
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
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.cloudwatch import (
    MAX_DATAPOINTS,
    MAX_QUERIES,
    BatchResult,
    MetricQuery,
    MetricsReader,
    MetricsRequest,
    Series,
    fetch_batched,
    latency_queries,
)
from llmops_sentinel.adapters.dynamodb import SentinelTable
from llmops_sentinel.adapters.endpoints import EndpointReader, EndpointState
from llmops_sentinel.adapters.events import BusPublisher
from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.adapters.latency_store import ConfigSeen, LatencyStore, StateConflictError, StoredState
from llmops_sentinel.domain.idle import IdleResult, assess_idle
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
from llmops_sentinel.domain.latency.models import Mode
from llmops_sentinel.domain.remediation.policy import RemediationPolicy, load_policy
from llmops_sentinel.errors import BadInputError, ConfigError, SentinelError, ThrottledError
from llmops_sentinel.models.bus_events import LatencyRegressionDetail
from llmops_sentinel.models.latency import (
    ConfirmRequest,
    ConfirmResult,
    EndpointRun,
    MonitoredEndpoint,
    Regression,
    ScheduledResult,
    ScheduledRun,
    SignalStatus,
)
from llmops_sentinel.services.idle import IDLE_QUERY_ID, idle_query, last_activity, settle_idle

DETAIL_TYPE = LatencyRegressionDetail.DETAIL_TYPE
STATISTIC_QUERY = {"p99": "latency_p99", "Average": "latency_avg"}
PRIMARY = "latency"


def backfill_seconds(period_s: int) -> int:
    """How far back GetMetricData still has data at ``period_s`` (CloudWatch's retention schedule).

    Periods under 60 s: 3 hours; 60 s: 15 days; 300 s: 63 days; 3600 s and more: 455 days. Periods in
    between get the retention of the next shorter standard period (their data is aggregated from it).
    """
    if period_s < 60:
        return 3 * 3600
    if period_s < 300:
        return 15 * 86_400
    if period_s < 3600:
        return 63 * 86_400
    return 455 * 86_400


class SignalSpec(BaseModel):
    """One detected signal: where its series comes from and how the detector reads it."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    query: str | None = Field(description="query id of latency_queries; None: derived (error rate)")
    higher_is_worse: bool = True
    transform: Literal["log", "linear"] = "log"
    scale_floor_abs: float = 0.0

    def params(self, mode: Mode, period_s: int) -> LatencyParams:
        if self.name == PRIMARY:
            return LatencyParams.for_mode(mode, expected_interval_s=float(period_s))
        return LatencyParams.for_mode(
            "regression",
            expected_interval_s=float(period_s),
            higher_is_worse=self.higher_is_worse,
            transform=self.transform,
            scale_floor_abs=self.scale_floor_abs,
        )


#: The signals a run detects on (registry; ``SENTINEL_LATENCY_SIGNALS`` picks among them). TTFT and
#: tokens/s come from the project's LLMOpsSentinel namespace; absent series leave their detector idle.
SIGNALS: dict[str, SignalSpec] = {
    s.name: s
    for s in (
        SignalSpec(name=PRIMARY, label="ModelLatency", query=None),
        SignalSpec(name="ttft", label="TimeToFirstTokenMs p50", query="ttft_p50"),
        SignalSpec(name="tokens_per_s", label="TokensPerSecond", query="tokens_per_s", higher_is_worse=False),
        # A rate in [0, 1]: linear, floor of 1 percentage point (a single failed call among few is noise).
        SignalSpec(name="error_rate", label="5XX error rate", query=None, transform="linear", scale_floor_abs=0.01),
    )
}


class PublishFailedError(SentinelError):
    """EventBridge refused the regression event; the run fails before storing state, so it is retried."""


class MonitorSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    table_name: str
    bus_name: str
    endpoints: list[MonitoredEndpoint] = Field(default_factory=list)
    period_s: int = Field(60, ge=60)
    statistic: Literal["p99", "Average"] = "p99"
    mode: Mode = Field("regression", description="the latency signal's detector mode (anomaly: two-sided)")
    signals: list[str] = Field(default_factory=lambda: list(SIGNALS), description="signals detected on")
    lookback_s: int | None = Field(
        None, gt=0, description="history a fresh detector backfills (None: what GetMetricData retains)"
    )
    settle_s: int = Field(60, ge=0, description="the newest period read ends this long before the clock")
    report_age_s: int = Field(1800, gt=0, description="older alarm episodes (backfills) are not reported")
    confirm_window_s: int = Field(1800, gt=0, description="an episode this close to the alarm confirms it")
    confirm_threshold_ratio: float = Field(
        0.5, gt=0, le=1, description="decision thresholds of the one look a confirmation takes, relative"
    )
    idle_policy: RemediationPolicy | None = None
    """Remediation policy whose per-endpoint ``idle_hours`` the idle check uses (None: no idle check)."""
    reread_periods: int = Field(
        10, ge=0, description="periods before the last span read that are read again (late CloudWatch data)"
    )
    backfills_per_run: int = Field(
        25, ge=1, description="new detectors backfilled per run; the others are deferred to the next runs"
    )
    fleet_registry: bool = True
    """Scheduled runs also watch every fleet-registry endpoint x variant (``SENTINEL_FLEET_REGISTRY``:
    on/off); with it on, an empty fleet and an empty env list is a run with nothing to do."""
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
            mode=os.environ.get("SENTINEL_LATENCY_MODE", "regression"),  # type: ignore[arg-type]
            signals=_signals(os.environ.get("SENTINEL_LATENCY_SIGNALS", "")),
            lookback_s=_lookback(os.environ.get("SENTINEL_LATENCY_LOOKBACK_MINUTES", "auto")),
            idle_policy=_idle_policy(),
            fleet_registry=os.environ.get("SENTINEL_FLEET_REGISTRY", "on").strip().lower() not in _OFF,
            **_backfills(os.environ.get("SENTINEL_LATENCY_BACKFILLS_PER_RUN", "")),
        )

    @property
    def backfill_s(self) -> int:
        return self.lookback_s or backfill_seconds(self.period_s)


_OFF = {"off", "false", "0", "no"}


def _backfills(raw: str) -> dict[str, int]:
    """``SENTINEL_LATENCY_BACKFILLS_PER_RUN`` (unset: the default): a fleet onboarded at once is checked
    after ceil(N / budget) runs; a larger budget gets there sooner if the function's timeout allows."""
    if not raw.strip():
        return {}
    try:
        return {"backfills_per_run": int(raw)}
    except ValueError:
        raise ConfigError(f"SENTINEL_LATENCY_BACKFILLS_PER_RUN must be an integer, got {raw[:40]!r}") from None


def _signals(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()] or list(SIGNALS)
    unknown = sorted(set(names) - set(SIGNALS))
    if unknown:
        raise ConfigError(
            f"SENTINEL_LATENCY_SIGNALS: unknown signal(s) {', '.join(unknown)} (known: {', '.join(SIGNALS)})"
        )
    if PRIMARY not in names:
        names.insert(0, PRIMARY)
    return names


def _lookback(text: str) -> int | None:
    raw = text.strip().lower()
    if raw in {"", "auto"}:
        return None
    try:
        minutes = int(raw)
    except ValueError as exc:
        raise ConfigError(f"SENTINEL_LATENCY_LOOKBACK_MINUTES must be minutes or 'auto', got {text!r}") from exc
    if minutes <= 0:
        raise ConfigError("SENTINEL_LATENCY_LOOKBACK_MINUTES must be positive")
    return minutes * 60


def _idle_policy() -> RemediationPolicy | None:
    if os.environ.get("SENTINEL_IDLE_CHECK", "on").lower() in _OFF:
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
    registry: FleetRegistry | None = None
    """The fleet registry scheduled runs list (None: only the configured endpoints)."""

    @classmethod
    def default(cls, settings: MonitorSettings) -> MonitorDeps:
        return cls(
            MetricsReader(),
            LatencyStore(settings.table_name),
            EndpointReader(),
            BusPublisher(settings.bus_name),
            FleetRegistry(settings.table_name) if settings.fleet_registry else None,
        )


class StoredAlarm(BaseModel):
    """The last alarm episode the monitor saw, kept beside the detector state."""

    record: AlarmRecord
    cause: str | None = None
    event_id: str | None = None
    source: Literal["scheduled", "confirmation"] = "scheduled"
    confirmed_by: str | None = None
    signal: str = PRIMARY


@dataclass
class _SignalRun:
    detector: LatencyDetector
    scores: np.ndarray
    new_alarms: list[AlarmRecord]
    points: int
    confirm_alarms: list[AlarmRecord]
    """Alarms of the confirming look (thresholds times ``confirm_threshold_ratio``); confirmation mode only."""


@dataclass
class _Advanced:
    signals: dict[str, _SignalRun]
    stored: StoredState
    last_alarm: StoredAlarm | None
    last_active: float | None = None
    """Epoch s of the newest period with invocations this state has seen (the idle check's evidence)."""
    read_through: float | None = None
    """End of the span this advance read."""

    @property
    def detector(self) -> LatencyDetector:
        return self.signals[PRIMARY].detector

    @property
    def points(self) -> int:
        return self.signals[PRIMARY].points

    @property
    def scores(self) -> np.ndarray:
        return self.signals[PRIMARY].scores

    def alarms(self, confirming: bool = False) -> list[tuple[str, AlarmRecord]]:
        """New alarm episodes of every signal, oldest onset first."""
        found = [
            (name, record)
            for name, run in self.signals.items()
            for record in (run.confirm_alarms if confirming else run.new_alarms)
        ]
        return sorted(found, key=lambda item: (item[1].onset, item[0] != PRIMARY))


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _resume(state_json: str | None, params: LatencyParams) -> LatencyDetector:
    if state_json:
        state = DetectorState.model_validate_json(state_json)
        if state.params.expected_interval_s == params.expected_interval_s and state.params.mode == params.mode:
            return LatencyDetector.from_state(state)
    return LatencyDetector(params)


def _confirming(detector: LatencyDetector, ratio: float) -> LatencyDetector:
    """The same detector with its decision thresholds times ``ratio``, for one look after an alarm."""
    state = detector.state()
    p = state.params
    # No minimum run length and no spike hold: the alarm being confirmed already required a sustained
    # breach (the guard alarms on 2 breaching minutes), so the look takes every point's evidence as it is.
    params = p.model_copy(
        update={
            "level_h": p.level_h * ratio,
            "spread_h": p.spread_h * ratio,
            "level_min_points": 1,
            "spread_min_points": 1,
            "spike_z": 1e6,
        }
    )
    return LatencyDetector.from_state(state.model_copy(update={"params": params}))


def error_rate(errors: Series | None, invocations: Series | None) -> Series:
    """5XX errors / invocations per period with invocations (a period without errors counts 0)."""
    if invocations is None:
        return Series(timestamps=[], values=[])
    failed = dict(zip(errors.timestamps, errors.values, strict=True)) if errors is not None else {}
    pairs = [
        (t, failed.get(t, 0.0) / n) for t, n in zip(invocations.timestamps, invocations.values, strict=True) if n > 0
    ]
    return Series(timestamps=[t for t, _ in pairs], values=[min(v, 1.0) for _, v in pairs])


def _signal_series(name: str, data: dict[str, Series], settings: MonitorSettings) -> Series:
    spec = SIGNALS[name]
    if name == PRIMARY:
        return data.get(STATISTIC_QUERY[settings.statistic], Series(timestamps=[], values=[]))
    if spec.query is None:
        return error_rate(data.get("errors_5xx"), data.get("invocations"))
    return data.get(spec.query, Series(timestamps=[], values=[]))


def advance_queries(target: MonitoredEndpoint, settings: MonitorSettings) -> list[MetricQuery]:
    """The series a scheduled advance reads: the latency statistic, Invocations (error rate and idle
    evidence), 5XX errors when the error rate is detected, and the other selected signals' queries
    (the cause's wider evidence is read only for an alarm, by :func:`explain`)."""
    wanted = {STATISTIC_QUERY[settings.statistic], "invocations"}
    for name in settings.signals:
        spec = SIGNALS[name]
        if spec.query is not None:
            wanted.add(spec.query)
        elif name != PRIMARY:
            wanted.add("errors_5xx")
    queries = latency_queries(target.endpoint_name, target.variant_name, settings.period_s)
    return [q for q in queries if q.id in wanted]


@dataclass
class _Prepared:
    """A target's stored state and detectors, and the span its series must be read over."""

    target: MonitoredEndpoint
    stored: StoredState
    detectors: dict[str, LatencyDetector]
    starts: dict[str, float]
    start: float
    end: float


def _prepare(target: MonitoredEndpoint, end: float, settings: MonitorSettings, deps: MonitorDeps) -> _Prepared:
    stored = deps.store.load(target.endpoint_name, target.variant_name)
    detectors = {
        name: _resume(
            stored.state_json if name == PRIMARY else stored.signal_states.get(name),
            SIGNALS[name].params(settings.mode, settings.period_s),
        )
        for name in settings.signals
    }
    earliest = end - settings.backfill_s
    # Points arrive a little late: read again ``reread_periods`` before the end of the last span read,
    # never the whole backfill again just because an endpoint has had no traffic since.
    floor = (
        earliest if stored.read_through is None else stored.read_through - settings.reread_periods * settings.period_s
    )
    starts = {}
    for name, detector in detectors.items():
        last_ts = detector.state().last_ts
        starts[name] = max(earliest if last_ts is None else last_ts + settings.period_s, earliest, floor)
    return _Prepared(target, stored, detectors, starts, min(starts.values()), end)


def _apply(prepared: _Prepared, data: dict[str, Series], settings: MonitorSettings, confirming: bool) -> _Advanced:
    runs = {}
    for name, detector in prepared.detectors.items():
        look = _confirming(detector, settings.confirm_threshold_ratio) if confirming else None
        series = _signal_series(name, data, settings)
        keep = [i for i, t in enumerate(series.timestamps) if t >= prepared.starts[name]]
        times = [series.timestamps[i] for i in keep]
        values = [series.values[i] for i in keep]
        run = _SignalRun(detector, np.empty(0), [], len(times), [])
        if times:
            update = detector.update(times, values)
            run.scores, run.new_alarms = update.scores, update.new_alarms
            if look is not None:
                run.confirm_alarms = look.update(times, values).new_alarms
        runs[name] = run
    stored = prepared.stored
    last = StoredAlarm.model_validate_json(stored.last_alarm_json) if stored.last_alarm_json else None
    invocations = data.get("invocations") or Series(timestamps=[], values=[])
    active = [t for t, v in zip(invocations.timestamps, invocations.values, strict=True) if v > 0]
    seen = [t for t in (stored.last_active, max(active, default=None)) if t is not None]
    return _Advanced(runs, stored, last, max(seen) if seen else None, prepared.end)


def _advance(
    target: MonitoredEndpoint, end: float, settings: MonitorSettings, deps: MonitorDeps, confirming: bool = False
) -> _Advanced:
    """One target on its own: load, read its series (one request), update the detectors."""
    prepared = _prepare(target, end, settings, deps)
    data: dict[str, Series] = {}
    if prepared.start < end:
        data = deps.metrics.series(advance_queries(target, settings), _dt(prepared.start), _dt(end))
    return _apply(prepared, data, settings, confirming)


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
        signal_states={
            name: run.detector.state().model_dump_json() for name, run in advanced.signals.items() if name != PRIMARY
        },
        last_active=advanced.last_active,
        read_through=advanced.read_through,
    )


def signal_status(advanced: _Advanced) -> dict[str, SignalStatus]:
    """Per signal: points read, score, alarm and warming_up after this run."""
    out = {}
    for name, run in advanced.signals.items():
        state = run.detector.state()
        out[name] = SignalStatus(
            points=run.points,
            accepted=state.n_accepted,
            score=round(float(state.last_score), 4),
            max_score=round(float(run.scores.max()), 4) if run.scores.size else round(state.last_score, 4),
            alarm=state.last_alarm,
            warming_up=run.detector.warming_up,
        )
    return out


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
    target: MonitoredEndpoint,
    record: AlarmRecord,
    end: float,
    settings: MonitorSettings,
    deps: MonitorDeps,
    signal: str = PRIMARY,
    episodes: list[tuple[str, AlarmRecord]] | None = None,
) -> Regression:
    """Classify the cause of one alarm episode and describe it with the evidence used.

    ``signal`` names the detector that raised ``record``; ``episodes`` are every signal's episodes of
    this regression (the combined evidence: p99 with TTFT, tokens/s or the error rate beside it).
    """
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
        evidence={
            **_evidence(record, cause, data, described, end, settings, signal),
            "signals": _episodes(episodes or [(signal, record)]),
        },
        summary=_summary(target, record, cause, settings, previous, signal, episodes),
        previous_endpoint_config=previous,
        signal=signal,
    )


def _episodes(episodes: list[tuple[str, AlarmRecord]]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "onset": iso(r.onset),
            "detected_at": iso(r.detected_at),
            "magnitude": round(r.magnitude, 4),
            "direction": r.direction,
            "statistic": r.statistic,
            "baseline": round(r.baseline, 6),
        }
        for name, r in episodes
    }


def _evidence(
    record: AlarmRecord,
    cause: CauseResult,
    data: dict[str, Series],
    described: EndpointState | None,
    end: float,
    settings: MonitorSettings,
    signal: str = PRIMARY,
) -> dict[str, Any]:
    series = {**data, "error_rate": error_rate(data.get("errors_5xx"), data.get("invocations"))}
    context = {
        name: found
        for name in (
            "latency_avg",
            "latency_p99",
            "invocations",
            "setup_time",
            "ttft_p50",
            "tokens_per_s",
            "error_rate",
        )
        if (found := _before_after(series.get(name), record.onset, end, settings.cause.reference_s)) is not None
    }
    metric = (
        f"AWS/SageMaker ModelLatency {settings.statistic} (microseconds)"
        if signal == PRIMARY
        else SIGNALS[signal].label
    )
    return {
        "metric": metric,
        "signal": signal,
        "baseline": round(record.baseline, 1),
        "score": round(record.score, 4),
        "detector_statistic": record.statistic,
        "cause_reason": cause.reason,
        "findings": [json.loads(f.model_dump_json(exclude_none=True)) for f in cause.findings],
        "context": context,
        "endpoint_config": described.endpoint_config if described else None,
    }


def _summary(
    target: MonitoredEndpoint,
    record: AlarmRecord,
    cause: CauseResult,
    settings: MonitorSettings,
    previous: str | None,
    signal: str = PRIMARY,
    episodes: list[tuple[str, AlarmRecord]] | None = None,
) -> str:
    if signal == PRIMARY:
        what = f"ModelLatency {settings.statistic} {record.magnitude:+.0%}"
        base = f"baseline {record.baseline / 1e6:.2f} s"
    else:
        what = f"{SIGNALS[signal].label} {record.magnitude:+.0%}"
        base = f"baseline {record.baseline:.4g}"
    text = (
        f"{target.endpoint_name}/{target.variant_name}: {what} since {iso(record.onset)} ({base}), detected "
        f"{iso(record.detected_at)}; likely cause: {cause.cause} ({cause.reason})"
    )
    others = sorted({name for name, _ in episodes or [] if name != signal})
    if others:
        text += f"; also on {', '.join(others)}"
    if previous:
        text += f"; previous endpoint config {previous}"
    return text


# --------------------------------------------------------------------------- modes
def run_scheduled(run: ScheduledRun, settings: MonitorSettings, deps: MonitorDeps | None = None) -> ScheduledResult:
    """One scheduled run over the fleet: every target's state loaded, all their series read in as few
    GetMetricData calls as the API's limits allow (:func:`metrics_requests`), then each target
    advanced, reported and stored on its own. Whatever fails for one target is its result; throttling
    anywhere is re-raised once the others are done, so the invocation is retried (not swallowed)."""
    deps = deps or MonitorDeps.default(settings)
    now = run.time.timestamp()
    end = float((int(now) - settings.settle_s) // settings.period_s * settings.period_s)
    targets = run.detail.endpoints or scheduled_targets(settings, deps)
    if not targets:
        if deps.registry is None:
            raise ConfigError("no endpoints to monitor (SENTINEL_LATENCY_ENDPOINTS is empty, no fleet registry)")
        return ScheduledResult(at=iso(now), endpoints=[])
    results: dict[MonitoredEndpoint, EndpointRun] = {}
    throttled: list[ThrottledError] = []
    prepared: dict[MonitoredEndpoint, _Prepared] = {}
    for target in targets:
        try:
            prepared[target] = _prepare(target, end, settings, deps)
        except Exception as exc:  # isolation: a corrupt or unreadable state item is this target's result
            results[target] = _failed(target, exc, throttled)
    for target in _deferred(prepared, settings):
        results[target] = _deferred_run(target, prepared.pop(target))
    keys = {_key(t): t for t in prepared}
    batch = fetch_batched(deps.metrics, metrics_requests(list(prepared.values()), settings))
    for key, failure in {**batch.errors, **batch.throttled}.items():
        results[keys[key]] = _failed(keys[key], failure, throttled)
    advanced: dict[MonitoredEndpoint, _Advanced] = {}
    for target, ready in prepared.items():
        if target in results:
            continue
        try:
            advanced[target] = _apply(ready, batch.series.get(_key(target), {}), settings, confirming=False)
        except Exception as exc:  # isolation is the point: the error is this endpoint's result
            results[target] = _failed(target, exc, throttled)
    evidence = idle_evidence(advanced, now, settings, deps)
    for target, ready_run in advanced.items():
        try:
            results[target] = _finish(target, ready_run, evidence, end, now, settings, deps)
        except Exception as exc:  # isolation is the point: the error is this endpoint's result
            results[target] = _failed(target, exc, throttled)
    if throttled:
        raise ThrottledError(
            f"{len(throttled)} of {len(targets)} endpoint variants throttled ({throttled[0]}); the others are "
            "stored, a retried invocation reads only what is still missing"
        )
    return ScheduledResult(at=iso(now), endpoints=[results[t] for t in targets])


def scheduled_targets(settings: MonitorSettings, deps: MonitorDeps) -> list[MonitoredEndpoint]:
    """The configured endpoint variants, then every fleet-registry endpoint x variant (exact names,
    each once, configured ones first; an endpoint the registry lists without variants: AllTraffic)."""
    found = dict.fromkeys(settings.endpoints)
    if deps.registry is not None:
        for watched in sorted(deps.registry.watched(), key=lambda w: w.endpoint_name):
            for variant in watched.variants or ["AllTraffic"]:
                found.setdefault(MonitoredEndpoint(endpoint_name=watched.endpoint_name, variant_name=variant))
    return list(found)


def _key(target: MonitoredEndpoint) -> str:
    return f"{target.endpoint_name}/{target.variant_name}"


def steady_span_s(settings: MonitorSettings) -> int:
    """The longest span a target may need and still share the steady-state window: 500 queries of that
    many periods stay within GetMetricData's 100,800 datapoints (201 periods: 3 h 21 min at 60 s)."""
    return (MAX_DATAPOINTS // MAX_QUERIES) * settings.period_s


def metrics_requests(prepared: list[_Prepared], settings: MonitorSettings) -> list[MetricsRequest]:
    """Per target with anything to read: its queries and window. Targets in steady state (a span of at
    most :func:`steady_span_s`) share one window from the earliest of their starts, so their queries
    pack into ``ceil(queries / 500)`` calls; the few points before a target's own start are dropped
    when it is advanced. A backfilling or long-stalled target keeps its own window (its own calls,
    sized to the datapoint limit by :func:`~llmops_sentinel.adapters.cloudwatch.plan_calls`)."""
    reading = [p for p in prepared if p.start < p.end]
    steady = [p for p in reading if p.end - p.start <= steady_span_s(settings)]
    shared = min((p.start for p in steady), default=0.0)
    return [
        MetricsRequest(
            key=_key(p.target),
            queries=advance_queries(p.target, settings),
            start=shared if p in steady else p.start,
            end=p.end,
        )
        for p in reading
    ]


def _deferred(prepared: dict[MonitoredEndpoint, _Prepared], settings: MonitorSettings) -> list[MonitoredEndpoint]:
    """Backfills beyond ``backfills_per_run`` (fleet order): a new endpoint's first read is ~21,600
    points per query at 60 s, so a fleet onboarded at once is backfilled over a few runs, keeping each
    run inside its timeout and GetMetricData's rate."""
    backfilling = [t for t, p in prepared.items() if p.end - p.start > steady_span_s(settings)]
    return backfilling[settings.backfills_per_run :]


def _deferred_run(target: MonitoredEndpoint, prepared: _Prepared) -> EndpointRun:
    return EndpointRun(
        endpoint_name=target.endpoint_name,
        variant_name=target.variant_name,
        points=0,
        accepted=0,
        score=0.0,
        max_score=0.0,
        alarm=False,
        status="deferred",
        reason=f"backfill of {(prepared.end - prepared.start) / 86_400:.1f} days waits for a later run",
    )


def _failed(target: MonitoredEndpoint, exc: Exception, throttled: list[ThrottledError]) -> EndpointRun:
    """A target whose check failed: ``bad-input`` for typed bad input, ``error`` otherwise (throttling
    also goes to ``throttled``, for the run to re-raise)."""
    if isinstance(exc, ThrottledError):
        throttled.append(exc)
    status: Literal["bad-input", "error"] = "bad-input" if isinstance(exc, BadInputError) else "error"
    return EndpointRun(
        endpoint_name=target.endpoint_name,
        variant_name=target.variant_name,
        points=0,
        accepted=0,
        score=0.0,
        max_score=0.0,
        alarm=False,
        status=status,
        reason=f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
    )


def _finish(
    target: MonitoredEndpoint,
    advanced: _Advanced,
    evidence: BatchResult,
    end: float,
    now: float,
    settings: MonitorSettings,
    deps: MonitorDeps,
) -> EndpointRun:
    """Report, store and idle-check one advanced target."""
    run_one = _run_one(target, advanced, end, now, settings, deps)
    if settings.idle_policy is not None:
        run_one.idle = idle_check(target, now, advanced.last_active, evidence, settings.idle_policy, deps)
    return run_one


def _idle_hours(target: MonitoredEndpoint, policy: RemediationPolicy) -> float:
    return policy.for_endpoint(target.endpoint_name).idle_hours


def _active_within(last_active: float | None, now: float, hours: float) -> bool:
    return last_active is not None and last_active >= now - hours * 3600


def idle_evidence(
    advanced: dict[MonitoredEndpoint, _Advanced], now: float, settings: MonitorSettings, deps: MonitorDeps
) -> BatchResult:
    """The idle window's Invocations of every target whose state has not seen traffic within its
    ``idle_hours`` (the suspects), read in one batch: ``ceil(suspects / 500)`` more GetMetricData calls,
    none when the whole fleet is serving. The scheduled advance reads only since its last span (plus
    ``reread_periods``), so traffic that lands later than that but inside the idle window - and ends an
    idle episode - is seen only here. Traffic found moves the target's ``last_active`` forward (the
    start of its newest period with invocations), so the next run needs no read for it."""
    policy = settings.idle_policy
    if policy is None:
        return BatchResult()
    requests = []
    for target, ready in advanced.items():
        hours = _idle_hours(target, policy)
        if not _active_within(ready.last_active, now, hours):
            query = idle_query(target.endpoint_name, target.variant_name, hours)
            requests.append(MetricsRequest(key=_key(target), queries=[query], start=now - hours * 3600, end=now))
    evidence = fetch_batched(deps.metrics, requests)
    for target, ready in advanced.items():
        found = evidence.series.get(_key(target), {}).get(IDLE_QUERY_ID)
        served = [t for t, v in zip(found.timestamps, found.values, strict=True) if v > 0] if found else []
        if served:
            ready.last_active = max([*served, *([ready.last_active] if ready.last_active is not None else [])])
    return evidence


def idle_check(
    target: MonitoredEndpoint,
    now: float,
    last_active: float | None,
    evidence: BatchResult,
    policy: RemediationPolicy,
    deps: MonitorDeps,
) -> IdleResult:
    """The idle check of one target after :func:`idle_evidence`: a target it did not read had traffic
    within ``idle_hours`` by its state's ``last_active`` (active, no further call); for the others,
    DescribeEndpoint (has it existed, unchanged, for the whole window?), the window's Invocations and
    the idle episode logic of :mod:`llmops_sentinel.services.idle` (traffic ends an episode)."""
    hours = _idle_hours(target, policy)
    key = _key(target)
    failure = evidence.errors.get(key) or evidence.throttled.get(key)
    if failure is not None:
        raise failure
    episodes = SentinelTable(deps.store.name, ddb=deps.store.ddb)
    read = evidence.series.get(key)
    if read is None and last_active is not None:  # not a suspect: its state saw traffic within the window
        episodes.end_idle(target.endpoint_name, target.variant_name, last_active)
        return IdleResult(status="active", reason=f"invocations at {iso(last_active)}, within the last {hours:g} h")
    found = (read or {}).get(IDLE_QUERY_ID)
    described = deps.endpoints.describe(target.endpoint_name)
    verdict = assess_idle(found.values if found else [], described.last_modified if described else None, now, hours)
    active_at = last_activity(found, described)
    return settle_idle(
        target.endpoint_name, target.variant_name, now, hours, verdict, described, episodes, deps.bus, active_at
    )


def _run_one(
    target: MonitoredEndpoint, advanced: _Advanced, end: float, now: float, settings: MonitorSettings, deps: MonitorDeps
) -> EndpointRun:
    last = advanced.last_alarm
    published: list[str] = []
    stale = 0
    fresh: list[tuple[str, AlarmRecord]] = []
    for name, record in advanced.alarms():
        if record.detected_at < end - settings.report_age_s:
            stale += 1
            last = StoredAlarm(record=record, signal=name)
        else:
            fresh.append((name, record))
    if fresh:
        signal, record = fresh[0]  # every signal's episode of this run goes in one event
        already = (
            last is not None
            and last.source == "confirmation"
            and abs(record.onset - last.record.onset) <= settings.confirm_window_s
        )
        if not already:  # else the router already acted on this episode through its alarm
            regression = explain(target, record, end, settings, deps, signal, fresh)
            detail = LatencyRegressionDetail.model_validate(regression.model_dump(mode="json", exclude_none=True))
            sent = deps.bus.publish_detail(detail)
            if sent.failed:
                failed = sent.failed[0]
                raise PublishFailedError(
                    f"PutEvents rejected {DETAIL_TYPE}: {failed.error_code} {failed.error_message}"
                )
            event_id = sent.event_ids[0]
            published.append(event_id)
            last = StoredAlarm(record=record, cause=regression.cause, event_id=event_id, signal=signal)
    state = advanced.detector.state()
    status: Literal["ok", "no-data", "conflict"] = "ok" if advanced.points else "no-data"
    try:
        _save(target, advanced, last, deps, now)
    except StateConflictError:
        status = "conflict"  # another run advanced it; the next run resumes from its state
    signals = signal_status(advanced)
    return EndpointRun(
        endpoint_name=target.endpoint_name,
        variant_name=target.variant_name,
        points=advanced.points,
        accepted=state.n_accepted,
        score=round(float(state.last_score), 4),
        max_score=round(float(advanced.scores.max()), 4) if advanced.scores.size else round(state.last_score, 4),
        alarm=state.last_alarm,
        warming_up=advanced.detector.warming_up,
        signals=signals,
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
        # Combined confirmation: the latest episode of every signal, from the detector or the lower look.
        episodes: dict[str, tuple[AlarmRecord, str]] = {}
        for name, record in advanced.alarms(confirming=True):
            episodes[name] = (record, f"thresholds x{settings.confirm_threshold_ratio}")
        for name, record in advanced.alarms():
            episodes[name] = (record, "detector alarm")
        # Only episodes recent enough to be this alarm's (a backfill's old ones confirm nothing).
        recent = [n for n, (r, _) in episodes.items() if at - settings.confirm_window_s <= r.detected_at]
        if recent:
            name = PRIMARY if PRIMARY in recent else max(recent, key=lambda n: episodes[n][0].detected_at)
            record, how = episodes[name]
            last = StoredAlarm(record=record, source="confirmation", confirmed_by=how, signal=name)
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
            warming_up=True,
        )
    if candidate is None or not (at - settings.confirm_window_s <= candidate.detected_at <= at + settings.period_s):
        seen = f"; last episode detected {iso(candidate.detected_at)}" if candidate else ""
        return ConfirmResult(
            confirmed=False,
            summary=f"no sustained regression in the {settings.statistic} series "
            f"(score {state.last_score:.2f} at {iso(state.last_ts or at)}{seen})",
            evidence={
                "score": round(state.last_score, 4),
                "accepted_points": state.n_accepted,
                "signals": {k: v.model_dump() for k, v in signal_status(advanced).items()},
            },
            warming_up=advanced.detector.warming_up,
        )
    assert last is not None
    together = [
        (n, r)
        for n, (r, _) in episodes.items()
        if abs(r.onset - candidate.onset) <= settings.confirm_window_s and n != last.signal
    ]
    regression = explain(target, candidate, end, settings, deps, last.signal, [(last.signal, candidate), *together])
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
        signal=regression.signal,
        warming_up=advanced.detector.warming_up,
    )

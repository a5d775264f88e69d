"""The latency monitor: backfill by GetMetricData retention, warming_up, TTFT / tokens/s / error-rate
signals with one combined event and confirmation (in-memory fakes of the adapters, no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pytest

from llmops_sentinel.adapters.cloudwatch import MetricQuery, Series, latency_queries
from llmops_sentinel.adapters.events import Published
from llmops_sentinel.adapters.latency_store import ConfigSeen, StoredState
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.models.bus_events import SentinelDetail
from llmops_sentinel.models.latency import ConfirmRequest, ScheduledRun
from llmops_sentinel.services.latency_monitor import (
    MonitorDeps,
    MonitorSettings,
    _signals,
    backfill_seconds,
    confirm,
    error_rate,
    run_scheduled,
)

DAY = 86_400
START = 1_700_006_400.0  # a UTC midnight


BY_METRIC = {(q.metric, q.stat): q.id for q in latency_queries("ep", "AllTraffic")}


class FakeMetrics:
    """Per query id one minute-series; ``series`` returns what lies in [start, end)."""

    def __init__(self, data: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        self.data = data
        self.calls: list[tuple[float, float]] = []

    def series(self, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, Series]:
        a, b = start.timestamp(), end.timestamp()
        self.calls.append((a, b))
        out = {}
        for q in queries:  # batched calls rename queries (q0, q1, ...): find the series by metric and stat
            own = q.id if q.id in self.data else BY_METRIC.get((q.metric, q.stat), q.id)
            t, v = self.data.get(own, (np.empty(0), np.empty(0)))
            sel = (t >= a) & (t < b)
            out[q.id] = Series(timestamps=t[sel].tolist(), values=v[sel].tolist())
        return out


class FakeStore:
    def __init__(self) -> None:
        self.stored = StoredState()
        self.name = "table"
        self.ddb = None

    def load(self, endpoint: str, variant: str) -> StoredState:
        return self.stored

    def save(
        self,
        endpoint: str,
        variant: str,
        state_json: str,
        last_alarm_json: str | None,
        revision: int,
        now: float | None = None,
        signal_states: dict[str, str] | None = None,
        last_active: float | None = None,
        read_through: float | None = None,
    ) -> int:
        self.stored = StoredState(
            state_json=state_json,
            last_alarm_json=last_alarm_json,
            revision=revision + 1,
            signal_states=signal_states or {},
            last_active=last_active,
            read_through=read_through,
        )
        return revision + 1

    def config_history(self, endpoint: str, limit: int = 20) -> list[ConfigSeen]:
        return []


class FakeEndpoints:
    def describe(self, name: str) -> None:
        return None


class FakeBus:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, detail_type: str, details: list[dict[str, Any]]) -> Published:
        self.events.extend(details)
        return Published(sent=len(details), event_ids=[f"e{len(self.events)}"])

    def publish_detail(self, detail: SentinelDetail) -> Published:
        return self.publish(detail.DETAIL_TYPE, [detail.wire()])


def minutes(days: float, rng: np.random.Generator, level: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    t = START + 60.0 * np.arange(int(days * 1440))
    daily = 0.2 * np.sin(2 * np.pi * (t % DAY) / DAY)
    return t, np.exp(np.log(level) + daily + noise * rng.standard_normal(t.size))


def deps_for(data: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[MonitorDeps, FakeMetrics, FakeStore, FakeBus]:
    metrics, store, bus = FakeMetrics(data), FakeStore(), FakeBus()
    return (
        MonitorDeps(cast(Any, metrics), cast(Any, store), cast(Any, FakeEndpoints()), cast(Any, bus)),
        metrics,
        store,
        bus,
    )


def settings() -> MonitorSettings:
    return MonitorSettings(table_name="t", bus_name="b", endpoints=[{"endpoint_name": "ep"}], idle_policy=None)


def at(epoch: float) -> ScheduledRun:
    return ScheduledRun.model_validate(
        {"detail-type": "Scheduled Event", "source": "aws.events", "time": datetime.fromtimestamp(epoch, UTC)}
    )


def test_backfill_follows_getmetricdata_retention() -> None:
    assert backfill_seconds(1) == 3 * 3600
    assert backfill_seconds(60) == 15 * DAY
    assert backfill_seconds(300) == 63 * DAY
    assert backfill_seconds(3600) == 455 * DAY
    assert backfill_seconds(120) == 15 * DAY  # between standard periods: the shorter one's retention


def test_a_first_run_backfills_and_is_out_of_warm_up(rng: np.random.Generator) -> None:
    data = {"latency_p99": minutes(10, rng, 2e5, 0.05)}
    deps, metrics, _, bus = deps_for(data)
    now = START + 10 * DAY
    result = run_scheduled(at(now), settings(), deps)
    (run,) = result.endpoints
    start, _ = metrics.calls[0]
    assert start <= now - 14 * DAY  # 15 days of 1-minute data were asked for
    assert run.points == 10 * 1440 - 1 and not run.warming_up and not bus.events  # up to the settled minute
    assert run.signals["latency"].warming_up is False
    assert run.signals["ttft"].points == 0 and run.signals["ttft"].warming_up  # no TTFT series: idle
    # A three-day backfill (the old default) would still be warming up.
    short = MonitorSettings(**{**settings().model_dump(), "lookback_s": 2 * DAY})
    deps2, *_ = deps_for(data)
    (run2,) = run_scheduled(at(now), short, deps2).endpoints
    assert run2.warming_up


def test_tokens_per_second_drop_and_error_rate_rise_are_regressions_in_one_event(rng: np.random.Generator) -> None:
    t, lat = minutes(6, rng, 2e5, 0.05)
    _, tps = minutes(6, rng, 40.0, 0.05)
    inv = np.full(t.size, 600.0)
    err = rng.poisson(0.6, t.size).astype(float)  # 0.1 % errors
    onset = t.size - 20
    tps[onset:] *= 0.6  # tokens/s drops by 40 %
    err[onset:] = 60.0  # 10 % errors
    data = {"latency_p99": (t, lat), "tokens_per_s": (t, tps), "invocations": (t, inv), "errors_5xx": (t, err)}
    deps, _, store, bus = deps_for(data)
    run_scheduled(at(t[-1] + 120), settings(), deps)
    (event,) = bus.events
    assert event["signal"] in {"tokens_per_s", "error_rate"}
    signals = event["evidence"]["signals"]
    assert set(signals) == {"tokens_per_s", "error_rate"}
    assert signals["tokens_per_s"]["direction"] == "down" and signals["tokens_per_s"]["magnitude"] < -0.3
    assert signals["error_rate"]["direction"] == "up"
    assert set(store.stored.signal_states) == {"ttft", "tokens_per_s", "error_rate"}
    # The latency itself did not move: no latency episode in the event.
    assert "latency" not in signals


def test_a_latency_alarm_is_confirmed_by_a_ttft_regression(rng: np.random.Generator) -> None:
    t, lat = minutes(6, rng, 2e5, 0.05)
    _, ttft = minutes(6, rng, 300.0, 0.05)
    onset = t.size - 10
    ttft[onset:] *= 1.8
    deps, *_ = deps_for({"latency_p99": (t, lat), "ttft_p50": (t, ttft)})
    stamp = datetime.fromtimestamp(t[-1] + 60, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    answer = confirm(ConfirmRequest(endpoint_name="ep", alarm_name="p99", state_timestamp=stamp), settings(), deps)
    assert answer.confirmed and answer.signal == "ttft"
    assert answer.evidence["signals"]["ttft"]["magnitude"] > 0.5


def test_error_rate_joins_on_timestamps_and_skips_idle_periods() -> None:
    errors = Series(timestamps=[60.0, 180.0], values=[3.0, 1.0])
    calls = Series(timestamps=[60.0, 120.0, 180.0, 240.0], values=[100.0, 50.0, 0.0, 10.0])
    rate = error_rate(errors, calls)
    assert rate.timestamps == [60.0, 120.0, 240.0]
    assert rate.values == [0.03, 0.0, 0.0]


def test_unknown_signal_is_a_config_error() -> None:
    assert _signals("") == ["latency", "ttft", "tokens_per_s", "error_rate"]
    assert _signals("error_rate") == ["latency", "error_rate"]
    with pytest.raises(ConfigError, match="unknown signal"):
        _signals("latency,gpu")


def test_one_failing_endpoint_does_not_blind_the_others(rng: np.random.Generator) -> None:
    """A CloudWatch error on one endpoint is that endpoint's result; the next endpoint is still checked."""
    from botocore.exceptions import ClientError

    data = {"latency_p99": minutes(2, rng, 2e5, 0.05)}
    deps, metrics, _, _ = deps_for(data)
    healthy = metrics.series

    def series(queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, Series]:
        if any(q.dimensions.get("EndpointName") == "broken" for q in queries):
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "boom"}}, "GetMetricData")
        return healthy(queries, start, end)

    metrics.series = series  # type: ignore[method-assign]
    two = MonitorSettings(
        table_name="t", bus_name="b", idle_policy=None,
        endpoints=[{"endpoint_name": "broken"}, {"endpoint_name": "ep"}],
    )  # fmt: skip
    result = run_scheduled(at(START + 2 * DAY), two, deps)
    by_name = {r.endpoint_name: r for r in result.endpoints}
    assert by_name["broken"].status == "error" and "ClientError" in (by_name["broken"].reason or "")
    assert by_name["ep"].status == "ok" and by_name["ep"].points > 0

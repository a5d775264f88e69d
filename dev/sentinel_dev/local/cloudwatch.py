"""``GetMetricData`` with percentiles for moto, which returns nothing for ``pNN`` (moto 5.2).

The latency monitor reads ``ModelLatency`` p99 through GetMetricData. moto computes only the five
basic statistics there (and filters by dimensions without the namespace, scanning every stored point
once per period). This replaces moto's ``get_metric_data`` for requests made only of ``MetricStat``
queries: points are grouped once by namespace, name and exact dimension set (CloudWatch matches the
full set), bucketed into periods aligned to multiples of the period from the epoch, and each bucket
gets ``Average``/``Sum``/``Minimum``/``Maximum``/``SampleCount`` or a ``pNN`` computed exactly on the
raw values (CloudWatch's own percentiles are sketch approximations). Aggregated points
(``StatisticValues``) count in the basic statistics and are skipped for percentiles, which they cannot
give. ``Unit`` filters as in moto; ``ScanBy`` orders the timestamps. Requests with metric-math or
Metrics Insights expressions go to moto's implementation unchanged.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, MetricDatum

from sentinel_dev.local.alarms import statistic

_INSTALLED = "_sentinel_get_metric_data"
_ORIGINAL: Any = CloudWatchBackend.get_metric_data


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def percentile(ordered: list[float], p: float) -> float:
    """numpy's default (linear) percentile of ascending values, computed the way ``np.percentile`` does
    (same virtual index and the same two-sided interpolation, so the same float), without numpy's
    per-call overhead: a fleet's latency run asks for thousands of one-minute buckets of a few values."""
    n = len(ordered)
    virtual = (p / 100.0) * (n - 1)
    below = math.floor(virtual)
    above = min(below + 1, n - 1)
    gamma = virtual - below
    a, b = ordered[below], ordered[above]
    diff = b - a
    return b - diff * (1.0 - gamma) if gamma >= 0.5 else a + diff * gamma


def _bucket_stat(points: list[Any], stat: str) -> float | None:
    raw = [float(p.value) for p in points if isinstance(p, MetricDatum)]
    if stat.startswith("p"):
        return percentile(sorted(raw), float(stat[1:])) if raw else None
    agg = [p for p in points if isinstance(p, MetricAggregatedDatum)]
    if not agg:  # the common case: raw values only, as np.float64 sums them (pairwise) for Sum/Average
        if not raw:
            return None
        if stat in {"Sum", "Average"}:
            return statistic(np.asarray(raw, dtype=np.float64), stat)
        by_raw: dict[str, Callable[[], float]] = {
            "SampleCount": lambda: float(len(raw)),
            "Minimum": lambda: min(raw),
            "Maximum": lambda: max(raw),
        }
        if stat not in by_raw:
            raise ValueError(f"statistic {stat!r} is not computed locally")
        return by_raw[stat]()
    values = np.asarray(raw, dtype=np.float64)
    count = values.size + sum(float(p.sample_count) for p in agg)
    total = float(values.sum()) + sum(float(p.sum) for p in agg)
    lows = [float(values.min())] if values.size else []
    highs = [float(values.max())] if values.size else []
    by_stat: dict[str, Callable[[], float]] = {
        "SampleCount": lambda: float(count),
        "Sum": lambda: total,
        "Average": lambda: total / count,
        "Minimum": lambda: min(lows + [float(p.min) for p in agg]),
        "Maximum": lambda: max(highs + [float(p.max) for p in agg]),
    }
    if stat not in by_stat:
        raise ValueError(f"statistic {stat!r} is not computed locally")
    return float(by_stat[stat]())


_Key = tuple[str, str, frozenset[tuple[str, str]]]


class _Series:
    """One series' points in time order (epoch seconds beside them, for bisecting a time range)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.points: list[Any] = []

    def add(self, moment: float, point: Any) -> None:
        at = bisect.bisect_right(self.times, moment)  # points mostly arrive in order: at == len, O(1)
        self.times.insert(at, moment)
        self.points.insert(at, point)

    def between(self, start: float, end: float) -> list[tuple[float, Any]]:
        lo, hi = bisect.bisect_left(self.times, start), bisect.bisect_left(self.times, end)
        return list(zip(self.times[lo:hi], self.points[lo:hi], strict=True))


class _Index:
    """One backend's points by namespace, name and exact dimension set, with their epoch times.

    moto only appends to ``metric_data`` and ``aws_metric_data`` (a reset makes a new backend), so the
    index keeps how far it has read each list and adds only the new points: a fleet's latency run
    makes calls while metrics are being published, and rescanning every stored point per call made
    500 endpoints quadratic.
    """

    def __init__(self, backend: CloudWatchBackend) -> None:
        self.backend = backend
        self._clear()

    def _clear(self) -> None:
        self.seen = {"metric_data": 0, "aws_metric_data": 0}
        self.groups: dict[_Key, _Series] = defaultdict(_Series)

    def refresh(self) -> dict[_Key, _Series]:
        if any(len(getattr(self.backend, attr)) < done for attr, done in self.seen.items()):
            self._clear()  # not append-only after all: start over
        for attr, done in self.seen.items():
            points = getattr(self.backend, attr)
            for point in points[done:]:
                key = (point.namespace, point.name, frozenset((str(d.name), str(d.value)) for d in point.dimensions))
                self.groups[key].add(_epoch(point.timestamp), point)
            self.seen[attr] = len(points)
        return self.groups


_INDEX: dict[int, _Index] = {}
_INDEX_LOCK = threading.RLock()  # moto's server serves each request on its own thread


def _groups(backend: CloudWatchBackend) -> dict[_Key, _Series]:
    with _INDEX_LOCK:
        index = _INDEX.get(id(backend))
        if index is None or index.backend is not backend:
            _INDEX.clear()  # one backend at a time is enough (a new cloud's backend replaces the old one)
            index = _INDEX[id(backend)] = _Index(backend)
        return index.refresh()


def _validate_range(start_time: datetime, end_time: datetime) -> None:
    """moto's checks of the time range (its implementation also filters every stored point first)."""
    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")


def get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    if any("MetricStat" not in q for q in queries):
        return _ORIGINAL(self, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
    _validate_range(start_time, end_time)
    start, end = _epoch(start_time.replace(microsecond=0)), _epoch(end_time.replace(microsecond=0))
    with _INDEX_LOCK:  # a concurrent PutMetricData may be adding to the series being read
        return _results(_groups(self), queries, start, end, scan_by)


def _results(
    groups: dict[_Key, _Series], queries: list[dict[str, Any]], start: float, end: float, scan_by: str
) -> list[dict[str, Any]]:
    results = []
    for query in queries:
        stat_spec = query["MetricStat"]
        metric = stat_spec["Metric"]
        period = int(stat_spec["Period"])
        dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
        unit = stat_spec.get("Unit")
        buckets: dict[int, list[Any]] = defaultdict(list)
        series = groups.get((metric["Namespace"], metric["MetricName"], dims))
        for moment, point in series.between(start, end) if series is not None else []:
            if unit and point.unit != unit:
                continue
            buckets[int(moment // period) * period].append(point)
        stamps, values = [], []
        for slot in sorted(buckets, reverse=scan_by == "TimestampDescending"):
            value = _bucket_stat(buckets[slot], stat_spec["Stat"])
            if value is not None:
                stamps.append(datetime.fromtimestamp(slot, UTC))
                values.append(value)
        if query.get("ReturnData", True):
            results.append(
                {
                    "id": query["Id"],
                    "label": query.get("Label") or f"{metric['MetricName']} {stat_spec['Stat']}",
                    "values": values,
                    "timestamps": stamps,
                    "status_code": "Complete",
                }
            )
    return results


def install() -> None:
    if getattr(CloudWatchBackend, _INSTALLED, False):
        return
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
    setattr(CloudWatchBackend, _INSTALLED, True)

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

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, MetricDatum

from sentinel_dev.local.alarms import statistic

_INSTALLED = "_sentinel_get_metric_data"
_ORIGINAL: Any = CloudWatchBackend.get_metric_data


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _bucket_stat(points: list[Any], stat: str) -> float | None:
    raw = np.asarray([p.value for p in points if isinstance(p, MetricDatum)], dtype=np.float64)
    if stat.startswith("p"):
        return statistic(raw, stat) if raw.size else None
    agg = [p for p in points if isinstance(p, MetricAggregatedDatum)]
    count = raw.size + sum(float(p.sample_count) for p in agg)
    if not count:
        return None
    total = float(raw.sum()) + sum(float(p.sum) for p in agg)
    lows = [float(raw.min())] if raw.size else []
    highs = [float(raw.max())] if raw.size else []
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
_INDEX: dict[int, tuple[CloudWatchBackend, tuple[int, int], dict[_Key, list[tuple[float, Any]]]]] = {}


def _groups(backend: CloudWatchBackend) -> dict[_Key, list[tuple[float, Any]]]:
    """The backend's points by namespace, name and exact dimension set, with their epoch times.

    Built once and kept until points are added (moto only appends to its lists; a reset makes a new
    backend): a fleet's latency run makes one call per endpoint, and scanning every stored point per
    call made 500 endpoints quadratic.
    """
    size = (len(backend.metric_data), len(backend.aws_metric_data))
    cached = _INDEX.get(id(backend))
    if cached is not None and cached[0] is backend and cached[1] == size:
        return cached[2]
    groups: dict[_Key, list[tuple[float, Any]]] = defaultdict(list)
    for point in backend.get_all_metrics():
        key = (point.namespace, point.name, frozenset((str(d.name), str(d.value)) for d in point.dimensions))
        groups[key].append((_epoch(point.timestamp), point))
    _INDEX.clear()  # one backend at a time is enough (a new cloud's backend replaces the old one)
    _INDEX[id(backend)] = (backend, size, groups)
    return groups


def get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    if any("MetricStat" not in q for q in queries):
        return _ORIGINAL(self, queries, start_time, end_time, scan_by)  # type: ignore[no-any-return]
    _ORIGINAL(self, [], start_time, end_time, scan_by)  # moto's validation of the time range
    start, end = _epoch(start_time.replace(microsecond=0)), _epoch(end_time.replace(microsecond=0))
    groups = _groups(self)
    results = []
    for query in queries:
        stat_spec = query["MetricStat"]
        metric = stat_spec["Metric"]
        period = int(stat_spec["Period"])
        dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
        unit = stat_spec.get("Unit")
        buckets: dict[int, list[Any]] = defaultdict(list)
        for moment, point in groups.get((metric["Namespace"], metric["MetricName"], dims), []):
            if not start <= moment < end or (unit and point.unit != unit):
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

"""The local cloud's GetMetricData statistics: the same floats as numpy/``alarms.statistic``, and a time
range read from the index is the same as filtering every point."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pytest
from moto.cloudwatch.models import MetricDatum

from sentinel_dev.local.alarms import statistic
from sentinel_dev.local.cloudwatch import _bucket_stat, _Series, percentile


@pytest.mark.parametrize("size", [1, 2, 3, 7, 10, 11, 60, 101])
@pytest.mark.parametrize("p", [0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0])
def test_percentile_is_numpys(size: int, p: float) -> None:
    rng = np.random.default_rng(size * 1000 + int(p * 10))
    for _ in range(20):
        values = rng.lognormal(13.0, 0.4, size=size)
        assert percentile(sorted(values.tolist()), p) == float(np.percentile(values, p))


@pytest.mark.parametrize("stat", ["Average", "Sum", "Minimum", "Maximum", "SampleCount", "p99", "p50"])
def test_bucket_stats_are_the_alarm_evaluators(stat: str) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(500.0, 80.0, size=13)
    points = [MetricDatum("AWS/SageMaker", "ModelLatency", float(v), [], datetime.now(UTC)) for v in values]
    assert _bucket_stat(points, stat) == statistic(values, stat)


def test_bucket_without_points_has_no_value() -> None:
    assert _bucket_stat([], "p99") is None
    assert _bucket_stat([], "Sum") is None


def test_series_range_equals_a_full_scan() -> None:
    rng = np.random.default_rng(11)
    moments = rng.uniform(0, 3600, size=500).round(0)  # out of order, with ties
    series = _Series()
    for i, moment in enumerate(moments):
        series.add(float(moment), SimpleNamespace(i=i))
    assert series.times == sorted(series.times)
    for start, end in [(0.0, 3600.0), (600.0, 660.0), (1234.0, 1234.0), (3599.0, 4000.0), (-5.0, 0.0)]:
        got = sorted(point.i for _, point in series.between(start, end))
        assert got == sorted(i for i, m in enumerate(moments) if start <= m < end)

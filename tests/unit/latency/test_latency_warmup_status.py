"""No blind warm-up: the detector says when it is warming up, and a fresh one raises no false
regression on clean diurnal data in its first three days (5 seeds x 3 daily swings)."""

from __future__ import annotations

import numpy as np
import pytest

from llmops_sentinel.domain.latency import LatencyDetector, LatencyParams, detect
from tests.unit.latency.latency_series import DAY, series


@pytest.mark.parametrize("swing", [0.1, 0.25, 0.4])
def test_clean_diurnal_first_three_days_raise_no_regression_and_report_warming_up(swing: float) -> None:
    for seed in range(5):
        rng = np.random.default_rng([20261203, seed, round(swing * 100)])
        ts, vs = series(rng, 4 * DAY, noise=0.05, daily_amplitude=swing)
        result = detect(ts, vs)
        first3 = [a for a in result.alarm_records if a.detected_index < 3 * DAY]
        assert first3 == [], f"seed {seed}, swing {swing}: {first3}"
        # Warming up until the daily profile is trusted (three days), then not any more.
        assert result.warming_up[: 3 * DAY - 1].all()
        assert not result.warming_up[3 * DAY + 1 :].any()


def test_warming_up_is_reported_by_the_streaming_detector_and_survives_a_state_round_trip(
    rng: np.random.Generator,
) -> None:
    ts, vs = series(rng, 3 * DAY + 200, daily_amplitude=0.2)
    det = LatencyDetector()
    first = det.update(ts[:10], vs[:10])
    assert first.warming_up.all() and det.warming_up  # no score yet: warming up, not "fine"
    det.update(ts[10 : 3 * DAY], vs[10 : 3 * DAY])
    assert det.warming_up
    resumed = LatencyDetector.from_state(det.state())
    assert resumed.warming_up
    out = resumed.update(ts[3 * DAY :], vs[3 * DAY :])
    assert not out.warming_up[-1] and not resumed.warming_up


def test_without_seasons_warming_up_ends_once_the_windows_are_full(rng: np.random.Generator) -> None:
    ts, vs = series(rng, 1000)
    p = LatencyParams(seasons=(), warmup_trend=False)
    warm = detect(ts, vs, p).warming_up
    assert warm[: p.min_history].all()
    assert not warm[p.scale_window + p.scale_block + p.min_history :].any()

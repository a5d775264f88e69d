"""Warm-up uncertainty inflation and the scale (variance-burst) CUSUM."""

from __future__ import annotations

import math

import numpy as np

from llmops_sentinel.domain.latency import DetectorState, LatencyDetector, LatencyParams, detect
from tests.unit.latency.latency_series import DAY, series, with_step, with_variance_burst


def _inflation(det: LatencyDetector, n_level: int, half_w: int, step: int, n_diff: int) -> float:
    one = np.ones(1, dtype=np.int64)
    return float(det._inflation(one * n_level, one * half_w, one * step, one * n_diff)[0])


def test_inflation_is_exactly_one_in_the_steady_state_and_shrinks_as_windows_fill() -> None:
    det = LatencyDetector()
    p = det.params
    assert _inflation(det, p.level_window, 0, 5, p.scale_window) == 1.0
    early = [_inflation(det, n, 0, 0, n - 1) for n in (31, 63, 95, 120)]
    assert early == sorted(early, reverse=True) and early[0] > 1.3 and early[-1] > 1.0
    # a trend-extrapolated level is noisier than a plain median of the full window
    trend = _inflation(det, p.level_window, p.level_window // 2, 0, p.scale_window)
    assert 1.05 < trend < 1.3
    assert _inflation(det, p.level_window, p.level_window // 2, 15, p.scale_window) > trend
    off = LatencyDetector(LatencyParams(uncertainty_correction=False))
    assert _inflation(off, 31, 0, 0, 30) == 1.0


def test_first_days_of_a_daily_pattern_stay_quiet(rng: np.random.Generator) -> None:
    # Before a seasonal profile exists the pattern is a local trend; with the baseline's estimation
    # error accounted for, a steep +-25 % daily swing raises no alarm in its first three days.
    alarms = 0
    for _ in range(6):
        ts, vs = series(rng, 3 * DAY, noise=0.05, daily_amplitude=0.25)
        alarms += len(detect(ts, vs).alarm_records)
    assert alarms == 0


def test_scale_cusum_catches_a_variance_burst_quickly_and_ignores_spikes(rng: np.random.Generator) -> None:
    delays = []
    for _ in range(8):
        ts, vs = series(rng, 2000)
        burst = with_variance_burst(rng, vs, 1500, 200, ratio=4.0, noise=0.08)
        r = detect(ts, burst)
        assert not r.alarms[:1500].any()
        hits = [a for a in r.alarm_records if a.detected_index >= 1500]
        assert hits  # usually on "spread"; a large burst can push the level CUSUM over first
        delays.append(hits[0].detected_index - 1500)
    # Per-point evidence is capped at spread_h / 4 (heavy tails), which costs delay: median ~ 25 points.
    assert float(np.median(delays)) <= 30
    ts, vs = series(rng, 3000)
    spiky = vs.copy()
    spiky[rng.choice(np.arange(200, 3000), 30, replace=False)] *= 3.0
    assert not detect(ts, spiky).alarm_records


def test_scale_cusum_increment_is_the_half_normal_likelihood_ratio() -> None:
    det = LatencyDetector()
    r = det.params.spread_ratio
    z = 1.7
    llr = math.log(2 * math.exp(-((z / r) ** 2) / 2) / r) - math.log(2 * math.exp(-(z**2) / 2))
    assert math.isclose(det._scale_a + det._scale_b * z * z, llr)


def test_version_1_state_loads_with_spread_evidence_restarted(rng: np.random.Generator) -> None:
    ts, vs = series(rng, 600)
    det = LatencyDetector()
    det.update(ts[:500], with_step(vs, 450, 0.5)[:500])
    state = det.state()
    assert state.version == 3
    old = DetectorState.model_validate_json(state.model_copy(update={"version": 1}).model_dump_json())
    resumed = LatencyDetector.from_state(old)
    assert resumed.state().carry_spread == [0]
    assert resumed.state().carry_level == state.carry_level
    resumed.update(ts[500:], vs[500:])


def test_legacy_exceedance_statistic_still_available(rng: np.random.Generator) -> None:
    ts, vs = series(rng, 2000)
    burst = with_variance_burst(rng, vs, 1500, 200, ratio=4.0, noise=0.08)
    r = detect(ts, burst, LatencyParams(spread_statistic="exceedance"))
    assert not r.alarms[:1500].any() and any(a.detected_index >= 1500 for a in r.alarm_records)

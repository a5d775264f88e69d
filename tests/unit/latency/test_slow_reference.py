"""The slow-reference level CUSUM (``slow_level_window``): a creep the fast level follows is detected."""

from __future__ import annotations

import numpy as np

from llmops_sentinel.domain.latency import DetectorState, LatencyDetector, LatencyParams, detect

from .latency_series import DAY, series, with_ramp


def _slow_ramp(seed: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Six days at log-noise 0.12 with a daily swing; +50 % over 4 h from day 4.5 (the bench's slowest)."""
    rng = np.random.default_rng([20240501, seed])
    ts, vs = series(rng, 6 * DAY, noise=0.12, daily_amplitude=0.2)
    at, rise = int(4.5 * DAY), 240
    cross30 = at + int(np.ceil(np.log(1.3) / np.log(1.5) * rise))
    return ts, with_ramp(vs, at, 0.5, rise), at, cross30


def _delay(ts: np.ndarray, vs: np.ndarray, at: int, cross30: int, params: LatencyParams) -> int | None:
    r = detect(ts, vs, params)
    late = [a.detected_index for a in r.alarm_records if a.detected_index >= at]
    return late[0] - cross30 if late else None


def test_slow_ramp_detected_by_the_time_it_reaches_30_percent() -> None:
    with_slow, without = [], []
    for seed in range(8):
        ts, vs, at, cross30 = _slow_ramp(seed)
        with_slow.append(_delay(ts, vs, at, cross30, LatencyParams()))
        without.append(_delay(ts, vs, at, cross30, LatencyParams(slow_level_window=0)))
    # Every ramp is caught within 5 points of reaching +30 % with the slow reference ...
    assert all(d is not None and d <= 5 for d in with_slow), with_slow
    # ... while the fast level alone follows the creep and misses or is late on several.
    assert sum(1 for d in without if d is None or d > 5) >= 3, without


def test_slow_reference_needs_a_season_and_a_full_window() -> None:
    # Two days (no trusted season): the slow reference is off, scores equal the detector without it.
    rng = np.random.default_rng(7)
    ts, vs = series(rng, 2 * DAY, noise=0.12, daily_amplitude=0.2)
    vs = with_ramp(vs, DAY + 300, 0.5, 240)
    a, b = detect(ts, vs, LatencyParams()), detect(ts, vs, LatencyParams(slow_level_window=0))
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.alarms, b.alarms)


def test_slow_reference_is_chunking_invariant_and_resumes_from_state() -> None:
    ts, vs, _, _ = _slow_ramp(3)
    whole = detect(ts, vs, LatencyParams())
    det = LatencyDetector(LatencyParams())
    scores, alarms = [], []
    rng = np.random.default_rng(11)
    lo = 0
    while lo < ts.size:
        hi = min(ts.size, lo + int(rng.integers(1, 900)))
        out = det.update(ts[lo:hi], vs[lo:hi])
        scores.append(out.scores)
        alarms.append(out.alarms)
        det = LatencyDetector.from_state(DetectorState.model_validate_json(det.state().model_dump_json()))
        lo = hi
    assert np.array_equal(np.concatenate(scores), whole.scores)
    assert np.array_equal(np.concatenate(alarms), whole.alarms)


def test_a_state_without_the_slow_carry_still_loads() -> None:
    ts, vs, _, _ = _slow_ramp(1)
    det = LatencyDetector(LatencyParams())
    det.update(ts[:5000], vs[:5000])
    blob = det.state().model_dump(mode="json")
    blob.pop("carry_slow")
    resumed = LatencyDetector.from_state(DetectorState.model_validate(blob))
    assert resumed.update(ts[5000:], vs[5000:]).scores.size == ts.size - 5000

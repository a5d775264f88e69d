"""A large step's first point is held as a spike (z > spike_z) until the next confirms it; the onset
estimate must still be that first point (the router's cause windows start at the onset)."""

from __future__ import annotations

import numpy as np

from llmops_sentinel.domain.latency import LatencyParams, detect


def test_onset_of_a_large_step_is_its_first_point() -> None:
    rng = np.random.default_rng(3)
    n, at = 300, 200
    t = np.arange(n, dtype=np.float64) * 60.0
    v = np.exp(rng.normal(0.0, 0.05, n)) * 800_000.0
    v[at:] *= 3.0  # z of about 20: the first point is held
    result = detect(t, v, LatencyParams(expected_interval_s=60))
    (record,) = result.alarm_records
    assert record.onset == t[at]
    # the held point, then level_min_points = 4 points of capped evidence (h / 4 each): within 5 points
    assert record.detected_index - record.onset_index <= LatencyParams().level_min_points


def test_onset_of_a_moderate_step_is_unchanged_by_the_tie_rule() -> None:
    rng = np.random.default_rng(4)
    n, at = 300, 200
    t = np.arange(n, dtype=np.float64) * 60.0
    v = np.exp(rng.normal(0.0, 0.08, n)) * 800_000.0
    v[at:] *= 1.4
    (record,) = detect(t, v, LatencyParams(expected_interval_s=60)).alarm_records
    assert abs(record.onset - t[at]) <= 2 * 60.0

"""Modes, the calibrated score and the autocorrelation-robust scale of the latency detector."""

from __future__ import annotations

import numpy as np

from llmops_sentinel.domain.latency import LatencyDetector, LatencyParams, detect
from tests.unit.latency.latency_series import series, with_step

FLAT = {"seasons": (), "warmup_trend": False}


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = rng.standard_normal(n) * sd * np.sqrt(1 - phi**2)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def test_score_rises_at_a_shift_then_falls_back_once_absorbed(rng: np.random.Generator) -> None:
    ts, vs = series(rng, 1500)
    r = detect(ts, with_step(vs, 1000, 0.6), LatencyParams(**FLAT))
    (alarm,) = r.alarm_records
    assert 1000 <= alarm.detected_index <= 1005
    assert r.scores[alarm.detected_index] >= 0.5 and r.alarms[alarm.detected_index]
    after = r.scores[alarm.detected_index + 1 : alarm.detected_index + 200]
    assert after.max() < 0.5  # the new level is the new normal: no plateau at 1
    assert not r.alarms[alarm.detected_index + 100 :].any()
    assert ((r.scores >= 0.5) == (r.alarms & (r.scores >= 0.5))).all()  # >= 0.5 only where it alarms
    assert ((r.scores >= 0) & (r.scores <= 1)).all()


def test_score_is_calibrated_by_the_series_own_history(rng: np.random.Generator) -> None:
    # Noise-level evidence that recurs scores lower and lower; the same evidence on a quiet series higher.
    ts, vs = series(rng, 6000)
    r = detect(ts, vs, LatencyParams(**FLAT))
    below = r.scores[r.scores < 0.5]
    assert below.max() < 0.5
    # With p = share of earlier points with at least as much evidence, about 1 % of points score >= 0.495.
    assert np.mean(r.scores > 0.495) < 0.02


def test_anomaly_mode_sees_drops_and_regression_mode_does_not(rng: np.random.Generator) -> None:
    ts, vs = series(rng, 1500)
    dropped = with_step(vs, 1000, -0.4)
    assert not detect(ts, dropped, LatencyParams(**FLAT)).alarm_records
    (down,) = detect(ts, dropped, LatencyParams.for_mode("anomaly", **FLAT)).alarm_records[:1]
    assert down.direction == "down" and down.magnitude < -0.3 and 1000 <= down.detected_index <= 1006
    # A throughput metric: a drop is the regression.
    (slow,) = detect(ts, dropped, LatencyParams(higher_is_worse=False, **FLAT)).alarm_records
    assert slow.direction == "down" and 1000 <= slow.detected_index <= 1006


def test_linear_transform_accepts_zero_and_negative_values(rng: np.random.Generator) -> None:
    ts = 60.0 * np.arange(800)
    vs = rng.normal(0.0, 1.0, 800)
    vs[600:] += 5.0
    r = detect(ts, vs, LatencyParams.for_mode("anomaly", **FLAT))
    assert r.counts["invalid"] == 0
    assert r.alarm_records and 600 <= r.alarm_records[0].detected_index <= 606
    assert detect(ts, vs, LatencyParams(**FLAT)).counts["invalid"] > 250  # log: values <= 0 rejected (about 300)


def test_autocorrelated_noise_raises_few_false_alarms_only_with_the_correction(rng: np.random.Generator) -> None:
    on = off = 0
    for _ in range(4):
        x = ar1(rng, 6000, 0.8, 0.1)
        ts = 60.0 * np.arange(x.size)
        on += len(detect(ts, np.exp(x + 5), LatencyParams(**FLAT)).alarm_records)
        off += len(detect(ts, np.exp(x + 5), LatencyParams(autocorrelation_correction=False, **FLAT)).alarm_records)
    assert on <= 2 < off  # 24,000 points: <= 1 per 10k with the AR(1) correction


def test_heavy_tailed_noise_stays_quiet(rng: np.random.Generator) -> None:
    alarms = 0
    for _ in range(4):
        x = 0.05 * rng.standard_t(3, 6000)
        ts = 60.0 * np.arange(x.size)
        alarms += len(detect(ts, np.exp(x + 5), LatencyParams(**FLAT)).alarm_records)
    assert alarms <= 2


def test_streaming_with_rebases_equals_batch_and_state_round_trips(rng: np.random.Generator) -> None:
    ts, vs = series(rng, 3000)
    vs = with_step(with_step(vs, 900, 0.5), 2000, 0.8)
    p = LatencyParams.for_mode("anomaly", **FLAT)
    batch = detect(ts, vs, p)
    assert len(batch.alarm_records) >= 2
    det = LatencyDetector(p)
    parts = []
    for lo in range(0, ts.size, 337):
        det = LatencyDetector.from_state(type(det.state()).model_validate_json(det.state().model_dump_json()))
        parts.append(det.update(ts[lo : lo + 337], vs[lo : lo + 337]))
    assert np.array_equal(np.concatenate([u.scores for u in parts]), batch.scores)
    assert np.array_equal(np.concatenate([u.alarms for u in parts]), batch.alarms)
    assert np.array_equal(np.concatenate([u.warming_up for u in parts]), batch.warming_up)
    assert [a for u in parts for a in u.new_alarms] == batch.alarm_records

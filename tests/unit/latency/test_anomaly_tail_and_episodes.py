"""Anomaly mode's score tail (Hill), its noise-scale floor, escalation and episodes merged by crossing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from llmops_sentinel.domain.latency import LatencyParams, detect
from llmops_sentinel.domain.latency.detector import hill_tail
from llmops_sentinel.domain.latency.robust import L1_TO_SD, nan_window_means

FLAT = {"seasons": (), "warmup_trend": False}
START = 1_700_006_400.0


def test_hill_tail_is_the_exponential_mle_of_log_excesses(rng: np.random.Generator) -> None:
    top = stats.pareto.rvs(1.7, size=11, random_state=rng)
    u = top.min()
    excess = np.log(np.sort(top)[1:] / u)
    _, beta = stats.expon.fit(excess, floc=0)
    r, n = 3.0 * top.max(), 5000.0
    assert hill_tail(top, r, n) == pytest.approx(10 / n * stats.expon.sf(np.log(r / u), scale=beta), rel=1e-12)
    assert hill_tail(top, u, n) == pytest.approx(10 / n)  # at the threshold: the empirical m / n


def test_hill_tail_recovers_a_pareto_tail_far_past_the_sample(rng: np.random.Generator) -> None:
    alpha, n, m = 2.0, 200_000, 2_000
    x = stats.pareto.rvs(alpha, size=n, random_state=rng)
    top = np.sort(x)[-(m + 1) :]
    r = float(stats.pareto.isf(1e-7, alpha))  # 50x rarer than the sample's largest value
    # beta has relative standard error 1/sqrt(m); log p scales with log(r/u)/beta (11.5 here).
    se_log_p = np.log(r / top[0]) * alpha / np.sqrt(m)  # the empirical share would say 1/n (40x off)
    assert abs(np.log(hill_tail(top, r, float(n)) / 1e-7)) < 3 * se_log_p
    assert abs(np.log(hill_tail(top, r, float(n)) / 1e-7)) < 0.5 * np.log((1.0 / n) / 1e-7)


def test_l1_floor_is_sigma_for_normal_noise_and_window_means_match_numpy(rng: np.random.Generator) -> None:
    sigma = 2.5
    assert L1_TO_SD * stats.halfnorm.mean(scale=sigma) == pytest.approx(sigma, rel=1e-12)
    a = np.abs(rng.normal(0, sigma, 2000))
    a[rng.random(a.size) < 0.1] = np.nan
    ends = np.array([5, 40, 300, 1999, 2000])
    got = nan_window_means(a, ends, 240, 30, 20)
    for e, g in zip(ends.tolist(), got.tolist(), strict=True):
        seg = a[max(20, e - 240) : e]
        seg = seg[np.isfinite(seg)]
        assert (np.isnan(g) and seg.size < 30) or g == pytest.approx(seg.mean(), rel=1e-12)
    assert L1_TO_SD * got[-1] == pytest.approx(sigma, rel=0.15)
    # A window's mean depends on the window alone (bit for bit): a resumed detector stores a shorter
    # residual history, so what lies before the window must not change the rounding.
    cut = a.copy()
    cut[: ends[-2] - 240] = np.nan
    np.testing.assert_array_equal(nan_window_means(cut, ends[-2:], 240, 30, 20), got[-2:])


def _flat(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return START + 60.0 * np.arange(n), 100.0 + rng.standard_normal(n)


@pytest.mark.parametrize("escalation", [True, False])
def test_a_weak_onset_does_not_hide_the_large_spike_after_it(rng: np.random.Generator, escalation: bool) -> None:
    ts, vs = _flat(rng, 1500)
    vs[1000] = 105.0  # just past spike_z = 4: a weak onset
    vs[1010] = 160.0  # the real event, inside the same episode
    r = detect(ts, vs, LatencyParams.for_mode("anomaly", episode_escalation=escalation, **FLAT))
    assert [a.detected_index for a in r.alarm_records if 990 <= a.detected_index <= 1020] == [1000]
    assert r.scores[1000] >= 0.5
    assert bool(r.scores[1010] >= 0.5) is escalation
    assert r.scores[1010] > r.scores[1000] or not escalation


@pytest.mark.parametrize(("second", "high"), [(107.5, False), (112.0, True)])
def test_a_spike_escalates_when_its_deviation_doubles(rng: np.random.Generator, second: float, high: bool) -> None:
    # Spike evidence is |z| / spike_z (linear, like the level CUSUM's S / h): after an onset at z ~ 5, a
    # spike at z ~ 7.5 (1.5 times: 2.25 times if squared) is the same event; one at z ~ 12 escalates.
    ts, vs = _flat(rng, 1500)
    vs[1000] = 105.0
    vs[1010] = second
    r = detect(ts, vs, LatencyParams.for_mode("anomaly", **FLAT))
    assert r.scores[1000] >= 0.5
    assert bool(r.scores[1010] >= 0.5) is high
    assert r.scores[1010] > 0.4  # a crossing either way (its rarity alone when not high)


def test_a_burst_of_spikes_is_one_alarm_episode(rng: np.random.Generator) -> None:
    ts, vs = _flat(rng, 1500)
    vs[1000:1100:10] = 112.0  # ten equal spikes, 10 points apart (< alarm_merge)
    r = detect(ts, vs, LatencyParams.for_mode("anomaly", **FLAT))
    edges = np.flatnonzero(r.alarms & ~np.concatenate(([False], r.alarms[:-1])))
    assert edges[(edges >= 990) & (edges < 1200)].tolist() == [1000]
    assert r.alarms[1000:1091].all() and not r.alarms[1150:].any()
    assert np.flatnonzero(r.scores[990:1200] >= 0.5).tolist() == [10]  # one high point per event

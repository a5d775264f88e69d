"""The L1 scale floor's window means must not depend on how much history precedes the window."""

from __future__ import annotations

import numpy as np

from llmops_sentinel.domain.latency.robust import nan_window_means


def test_window_means_do_not_depend_on_the_history_before_the_window() -> None:
    # A chunked detector keeps only the last few hundred residuals; the batch one sees them all. A mean
    # taken as a difference of running sums rounds differently in the two cases (scores then differ
    # by an ulp between batch and chunked feeding); each window summed on its own does not.
    rng = np.random.default_rng(7)
    a = np.abs(rng.standard_t(3, 5000)) * 1e3
    a[rng.random(a.size) < 0.05] = np.nan
    ends = np.arange(1000, 5001, 64)
    whole = nan_window_means(a, ends, 240, 8, 0)
    for cut in (1, 333, 700):
        tail = nan_window_means(a[cut:], ends - cut, 240, 8, 0)
        assert np.array_equal(whole, tail)
    expected = [np.nanmean(a[e - 240 : e]) for e in ends.tolist()]
    assert np.allclose(whole, expected, rtol=1e-12)


def test_window_means_respect_first_and_min_count() -> None:
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0, np.nan, 7.0])
    out = nan_window_means(a, np.array([3, 5, 7]), 4, 2, 1)
    assert np.isnan(out[0])
    assert out[1] == (2.0 + 4.0 + 5.0) / 3.0
    assert out[2] == (4.0 + 5.0 + 7.0) / 3.0

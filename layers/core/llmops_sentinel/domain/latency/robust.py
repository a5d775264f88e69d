"""Vectorised building blocks: sliding minimum and row-wise robust statistics."""

from __future__ import annotations

import numpy as np

from llmops_sentinel.domain.latency.models import FloatArray, IntArray

#: MAD of a standard normal is 1/1.4826; successive differences of iid noise have sd sigma*sqrt(2).
MAD_TO_SD = 1.4826
#: The 90th percentile of |N(0, 1)| is 1.6449: q90(|r|) / 1.6449 estimates sigma from the tail.
Q90_TO_SD = 1.0 / 1.6448536
#: E|N(0, sigma)| = sigma sqrt(2/pi): the mean absolute deviation times sqrt(pi/2) estimates sigma.
L1_TO_SD = float(np.sqrt(np.pi / 2.0))
DIFF_MAD_TO_SD = MAD_TO_SD / float(np.sqrt(2.0))
INT_BIG = np.iinfo(np.int64).max


def sliding_min(a: IntArray, m: int) -> IntArray:
    """``out[i] = min(a[i:i+m])`` for every full window, in O(n) (van Herk / Gil-Werman)."""
    n = int(a.size)
    if n < m:
        return np.empty(0, dtype=np.int64)
    nb = -(-n // m)
    padded = np.full(nb * m, INT_BIG, dtype=np.int64)
    padded[:n] = a
    blocks = padded.reshape(nb, m)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[: n - m + 1], prefix[m - 1 : n])


def window_medians(a: FloatArray, ends: IntArray, width: int, min_count: int) -> FloatArray:
    """Median of ``a[max(0, e - width):e]`` for each end ``e``; NaN where fewer than ``min_count``."""
    out = np.full(ends.size, np.nan)
    full = ends >= width
    if full.any():
        view = np.lib.stride_tricks.sliding_window_view(a, width)
        out[full] = np.median(view[ends[full] - width], axis=1)
    for j in np.flatnonzero(~full & (ends >= min_count)):
        out[j] = np.median(a[: ends[j]])
    return out


def nan_window_quantiles(
    a: FloatArray, ends: IntArray, width: int, min_count: int, first: int, qs: tuple[float, ...]
) -> FloatArray:
    """Quantiles ``qs`` of the finite values of ``a[max(first, e - width):e]`` per end (rows); NaN rows
    where fewer than ``min_count``."""
    out = np.full((ends.size, len(qs)), np.nan)
    finite = np.isfinite(a)
    csum = np.concatenate(([0], np.cumsum(finite)))
    for j, e in enumerate(ends.tolist()):
        lo = max(first, e - width)
        if csum[e] - csum[lo] >= min_count:
            seg = a[lo:e]
            out[j] = np.quantile(seg[np.isfinite(seg)], qs)
    return out


def nan_window_means(a: FloatArray, ends: IntArray, width: int, min_count: int, first: int) -> FloatArray:
    """Mean of the finite values of ``a[max(first, e - width):e]`` per end; NaN where fewer than
    ``min_count``.

    Each window is summed on its own (O(width) per end), not as a difference of float prefix sums:
    those carry the rounding of every value before the window, so a resumed detector (whose stored
    residual history is shorter) would get a mean a few ulps off and scores that are not bit-identical.
    """
    finite = np.isfinite(a)
    csum = np.concatenate(([0], np.cumsum(finite)))
    out = np.full(ends.size, np.nan)
    for j, e in enumerate(ends.tolist()):
        lo = max(first, e - width)
        if csum[e] - csum[lo] >= min_count:
            seg = a[lo:e]
            out[j] = float(np.mean(seg[np.isfinite(seg)]))
    return out

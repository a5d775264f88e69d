"""The pure-Python kolmogorov and chdtrc against scipy.special (scipy is a test dependency only).

Relative 1e-12 over each function's domain: kolmogorov for y in (0, 30] wherever scipy's value is a
normal double (>= 1e-300); chdtrc for 1 <= v <= 1000 degrees of freedom and x from 1e-8 into the tail
wherever scipy's value is >= 1e-100. Deeper in the chi-square tail, and above 1000 degrees of freedom,
scipy's own error grows past 1e-12 (measured: 1.0e-12 at v = 999.5, p = 4e-207; 8.6e-12 at v = 7541),
so there the reference is mpmath at 40 digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special as scipy_special

from llmops_sentinel.domain.drift.special import chdtrc, gammaincc, kolmogorov

RTOL = 1e-12
NORMAL = 1e-300
SCIPY_TAIL = 1e-100  # below this scipy.special.chdtrc itself drifts past 1e-12 for large v


def _rel(ours: float, ref: float) -> float:
    return 0.0 if ours == ref else abs(ours - ref) / abs(ref)


def _x_grid(v: float) -> np.ndarray:
    """Log-spaced over [1e-8, far tail] plus a dense band around the mean, where the branches meet."""
    spread = 8.0 * math.sqrt(2.0 * v)
    return np.concatenate(
        [
            np.geomspace(1e-8, max(2000.0, 4.0 * v), 300),
            np.linspace(max(1e-8, v - spread), v + spread, 150),
            [v / 2.0 + 1.0, v + 2.0, 2.0 * (v / 2.0 + 1.0)],  # the series / fraction switch, a + 1
        ]
    )


def test_kolmogorov_matches_scipy_over_its_domain() -> None:
    ys = np.concatenate([np.linspace(1e-3, 30.0, 20_001), np.geomspace(1e-4, 30.0, 2_000), [0.82, 0.8199999]])
    worst = 0.0
    for y in ys:
        ref = float(scipy_special.kolmogorov(y))
        if ref >= NORMAL:
            worst = max(worst, _rel(kolmogorov(float(y)), ref))
        else:
            assert kolmogorov(float(y)) < 1e-290
    assert worst <= RTOL


def test_chdtrc_matches_scipy_up_to_1000_degrees_of_freedom() -> None:
    dofs = [*range(1, 101), *np.geomspace(1.0, 1000.0, 60), 1.5, 2.5, 999.5]
    worst = (0.0, 0.0, 0.0)
    for v in dofs:
        for x in _x_grid(float(v)):
            ref = float(scipy_special.chdtrc(v, x))
            if ref < SCIPY_TAIL:
                continue
            rel = _rel(chdtrc(float(v), float(x)), ref)
            if rel > worst[0]:
                worst = (rel, float(v), float(x))
    assert worst[0] <= RTOL, worst


def test_chdtrc_tail_for_many_degrees_of_freedom_against_mpmath() -> None:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    checked = 0
    for v in (3.0, 40.0, 999.5, 1500.0, 5000.0, 20_000.0):
        tail = list(np.geomspace(v + 1.0, 20.0 * v + 1500.0, 25))
        for x in (v / 3, max(0.5, v - 2 * math.sqrt(2 * v)), v, v + 10 * math.sqrt(2 * v), 1.6 * v, *tail):
            ref = float(mpmath.re(mpmath.gammainc(mpmath.mpf(v) / 2, mpmath.mpf(float(x)) / 2, regularized=True)))
            if ref >= NORMAL:
                assert _rel(chdtrc(v, x), ref) <= RTOL, (v, x)
                checked += 1
    assert checked > 100


def test_edges_follow_scipy() -> None:
    for v, x in [(2.0, 0.0), (2.0, math.inf), (0.0, 1.0), (2.0, -1.0), (-1.0, 1.0), (math.nan, 1.0), (2.0, math.nan)]:
        ours, ref = chdtrc(v, x), float(scipy_special.chdtrc(v, x))
        assert (math.isnan(ours) and math.isnan(ref)) or ours == ref, (v, x, ours, ref)
    for y in (0.0, -1.0, math.inf, math.nan, 40.0):
        ours, ref = kolmogorov(y), float(scipy_special.kolmogorov(y))
        assert (math.isnan(ours) and math.isnan(ref)) or ours == ref, (y, ours, ref)


def test_gammaincc_is_the_regularized_upper_gamma() -> None:
    for a in (0.5, 1.0, 3.0, 12.5, 80.0):
        for x in (0.1, a, 3 * a + 5):
            assert _rel(gammaincc(a, x), float(scipy_special.gammaincc(a, x))) <= RTOL

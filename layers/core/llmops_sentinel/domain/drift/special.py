"""The two special functions the drift tests need, in pure Python (no scipy in the Lambda layer).

``kolmogorov`` (the KS p-value's tail) and ``chdtrc`` (the chi-square p-value) are all the drift tests
ever used from scipy, and scipy was half of the layer (114 MiB of 224). Both are checked against
``scipy.special`` to a relative 1e-12 over their domain in tests/unit/domain/test_special.py, where
scipy stays a test dependency.

- ``kolmogorov(y)`` = P(sqrt(n) D_n > y) for the limiting Kolmogorov distribution: the alternating
  series 2 sum (-1)^(k-1) exp(-2 k^2 y^2) above the cut-over, 1 - the Jacobi theta form of the CDF
  sqrt(2 pi)/y sum exp(-(2k-1)^2 pi^2 / (8 y^2)) below it (each converges in a few terms on its side).
- ``chdtrc(v, x)`` = Q(v/2, x/2), the regularized upper incomplete gamma function: the power series
  for P below x = a + 1 and the Lentz continued fraction for Q above (Numerical Recipes 6.2), with the
  prefactor x^a e^-x / Gamma(a) computed through log1pmx and Stirling's error term for large a, where
  the direct a log x - x - lgamma(a) would lose digits to cancellation.
"""

from __future__ import annotations

import math

__all__ = ["chdtrc", "gammaincc", "kolmogorov"]

_EPS = 2.220446049250313e-16
_TINY = 1e-300
_MAX_TERMS = 100_000
_KOLMOGOROV_CUTOVER = 0.82  # below: theta form of the CDF; above: the survival series
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_PI2_8 = math.pi * math.pi / 8.0


def kolmogorov(y: float) -> float:
    """Survival function of the limiting Kolmogorov distribution (``scipy.special.kolmogorov``)."""
    if math.isnan(y):
        return math.nan
    if y <= 0.0:
        return 1.0
    if y < _KOLMOGOROV_CUTOVER:
        w = _PI2_8 / (y * y)
        total = 0.0
        for k in range(1, _MAX_TERMS):
            term = math.exp(-((2 * k - 1) ** 2) * w)
            total += term
            if term <= _EPS * total or term == 0.0:
                break
        return 1.0 - _SQRT_2PI / y * total
    total, sign = 0.0, 1.0
    for k in range(1, _MAX_TERMS):
        term = math.exp(-2.0 * k * k * y * y)
        total += sign * term
        if term <= _EPS * abs(total) or term == 0.0:
            break
        sign = -sign
    return min(1.0, max(0.0, 2.0 * total))


def chdtrc(v: float, x: float) -> float:
    """Chi-square survival function with ``v`` degrees of freedom (``scipy.special.chdtrc``)."""
    if math.isnan(v) or math.isnan(x) or x < 0.0 or v < 0.0:
        return math.nan
    return gammaincc(v / 2.0, x / 2.0)


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), for a >= 0, x >= 0."""
    if math.isnan(a) or math.isnan(x) or a < 0.0 or x < 0.0:
        return math.nan
    if a == 0.0:
        return 0.0 if x > 0.0 else math.nan
    if x == 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return 1.0 - _lower_series(a, x)
    return _upper_fraction(a, x)


def _log1pmx(t: float) -> float:
    """log(1 + t) - t without the cancellation near 0 (atanh series in y = t / (2 + t))."""
    if abs(t) >= 0.5:
        return math.log1p(t) - t
    y = t / (2.0 + t)
    y2 = y * y
    power, total = y * y2, 0.0
    for k in range(3, 200, 2):
        term = power / k
        total += term
        if abs(term) <= _EPS * abs(total):
            break
        power *= y2
    return -t * t / (2.0 + t) + 2.0 * total


def _stirling_error(a: float) -> float:
    """lgamma(a) - ((a - 1/2) log a - a + log(2 pi) / 2), the asymptotic series (a >= 10)."""
    r = 1.0 / a
    r2 = r * r
    return r * (
        1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (1 / 1188 - r2 * (691 / 360360 - r2 / 156)))))
    )


def _prefactor(a: float, x: float) -> float:
    """x^a e^-x / Gamma(a), accurate to a few ulps of its exponent for every a."""
    if a < 10.0:
        return math.exp(a * math.log(x) - x - math.lgamma(a))
    t = (x - a) / a
    return math.sqrt(a / (2.0 * math.pi)) * math.exp(a * _log1pmx(t) - _stirling_error(a))


def _lower_series(a: float, x: float) -> float:
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _ in range(_MAX_TERMS):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) <= abs(total) * _EPS:
            return total * _prefactor(a, x)
    raise ArithmeticError(f"incomplete gamma series did not converge for a={a}, x={x}")  # pragma: no cover


def _upper_fraction(a: float, x: float) -> float:
    """Q(a, x) by the modified Lentz continued fraction (converges fast for x >= a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            return h * _prefactor(a, x)
    raise ArithmeticError(f"incomplete gamma fraction did not converge for a={a}, x={x}")  # pragma: no cover

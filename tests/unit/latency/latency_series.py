"""Seeded synthetic latency series for the latency unit tests (randomness always injected)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
START = 1_700_006_400.0  # a UTC midnight
STEP = 60.0
DAY = 1440


def series(
    rng: np.random.Generator,
    n: int,
    *,
    level: float = 200.0,
    noise: float = 0.08,
    daily_amplitude: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Timestamps (60 s apart from a midnight) and log-normal latencies with an optional daily pattern."""
    ts: FloatArray = START + STEP * np.arange(n, dtype=np.float64)
    tod = 2 * np.pi * (ts % 86_400) / 86_400
    x = np.log(level) + daily_amplitude * np.sin(tod) + noise * rng.standard_normal(n)
    return ts, np.exp(x).astype(np.float64)


def with_step(values: FloatArray, at: int, rel: float, length: int | None = None) -> FloatArray:
    out = values.copy()
    out[at : None if length is None else at + length] *= 1.0 + rel
    return out


def with_ramp(values: FloatArray, at: int, rel: float, rise: int) -> FloatArray:
    out = values.copy()
    k = np.arange(out.size - at)
    out[at:] *= np.exp(np.minimum(k / rise, 1.0) * np.log1p(rel))
    return out


def with_variance_burst(
    rng: np.random.Generator, values: FloatArray, at: int, length: int, ratio: float, noise: float
) -> FloatArray:
    out = values.copy()
    extra = noise * np.sqrt(ratio**2 - 1.0) * rng.standard_normal(length)
    out[at : at + length] *= np.exp(extra)
    return out

"""The AR(1) coefficient is pooled over the last ``phi_blocks`` scale blocks: near 0 on i.i.d. noise,
close to the truth on AR(1) noise, its standard error as simulated, and exact under chunking and
state round trips (old states without the pool load)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from pydantic import ValidationError

from llmops_sentinel.domain.latency import DetectorState, LatencyDetector, LatencyParams, detect
from llmops_sentinel.domain.latency.detector import DetectorStateError, pooled_phi_se

#: No seasons, no warm-up trend: the residuals are against a median of 120 points (a trend extrapolated
#: from two half-window medians adds its own error to the residual scale, so phi-hat reads high).
PLAIN = LatencyParams(seasons=[], warmup_trend=False)
T0 = 1_700_000_000.0


def ar1(rng: np.random.Generator, n: int, phi: float, sigma: float = 0.1) -> np.ndarray:
    e = rng.standard_normal(n) * sigma * np.sqrt(1.0 - phi**2)
    x = np.empty(n)
    x[0] = rng.standard_normal() * sigma
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def block_phis(noise: np.ndarray, params: LatencyParams) -> np.ndarray:
    """The shrunk coefficient after each scale block, fed one block at a time (no alarms expected)."""
    det = LatencyDetector(params)
    ts = T0 + 60.0 * np.arange(noise.size)
    vs = 100.0 * np.exp(noise)
    sb = params.scale_block
    out = []
    for i in range(0, noise.size, sb):
        det.update(ts[i : i + sb], vs[i : i + sb])
        out.append(det.ar1_coefficient)
    return np.asarray(out)


def test_pooled_phi_is_near_zero_on_iid_noise(rng: np.random.Generator) -> None:
    # Ten days: a pool spans a day, so neighbouring blocks' estimates are nearly the same draw.
    noise = rng.standard_normal(10 * 1440) * 0.1
    pooled = block_phis(noise, PLAIN)[30:]  # past the first pool
    single = block_phis(noise, PLAIN.model_copy(update={"phi_blocks": 1}))[30:]
    tau_pooled = (1 + pooled) / (1 - pooled)
    tau_single = (1 + single) / (1 - single)
    assert np.quantile(pooled, 0.95) < 0.1  # tau < 1.22
    assert np.mean(tau_pooled) < 1.04
    # The single-block rule is what this replaces: positive in ~40 % of these blocks, tau 1.09-1.12.
    assert np.mean(single > 0) > 0.3
    assert np.mean(tau_pooled - 1) < np.mean(tau_single - 1) / 2


@pytest.mark.parametrize("phi", [0.3, 0.6])
def test_pooled_phi_is_close_to_the_true_coefficient(rng: np.random.Generator, phi: float) -> None:
    noise = ar1(rng, 3 * 1440, phi)
    pooled = block_phis(noise, PLAIN)[30:]
    # The estimate is shrunk by ~0.04 (one standard error) and the residuals are against a median of
    # the same correlated noise (slightly smaller than its sd): a little low, never far.
    assert abs(float(np.median(pooled)) - phi) < 0.1
    assert pooled.min() > phi - 0.2
    single = block_phis(noise, PLAIN.model_copy(update={"phi_blocks": 1}))[30:]
    assert np.std(pooled) < np.std(single) / 2  # the point of pooling: a less noisy estimate


def test_pooled_standard_error_matches_simulation() -> None:
    """SD of the pooled raw estimate over i.i.d. normal series against ``pooled_phi_se``.

    The raw per-block estimates are the detector's own (state ``phi_pool``), 400 series of 3,000 points
    (the simulation behind ``_PHI_POOL_SE_SQRT_N`` and ``_SD_RES_BIAS``).
    """
    rng = np.random.default_rng(7)
    k, sb, w = PLAIN.phi_blocks, PLAIN.scale_block, PLAIN.scale_window
    means, means_one = [], []
    for _ in range(400):
        noise = rng.standard_normal(3000) * 0.1
        det = LatencyDetector(PLAIN)
        det.update(T0 + 60.0 * np.arange(noise.size), 100.0 * np.exp(noise))
        pool = det.state().phi_pool
        if len(pool) != k or any(c != w for _, c in pool.values()):
            continue  # a false alarm's rebase shortened the windows
        raw = [v for _, (v, _) in sorted(pool.items())]
        means.append(np.mean(raw))
        means_one.append(raw[-1])
    assert len(means) > 380
    se = pooled_phi_se(np.arange(k) * sb, np.full(k, w))
    assert se == pytest.approx(0.055, abs=0.003)
    assert abs(float(np.mean(means))) < 0.01  # the max-of-two scale's bias divided out
    assert float(np.std(means)) == pytest.approx(se, rel=0.15)
    assert float(np.std(means_one)) == pytest.approx(pooled_phi_se(np.array([0]), np.array([w])), rel=0.15)
    # Overlapping windows: far from the K-fold variance reduction of independent ones.
    assert float(np.std(means)) > 1.5 * float(np.std(means_one)) / np.sqrt(k)


def test_pooled_standard_error_of_one_window_is_the_single_block_rule() -> None:
    assert pooled_phi_se(np.array([640]), np.array([240]), 1.45) == 1.45 / np.sqrt(240)
    # Fewer blocks, more error: warm-up pools what exists with that many blocks' error.
    se = [pooled_phi_se(np.arange(k) * 64, np.full(k, 240)) for k in range(1, 23)]
    assert all(a > b for a, b in itertools.pairwise(se))
    # One block (a young detector): never less shrinkage than the single-block rule's 1.45 / sqrt(n).
    assert all(pooled_phi_se(np.array([0]), np.array([n])) > 1.45 / np.sqrt(n) for n in (30, 64, 240))


def test_chunked_and_resumed_equal_batch_bit_for_bit(rng: np.random.Generator) -> None:
    n = 3 * 1440
    ts = T0 + 60.0 * np.arange(n)
    vs = 100.0 * np.exp(ar1(rng, n, 0.5))
    vs[2000:] *= 1.4  # an alarm and a rebase inside the pool's span
    vs[3000:3003] *= 3.0
    batch = detect(ts, vs, PLAIN)
    assert batch.alarm_records, "the step must alarm, or the rebase path is not exercised"
    det = LatencyDetector(PLAIN)
    scores, records, i = [], [], 0
    sizes = [1, 37, 64, 200, 5, 129]
    for j in range(10_000):
        if i >= n:
            break
        step = sizes[j % len(sizes)]
        out = det.update(ts[i : i + step], vs[i : i + step])
        scores.append(out.scores)
        records += out.new_alarms
        i += step
        if j % 7 == 3:  # through JSON now and then
            det = LatencyDetector.from_state(DetectorState.model_validate_json(det.state().model_dump_json()))
    np.testing.assert_array_equal(np.concatenate(scores), batch.scores)
    assert records == batch.alarm_records
    # The pool matters here: the single-block rule scores differently.
    single = detect(ts, vs, PLAIN.model_copy(update={"phi_blocks": 1}))
    assert not np.array_equal(single.scores, batch.scores)


def test_state_without_the_pool_loads_and_refills(rng: np.random.Generator) -> None:
    n = 3000
    ts = T0 + 60.0 * np.arange(n)
    vs = 100.0 * np.exp(ar1(rng, n, 0.4))
    cut = 1500
    det = LatencyDetector(PLAIN)
    det.update(ts[:cut], vs[:cut])
    blob = json.loads(det.state().model_dump_json())
    assert blob["phi_pool"], "the pool is stored"
    del blob["phi_pool"]  # a state written before the pool existed
    old = LatencyDetector.from_state(DetectorState.model_validate(blob))
    assert old.ar1_coefficient == 0.0  # empty pool, as a fresh detector's
    old.update(ts[cut:], vs[cut:])
    det.update(ts[cut:], vs[cut:])
    # Raw estimates depend on the residuals only, so the refilled pool is the uninterrupted one.
    assert old.state().phi_pool == det.state().phi_pool
    assert old.ar1_coefficient == det.ar1_coefficient > 0.2


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"10": [float("nan"), 240]}, ValidationError),  # an estimate that blinds the level CUSUM (tau NaN)
        ({"10": [float("inf"), 240]}, ValidationError),
        ({"10": [5.0, 240]}, ValidationError),  # raw estimates are clipped to [-1, 1] before they are kept
        ({"10": [0.1, 0]}, ValidationError),  # an estimate always has residuals behind it
        ({"-1": [0.1, 240]}, ValidationError),
        ({"999999": [0.9, 240]}, DetectorStateError),  # a block the stream has not reached
        ({"0": [0.9, 240]}, DetectorStateError),  # older than the pool keeps: it would never age out
    ],
)
def test_a_stored_pool_that_the_detector_cannot_have_written_is_rejected(
    rng: np.random.Generator, entry: dict[str, list[float]], error: type[Exception]
) -> None:
    n = 3000
    det = LatencyDetector(PLAIN)
    det.update(T0 + 60.0 * np.arange(n), 100.0 * np.exp(ar1(rng, n, 0.4)))
    blob = json.loads(det.state().model_dump_json())
    LatencyDetector.from_state(DetectorState.model_validate(blob))  # as written: loads
    blob["phi_pool"] = {**blob["phi_pool"], **entry}
    with pytest.raises(error):
        LatencyDetector.from_state(DetectorState.model_validate(blob))

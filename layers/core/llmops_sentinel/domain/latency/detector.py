"""Online, causal latency-regression detector: robust seasonal baseline + window-limited CUSUMs.

Per accepted point (timestamps strictly increasing), in log units ``x = log(value)``:

1. ``y = x - s(t)``: ``s`` is the centred seasonal profile (weekly if trusted, else daily, else 0) of
   the current cycle, learned from earlier cycles only.
2. Level ``m`` = median of the last ``level_window`` ``y`` and scale ``sd`` = 1.4826/sqrt(2) * median
   |successive differences| of the last ``scale_window`` ones, both taken at the start of the point's
   block of ``block`` accepted points (so they never include the point itself).
3. ``z = (y - m) / (max(sd, scale_floor) * c)``, winsorised to ``[-clip, clip]``; ``c >= 1`` inflates the scale
   for the estimation error of ``m`` and ``sd`` while their windows fill (exactly 1 in the steady state).
4. Two one-sided CUSUMs, limited to the last ``cusum_window`` points: level ``z - level_k`` and a
   scale CUSUM, the log-likelihood ratio of the upper half-normal with scale ``spread_ratio`` against
   the fitted one, ``-log r + z^2/2 (1 - 1/r^2)`` for ``z > 0`` and 0 below (a variance burst in latency
   fattens the upper tail; winsorised z bounds each point's evidence). Increments are
   fixed-point integers, so cumulative sums are exact and any chunking of the stream gives bit-identical
   scores: ``detect`` over a batch equals ``update`` point by point. With a trusted season, a second
   level CUSUM takes z against the median of the last ``slow_level_window`` points (a slow reference
   a creep cannot drag along).
5. ``score = 1 - 2**(-max(S_level/level_h, S_spread/spread_h))`` (0.5 exactly at the threshold) and
   ``alarm = S_level >= level_h or S_spread >= spread_h``.

An alarm's onset is the point after the last minimum of the CUSUM's cumulative sum (the last time the
statistic was zero); its magnitude is ``exp(median(y[onset..t]) - m) - 1``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np

from llmops_sentinel.domain.latency.models import (
    AlarmRecord,
    BoolArray,
    DetectionResult,
    DetectorState,
    FloatArray,
    IntArray,
    LatencyParams,
    PointStatus,
    UpdateResult,
)
from llmops_sentinel.domain.latency.robust import (
    DIFF_MAD_TO_SD,
    INT_BIG,
    L1_TO_SD,
    MAD_TO_SD,
    Q90_TO_SD,
    nan_window_means,
    nan_window_quantiles,
    sliding_min,
    window_medians,
)
from llmops_sentinel.domain.latency.seasonal import SeasonalProfile
from llmops_sentinel.errors import BadInputError

#: Fixed-point scale of CUSUM increments (z units * 2**16): exact integer sums, 1.5e-5 resolution.
QUANT = 1 << 16

#: Variance of a sample median of n normal points, in units of sigma^2 / n.
_HALF_PI = math.pi / 2.0
#: n * relative variance of 1.4826/sqrt(2) * median |successive differences| of n normal points
#: (simulated: 1.61 at n = 30, 1.64 at n = 120 and 240).
_MAD_DIFF_RELVAR_N = 1.64
#: Standard error of 1 - (sd_diff / sd_resid)^2, the AR(1) coefficient estimate, times sqrt(n): the
#: two MADs' relative variances (1.64/n, 1.36/n) partly cancel (same points); simulated on iid normal
#: noise: sd 0.093 at n = 240, 0.13 at n = 120. The estimate is shrunk by one standard error; the
#: pooled estimate (mean of ``phi_blocks`` blocks' estimates) by its own, see ``pooled_phi_se``.
_PHI_SE_SQRT_N = 1.45
#: The same for the detector's own per-block estimate (residuals against a median of 120 points
#: refreshed every 16, scale the larger of MAD and q90 / 1.645), fitted to 400 simulated i.i.d. normal
#: series: the mean of the last 1 / 8 / 22 blocks' estimates has sd 0.146 / 0.086 / 0.056, the formula
#: 0.136 / 0.086 / 0.055 (tests/unit/latency/test_pooled_phi.py re-runs it). The pooled estimate
#: (``phi_blocks`` > 1) is shrunk by its own standard error, ``pooled_phi_se``.
_PHI_POOL_SE_SQRT_N = 2.1
#: sd_res / sigma on normal noise at n = 240 (the larger of two unbiased scales): the simulated mean of
#: 1 - (sd_diff / sd_res)^2 on i.i.d. noise is 0.054 = 1 - 1 / 1.028^2.
_SD_RES_BIAS = 1.028
#: Score calibration: evidence ratios (statistic / its threshold) are binned 16 per octave from 1/4 up;
#: weaker evidence never scores above 0.
_CAL_BINS_PER_OCTAVE = 16
_CAL_MIN_RATIO = 0.25
_CAL_NBINS = 16 * 40
#: The calibration history is a ring of this many blocks of scored points (exact integer counts).
_CAL_RING = 8
#: Largest AR(1) coefficient used (tau = 19): beyond it a series is a random walk at this window.
_PHI_MAX = 0.9

ArrayLike = Sequence[float] | FloatArray


def _bin_value(b: IntArray) -> FloatArray:
    """Evidence ratio at the centre of calibration bins ``b``."""
    return np.asarray(_CAL_MIN_RATIO * 2.0 ** ((b.astype(np.float64) + 0.5) / _CAL_BINS_PER_OCTAVE))


#: Smallest Hill tail scale: one calibration bin, in natural-log units (the histogram's resolution).
_HILL_MIN_BETA = math.log(2.0) / _CAL_BINS_PER_OCTAVE


def hill_tail(top: FloatArray, r: float, n: float) -> float:
    """Tail probability P(R >= r) beyond the ``m + 1`` largest of ``n`` values ``top`` (any order).

    Peaks over threshold with an exponential tail in log R (a Pareto tail in R): the threshold
    ``u`` is the smallest of ``top``, the scale the Hill estimator ``beta = mean(log(top_j / u))``
    over the other ``m``, and ``P(R >= r) = (m / n) exp(-log(r / u) / beta)``. Used where the
    empirical share cannot resolve a value (fewer than ``m`` earlier values at least as large):
    without it every new record scores ``1 / n`` however far past the record it lies.
    """
    srt = np.sort(np.asarray(top, dtype=np.float64))
    m = srt.size - 1
    u = float(srt[0])
    beta = max(float(np.mean(np.log(srt[1:] / u))), _HILL_MIN_BETA)
    return float(m / n * math.exp(-max(math.log(r / u), 0.0) / beta))


def _hill_tail(cal: IntArray, r: float, m: int, n: float, empirical: float) -> float:
    """``hill_tail`` on the m + 1 largest values of the calibration histogram (bin centres)."""
    nz = np.flatnonzero(cal)[::-1]
    counts = cal[nz]
    take = np.minimum(counts, np.maximum(m + 1 - (np.cumsum(counts) - counts), 0))
    if int(take.sum()) < m + 1:
        return empirical
    return hill_tail(np.repeat(_bin_value(nz), take), r, n)


def pooled_phi_se(ends: IntArray, counts: IntArray, per_point: float = _PHI_POOL_SE_SQRT_N) -> float:
    """Standard error, on i.i.d. noise, of the mean of the AR(1) estimates of overlapping windows.

    Window ``i`` holds the ``counts[i]`` residuals before accepted-point index ``ends[i]``. Each
    estimate is close to a mean over its window of per-point terms of variance ``c**2`` (its
    standard error is ``c/sqrt(n)``), so two of them covary by that variance times their
    overlap ``o_ij`` over ``n_i n_j``, and the mean of k of them has variance
    ``c^2 / k^2 * sum_ij o_ij / (n_i n_j)``, ``c`` = ``per_point`` (one window: ``c/sqrt(n)``).
    Windows of 240 offset by 64 are far from independent: 22 of them give 0.055 at c = 2.1 (a single
    1,584-point window: 0.053), not 0.136/sqrt(22) = 0.029. Checked against the detector's pooled
    estimates on simulated i.i.d. noise in tests/unit/latency/test_pooled_phi.py.
    """
    if len(ends) == 1:
        return per_point / math.sqrt(max(int(counts[0]), 1))
    e = np.asarray(ends, dtype=np.float64)
    n = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    lo = e - n
    overlap = np.maximum(np.minimum.outer(e, e) - np.maximum.outer(lo, lo), 0.0)
    k = float(e.size)
    return float(per_point * math.sqrt(math.fsum((overlap / np.outer(n, n)).ravel().tolist())) / k)


@functools.lru_cache(maxsize=256)
def _pooled_phi_se_at(offsets: tuple[int, ...], counts: tuple[int, ...], per_point: float) -> float:
    """``pooled_phi_se`` of windows ending ``offsets`` points from the newest block: it depends only on
    where the windows lie relative to each other, and the steady state repeats one layout block after
    block (22 full windows), so each layout is computed once."""
    return pooled_phi_se(np.asarray(offsets, dtype=np.int64), np.asarray(counts, dtype=np.int64), per_point)


class DetectorStateError(BadInputError):
    """A stored detector state cannot be resumed (wrong version, inconsistent arrays)."""


class LatencyDetector:
    """Streaming detector. ``update`` scores new points; ``state()`` / ``from_state`` resume it."""

    def __init__(self, params: LatencyParams | None = None) -> None:
        self.params = params or LatencyParams()
        p = self.params
        self._h_level = round(p.level_h * QUANT)
        self._h_spread = round(p.spread_h * QUANT)
        # Scale CUSUM (spread_statistic "scale"): log-likelihood ratio of the upper half of the noise
        # under a scale ``spread_ratio`` times larger against the fitted one. A variance burst keeps
        # the median, so P(z > 0) = 1/2 under both and points below the level carry no evidence (a
        # latency improvement never alarms); above it the half-normal LLR is
        # -log r + z^2/2 (1 - 1/r^2), with z winsorised at ``clip`` (bounded evidence per point).
        r = p.spread_ratio
        self._scale_a = -math.log(r)
        self._scale_b = 0.5 * (1.0 - 1.0 / (r * r))
        self._llr_cap = p.spread_h / p.spread_min_points
        # Per-point level evidence cap (fixed point): h / level_min_points, so a run shorter than
        # level_min_points points cannot alarm, however extreme.
        self._level_cap = round(p.level_h / p.level_min_points * QUANT)
        # Legacy Bernoulli CUSUM on exceedances z > a (spread_statistic "exceedance").
        p0 = 0.5 * math.erfc(p.spread_threshold / math.sqrt(2.0))
        p1 = 0.5 * math.erfc(p.spread_threshold / p.spread_ratio / math.sqrt(2.0))
        self._q_up = round(math.log(p1 / p0) * QUANT)
        self._q_down = round(math.log((1.0 - p1) / (1.0 - p0)) * QUANT)
        # Estimation-uncertainty inflation (see _inflation): the CUSUM's critical run length and the
        # normal quantile its tail sits at, b = min over L of (h + k L)/sqrt(L) = 2 sqrt(h k).
        self._run = min(p.level_h / p.level_k, float(p.cusum_window)) if p.level_k > 0 else float(p.cusum_window)
        self._b = (p.level_h + p.level_k * self._run) / math.sqrt(self._run)
        self._v_full = _HALF_PI / p.level_window
        self._t_ratio_full = float(self._t_ratio(p.scale_window / _MAD_DIFF_RELVAR_N / 2.0))
        self._hist_len = max(p.level_window, p.scale_window + 1, p.cusum_window, p.slow_level_window) + p.scale_block
        self._n = 0
        self._last_ts = -np.inf
        self._hist_t: FloatArray = np.empty(0)
        self._hist_x: FloatArray = np.empty(0)
        self._carry_level: IntArray = np.zeros(1, dtype=np.int64)
        self._carry_spread: IntArray = np.zeros(1, dtype=np.int64)
        self._carry_down: IntArray = np.zeros(1, dtype=np.int64)
        self._carry_slow: IntArray = np.zeros(1, dtype=np.int64)
        self._hist_r: FloatArray = np.empty(0)
        # AR(1) pool: scale block index -> (raw estimate, residual count) of the last phi_blocks blocks.
        self._phi_pool: dict[int, tuple[float, int]] = {}
        self._level_start = 0
        self._hold_until = -1
        self._last_warming_up = True
        self._cal = np.zeros(_CAL_NBINS, dtype=np.int64)  # sum of the kept blocks
        self._cal_blocks: dict[int, IntArray] = {}
        self._cal_n = 0
        horizon = max(math.ceil(p.calibration_horizon_s / p.expected_interval_s), p.level_window)
        self._cal_block = -(-horizon // _CAL_RING)
        self._last_score = 0.0
        self._last_alarm = False
        self._last_extreme = False
        self._last_alarm_index: int | None = None
        self._episode_peak = 0.0
        self._last_cross = -1
        self._seasons = sorted((SeasonalProfile(s) for s in p.seasons), key=lambda s: s.spec.period_s, reverse=True)
        self._cycle_s = min((s.period_s for s in p.seasons), default=0)
        self._counts = {s.name.lower(): 0 for s in PointStatus}

    # ------------------------------------------------------------------ state
    @classmethod
    def from_state(cls, state: DetectorState) -> LatencyDetector:
        det = cls(state.params)
        p = state.params
        if len(state.hist_ts) != len(state.hist_x) or len(state.hist_ts) > det._hist_len:
            raise DetectorStateError("stored history arrays are inconsistent")
        for carry in (state.carry_level, state.carry_spread, state.carry_down, state.carry_slow):
            if not 1 <= len(carry) <= p.cusum_window or carry[-1] != 0:
                raise DetectorStateError("stored CUSUM carry is inconsistent")
        det._n = state.n_accepted
        det._last_ts = -np.inf if state.last_ts is None else state.last_ts
        det._hist_t = np.asarray(state.hist_ts, dtype=np.float64)
        det._hist_x = np.asarray(state.hist_x, dtype=np.float64)
        det._carry_level = np.asarray(state.carry_level, dtype=np.int64)
        det._carry_spread = np.asarray(state.carry_spread, dtype=np.int64)
        det._carry_down = np.asarray(state.carry_down, dtype=np.int64)
        det._carry_slow = np.asarray(state.carry_slow, dtype=np.int64)
        r = [np.nan if v is None else v for v in state.hist_r]
        if len(r) > len(state.hist_ts):
            raise DetectorStateError("stored residual history is longer than the point history")
        det._hist_r = np.concatenate((np.full(len(state.hist_ts) - len(r), np.nan), np.asarray(r, dtype=np.float64)))
        det._level_start = state.level_start
        det._hold_until = state.hold_until
        det._last_warming_up = state.last_warming_up
        for blk, counts in state.evidence_blocks.items():
            row = np.zeros(_CAL_NBINS, dtype=np.int64)
            for b, c in counts.items():
                if not 0 <= b < _CAL_NBINS or c < 0:
                    raise DetectorStateError("stored evidence histogram is inconsistent")
                row[b] = c
            det._cal_blocks[int(blk)] = row
            det._cal += row
        det._cal_n = state.evidence_points
        # A state written before the pool existed loads with it empty: it refills as a fresh one does.
        # The pool holds the last phi_blocks scale blocks that began before n_accepted, never later ones.
        newest = (state.n_accepted - 1) // p.scale_block
        if any(not newest - p.phi_blocks < b <= newest for b in state.phi_pool):
            raise DetectorStateError("stored AR(1) pool is inconsistent")
        det._phi_pool = {int(b): (float(v), int(c)) for b, (v, c) in state.phi_pool.items()}
        if state.version == 1 and p.spread_statistic == "scale":
            det._carry_spread = np.zeros(1, dtype=np.int64)  # exceedance evidence, other units
        det._last_score = state.last_score
        det._last_alarm = state.last_alarm
        det._last_extreme = state.last_extreme
        det._last_alarm_index = state.last_alarm_index
        det._episode_peak = state.episode_peak
        det._last_cross = state.last_cross_index
        by_name = {s.name: s for s in state.seasons}
        if set(by_name) - {s.spec.name for s in det._seasons}:
            raise DetectorStateError("stored seasons do not match the parameters")
        det._seasons = [SeasonalProfile(s.spec, by_name.get(s.spec.name)) for s in det._seasons]
        det._counts = {**det._counts, **state.counts}
        return det

    def state(self) -> DetectorState:
        p = self.params
        return DetectorState(
            params=self.params,
            n_accepted=self._n,
            last_ts=None if not np.isfinite(self._last_ts) else float(self._last_ts),
            hist_ts=self._hist_t.tolist(),
            hist_x=self._hist_x.tolist(),
            # Residuals are read only by the scale window (at most scale_window + scale_block back); the
            # longer point history (the slow reference's) loads with the older residuals unknown.
            hist_r=[
                None if not np.isfinite(v) else float(v)
                for v in self._hist_r[-(p.scale_window + p.scale_block) :].tolist()
            ],
            level_start=self._level_start,
            hold_until=self._hold_until,
            carry_level=self._carry_level.tolist(),
            carry_spread=self._carry_spread.tolist(),
            carry_down=self._carry_down.tolist(),
            carry_slow=self._carry_slow.tolist(),
            last_warming_up=self._last_warming_up,
            evidence_blocks={
                blk: {int(b): int(row[b]) for b in np.flatnonzero(row).tolist()}
                for blk, row in sorted(self._cal_blocks.items())
            },
            evidence_points=self._cal_n,
            phi_pool=dict(sorted(self._phi_pool.items())),
            last_score=self._last_score,
            last_alarm=self._last_alarm,
            last_extreme=self._last_extreme,
            last_alarm_index=self._last_alarm_index,
            episode_peak=self._episode_peak,
            last_cross_index=self._last_cross,
            seasons=[s.to_state() for s in self._seasons],
            counts=dict(self._counts),
        )

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    @property
    def warming_up(self) -> bool:
        """True until the baseline reaches its steady state (see ``UpdateResult.warming_up``)."""
        return self._last_warming_up

    # ----------------------------------------------------------------- update
    def update(self, timestamps: ArrayLike, values: ArrayLike) -> UpdateResult:
        """Score points in arrival order; rejected points repeat the last score (see ``status``)."""
        ts = np.asarray(timestamps, dtype=np.float64).ravel()
        vs = np.asarray(values, dtype=np.float64).ravel()
        if ts.shape != vs.shape:
            raise BadInputError(f"{ts.size} timestamps but {vs.size} values")
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(ts) & np.isfinite(vs)
            if self.params.transform == "log":
                valid &= vs > 0
        prev = np.maximum.accumulate(np.concatenate(([self._last_ts], np.where(valid, ts, -np.inf))))[:-1]
        accepted = valid & (ts > prev)
        status = np.full(ts.size, PointStatus.INVALID, dtype=np.int8)
        status[accepted] = PointStatus.ACCEPTED
        status[valid & (ts == prev)] = PointStatus.DUPLICATE
        status[valid & (ts < prev)] = PointStatus.OUT_OF_ORDER
        for s in PointStatus:
            self._counts[s.name.lower()] += int(np.count_nonzero(status == s))

        before = (self._last_score, self._last_alarm, self._last_warming_up)
        idx = np.flatnonzero(accepted)
        x = np.log(vs[idx]) if self.params.transform == "log" else vs[idx]
        acc_scores, acc_alarms, acc_warm, records = self._process(ts[idx], x)
        pos = np.cumsum(accepted) - 1
        has = pos >= 0
        at = np.maximum(pos, 0)
        scores = np.where(has, acc_scores[at] if idx.size else 0.0, before[0])
        alarms = np.where(has, acc_alarms[at] if idx.size else False, before[1])
        warm = np.where(has, acc_warm[at] if idx.size else True, before[2])
        return UpdateResult(
            scores=scores,
            alarms=alarms.astype(bool),
            status=status,
            new_alarms=records,
            warming_up=warm.astype(bool),
        )

    def _process(self, t: FloatArray, x: FloatArray) -> tuple[FloatArray, BoolArray, BoolArray, list[AlarmRecord]]:
        if t.size == 0:
            return np.empty(0), np.empty(0, dtype=bool), np.empty(0, dtype=bool), []
        p = self.params
        gaps = np.diff(np.concatenate(([self._last_ts], t))) / p.expected_interval_s
        starts = gaps > p.cusum_reset_gap
        starts[0] = True
        if self._cycle_s:
            cycles = np.floor(t / self._cycle_s)
            prev_cycle = np.floor(self._last_ts / self._cycle_s) if np.isfinite(self._last_ts) else np.nan
            starts |= cycles != np.concatenate(([prev_cycle], cycles[:-1]))
        bounds = np.concatenate((np.flatnonzero(starts), [t.size]))
        scores = np.empty(t.size)
        alarms = np.empty(t.size, dtype=bool)
        warm = np.empty(t.size, dtype=bool)
        records: list[AlarmRecord] = []
        for start, hi in itertools.pairwise(bounds.tolist()):
            gap, lo = float(gaps[start]), start
            while lo < hi:  # a rebase ends a part early: the rest is scored against the new baseline
                used = self._segment(t[lo:hi], x[lo:hi], gap, records, scores[lo:hi], alarms[lo:hi], warm[lo:hi])
                lo += used
                gap = 0.0
        return scores, alarms, warm, records

    def _levels(
        self, y_all: FloatArray, ends: IntArray, first: int, seasonal: bool
    ) -> tuple[FloatArray, IntArray, FloatArray, IntArray]:
        """Level, its point count, trend slope and trend half-window at each block start ``ends``.

        The window never reaches before local index ``first`` (the last rebase or baseline reset).
        """
        p = self.params
        lo = np.maximum(ends - p.level_window, first)
        count = ends - lo
        level = np.full(ends.size, np.nan)
        full = (count >= p.level_window) & (ends >= p.level_window)
        if full.any():
            view = np.lib.stride_tricks.sliding_window_view(y_all, p.level_window)
            level[full] = np.median(view[ends[full] - p.level_window], axis=1)
        for j in np.flatnonzero(~full & (count >= p.min_history)).tolist():
            level[j] = np.median(y_all[lo[j] : ends[j]])
        slope = np.zeros(ends.size)
        half_w = np.zeros(ends.size, dtype=np.int64)
        if p.warmup_trend and not seasonal:
            # Until a seasonal profile is trusted the daily pattern is a local trend: extrapolate the
            # slope between the medians of the window's two halves, capped at what a daily pattern
            # can do (so a level shift in the window cannot throw the level far off). A partial window
            # uses halves of what it has, from 2 * min_history points.
            half_w = np.where(count >= 2 * p.min_history, np.minimum(count, p.level_window) // 2, 0)
            recent = np.full(ends.size, np.nan)
            older = np.full(ends.size, np.nan)
            for j in np.flatnonzero(half_w > 0).tolist():
                e, hj = int(ends[j]), int(half_w[j])
                recent[j] = np.median(y_all[e - hj : e])
                older[j] = np.median(y_all[e - 2 * hj : e - hj])
            use = half_w > 0
            hw = np.maximum(half_w, 1)
            cap = p.max_trend_per_hour * p.expected_interval_s / 3600.0
            if p.transform == "linear":
                cap = np.inf  # no natural unit for a linear metric's daily swing
            slope = np.where(use, np.clip((recent - older) / hw, -cap, cap), 0.0)
            level = np.where(use, recent + slope * (hw / 2 + 0.5), level)
        return level, count.astype(np.int64), slope, half_w.astype(np.int64)

    def _segment(
        self,
        t: FloatArray,
        x: FloatArray,
        gap: float,
        records: list[AlarmRecord],
        out_scores: FloatArray,
        out_alarms: BoolArray,
        out_warm: BoolArray,
    ) -> int:
        """Score points of one cycle without a resetting gap inside (vectorised); returns points used.

        A level alarm with ``rebase`` ends the part at the alarm: the baseline restarts at the onset.
        """
        p = self.params
        season, profile = self._profile(float(t[0]))
        if gap > (p.baseline_reset_gap if profile is not None else p.unseasoned_reset_gap):
            if p.keep_scale:  # the level restarts after the gap; the noise scale is still the series'
                self._level_start = self._n
            else:
                self._hist_t, self._hist_x, self._hist_r = np.empty(0), np.empty(0), np.empty(0)
                self._phi_pool = {}  # the series restarts: so does its noise model
                self._level_start = self._n
        if gap > p.cusum_reset_gap:
            self._reset_evidence()
        size = t.size
        n0 = self._n
        hist_n = self._hist_t.size
        base = n0 - hist_n  # global index of local index 0
        t_all = np.concatenate((self._hist_t, t))
        x_all = np.concatenate((self._hist_x, x))
        seasonal = season is not None and profile is not None
        y_all = x_all - season.offsets(profile, t_all) if season is not None and profile is not None else x_all

        # Baseline at the start of each block touched by this segment (global accepted-point index).
        first_block, last_block = n0 // p.block, (n0 + size - 1) // p.block
        ends = np.maximum(np.arange(first_block, last_block + 1, dtype=np.int64) * p.block - base, 0)
        first = max(self._level_start - base, 0)
        level, n_level, slope, half_w = self._levels(y_all, ends, first, seasonal)
        slow_level = np.full(ends.size, np.nan)
        w_slow = p.slow_level_window
        if w_slow and seasonal:
            # Slow reference: the median of the last w_slow deseasonalised points (a full window since
            # the last rebase or reset). The fast level follows a creep with a lag of about half its
            # window, so a slow ramp never builds level evidence; this one lags four times as much.
            full = (ends - first >= w_slow) & (ends >= w_slow)
            if full.any():
                view = np.lib.stride_tricks.sliding_window_view(y_all, w_slow)
                slow_level[full] = np.median(view[ends[full] - w_slow], axis=1)
        g = n0 + np.arange(size)
        blk = g // p.block - first_block
        lev = level[blk] + slope[blk] * (g % p.block)
        y = y_all[hist_n:]
        r_all = np.concatenate((self._hist_r, y - lev))

        # Scale: MAD of the residuals y - level (what z divides), falling back to the MAD of successive
        # differences while fewer than min_history residuals exist; their ratio gives the AR(1)
        # coefficient (see docs/latency.md).
        diffs = np.abs(np.diff(y_all)) if y_all.size > 1 else np.empty(0)
        first_sblock, last_sblock = n0 // p.scale_block, (n0 + size - 1) // p.scale_block
        s_starts = np.maximum(np.arange(first_sblock, last_sblock + 1, dtype=np.int64) * p.scale_block - base, 0)
        s_ends = np.maximum(s_starts - 1, 0)
        sd_diff = DIFF_MAD_TO_SD * window_medians(diffs, s_ends, p.scale_window, p.min_history)
        # Two robust scales of the residuals: the MAD (the centre of the law) and the 90th percentile
        # of |r| / 1.645 (the tail the CUSUMs read, z of 1.6-4). They agree on normal noise; heavy
        # tails or discrete values make the MAD too small, so the larger one is used.
        # keep_scale: residuals before the last rebase or reset still measure the noise (only those
        # against the old level since the change's onset were dropped), so the scale survives a level
        # shift and the detector is blind only while the new level fills (min_history points).
        s_first = 0 if p.keep_scale else first
        qs = nan_window_quantiles(np.abs(r_all), s_starts, p.scale_window, p.min_history, s_first, (0.5, 0.9))
        sd_res = np.maximum(MAD_TO_SD * qs[:, 0], Q90_TO_SD * qs[:, 1])
        if p.l1_scale_floor:
            # Discrete or zero-inflated metrics have MAD = q90 = 0: the mean absolute residual (normal:
            # sigma sqrt(2/pi)) is zero only on a constant series.
            l1 = nan_window_means(np.abs(r_all), s_starts, p.scale_window, p.min_history, s_first)
            sd_res = np.maximum(sd_res, L1_TO_SD * l1)
        have_res = np.isfinite(sd_res)
        scale = sd_res
        fin = np.concatenate(([0], np.cumsum(np.isfinite(r_all))))
        n_res = (fin[s_starts] - fin[np.maximum(s_starts - p.scale_window, s_first)]).astype(np.int64)
        tau = np.ones(scale.size)
        tau2 = np.ones(scale.size)
        # Pooled (phi_blocks > 1): sd_res, the larger of two scales, reads _SD_RES_BIAS high on normal
        # noise, which the single-block rule's estimate carries (+0.054 on i.i.d. data: within its own
        # error, but a pool of 22 would hold it in every block); the pooled estimate divides it out.
        bias = _SD_RES_BIAS if p.phi_blocks > 1 else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            raw_phi = 1.0 - np.square(bias * sd_diff / sd_res)
        usable = have_res & np.isfinite(raw_phi) & (n_res > 0)
        raw_phi = np.where(usable, np.clip(raw_phi, -1.0, 1.0), np.nan)
        if p.autocorrelation_correction:
            phi = self._pooled_phi(first_sblock, raw_phi, n_res)
            tau = (1.0 + phi) / (1.0 - phi)
            # z^2 of an AR(1) series has lag-k correlation phi^(2k): its own long-run variance factor.
            tau2 = (1.0 + phi**2) / (1.0 - phi**2)
        sblk = g // p.scale_block - first_sblock
        raw_sd = scale[sblk]
        infl = self._inflation(n_level[blk], half_w[blk], g % p.block, n_res[sblk])
        floor = (
            p.scale_floor
            if p.transform == "log"
            else np.maximum(p.scale_floor * np.abs(np.nan_to_num(lev)), p.scale_floor_abs) + 1e-12
        )
        sd = np.maximum(raw_sd, floor) * infl
        ok = np.isfinite(lev) & np.isfinite(raw_sd)
        z = np.where(ok, (y - np.where(ok, lev, 0.0)) / sd, 0.0)
        if p.mode == "regression" and not p.higher_is_worse:
            z = -z  # a drop (tokens/s) is the regression
        anomaly = p.mode == "anomaly"
        # Regression mode: a lone extreme point is held as a spike (adds nothing until the next point
        # confirms it). Anomaly mode: spikes count, through their own single-point statistic.
        extreme = (np.abs(z) if anomaly else z) > p.spike_z
        lone = extreme & ~np.concatenate(([self._last_extreme], extreme[:-1]))
        if anomaly:
            lone = np.zeros(size, dtype=bool)
        zc = np.clip(z, -p.clip, p.clip)
        zl = zc / np.sqrt(tau[sblk])  # effective-sample-size scaling of the level evidence

        # A burst shorter than level_min_points is not a sustained change: each point's evidence is
        # capped at level_h / level_min_points (a >= 30 % step still alarms within 5 points).
        cap = self._level_cap
        q_level = np.where(lone, 0, np.minimum(np.rint((zl - p.level_k) * QUANT).astype(np.int64), cap))
        q_down = (
            np.where(ok, np.minimum(np.rint((-zl - p.level_k) * QUANT).astype(np.int64), cap), 0) if anomaly else None
        )
        if p.spread_statistic == "scale":
            upper = ok if anomaly else ok & (zc > 0)
            # Two-sided (anomaly): the full-normal LLR, same formula (both halves carry evidence).
            # Each point's evidence is capped at spread_h / spread_min_points: heavy-tailed noise puts
            # pairs of |z| = 4 points close together far more often than a normal law does.
            # Divided by tau2, a correlated LLR sum keeps the iid CUSUM's ARL (Brownian approximation).
            llr = np.minimum(self._scale_a + self._scale_b * np.square(zc), self._llr_cap) / tau2[sblk]
            llr = np.where(upper, llr, 0.0)
            q_spread = np.where(lone, 0, np.rint(llr * QUANT).astype(np.int64))
        else:
            q_spread = np.where(lone, 0, np.where(ok & (zc > p.spread_threshold), self._q_up, self._q_down))
        s_level, e_level, carry_level = self._cusum(q_level, self._carry_level)
        slow_ok = ok & np.isfinite(slow_level[blk])
        s_slow, e_slow, carry_slow = np.zeros(size, dtype=np.int64), e_level, self._carry_slow
        if slow_ok.any():
            z_slow = np.where(slow_ok, (y - np.where(slow_ok, slow_level[blk], 0.0)) / sd, 0.0)
            if p.mode == "regression" and not p.higher_is_worse:
                z_slow = -z_slow
            zs = np.clip(z_slow, -p.clip, p.clip) / np.sqrt(tau[sblk])
            q_slow = np.where(slow_ok & ~lone, np.minimum(np.rint((zs - p.level_k) * QUANT).astype(np.int64), cap), 0)
            s_slow, e_slow, carry_slow = self._cusum(q_slow, self._carry_slow)
        elif self._carry_slow.size > 1:
            carry_slow = np.zeros(1, dtype=np.int64)
        s_spread, e_spread, carry_spread = self._cusum(q_spread, self._carry_spread)
        ratio = np.maximum(np.maximum(s_level, s_slow) / self._h_level, s_spread / self._h_spread)
        slow_only = ok & (s_slow >= self._h_level) & (s_level < self._h_level)
        e_up = e_slow  # padded sums of the up statistic that crossed (the slow one where only it did)
        cross_down = np.zeros(size, dtype=bool)
        spike = np.zeros(size, dtype=bool)
        carry_down = self._carry_down
        s_down = np.zeros(size, dtype=np.int64)
        e_down = e_level
        if q_down is not None:
            s_down, e_down, carry_down = self._cusum(q_down, self._carry_down)
            # A spike's evidence ratio is |z| / spike_z, linear in the size of the deviation like the level
            # CUSUM's S / h (a sum of z's): the max over statistics and the escalation's doubling then
            # compare changes of like size (squared, a spike twice the threshold counted four times and
            # escalated at 1.41 times the onset's z).
            spike_ratio = np.where(ok, np.abs(z) / p.spike_z, 0.0)
            ratio = np.maximum(ratio, np.maximum(s_down / self._h_level, spike_ratio))
            cross_down = ok & (s_down >= self._h_level)
            spike = ok & (spike_ratio >= 1.0)
        cross_up = ok & ((s_level >= self._h_level) | (s_slow >= self._h_level))
        cross = cross_up | cross_down | (ok & (s_spread >= self._h_spread)) | spike

        # A level alarm confirms the change: with rebase, the part ends there and the baseline restarts
        # at the onset (the change is absorbed, the score falls back), the alarm is held meanwhile.
        used = size
        # episode_score: a spike alone changes no baseline and spends no level evidence, so the part
        # goes on (a large shift's first points are spikes; the level CUSUM still confirms it).
        crossed = np.flatnonzero(cross & ~(spike & ~cross_up & ~cross_down & (s_spread < self._h_spread)))
        if not p.episode_score:
            crossed = np.flatnonzero(cross)
        if p.rebase and crossed.size:
            used = int(crossed[0]) + 1
        sl = slice(0, used)
        ratio, cross = ratio[sl], cross[sl]
        scores = self._calibrate(ratio, ok[sl])
        gu = g[sl]
        alarms = cross | (gu <= self._hold_until)
        if p.episode_score:
            # Every crossing (a spike too, which holds nothing else) keeps the alarm on for alarm_merge
            # points: episodes merge by their last crossing, so a burst of spikes is one episode.
            last = np.where(cross, gu, -1)
            last = np.maximum.accumulate(np.concatenate(([self._last_cross], last)))[1:]
            alarms |= (last >= 0) & (gu - last <= p.alarm_merge)
            if cross.any():
                self._last_cross = int(gu[np.flatnonzero(cross)[-1]])
        warm = ~ok[sl] | (infl[sl] > 1.0) | (bool(p.seasons) and not seasonal)

        alarm_idx = np.flatnonzero(alarms)
        onset_pt = np.zeros(used, dtype=bool)
        rebase_onset: int | None = None
        if alarm_idx.size:
            was = np.concatenate(([self._last_alarm], alarms[:-1]))
            prev_end = self._last_alarm_index
            for i in alarm_idx.tolist():
                gi = n0 + i
                if cross[i] and not was[i] and (prev_end is None or gi - prev_end > p.alarm_merge):
                    onset_pt[i] = True
                    records.append(
                        self._record(
                            i,
                            gi,
                            base,
                            hist_n,
                            t,
                            t_all,
                            x,
                            y,
                            y_all,
                            lev,
                            scores,
                            (s_level, s_down, s_spread),
                            (e_up if slow_only[i] else e_level, e_down, e_spread),
                            spike,
                            cross_up,
                            cross_down,
                        )
                    )
                prev_end = gi
            self._last_alarm_index = n0 + int(alarm_idx[-1])
        if p.episode_score:
            # One event, one high point: only the crossing that starts an episode (an alarm record)
            # keeps the +1/2; later crossings of the same episode score their rarity alone (< 1/2).
            # With escalation, a crossing whose evidence is at least twice the episode's strongest so
            # far keeps it too: a weak onset (a dip, a small spike) must not hide the large change that
            # follows it within alarm_merge points. Doubling bounds the extra high points per episode
            # by log2 of the evidence range.
            high = onset_pt.copy()
            peak = self._episode_peak
            for i in np.flatnonzero(cross).tolist():
                if onset_pt[i]:
                    peak = float(ratio[i])
                elif p.episode_escalation and ratio[i] >= 2.0 * peak:
                    high[i] = True
                    peak = float(ratio[i])
            self._episode_peak = peak
            scores = np.where(cross & ~high, scores - 0.5, scores)
        if p.rebase and crossed.size:
            i = used - 1
            if cross_up[i] or cross_down[i]:
                rebase_onset = n0 + self._onset((e_up if slow_only[i] else e_level) if cross_up[i] else e_down, i)
            elif spike[i] and s_spread[i] < self._h_spread:
                rebase_onset = -1  # a spike changes no baseline: only its evidence is spent
            else:
                rebase_onset = n0 + self._onset(e_spread, i)
        out_scores[:used] = scores
        out_alarms[:used] = alarms
        out_warm[:used] = warm

        for season in self._seasons:
            season.add(t[:used], x[:used])
        self._n = n0 + used
        self._last_ts = float(t[used - 1])
        keep = hist_n + used
        self._hist_t = t_all[:keep][-self._hist_len :].copy()
        self._hist_x = x_all[:keep][-self._hist_len :].copy()
        self._hist_r = r_all[:keep][-self._hist_len :].copy()
        # Blocks that started within the used points keep their estimate (a later segment starting
        # inside the last one recomputes it from the same residuals, as the scale is).
        last_sblock_used = (n0 + used - 1) // p.scale_block
        for j in range(first_sblock, last_sblock_used + 1):
            v = float(raw_phi[j - first_sblock])
            if math.isfinite(v):
                self._phi_pool[j] = (v, int(n_res[j - first_sblock]))
            else:
                self._phi_pool.pop(j, None)
        for j in [b for b in self._phi_pool if b <= last_sblock_used - p.phi_blocks]:
            del self._phi_pool[j]
        self._last_score = float(scores[-1])
        self._last_alarm = bool(alarms[-1])
        self._last_warming_up = bool(warm[-1])
        self._last_extreme = bool(extreme[used - 1])
        if rebase_onset is not None:
            # The alarm is held while the episode lasts: through the rebase (until the new baseline
            # has min_history points) and for alarm_merge points after any crossing.
            self._hold_until = max(self._hold_until, n0 + used - 1 + p.alarm_merge)
            if rebase_onset >= 0:  # the change is absorbed: level and scale restart at its onset
                self._level_start = max(rebase_onset, self._level_start)
                since = self._level_start - (self._n - self._hist_r.size)
                self._hist_r[max(since, 0) :] = np.nan  # residuals against the old level
                self._hold_until = max(self._hold_until, self._level_start + 2 * p.min_history + p.block)
            self._reset_evidence()
        else:
            self._carry_level, self._carry_spread, self._carry_down = carry_level, carry_spread, carry_down
            self._carry_slow = carry_slow
        return used

    def _pooled_phi(self, first_sblock: int, raw_phi: FloatArray, n_res: IntArray) -> FloatArray:
        """AR(1) coefficient of each scale block from ``first_sblock`` on (see ``_pool_phi``); earlier
        segments' estimates come from the pool. A block without an estimate (too few residuals: z is
        not scored there) gets 0, as before.
        """
        est: dict[int, tuple[float, int]] = {b: v for b, v in self._phi_pool.items() if b < first_sblock}
        phi = np.zeros(raw_phi.size)
        for i, (v, c) in enumerate(zip(raw_phi.tolist(), n_res.tolist(), strict=True)):
            if math.isfinite(v):
                est[first_sblock + i] = (v, int(c))
                phi[i] = self._pool_phi(est, first_sblock + i)
        return phi

    def _pool_phi(self, est: dict[int, tuple[float, int]], j: int) -> float:
        """The mean of the raw estimates of blocks ``j - phi_blocks + 1 .. j`` (those that have one),
        shrunk by the mean's standard error on i.i.d. noise (``pooled_phi_se``), clipped to [0, 0.9].

        ``math.fsum`` rounds the sum exactly, so the mean does not depend on how the stream was chunked.
        """
        p = self.params
        blocks = [b for b in range(j - p.phi_blocks + 1, j + 1) if b in est]
        if not blocks:
            return 0.0
        mean = math.fsum(est[b][0] for b in blocks) / len(blocks)
        offsets = tuple((b - j) * p.scale_block for b in blocks)
        counts = tuple(est[b][1] for b in blocks)
        # phi_blocks = 1 is the single-block rule: its estimate shrunk by 1.45 / sqrt(n).
        per_point = _PHI_POOL_SE_SQRT_N if p.phi_blocks > 1 else _PHI_SE_SQRT_N
        return min(max(mean - _pooled_phi_se_at(offsets, counts, per_point), 0.0), _PHI_MAX)

    @property
    def ar1_coefficient(self) -> float:
        """The shrunk, pooled AR(1) coefficient of the last scale block with an estimate (0: none yet)."""
        if not self._phi_pool:
            return 0.0
        return self._pool_phi(self._phi_pool, max(self._phi_pool))

    def _calibrate(self, ratio: FloatArray, ok: BoolArray) -> FloatArray:
        """Score = (1 - p) / 2, plus 1/2 where a statistic crosses its threshold (an alarm).

        ``p`` is the share of this series' earlier scored points with at least as much evidence, with
        ``calibration_prior`` pseudo-points of none (so a young series scores low). A score >= 0.5
        therefore means exactly "the detector alarms here", and its height says how rare that evidence
        is for this series.

        ``ratio`` is the strongest statistic relative to its decision threshold (1 = alarm). Under the
        model the CUSUM thresholds fix the false-alarm rate; real series have heavier tails and more
        correlation than any model, and their own history measures how rare the evidence really is, so
        one threshold on the score means the same rarity on every series. Causal: point i only sees
        points before it.
        """
        prior = self.params.calibration_prior
        scores = np.zeros(ratio.size)
        with np.errstate(divide="ignore"):
            bins = np.floor(np.log2(np.maximum(ratio, 1e-300) / _CAL_MIN_RATIO) * _CAL_BINS_PER_OCTAVE)
        bins = np.clip(bins, -1, _CAL_NBINS - 1).astype(np.int64)
        g_before = self._cal_n + np.cumsum(ok) - ok  # scored points before each point
        cal, size = self._cal, self._cal_block
        for i in np.flatnonzero(ok & (bins >= 0)).tolist():
            g, b = int(g_before[i]), int(bins[i])
            # The history is the last _CAL_RING complete blocks of scored points plus the current one.
            oldest = g // size - _CAL_RING
            for blk in [k for k in self._cal_blocks if k < oldest]:
                cal -= self._cal_blocks.pop(blk)
            n_before = g - max(oldest * size, 0)
            at_least = int(cal[b:].sum())
            tail = (at_least + 1.0) / (float(n_before) + prior)
            if self.params.tail_points and at_least < self.params.tail_points:
                tail = _hill_tail(cal, float(ratio[i]), self.params.tail_points, float(n_before) + prior, tail)
            rarity = 1.0 - tail
            scores[i] = 0.5 * max(rarity, 0.0) + (0.5 if ratio[i] >= 1.0 else 0.0)
            row = self._cal_blocks.get(g // size)
            if row is None:
                row = self._cal_blocks[g // size] = np.zeros(_CAL_NBINS, dtype=np.int64)
            row[b] += 1
            cal[b] += 1
        self._cal_n += int(np.count_nonzero(ok))
        return scores

    def _reset_evidence(self) -> None:
        self._carry_level = np.zeros(1, dtype=np.int64)
        self._carry_spread = np.zeros(1, dtype=np.int64)
        self._carry_down = np.zeros(1, dtype=np.int64)
        self._carry_slow = np.zeros(1, dtype=np.int64)
        self._last_extreme = False

    def _onset(self, padded: IntArray, i: int) -> int:
        """Segment-local index of the onset: the point after the last minimum of the cumulative sum.

        A spike held at zero and then confirmed ties with the minimum before it: it is the episode's
        first point, so the onset moves back over such ties.
        """
        w = self.params.cusum_window
        window = padded[i : i + w + 1]
        last_min = w - int(np.argmin(window[::-1]))
        while last_min > 0 and window[last_min - 1] == window[last_min]:
            last_min -= 1
        return i - w + last_min + 1

    def _record(
        self,
        i: int,
        gi: int,
        base: int,
        hist_n: int,
        t: FloatArray,
        t_all: FloatArray,
        x: FloatArray,
        y: FloatArray,
        y_all: FloatArray,
        lev: FloatArray,
        scores: FloatArray,
        stats: tuple[IntArray, IntArray, IntArray],
        sums: tuple[IntArray, IntArray, IntArray],
        spike: BoolArray,
        cross_up: BoolArray,
        cross_down: BoolArray,
    ) -> AlarmRecord:
        p = self.params
        if cross_up[i] or cross_down[i]:
            statistic, padded = "level", (sums[0] if cross_up[i] else sums[1])
        elif stats[2][i] >= self._h_spread:
            statistic, padded = "spread", sums[2]
        else:
            statistic, padded = "spike", None
        local = self._onset(padded, i) if padded is not None else i
        onset = max(self._n + local, self._level_start, base)
        lo = onset - base
        centre = float(np.median(y_all[lo : hist_n + i + 1]))
        baseline = float(lev[i] + x[i] - y[i])
        if p.transform == "log":
            mag, expected = float(np.expm1(centre - lev[i])), float(np.exp(baseline))
        else:
            mag, expected = (centre - float(lev[i])) / max(abs(float(lev[i])), 1e-12), baseline
        up = bool(cross_up[i]) or (not cross_down[i] and y[i] >= lev[i])
        if p.mode == "regression" and not p.higher_is_worse:
            up = not up
        return AlarmRecord(
            onset=float(t_all[lo]),
            detected_at=float(t[i]),
            onset_index=onset,
            detected_index=gi,
            magnitude=mag,
            score=float(scores[i]),
            statistic=statistic,  # type: ignore[arg-type]
            baseline=expected,
            direction="up" if up else "down",
        )

    def _inflation(self, n_level: IntArray, half_w: IntArray, step: IntArray, n_diff: IntArray) -> FloatArray:
        """Scale inflation for the estimation error of the baseline, relative to a full steady state.

        The CUSUM tail is set by a run of about ``L = level_h / level_k`` points; over such a run the
        level's error is common to every point, so the run sum has variance ``L (1 + L v)`` with ``v``
        the level estimator's variance in units of the noise variance (median of n: pi/(2n); trend
        extrapolated by ``a`` points from two half-window medians: pi/(2h) ((1 + a/h)^2 + (a/h)^2)).
        The scale estimate's relative variance is 1.64/n (MAD of n successive differences), i.e. a
        t-like law with ``nu = n / 3.28`` degrees of freedom; the CUSUM's tail quantile ``b`` is
        mapped by the Cornish-Fisher expansion of Student's t. Both factors are divided by their
        value at the steady state (full windows, no trend), so a warmed-up seasonal detector scores
        exactly as before and the warm-up keeps the steady state's false-alarm rate instead of a
        higher one.
        """
        p = self.params
        steady = (half_w == 0) & (n_level >= p.level_window) & (n_diff >= p.scale_window)
        if not p.uncertainty_correction or steady.all():
            return np.ones(n_level.size)
        hw = np.maximum(half_w, 1).astype(np.float64)
        a = (hw / 2.0 + 0.5 + step) / hw
        v = np.where(half_w > 0, _HALF_PI / hw * ((1.0 + a) ** 2 + a**2), _HALF_PI / np.maximum(n_level, 1))
        lvl = np.sqrt((1.0 + self._run * v) / (1.0 + self._run * self._v_full))
        nu = np.maximum(n_diff, 1) / _MAD_DIFF_RELVAR_N / 2.0
        return np.maximum(lvl * (self._t_ratio(nu) / self._t_ratio_full), 1.0)

    def _t_ratio(self, nu: FloatArray | float) -> FloatArray:
        """Student-t quantile / normal quantile at the CUSUM's tail quantile b (Cornish-Fisher)."""
        b = self._b
        return np.asarray(
            1.0 + (b**2 + 1.0) / (4.0 * nu) + (5.0 * b**4 + 16.0 * b**2 + 3.0) / (96.0 * np.square(nu)),
            dtype=np.float64,
        )

    def _profile(self, t0: float) -> tuple[SeasonalProfile | None, FloatArray | None]:
        """The longest trusted season and its profile for the segment's cycle, if any.

        ``t0`` is the segment's first point: slots before it are complete and can be finished.
        """
        for season in self._seasons:
            season.close_before(t0)
        for season in self._seasons:
            profile = season.offsets_for_cycle(int(np.floor(t0 / season.spec.period_s)))
            if profile is not None:
                return season, profile
        return None, None

    def _cusum(self, q: IntArray, carry: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """Window-limited one-sided CUSUM ``S_t = C_t - min(C_{t-w..t})`` on exact integer sums.

        Returns the statistic, the padded cumulative sums (for onset search) and the new carry: the
        last ``w`` cumulative sums relative to the newest, so the next chunk continues identically.
        """
        w = self.params.cusum_window
        cum = np.cumsum(q) + carry[-1]
        padded = np.concatenate((np.full(w - carry.size, INT_BIG, dtype=np.int64), carry, cum))
        stat = cum - sliding_min(padded, w + 1)
        tail = padded[-w:]
        tail = tail[tail != INT_BIG]
        return stat, padded, tail - cum[-1]


def detect(timestamps: ArrayLike, values: ArrayLike, params: LatencyParams | None = None) -> DetectionResult:
    """Score a whole series at once; identical to feeding the points one by one to ``update``."""
    det = LatencyDetector(params)
    out = det.update(timestamps, values)
    return DetectionResult(
        timestamps=np.asarray(timestamps, dtype=np.float64).ravel(),
        values=np.asarray(values, dtype=np.float64).ravel(),
        scores=out.scores,
        alarms=out.alarms,
        status=out.status,
        alarm_records=out.new_alarms,
        counts=det.counts,
        warming_up=out.warming_up,
    )

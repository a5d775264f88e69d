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
   scores: ``detect`` over a batch equals ``update`` point by point.
5. ``score = 1 - 2**(-max(S_level/level_h, S_spread/spread_h))`` (0.5 exactly at the threshold) and
   ``alarm = S_level >= level_h or S_spread >= spread_h``.

An alarm's onset is the point after the last minimum of the CUSUM's cumulative sum (the last time the
statistic was zero); its magnitude is ``exp(median(y[onset..t]) - m) - 1``.
"""

from __future__ import annotations

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
from llmops_sentinel.domain.latency.robust import DIFF_MAD_TO_SD, INT_BIG, sliding_min, window_medians
from llmops_sentinel.domain.latency.seasonal import SeasonalProfile
from llmops_sentinel.errors import BadInputError

#: Fixed-point scale of CUSUM increments (z units * 2**16): exact integer sums, 1.5e-5 resolution.
QUANT = 1 << 16

#: Variance of a sample median of n normal points, in units of sigma^2 / n.
_HALF_PI = math.pi / 2.0
#: n * relative variance of 1.4826/sqrt(2) * median |successive differences| of n normal points
#: (simulated: 1.61 at n = 30, 1.64 at n = 120 and 240).
_MAD_DIFF_RELVAR_N = 1.64

ArrayLike = Sequence[float] | FloatArray


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
        self._hist_len = max(p.level_window, p.scale_window + 1, p.cusum_window) + p.scale_block
        self._n = 0
        self._last_ts = -np.inf
        self._hist_t: FloatArray = np.empty(0)
        self._hist_x: FloatArray = np.empty(0)
        self._carry_level: IntArray = np.zeros(1, dtype=np.int64)
        self._carry_spread: IntArray = np.zeros(1, dtype=np.int64)
        self._last_score = 0.0
        self._last_alarm = False
        self._last_extreme = False
        self._last_alarm_index: int | None = None
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
        for carry in (state.carry_level, state.carry_spread):
            if not 1 <= len(carry) <= p.cusum_window or carry[-1] != 0:
                raise DetectorStateError("stored CUSUM carry is inconsistent")
        det._n = state.n_accepted
        det._last_ts = -np.inf if state.last_ts is None else state.last_ts
        det._hist_t = np.asarray(state.hist_ts, dtype=np.float64)
        det._hist_x = np.asarray(state.hist_x, dtype=np.float64)
        det._carry_level = np.asarray(state.carry_level, dtype=np.int64)
        det._carry_spread = np.asarray(state.carry_spread, dtype=np.int64)
        if state.version == 1 and p.spread_statistic == "scale":
            det._carry_spread = np.zeros(1, dtype=np.int64)  # exceedance evidence, other units
        det._last_score = state.last_score
        det._last_alarm = state.last_alarm
        det._last_extreme = state.last_extreme
        det._last_alarm_index = state.last_alarm_index
        by_name = {s.name: s for s in state.seasons}
        if set(by_name) - {s.spec.name for s in det._seasons}:
            raise DetectorStateError("stored seasons do not match the parameters")
        det._seasons = [SeasonalProfile(s.spec, by_name.get(s.spec.name)) for s in det._seasons]
        det._counts = {**det._counts, **state.counts}
        return det

    def state(self) -> DetectorState:
        return DetectorState(
            params=self.params,
            n_accepted=self._n,
            last_ts=None if not np.isfinite(self._last_ts) else float(self._last_ts),
            hist_ts=self._hist_t.tolist(),
            hist_x=self._hist_x.tolist(),
            carry_level=self._carry_level.tolist(),
            carry_spread=self._carry_spread.tolist(),
            last_score=self._last_score,
            last_alarm=self._last_alarm,
            last_extreme=self._last_extreme,
            last_alarm_index=self._last_alarm_index,
            seasons=[s.to_state() for s in self._seasons],
            counts=dict(self._counts),
        )

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    # ----------------------------------------------------------------- update
    def update(self, timestamps: ArrayLike, values: ArrayLike) -> UpdateResult:
        """Score points in arrival order; rejected points repeat the last score (see ``status``)."""
        ts = np.asarray(timestamps, dtype=np.float64).ravel()
        vs = np.asarray(values, dtype=np.float64).ravel()
        if ts.shape != vs.shape:
            raise BadInputError(f"{ts.size} timestamps but {vs.size} values")
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(ts) & np.isfinite(vs) & (vs > 0)
        prev = np.maximum.accumulate(np.concatenate(([self._last_ts], np.where(valid, ts, -np.inf))))[:-1]
        accepted = valid & (ts > prev)
        status = np.full(ts.size, PointStatus.INVALID, dtype=np.int8)
        status[accepted] = PointStatus.ACCEPTED
        status[valid & (ts == prev)] = PointStatus.DUPLICATE
        status[valid & (ts < prev)] = PointStatus.OUT_OF_ORDER
        for s in PointStatus:
            self._counts[s.name.lower()] += int(np.count_nonzero(status == s))

        before_score, before_alarm = self._last_score, self._last_alarm
        idx = np.flatnonzero(accepted)
        acc_scores, acc_alarms, records = self._process(ts[idx], np.log(vs[idx]))
        pos = np.cumsum(accepted) - 1
        has = pos >= 0
        scores = np.where(has, acc_scores[np.maximum(pos, 0)] if idx.size else 0.0, before_score)
        alarms = np.where(has, acc_alarms[np.maximum(pos, 0)] if idx.size else False, before_alarm)
        return UpdateResult(scores=scores, alarms=alarms.astype(bool), status=status, new_alarms=records)

    def _process(self, t: FloatArray, x: FloatArray) -> tuple[FloatArray, BoolArray, list[AlarmRecord]]:
        if t.size == 0:
            return np.empty(0), np.empty(0, dtype=bool), []
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
        records: list[AlarmRecord] = []
        for lo, hi in itertools.pairwise(bounds.tolist()):
            s, a = self._segment(t[lo:hi], x[lo:hi], float(gaps[lo]), records)
            scores[lo:hi] = s
            alarms[lo:hi] = a
        return scores, alarms, records

    def _segment(
        self, t: FloatArray, x: FloatArray, gap: float, records: list[AlarmRecord]
    ) -> tuple[FloatArray, BoolArray]:
        """Score points of one cycle without a resetting gap inside: everything here is vectorised."""
        p = self.params
        season, profile = self._profile(float(t[0]))
        if gap > (p.baseline_reset_gap if profile is not None else p.unseasoned_reset_gap):
            self._hist_t, self._hist_x = np.empty(0), np.empty(0)
        if gap > p.cusum_reset_gap:
            self._carry_level = np.zeros(1, dtype=np.int64)
            self._carry_spread = np.zeros(1, dtype=np.int64)
            self._last_extreme = False
        size = t.size
        n0 = self._n
        hist_n = self._hist_t.size
        t_all = np.concatenate((self._hist_t, t))
        x_all = np.concatenate((self._hist_x, x))
        seasonal = season is not None and profile is not None
        y_all = x_all - season.offsets(profile, t_all) if season is not None and profile is not None else x_all

        # Baseline at the start of each block touched by this segment (global accepted-point index).
        first_block, last_block = n0 // p.block, (n0 + size - 1) // p.block
        ends = np.arange(first_block, last_block + 1, dtype=np.int64) * p.block - (n0 - hist_n)
        ends = np.maximum(ends, 0)
        level = window_medians(y_all, ends, p.level_window, p.min_history)
        n_level = np.minimum(ends, p.level_window)
        slope = np.zeros(level.size)
        half_w = np.zeros(level.size, dtype=np.int64)  # trend half-window per block (0: no trend)
        if p.warmup_trend and not seasonal:
            # Until a seasonal profile is trusted the daily pattern is a local trend: extrapolate the
            # slope between the medians of the window's two halves, capped at what a daily pattern
            # can do (so a level shift in the window cannot throw the level far off). A partial window
            # (the stream's first level_window points) uses halves of what it has, from 2 * min_history.
            half = p.level_window // 2
            recent = window_medians(y_all, ends, half, half)
            older = window_medians(y_all, ends - half, half, half)
            full = ends >= 2 * half
            partial = ~full & (ends >= 2 * p.min_history)
            for j in np.flatnonzero(partial).tolist():
                e, hj = int(ends[j]), int(ends[j]) // 2
                recent[j] = np.median(y_all[e - hj : e])
                older[j] = np.median(y_all[e - 2 * hj : e - hj])
            use = full | partial
            half_w = np.where(full, half, np.where(partial, ends // 2, 0))
            hw = np.maximum(half_w, 1)
            cap = p.max_trend_per_hour * p.expected_interval_s / 3600.0
            slope = np.where(use, np.clip((recent - older) / hw, -cap, cap), 0.0)
            level = np.where(use, recent + slope * (hw / 2 + 0.5), level)
        diffs = np.abs(np.diff(y_all)) if y_all.size > 1 else np.empty(0)
        first_sblock, last_sblock = n0 // p.scale_block, (n0 + size - 1) // p.scale_block
        s_ends = np.arange(first_sblock, last_sblock + 1, dtype=np.int64) * p.scale_block - (n0 - hist_n)
        s_ends = np.maximum(s_ends - 1, 0)
        scale = DIFF_MAD_TO_SD * window_medians(diffs, s_ends, p.scale_window, p.min_history)
        g = n0 + np.arange(size)
        blk = g // p.block - first_block
        sblk = g // p.scale_block - first_sblock
        lev = level[blk] + slope[blk] * (g % p.block)
        raw_sd = scale[sblk]
        infl = self._inflation(n_level[blk], half_w[blk], g % p.block, np.minimum(s_ends, p.scale_window)[sblk])
        sd = np.maximum(raw_sd, p.scale_floor) * infl
        ok = np.isfinite(lev) & np.isfinite(raw_sd)
        y = y_all[hist_n:]
        z = np.where(ok, (y - np.where(ok, lev, 0.0)) / sd, 0.0)
        # A lone extreme point is held as a spike: it adds nothing until the next point confirms it.
        extreme = z > p.spike_z
        lone = extreme & ~np.concatenate(([self._last_extreme], extreme[:-1]))
        self._last_extreme = bool(extreme[-1])
        z = np.clip(z, -p.clip, p.clip)

        q_level = np.where(lone, 0, np.rint((z - p.level_k) * QUANT).astype(np.int64))
        if p.spread_statistic == "scale":
            llr = np.where(ok & (z > 0), self._scale_a + self._scale_b * np.square(z), 0.0)
            q_spread = np.where(lone, 0, np.rint(llr * QUANT).astype(np.int64))
        else:
            q_spread = np.where(lone, 0, np.where(ok & (z > p.spread_threshold), self._q_up, self._q_down))
        s_level, e_level, self._carry_level = self._cusum(q_level, self._carry_level)
        s_spread, e_spread, self._carry_spread = self._cusum(q_spread, self._carry_spread)
        ratio = np.maximum(s_level / self._h_level, s_spread / self._h_spread)
        scores = 1.0 - np.exp2(-ratio)
        alarms = ok & ((s_level >= self._h_level) | (s_spread >= self._h_spread))

        # Alarm records at rising edges that do not continue a recent episode.
        alarm_idx = np.flatnonzero(alarms)
        if alarm_idx.size:
            was = np.concatenate(([self._last_alarm], alarms[:-1]))
            prev_end = self._last_alarm_index
            for i in alarm_idx.tolist():
                gi = n0 + i
                if not was[i] and (prev_end is None or gi - prev_end > p.alarm_merge):
                    on_level = bool(s_level[i] >= self._h_level)
                    window = (e_level if on_level else e_spread)[i : i + p.cusum_window + 1]
                    last_min = p.cusum_window - int(np.argmin(window[::-1]))
                    # A spike held at zero and then confirmed ties with the minimum before it: it is
                    # the episode's first point, so the onset moves back over such ties.
                    while last_min > 0 and window[last_min - 1] == window[last_min]:
                        last_min -= 1
                    onset = gi - p.cusum_window + last_min + 1
                    lo = onset - (n0 - hist_n)
                    mag = float(np.expm1(np.median(y_all[lo : hist_n + i + 1]) - lev[i]))
                    records.append(
                        AlarmRecord(
                            onset=float(t_all[lo]),
                            detected_at=float(t[i]),
                            onset_index=onset,
                            detected_index=gi,
                            magnitude=mag,
                            score=float(scores[i]),
                            statistic="level" if on_level else "spread",
                            baseline=float(np.exp(lev[i] + x[i] - y[i])),
                        )
                    )
                prev_end = gi
            self._last_alarm_index = n0 + int(alarm_idx[-1])

        for season in self._seasons:
            season.add(t, x)
        self._n = n0 + size
        self._last_ts = float(t[-1])
        self._hist_t = t_all[-self._hist_len :].copy()
        self._hist_x = x_all[-self._hist_len :].copy()
        self._last_score = float(scores[-1])
        self._last_alarm = bool(alarms[-1])
        return scores, alarms

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
    )

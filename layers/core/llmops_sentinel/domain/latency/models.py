"""Typed parameters, records and results of the latency-regression detector.

Timestamps in the domain are epoch seconds (``float``, UTC); the CLI and adapters convert at the edge.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_sentinel.errors import ConfigError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class PointStatus(IntEnum):
    """What the detector did with one input point (same order as the ``counts`` keys)."""

    ACCEPTED = 0
    DUPLICATE = 1  # same timestamp as the last accepted point: the first value wins
    OUT_OF_ORDER = 2  # older than the last accepted point: rejected, never re-scored
    INVALID = 3  # timestamp or value not finite, or value <= 0 under the log transform


class SeasonSpec(BaseModel):
    """One seasonal profile: slot medians per cycle, used once ``min_cycles`` cycles are known."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    period_s: int = Field(gt=0, description="cycle length (86400 daily, 604800 weekly)")
    slot_s: int = Field(3600, gt=0, description="slot width; the profile is interpolated between slots")
    min_cycles: int = Field(3, ge=2, description="cycles of history a slot needs before it is trusted")
    max_cycles: int = Field(14, ge=2, description="cycles kept (older ones are forgotten)")
    min_coverage: float = Field(0.9, gt=0, le=1, description="share of slots that must be trusted")

    @model_validator(mode="after")
    def _check(self) -> SeasonSpec:
        if self.period_s % self.slot_s:
            raise ConfigError(f"season {self.name}: period_s must be a multiple of slot_s")
        if self.max_cycles < self.min_cycles:
            raise ConfigError(f"season {self.name}: max_cycles < min_cycles")
        return self


DAILY = SeasonSpec(name="daily", period_s=86_400, slot_s=3600, min_cycles=3, max_cycles=14)
WEEKLY = SeasonSpec(name="weekly", period_s=604_800, slot_s=3600, min_cycles=3, max_cycles=5)


Mode = Literal["regression", "anomaly"]


class LatencyParams(BaseModel):
    """Detector parameters. Defaults are derived in docs/latency.md (not tuned to one series).

    Window sizes count accepted points; gap thresholds count ``expected_interval_s``.
    ``mode``: ``regression`` (latency: upward, sustained changes; a lone spike is held until the next
    point confirms it) or ``anomaly`` (two-sided level CUSUMs, two-sided spread, and a single extreme
    point counts). ``for_mode`` gives each mode's defaults (``anomaly`` scores raw values: metrics
    other than latency can be zero or negative).
    """

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    mode: Mode = Field("regression", description="regression (upward, sustained) or anomaly (two-sided, spikes)")
    transform: Literal["log", "linear"] = Field(
        "log", description="log: relative changes (latency, values > 0); linear: any finite value"
    )
    higher_is_worse: bool = Field(
        True, description="regression mode: False for metrics whose drop is the regression (tokens/s)"
    )
    autocorrelation_correction: bool = Field(
        True, description="scale the level CUSUM for serial correlation (AR(1) effective sample size)"
    )
    rebase: bool = Field(
        True, description="after a level alarm, restart the baseline at the onset (the change is absorbed)"
    )
    keep_scale: bool = Field(
        False, description="a rebase or gap reset restarts the level only; the noise scale keeps its history"
    )
    episode_score: bool = Field(
        False,
        description="score >= 0.5 only where an alarm episode starts (one event, one high point); a lone "
        "spike spends no level evidence",
    )
    episode_escalation: bool = Field(
        False,
        description="with episode_score: a crossing inside an episode whose evidence is at least twice the "
        "episode's strongest so far scores >= 0.5 too (a weak onset does not hide the event that follows)",
    )
    l1_scale_floor: bool = Field(
        False, description="the noise scale is at least the mean absolute residual * sqrt(pi/2) (discrete metrics)"
    )

    expected_interval_s: float = Field(60.0, gt=0, description="metric period (CloudWatch Period)")
    level_window: int = Field(120, ge=8, description="points in the robust level (median) window")
    scale_window: int = Field(240, ge=8, description="successive differences in the scale (MAD) window")
    min_history: int = Field(30, ge=4, description="points needed since a reset before scoring")
    block: int = Field(16, ge=1, description="the level is refreshed every `block` accepted points")
    scale_block: int = Field(64, ge=1, description="the scale is refreshed every `scale_block` points")
    phi_blocks: int = Field(
        22,
        ge=1,
        description="the AR(1) coefficient is the mean of the last `phi_blocks` scale blocks' estimates "
        "(22 * 64 points: about a day of 1-minute points); 1: each block's own estimate",
    )
    scale_floor: float = Field(0.01, gt=0, description="lowest noise scale, log units (about 1 %)")
    scale_floor_abs: float = Field(
        0.0, ge=0, description="linear transform: lowest noise scale in the metric's units (error rate: 0.01)"
    )
    clip: float = Field(4.0, gt=0, description="robust z-scores are winsorised to [-clip, clip]")
    spike_z: float = Field(6.0, gt=0, description="a lone point above this z is held as a spike (adds 0)")
    warmup_trend: bool = Field(True, description="extrapolate a robust trend until a season is trusted")
    max_trend_per_hour: float = Field(
        0.1, ge=0, description="trend cap, log units per hour (a daily swing of +-38 % at its steepest)"
    )
    uncertainty_correction: bool = Field(
        True, description="inflate the scale for the baseline's estimation error while windows fill"
    )
    level_k: float = Field(1.0, ge=0, description="CUSUM reference for level shifts, in scale units")
    level_h: float = Field(6.0, gt=0, description="CUSUM decision interval for level shifts")
    spread_statistic: Literal["scale", "exceedance"] = Field(
        "scale", description="variance-burst CUSUM: half-normal scale LLR, or the legacy exceedance count"
    )
    spread_threshold: float = Field(2.0, gt=0, description="z above which a point counts as an exceedance")
    spread_ratio: float = Field(3.0, gt=1, description="noise-scale ratio the exceedance CUSUM is tuned to")
    calibration_horizon_s: float = Field(
        14 * 86_400.0, gt=0, description="score: rarity is judged against this much history (the daily season's)"
    )
    calibration_prior: int = Field(
        100, ge=1, description="score: pseudo-points of no evidence before the series' own history counts"
    )
    tail_points: int = Field(
        0,
        ge=0,
        description="score: beyond the m-th largest earlier evidence, rarity from a Hill (Pareto) tail over "
        "the m + 1 largest (0: empirical share only)",
    )
    level_min_points: int = Field(
        4, ge=1, description="the level CUSUM needs at least this many points (per-point evidence cap h/n)"
    )
    slow_level_window: int = Field(
        480,
        ge=0,
        description="a second level CUSUM against the median of this many deseasonalised points (a slow "
        "reference a creep cannot drag along); needs a trusted season and a full window; 0: off",
    )
    spread_min_points: int = Field(
        4, ge=1, description="the spread CUSUM needs at least this many points (per-point evidence cap h/n)"
    )
    spread_h: float = Field(11.5, gt=0, description="spread CUSUM threshold, nats (Wald: ARL0 >= e^h ~ 1e5)")
    cusum_window: int = Field(60, ge=2, description="evidence older than this many points is forgotten")
    cusum_reset_gap: float = Field(10.0, gt=1, description="a gap this long (in intervals) resets CUSUM")
    baseline_reset_gap: float = Field(1440.0, gt=1, description="a gap this long also resets the baseline")
    unseasoned_reset_gap: float = Field(
        60.0, gt=1, description="the same, while no seasonal profile is trusted (levels drift by hour)"
    )
    alarm_merge: int = Field(30, ge=0, description="alarms this close (points) form one episode")
    seasons: tuple[SeasonSpec, ...] = (WEEKLY, DAILY)

    @classmethod
    def for_mode(cls, mode: Mode, **overrides: object) -> LatencyParams:
        """Each mode's defaults (``anomaly``: linear values), with explicit overrides on top."""
        base: dict[str, object] = {"mode": mode}
        if mode == "anomaly":
            # Linear values; the noise scale survives level restarts (rebases, gaps), which need only
            # min_history points (the uncertainty correction inflates the young level's error); a gap
            # restarts the level only after a day, as with a trusted season; one high score per episode;
            # no slow reference (an upward-creep test for regressions, not a two-sided one).
            base.update(
                transform="linear",
                keep_scale=True,
                l1_scale_floor=True,
                episode_score=True,
                episode_escalation=True,
                tail_points=10,
                min_history=8,
                unseasoned_reset_gap=1440.0,
                spike_z=4.0,
                slow_level_window=0,
                phi_blocks=1,  # the pooled AR(1) estimate measured worse on NAB (68.82 -> 67.65)
            )
        return cls.model_validate({**base, **overrides})

    @model_validator(mode="after")
    def _check(self) -> LatencyParams:
        if self.min_history > min(self.level_window, self.scale_window):
            raise ConfigError("min_history must not exceed level_window or scale_window")
        if self.scale_block % self.block:
            raise ConfigError("scale_block must be a multiple of block")
        if min(self.baseline_reset_gap, self.unseasoned_reset_gap) < self.cusum_reset_gap:
            raise ConfigError("baseline reset gaps must be >= cusum_reset_gap")
        if self.seasons:
            shortest = min(s.period_s for s in self.seasons)
            if any(s.period_s % shortest for s in self.seasons):
                raise ConfigError("every season period must be a multiple of the shortest one")
            if len({s.name for s in self.seasons}) != len(self.seasons):
                raise ConfigError("season names must be unique")
        return self


class AlarmRecord(BaseModel):
    """One alarm episode, written when it is first detected (never revised afterwards)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    onset: float = Field(description="estimated start, epoch s (CUSUM last minimum)")
    detected_at: float = Field(description="timestamp of the point that raised the alarm, epoch s")
    onset_index: int = Field(ge=0, description="accepted-point index of the onset")
    detected_index: int = Field(ge=0, description="accepted-point index of the detection")
    magnitude: float = Field(description="relative level change since onset vs baseline (0.3 = +30 %)")
    score: float = Field(ge=0, le=1)
    statistic: Literal["level", "spread", "spike"] = Field(description="which statistic crossed first")
    direction: Literal["up", "down"] = Field("up", description="direction of the change (anomaly mode: both)")
    baseline: float = Field(description="expected value at detection, original units (> 0 under the log transform)")


class SeasonState(BaseModel):
    """Serialised seasonal profile: finished slot medians per cycle plus the slot being filled."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    name: str
    cycles: dict[int, list[float | None]] = Field(default_factory=dict)
    pending_slot: int | None = None
    pending_values: list[float] = Field(default_factory=list)


class DetectorState(BaseModel):
    """Everything a Lambda stores between invocations to resume exactly where it stopped."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    #: 2: ``carry_spread`` holds the scale CUSUM (default ``spread_statistic``). A version-1 state (the
    #: exceedance CUSUM) still loads: its spread evidence restarts from zero, everything else resumes.
    version: Literal[1, 2, 3] = 3
    params: LatencyParams
    n_accepted: int = 0
    last_ts: float | None = None
    hist_ts: list[float] = Field(default_factory=list)
    hist_x: list[float] = Field(default_factory=list)
    hist_r: list[float | None] = Field(default_factory=list, description="residuals y - level (None: unscored)")
    level_start: int = Field(0, ge=0, description="accepted-point index the level window may not reach before")
    hold_until: int = Field(-1, description="the alarm is held up to this accepted-point index (rebase)")
    carry_level: list[int] = Field(default_factory=lambda: [0])
    carry_spread: list[int] = Field(default_factory=lambda: [0])
    carry_down: list[int] = Field(default_factory=lambda: [0])
    carry_slow: list[int] = Field(default_factory=lambda: [0])
    last_warming_up: bool = True
    evidence_blocks: dict[int, dict[int, int]] = Field(
        default_factory=dict, description="score calibration: per block of scored points, points per evidence bin"
    )
    evidence_points: int = Field(0, ge=0, description="points scored so far (the histogram's total)")
    phi_pool: dict[
        Annotated[int, Field(ge=0)],
        tuple[Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)], Annotated[int, Field(ge=1)]],
    ] = Field(
        default_factory=dict,
        description="AR(1) pool: per scale block (index), its raw coefficient estimate (clipped to [-1, 1]) "
        "and residual count",
    )
    last_score: float = 0.0
    last_alarm: bool = False
    last_extreme: bool = False
    last_alarm_index: int | None = None
    episode_peak: float = Field(0.0, ge=0, description="strongest evidence ratio of the current episode")
    last_cross_index: int = Field(-1, description="accepted-point index of the last threshold crossing (-1: none)")
    seasons: list[SeasonState] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=lambda: {s.name.lower(): 0 for s in PointStatus})


class UpdateResult(BaseModel):
    """Per-input-point output of one ``update`` call (arrays aligned with the input)."""

    model_config = ConfigDict(defer_build=True, frozen=True, arbitrary_types_allowed=True)

    scores: FloatArray
    alarms: BoolArray
    status: npt.NDArray[np.int8]
    new_alarms: list[AlarmRecord]
    warming_up: BoolArray
    """True where the baseline is not yet in its steady state: no score yet, windows still filling,
    or (with seasons configured) no trusted seasonal profile; alarms there are possible but slower."""


class DetectionResult(BaseModel):
    """Output of the batch ``detect``: the same as feeding the points one by one."""

    model_config = ConfigDict(defer_build=True, frozen=True, arbitrary_types_allowed=True)

    timestamps: FloatArray
    values: FloatArray
    scores: FloatArray
    alarms: BoolArray
    status: npt.NDArray[np.int8]
    alarm_records: list[AlarmRecord]
    counts: dict[str, int]
    warming_up: BoolArray

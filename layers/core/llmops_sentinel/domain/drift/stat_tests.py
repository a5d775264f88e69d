"""Drift tests in a registry, multiple-testing control and the endpoint verdict.

Every test has one signature, ``(reference view, current view, spec) -> TestOutcome``, and is registered
by name with :func:`drift_test`; the monitor configuration picks tests by name (pydantic, ``extra="forbid"``,
discriminated on ``type``). A *view* is what a test reads: for numeric features a weighted sample (the
retained items of a KLL sketch with their weights, or the raw values with weight 1 -- so raw data gives
exactly scipy's numbers and profiles give them up to the sketch error), category counts, or an embedding
sample. Correction and aggregation live once, in :func:`check_drift`, above the tests.

Verdict of a feature with a p-value: significant after Benjamini-Hochberg across the window's features
**and** effect size at or above a practical floor (so that a million-row window does not alarm on a
negligible shift). Without a p-value (Wasserstein, PSI, Jensen-Shannon): statistic >= threshold.
Each feature also gets a severity (negligible / small / medium / large) from its effect measure and that
measure's scale (:data:`EFFECT_SCALES`, published anchors; docs/drift.md). Endpoint verdict
(:func:`endpoint_verdict`): one drifted feature of at least ``endpoint_severity``, or a critical feature
drifted, or the importance-weighted share of drifted features >= ``share_threshold``.

``scipy.special`` is imported inside the functions that need it: the module must import in milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops_sentinel.domain.drift.features import FeatureKind, FeatureTable
from llmops_sentinel.domain.drift.profiles import (
    CategoricalProfile,
    EndpointProfile,
    FeatureProfile,
    FloatArray,
    NumericProfile,
    _label,
)
from llmops_sentinel.domain.validation import all_errors
from llmops_sentinel.errors import ConfigError

# ------------------------------------------------------------------------------------------------ views


@dataclass(slots=True)
class NumericView:
    values: FloatArray  # sorted
    cum: FloatArray  # cumulative weights, leading 0, len(values)+1
    n: int  # true number of observations (not retained items)
    std: float
    iqr: float
    rank_error: float

    def cdf(self, z: FloatArray) -> FloatArray:
        out: FloatArray = self.cum[np.searchsorted(self.values, z, side="right")] / self.cum[-1]
        return out

    def quantile(self, q: FloatArray) -> FloatArray:
        idx = np.searchsorted(self.cum[1:] / self.cum[-1], q, side="left")
        return self.values[np.minimum(idx, self.values.size - 1)]


@dataclass(slots=True)
class CategoricalView:
    counts: dict[str, float]
    n: int


@dataclass(slots=True)
class EmbeddingView:
    sample: FloatArray  # (k, d)
    n: int


View = NumericView | CategoricalView | EmbeddingView


def _numeric_view(values: FloatArray, weights: FloatArray, n: int, std: float, rank_error: float) -> NumericView:
    cum = np.concatenate(([0.0], np.cumsum(weights)))
    view = NumericView(values, cum, n, std, 0.0, rank_error)
    if values.size:
        q1, q3 = view.quantile(np.array([0.25, 0.75]))
        view.iqr = float(q3 - q1)
    return view


def view_of_values(values: Any, kind: FeatureKind) -> View:
    """Raw values of one feature (``None`` = missing) -> an exact view."""
    if kind == "numeric":
        arr = np.asarray(values, dtype=np.float64)
        arr = np.sort(arr[np.isfinite(arr)])
        return _numeric_view(arr, np.ones(arr.size), int(arr.size), float(arr.std()) if arr.size else math.nan, 0.0)
    if kind == "embedding":
        vecs = [v for v in values if v is not None]
        mat = np.asarray(vecs, dtype=np.float64).reshape(len(vecs), -1)
        return EmbeddingView(mat, len(vecs))
    counts: dict[str, float] = {}
    for v in values:
        if v is not None:
            key = _label(v)
            counts[key] = counts.get(key, 0.0) + 1.0
    return CategoricalView(counts, int(sum(counts.values())))


def view_of_profile(profile: FeatureProfile) -> View:
    if isinstance(profile, NumericProfile):
        values, weights = profile.weighted_items()
        return _numeric_view(values, weights, profile.count, profile.std, profile.rank_error)
    if isinstance(profile, CategoricalProfile):
        return CategoricalView(profile.counts(), profile.count)
    return EmbeddingView(profile.reservoir, profile.count)


# ---------------------------------------------------------------------------------------- config models


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


Severity = Literal["negligible", "small", "medium", "large"]
SEVERITIES: tuple[Severity, ...] = ("negligible", "small", "medium", "large")


def severity_rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


class EffectScale(_Model):
    """Lower edges of the small / medium / large bands of one effect measure (below ``small``: negligible)."""

    small: float = Field(gt=0)
    medium: float = Field(gt=0)
    large: float = Field(gt=0)

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if not self.small < self.medium < self.large:
            raise ValueError("an effect scale needs small < medium < large")
        return self

    def severity(self, effect: float) -> Severity:
        if not effect >= self.small:  # NaN is negligible
            return "negligible"
        return "large" if effect >= self.large else "medium" if effect >= self.medium else "small"


def _tv_of_d(d: float) -> float:
    """Total variation distance between N(0, 1) and N(d, 1): 2 Phi(d/2) - 1 (= 1 - overlap)."""
    return math.erf(d / (2.0 * math.sqrt(2.0)))


# The default scale of each effect measure (docs/drift.md, "Effect scale", gives the sources).
# Constants: built with model_construct, so importing this module builds no pydantic validator (a
# ``drift check`` without a config never needs one); tests validate every entry.
_scale = EffectScale.model_construct
EFFECT_SCALES: dict[str, EffectScale] = {
    # numeric, KS test: total variation distance (lower bound: max of KS D and the binned TV), banded at
    # the TV of a normal location shift of Cohen's d = 0.2 / 0.5 / 0.8 (0.080 / 0.197 / 0.311)
    "tv": _scale(small=_tv_of_d(0.2), medium=_tv_of_d(0.5), large=_tv_of_d(0.8)),
    # numeric, W1 / reference std: equals |Cohen's d| for a location shift
    "wasserstein_sd": _scale(small=0.2, medium=0.5, large=0.8),
    # numeric, PSI: 0.1 / 0.25 industry convention; 0.64 = 0.8^2 (PSI ~ Jeffreys divergence = d^2)
    "psi": _scale(small=0.1, medium=0.25, large=0.64),
    # categorical / boolean: Cohen's h of the category whose share moved most, 0.2 / 0.5 / 0.8
    "cohens_h": _scale(small=0.2, medium=0.5, large=0.8),
    # embedding: unbiased MMD^2 (RBF, median bandwidth); no published bands: small = the test's floor
    "mmd2": _scale(small=0.005, medium=0.02, large=0.05),
}


class KSSpec(_Model):
    """Two-sample Kolmogorov-Smirnov; effect size = D (sup distance of the CDFs)."""

    type: Literal["ks"] = "ks"
    scale: EffectScale | None = None  # None: the measure's default (EFFECT_SCALES)
    effect_floor: float = Field(0.05, ge=0, le=1)


class WassersteinSpec(_Model):
    """W1 divided by the reference std (IQR if the std is 0); no p-value."""

    type: Literal["wasserstein"] = "wasserstein"
    scale: EffectScale | None = None  # None: the measure's default (EFFECT_SCALES)
    threshold: float = Field(0.1, gt=0)


class PSISpec(_Model):
    """Population stability index on bins at the reference's quantiles; no p-value."""

    type: Literal["psi"] = "psi"
    scale: EffectScale | None = None  # None: the measure's default (EFFECT_SCALES)
    threshold: float = Field(0.1, gt=0)
    bins: int = Field(10, ge=2, le=100)


class ChiSquareSpec(_Model):
    """Pearson chi-square on the 2 x K table; effect size = Cohen's w = sqrt(chi2 / n_eff)."""

    type: Literal["chisquare"] = "chisquare"
    scale: EffectScale | None = None  # None: the measure's default (EFFECT_SCALES)
    effect_floor: float = Field(0.1, ge=0)


class JensenShannonSpec(_Model):
    """Jensen-Shannon distance (base 2, in [0, 1]); no p-value."""

    type: Literal["jensenshannon"] = "jensenshannon"
    scale: EffectScale | None = None  # None: the measure's default (EFFECT_SCALES)
    threshold: float = Field(0.1, gt=0, le=1)


class MMDSpec(_Model):
    """MMD^2, RBF kernel with the median-distance bandwidth, permutation p-value (biased MMD^2 as the
    permutation statistic, unbiased MMD^2 as the effect size). The sample is capped (``max_sample`` per
    side), so power does not grow with the window and the floor can be small."""

    type: Literal["mmd"] = "mmd"
    scale: EffectScale | None = None  # None: the measure's default (EFFECT_SCALES)
    effect_floor: float = Field(0.005, ge=0)
    permutations: int = Field(1000, ge=20, le=20000)
    max_sample: int = Field(200, ge=10, le=2000)


TestSpec = Annotated[
    KSSpec | WassersteinSpec | PSISpec | ChiSquareSpec | JensenShannonSpec | MMDSpec,
    Field(discriminator="type"),
]


class DefaultTests(_Model):
    # defaults built without validation (each spec's own defaults), as MonitorConfig's below
    numeric: TestSpec = KSSpec.model_construct()
    categorical: TestSpec = ChiSquareSpec.model_construct()
    boolean: TestSpec = ChiSquareSpec.model_construct()
    embedding: TestSpec = MMDSpec.model_construct()


class FeatureMonitor(_Model):
    name: str
    test: TestSpec | None = None
    critical: bool = False  # drifted at any severity -> the endpoint drifted
    weight: float = Field(1.0, ge=0)  # importance in the drifted share (0: reported, never counted)
    endpoint_severity: Severity | None = None  # this feature alone flags the endpoint from this severity
    enabled: bool = True


class MonitorConfig(_Model):
    """What to profile and how to judge drift for one endpoint (YAML/JSON, validated at the boundary)."""

    version: Literal[1] = 1
    endpoint: str | None = None
    features: list[str] | None = None  # extractor names or groups for profiling; None = all
    alpha: float = Field(0.05, gt=0, lt=1)  # Benjamini-Hochberg false discovery rate
    share_threshold: float = Field(0.25, gt=0, le=1)  # weighted share of drifted features
    # one drifted feature of at least this severity flags the endpoint (docs/drift.md, "Endpoint verdict")
    endpoint_severity: Severity = "small"
    min_count: int = Field(30, ge=2)  # fewer observations on either side -> feature not tested
    defaults: DefaultTests = DefaultTests.model_construct()
    overrides: list[FeatureMonitor] = []
    seed: int = 0

    def override(self, name: str) -> FeatureMonitor | None:
        for item in self.overrides:
            if item.name == name:
                return item
        return None


def default_monitor_config() -> MonitorConfig:
    """``MonitorConfig()``, equal to it, without building its validator (~30 ms at process start)."""
    return MonitorConfig.model_construct()


def load_monitor_config(data: Mapping[str, Any] | None) -> MonitorConfig:
    """A decoded YAML/JSON mapping -> MonitorConfig, or ConfigError with pydantic's reasons on one line."""
    if data is None:
        return default_monitor_config()
    try:
        return MonitorConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid monitor config: {all_errors(exc)}") from None


# ------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True, slots=True)
class TestOutcome:
    statistic: float
    p_value: float | None
    threshold: float  # compared with the statistic when p_value is None, else the effect floor
    effect_size: float
    effect: float = math.nan  # on the severity measure below (EFFECT_SCALES)
    measure: str = ""


TestFn = Callable[[Any, Any, Any, np.random.Generator], TestOutcome]


@dataclass(frozen=True, slots=True)
class DriftTest:
    name: str
    kinds: tuple[FeatureKind, ...]
    fn: TestFn


_TESTS: dict[str, DriftTest] = {}


def drift_test(name: str, kinds: tuple[FeatureKind, ...]) -> Callable[[TestFn], TestFn]:
    def register(fn: TestFn) -> TestFn:
        if name in _TESTS:
            raise ValueError(f"drift test {name!r} is already registered")
        _TESTS[name] = DriftTest(name, kinds, fn)
        return fn

    return register


def run_test(spec: TestSpec, reference: View, current: View, rng: np.random.Generator | None = None) -> TestOutcome:
    test = _TESTS[spec.type]
    return test.fn(reference, current, spec, rng if rng is not None else np.random.default_rng(0))


# ---------------------------------------------------------------------------------------------- tests


def ks_statistic(reference: NumericView, current: NumericView) -> float:
    z = np.concatenate([reference.values, current.values])
    return float(np.max(np.abs(reference.cdf(z) - current.cdf(z)))) if z.size else 0.0


def ks_p_value(d: float, n: int, m: int) -> float:
    """Asymptotic two-sided p-value with the effective sample size n*m/(n+m)."""
    from llmops_sentinel.domain.drift.special import kolmogorov

    en = n * m / (n + m)
    return float(min(1.0, max(0.0, kolmogorov(math.sqrt(en) * d))))


@drift_test("ks", ("numeric",))
def _ks(reference: NumericView, current: NumericView, spec: KSSpec, rng: np.random.Generator) -> TestOutcome:
    d = ks_statistic(reference, current)
    tv = max(d, tv_binned(reference, current, TV_BINS))  # both are lower bounds of the TV distance
    return TestOutcome(d, ks_p_value(d, reference.n, current.n), spec.effect_floor, d, tv, "tv")


TV_BINS = 10


def tv_binned(reference: NumericView, current: NumericView, bins: int) -> float:
    """Total variation between the two distributions coarsened to bins at the reference's quantiles.

    Coarsening never increases TV (data-processing inequality), so this is a lower bound, as is KS's
    D; a spread change, which KS sees poorly (x1.5: D 0.10, TV 0.19), shows here.
    """
    edges = psi_bins(reference, bins)
    ref_cdf = np.concatenate(([0.0], reference.cdf(edges), [1.0]))
    cur_cdf = np.concatenate(([0.0], current.cdf(edges), [1.0]))
    return float(0.5 * np.abs(np.diff(ref_cdf) - np.diff(cur_cdf)).sum())


def wasserstein_distance(reference: NumericView, current: NumericView) -> float:
    """W1 between the two (weighted) empirical distributions: the integral of |F - G|."""
    allv = np.sort(np.concatenate([reference.values, current.values]))
    if allv.size < 2:
        return 0.0
    deltas = np.diff(allv)
    return float(np.sum(np.abs(reference.cdf(allv[:-1]) - current.cdf(allv[:-1])) * deltas))


@drift_test("wasserstein", ("numeric",))
def _wasserstein(
    reference: NumericView, current: NumericView, spec: WassersteinSpec, rng: np.random.Generator
) -> TestOutcome:
    w = wasserstein_distance(reference, current)
    scale = reference.std if reference.std > 0 else reference.iqr if reference.iqr > 0 else 1.0
    stat = w / scale
    return TestOutcome(stat, None, spec.threshold, stat, stat, "wasserstein_sd")


PSI_EPS = 1e-4


def psi_from_proportions(ref: FloatArray, cur: FloatArray) -> float:
    r = np.clip(ref, PSI_EPS, None)
    c = np.clip(cur, PSI_EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def psi_bins(reference: NumericView, bins: int) -> FloatArray:
    """Inner bin edges at the reference's quantiles (duplicates dropped: discrete data -> fewer bins).

    The quantiles are sorted already, so duplicates are dropped by comparing neighbours: what
    ``np.unique`` returns, without its import of ``numpy.ma`` (~20 ms in every ``drift check`` process).
    """
    edges = reference.quantile(np.arange(1, bins) / bins)
    out: FloatArray = edges[np.concatenate(([True], edges[1:] != edges[:-1]))] if edges.size else edges
    return out


@drift_test("psi", ("numeric",))
def _psi(reference: NumericView, current: NumericView, spec: PSISpec, rng: np.random.Generator) -> TestOutcome:
    edges = psi_bins(reference, spec.bins)
    ref_cdf = np.concatenate(([0.0], reference.cdf(edges), [1.0]))
    cur_cdf = np.concatenate(([0.0], current.cdf(edges), [1.0]))
    stat = psi_from_proportions(np.diff(ref_cdf), np.diff(cur_cdf))
    return TestOutcome(stat, None, spec.threshold, stat, stat, "psi")


def _table(reference: CategoricalView, current: CategoricalView) -> tuple[list[str], FloatArray, FloatArray]:
    keys = sorted(set(reference.counts) | set(current.counts))
    a = np.array([reference.counts.get(k, 0.0) for k in keys])
    b = np.array([current.counts.get(k, 0.0) for k in keys])
    keep = (a + b) > 0
    return [k for k, kk in zip(keys, keep, strict=True) if kk], a[keep], b[keep]


def chi_square(reference: CategoricalView, current: CategoricalView) -> tuple[float, int, float]:
    """Pearson chi-square of the 2 x K table (no Yates correction): (statistic, dof, Cohen's w)."""
    _keys, a, b = _table(reference, current)
    n, m = a.sum(), b.sum()
    if a.size < 2 or n == 0 or m == 0:
        return 0.0, max(a.size - 1, 0), 0.0
    total = a + b
    ea, eb = total * n / (n + m), total * m / (n + m)
    chi2 = float(np.sum((a - ea) ** 2 / ea) + np.sum((b - eb) ** 2 / eb))
    return chi2, int(a.size - 1), math.sqrt(chi2 / (n * m / (n + m)))


@drift_test("chisquare", ("categorical", "boolean"))
def _chisquare(
    reference: CategoricalView, current: CategoricalView, spec: ChiSquareSpec, rng: np.random.Generator
) -> TestOutcome:
    from llmops_sentinel.domain.drift.special import chdtrc

    chi2, dof, w = chi_square(reference, current)
    p = float(chdtrc(dof, chi2)) if dof > 0 else 1.0
    return TestOutcome(chi2, p, spec.effect_floor, w, max_cohens_h(reference, current), "cohens_h")


def jensen_shannon_distance(reference: CategoricalView, current: CategoricalView) -> float:
    _keys, a, b = _table(reference, current)
    if a.sum() == 0 or b.sum() == 0:
        return 0.0
    p, q = a / a.sum(), b / b.sum()
    mix = (p + q) / 2

    def kl(x: FloatArray) -> float:
        nz = x > 0
        return float(np.sum(x[nz] * np.log2(x[nz] / mix[nz])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


@drift_test("jensenshannon", ("categorical", "boolean"))
def _jensenshannon(
    reference: CategoricalView, current: CategoricalView, spec: JensenShannonSpec, rng: np.random.Generator
) -> TestOutcome:
    d = jensen_shannon_distance(reference, current)
    return TestOutcome(d, None, spec.threshold, d, max_cohens_h(reference, current), "cohens_h")


def cohens_h(p: FloatArray, q: FloatArray) -> FloatArray:
    """Cohen's h between proportions: |2 asin sqrt(q) - 2 asin sqrt(p)| (Cohen 1988, ch. 6)."""
    out: FloatArray = np.abs(2.0 * np.arcsin(np.sqrt(q)) - 2.0 * np.arcsin(np.sqrt(p)))
    return out


def max_cohens_h(reference: CategoricalView, current: CategoricalView) -> float:
    """Cohen's h of the category whose share moved most (a new category: h of 0 -> its share)."""
    _keys, a, b = _table(reference, current)
    if a.sum() == 0 or b.sum() == 0:
        return 0.0
    return float(np.max(cohens_h(a / a.sum(), b / b.sum())))


def rbf_kernel(x: FloatArray, bandwidth: float | None = None) -> tuple[FloatArray, float]:
    """Gaussian kernel matrix of the rows of ``x``; bandwidth by the median heuristic when None."""
    sq = np.sum(x * x, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)
    if bandwidth is None:
        off = d2[np.triu_indices_from(d2, k=1)]
        med = float(np.median(off[off > 0])) if np.any(off > 0) else 1.0
        bandwidth = math.sqrt(med / 2.0)
    return np.exp(-d2 / (2.0 * bandwidth * bandwidth)), bandwidth


def mmd2(kernel: FloatArray, n: int) -> float:
    """Biased MMD^2 of the first ``n`` rows against the rest, from the pooled kernel matrix."""
    m = kernel.shape[0] - n
    w = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    return float(w @ kernel @ w)


def mmd2_unbiased(kernel: FloatArray, n: int) -> float:
    """Unbiased MMD^2 (diagonals left out): about 0 without drift whatever the sample size."""
    m = kernel.shape[0] - n
    kxx, kyy, kxy = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    return float(
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2.0 * kxy.mean()
    )


@drift_test("mmd", ("embedding",))
def _mmd(reference: EmbeddingView, current: EmbeddingView, spec: MMDSpec, rng: np.random.Generator) -> TestOutcome:
    x = reference.sample[: spec.max_sample]
    y = current.sample[: spec.max_sample]
    n, m = x.shape[0], y.shape[0]
    kernel, _bw = rbf_kernel(np.vstack([x, y]))
    observed = mmd2(kernel, n)
    base = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    exceed = 0
    done = 0
    batch = 250
    while done < spec.permutations:
        size = min(batch, spec.permutations - done)
        weights = np.stack([rng.permutation(base) for _ in range(size)])  # (size, n+m)
        stats = np.einsum("ij,ij->i", weights @ kernel, weights)
        exceed += int(np.sum(stats >= observed - 1e-12))
        done += size
    p = (exceed + 1) / (spec.permutations + 1)
    effect = max(0.0, mmd2_unbiased(kernel, n))
    return TestOutcome(observed, p, spec.effect_floor, effect, effect, "mmd2")


# --------------------------------------------------------------------------------------- aggregation


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH-adjusted p-values (step-up): reject H_i at FDR q iff adjusted_i <= q."""
    m = len(p_values)
    if m == 0:
        return []
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


class _Result(BaseModel):
    """A result model: built by :func:`check_drift` from values it has already typed (``model_construct``).

    Validating them again would build pydantic's validator and serializer for the three result models and
    load its plugin machinery (``importlib.metadata``): ~0.08 s of CPU, a fifth of a ``drift check`` of a
    profile. ``as_dict`` is ``model_dump(mode="json")`` without the serializer (tested equal); a consumer
    that validates or serializes with pydantic still can (tests validate every report they build).
    """

    model_config = ConfigDict(defer_build=True, extra="forbid")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready builtins, equal to ``model_dump(mode="json")`` (fields in declaration order)."""
        return {name: _plain(getattr(self, name)) for name in type(self).model_fields}


def _plain(value: Any) -> Any:
    if isinstance(value, _Result):
        return value.as_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _float(value: Any) -> float:
    return float(value)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


class FeatureDrift(_Result):
    feature: str
    kind: FeatureKind
    method: str
    statistic: float
    p_value: float | None
    p_value_adjusted: float | None
    threshold: float
    effect_size: float
    effect_floor: float | None
    drifted: bool
    critical: bool
    n_reference: int
    n_current: int
    effect: float | None = None  # on ``effect_measure``; None when not finite
    effect_measure: str = ""
    severity: Severity = "negligible"
    weight: float = 1.0


class SkippedFeature(_Result):
    feature: str
    reason: str


class DriftReport(_Result):
    drifted: bool
    share_drifted: float
    share_threshold: float
    alpha: float
    drifted_features: list[str]
    critical_drifted: list[str]
    severity: Severity = "negligible"  # the largest severity among drifted features
    endpoint_severity: Severity = "small"
    reasons: list[str] = []  # why the endpoint drifted (empty: it did not)
    features: list[FeatureDrift]
    skipped: list[SkippedFeature]
    endpoint: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    records_reference: int = 0
    records_current: int = 0
    records_current_failed: int = 0


Source = EndpointProfile | FeatureTable


@dataclass(frozen=True, slots=True)
class Verdict:
    share: float
    severity: Severity
    critical: list[str]
    reasons: list[str]


def endpoint_verdict(features: list[FeatureDrift], cfg: MonitorConfig) -> Verdict:
    """Share and severity: the endpoint drifted when any of these holds (each gives a reason):

    - one drifted feature reaches its ``endpoint_severity`` (the feature's override, else the config's;
      default ``small``: a feature that moved significantly by at least a small effect);
    - a ``critical`` feature drifted, whatever its severity;
    - the weighted share of drifted features reaches ``share_threshold`` (many features, each a little).
    """
    drifted = [f for f in features if f.drifted]
    total = sum(f.weight for f in features)
    share = sum(f.weight for f in drifted) / total if total > 0 else 0.0
    reasons: list[str] = []
    for f in drifted:
        override = cfg.override(f.feature)
        needed = (
            override.endpoint_severity
            if override is not None and override.endpoint_severity
            else (cfg.endpoint_severity)
        )
        if f.weight > 0 and severity_rank(f.severity) >= severity_rank(needed):
            reasons.append(f"{f.feature}: {f.severity} effect ({f.effect_measure} {f.effect:.3g} >= {needed})")
    critical = [f.feature for f in drifted if f.critical]
    reasons.extend(f"{name}: critical feature drifted" for name in critical)
    if drifted and share >= cfg.share_threshold:
        reasons.append(f"{share:.0%} of features drifted (share threshold {cfg.share_threshold:.0%})")
    worst: Severity = max((f.severity for f in drifted), key=severity_rank, default="negligible")
    return Verdict(share, worst, critical, reasons)


def _kinds(source: Source) -> dict[str, FeatureKind]:
    if isinstance(source, EndpointProfile):
        return source.kinds
    return {n: k for n, k in source.kinds.items() if _has_values(source.values[n])}


def _has_values(values: Any) -> bool:
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return bool(np.isfinite(values).any())
    return any(v is not None for v in values)


def _view(source: Source, name: str) -> View:
    if isinstance(source, EndpointProfile):
        return view_of_profile(source.features[name])
    return view_of_values(source.values[name], source.kinds[name])


def _cochran_ok(reference: CategoricalView, current: CategoricalView) -> bool:
    """Chi-square's large-sample rule: at most 20 % of expected cell counts below 5."""
    _k, a, b = _table(reference, current)
    n, m = a.sum(), b.sum()
    if n == 0 or m == 0:
        return False
    expected = np.concatenate([(a + b) * n / (n + m), (a + b) * m / (n + m)])
    return bool(np.mean(expected < 5) <= 0.2)


def check_drift(
    baseline: Source,
    current: Source,
    config: MonitorConfig | None = None,
    rng: np.random.Generator | None = None,
) -> DriftReport:
    """Compare ``current`` with ``baseline`` feature by feature; BH across features; endpoint verdict.

    Either side may be an :class:`EndpointProfile` (sketches: cost independent of row count) or a
    :class:`FeatureTable` of raw values (exact). Features present on one side only are reported as skipped.
    """
    cfg = config or default_monitor_config()
    gen = rng if rng is not None else np.random.default_rng(cfg.seed)
    ref_kinds, cur_kinds = _kinds(baseline), _kinds(current)
    skipped: list[SkippedFeature] = []
    rows: list[dict[str, Any]] = []
    for name in sorted(set(ref_kinds) | set(cur_kinds)):
        override = cfg.override(name)
        if override is not None and not override.enabled:
            skipped.append(_skipped(feature=name, reason="disabled in config"))
            continue
        if name not in ref_kinds or name not in cur_kinds:
            side = "baseline" if name not in ref_kinds else "current window"
            skipped.append(_skipped(feature=name, reason=f"absent from the {side}"))
            continue
        kind = ref_kinds[name]
        if cur_kinds[name] != kind and {kind, cur_kinds[name]} != {"categorical", "boolean"}:
            skipped.append(_skipped(feature=name, reason=f"kind {kind} in baseline, {cur_kinds[name]} now"))
            continue
        ref_view, cur_view = _view(baseline, name), _view(current, name)
        if min(ref_view.n, cur_view.n) < cfg.min_count:
            skipped.append(
                _skipped(feature=name, reason=f"fewer than {cfg.min_count} values ({ref_view.n} vs {cur_view.n})")
            )
            continue
        spec: TestSpec = (
            override.test if override is not None and override.test is not None else getattr(cfg.defaults, kind)
        )
        if kind not in _TESTS[spec.type].kinds:
            raise ConfigError(f"feature {name}: test {spec.type!r} does not apply to {kind} features")
        if (
            (override is None or override.test is None)
            and spec.type == "chisquare"
            and isinstance(ref_view, CategoricalView)
            and isinstance(cur_view, CategoricalView)
            and not _cochran_ok(ref_view, cur_view)
        ):
            spec = JensenShannonSpec.model_construct()  # too many sparse categories for chi-square: distance instead
        outcome = run_test(spec, ref_view, cur_view, gen)
        rows.append(
            {
                "feature": name,
                "kind": kind,
                "method": spec.type,
                "outcome": outcome,
                "spec": spec,
                "override": override,
                "critical": bool(override is not None and override.critical),
                "n_reference": ref_view.n,
                "n_current": cur_view.n,
            }
        )
    with_p = [i for i, r in enumerate(rows) if r["outcome"].p_value is not None]
    adjusted = benjamini_hochberg([rows[i]["outcome"].p_value for i in with_p])
    adj_of = dict(zip(with_p, adjusted, strict=True))
    features: list[FeatureDrift] = []
    for i, r in enumerate(rows):
        o: TestOutcome = r["outcome"]
        if o.p_value is None:
            drifted = o.statistic >= o.threshold
            threshold, floor, p_adj = o.threshold, None, None
        else:
            p_adj = adj_of[i]
            drifted = p_adj <= cfg.alpha and o.effect_size >= o.threshold
            threshold, floor = cfg.alpha, o.threshold
        scale = r["spec"].scale or EFFECT_SCALES.get(o.measure)
        effect = o.effect if math.isfinite(o.effect) else None
        features.append(
            FeatureDrift.model_construct(
                feature=str(r["feature"]),
                kind=r["kind"],
                method=str(r["method"]),
                statistic=_float(o.statistic),
                p_value=_float_or_none(o.p_value),
                p_value_adjusted=_float_or_none(p_adj),
                threshold=_float(threshold),
                effect_size=_float(o.effect_size),
                effect_floor=_float_or_none(floor),
                drifted=bool(drifted),
                critical=bool(r["critical"]),
                n_reference=int(r["n_reference"]),
                n_current=int(r["n_current"]),
                effect=_float_or_none(effect),
                effect_measure=str(o.measure),
                severity=scale.severity(o.effect) if scale is not None else "negligible",
                weight=_float(r["override"].weight if r["override"] is not None else 1.0),
            )
        )
    verdict = endpoint_verdict(features, cfg)
    window = current if isinstance(current, EndpointProfile) else None
    ref_records = baseline.records_ok if isinstance(baseline, EndpointProfile) else baseline.n_records
    return DriftReport.model_construct(
        drifted=bool(verdict.reasons),
        share_drifted=_float(verdict.share),
        share_threshold=_float(cfg.share_threshold),
        alpha=_float(cfg.alpha),
        drifted_features=[f.feature for f in features if f.drifted],
        critical_drifted=list(verdict.critical),
        severity=verdict.severity,
        endpoint_severity=cfg.endpoint_severity,
        reasons=list(verdict.reasons),
        features=features,
        skipped=skipped,
        endpoint=cfg.endpoint or (window.endpoint if window else None),
        window_start=window.window_start if window else None,
        window_end=window.window_end if window else None,
        records_reference=int(ref_records),
        records_current=int(window.records_ok if window else current.n_records),  # type: ignore[union-attr]
        records_current_failed=int(window.records_failed if window else 0),
    )


def _skipped(feature: str, reason: str) -> SkippedFeature:
    return SkippedFeature.model_construct(feature=feature, reason=reason)

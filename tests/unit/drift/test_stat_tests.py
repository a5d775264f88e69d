"""Each drift test against scipy on the same data; sketch KS within the KLL bound; BH against the
published example; the verdict logic (effect floor, critical features, share)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from scipy import stats
from scipy.spatial.distance import cdist, jensenshannon
from scipy.special import rel_entr

from llmops_sentinel.domain.drift.features import FeatureTable
from llmops_sentinel.domain.drift.profiles import CategoricalProfile, EndpointProfile, NumericProfile
from llmops_sentinel.domain.drift.stat_tests import (
    EFFECT_SCALES,
    ChiSquareSpec,
    DefaultTests,
    DriftReport,
    EffectScale,
    EmbeddingView,
    FeatureMonitor,
    JensenShannonSpec,
    KSSpec,
    MMDSpec,
    MonitorConfig,
    NumericView,
    PSISpec,
    WassersteinSpec,
    benjamini_hochberg,
    check_drift,
    default_monitor_config,
    load_monitor_config,
    psi_bins,
    rbf_kernel,
    run_test,
    view_of_profile,
    view_of_values,
)
from llmops_sentinel.errors import ConfigError


@pytest.mark.parametrize(("n", "m", "shift"), [(300, 200, 0.3), (5_000, 3_000, 0.05), (20_000, 20_000, 0.0)])
def test_ks_matches_scipy(n: int, m: int, shift: float) -> None:
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=n), rng.normal(shift, 1.0, size=m)
    out = run_test(KSSpec(), view_of_values(a, "numeric"), view_of_values(b, "numeric"))
    ref = stats.ks_2samp(a, b, method="asymp")
    assert out.statistic == pytest.approx(ref.statistic, abs=1e-12)
    en = n * m / (n + m)
    assert out.p_value == pytest.approx(stats.kstwobign.sf(math.sqrt(en) * ref.statistic), rel=1e-9, abs=1e-300)
    # scipy's own large-sample p uses the finite-n distribution kstwo at round(en): close, and the
    # Kolmogorov limit is the conservative one in the tail
    assert abs(out.p_value - ref.pvalue) <= 0.01
    if ref.pvalue > 1e-12:
        assert 0.9 <= out.p_value / ref.pvalue <= 2.0


def test_ks_discrete_values_with_ties_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    a, b = rng.poisson(3, 800).astype(float), rng.poisson(3.3, 600).astype(float)
    out = run_test(KSSpec(), view_of_values(a, "numeric"), view_of_values(b, "numeric"))
    assert out.statistic == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)


def test_ks_from_sketches_within_kll_error() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=400_000), rng.normal(0.1, 1.1, size=150_000)
    pa, pb = NumericProfile.from_values(a), NumericProfile.from_values(b)
    out = run_test(KSSpec(), view_of_profile(pa), view_of_profile(pb))
    exact = stats.ks_2samp(a, b).statistic
    bound = pa.rank_error + pb.rank_error
    assert bound > 0
    assert abs(out.statistic - exact) <= bound
    assert view_of_profile(pa).n == a.size  # effective n uses the true counts, not retained items


def test_wasserstein_matches_scipy_and_is_normalised() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.gamma(2.0, 3.0, 4_000), rng.gamma(2.2, 3.0, 3_000)
    out = run_test(WassersteinSpec(), view_of_values(a, "numeric"), view_of_values(b, "numeric"))
    assert out.statistic == pytest.approx(stats.wasserstein_distance(a, b) / a.std(), rel=1e-9)
    assert out.p_value is None


def test_wasserstein_from_sketches_close_to_exact() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=200_000), rng.normal(0.2, 1.0, size=200_000)
    pa, pb = NumericProfile.from_values(a), NumericProfile.from_values(b)
    out = run_test(WassersteinSpec(), view_of_profile(pa), view_of_profile(pb))
    exact = stats.wasserstein_distance(a, b) / a.std()
    # |W_sketch - W| <= integral of the two CDF errors over the support
    bound = (pa.rank_error + pb.rank_error) * (max(pa.max, pb.max) - min(pa.min, pb.min)) / pa.std
    assert abs(out.statistic - exact) <= bound
    assert out.statistic == pytest.approx(exact, rel=0.2)  # in practice far inside the bound


def test_psi_matches_symmetric_kl_on_reference_quantile_bins() -> None:
    rng = np.random.default_rng(10)
    a, b = rng.normal(size=10_000), rng.normal(0.3, 1.2, size=8_000)
    va = view_of_values(a, "numeric")
    assert isinstance(va, NumericView)
    out = run_test(PSISpec(bins=10), va, view_of_values(b, "numeric"))
    edges = psi_bins(va, 10)
    np.testing.assert_allclose(edges, np.quantile(a, np.arange(1, 10) / 10, method="inverted_cdf"))
    # bins are (lo, hi]; np.histogram's are [lo, hi): move each edge just above the edge value
    full = np.concatenate(([-np.inf], np.nextafter(edges, np.inf), [np.inf]))
    pr = np.histogram(a, full)[0] / a.size
    pc = np.histogram(b, full)[0] / b.size
    assert out.statistic == pytest.approx(float(np.sum(rel_entr(pc, pr) + rel_entr(pr, pc))), rel=1e-6)


def test_psi_bins_drop_duplicate_edges_as_np_unique_does() -> None:
    rng = np.random.default_rng(11)
    for values in (rng.integers(0, 3, size=5_000).astype(float), np.r_[np.zeros(900), rng.normal(size=100)]):
        view = view_of_values(values, "numeric")
        assert isinstance(view, NumericView)
        edges = psi_bins(view, 10)
        expected = np.unique(view.quantile(np.arange(1, 10) / 10))
        assert edges.size < 9  # discrete data: fewer bins
        np.testing.assert_array_equal(edges, expected)


def _cats(seed: int, n: int, p: list[float]) -> list[str]:
    return list(np.random.default_rng(seed).choice(["a", "b", "c", "d", "e"], size=n, p=p))


def test_chisquare_matches_scipy_contingency() -> None:
    a = _cats(1, 1_000, [0.4, 0.3, 0.15, 0.1, 0.05])
    b = _cats(2, 700, [0.35, 0.3, 0.2, 0.1, 0.05])
    out = run_test(ChiSquareSpec(), view_of_values(a, "categorical"), view_of_values(b, "categorical"))
    keys = sorted(set(a) | set(b))
    table = np.array([[a.count(k) for k in keys], [b.count(k) for k in keys]])
    chi2, p, _dof, _ = stats.chi2_contingency(table, correction=False)
    assert out.statistic == pytest.approx(chi2, rel=1e-10)
    assert out.p_value == pytest.approx(p, rel=1e-8)
    en = 1_000 * 700 / 1_700
    assert out.effect_size == pytest.approx(math.sqrt(chi2 / en), rel=1e-10)


def test_chisquare_from_profiles_equals_raw_below_capacity() -> None:
    a, b = _cats(3, 2_000, [0.2] * 5), _cats(4, 2_000, [0.3, 0.2, 0.2, 0.2, 0.1])
    raw = run_test(ChiSquareSpec(), view_of_values(a, "categorical"), view_of_values(b, "categorical"))
    prof = run_test(
        ChiSquareSpec(),
        view_of_profile(CategoricalProfile.from_values(a)),
        view_of_profile(CategoricalProfile.from_values(b)),
    )
    assert prof.statistic == pytest.approx(raw.statistic, rel=1e-12)


def test_jensenshannon_matches_scipy() -> None:
    a = _cats(5, 900, [0.5, 0.2, 0.1, 0.1, 0.1])
    b = _cats(6, 500, [0.3, 0.3, 0.2, 0.1, 0.1])
    out = run_test(JensenShannonSpec(), view_of_values(a, "categorical"), view_of_values(b, "categorical"))
    keys = sorted(set(a) | set(b))
    assert out.statistic == pytest.approx(
        jensenshannon([a.count(k) for k in keys], [b.count(k) for k in keys], base=2), rel=1e-10
    )


def test_mmd_statistic_and_permutation_p_value_against_scipy() -> None:
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(60, 5)), rng.normal(0.4, 1.0, size=(50, 5))
    pooled = np.vstack([x, y])
    d2 = cdist(pooled, pooled, "sqeuclidean")
    bw = math.sqrt(np.median(d2[np.triu_indices(110, 1)]) / 2)
    k = np.exp(-d2 / (2 * bw * bw))
    kernel, bandwidth = rbf_kernel(pooled)
    assert bandwidth == pytest.approx(bw, rel=1e-9)
    np.testing.assert_allclose(kernel, k, atol=1e-9)

    def biased(i: np.ndarray, j: np.ndarray) -> float:
        return float(k[np.ix_(i, i)].mean() + k[np.ix_(j, j)].mean() - 2 * k[np.ix_(i, j)].mean())

    out = run_test(MMDSpec(permutations=2_000), EmbeddingView(x, 60), EmbeddingView(y, 50), rng)
    assert out.statistic == pytest.approx(biased(np.arange(60), np.arange(60, 110)), rel=1e-9)
    ref = stats.permutation_test(
        (np.arange(60), np.arange(60, 110)),
        lambda i, j: biased(i.astype(int), j.astype(int)),
        permutation_type="independent",
        n_resamples=2_000,
        alternative="greater",
        rng=np.random.default_rng(13),
        vectorized=False,
    )
    assert out.p_value is not None
    assert abs(out.p_value - ref.pvalue) <= 0.01 + 3 * math.sqrt(ref.pvalue * (1 - ref.pvalue) / 2_000)
    null = run_test(MMDSpec(permutations=500), EmbeddingView(x[:30], 30), EmbeddingView(x[30:], 30), rng)
    assert null.p_value is not None and null.p_value > 0.01
    assert abs(null.effect_size) < out.effect_size


def test_benjamini_hochberg_published_example() -> None:
    # Benjamini & Hochberg (1995), JRSS-B 57(1), section 4.1: 15 p-values, q = 0.05 -> 4 rejections.
    p = [
        0.0001,
        0.0004,
        0.0019,
        0.0095,
        0.0201,
        0.0278,
        0.0298,
        0.0344,
        0.0459,
        0.3240,
        0.4262,
        0.5719,
        0.6528,
        0.7590,
        1.000,
    ]
    adjusted = benjamini_hochberg(p)
    assert [a <= 0.05 for a in adjusted] == [True] * 4 + [False] * 11
    assert adjusted == pytest.approx(list(stats.false_discovery_control(p, method="bh")), rel=1e-12)
    shuffled = [p[i] for i in (3, 14, 0, 9, 7, 1, 2, 4, 5, 6, 8, 10, 11, 12, 13)]
    assert benjamini_hochberg(shuffled) == pytest.approx(
        list(stats.false_discovery_control(shuffled, method="bh")), rel=1e-12
    )


def _table(columns: dict[str, list[Any]], kinds: dict[str, str]) -> FeatureTable:
    n = len(next(iter(columns.values())))
    return FeatureTable(kinds=dict(kinds), values=dict(columns), n_records=n, n_rows=n)  # type: ignore[arg-type]


def test_effect_floor_stops_alarms_on_negligible_shifts_in_huge_windows() -> None:
    rng = np.random.default_rng(14)
    a, b = rng.normal(size=1_000_000), rng.normal(0.02, 1.0, size=1_000_000)  # 0.02 SD: significant, tiny
    report = check_drift(
        EndpointProfile({"x": NumericProfile.from_values(a)}, records_ok=a.size),
        EndpointProfile({"x": NumericProfile.from_values(b)}, records_ok=b.size),
    )
    f = report.features[0]
    assert f.p_value is not None and f.p_value < 1e-6
    assert f.effect_size < 0.05
    assert not f.drifted
    assert not report.drifted


def test_verdict_share_and_critical() -> None:
    rng = np.random.default_rng(15)
    n = 5_000
    ref = {f"f{i}": list(rng.normal(size=n)) for i in range(8)}
    cur = {f"f{i}": list(rng.normal(0.65 if i == 0 else 0.0, 1.0, size=n)) for i in range(8)}
    kinds = dict.fromkeys(ref, "numeric")
    base, now = _table(ref, kinds), _table(cur, kinds)
    plain = check_drift(base, now)
    assert plain.drifted_features == ["f0"]
    assert plain.share_drifted == pytest.approx(1 / 8)
    # 12.5 % < 25 %, but one feature moved by 0.65 SD: a medium effect flags the endpoint on its own
    assert plain.drifted and plain.severity == "medium" and plain.features[0].severity == "medium"
    assert plain.reasons == [f"f0: medium effect (tv {plain.features[0].effect:.3g} >= small)"]
    strict = MonitorConfig(endpoint_severity="large")
    assert not check_drift(base, now, strict).drifted  # share alone (the old rule): 12.5 % < 25 %
    critical = check_drift(
        base, now, strict.model_copy(update={"overrides": [FeatureMonitor(name="f0", critical=True)]})
    )
    assert critical.drifted and critical.critical_drifted == ["f0"]
    assert critical.reasons == ["f0: critical feature drifted"]
    low = check_drift(base, now, strict.model_copy(update={"share_threshold": 0.1}))
    assert low.drifted and low.reasons[0].startswith("12% of features drifted")
    heavy = check_drift(base, now, strict.model_copy(update={"overrides": [FeatureMonitor(name="f0", weight=3.0)]}))
    assert heavy.share_drifted == pytest.approx(3 / 10) and heavy.drifted  # importance-weighted share
    muted = check_drift(base, now, MonitorConfig(overrides=[FeatureMonitor(name="f0", endpoint_severity="large")]))
    assert muted.drifted_features == ["f0"] and not muted.drifted


def test_defaults_by_kind_and_size() -> None:
    rng = np.random.default_rng(16)
    many = [f"c{i}" for i in rng.integers(0, 400, size=600)]  # sparse: chi-square unreliable
    few = list(rng.choice(["a", "b"], size=600))
    base = _table(
        {"many": many, "few": few, "small": [1.0] * 10 + [None] * 590},
        {"many": "categorical", "few": "categorical", "small": "numeric"},
    )
    report = check_drift(base, base)
    methods = {f.feature: f.method for f in report.features}
    assert methods == {"many": "jensenshannon", "few": "chisquare"}
    assert [s.feature for s in report.skipped] == ["small"]


def test_config_validation() -> None:
    cfg = load_monitor_config({"alpha": 0.01, "overrides": [{"name": "x", "test": {"type": "psi", "bins": 20}}]})
    assert isinstance(cfg.overrides[0].test, PSISpec)
    with pytest.raises(ConfigError, match="unknown"):
        load_monitor_config({"alpha": 0.01, "unknown": 1})
    with pytest.raises(ConfigError, match="overrides"):
        load_monitor_config({"overrides": [{"name": "x", "test": {"type": "t-test"}}]})
    t = _table({"x": [1.0] * 50}, {"x": "numeric"})
    with pytest.raises(ConfigError, match="does not apply"):
        check_drift(t, t, MonitorConfig(overrides=[FeatureMonitor(name="x", test=ChiSquareSpec())]))


def test_unvalidated_defaults_equal_validated_ones() -> None:
    # the import-time constants and the default config skip validation (process start): they must be
    # what validation gives
    for name, scale in EFFECT_SCALES.items():
        assert EffectScale.model_validate(scale.model_dump()) == scale, name
    validated = MonitorConfig.model_validate({})
    assert default_monitor_config() == validated == load_monitor_config(None) == MonitorConfig()
    assert default_monitor_config().model_dump() == validated.model_dump()
    assert DefaultTests.model_validate({}) == validated.defaults
    assert validated.defaults.numeric == KSSpec.model_validate({})
    assert validated.defaults.categorical == validated.defaults.boolean == ChiSquareSpec.model_validate({})
    assert validated.defaults.embedding == MMDSpec.model_validate({})
    with pytest.raises(ValidationError):
        EffectScale.model_validate({"small": 0.5, "medium": 0.2, "large": 0.8})


def _exact_types(a: Any, b: Any) -> bool:
    """Equal, and of the same builtin types all the way down (a numpy float is not a float here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_exact_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_exact_types(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def test_reports_are_what_validation_gives_and_as_dict_is_model_dump() -> None:
    # check_drift builds its results with model_construct (no validator built in a CLI process): every
    # field must be the value and the builtin type validation would give, and as_dict the JSON dump
    rng = np.random.default_rng(17)
    n = 2_000
    ref = {
        "x": list(rng.normal(size=n)),
        "y": list(rng.gamma(2.0, size=n)),
        "w": list(rng.normal(size=n)),
        "c": list(rng.choice(["a", "b", "c"], size=n)),
        "sparse": [f"s{i}" for i in rng.integers(0, 900, n)],
        "small": [1.0] * 10 + [None] * (n - 10),
        "only_ref": list(rng.normal(size=n)),
        "e": [list(v) for v in rng.normal(size=(n, 4))],
    }
    cur = {k: v for k, v in ref.items() if k != "only_ref"}
    cur = {**cur, "x": list(rng.normal(0.4, 1.0, size=n)), "c": list(rng.choice(["a", "b", "d"], size=n))}
    kinds = {
        "x": "numeric",
        "y": "numeric",
        "w": "numeric",
        "c": "categorical",
        "sparse": "categorical",
        "small": "numeric",
        "only_ref": "numeric",
        "e": "embedding",
    }
    config = MonitorConfig(
        overrides=[
            FeatureMonitor(name="y", test=WassersteinSpec()),
            FeatureMonitor(name="w", test=PSISpec(), weight=2.0),
            FeatureMonitor(name="x", critical=True),
        ]
    )
    reports = [
        check_drift(
            _table(ref, kinds),
            _table(cur, {k: v for k, v in kinds.items() if k != "only_ref"}),
            config,
            rng=np.random.default_rng(1),
        ),
        check_drift(
            EndpointProfile({"x": NumericProfile.from_values(np.asarray(ref["x"]))}, records_ok=n),
            EndpointProfile({"x": NumericProfile.from_values(np.asarray(cur["x"]))}, records_ok=n),
        ),
    ]
    methods = {f.method for f in reports[0].features}
    assert methods == {"ks", "wasserstein", "psi", "chisquare", "jensenshannon", "mmd"}
    assert reports[0].skipped and reports[0].drifted
    for report in reports:
        validated = DriftReport.model_validate(report.model_dump())
        assert validated == report
        assert _exact_types(report.as_dict(), validated.model_dump(mode="json"))
        assert _exact_types(report.as_dict(), report.model_dump(mode="json"))

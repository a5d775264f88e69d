"""Profiles: merge is associative, merged == profile of the concatenation (within the sketch error),
serialisation round-trips, and versions are checked."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from llmops_sentinel.domain.drift.profiles import (
    CategoricalProfile,
    EmbeddingProfile,
    EndpointProfile,
    NumericProfile,
    ProfileFormatError,
    merge_all,
    merge_profiles,
    profile_from_json,
    profile_to_json,
)


def _parts(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.lognormal(3, 1, size=n) for n in (5_000, 20_000, 1_234)]


def test_numeric_merge_matches_concatenation() -> None:
    parts = _parts(1)
    parts[1][::97] = np.nan  # missing values
    merged = (
        NumericProfile.from_values(parts[0])
        .merge(NumericProfile.from_values(parts[1]))
        .merge(NumericProfile.from_values(parts[2]))
    )
    data = np.concatenate(parts)
    x = data[np.isfinite(data)]
    assert merged.count == x.size
    assert merged.missing == int(np.isnan(data).sum())
    assert merged.mean == pytest.approx(x.mean(), rel=1e-12)
    assert merged.variance == pytest.approx(x.var(), rel=1e-9)
    assert (merged.min, merged.max) == (x.min(), x.max())
    eps = merged.rank_error
    assert 0 < eps < 0.02
    qs = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
    for q in qs:
        est = merged.sketch.get_quantile(float(q))
        rank = np.mean(x <= est)
        assert abs(rank - q) <= eps, (q, rank)


def test_numeric_merge_is_associative() -> None:
    a, b, c = (NumericProfile.from_values(p) for p in _parts(2))
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    assert left.count == right.count
    assert left.mean == pytest.approx(right.mean, rel=1e-12)
    assert left.m2 == pytest.approx(right.m2, rel=1e-12)
    assert (left.min, left.max, left.missing) == (right.min, right.max, right.missing)
    grid = list(np.quantile(np.concatenate(_parts(2)), np.linspace(0.05, 0.95, 19)))
    diff = np.abs(np.array(left.sketch.get_cdf(grid)) - np.array(right.sketch.get_cdf(grid)))
    assert diff.max() <= 2 * left.rank_error


def test_merge_does_not_mutate_inputs() -> None:
    a, b = NumericProfile.from_values([1.0, 2.0]), NumericProfile.from_values([3.0])
    a.merge(b)
    assert (a.count, a.sketch.n, b.count) == (2, 2, 1)


def test_categorical_merge_exact_below_capacity() -> None:
    rng = np.random.default_rng(3)
    parts = [list(rng.choice(["a", "b", "c", "d"], size=n)) + [None] * 3 for n in (100, 250, 40)]
    profiles = [CategoricalProfile.from_values(p) for p in parts]
    left = profiles[0].merge(profiles[1]).merge(profiles[2])
    right = profiles[0].merge(profiles[1].merge(profiles[2]))
    flat = [v for p in parts for v in p if v is not None]
    expected = {k: float(flat.count(k)) for k in set(flat)}
    assert left.counts() == right.counts() == expected
    assert left.missing == 9
    assert left.max_error == 0.0


def test_categorical_heavy_hitters_beyond_capacity_stay_within_bound() -> None:
    rng = np.random.default_rng(4)
    heavy = list(rng.choice(["x", "y"], size=20_000))
    tail = [f"u{i}" for i in range(5_000)]  # far more distinct values than the sketch holds
    p = CategoricalProfile.from_values(heavy + tail)
    counts = p.counts()
    assert p.max_error > 0
    for key in ("x", "y"):
        assert abs(counts[key] - heavy.count(key)) <= p.max_error
    assert sum(counts.values()) == pytest.approx(len(heavy) + len(tail))


def test_embedding_reservoir_is_bounded_uniform_and_mean_exact() -> None:
    rng = np.random.default_rng(5)
    data = rng.normal(size=(5_000, 4)) + np.arange(5_000)[:, None] / 5_000  # drifts along the stream
    a, b = EmbeddingProfile(4, capacity=300), EmbeddingProfile(4, capacity=300)
    a.update(data[:3_000], rng)
    b.update(data[3_000:], rng)
    merged = a.merge(b, rng)
    assert merged.count == 5_000
    assert merged.reservoir.shape == (300, 4)
    np.testing.assert_allclose(merged.mean, data.mean(axis=0), rtol=1e-10)
    # uniform over the whole stream: the sample mean of the trend column is near the stream's mean
    trend = data[:, 0] - data[:, 1]
    assert abs((merged.reservoir[:, 0] - merged.reservoir[:, 1]).mean() - trend.mean()) < 0.25


def _endpoint(seed: int, n: int) -> EndpointProfile:
    rng = np.random.default_rng(seed)
    emb = EmbeddingProfile(3, capacity=50)
    emb.update(rng.normal(size=(n, 3)), rng)
    return EndpointProfile(
        {
            "latency_ms": NumericProfile.from_values(rng.lognormal(5, 0.5, size=n)),
            "finish_reason": CategoricalProfile.from_values(rng.choice(["stop", "length"], size=n)),
            "refusal_like": CategoricalProfile.from_values(list(rng.random(n) < 0.1), kind="boolean"),
            "embedding": emb,
        },
        "ep",
        f"2024-01-0{seed}T00:00:00Z",
        f"2024-01-0{seed}T00:10:00Z",
        n,
        seed,
    )


def test_endpoint_profile_round_trip() -> None:
    p = _endpoint(1, 800)
    blob = profile_to_json(p)
    doc = orjson.loads(blob)
    assert doc["version"] == 2
    q = profile_from_json(blob)
    assert profile_to_json(q) == blob
    ql, pl = q.features["latency_ms"], p.features["latency_ms"]
    qf, pf = q.features["finish_reason"], p.features["finish_reason"]
    qe, pe = q.features["embedding"], p.features["embedding"]
    assert isinstance(ql, NumericProfile) and isinstance(pl, NumericProfile)
    assert isinstance(qf, CategoricalProfile) and isinstance(pf, CategoricalProfile)
    assert isinstance(qe, EmbeddingProfile) and isinstance(pe, EmbeddingProfile)
    assert ql.sketch.get_quantile(0.5) == pl.sketch.get_quantile(0.5)
    assert qf.counts() == pf.counts()
    np.testing.assert_array_equal(qe.reservoir, pe.reservoir)
    assert (q.records_ok, q.records_failed, q.window_start) == (800, 1, p.window_start)


def test_endpoint_merge_windows_counts_and_absent_features() -> None:
    a, b, c = _endpoint(1, 300), _endpoint(2, 500), _endpoint(3, 200)
    del c.features["latency_ms"]
    merged = merge_all([a, b, c], np.random.default_rng(0))
    assert (merged.records_ok, merged.records_failed) == (1000, 6)
    assert (merged.window_start, merged.window_end) == (a.window_start, c.window_end)
    lat = merged.features["latency_ms"]
    assert isinstance(lat, NumericProfile)
    assert (lat.count, lat.missing) == (800, 200)  # c's records had no latency
    other = merge_profiles(a, merge_profiles(b, c))
    left, right = other.features["finish_reason"], merged.features["finish_reason"]
    assert isinstance(left, CategoricalProfile) and isinstance(right, CategoricalProfile)
    assert left.counts() == right.counts()


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"type": "endpoint_profile", "version": 3, "features": {}}, "version"),
        ({"version": 1, "features": {}}, "endpoint_profile"),
        ({"type": "endpoint_profile", "version": 1, "features": {"x": {"kind": "numeric", "sketch": "%%"}}}, "x"),
        ({"type": "endpoint_profile", "version": 1, "features": {"x": {"kind": "weird"}}}, "weird"),
    ],
)
def test_bad_profile_documents_raise(doc: dict[str, object], match: str) -> None:
    with pytest.raises(ProfileFormatError, match=match):
        profile_from_json(orjson.dumps(doc))


def test_empty_numeric_profile_serialises() -> None:
    p = EndpointProfile({"x": NumericProfile.empty()})
    x = profile_from_json(profile_to_json(p)).features["x"]
    assert isinstance(x, NumericProfile)
    assert x.count == 0
    assert math.isinf(x.min)

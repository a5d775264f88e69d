"""Mergeable, fixed-size profiles per feature and window, and their versioned JSON form.

- numeric: a KLL sketch with deterministic compaction (:class:`KLLSketch`, k=200: normalised rank error
  about 1.33 % at 99 % confidence whatever n) + exact count / mean / M2 (Welford within a batch, Chan et
  al. to merge) / min / max / missing.
- categorical and boolean: DataSketches ``frequent_strings_sketch`` (lg_max_k=10: exact while fewer than
  768 distinct values, otherwise each count within ``epsilon * total`` -- the heavy-hitter bound) + missing.
- embedding: a bounded uniform reservoir (Algorithm R, seeded ``numpy.random.Generator`` injected) plus an
  exact running sum, so the mean is exact and the sample is uniform over the merged window.

``merge`` never mutates its inputs. It is associative: exactly for counts, moments, min/max and (below
the capacity) category counts; for KLL quantiles and reservoirs up to the sketch's stated error (different
merge orders give different but equally valid summaries). Identical input -- the same values, batches and
merge order, the same seeded generator for reservoirs -- gives byte-identical profiles: the KLL's
compaction coins come from a fixed-seed stream, and the JSON form has sorted keys and canonical sketches.
"""

from __future__ import annotations

import base64
import copy
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import orjson
from datasketches import frequent_items_error_type, frequent_strings_sketch

from llmops_sentinel.domain.drift.features import FeatureKind, FeatureTable, extract_features
from llmops_sentinel.domain.drift.records import InferenceRecord, ParseResult
from llmops_sentinel.errors import BadInputError

PROFILE_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 held DataSketches KLL bytes (randomised compaction)
DEFAULT_KLL_K = 200
DEFAULT_LG_MAX_K = 10
DEFAULT_RESERVOIR = 200

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class ProfileFormatError(BadInputError):
    """A serialised profile is not one this version can read."""


class ProfileMismatchError(BadInputError):
    """Two profiles cannot be merged (different kinds, sketch sizes or embedding dimensions)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ProfileFormatError(f"{what}: sketch is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ProfileFormatError(f"{what}: sketch is not valid base64") from None


# ------------------------------------------------------------------------------------- quantile sketch

KLL_SEED = 0x5EED_D21F7  # coin stream of every sketch; fixed, so identical input gives identical bytes
_MASK64 = (1 << 64) - 1
_KLL_MIN_WIDTH = 8  # KLL's m: the smallest level capacity
_KLL_DECAY = 2.0 / 3.0  # KLL's c: capacity ratio between adjacent levels


def _coin(seed: int, counter: int) -> int:
    """Bit ``counter`` of a SplitMix64 stream: the compaction offset, pseudo-random and reproducible."""
    z = (seed + (counter + 1) * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) >> 63


class KLLSketch:
    """A KLL quantile sketch (Karnin, Lang & Liberty 2016) with deterministic compaction coins.

    The algorithm is the one of Apache DataSketches' ``kll_doubles_sketch`` (level capacities
    ``max(8, k * (2/3)^depth)``, lazy compression of the lowest over-full level, random offset per
    compaction), except that the offset bit comes from a SplitMix64 stream indexed by the sketch's
    compaction count instead of an unseeded global generator. The coins are independent of the data
    values, which is all the KLL error analysis uses, so the error bound is unchanged (checked in
    ``tests/unit/drift/test_profiles.py``); what changes is that identical input -- the same values in
    the same batches and merge order -- gives an identical sketch and identical serialised bytes.

    A batch is compacted as a whole: each compaction of a sorted level of weight ``2^h`` moves any rank
    by at most ``2^h``, whatever the level's length, so a large batch costs one sort per level instead of
    one compaction per ``k`` values. Exact while ``n <= k``.
    """

    __slots__ = ("compactions", "k", "levels", "n", "seed")

    def __init__(self, k: int = DEFAULT_KLL_K, seed: int = KLL_SEED) -> None:
        if not 8 <= k <= 65535:
            raise ValueError(f"KLL k must be in [8, 65535], got {k}")
        self.k = k
        self.n = 0
        self.levels: list[FloatArray] = [np.empty(0)]
        self.compactions = 0
        self.seed = seed

    def __copy__(self) -> KLLSketch:
        out = KLLSketch(self.k, self.seed)
        out.n, out.compactions, out.levels = self.n, self.compactions, list(self.levels)  # arrays not mutated
        return out

    def _capacity(self, h: int) -> int:
        depth = len(self.levels) - 1 - h
        return max(_KLL_MIN_WIDTH, math.ceil(self.k * _KLL_DECAY**depth))

    def is_estimation_mode(self) -> bool:
        return len(self.levels) > 1

    @staticmethod
    def normalized_rank_error(k: int) -> float:
        """DataSketches' empirical bound for KLL (single rank query, 99 % confidence): 1.33 % at k=200."""
        return float(2.296 / k**0.9723)

    @property
    def num_retained(self) -> int:
        return sum(int(lvl.size) for lvl in self.levels)

    def update(self, values: FloatArray) -> None:
        """Fold finite values in (the caller drops NaN and inf)."""
        if values.size == 0:
            return
        self.levels[0] = np.concatenate([self.levels[0], np.asarray(values, dtype=np.float64).ravel()])
        self.n += int(values.size)
        self._compress()

    def merge(self, other: KLLSketch) -> None:
        """Fold ``other`` in (in place; ``other`` is not changed). Levels add up, then compress."""
        if other.k != self.k:
            raise ProfileMismatchError(f"KLL k differs ({self.k} vs {other.k})")
        while len(self.levels) < len(other.levels):
            self.levels.append(np.empty(0))
        for h, lvl in enumerate(other.levels):
            if lvl.size:
                self.levels[h] = np.concatenate([self.levels[h], lvl])
        self.n += other.n
        self.compactions += other.compactions
        self._compress()

    def _compress(self) -> None:
        levels = self.levels
        caps = [self._capacity(h) for h in range(len(levels))]
        room = sum(caps)
        retained = sum(int(lvl.size) for lvl in levels)
        # hysteresis: compress once the sketch holds k/2 items more than its capacity, then down to the
        # capacity, so small updates pile up and compact together (fewer, larger compactions)
        if len(levels) > 1 and retained <= room + self.k // 2:
            return
        while retained > room:
            h = next(i for i, lvl in enumerate(levels) if lvl.size > caps[i])
            level = levels[h]
            # a level that one compaction filled is already sorted (every other item of a sorted run)
            ordered = level if bool((level[1:] >= level[:-1]).all()) else np.sort(level)
            keep = ordered[-1:] if ordered.size % 2 else ordered[:0]  # odd: the largest stays (no rank error)
            pairs = ordered[: ordered.size - keep.size]
            offset = _coin(self.seed, self.compactions)
            self.compactions += 1
            levels[h] = keep
            retained -= pairs.size // 2
            if h + 1 == len(levels):
                levels.append(np.empty(0))
                caps = [self._capacity(i) for i in range(len(levels))]
                room = sum(caps)
            up = pairs[offset::2]
            levels[h + 1] = np.concatenate([levels[h + 1], up]) if levels[h + 1].size else up

    def weighted_items(self) -> tuple[FloatArray, FloatArray]:
        """Retained items sorted, with their weights (``2^level``); weights sum to ``n``."""
        if self.n == 0:
            return np.empty(0), np.empty(0)
        values = np.concatenate(self.levels)
        weights = np.concatenate([np.full(lvl.size, float(2**h)) for h, lvl in enumerate(self.levels)])
        order = np.argsort(values, kind="stable")
        return values[order], weights[order]

    # DataSketches-compatible queries (``inclusive``: an item equal to the value counts as below it)

    def get_rank(self, value: float, inclusive: bool = True) -> float:
        values, weights = self.weighted_items()
        if values.size == 0:
            return math.nan
        side: Literal["left", "right"] = "right" if inclusive else "left"
        return float(weights[: np.searchsorted(values, value, side=side)].sum() / self.n)

    def get_cdf(self, split_points: Sequence[float], inclusive: bool = True) -> list[float]:
        return [self.get_rank(v, inclusive) for v in split_points] + [1.0]

    def get_quantile(self, rank: float, inclusive: bool = True) -> float:
        values, weights = self.weighted_items()
        if values.size == 0:
            return math.nan
        cum = np.cumsum(weights) / self.n
        idx = int(np.searchsorted(cum, rank, side="left" if inclusive else "right"))
        return float(values[min(idx, values.size - 1)])

    def to_dict(self) -> dict[str, Any]:
        """Canonical form: each level sorted, little-endian float64, base64."""
        levels = [np.sort(lvl) for lvl in self.levels]
        return {
            "k": self.k,
            "n": self.n,
            "seed": self.seed,
            "compactions": self.compactions,
            "levels": [int(lvl.size) for lvl in levels],
            "items": _b64(np.concatenate(levels).astype("<f8").tobytes()),
        }

    @classmethod
    def from_dict(cls, data: Any, name: str = "?") -> KLLSketch:
        if not isinstance(data, dict):
            raise ProfileFormatError(f"feature {name}: kll is not an object")
        try:
            out = cls(int(data["k"]), int(data["seed"]))
            sizes = [int(s) for s in data["levels"]]
            items = np.frombuffer(_unb64(data["items"], name), dtype="<f8").astype(np.float64)
            out.n, out.compactions = int(data["n"]), int(data["compactions"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileFormatError(f"feature {name}: bad KLL sketch ({exc})") from None
        if (
            not sizes
            or min(sizes) < 0
            or sum(sizes) != items.size
            or sum(s * 2**h for h, s in enumerate(sizes)) != out.n
            or not np.isfinite(items).all()
        ):
            raise ProfileFormatError(f"feature {name}: KLL levels do not add up to n={out.n}")
        bounds = np.cumsum([0, *sizes])
        out.levels = [items[bounds[h] : bounds[h + 1]] for h in range(len(sizes))]
        return out

    @classmethod
    def from_datasketches(cls, blob: bytes, name: str = "?") -> KLLSketch:
        """A profile-version-1 sketch (DataSketches KLL bytes): its items placed on their levels."""
        from datasketches import kll_doubles_sketch  # only for reading version-1 profiles

        try:
            old = kll_doubles_sketch.deserialize(blob)
        except (ValueError, RuntimeError) as exc:
            raise ProfileFormatError(f"feature {name}: bad version-1 KLL sketch ({exc})") from None
        out = cls(int(old.k))
        pairs = np.array(list(old), dtype=np.float64).reshape(-1, 2)
        if pairs.size:
            level_of = np.rint(np.log2(pairs[:, 1])).astype(np.int64)
            out.levels = [pairs[level_of == h, 0] for h in range(int(level_of.max()) + 1)]
        out.n = int(old.n)
        return out


# --------------------------------------------------------------------------------------------- numeric


@dataclass(slots=True)
class NumericProfile:
    sketch: KLLSketch
    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float = math.inf
    max: float = -math.inf
    missing: int = 0
    kind: FeatureKind = "numeric"

    @classmethod
    def empty(cls, k: int = DEFAULT_KLL_K) -> NumericProfile:
        return cls(KLLSketch(k))

    @classmethod
    def from_values(cls, values: Iterable[float | None] | FloatArray, k: int = DEFAULT_KLL_K) -> NumericProfile:
        profile = cls.empty(k)
        profile.update(np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=np.float64))
        return profile

    @property
    def k(self) -> int:
        return int(self.sketch.k)

    @property
    def variance(self) -> float:
        """Population variance (the same convention as Model Monitor's ``std_dev``)."""
        return self.m2 / self.count if self.count else math.nan

    @property
    def std(self) -> float:
        return math.sqrt(self.variance) if self.count else math.nan

    @property
    def rank_error(self) -> float:
        """Normalised rank error of the KLL sketch (99 % confidence); 0 while the sketch is exact."""
        if not self.sketch.is_estimation_mode():
            return 0.0
        return KLLSketch.normalized_rank_error(self.k)

    def update(self, values: FloatArray) -> None:
        """Fold an array in; NaN (and None converted to NaN) counts as missing, +-inf too."""
        finite = np.isfinite(values)
        x = values if finite.all() else values[finite]
        self.missing += int(values.size - x.size)
        n_b = int(x.size)
        if n_b == 0:
            return
        self.sketch.update(x)
        mean_b = float(x.mean())
        d = x - mean_b
        d *= d
        # not np.dot: BLAS wakes its thread pool for a 20k-vector dot (~6 ms on a shared 2-vCPU box,
        # 8x the KLL update); numpy's pairwise sum is as accurate and stays on this core.
        m2_b = float(d.sum())
        self._combine(n_b, mean_b, m2_b, float(x.min()), float(x.max()))

    def _combine(self, n_b: int, mean_b: float, m2_b: float, min_b: float, max_b: float) -> None:
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * n_a * n_b / n
        self.count = n
        self.min = min(self.min, min_b)
        self.max = max(self.max, max_b)

    def merge(self, other: NumericProfile) -> NumericProfile:
        if self.k != other.k:
            raise ProfileMismatchError(f"KLL k differs ({self.k} vs {other.k})")
        out = NumericProfile(
            copy.copy(self.sketch), self.count, self.mean, self.m2, self.min, self.max, self.missing + other.missing
        )
        if other.count:
            out.sketch.merge(other.sketch)
            out._combine(other.count, other.mean, other.m2, other.min, other.max)
        return out

    def weighted_items(self) -> tuple[FloatArray, FloatArray]:
        """Retained items sorted, with their weights: the sketch as a weighted sample."""
        if self.count == 0:
            return np.empty(0), np.empty(0)
        return self.sketch.weighted_items()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "mean": self.mean,
            "m2": self.m2,
            "min": self.min if self.count else None,
            "max": self.max if self.count else None,
            "missing": self.missing,
            "k": self.k,
            "kll": self.sketch.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "?") -> NumericProfile:
        try:
            if "kll" in data:
                sketch = KLLSketch.from_dict(data["kll"], name)
            else:  # version 1: DataSketches bytes
                sketch = KLLSketch.from_datasketches(_unb64(data["sketch"], name), name)
            count = int(data["count"])
            return cls(
                sketch,
                count,
                float(data["mean"]),
                float(data["m2"]),
                float(data["min"]) if count else math.inf,
                float(data["max"]) if count else -math.inf,
                int(data["missing"]),
            )
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ProfileFormatError(f"feature {name}: bad numeric profile ({exc})") from None


# ----------------------------------------------------------------------------------------- categorical


@dataclass(slots=True)
class CategoricalProfile:
    sketch: frequent_strings_sketch
    missing: int = 0
    kind: FeatureKind = "categorical"
    lg_max_k: int = DEFAULT_LG_MAX_K

    @classmethod
    def empty(cls, kind: FeatureKind = "categorical", lg_max_k: int = DEFAULT_LG_MAX_K) -> CategoricalProfile:
        return cls(frequent_strings_sketch(lg_max_k), 0, kind, lg_max_k)

    @classmethod
    def from_values(cls, values: Iterable[Any], kind: FeatureKind = "categorical") -> CategoricalProfile:
        profile = cls.empty(kind)
        profile.update(values)
        return profile

    @property
    def count(self) -> int:
        return int(self.sketch.total_weight)

    @property
    def max_error(self) -> float:
        """Upper bound on the error of any single count (0 while the sketch holds every value)."""
        items = self.sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES, 0)
        return float(max((ub - lb for _i, _e, lb, ub in items), default=0))

    def update(self, values: Iterable[Any]) -> None:
        counts = Counter(values)
        missing = counts.pop(None, 0)
        self.update_counts({_label(k): int(v) for k, v in counts.items()}, missing)

    def update_counts(self, counts: dict[str, int], missing: int = 0) -> None:
        self.missing += missing
        for key, weight in counts.items():
            if weight > 0:
                self.sketch.update(key, weight)

    def counts(self) -> dict[str, float]:
        """Category -> count estimate; mass the sketch no longer tracks goes to ``__other__``."""
        items = self.sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES, 0)
        out = {str(item): float(est) for item, est, _lb, _ub in items}
        rest = self.count - sum(out.values())
        if rest > 0.5:
            out["__other__"] = rest
        return out

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        if self.lg_max_k != other.lg_max_k:
            raise ProfileMismatchError(f"lg_max_k differs ({self.lg_max_k} vs {other.lg_max_k})")
        sketch = copy.copy(self.sketch)
        sketch.merge(other.sketch)
        return CategoricalProfile(sketch, self.missing + other.missing, self.kind, self.lg_max_k)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "lg_max_k": self.lg_max_k,
            "sketch": _b64(self.sketch.serialize()),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "?") -> CategoricalProfile:
        try:
            sketch = frequent_strings_sketch.deserialize(_unb64(data["sketch"], name))
            return cls(sketch, int(data["missing"]), data["kind"], int(data.get("lg_max_k", DEFAULT_LG_MAX_K)))
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise ProfileFormatError(f"feature {name}: bad categorical profile ({exc})") from None


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ------------------------------------------------------------------------------------------- embedding


@dataclass(slots=True)
class EmbeddingProfile:
    dim: int
    capacity: int = DEFAULT_RESERVOIR
    count: int = 0
    missing: int = 0
    total: FloatArray = field(default_factory=lambda: np.zeros(0))
    reservoir: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    kind: FeatureKind = "embedding"

    def __post_init__(self) -> None:
        if self.total.size == 0:
            self.total = np.zeros(self.dim)
        if self.reservoir.size == 0:
            self.reservoir = np.zeros((0, self.dim))

    @property
    def mean(self) -> FloatArray:
        return self.total / self.count if self.count else np.full(self.dim, np.nan)

    def update(self, vectors: FloatArray, rng: np.random.Generator) -> None:
        """Algorithm R over the batch: each of the ``count`` vectors seen is kept with equal chance."""
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ProfileMismatchError(f"embedding dimension {vectors.shape[-1]} != {self.dim}")
        self.total = self.total + vectors.sum(axis=0)
        seen = self.count
        take = min(max(self.capacity - self.reservoir.shape[0], 0), vectors.shape[0])
        if take:
            self.reservoir = np.vstack([self.reservoir, vectors[:take]])
        rest = vectors[take:]
        if rest.shape[0]:
            positions = np.arange(seen + take, seen + vectors.shape[0]) + 1  # 1-based stream position
            slots = rng.integers(0, positions)  # uniform in [0, position)
            keep = slots < self.capacity
            self.reservoir = self.reservoir.copy()
            for slot, vec in zip(slots[keep], rest[keep], strict=True):
                self.reservoir[slot] = vec
        self.count += vectors.shape[0]

    def merge(self, other: EmbeddingProfile, rng: np.random.Generator) -> EmbeddingProfile:
        """Uniform sample of the union: how many come from each side is hypergeometric in the counts."""
        if self.dim != other.dim or self.capacity != other.capacity:
            raise ProfileMismatchError("embedding profiles differ in dimension or capacity")
        out = EmbeddingProfile(
            self.dim, self.capacity, self.count + other.count, self.missing + other.missing, self.total + other.total
        )
        size = min(self.capacity, self.reservoir.shape[0] + other.reservoir.shape[0])
        if self.count + other.count <= self.capacity:
            out.reservoir = np.vstack([self.reservoir, other.reservoir])
            return out
        from_self = int(rng.hypergeometric(self.count, other.count, size))
        from_self = min(from_self, self.reservoir.shape[0])
        from_other = min(size - from_self, other.reservoir.shape[0])
        a = self.reservoir[rng.choice(self.reservoir.shape[0], from_self, replace=False)]
        b = other.reservoir[rng.choice(other.reservoir.shape[0], from_other, replace=False)]
        out.reservoir = np.vstack([a, b])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dim": self.dim,
            "capacity": self.capacity,
            "count": self.count,
            "missing": self.missing,
            "total": self.total.tolist(),
            "reservoir": _b64(self.reservoir.astype("<f8").tobytes()),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str = "?") -> EmbeddingProfile:
        try:
            dim = int(data["dim"])
            raw = np.frombuffer(_unb64(data["reservoir"], name), dtype="<f8")
            return cls(
                dim,
                int(data["capacity"]),
                int(data["count"]),
                int(data["missing"]),
                np.asarray(data["total"], dtype=np.float64),
                raw.reshape(-1, dim).astype(np.float64),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileFormatError(f"feature {name}: bad embedding profile ({exc})") from None


FeatureProfile = NumericProfile | CategoricalProfile | EmbeddingProfile


def merge_feature(a: FeatureProfile, b: FeatureProfile, rng: np.random.Generator) -> FeatureProfile:
    if isinstance(a, NumericProfile) and isinstance(b, NumericProfile):
        return a.merge(b)
    if isinstance(a, CategoricalProfile) and isinstance(b, CategoricalProfile) and a.kind == b.kind:
        return a.merge(b)
    if isinstance(a, EmbeddingProfile) and isinstance(b, EmbeddingProfile):
        return a.merge(b, rng)
    raise ProfileMismatchError(f"cannot merge a {a.kind} profile with a {b.kind} profile")


def _with_missing(p: FeatureProfile, extra: int) -> FeatureProfile:
    if extra == 0:
        return p
    if isinstance(p, NumericProfile):
        return NumericProfile(p.sketch, p.count, p.mean, p.m2, p.min, p.max, p.missing + extra)
    if isinstance(p, CategoricalProfile):
        return CategoricalProfile(p.sketch, p.missing + extra, p.kind, p.lg_max_k)
    return EmbeddingProfile(p.dim, p.capacity, p.count, p.missing + extra, p.total, p.reservoir)


# -------------------------------------------------------------------------------------------- endpoint


@dataclass(slots=True)
class EndpointProfile:
    """Feature profiles of one endpoint over one window, with record counts (ok / failed)."""

    features: dict[str, FeatureProfile] = field(default_factory=dict)
    endpoint: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    records_ok: int = 0
    records_failed: int = 0

    @property
    def kinds(self) -> dict[str, FeatureKind]:
        return {name: p.kind for name, p in self.features.items()}


def _min_opt(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _max_opt(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


def merge_profiles(a: EndpointProfile, b: EndpointProfile, rng: np.random.Generator | None = None) -> EndpointProfile:
    """Merge two windows' profiles. A feature one side never saw counts that side's records as missing."""
    gen = rng if rng is not None else np.random.default_rng(0)
    features: dict[str, FeatureProfile] = {}
    for name in {**a.features, **b.features}:
        pa, pb = a.features.get(name), b.features.get(name)
        if pa is not None and pb is not None:
            features[name] = merge_feature(pa, pb, gen)
        elif pa is not None:
            features[name] = _with_missing(pa, b.records_ok)
        elif pb is not None:
            features[name] = _with_missing(pb, a.records_ok)
    endpoint = a.endpoint if a.endpoint == b.endpoint or b.endpoint is None else (a.endpoint or b.endpoint)
    return EndpointProfile(
        features,
        endpoint,
        _min_opt(a.window_start, b.window_start),
        _max_opt(a.window_end, b.window_end),
        a.records_ok + b.records_ok,
        a.records_failed + b.records_failed,
    )


def merge_all(profiles: Sequence[EndpointProfile], rng: np.random.Generator | None = None) -> EndpointProfile:
    """Merge any number of partial profiles (e.g. one per Firehose invocation) into one window."""
    if not profiles:
        return EndpointProfile()
    out = profiles[0]
    for p in profiles[1:]:
        out = merge_profiles(out, p, rng)
    return out


def profile_column(
    name: str,
    kind: FeatureKind,
    col: Sequence[Any] | FloatArray | Counter[Any],
    *,
    rng: np.random.Generator | None = None,
    k: int = DEFAULT_KLL_K,
    reservoir: int = DEFAULT_RESERVOIR,
) -> FeatureProfile | None:
    """One feature's values -> its profile; None when the column has no value at all.

    ``col`` is one value per record (None = missing); numeric columns may be a float array (NaN =
    missing), categorical/boolean ones a ``Counter`` of raw values already counted (``None`` key = missing).
    """
    if kind == "numeric":
        arr = np.asarray(col, dtype=np.float64)
        if np.isnan(arr).all():
            return None
        p = NumericProfile.empty(k)
        p.update(arr)
        return p
    if kind == "embedding":
        vecs = [v for v in col if v is not None]
        if not vecs:
            return None
        try:
            mat = np.array(vecs, dtype=np.float64)
        except ValueError:
            raise ProfileMismatchError(f"feature {name}: embeddings of different lengths") from None
        e = EmbeddingProfile(mat.shape[1], reservoir)
        e.missing = len(col) - len(vecs)
        e.update(mat, rng if rng is not None else np.random.default_rng(0))
        return e
    counts = col.copy() if isinstance(col, Counter) else Counter(col)
    missing = counts.pop(None, 0)
    if not counts:
        return None
    c = CategoricalProfile.empty(kind)
    labelled: dict[str, int] = {}
    for key, n in counts.items():
        label = _label(key)
        labelled[label] = labelled.get(label, 0) + n
    c.update_counts(labelled, missing)
    return c


def profile_table(
    table: FeatureTable,
    *,
    rng: np.random.Generator | None = None,
    k: int = DEFAULT_KLL_K,
    reservoir: int = DEFAULT_RESERVOIR,
) -> dict[str, FeatureProfile]:
    """Columnar features -> one profile per feature. Features with no value at all are left out."""
    out: dict[str, FeatureProfile] = {}
    for name, kind in table.kinds.items():
        p = profile_column(name, kind, table.values[name], rng=rng, k=k, reservoir=reservoir)
        if p is not None:
            out[name] = p
    return out


def profile_batch(
    records: Sequence[InferenceRecord] | ParseResult,
    *,
    features: Sequence[str] | None = None,
    endpoint: str | None = None,
    failed: int = 0,
    rng: np.random.Generator | None = None,
    k: int = DEFAULT_KLL_K,
) -> EndpointProfile:
    """Records of one batch -> EndpointProfile (parse errors of a ``ParseResult`` count as failed)."""
    if isinstance(records, ParseResult):
        failed += len(records.errors)
        records = records.records
    table = extract_features(records, features)
    times = [r.inference_time for r in records if r.inference_time is not None]
    return EndpointProfile(
        profile_table(table, rng=rng, k=k),
        endpoint,
        min(times) if times else None,
        max(times) if times else None,
        len(records),
        failed,
    )


# ------------------------------------------------------------------------------------------ serialising


def profile_to_dict(profile: EndpointProfile) -> dict[str, Any]:
    return {
        "version": PROFILE_VERSION,
        "type": "endpoint_profile",
        "endpoint": profile.endpoint,
        "window_start": profile.window_start,
        "window_end": profile.window_end,
        "records_ok": profile.records_ok,
        "records_failed": profile.records_failed,
        "features": {name: p.to_dict() for name, p in sorted(profile.features.items())},
    }


def profile_to_json(profile: EndpointProfile) -> bytes:
    """Canonical bytes: sorted keys, orjson's shortest round-trip floats, sketches in canonical order."""
    return orjson.dumps(profile_to_dict(profile), option=orjson.OPT_SORT_KEYS)


def is_profile_document(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("type") == "endpoint_profile"


def profile_from_dict(doc: Any) -> EndpointProfile:
    if not is_profile_document(doc):
        raise ProfileFormatError('not an endpoint profile (missing "type": "endpoint_profile")')
    version = doc.get("version")
    if version not in READABLE_VERSIONS:
        raise ProfileFormatError(
            f"profile version {version!r} is not supported (expected one of {', '.join(map(str, READABLE_VERSIONS))})"
        )
    feats = doc.get("features")
    if not isinstance(feats, dict):
        raise ProfileFormatError("profile has no features object")
    features: dict[str, FeatureProfile] = {}
    for name, data in feats.items():
        if not isinstance(data, dict):
            raise ProfileFormatError(f"feature {name}: not an object")
        kind = data.get("kind")
        if kind == "numeric":
            features[name] = NumericProfile.from_dict(data, name)
        elif kind in ("categorical", "boolean"):
            features[name] = CategoricalProfile.from_dict(data, name)
        elif kind == "embedding":
            features[name] = EmbeddingProfile.from_dict(data, name)
        else:
            raise ProfileFormatError(f"feature {name}: unknown kind {kind!r}")
    try:
        return EndpointProfile(
            features,
            doc.get("endpoint"),
            doc.get("window_start"),
            doc.get("window_end"),
            int(doc.get("records_ok", 0)),
            int(doc.get("records_failed", 0)),
        )
    except (TypeError, ValueError) as exc:
        raise ProfileFormatError(f"bad record counts ({exc})") from None


def profile_from_json(data: bytes | str) -> EndpointProfile:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ProfileFormatError(f"profile is not JSON ({exc})") from None
    return profile_from_dict(doc)

"""Baselines: build one from data, or import a SageMaker Model Monitor ``statistics.json``.

A baseline is an :class:`EndpointProfile` like any window, so a check never cares where it came from.

Model Monitor import (data-quality ``statistics.json`` as written by the built-in analyzer, Deequ-based):

- numerical features (``Fractional``/``Integral``): count, mean, population ``std_dev``, min, max and
  missing are taken as they are (Deequ's ``std_dev`` is the population one: checked on the SDK fixture).
  The distribution is rebuilt from ``distribution.kll.sketch.data`` -- Deequ's KLL compactors, where an
  item on level h stands for 2**h observations -- into a DataSketches KLL; without sketch data, from
  ``kll.buckets`` (each bucket's count placed at its midpoint: the CDF is then exact at bucket edges only).
- string features: ``distribution.categorical.buckets`` -> category counts.
- bounded memory: a rebuilt distribution holds at most :data:`MAX_REBUILT_ITEMS` values (KLL levels
  thinned by an exact power of 2; bucket counts scaled down in proportion, each non-empty bucket kept),
  whatever counts the document claims; the sample size the tests use is ``num_present``, not the
  number of rebuilt values. Any field of the wrong shape or type raises :class:`StatisticsFormatError`.
- ``constraints.json`` (optional): ``monitoring_config.distribution_constraints.comparison_threshold`` is
  Model Monitor's threshold on its baseline drift *distance* (a CDF distance), which maps to the KS effect
  floor here (per feature with numerical constraints); a disabled comparison disables those features.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from llmops_sentinel.domain.drift.profiles import (
    CategoricalProfile,
    EndpointProfile,
    FeatureProfile,
    NumericProfile,
    is_profile_document,
    merge_all,
    profile_batch,
    profile_from_dict,
)
from llmops_sentinel.domain.drift.records import RecordError, parse_bytes
from llmops_sentinel.errors import BadInputError

if TYPE_CHECKING:  # the config models (pydantic) load only where a constraints file is folded in
    from llmops_sentinel.domain.drift.stat_tests import MonitorConfig

MAX_REBUILT_ITEMS = 4_000_000  # 32 MB of float64: a larger sketch is thinned, larger bucket counts scaled
MAX_KLL_LEVELS = 64


class StatisticsFormatError(BadInputError):
    """A Model Monitor statistics/constraints document does not have the expected shape."""


def is_statistics_document(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        return False
    return any(
        isinstance(f, dict) and ("numerical_statistics" in f or "string_statistics" in f) for f in doc["features"]
    )


def _float(value: Any, where: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):  # Model Monitor writes "NaN" as a string in places
        try:
            return float(value)
        except ValueError:
            pass
    raise StatisticsFormatError(f"{where}: not a number: {value!r:.40}")


def _finite(value: Any, where: str) -> float:
    number = _float(value, where)
    if not np.isfinite(number):
        raise StatisticsFormatError(f"{where}: not a finite number: {value!r:.40}")
    return number


def _count(value: Any, where: str) -> int:
    number = _finite(value, where)
    if number < 0:
        raise StatisticsFormatError(f"{where}: a count cannot be negative: {value!r:.40}")
    return round(number)


def _dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StatisticsFormatError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _from_levels(name: str, levels: list[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Deequ KLL compactor levels (an item on level h stands for 2**h values) -> the values, thinned."""
    if len(levels) > MAX_KLL_LEVELS or not all(isinstance(lvl, list) for lvl in levels):
        raise StatisticsFormatError(f"feature {name}: kll.sketch.data is not a list of at most {MAX_KLL_LEVELS} lists")
    try:
        arrays = [np.asarray(lvl, dtype=np.float64) for lvl in levels]
    except (TypeError, ValueError):
        raise StatisticsFormatError(f"feature {name}: kll.sketch.data holds a non-number") from None
    if not all(np.isfinite(a).all() for a in arrays):
        raise StatisticsFormatError(f"feature {name}: kll.sketch.data holds a non-finite number")
    weights = [2**h for h in range(len(arrays))]
    total = sum(a.size * w for a, w in zip(arrays, weights, strict=True))
    thin = 1
    while total // thin > MAX_REBUILT_ITEMS:
        thin *= 2
    parts = [np.repeat(a, max(w // thin, 1)) for a, w in zip(arrays, weights, strict=True) if a.size]
    return np.concatenate(parts)


def _from_buckets(name: str, buckets: list[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """KLL buckets -> each bucket's count at its midpoint, scaled so at most MAX_REBUILT_ITEMS values."""
    mids, counts = [], []
    for i, b in enumerate(buckets):
        where = f"{name}.kll.buckets[{i}]"
        if not isinstance(b, dict) or not {"lower_bound", "upper_bound", "count"} <= b.keys():
            raise StatisticsFormatError(f"{where}: a bucket needs lower_bound, upper_bound and count: {b!r:.80}")
        lo, hi = _finite(b["lower_bound"], f"{where}.lower_bound"), _finite(b["upper_bound"], f"{where}.upper_bound")
        mids.append((lo + hi) / 2)
        counts.append(_count(b["count"], f"{where}.count"))
    total = sum(counts)
    if total > MAX_REBUILT_ITEMS:  # proportional: the CDF at the bucket edges moves by < buckets / cap
        counts = [max(1, round(c * MAX_REBUILT_ITEMS / total)) if c else 0 for c in counts]
    return np.repeat(np.asarray(mids, dtype=np.float64), np.asarray(counts, dtype=np.int64))


def _numeric_from_statistics(name: str, stats: dict[str, Any]) -> NumericProfile:
    common = _dict(stats.get("common"), f"{name}.common")
    present = _count(common.get("num_present", 0), f"{name}.num_present")
    missing = _count(common.get("num_missing", 0), f"{name}.num_missing")
    profile = NumericProfile.empty()
    kll = _dict(_dict(stats.get("distribution"), f"{name}.distribution").get("kll"), f"{name}.kll")
    levels = _dict(kll.get("sketch"), f"{name}.kll.sketch").get("data")
    values: np.ndarray[Any, np.dtype[np.float64]] | None = None
    if isinstance(levels, list) and any(levels):
        values = _from_levels(name, levels)
    elif isinstance(kll.get("buckets"), list) and kll["buckets"]:
        values = _from_buckets(name, kll["buckets"])
    if values is None or values.size == 0:
        raise StatisticsFormatError(f"feature {name}: no KLL sketch data or buckets to rebuild a distribution")
    profile.sketch.update(values)
    profile.count = present
    profile.mean = _float(stats.get("mean"), f"{name}.mean")
    std = _float(stats.get("std_dev"), f"{name}.std_dev")
    profile.m2 = std * std * present
    profile.min = _float(stats.get("min"), f"{name}.min")
    profile.max = _float(stats.get("max"), f"{name}.max")
    profile.missing = missing
    return profile


def _categorical_from_statistics(name: str, stats: dict[str, Any]) -> CategoricalProfile:
    common = _dict(stats.get("common"), f"{name}.common")
    distribution = _dict(stats.get("distribution"), f"{name}.distribution")
    buckets = _dict(distribution.get("categorical"), f"{name}.categorical").get("buckets")
    if not isinstance(buckets, list):
        raise StatisticsFormatError(f"feature {name}: no categorical buckets")
    profile = CategoricalProfile.empty()
    counts: dict[str, int] = {}
    for b in buckets:
        if not isinstance(b, dict) or "value" not in b:
            raise StatisticsFormatError(f"feature {name}: bad categorical bucket {b!r:.60}")
        counts[str(b["value"])] = counts.get(str(b["value"]), 0) + _count(b.get("count"), f"{name}.count")
    profile.update_counts(counts, _count(common.get("num_missing", 0), f"{name}.num_missing"))
    return profile


def baseline_from_statistics(stats: Any, endpoint: str | None = None) -> EndpointProfile:
    """Model Monitor data-quality ``statistics.json`` (decoded) -> baseline profile."""
    if not is_statistics_document(stats):
        raise StatisticsFormatError("not a Model Monitor data-quality statistics document")
    features: dict[str, FeatureProfile] = {}
    for item in stats["features"]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise StatisticsFormatError(f"feature entry without a name: {item!r:.60}")
        name = item["name"]
        if isinstance(item.get("numerical_statistics"), dict):
            features[name] = _numeric_from_statistics(name, item["numerical_statistics"])
        elif isinstance(item.get("string_statistics"), dict):
            features[name] = _categorical_from_statistics(name, item["string_statistics"])
    count = _dict(stats.get("dataset"), "dataset").get("item_count")
    records = _count(count, "dataset.item_count") if count is not None else 0
    return EndpointProfile(features, endpoint, None, None, records, 0)


def config_from_constraints(constraints: Any, base: MonitorConfig | None = None) -> MonitorConfig:
    """Fold a Model Monitor ``constraints.json`` into a monitor config (KS floor, feature list)."""
    if not isinstance(constraints, dict) or not isinstance(constraints.get("features"), list):
        raise StatisticsFormatError("not a Model Monitor constraints document")
    from llmops_sentinel.domain.drift.stat_tests import FeatureMonitor, KSSpec, MonitorConfig

    cfg = base or MonitorConfig()
    monitoring = _dict(constraints.get("monitoring_config"), "monitoring_config")
    dist = _dict(monitoring.get("distribution_constraints"), "monitoring_config.distribution_constraints")
    threshold = dist.get("comparison_threshold")
    enabled = dist.get("perform_comparison", "Enabled") == "Enabled" and dist.get("enable_comparisons", True)
    overrides = list(cfg.overrides)
    known = {o.name for o in overrides}
    for item in constraints["features"]:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or item["name"] in known:
            continue
        test = None
        if threshold is not None and "num_constraints" in item:
            test = KSSpec(effect_floor=min(1.0, _float(threshold, "comparison_threshold")))
        overrides.append(FeatureMonitor(name=item["name"], test=test, enabled=bool(enabled)))
    return cfg.model_copy(update={"overrides": overrides})


def build_baseline(
    data: Sequence[bytes],
    *,
    features: Sequence[str] | None = None,
    endpoint: str | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[EndpointProfile, list[RecordError]]:
    """Raw data blobs (JSONL, JSON, CSV) -> one baseline profile plus the per-record errors."""
    profiles: list[EndpointProfile] = []
    errors: list[RecordError] = []
    for blob in data:
        result = parse_bytes(blob)
        errors.extend(result.errors)
        profiles.append(profile_batch(result, features=features, endpoint=endpoint, rng=rng))
    return merge_all(profiles, rng), errors


def load_profile_source(
    path: str | Path,
    *,
    features: Sequence[str] | None = None,
    endpoint: str | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[EndpointProfile, str, list[RecordError]]:
    """One file -> (profile, what it was: "profile" | "statistics" | "data", record errors).

    A profile JSON is read as is, a Model Monitor statistics.json is imported, anything else is data.
    """
    p = Path(path)
    try:
        blob = p.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{p}: cannot read ({exc.strerror or exc})") from None
    head = blob.lstrip()[:1]
    if head == b"{":
        try:
            doc = orjson.loads(blob)
        except orjson.JSONDecodeError:
            doc = None
        if is_profile_document(doc):
            return profile_from_dict(doc), "profile", []
        if is_statistics_document(doc):
            return baseline_from_statistics(doc, endpoint), "statistics", []
    profile, errors = build_baseline([blob], features=features, endpoint=endpoint, rng=rng)
    return profile, "data", errors

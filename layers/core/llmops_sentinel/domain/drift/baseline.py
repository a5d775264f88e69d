"""Baselines: build one from data, or import a SageMaker Model Monitor ``statistics.json``.

A baseline is an :class:`EndpointProfile` like any window, so a check never cares where it came from.

Model Monitor import (data-quality ``statistics.json`` as written by the built-in analyzer, Deequ-based):

- numerical features (``Fractional``/``Integral``): count, mean, population ``std_dev``, min, max and
  missing are taken as they are (Deequ's ``std_dev`` is the population one: checked on the SDK fixture).
  The distribution is rebuilt from ``distribution.kll.sketch.data`` -- Deequ's KLL compactors, where an
  item on level h stands for 2**h observations -- into a DataSketches KLL; without sketch data, from
  ``kll.buckets`` (each bucket's count placed at its midpoint: the CDF is then exact at bucket edges only).
- string features: ``distribution.categorical.buckets`` -> category counts.
- ``constraints.json`` (optional): ``monitoring_config.distribution_constraints.comparison_threshold`` is
  Model Monitor's threshold on its baseline drift *distance* (a CDF distance), which maps to the KS effect
  floor here (per feature with numerical constraints); a disabled comparison disables those features.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
from llmops_sentinel.domain.drift.stat_tests import FeatureMonitor, KSSpec, MonitorConfig
from llmops_sentinel.errors import BadInputError

MAX_REBUILT_ITEMS = 20_000_000  # a Deequ sketch of a larger dataset is thinned by an exact power of 2


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


def _numeric_from_statistics(name: str, stats: dict[str, Any]) -> NumericProfile:
    common = stats.get("common") or {}
    present = int(_float(common.get("num_present", 0), f"{name}.num_present"))
    missing = int(_float(common.get("num_missing", 0), f"{name}.num_missing"))
    profile = NumericProfile.empty()
    kll = (stats.get("distribution") or {}).get("kll") or {}
    levels = (kll.get("sketch") or {}).get("data")
    values: np.ndarray[Any, np.dtype[np.float64]] | None = None
    if isinstance(levels, list) and any(levels):
        weights = [2**h for h in range(len(levels))]
        total = sum(len(lvl) * w for lvl, w in zip(levels, weights, strict=True))
        thin = 1
        while total // thin > MAX_REBUILT_ITEMS:
            thin *= 2
        parts = [
            np.repeat(np.asarray(lvl, dtype=np.float64), max(w // thin, 1))
            for lvl, w in zip(levels, weights, strict=True) if lvl
        ]
        values = np.concatenate(parts)
    elif isinstance(kll.get("buckets"), list) and kll["buckets"]:
        mids, counts = [], []
        for b in kll["buckets"]:
            lo, hi = _float(b["lower_bound"], f"{name}.bucket"), _float(b["upper_bound"], f"{name}.bucket")
            mids.append((lo + hi) / 2)
            counts.append(round(_float(b["count"], f"{name}.bucket")))
        values = np.repeat(np.asarray(mids), np.asarray(counts, dtype=np.int64))
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
    common = stats.get("common") or {}
    buckets = ((stats.get("distribution") or {}).get("categorical") or {}).get("buckets")
    if not isinstance(buckets, list):
        raise StatisticsFormatError(f"feature {name}: no categorical buckets")
    profile = CategoricalProfile.empty()
    counts: dict[str, int] = {}
    for b in buckets:
        if not isinstance(b, dict) or "value" not in b:
            raise StatisticsFormatError(f"feature {name}: bad categorical bucket {b!r:.60}")
        counts[str(b["value"])] = counts.get(str(b["value"]), 0) + round(_float(b.get("count"), f"{name}.count"))
    profile.update_counts(counts, int(_float(common.get("num_missing", 0), f"{name}.num_missing")))
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
    count = (stats.get("dataset") or {}).get("item_count")
    records = int(_float(count, "dataset.item_count")) if count is not None else 0
    return EndpointProfile(features, endpoint, None, None, records, 0)


def config_from_constraints(constraints: Any, base: MonitorConfig | None = None) -> MonitorConfig:
    """Fold a Model Monitor ``constraints.json`` into a monitor config (KS floor, feature list)."""
    if not isinstance(constraints, dict) or not isinstance(constraints.get("features"), list):
        raise StatisticsFormatError("not a Model Monitor constraints document")
    cfg = base or MonitorConfig()
    dist = (constraints.get("monitoring_config") or {}).get("distribution_constraints") or {}
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
    data: Sequence[bytes], *, features: Sequence[str] | None = None, endpoint: str | None = None,
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
    path: str | Path, *, features: Sequence[str] | None = None, endpoint: str | None = None,
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

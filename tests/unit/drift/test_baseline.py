"""Model Monitor statistics/constraints as a baseline, and baselines built from data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from llmops_sentinel.domain.drift.baseline import (
    StatisticsFormatError,
    baseline_from_statistics,
    build_baseline,
    config_from_constraints,
    load_profile_source,
)
from llmops_sentinel.domain.drift.profiles import CategoricalProfile, NumericProfile, profile_to_json
from llmops_sentinel.domain.drift.stat_tests import KSSpec, check_drift

DQ = "sdk_tests_pipeline_quality_check/data_quality"


def test_numeric_statistics_with_kll_sketch(sagemaker_fixtures: Path) -> None:
    doc = orjson.loads((sagemaker_fixtures / DQ / "statistics.json").read_bytes())
    profile = baseline_from_statistics(doc)
    assert profile.records_ok == doc["dataset"]["item_count"]
    for item in doc["features"]:
        stats = item["numerical_statistics"]
        p = profile.features[item["name"]]
        assert isinstance(p, NumericProfile)
        assert p.count == stats["common"]["num_present"]
        assert p.mean == stats["mean"]
        assert p.std == pytest.approx(stats["std_dev"], rel=1e-12)
        # n < k: Deequ's sketch holds every value, so the rebuilt sketch is exact
        data = np.array(stats["distribution"]["kll"]["sketch"]["data"][0])
        assert p.mean == pytest.approx(data.mean(), rel=1e-12)  # std_dev is the population std
        assert p.std == pytest.approx(data.std(ddof=0), rel=1e-12)
        grid = sorted(set(data.tolist()))
        np.testing.assert_allclose(p.sketch.get_cdf(grid, inclusive=True)[:-1], [np.mean(data <= g) for g in grid])
        # the rebuilt distribution agrees with the published buckets
        for b in stats["distribution"]["kll"]["buckets"]:
            inside = np.sum((data >= b["lower_bound"]) & (data < b["upper_bound"]))
            if b["upper_bound"] == stats["max"]:
                inside = np.sum((data >= b["lower_bound"]) & (data <= b["upper_bound"]))
            assert inside == b["count"]


def test_higher_kll_levels_are_weighted_by_powers_of_two() -> None:
    doc = {
        "dataset": {"item_count": 7},
        "features": [
            {
                "name": "x",
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": {"num_present": 7, "num_missing": 0},
                    "mean": 1.0,
                    "std_dev": 1.0,
                    "min": 0.0,
                    "max": 3.0,
                    "distribution": {"kll": {"sketch": {"data": [[0.0], [1.0], [3.0]]}}},
                },
            }
        ],
    }
    p = baseline_from_statistics(doc).features["x"]
    assert isinstance(p, NumericProfile)
    assert p.sketch.n == 1 + 2 + 4
    assert p.sketch.get_cdf([0.5, 2.0])[:2] == pytest.approx([1 / 7, 3 / 7])


def test_string_statistics(sagemaker_fixtures: Path) -> None:
    doc = orjson.loads((sagemaker_fixtures / "sdk_tests_monitor/statistics.json").read_bytes())
    p = baseline_from_statistics(doc).features["message"]
    assert isinstance(p, CategoricalProfile)
    bucket = doc["features"][0]["string_statistics"]["distribution"]["categorical"]["buckets"][0]
    assert p.counts() == {bucket["value"]: float(bucket["count"])}


def test_model_quality_statistics_are_not_a_data_baseline(sagemaker_fixtures: Path) -> None:
    doc = orjson.loads(
        (sagemaker_fixtures / "sdk_tests_pipeline_quality_check/model_quality/statistics.json").read_bytes()
    )
    with pytest.raises(StatisticsFormatError):
        baseline_from_statistics(doc)


@pytest.mark.parametrize("case", ["good_cases", "bad_cases"])
def test_constraints_set_the_ks_floor(sagemaker_fixtures: Path, case: str) -> None:
    doc = orjson.loads((sagemaker_fixtures / DQ / case / "constraints.json").read_bytes())
    cfg = config_from_constraints(doc)
    threshold = doc["monitoring_config"]["distribution_constraints"]["comparison_threshold"]
    numeric = [f["name"] for f in doc["features"] if "num_constraints" in f]
    assert numeric
    for name in numeric:
        override = cfg.override(name)
        assert override is not None and override.test == KSSpec(effect_floor=threshold)


def test_sdk_constraints_without_numbers(sagemaker_fixtures: Path) -> None:
    doc = orjson.loads((sagemaker_fixtures / "sdk_tests_monitor/constraints.json").read_bytes())
    cfg = config_from_constraints(doc)
    assert [o.name for o in cfg.overrides] == [f["name"] for f in doc["features"]]
    assert all(o.test is None for o in cfg.overrides)


def test_statistics_baseline_against_its_own_data_does_not_drift(sagemaker_fixtures: Path) -> None:
    doc = orjson.loads((sagemaker_fixtures / DQ / "statistics.json").read_bytes())
    baseline = baseline_from_statistics(doc)
    rows = np.array([f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0] for f in doc["features"]]).T
    csv = "\n".join(",".join(f"{v}" for v in row) for row in rows).encode()
    current, errors = build_baseline([csv])
    assert errors == []
    report = check_drift(baseline, current)
    assert len(report.features) == len(doc["features"])
    assert all(f.statistic == pytest.approx(0.0, abs=1e-12) for f in report.features)
    assert not report.drifted


def test_load_profile_source_detects_each_kind(sagemaker_fixtures: Path, tmp_path: Path) -> None:
    _p, kind, _e = load_profile_source(sagemaker_fixtures / DQ / "statistics.json")
    assert kind == "statistics"
    data, kind, errors = load_profile_source(sagemaker_fixtures / "sdk_tests_monitor/capture.jsonl")
    assert (kind, errors, data.records_ok) == ("data", [], 44)
    out = tmp_path / "b.json"
    out.write_bytes(profile_to_json(data))
    again, kind, _e = load_profile_source(out)
    assert kind == "profile" and again.records_ok == 44

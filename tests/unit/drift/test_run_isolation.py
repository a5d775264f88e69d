"""The scheduled drift run isolates endpoints: one endpoint whose check cannot run (a malformed Model
Monitor baseline, an AWS error) gets its own error result and a DriftCheckErrors metric; every other
endpoint is still checked. Imported statistics have bounded memory whatever counts they claim."""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from llmops_sentinel.adapters.s3 import DriftStore, baseline_key
from llmops_sentinel.domain.drift.baseline import (
    MAX_REBUILT_ITEMS,
    StatisticsFormatError,
    baseline_from_statistics,
    build_baseline,
)
from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.domain.drift.profiles import profile_to_json
from llmops_sentinel.services.drift import DriftSettings, run_drift_checks
from llmops_sentinel.services.emf import publish_drift_checks

AT = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
ENDPOINTS = ("good-endpoint", "bad-stats-endpoint", "broken-store-endpoint", "last-endpoint")
DQ = "sdk_tests_pipeline_quality_check/data_quality/statistics.json"


class MemoryDriftStore(DriftStore):
    """The drift bucket in memory (same keys), with a key that fails the way S3 can."""

    def __init__(self, failing: set[str] | None = None) -> None:
        super().__init__("bucket", "key")
        self.objects: dict[str, bytes] = {}
        self.failing = failing or set()

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> str:
        self.objects[key] = body
        return key

    def get(self, key: str, bucket: str | None = None) -> bytes:
        if key in self.failing:
            raise ConnectionError(f"simulated S3 failure reading {key}")
        return self.objects[key]

    def get_optional(self, key: str) -> bytes | None:
        return self.get(key) if key in self.objects or key in self.failing else None

    def profile_keys(self, endpoint: str, start: datetime, end: datetime) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(f"profiles/{endpoint}/"))


def settings() -> DriftSettings:
    text = "version: 1\ndefaults:\n  min_records: 50\nmonitors:\n" + "".join(f"  - endpoint: {e}\n" for e in ENDPOINTS)
    return DriftSettings(bucket="bucket", kms_key_id="key", monitors=load_monitors(text=text))


def bad_statistics(sagemaker_fixtures: Path) -> bytes:
    """The SDK's data-quality statistics with buckets only, one of them lacking lower_bound."""
    doc = json.loads((sagemaker_fixtures / DQ).read_text())
    stats = doc["features"][0]["numerical_statistics"]
    stats["distribution"]["kll"]["sketch"]["data"] = []
    del stats["distribution"]["kll"]["buckets"][1]["lower_bound"]
    return json.dumps(doc).encode()


def test_one_bad_baseline_does_not_blind_the_other_endpoints(
    sagemaker_fixtures: Path,
    chat_lines: Callable[[int, int], list[bytes]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LLMOpsSentinel")
    store = MemoryDriftStore(failing={baseline_key("broken-store-endpoint")})
    baseline, _ = build_baseline([b"\n".join(chat_lines(300, 1))])
    current, _ = build_baseline([b"\n".join(chat_lines(300, 2))])
    for endpoint in ENDPOINTS:
        store.put_profile(endpoint, AT - timedelta(minutes=10), "batch", profile_to_json(current))
        store.put_baseline(endpoint, profile_to_json(baseline))
    store.put_baseline("bad-stats-endpoint", bad_statistics(sagemaker_fixtures))

    result = run_drift_checks({"at": AT.isoformat()}, settings(), store=store, rng=np.random.default_rng(0))
    by_endpoint = {c.endpoint: c for c in result.checks}
    assert list(by_endpoint) == list(ENDPOINTS)
    assert by_endpoint["bad-stats-endpoint"].status == "bad-input"
    assert "lower_bound" in (by_endpoint["bad-stats-endpoint"].reason or "")
    assert by_endpoint["broken-store-endpoint"].status == "error"
    assert "ConnectionError" in (by_endpoint["broken-store-endpoint"].reason or "")
    for endpoint in ("good-endpoint", "last-endpoint"):  # before and after the failures: both checked
        assert by_endpoint[endpoint].status in {"drift", "no-drift"}
        assert by_endpoint[endpoint].report_key in store.objects

    capsys.readouterr()
    publish_drift_checks(result)
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    errors = {d["EndpointName"] for d in documents if "DriftCheckErrors" in d}
    assert errors == {"bad-stats-endpoint", "broken-store-endpoint"}
    for doc in documents:
        if "DriftCheckErrors" in doc:
            assert doc["DriftCheckErrors"] == [1.0]
            assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["EndpointName"]]
    detected = {d["EndpointName"] for d in documents if "DriftDetected" in d}
    assert detected == {"good-endpoint", "last-endpoint"}


def _numeric(buckets: list[dict[str, Any]] | None = None, levels: list[Any] | None = None) -> dict[str, Any]:
    kll: dict[str, Any] = {"buckets": buckets or []}
    if levels is not None:
        kll["sketch"] = {"data": levels}
    return {
        "features": [
            {
                "name": "x",
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": {"num_present": 300_000_000, "num_missing": 0},
                    "mean": 0.5,
                    "std_dev": 0.1,
                    "min": 0.0,
                    "max": 1.0,
                    "distribution": {"kll": kll},
                },
            }
        ]
    }


def test_a_bucket_count_of_3e8_is_imported_in_bounded_memory() -> None:
    buckets = [
        {"lower_bound": 0.0, "upper_bound": 0.5, "count": 3e8},
        {"lower_bound": 0.5, "upper_bound": 1.0, "count": 1e8},
    ]
    tracemalloc.start()
    try:
        profile = baseline_from_statistics(_numeric(buckets)).features["x"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MAX_REBUILT_ITEMS * 3  # a few copies of the capped array, not 3.2 GB
    assert profile.count == 300_000_000  # the tests' sample size is num_present, not the rebuilt values
    assert profile.sketch.n <= MAX_REBUILT_ITEMS
    assert profile.sketch.get_rank(0.5) == pytest.approx(0.75, abs=1e-3)  # the proportions are kept


def test_kll_levels_are_thinned_to_the_cap() -> None:
    levels = [[0.1] * 10, *([] for _ in range(30)), [0.9] * 10]  # an item on level 31 stands for 2**31 values
    tracemalloc.start()
    try:
        profile = baseline_from_statistics(_numeric(levels=levels)).features["x"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MAX_REBUILT_ITEMS * 3
    assert profile.sketch.n <= MAX_REBUILT_ITEMS + 10


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"][0].pop("lower_bound"),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"][0].update(count="many"),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"][0].update(count=-3),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"][0].update(count="NaN"),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"][0].update(
            upper_bound=1e999
        ),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"].update(buckets=[1, 2]),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"].update(kll=[]),
        lambda d: d["features"][0]["numerical_statistics"].update(distribution="kll"),
        lambda d: d["features"][0]["numerical_statistics"].update(common=7),
        lambda d: d["features"][0]["numerical_statistics"]["common"].update(num_present=None),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"].update(sketch={"data": [["a"]]}),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"].update(sketch={"data": [1, 2]}),
        lambda d: d["features"][0]["numerical_statistics"]["distribution"]["kll"].update(sketch={"data": [[1.0]] * 99}),
        lambda d: d.update(dataset={"item_count": "lots"}),
        lambda d: d.update(dataset=[]),
    ],
    ids=lambda f: "",
)
def test_malformed_statistics_raise_a_typed_error(mutate: Callable[[dict[str, Any]], Any]) -> None:
    doc = copy.deepcopy(_numeric([{"lower_bound": 0.0, "upper_bound": 1.0, "count": 10}]))
    mutate(doc)
    with pytest.raises(StatisticsFormatError):
        baseline_from_statistics(orjson.loads(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)))

"""Fields outside the feature list (record attributes) are profiled, so a new region or model shows."""

from __future__ import annotations

import numpy as np
import orjson

from llmops_sentinel.domain.drift.features import MAX_ATTRIBUTES, extract_features
from llmops_sentinel.domain.drift.ingest import profile_lines
from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.domain.drift.profiles import CategoricalProfile, profile_batch, profile_to_json
from llmops_sentinel.domain.drift.records import parse_lines
from llmops_sentinel.domain.drift.stat_tests import check_drift

SELECTION = ["llm", "attributes"]


def openai_lines(rng: np.random.Generator, n: int, new_region: float = 0.0, model: str = "m-1") -> list[bytes]:
    out = []
    for i in range(n):
        region = "sa-east-1" if rng.random() < new_region else str(rng.choice(["us-east-1", "eu-west-1"]))
        out.append(
            orjson.dumps(
                {
                    "id": f"r{i}",
                    "model": model,
                    "region": region,
                    "user": f"u-{i}",
                    "tier": "paid",
                    "metadata": {"app": "chat"},
                    "messages": [{"role": "user", "content": "x" * int(rng.integers(20, 200))}],
                    "choices": [{"message": {"content": "y" * int(rng.integers(20, 200))}, "finish_reason": "stop"}],
                }
            )
        )
    return out


def test_attributes_profiled_with_inferred_kinds_and_ids_left_out() -> None:
    lines = openai_lines(np.random.default_rng(1), 300)
    table = extract_features(parse_lines(lines).records, SELECTION)
    assert table.kinds["model"] == "categorical" and table.kinds["region"] == "categorical"
    assert table.kinds["metadata.app"] == "categorical"
    assert "user" not in table.kinds and table.attributes_not_profiled == ["user"]  # identifier-like
    assert "region" not in extract_features(parse_lines(lines).records, ["llm"]).kinds  # opt-out


def test_a_new_region_surfaces_as_endpoint_drift() -> None:
    rng = np.random.default_rng(2)
    base = profile_batch(parse_lines(openai_lines(rng, 3000)), features=SELECTION)
    same = profile_batch(parse_lines(openai_lines(rng, 2000)), features=SELECTION)
    moved = profile_batch(parse_lines(openai_lines(rng, 2000, new_region=0.1)), features=SELECTION)
    assert not check_drift(base, same).drifted
    report = check_drift(base, moved)
    assert report.drifted and report.drifted_features == ["region"]
    assert report.reasons[0].startswith("region: medium effect (cohens_h")
    swapped = profile_batch(parse_lines(openai_lines(rng, 2000, model="m-2")), features=SELECTION)
    assert "model" in check_drift(base, swapped).drifted_features


def test_attribute_count_is_capped() -> None:
    line = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "choices": [{"message": {"content": "yo"}}],
        **{f"k{j:02d}": "v" for j in range(30)},
    }
    table = extract_features(parse_lines([orjson.dumps(line)] * 5).records, SELECTION)
    attrs = [k for k in table.kinds if k == "model" or k.startswith("k")]
    assert len(attrs) == MAX_ATTRIBUTES and len(table.attributes_not_profiled) == 31 - MAX_ATTRIBUTES


def test_profile_lines_equals_profile_batch_with_attributes() -> None:
    lines = openai_lines(np.random.default_rng(3), 200)
    a = profile_lines(lines, features=SELECTION).profile
    b = profile_batch(parse_lines(lines), features=SELECTION)
    assert profile_to_json(a) == profile_to_json(b)
    region = a.features["region"]
    assert isinstance(region, CategoricalProfile) and set(region.counts()) == {"us-east-1", "eu-west-1"}


def test_packaged_monitors_profile_attributes_by_default() -> None:
    monitors = load_monitors()
    assert "attributes" in (monitors.defaults.monitor.features or [])
    assert monitors.defaults.monitor.endpoint_severity == "small"

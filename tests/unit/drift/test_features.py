"""Feature extraction: the fused fast path equals the registered extractors; estimates are flagged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llmops_sentinel.domain.drift.features import (
    extract_features,
    is_refusal_like,
    registered_features,
    resolve_features,
)
from llmops_sentinel.domain.drift.records import InferenceRecord, parse_lines, parse_record
from llmops_sentinel.errors import ConfigError


def test_fused_columns_equal_registered_extractors(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    records = parse_lines(chat_lines(200, 5)).records
    records.append(InferenceRecord(ref="x", source="text", prompt_chars=10, response="   "))
    records.append(InferenceRecord(ref="y", source="flat", rows=[{"a": 1.0}]))
    table = extract_features(records, ["llm"])
    for name, ex in registered_features().items():
        if ex.group != "llm":
            continue
        assert table.values[name] == [ex.fn(r) for r in records], name


def test_token_estimate_is_flagged() -> None:
    rec = parse_record({"prompt": "a" * 10, "response": "b" * 9})
    table = extract_features([rec], ["input_tokens", "output_tokens", "tokens_estimated"])
    assert table.values["input_tokens"] == [3]  # ceil(10 / 4)
    assert table.values["output_tokens"] == [3]
    assert table.values["tokens_estimated"] == [True]
    stated = parse_record(
        {
            "messages": [{"content": "a" * 10}],
            "choices": [{"message": {"content": "b"}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 1},
        }
    )
    assert extract_features([stated], ["input_tokens", "tokens_estimated"]).values == {
        "input_tokens": [7],
        "tokens_estimated": [False],
    }


def test_tokens_per_s_derived_from_latency_and_ttft() -> None:
    rec = InferenceRecord(ref="r", source="flat", output_tokens=50, latency_ms=1100.0, ttft_ms=100.0)
    assert extract_features([rec], ["tokens_per_s"]).values["tokens_per_s"] == [50.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("  \u201cI cannot assist with this request.", True),
        ("As an AI, I do not have opinions.", True),
        ("Unfortunately, I can\u2019t share that.", True),
        ("Sure! Here is the summary you asked for.", False),
        ("The customer said: I'm sorry for the delay.", False),  # quoted, not leading
    ],
)
def test_refusal_like(text: str, expected: bool) -> None:
    assert is_refusal_like(text) is expected


def test_tabular_columns_kinds_and_missing_backfill() -> None:
    recs = [
        InferenceRecord(ref="1", source="flat", rows=[{"a": 1.0}]),
        InferenceRecord(ref="2", source="flat", rows=[{"a": 2.0, "b": "x"}, {"a": 3.0, "b": "y", "c": True}]),
    ]
    table = extract_features(recs, ["columns"])
    assert table.kinds == {"a": "numeric", "b": "categorical", "c": "boolean"}
    assert table.values == {"a": [1.0, 2.0, 3.0], "b": [None, "x", "y"], "c": [None, None, True]}
    assert table.n_rows == 3


def test_unknown_feature_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nope"):
        resolve_features(["nope"])

"""The shared config helpers: one deep merge, one way to describe what pydantic rejected."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from llmops_sentinel.domain.validation import all_errors, deep_merge, first_error, yaml_line


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[_Inner]
    name: str


def _error(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate(data)
    return info.value


def test_deep_merge_merges_nested_mappings_and_replaces_the_rest() -> None:
    base = {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}
    merged = deep_merge(base, {"a": {"y": 20, "z": 30}, "b": [9], "d": 4})
    assert merged == {"a": {"x": 1, "y": 20, "z": 30}, "b": [9], "c": 3, "d": 4}
    assert base == {"a": {"x": 1, "y": 2}, "b": [1, 2], "c": 3}  # the defaults are not mutated
    assert deep_merge(base, {"a": 5})["a"] == 5  # a scalar replaces a mapping


def test_first_error_names_the_field_and_the_yaml_line() -> None:
    text = "name: x\nitems:\n  - n: 1\n  - n: nope\n"
    exc = _error({"name": "x", "items": [{"n": 1}, {"n": "nope"}]})
    assert first_error(exc).startswith("items.1.n: ")
    assert first_error(exc, text=text).startswith("items.1.n (line 4): ")
    assert yaml_line(text, ("items", 1, "n")) == 4
    assert yaml_line("items: [\n", ("items",)) is None  # not YAML: no line, no error


def test_whole_input_errors_use_the_top_name_and_all_errors_joins_every_one() -> None:
    assert first_error(_error([1]), top="event").startswith("event: ")
    joined = all_errors(_error({"items": [{"n": "a"}]}))
    assert joined.count("; ") == 1 and "items.0.n: " in joined and "name: " in joined

"""Every file in events/ runs through its function, as `sam local invoke -e` would run it.

events/<folder>/<case>.json belongs to the function whose CodeUri is functions/<folder>/;
events/<folder>/expected.json says what each case must return ({"result": subset}) or which typed
error it must raise ({"error": "NameError"}). A case without an expectation fails.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.template import load_template
from tests.conftest import EVENTS, REPO, load_json

EXPECTED: dict[str, Any] = {
    f"{folder.name}/{case}": expectation
    for folder in EVENTS.iterdir()
    if (folder / "expected.json").is_file()
    for case, expectation in load_json(folder / "expected.json").items()
}
CASES = sorted(str(p.relative_to(EVENTS)) for p in EVENTS.glob("*/*.json") if p.name != "expected.json")


@cache
def function_for(folder: str) -> str:
    source = load_template(REPO / "template.yaml")  # ~1 s a parse: once per folder, not per case
    for logical_id, code_dir in source.code_dirs.items():
        if code_dir == (REPO / "functions" / folder).resolve():
            return logical_id
    pytest.fail(f"events/{folder}/ matches no function CodeUri in template.yaml")


def test_every_case_has_an_expectation_and_every_expectation_a_case() -> None:
    assert CASES, "events/ is empty"
    assert set(CASES) == set(EXPECTED)


def _subset(expected: Any, actual: Any, path: str = "result") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing in {actual!r}"
            _subset(value, actual[key], f"{path}.{key}")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("case", CASES)
def test_sample_event_runs_through_its_handler(case: str) -> None:
    folder = Path(case).parts[0]
    with LocalCloud() as cloud:
        record = cloud.invoke(function_for(folder), load_json(EVENTS / case))
    expected = EXPECTED[case]
    if "error" in expected:  # a typed error is the contract for this case
        assert record.error_type == expected["error"], f"{case}: {record.error_type}: {record.error_message}"
        return
    assert record.ok, f"{case}: {record.error_type}: {record.error_message}\n{record.logs}"
    _subset(expected["result"], record.result)

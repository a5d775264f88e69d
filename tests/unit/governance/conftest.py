"""Shared helpers for the governance unit tests: fixture loading and the default policy set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llmops_sentinel.domain.governance import PolicySet, load_default_policies

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_json() -> Callable[[str], Any]:
    """``fixture_json("config_role_clean")`` → the parsed JSON of ``fixtures/config_role_clean.json``."""

    def load(name: str) -> Any:
        return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))

    return load


@pytest.fixture(scope="session")
def default_policies() -> PolicySet:
    return load_default_policies()

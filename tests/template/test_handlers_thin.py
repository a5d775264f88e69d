"""Thin handlers, checked: at most 40 lines, no AWS SDK or numpy, only runtime code (never the dev package)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

HANDLERS = sorted((REPO / "functions").glob("*/handler.py"))
FORBIDDEN = ("boto3", "botocore", "numpy", "scipy", "sentinel_dev", "moto")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_there_are_handlers() -> None:
    assert len(HANDLERS) >= 12


@pytest.mark.parametrize("path", HANDLERS, ids=[p.parent.name for p in HANDLERS])
def test_handler_is_at_most_40_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 40, f"{path.parent.name}: move the work into a service"


@pytest.mark.parametrize("path", HANDLERS, ids=[p.parent.name for p in HANDLERS])
def test_handler_imports_no_sdk_numpy_or_dev_code(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN)
    assert not bad, f"{path.parent.name} imports {bad}: that belongs in an adapter or a service"

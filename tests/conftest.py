"""Shared test helpers: repository paths, the real AWS fixtures beside the repo, sample events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
AWS_EVENTS = SHARED_FIXTURES / "aws-events"
EVENTS = REPO / "events"

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["SAM_CLI_TELEMETRY"] = "0"  # never let a test talk to AWS


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def aws_event(name: str) -> Any:
    """A real published AWS event from ../shared/fixtures/aws-events."""
    path = AWS_EVENTS / name
    if not path.exists():
        pytest.fail(f"shared fixture {path} is missing: CI clones the repo beside ../shared")
    return load_json(path)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit and integration tests never reach AWS: fake credentials, no profile."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)

"""Shared test helpers: repository paths, the real AWS fixtures beside the repo, sample events."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SENTINEL_SHARED") or REPO.parent / "shared")
"""The real AWS and SageMaker files the tests read: ``../shared`` beside the checkout (as CI has it), or
``SENTINEL_SHARED``."""
SHARED_FIXTURES = SHARED / "fixtures"
AWS_EVENTS = SHARED_FIXTURES / "aws-events"
EVENTS = REPO / "events"

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["SAM_CLI_TELEMETRY"] = "0"  # never let a test talk to AWS


def pytest_configure(config: pytest.Config) -> None:
    if not SHARED_FIXTURES.is_dir():
        pytest.exit(
            f"{SHARED_FIXTURES} is missing: the tests read real AWS events and SageMaker files from ../shared "
            "beside the checkout (CI clones the repo next to it). Clone there, or set SENTINEL_SHARED=/path/to/shared.",
            returncode=4,
        )


def sentinel_table(region: str = "us-east-1", name: str = "t") -> Any:
    """A DynamoDB client with the Sentinel table's key schema (pk, sk) created; call inside ``mock_aws()``."""
    import boto3

    ddb = boto3.client("dynamodb", region_name=region)
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    return ddb


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that ran a local cloud reports the executions that did not succeed, with their last
    history events, while the cloud still runs (before teardown): a CI failure is readable as it is."""
    report = yield
    local = sys.modules.get("sentinel_dev.local.cloud")  # never imported here: unit runs stay light
    if report.failed and call.when in ("setup", "call") and local is not None:
        cloud = local.running_cloud()
        if cloud is not None:
            try:
                text = cloud.failure_report()
            except Exception as exc:  # the report must never hide the test's own failure
                text = f"(no report: {type(exc).__name__}: {exc})"
            if text:
                report.sections.append(("local cloud: executions that did not succeed", text))
    return report

"""The SDK settings every local Lambda gets stay set while the cloud runs, not only inside invocations:
another thread (moto's ASL interpreter) may be making a boto3 client when an invocation ends."""

from __future__ import annotations

import os

from sentinel_dev.local.cloud import SDK_ENVIRONMENT, LocalCloud
from tests.conftest import EVENTS, load_json


def test_an_invocation_ending_leaves_the_sdk_settings_in_place() -> None:
    before = {key: os.environ.get(key) for key in SDK_ENVIRONMENT}
    with LocalCloud() as cloud:
        expected = {key: cloud.function_environment()[key] for key in SDK_ENVIRONMENT}
        assert {key: os.environ.get(key) for key in SDK_ENVIRONMENT} == expected
        event = load_json(EVENTS / "alarm_router" / "malformed_missing_fields.json")
        record = cloud.invoke("AlarmRouterFunction", event)
        assert record.ok, record.logs
        assert {key: os.environ.get(key) for key in SDK_ENVIRONMENT} == expected
    assert {key: os.environ.get(key) for key in SDK_ENVIRONMENT} == before  # the cloud restores what it found

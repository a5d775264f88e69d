"""The scale-out state machine's input contract, executed directly (real ASL in moto).

The router builds this input (services/remediation.py ``workflow_input``); these tests start the
machine with it by hand, so the machine's own branches are checked without the router.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, VARIANT, create_endpoint, instance_count


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT}) as running:
        yield running


def run_scale_out(cloud: LocalCloud, name: str, variant: str = VARIANT, max_instances: int = 3) -> dict[str, Any]:
    payload = {
        "endpoint_name": ENDPOINT,
        "variant_name": variant,
        "dry_run": False,
        "require_approval": False,
        "approval_timeout_seconds": 60,
        "bounds": {"min_instances": 1, "max_instances": max_instances, "step": 1},
        "signal": {"kind": "test", "source_id": name, "occurred_at": "2026-11-26T10:00:00Z", "summary": "test"},
        "audit": {"table": cloud.stack.ref("SentinelTable"), "pk": f"endpoint#{ENDPOINT}", "sk": f"decision#{name}"},
    }
    started = cloud.client("stepfunctions").start_execution(
        stateMachineArn=cloud.stack.ref("ScaleOutStateMachine"), name=name, input=json.dumps(payload)
    )
    return cloud.wait_for_execution(started["executionArn"], timeout_s=30)


def notifications(cloud: LocalCloud) -> list[str]:
    return cloud.sns_messages(cloud.stack.ref("NotificationTopic"))


def audit_status(cloud: LocalCloud, name: str) -> str:
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.stack.ref("SentinelTable"),
        Key={"pk": {"S": f"endpoint#{ENDPOINT}"}, "sk": {"S": f"decision#{name}"}},
    )["Item"]
    return str(item["status"]["S"])


def test_scale_out_raises_the_instance_count_notifies_and_records(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=1)
    execution = run_scale_out(cloud, "t1")
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {
        "outcome": "scaled",
        "endpoint_name": ENDPOINT,
        "variant_name": VARIANT,
        "previous_instances": 1,
        "instances": 2,
    }
    assert instance_count(cloud) == 2
    assert any("from 1 to 2 instances" in m for m in notifications(cloud))
    assert audit_status(cloud, "t1") == "SUCCEEDED"


def test_scale_out_stops_at_the_maximum_from_the_input_bounds(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=3)
    execution = run_scale_out(cloud, "t2", max_instances=3)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["outcome"] == "unchanged"
    assert instance_count(cloud) == 3
    assert any("maximum of 3" in m for m in notifications(cloud))
    assert audit_status(cloud, "t2") == "UNCHANGED"


def test_unknown_variant_fails_typed_notifies_and_changes_nothing(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=1)
    execution = run_scale_out(cloud, "t3", variant="Blue")
    assert execution["status"] == "FAILED"
    assert execution["error"] == "RemediationFailedError"
    assert instance_count(cloud) == 1
    failure = [m for m in notifications(cloud) if "failed" in m]
    assert failure
    assert "VariantNotFoundError" in failure[-1]
    assert audit_status(cloud, "t3") == "FAILED"


def test_missing_endpoint_fails_with_a_notification(cloud: LocalCloud) -> None:
    execution = run_scale_out(cloud, "t4")
    assert execution["status"] == "FAILED"
    assert any("failed" in m for m in notifications(cloud))

"""The scale-out state machine executes for real in moto (its ASL interpreter) against the template."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

from llmops_sentinel.local.cloud import LocalCloud
from llmops_sentinel.local.demo import ENDPOINT, VARIANT, create_endpoint, instance_count
from llmops_sentinel.local.scenes.latency import run as latency_scene

PARAMETERS = {"VerifyWaitSeconds": "1", "MaxInstanceCount": "3", "EndpointName": ENDPOINT}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters=PARAMETERS) as running:
        yield running


def run_scale_out(cloud: LocalCloud, name: str, variant: str = VARIANT) -> dict:
    sfn = cloud.client("stepfunctions")
    payload = {
        "endpoint_name": ENDPOINT,
        "variant_name": variant,
        "dry_run": False,
        "signal": {"summary": "test"},
    }
    started = sfn.start_execution(
        stateMachineArn=cloud.stack.ref("ScaleOutStateMachine"), name=name, input=json.dumps(payload)
    )
    return cloud.wait_for_execution(started["executionArn"], timeout_s=30)


def notifications(cloud: LocalCloud) -> list[str]:
    return cloud.sns_messages(cloud.stack.ref("NotificationTopic"))


def test_scale_out_raises_the_instance_count_and_notifies(cloud: LocalCloud) -> None:
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


def test_scale_out_stops_at_the_configured_maximum(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=3)
    execution = run_scale_out(cloud, "t2")
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["outcome"] == "unchanged"
    assert instance_count(cloud) == 3
    assert any("maximum of 3" in m for m in notifications(cloud))


def test_unknown_variant_fails_typed_notifies_and_changes_nothing(cloud: LocalCloud) -> None:
    create_endpoint(cloud, instances=1)
    execution = run_scale_out(cloud, "t3", variant="Blue")
    assert execution["status"] == "FAILED"
    assert execution["error"] == "RemediationFailedError"
    assert instance_count(cloud) == 1
    failure = [m for m in notifications(cloud) if "failed" in m]
    assert failure and "VariantNotFoundError" in failure[-1]


def test_missing_endpoint_fails_with_a_notification(cloud: LocalCloud) -> None:
    execution = run_scale_out(cloud, "t4")
    assert execution["status"] == "FAILED"
    assert any("failed" in m for m in notifications(cloud))


def test_alarm_to_scale_out_loop_with_duplicate_delivery(cloud: LocalCloud) -> None:
    report = latency_scene(cloud, None, np.random.default_rng(3))
    assert report.ok, report.model_dump_json(indent=2)
    assert report.facts["instances_after"] == report.facts["instances_before"] + 1
    assert report.facts["executions"] == 1
    assert "UpdateCapacity" in report.facts["states"]

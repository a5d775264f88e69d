"""Idle endpoint -> one 'Endpoint Idle' per episode -> router -> scale-down to the floor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, VARIANT, create_endpoint, instance_count
from tests.conftest import EVENTS, load_json


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT}) as running:
        create_endpoint(running, instances=3)
        yield running


def scheduled(at: datetime, event_id: str) -> dict[str, Any]:
    event: dict[str, Any] = load_json(EVENTS / "latency_monitor" / "scheduled_run.json")
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["id"] = event_id
    return event


def idle_of(cloud: LocalCloud, event: dict[str, Any]) -> dict[str, Any]:
    record = cloud.invoke("LatencyMonitorFunction", event)
    assert record.ok, record.logs
    (run,) = record.result["endpoints"]
    idle: dict[str, Any] = run["idle"]
    return idle


def scale_downs(cloud: LocalCloud) -> list[dict[str, Any]]:
    return cloud.executions("ScaleDownStateMachine")


def test_idle_endpoint_is_reported_once_and_scaled_down_to_the_floor(cloud: LocalCloud) -> None:
    later = datetime.now(UTC) + timedelta(hours=7)  # the endpoint is older than the 6 h window by then
    first = idle_of(cloud, scheduled(later, "run-1"))
    assert first["status"] == "idle-reported"
    (execution,) = scale_downs(cloud)
    assert cloud.wait_for_execution(execution["executionArn"])["status"] == "SUCCEEDED"
    assert instance_count(cloud) == 1  # 3 -> the floor in one move, not one step
    again = idle_of(cloud, scheduled(later + timedelta(minutes=5), "run-2"))
    assert again["status"] == "idle"
    assert "already reported" in again["reason"]
    assert len(scale_downs(cloud)) == 1


def test_traffic_ends_the_episode(cloud: LocalCloud) -> None:
    later = datetime.now(UTC) + timedelta(hours=7)
    assert idle_of(cloud, scheduled(later, "run-1"))["status"] == "idle-reported"
    cloud.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Value": 12.0,
                "Timestamp": later - timedelta(minutes=30),
                "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}],
            }
        ],
    )
    active = idle_of(cloud, scheduled(later + timedelta(minutes=5), "run-2"))
    assert active["status"] == "active"
    items = cloud.client("dynamodb").scan(TableName=cloud.stack.ref("SentinelTable"))["Items"]
    assert not [i for i in items if i["pk"]["S"].startswith("idle#")]


def test_a_new_endpoint_is_not_idle(cloud: LocalCloud) -> None:
    result = idle_of(cloud, scheduled(datetime.now(UTC), "run-1"))
    assert result["status"] == "active"
    assert "less than the 6 h window" in result["reason"]
    assert scale_downs(cloud) == []

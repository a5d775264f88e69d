"""A local cloud restored from the provisioning snapshot is the stack as provisioned, whatever made it.

The snapshot names no resource type: a provisioning step the template adds later (a custom resource
that discovers the fleet and creates CloudWatch alarms from code, not from the template) is restored
like the template's own resources, and whatever a test changed afterwards is gone in the next cloud.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentinel_dev.local import provision
from sentinel_dev.local.cloud import LocalCloud
from tests.conftest import REPO

PROBE = "Custom::SnapshotProbe"
ALARM = "probe-created-alarm"


@pytest.fixture
def probed_template(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """template.yaml plus one custom resource whose creator makes an alarm and an item from code."""
    for name in ("functions", "layers", "statemachines", "config"):
        (tmp_path / name).symlink_to(REPO / name)
    text = (REPO / "template.yaml").read_text()
    probe = f"Resources:\n  Probe:\n    Type: {PROBE}\n    Properties:\n      Table: !Ref SentinelTable\n"
    assert text.count("\nResources:\n") == 1
    (tmp_path / "template.yaml").write_text(text.replace("\nResources:\n", "\n" + probe, 1))
    calls: list[str] = []

    def create(ctx: provision.StackContext, logical_id: str, props: dict[str, Any]) -> provision.Created:
        calls.append(logical_id)
        ctx.clients("cloudwatch").put_metric_alarm(
            AlarmName=ALARM,
            Namespace="AWS/SageMaker",
            MetricName="ModelLatency",
            Dimensions=[{"Name": "EndpointName", "Value": "discovered"}],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        ctx.clients("dynamodb").put_item(
            TableName=props["Table"], Item={"pk": {"S": "fleet"}, "sk": {"S": "endpoint#discovered"}}
        )
        return provision.Created(ref=f"{logical_id}-physical")

    provision.creator(PROBE)(create)
    try:
        yield tmp_path / "template.yaml", calls
    finally:
        provision._CREATORS.pop(PROBE, None)


def _state(cloud: LocalCloud) -> dict[str, Any]:
    cw, ddb, s3 = cloud.client("cloudwatch"), cloud.client("dynamodb"), cloud.client("s3")
    table = cloud.stack.ref("SentinelTable")
    return {
        "alarms": sorted((a["AlarmName"], a["StateValue"]) for a in cw.describe_alarms()["MetricAlarms"]),
        "items": sorted((i["pk"]["S"], i["sk"]["S"]) for i in ddb.scan(TableName=table)["Items"]),
        "objects": sorted(
            (b["Name"], o["Key"])
            for b in s3.list_buckets()["Buckets"]
            for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", [])
        ),
        "probe": cloud.stack.ref("Probe"),
    }


def test_a_restored_cloud_is_the_provisioned_stack_custom_steps_included(
    probed_template: tuple[Path, list[str]],
) -> None:
    template, calls = probed_template
    with LocalCloud(template=template) as first:
        provisioned = _state(first)
        assert (ALARM, "OK") in provisioned["alarms"]  # the local cloud starts every alarm OK
        assert ("fleet", "endpoint#discovered") in provisioned["items"]
        assert provisioned["probe"] == "Probe-physical"
        cw, table = first.client("cloudwatch"), first.stack.ref("SentinelTable")
        cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test")
        first.client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "left"}, "sk": {"S": "behind"}})
        first.client("dynamodb").delete_item(
            TableName=table, Key={"pk": {"S": "fleet"}, "sk": {"S": "endpoint#discovered"}}
        )
        bucket = first.stack.ref("DataBucket")
        first.client("s3").put_object(Bucket=bucket, Key="left/behind.json", Body=b"{}")
        assert _state(first) != provisioned
    assert calls == ["Probe"]
    with LocalCloud(template=template) as second:
        assert _state(second) == provisioned
    assert calls == ["Probe"], "the second cloud is restored, not provisioned again"

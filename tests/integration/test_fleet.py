"""Fleet onboarding in the local cloud (issue 11, Done when): one stack follows the endpoints by itself.

Every endpoint change goes the real path: the SageMaker call on moto, its CloudTrail-shaped event on
the default bus (``cloudtrail.sagemaker_call``), the template's rule, the fleet tracker deciding from a
fresh DescribeEndpoint + ListTags read. Regressions go alarm evaluation -> CloudWatch Alarm State Change
-> router (scope = config-listed + fleet registry) -> latency monitor confirmation -> scale-out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.domain.fleet.alarms import ENDPOINT_TAG
from llmops_sentinel.domain.fleet.policy import STACK_TAG
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.cloudtrail import sagemaker_call
from sentinel_dev.local.demo import create_endpoint, instance_count
from sentinel_dev.local.scenes.latency import endpoint_in_service, minute_start, publish_traffic

MONITOR = {"sentinel:monitor": "true"}
STACK = "sentinel"
KINDS = ("p99-latency", "latency-anomaly", "drift")


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"VerifyWaitSeconds": "1"}) as running:
        yield running


def tracker_calls(cloud: LocalCloud, since: int = 0) -> list[Any]:
    return [i for i in cloud.runtime.invocations[since:] if i.function == "FleetTrackerFunction"]


def alarms(cloud: LocalCloud, endpoint: str) -> dict[str, dict[str, str]]:
    """The stack's alarms whose ``sentinel:endpoint`` tag is ``endpoint``, with their tags."""
    cw = cloud.client("cloudwatch")
    out = {}
    for alarm in cw.describe_alarms(AlarmNamePrefix=f"{STACK}-")["MetricAlarms"]:
        tags = {t["Key"]: t["Value"] for t in cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]}
        if tags.get(ENDPOINT_TAG) == endpoint:
            out[alarm["AlarmName"]] = tags
    return out


def endpoint_tags(cloud: LocalCloud, endpoint: str) -> dict[str, str]:
    sm = cloud.client("sagemaker")
    arn = sm.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    return {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}


def registry(cloud: LocalCloud) -> FleetRegistry:
    return FleetRegistry(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))


def assert_gone(cloud: LocalCloud, endpoint: str) -> None:
    assert alarms(cloud, endpoint) == {}
    assert cloud.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{STACK}-{endpoint}-")["MetricAlarms"] == []
    assert registry(cloud).get(endpoint) is None


def test_an_endpoint_created_with_the_tag_is_watched_within_one_event(cloud: LocalCloud) -> None:
    before = len(cloud.runtime.invocations)
    create_endpoint(cloud, "team-a-llm", tags=MONITOR, via_bus=True)
    (tracked,) = tracker_calls(cloud, before)  # the CreateEndpoint event, nothing else needed
    assert tracked.source.startswith("rule:") and tracked.event["detail"]["eventName"] == "CreateEndpoint"
    assert (tracked.result["status"], tracked.result["source"]) == ("onboarded", "tag")
    item = registry(cloud).get("team-a-llm")
    assert item is not None and (item.variants, item.source) == (["AllTraffic"], "tag")
    expected = {f"{STACK}-team-a-llm-{kind}" for kind in KINDS}
    assert sorted(item.alarms) == sorted(expected)
    assert alarms(cloud, "team-a-llm") == {name: {STACK_TAG: STACK, ENDPOINT_TAG: "team-a-llm"} for name in expected}
    assert endpoint_tags(cloud, "team-a-llm") == {**MONITOR, STACK_TAG: STACK}
    (p99,) = cloud.client("cloudwatch").describe_alarms(AlarmNames=[f"{STACK}-team-a-llm-p99-latency"])["MetricAlarms"]
    assert {d["Name"]: d["Value"] for d in p99["Dimensions"]} == {
        "EndpointName": "team-a-llm",
        "VariantName": "AllTraffic",
    }
    assert (p99["ExtendedStatistic"], p99["Threshold"]) == ("p99", 2_000_000.0)  # 2000 ms, in microseconds
    # The same event again (EventBridge is at-least-once): nothing written twice.
    again = cloud.invoke("FleetTrackerFunction", tracked.event)
    assert again.ok and again.result["status"] == "unchanged"


def test_an_untagged_endpoint_is_ignored(cloud: LocalCloud) -> None:
    before = len(cloud.runtime.invocations)
    create_endpoint(cloud, "team-b-llm", tags={"team": "b", "sentinel:monitor": "false"}, via_bus=True)
    (tracked,) = tracker_calls(cloud, before)
    assert tracked.result["status"] == "not-watched"
    assert "not 'true'" in tracked.result["reason"]
    assert_gone(cloud, "team-b-llm")
    assert STACK_TAG not in endpoint_tags(cloud, "team-b-llm")


def test_removing_the_tag_offboards_and_leaves_nothing_behind(cloud: LocalCloud) -> None:
    create_endpoint(cloud, "Team-C-LLM", tags=MONITOR, via_bus=True)  # mixed case: the tag calls' ARN lowercases it
    assert len(alarms(cloud, "Team-C-LLM")) == 3 and registry(cloud).get("Team-C-LLM") is not None
    arn = cloud.client("sagemaker").describe_endpoint(EndpointName="Team-C-LLM")["EndpointArn"]
    before = len(cloud.runtime.invocations)
    sagemaker_call(cloud, "DeleteTags", ResourceArn=arn, TagKeys=["sentinel:monitor"])
    (tracked,) = tracker_calls(cloud, before)
    assert tracked.event["detail"]["requestParameters"]["resourceArn"].endswith("/team-c-llm")
    assert (tracked.result["endpoint_name"], tracked.result["status"]) == ("Team-C-LLM", "offboarded")
    assert_gone(cloud, "Team-C-LLM")
    assert endpoint_tags(cloud, "Team-C-LLM") == {}  # the stack tag went with it
    # Tagged again: watched again, from the AddTags event alone.
    sagemaker_call(cloud, "AddTags", ResourceArn=arn, Tags=[{"Key": "sentinel:monitor", "Value": "true"}])
    assert len(alarms(cloud, "Team-C-LLM")) == 3 and endpoint_tags(cloud, "Team-C-LLM")[STACK_TAG] == STACK


def test_a_deleted_endpoint_is_cleaned_up(cloud: LocalCloud) -> None:
    create_endpoint(cloud, "team-d-llm", tags=MONITOR, via_bus=True)
    create_endpoint(cloud, "team-e-llm", tags=MONITOR, via_bus=True)
    before = len(cloud.runtime.invocations)
    sagemaker_call(cloud, "DeleteEndpoint", EndpointName="team-d-llm")
    (tracked,) = tracker_calls(cloud, before)
    assert tracked.result["status"] == "offboarded" and len(tracked.result["deleted"]) == 3
    assert_gone(cloud, "team-d-llm")
    assert len(alarms(cloud, "team-e-llm")) == 3  # the neighbour is untouched
    assert [w.endpoint_name for w in registry(cloud).watched()] == ["team-e-llm"]


def test_the_full_sync_finds_what_no_event_announced_and_removes_what_vanished(cloud: LocalCloud) -> None:
    sm = cloud.client("sagemaker")
    create_endpoint(cloud, "team-f-llm", tags=MONITOR, via_bus=True)
    sm.delete_endpoint(EndpointName="team-f-llm")  # no CloudTrail event: only the schedule can notice
    sm.create_endpoint(  # nor for this one
        EndpointName="team-g-llm",
        EndpointConfigName="team-f-llm-config-v1",
        Tags=[{"Key": "sentinel:monitor", "Value": "true"}],
    )
    synced = cloud.invoke(
        "FleetTrackerFunction",
        {
            "version": "0",
            "id": "sync-1",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": cloud.account_id,
            "time": "2026-12-03T10:00:00Z",
            "region": cloud.region,
            "resources": [],
            "detail": {},
        },
    )
    assert synced.ok, synced.logs
    by_name = {r["endpoint_name"]: r["status"] for r in synced.result["results"]}
    assert by_name["team-f-llm"] == "offboarded" and by_name["team-g-llm"] == "onboarded"
    assert synced.result["watched"] == ["team-g-llm"]
    assert_gone(cloud, "team-f-llm")
    assert len(alarms(cloud, "team-g-llm")) == 3


def test_discovery_ran_at_provision_and_replied_success(cloud: LocalCloud) -> None:
    """Custom::FleetDiscovery: the Create request went to the tracker and its SUCCESS reply was read back."""
    assert cloud.stack.resource_types["FleetDiscovery"] == "Custom::FleetDiscovery"
    assert cloud.stack.ref("FleetDiscovery") == f"{STACK}-fleet-discovery"
    assert cloud.stack.attribute("FleetDiscovery", "Errors") == "0"


def test_a_bad_fleet_policy_fails_provisioning_with_the_reason() -> None:
    from llmops_sentinel.errors import TemplateError

    with (
        pytest.raises(TemplateError, match="FleetPolicy parameter"),
        LocalCloud(parameters={"FleetPolicy": "defaults: {latency: {p99_threshold_ms: -1}}"}),
    ):
        pass


# ---------------------------------------------------------------------------------- regressions
BASELINE_MIN = 150


def history(cloud: LocalCloud, endpoint: str, start: datetime, rng: np.random.Generator) -> None:
    """What a deployed stack would have seen: the endpoint InService a day before, 150 quiet minutes."""
    endpoint_in_service(cloud, f"{endpoint}-config-v1", start - timedelta(days=1), endpoint=endpoint)
    publish_traffic(cloud, start, BASELINE_MIN, rng, endpoint=endpoint)


def regress(cloud: LocalCloud, endpoints: list[str], onset: datetime, rng: np.random.Generator) -> list[Any]:
    """Load-driven latency x3 on every endpoint, minute by minute, until each one's p99 alarm fired."""
    fired: dict[str, Any] = {}
    for minute in range(8):
        at = onset + timedelta(minutes=minute)
        for endpoint in endpoints:
            publish_traffic(cloud, at, 1, rng, latency_factor=3.0, load_factor=2.0, endpoint=endpoint)
        for change in cloud.alarms.evaluate(at + timedelta(minutes=1, seconds=5)):
            if change.state == "ALARM" and change.alarm_name.endswith("-p99-latency"):
                fired[change.alarm_name] = change
        if len(fired) == len(endpoints):
            break
    return list(fired.values())


def routed(cloud: LocalCloud) -> list[dict[str, Any]]:
    """Every routing result (an event with several signals, e.g. a Governance Findings batch, has many)."""
    answers = [i.result for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction" and i.ok]
    return [r for a in answers for r in a.get("results", [a])]


def test_a_regression_on_a_tag_onboarded_endpoint_is_confirmed_and_scaled_out(cloud: LocalCloud) -> None:
    rng = np.random.default_rng(21)
    create_endpoint(cloud, "team-h-llm", tags=MONITOR, via_bus=True)
    start = minute_start(datetime.now(UTC)) - timedelta(hours=4)
    history(cloud, "team-h-llm", start, rng)
    onset = start + timedelta(minutes=BASELINE_MIN)
    cloud.alarms.evaluate(onset)  # INSUFFICIENT_DATA -> OK on the quiet history
    (fired,) = regress(cloud, ["team-h-llm"], onset, rng)
    assert fired.alarm_name == f"{STACK}-team-h-llm-p99-latency"
    (decision,) = [r for r in routed(cloud) if r["signal"] == "latency-regression"]
    assert (decision["status"], decision["action"], decision["endpoint_name"]) == ("started", "scale-out", "team-h-llm")
    assert cloud.wait_for_execution(decision["execution_arn"])["status"] == "SUCCEEDED"
    assert instance_count(cloud, "team-h-llm") == 2


def test_two_endpoints_regressing_at_once_each_get_their_own_action(cloud: LocalCloud) -> None:
    rng = np.random.default_rng(22)
    names = ["team-i-llm", "team-j-llm"]
    for name in names:
        create_endpoint(cloud, name, tags=MONITOR, via_bus=True)
    start = minute_start(datetime.now(UTC)) - timedelta(hours=4)
    for name in names:
        history(cloud, name, start, rng)
    onset = start + timedelta(minutes=BASELINE_MIN)
    cloud.alarms.evaluate(onset)
    fired = regress(cloud, names, onset, rng)
    assert sorted(f.alarm_name for f in fired) == [f"{STACK}-{n}-p99-latency" for n in names]
    decisions = [r for r in routed(cloud) if r["signal"] == "latency-regression"]
    assert sorted((d["endpoint_name"], d["status"], d["action"]) for d in decisions) == [
        (n, "started", "scale-out") for n in names
    ]
    executions = cloud.executions("ScaleOutStateMachine")
    assert len(executions) == 2
    targets = sorted(
        json.loads(cloud.wait_for_execution(e["executionArn"])["input"])["endpoint_name"] for e in executions
    )
    assert targets == names
    assert [instance_count(cloud, n) for n in names] == [2, 2]


def test_an_unwatched_endpoint_alarm_is_not_acted_on(cloud: LocalCloud) -> None:
    """The router's scope is config-listed + registry: an offboarded endpoint is unwatched at once."""
    create_endpoint(cloud, "team-k-llm", tags=MONITOR, via_bus=True)
    arn = cloud.client("sagemaker").describe_endpoint(EndpointName="team-k-llm")["EndpointArn"]
    event = json.loads(json.dumps(_latency_regression("team-k-llm")))
    watched = cloud.invoke("AlarmRouterFunction", event).result
    assert watched["status"] != "unwatched"
    sagemaker_call(cloud, "DeleteTags", ResourceArn=arn, TagKeys=["sentinel:monitor"])
    event["id"] = "another-occurrence"
    unwatched = cloud.invoke("AlarmRouterFunction", event).result
    assert unwatched["status"] == "unwatched" and "team-k-llm" in unwatched["reason"]


def _latency_regression(endpoint: str) -> dict[str, Any]:
    from tests.integration.remediation_helpers import router_event

    return router_event("latency_regression_load.json", endpoint_name=endpoint)


def target_stack(cloud: LocalCloud, endpoint: str) -> str | None:
    aas = cloud.client("application-autoscaling")
    (target,) = aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[f"endpoint/{endpoint}/variant/AllTraffic"]
    )["ScalableTargets"]
    tags = aas.list_tags_for_resource(ResourceARN=target["ScalableTargetARN"])["Tags"]
    return tags.get(STACK_TAG)


def test_a_watched_endpoints_scalable_target_carries_the_stack_tag_and_loses_it_on_offboarding(
    cloud: LocalCloud,
) -> None:
    """IAM lets the scale workflows register a target only when it carries sentinel:stack: the tracker
    puts it on the variants' targets when it onboards, and takes it off when it offboards."""
    create_endpoint(cloud, "team-s-llm")  # not tagged, not listed: not watched
    cloud.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId="endpoint/team-s-llm/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    assert target_stack(cloud, "team-s-llm") is None
    arn = cloud.client("sagemaker").describe_endpoint(EndpointName="team-s-llm")["EndpointArn"]
    before = len(cloud.runtime.invocations)
    sagemaker_call(cloud, "AddTags", ResourceArn=arn, Tags=[{"Key": "sentinel:monitor", "Value": "true"}])
    (tracked,) = tracker_calls(cloud, before)
    assert tracked.result["status"] == "onboarded" and len(tracked.result["targets_tagged"]) == 1
    assert target_stack(cloud, "team-s-llm") == STACK
    # The same event again changes nothing: the tag is there.
    again = len(cloud.runtime.invocations)
    sagemaker_call(cloud, "AddTags", ResourceArn=arn, Tags=[{"Key": "sentinel:monitor", "Value": "true"}])
    (repeat,) = tracker_calls(cloud, again)
    assert (repeat.result["status"], repeat.result["targets_tagged"]) == ("unchanged", [])
    sagemaker_call(cloud, "DeleteTags", ResourceArn=arn, TagKeys=["sentinel:monitor"])
    assert target_stack(cloud, "team-s-llm") is None
    assert_gone(cloud, "team-s-llm")

"""Latency regressions end to end in the local cloud: metrics -> LatencyMonitorFunction (scheduled, or
asked by the router about an alarm) -> cause -> router -> the right state machine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.adapters.latency_store import LatencyStore
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, create_endpoint, instance_count
from sentinel_dev.local.scenes.latency import (
    current_config,
    deploy,
    endpoint_in_service,
    minute_start,
    publish_traffic,
    scheduled_event,
)

V1, V2 = f"{ENDPOINT}-config-v1", f"{ENDPOINT}-config-v2"
BASELINE = 150


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT}) as running:
        create_endpoint(running, instances=1)
        yield running


def calls(cloud: LocalCloud, function: str) -> list[Any]:
    return [i for i in cloud.runtime.invocations if i.function == function]


def monitor(cloud: LocalCloud, at: datetime) -> dict[str, Any]:
    record = cloud.invoke("LatencyMonitorFunction", scheduled_event(at))
    assert record.ok, record.logs
    run: dict[str, Any] = record.result["endpoints"][0]
    return run


def baseline(cloud: LocalCloud, rng: np.random.Generator) -> datetime:
    """150 quiet minutes on v1 ending an hour before now; the detector has read them. Returns the onset."""
    start = minute_start(datetime.now(UTC)) - timedelta(hours=4)
    endpoint_in_service(cloud, V1, start - timedelta(days=1))
    publish_traffic(cloud, start, BASELINE, rng)
    onset = start + timedelta(minutes=BASELINE)
    first = monitor(cloud, onset)
    assert (first["accepted"], first["alarm"], first["published"]) == (BASELINE - 1, False, [])
    return onset


def test_regression_after_a_config_change_is_rolled_back_by_the_scheduled_monitor(cloud: LocalCloud) -> None:
    rng = np.random.default_rng(11)
    onset = baseline(cloud, rng)
    deploy(cloud, V2)
    endpoint_in_service(cloud, V2, onset - timedelta(minutes=3))
    publish_traffic(cloud, onset, 8, rng, latency_factor=2.0)
    run = monitor(cloud, onset + timedelta(minutes=9))
    assert run["alarm"] is True and len(run["published"]) == 1
    (routed,) = [r.result for r in calls(cloud, "AlarmRouterFunction") if r.result["signal"] == "latency-regression"]
    assert (routed["status"], routed["action"]) == ("started", "rollback")
    regression = calls(cloud, "AlarmRouterFunction")[-1].event["detail"]
    assert regression["cause"] == "deployment"
    assert regression["previous_endpoint_config"] == V1
    assert onset - timedelta(minutes=1) <= datetime.fromisoformat(regression["onset"]) <= onset + timedelta(minutes=2)
    assert 0.6 < regression["magnitude"] < 1.6  # injected +100 %
    assert {f["rule"]: f["met"] for f in regression["evidence"]["findings"]}["deployment"] is True
    execution = cloud.wait_for_execution(routed["execution_arn"])
    assert execution["status"] == "SUCCEEDED"
    assert current_config(cloud) == V1
    # The next run resumes the stored state and reports the same episode no more.
    again = monitor(cloud, onset + timedelta(minutes=14))
    assert again["published"] == []
    store = LatencyStore(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    stored = store.load(ENDPOINT, "AllTraffic")
    assert stored.revision == 3 and stored.state_json and len(stored.state_json) < 400_000


def test_regression_with_rising_invocations_scales_out(cloud: LocalCloud) -> None:
    rng = np.random.default_rng(12)
    onset = baseline(cloud, rng)
    publish_traffic(cloud, onset, 8, rng, latency_factor=2.0, load_factor=2.0)
    run = monitor(cloud, onset + timedelta(minutes=9))
    assert len(run["published"]) == 1
    (routed,) = [r for r in calls(cloud, "AlarmRouterFunction") if r.result["signal"] == "latency-regression"]
    assert routed.event["detail"]["cause"] == "load"
    assert (routed.result["status"], routed.result["action"]) == ("started", "scale-out")
    assert cloud.wait_for_execution(routed.result["execution_arn"])["status"] == "SUCCEEDED"
    assert instance_count(cloud) == 2


def test_static_alarm_is_confirmed_by_the_detector_and_routed_by_its_cause(cloud: LocalCloud) -> None:
    rng = np.random.default_rng(13)
    onset = baseline(cloud, rng)
    cloud.alarms.evaluate(onset)  # INSUFFICIENT_DATA -> OK
    fired = None
    for minute in range(6):
        at = onset + timedelta(minutes=minute)
        publish_traffic(cloud, at, 1, rng, latency_factor=3.0, load_factor=2.0)
        changes = cloud.alarms.evaluate(at + timedelta(minutes=1, seconds=5))
        fired = next((c for c in changes if c.state == "ALARM"), None)
        if fired:
            break
    assert fired is not None and fired.alarm_name.endswith("-p99-latency")
    (asked,) = calls(cloud, "LatencyMonitorFunction")[1:]
    assert asked.source.startswith("lambda:Invoke")  # synchronous, from the router
    assert asked.event["state_timestamp"] == fired.event["state"]["timestamp"]
    assert asked.result["confirmed"] is True and asked.result["cause"] == "load"
    routed = calls(cloud, "AlarmRouterFunction")[-1].result
    assert (routed["signal"], routed["status"], routed["action"]) == ("latency-regression", "started", "scale-out")
    assert cloud.wait_for_execution(routed["execution_arn"])["status"] == "SUCCEEDED"
    # Redelivered alarm: the same decision and execution name, nothing new started.
    (alarm,) = cloud.client("cloudwatch").describe_alarms(AlarmNames=[fired.alarm_name])["MetricAlarms"]
    alarm_arn = alarm["AlarmArn"]  # the fleet tracker's alarm for the watched endpoint
    cloud.put_event("aws.cloudwatch", "CloudWatch Alarm State Change", fired.event, resources=[alarm_arn])
    assert calls(cloud, "AlarmRouterFunction")[-1].result["status"] == "duplicate"
    assert len(cloud.executions("ScaleOutStateMachine")) == 1
    # The scheduled run that follows sees the episode the router already acted on: no second event.
    publish_traffic(cloud, onset + timedelta(minutes=6), 4, rng, latency_factor=3.0, load_factor=2.0)
    assert monitor(cloud, onset + timedelta(minutes=11))["published"] == []


def test_static_alarm_on_a_steady_series_is_not_confirmed_and_starts_nothing(cloud: LocalCloud) -> None:
    """The p99 guard pages on a series that has simply always been above its threshold: no regression."""
    rng = np.random.default_rng(14)
    start = minute_start(datetime.now(UTC)) - timedelta(hours=4)
    publish_traffic(cloud, start, BASELINE, rng, latency_factor=1.8)  # p99 about 2.4 s, steady
    end = start + timedelta(minutes=BASELINE)
    assert monitor(cloud, end)["published"] == []
    changes = cloud.alarms.evaluate(end + timedelta(seconds=5))
    assert [c.state for c in changes if c.alarm_name.endswith("-p99-latency")] == ["ALARM"]
    routed = calls(cloud, "AlarmRouterFunction")[-1].result
    assert (routed["status"], routed["action"], routed["signal"]) == ("ignored", "none", "latency-alarm")
    assert routed["reason"].startswith("not confirmed by the detector: no sustained regression")
    assert cloud.executions("ScaleOutStateMachine") == []


def test_alarm_before_the_detector_has_history_keeps_the_alarm_rule(cloud: LocalCloud) -> None:
    rng = np.random.default_rng(15)
    start = minute_start(datetime.now(UTC)) - timedelta(hours=1)
    publish_traffic(cloud, start, 4, rng, latency_factor=3.0)  # a new endpoint, slow from the start
    cloud.alarms.evaluate(start + timedelta(minutes=4, seconds=5))
    routed = calls(cloud, "AlarmRouterFunction")[-1].result
    assert (routed["status"], routed["action"], routed["signal"]) == ("started", "scale-out", "latency-alarm")

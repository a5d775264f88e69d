"""Latency scene: a p99 regression fires the guard alarm, the router scales out, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from llmops_sentinel.local.cloud import LocalCloud
from llmops_sentinel.local.demo import (
    ENDPOINT,
    VARIANT,
    Echo,
    SceneReport,
    Timeline,
    create_endpoint,
    instance_count,
    latency_minutes,
    publish_minute,
)


def run(cloud: LocalCloud, echo: Echo, rng: np.random.Generator) -> SceneReport:
    log = Timeline(echo)
    create_endpoint(cloud)
    before = instance_count(cloud)
    log(f"endpoint {ENDPOINT} InService with {before} x ml.g4dn.2xlarge ({VARIANT})")
    alarm_name = cloud.stack.ref("P99LatencyAlarm")
    threshold_us = float(cloud.stack.parameters["P99LatencyThresholdMicroseconds"])
    minutes, onset = 30, 20
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=minutes + 1)
    log(
        f"replaying {minutes} min of ModelLatency, regression (x3) from minute {onset}; "
        f"alarm {alarm_name}: p99 > {threshold_us / 1e6:.1f} s, 2 of 3 periods",
        at=start,
    )
    router_result: dict[str, Any] | None = None
    fired_at = None
    for minute, samples in enumerate(latency_minutes(rng, minutes, onset)):
        at = start + timedelta(minutes=minute)
        publish_minute(cloud, at + timedelta(seconds=30), samples)
        now = at + timedelta(minutes=1, seconds=5)
        for change in cloud.alarms.evaluate(now):
            log(
                f"alarm {change.previous} -> {change.state}  (p99 of minute {minute}: "
                f"{np.percentile(samples, 99) / 1e6:.2f} s)",
                at=now,
            )
            if change.state == "ALARM":
                fired_at = now
        if fired_at:
            break
    if fired_at is None:
        return SceneReport(name="latency", ok=False, summary="the alarm never fired", timeline=log.entries)
    router_calls = [i for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction"]
    router_result = router_calls[-1].result if router_calls else None
    if not router_result or router_result.get("status") != "started":
        return SceneReport(
            name="latency", ok=False, summary=f"router did not start a workflow: {router_result}", timeline=log.entries
        )
    log(
        f"EventBridge rule -> AlarmRouterFunction: {router_result['status']} {router_result['action']} "
        f"as {router_result['execution_name']}"
    )
    execution = cloud.wait_for_execution(router_result["execution_arn"])
    states = [
        e["stateEnteredEventDetails"]["name"]
        for e in cloud.execution_history(router_result["execution_arn"])
        if e["type"].endswith("StateEntered")
    ]
    log(f"state machine {execution['status']}: {' -> '.join(states)}")
    after = instance_count(cloud)
    log(f"endpoint {ENDPOINT}: {before} -> {after} instances")
    topic = cloud.stack.ref("NotificationTopic")
    messages = cloud.sns_messages(topic)
    if messages:
        log(f"SNS: {messages[-1][:110]}")
    # The same transition delivered again (EventBridge is at-least-once): one execution only.
    replay = cloud.alarms.transitions[-1].event
    cloud.put_event(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        replay,
        resources=[cloud.stack.attribute("P99LatencyAlarm", "Arn")],
    )
    duplicate = cloud.runtime.invocations[-1].result or {}
    executions = cloud.executions("ScaleOutStateMachine")
    log(f"same alarm event delivered again -> router: {duplicate.get('status')}; executions: {len(executions)}")
    ok = (
        execution["status"] == "SUCCEEDED"
        and after == before + 1
        and len(executions) == 1
        and duplicate.get("status") == "duplicate"
    )
    return SceneReport(
        name="latency",
        ok=ok,
        summary=f"p99 alarm -> scale-out {before} -> {after} instances, duplicate delivery ignored",
        timeline=log.entries,
        facts={
            "instances_before": before,
            "instances_after": after,
            "execution_status": execution["status"],
            "states": states,
            "executions": len(executions),
        },
    )

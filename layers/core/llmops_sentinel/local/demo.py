"""The demo scenes, run on the local cloud. Each scene checks its own outcome (``ok``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from llmops_sentinel.local.cloud import LocalCloud

Echo = Callable[[str], None] | None

ENDPOINT = "demo-llm-endpoint"
TGI_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/"
    "huggingface-pytorch-tgi-inference:2.4-tgi2.4-gpu-py311-cu124-ubuntu22.04"
)
VARIANT = "AllTraffic"


class TimelineEntry(BaseModel):
    wall_s: float
    at: str | None = None
    what: str


class SceneReport(BaseModel):
    name: str
    ok: bool
    summary: str
    timeline: list[TimelineEntry] = Field(default_factory=list)
    facts: dict[str, Any] = Field(default_factory=dict)


class DemoReport(BaseModel):
    ok: bool
    seconds: float
    scenes: list[SceneReport]
    not_emulated: dict[str, str]


class _Timeline:
    def __init__(self, echo: Echo) -> None:
        self._echo = echo
        self._start = time.perf_counter()
        self.entries: list[TimelineEntry] = []

    def __call__(self, what: str, at: datetime | None = None) -> None:
        entry = TimelineEntry(
            wall_s=round(time.perf_counter() - self._start, 2),
            at=at.strftime("%H:%M") if at else None,
            what=what,
        )
        self.entries.append(entry)
        if self._echo:
            clock = f"{entry.at} " if entry.at else "      "
            self._echo(f"  {entry.wall_s:6.2f}s  {clock} {what}")


def create_endpoint(cloud: LocalCloud, name: str = ENDPOINT, instances: int = 1) -> None:
    """A SageMaker endpoint as a team would have it: model, endpoint config, endpoint."""
    sm = cloud.client("sagemaker")
    role = cloud.client("iam").create_role(
        RoleName=f"{name}-execution",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    sm.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn=role,
        PrimaryContainer={
            "Image": TGI_IMAGE,
            "Environment": {"HF_MODEL_ID": "meta-llama/Llama-3.1-8B-Instruct", "SM_NUM_GPUS": "1"},
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config-v1",
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": f"{name}-model",
                "InitialInstanceCount": instances,
                "InstanceType": "ml.g4dn.2xlarge",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config-v1")


def instance_count(cloud: LocalCloud, endpoint: str = ENDPOINT, variant: str = VARIANT) -> int:
    described = cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    for item in described["ProductionVariants"]:
        if item["VariantName"] == variant:
            return int(item.get("CurrentInstanceCount") or item.get("DesiredInstanceCount") or 0)
    raise LookupError(variant)


def latency_minutes(rng: np.random.Generator, minutes: int, onset: int, per_minute: int = 60) -> list[np.ndarray]:
    """Per-minute ModelLatency samples (microseconds): ~0.8 s typical, x3 from ``onset`` on."""
    series = []
    for minute in range(minutes):
        scale = 3.0 if minute >= onset else 1.0
        series.append(rng.lognormal(mean=np.log(800_000 * scale), sigma=0.25, size=per_minute))
    return series


def publish_minute(
    cloud: LocalCloud, at: datetime, samples: np.ndarray, endpoint: str = ENDPOINT, variant: str = VARIANT
) -> None:
    cloud.client("cloudwatch").put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {
                "MetricName": "ModelLatency",
                "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
                "Timestamp": at,
                "Values": [round(float(v), 1) for v in samples],
                "Unit": "Microseconds",
            }
        ],
    )


def latency_scene(cloud: LocalCloud, echo: Echo, rng: np.random.Generator) -> SceneReport:
    log = _Timeline(echo)
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


SCENES: tuple[Callable[[LocalCloud, Echo, np.random.Generator], SceneReport], ...] = (latency_scene,)


def run_demo(echo: Echo = print, seed: int = 7) -> DemoReport:
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    if echo:
        echo("LLMOps Sentinel demo: template.yaml on a local cloud (moto), no AWS account needed")
    with LocalCloud(parameters={"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT}) as cloud:
        if echo:
            kinds = sorted(set(cloud.stack.resource_types.values()))
            echo(
                f"  stack {cloud.stack.name}: {len(cloud.stack.resources)} resources from template.yaml "
                f"({len(kinds)} types) on {cloud.endpoint_url}"
            )
            if cloud.stack.not_emulated:
                echo(f"  not emulated locally: {', '.join(sorted(cloud.stack.not_emulated))}")
        scenes = []
        for scene in SCENES:
            if echo:
                echo(f"\n== scene: {scene.__name__.removesuffix('_scene')}")
            report = scene(cloud, echo, rng)
            scenes.append(report)
            if echo:
                echo(f"  => {'OK' if report.ok else 'FAILED'}: {report.summary}")
        not_emulated = dict(cloud.stack.not_emulated)
    seconds = time.perf_counter() - started
    if echo:
        echo(f"\ndemo finished in {seconds:.1f} s: {'all scenes OK' if all(s.ok for s in scenes) else 'FAILED'}")
    return DemoReport(ok=all(s.ok for s in scenes), seconds=round(seconds, 2), scenes=scenes, not_emulated=not_emulated)

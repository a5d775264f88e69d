"""Latency scene: a regression right after a deployment; the p99 guard alarm fires, the router asks the
latency detector, which confirms it and names the deployment, and the rollback workflow puts the
endpoint back on its previous config. The same alarm delivered again starts nothing.

The traffic helpers here are shared with tests/integration/test_latency_pipeline.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, VARIANT, Echo, SceneReport, Timeline, create_endpoint

BASELINE_US = 800_000.0


def minute_start(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def publish_traffic(
    cloud: LocalCloud,
    start: datetime,
    minutes: int,
    rng: np.random.Generator,
    latency_factor: float = 1.0,
    load_factor: float = 1.0,
    per_minute: int = 40,
    endpoint: str = ENDPOINT,
    variant: str = VARIANT,
) -> None:
    """``minutes`` of SageMaker-shaped metrics from ``start``: ModelLatency samples (~0.8 s, log-sd 0.25,
    times ``latency_factor``) and Invocations (~600/min times ``load_factor``)."""
    cw = cloud.client("cloudwatch")
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    for minute in range(minutes):
        at = start + timedelta(minutes=minute, seconds=30)
        samples = rng.lognormal(np.log(BASELINE_US * latency_factor), 0.25, size=per_minute)
        invocations = float(rng.poisson(600 * load_factor))
        cw.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "ModelLatency",
                    "Dimensions": dims,
                    "Timestamp": at,
                    "Values": [round(float(v), 1) for v in samples],
                    "Unit": "Microseconds",
                },
                {
                    "MetricName": "Invocations",
                    "Dimensions": dims,
                    "Timestamp": at,
                    "Value": invocations,
                    "Unit": "None",
                },
            ],
        )


def endpoint_in_service(cloud: LocalCloud, config: str, at: datetime, endpoint: str = ENDPOINT) -> None:
    """SageMaker's ``Endpoint State Change`` (InService on ``config``, at ``at``) to EndpointTrackerFunction,
    which records the config history (invoked directly: other rules on the default bus match these events
    too, and their workflows are not part of this scene)."""
    event = {
        "version": "0",
        "id": f"endpoint-{config}-{at:%Y%m%d%H%M%S}",
        "detail-type": "SageMaker Endpoint State Change",
        "source": "aws.sagemaker",
        "account": cloud.account_id,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": cloud.region,
        "resources": [f"arn:aws:sagemaker:{cloud.region}:{cloud.account_id}:endpoint/{endpoint}"],
        "detail": {"EndpointName": endpoint, "EndpointConfigName": config, "EndpointStatus": "IN_SERVICE"},
    }
    recorded = cloud.invoke("EndpointTrackerFunction", event)
    if not recorded.ok:
        raise RuntimeError(f"EndpointTrackerFunction failed: {recorded.error_type}: {recorded.error_message}")


def deploy(cloud: LocalCloud, config: str, instances: int = 1, endpoint: str = ENDPOINT) -> None:
    """A new endpoint config (same model, on the smaller and cheaper ml.g5.xlarge) and UpdateEndpoint onto it."""
    sm = cloud.client("sagemaker")
    sm.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": f"{endpoint}-model",
                "InitialInstanceCount": instances,
                "InstanceType": "ml.g5.xlarge",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=config)


def scheduled_event(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"scheduled-{at:%Y%m%d%H%M}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/latency-monitor-schedule"],
        "detail": {},
    }


def current_config(cloud: LocalCloud, endpoint: str = ENDPOINT) -> str:
    return str(cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)["EndpointConfigName"])


def run(cloud: LocalCloud, echo: Echo, rng: np.random.Generator) -> SceneReport:
    log = Timeline(echo)
    create_endpoint(cloud)
    v1, v2 = f"{ENDPOINT}-config-v1", f"{ENDPOINT}-config-v2"
    # Simulated clock: three hours that ended an hour ago (clear of the endpoint's real creation time).
    start = minute_start(datetime.now(UTC)) - timedelta(hours=4)
    baseline, regression = 150, 8
    onset = start + timedelta(minutes=baseline)
    endpoint_in_service(cloud, v1, start - timedelta(days=1))
    publish_traffic(cloud, start, baseline, rng)
    log(f"endpoint {ENDPOINT} on {v1}: {baseline} min of ModelLatency (~0.8 s) and Invocations", at=start)
    first = cloud.invoke("LatencyMonitorFunction", scheduled_event(onset))
    run0 = (first.result or {}).get("endpoints", [{}])[0]
    log(
        f"LatencyMonitorFunction (scheduled): {run0.get('accepted')} points, score {run0.get('score')}, "
        f"state stored in the Sentinel table",
        at=onset,
    )
    cloud.alarms.evaluate(onset)
    deploy(cloud, v2)
    endpoint_in_service(cloud, v2, onset - timedelta(minutes=2))
    log(f"UpdateEndpoint -> {v2}; InService (EndpointTracker records the config history)", at=onset)
    router: dict[str, Any] = {}
    fired_at = None
    for minute in range(regression):
        at = onset + timedelta(minutes=minute)
        publish_traffic(cloud, at, 1, rng, latency_factor=3.0)
        now = at + timedelta(minutes=1, seconds=5)
        for change in cloud.alarms.evaluate(now):
            log(f"alarm {change.alarm_name}: {change.previous} -> {change.state}", at=now)
            if change.state == "ALARM":
                fired_at = now
        if fired_at:
            break
    if fired_at is None:
        return SceneReport(name="latency", ok=False, summary="the p99 guard alarm never fired", timeline=log.entries)
    confirm = next((i for i in reversed(cloud.runtime.invocations) if i.function == "LatencyMonitorFunction"), None)
    answer = (confirm.result or {}) if confirm else {}
    log(
        f"router -> LatencyMonitorFunction (confirm): confirmed={answer.get('confirmed')}, "
        f"cause={answer.get('cause')}, onset {str(answer.get('onset'))[11:16]}, "
        f"magnitude {float(answer.get('magnitude') or 0):+.0%}, "
        f"previous config {answer.get('previous_endpoint_config')}"
    )
    routed = [i for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction"]
    router = (routed[-1].result or {}) if routed else {}
    if router.get("status") != "started":
        return SceneReport(
            name="latency", ok=False, summary=f"router did not start a workflow: {router}", timeline=log.entries
        )
    log(f"router: {router['signal']} -> {router['status']} {router['action']} as {router['execution_name']}")
    execution = cloud.wait_for_execution(router["execution_arn"])
    states = [
        e["stateEnteredEventDetails"]["name"]
        for e in cloud.execution_history(router["execution_arn"])
        if e["type"].endswith("StateEntered")
    ]
    log(f"RollbackStateMachine {execution['status']}: {' -> '.join(states)}")
    now_on = current_config(cloud)
    log(f"endpoint {ENDPOINT} is on {now_on}")
    # The same transition delivered again (EventBridge is at-least-once): one execution only.
    replay = cloud.alarms.transitions[-1]
    cloud.put_event(
        "aws.cloudwatch",
        "CloudWatch Alarm State Change",
        replay.event,
        resources=[
            cloud.client("cloudwatch").describe_alarms(AlarmNames=[replay.alarm_name])["MetricAlarms"][0]["AlarmArn"]
        ],
    )
    duplicate = next(i for i in reversed(cloud.runtime.invocations) if i.function == "AlarmRouterFunction").result or {}
    executions = cloud.executions("RollbackStateMachine")
    log(
        f"same alarm event delivered again -> router: {duplicate.get('status')}; rollback executions: {len(executions)}"
    )
    ok = (
        answer.get("confirmed") is True
        and answer.get("cause") == "deployment"
        and router.get("action") == "rollback"
        and execution["status"] == "SUCCEEDED"
        and now_on == v1
        and len(executions) == 1
        and duplicate.get("status") == "duplicate"
    )
    return SceneReport(
        name="latency",
        ok=ok,
        summary=f"p99 alarm confirmed by the detector (cause {answer.get('cause')}) -> rollback {v2} -> {now_on}, "
        "duplicate delivery ignored",
        timeline=log.entries,
        facts={
            "cause": answer.get("cause"),
            "magnitude": answer.get("magnitude"),
            "config_after": now_on,
            "execution_status": execution["status"],
            "states": states,
            "executions": len(executions),
        },
    )

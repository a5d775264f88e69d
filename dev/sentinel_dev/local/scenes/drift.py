"""Drift scene: a baseline, a normal window (no drift), a drifted window -> report, bus event, retrain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.profiles import profile_to_json
from llmops_sentinel.domain.fleet.alarms import alarm_name
from sentinel_dev.local import traffic
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, Echo, SceneReport, Timeline

BATCH = 400


def _scheduled(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"demo-drift-{at:%H%M}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def _window(
    cloud: LocalCloud, log: Timeline, rng: np.random.Generator, at: datetime, kind: traffic.Traffic, label: str
) -> dict[str, Any]:
    """One Firehose flush of ``label`` traffic 9 minutes before ``at``, then the scheduled check at ``at``."""
    arrived = at - timedelta(minutes=9)
    records: list[bytes | str] = [*traffic.records(rng, BATCH, arrived, kind), b"{truncated", b"plain text line"]
    delivered = cloud.firehose_put("InferenceDeliveryStream", records, at=arrived)
    log(
        f"Firehose -> FirehoseProcessorFunction: {BATCH + 2} {label} records -> {delivered.ok} Ok, "
        f"{delivered.failed} ProcessingFailed (to firehose-errors/); one partial profile in S3",
        at=arrived,
    )
    run = cloud.invoke("DriftDetectorFunction", _scheduled(at))
    check: dict[str, Any] = (run.result or {}).get("checks", [{}])[0] if run.ok else {"status": run.error_type}
    return check


def run(cloud: LocalCloud, echo: Echo, rng: np.random.Generator) -> SceneReport:
    log = Timeline(echo)
    bucket = cloud.stack.ref("DataBucket")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    baseline, _ = build_baseline(
        [b"\n".join(traffic.records(rng, 2000, now - timedelta(days=7)))],
        endpoint=ENDPOINT,
        features=["llm", "columns"],
        rng=rng,
    )
    cloud.client("s3").put_object(Bucket=bucket, Key=f"baselines/{ENDPOINT}.json", Body=profile_to_json(baseline))
    log(
        f"baseline of {ENDPOINT}: {baseline.records_ok} records, {len(baseline.features)} features "
        f"-> s3://{bucket}/baselines/{ENDPOINT}.json"
    )

    quiet_at = now - timedelta(minutes=30)
    quiet = _window(cloud, log, rng, quiet_at, traffic.NORMAL, "normal")
    log(
        f"DriftDetectorFunction (schedule): {quiet.get('status')}, {len(quiet.get('drifted_features', []))} "
        f"features drifted, no event",
        at=quiet_at,
    )

    routed_before = sum(1 for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction")
    drifted = _window(cloud, log, rng, now, traffic.DRIFTED, "drifted (longer prompts, slower, more refusals)")
    report: dict[str, Any] = {}
    if drifted.get("report_key"):
        report = json.loads(cloud.client("s3").get_object(Bucket=bucket, Key=drifted["report_key"])["Body"].read())
    tested = len(report.get("report", {}).get("features", []))
    log(
        f"DriftDetectorFunction (schedule): {drifted.get('status')}, {len(drifted.get('drifted_features', []))}/"
        f"{tested} features ({', '.join(drifted.get('drifted_features', []))}), "
        f"report s3://{bucket}/{drifted.get('report_key')}",
        at=now,
    )
    routed = [i for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction"][routed_before:]
    decision = routed[0].result if routed and routed[0].ok else {}
    if decision:
        log(
            f"'Model Drift Detected' on the Sentinel bus -> AlarmRouterFunction: {decision.get('status')} "
            f"{decision.get('action')} as {decision.get('execution_name')}",
            at=now,
        )
    drift_alarm = alarm_name(cloud.stack_name, ENDPOINT, "drift")  # the fleet tracker's, for the endpoint
    changes = [c for c in cloud.alarms.evaluate(now + timedelta(minutes=5, seconds=5)) if c.alarm_name == drift_alarm]
    after = [i for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction"][-1].result or {}
    for change in changes:
        log(
            f"alarm {change.alarm_name} {change.previous} -> {change.state} -> router: {after.get('status')} "
            f"(one retrain per cooldown)",
            at=now + timedelta(minutes=5),
        )
    retrains = cloud.executions("RetrainStateMachine")
    ok = (
        quiet.get("status") == "no-drift"
        and drifted.get("status") == "drift"
        and decision.get("status") == "started"
        and decision.get("action") == "retrain"
        and any(c.state == "ALARM" for c in changes)
        and len(retrains) == 1
    )
    return SceneReport(
        name="drift",
        ok=ok,
        summary=(
            f"normal window: {quiet.get('status')}; drifted window: {drifted.get('status')} "
            f"({len(drifted.get('drifted_features', []))} features) -> report, bus event, retrain "
            f"{decision.get('status', 'not started')}"
        ),
        timeline=log.entries,
        facts={"normal": quiet, "drifted": drifted, "router": decision, "retrain_executions": len(retrains)},
    )

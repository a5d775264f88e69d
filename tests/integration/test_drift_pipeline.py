"""Drift end to end in the local cloud: Firehose batch (good and bad records) -> processor -> partial
profiles in S3 -> scheduled detector -> DriftScore/DriftDetected metrics, report in S3, "Model Drift
Detected" on the bus -> router -> retrain workflow; the DriftDetected alarm -> router (cooldown: one
retrain). A no-drift window puts no event. A data-capture file landing in S3 is profiled too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.profiles import profile_from_json, profile_to_json
from sentinel_dev.local import traffic
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint

ENDPOINT = "demo-llm-endpoint"


def scheduled(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"sched-{at:%H%M}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/sentinel-drift"],
        "detail": {},
    }


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"EndpointName": ENDPOINT}) as running:
        create_endpoint(running)  # watched (config-listed): the fleet tracker keeps its drift alarm
        rng = np.random.default_rng(11)
        lines = traffic.records(rng, 3000, datetime(2026, 11, 1, tzinfo=UTC))
        baseline, errors = build_baseline([b"\n".join(lines)], endpoint=ENDPOINT, features=["llm", "columns"], rng=rng)
        assert not errors
        running.client("s3").put_object(
            Bucket=running.stack.ref("DataBucket"), Key=f"baselines/{ENDPOINT}.json", Body=profile_to_json(baseline)
        )
        yield running


def objects(cloud: LocalCloud, prefix: str) -> list[str]:
    listed = cloud.client("s3").list_objects_v2(Bucket=cloud.stack.ref("DataBucket"), Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def read(cloud: LocalCloud, key: str) -> bytes:
    body: bytes = cloud.client("s3").get_object(Bucket=cloud.stack.ref("DataBucket"), Key=key)["Body"].read()
    return body


def metric(cloud: LocalCloud, name: str, dims: dict[str, str], at: datetime) -> list[float]:
    """Values of ``name`` with exactly these dimensions around ``at`` (CloudWatch's identity; moto's
    GetMetricStatistics also matches metrics with more dimensions, e.g. the per-feature DriftScore)."""
    from moto.cloudwatch.models import cloudwatch_backends

    wanted = sorted(dims.items())
    return [
        float(point.value)
        for point in cloudwatch_backends[cloud.account_id][cloud.region].get_all_metrics()
        if point.namespace == "LLMOpsSentinel"
        and point.name == name
        and sorted((d.name, d.value) for d in point.dimensions) == wanted
        and abs((point.timestamp.replace(tzinfo=UTC) - at).total_seconds()) < 60
    ]


def test_drifted_window_signals_retrain_and_the_alarm_agrees(cloud: LocalCloud) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rng = np.random.default_rng(12)
    good = traffic.records(rng, 600, now - timedelta(minutes=9), traffic.DRIFTED)
    bad = [b"not json at all", b'{"captureData": {"endpointInput": 42}}']
    delivered = cloud.firehose_put(
        "InferenceDeliveryStream", [*good[:300], *bad, *good[300:]], at=now - timedelta(minutes=9)
    )
    assert delivered.batch_error is None
    assert (delivered.ok, delivered.failed) == (600, 2)
    assert [r["recordId"] for r in delivered.response] == [r["recordId"] for r in delivered.invocation.event["records"]]
    # Firehose's error output: one JSON line per failed record, with its original data
    failed = [json.loads(line) for line in read(cloud, delivered.error_key or "").splitlines()]
    assert [f["errorCode"] for f in failed] == ["Lambda.ProcessingFailed"] * 2
    assert delivered.error_key and delivered.error_key.startswith("firehose-errors/processing-failed/")
    (profile_key,) = objects(cloud, f"profiles/{ENDPOINT}/{now - timedelta(minutes=9):%Y/%m/%d/%H}/")
    partial = profile_from_json(read(cloud, profile_key))
    assert (partial.records_ok, partial.records_failed) == (600, 2)
    # per-batch EMF: record counts and latency values (CloudWatch computes percentiles from them)
    emf = cloud.client("cloudwatch").list_metrics(Namespace="LLMOpsSentinel", MetricName="LatencyMs")["Metrics"]
    assert {"Name": "EndpointName", "Value": ENDPOINT} in emf[0]["Dimensions"]

    run = cloud.invoke("DriftDetectorFunction", scheduled(now))
    assert run.ok, run.logs
    (check,) = run.result["checks"]
    assert check["status"] == "drift" and run.result["drifted"] == [ENDPOINT]
    assert {"prompt_chars", "latency_ms", "refusal_like"} <= set(check["drifted_features"])
    assert metric(cloud, "DriftDetected", {"EndpointName": ENDPOINT}, now) == [1.0]
    assert metric(cloud, "DriftScore", {"EndpointName": ENDPOINT}, now) == [pytest.approx(check["share_drifted"])]
    assert metric(cloud, "DriftScore", {"EndpointName": ENDPOINT, "Feature": "prompt_chars"}, now)[0] > 0.5
    report = json.loads(read(cloud, check["report_key"]))
    assert report["type"] == "drift_report" and report["report"]["drifted"] is True
    assert report["profiles"] == [profile_key]

    routed = [i for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction"]
    assert routed[-1].event["detail-type"] == "Model Drift Detected"
    assert routed[-1].event["detail"]["report_id"] == check["report_id"]
    assert routed[-1].result["status"] == "started" and routed[-1].result["action"] == "retrain"
    (execution,) = cloud.executions("RetrainStateMachine")
    assert execution["name"] == routed[-1].result["execution_name"]

    changes = cloud.alarms.evaluate(now + timedelta(minutes=5, seconds=5))
    drift_alarm = f"sentinel-{ENDPOINT}-drift"  # the fleet tracker's, for the config-listed endpoint
    assert [(c.alarm_name, c.state) for c in changes] == [(drift_alarm, "ALARM")]
    after_alarm = [i for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction"][-1]
    assert after_alarm.event["detail"]["alarmName"] == drift_alarm
    # drift-alarm -> retrain too, but the bus event's retrain holds the cooldown: still one execution
    assert after_alarm.result["action"] == "retrain" and after_alarm.result["status"] == "cooldown"
    assert len(cloud.executions("RetrainStateMachine")) == 1


def test_no_drift_window_puts_no_event(cloud: LocalCloud) -> None:
    at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
    rng = np.random.default_rng(13)
    delivered = cloud.firehose_put(
        "InferenceDeliveryStream", traffic.records(rng, 600, at - timedelta(minutes=9)), at=at - timedelta(minutes=9)
    )
    assert (delivered.ok, delivered.failed) == (600, 0)
    routed_before = sum(1 for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction")
    run = cloud.invoke("DriftDetectorFunction", scheduled(at))
    (check,) = run.result["checks"]
    assert check["status"] == "no-drift", check
    assert check["event_id"] is None and run.result["drifted"] == []
    assert metric(cloud, "DriftDetected", {"EndpointName": ENDPOINT}, at) == [0.0]
    assert sum(1 for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction") == routed_before


def test_an_empty_window_has_no_verdict_and_no_metric(cloud: LocalCloud) -> None:
    at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=5)
    run = cloud.invoke("DriftDetectorFunction", {"at": at.isoformat()})
    assert run.result["checks"][0]["status"] == "no-data"
    assert metric(cloud, "DriftDetected", {"EndpointName": ENDPOINT}, at) == []


def test_data_capture_file_in_s3_is_profiled(cloud: LocalCloud) -> None:
    # Its profile's time is now: after the end of any window checked now (windows end settle_minutes earlier).
    now = datetime.now(UTC)
    rng = np.random.default_rng(14)
    lines = traffic.records(rng, 50, now)
    key = f"datacapture/{ENDPOINT}/AllTraffic/{now:%Y/%m/%d/%H}/{now:%M-%S}-000-capture.jsonl"
    seen = len(cloud.runtime.invocations)
    cloud.client("s3").put_object(
        Bucket=cloud.stack.ref("DataBucket"), Key=key, Body=b"\n".join([*lines, b"{broken"]) + b"\n"
    )
    (run,) = cloud.runtime.invocations[seen:]  # writing the profile (profiles/) triggers nothing more
    assert run.function == "DataCaptureProfilerFunction" and run.source.startswith("rule:")
    assert run.ok, run.logs
    assert run.result["status"] == "profiled" and run.result["records_ok"] == 50
    assert run.result["records_failed"] == 1 and run.result["variant"] == "AllTraffic"
    partial = profile_from_json(read(cloud, run.result["profile_key"]))
    assert partial.endpoint == ENDPOINT and partial.records_ok == 50

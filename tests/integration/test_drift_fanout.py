"""Drift checks fan out over the fleet in the local cloud: the scheduled DriftChecks state machine lists
the fleet-registry endpoints with a baseline, then checks each in its own drift-detector invocation
(inline Map, MaxConcurrency 10). One endpoint's S3 prefix throttles (SlowDown): its item is retried by
the Map and then caught as that item's error; one has a corrupt baseline (isolated inside its check);
the other endpoints are still checked, with their reports in S3."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.adapters.s3 import baseline_key, profile_key
from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.profiles import profile_to_json
from sentinel_dev.local import traffic
from sentinel_dev.local.cloud import LocalCloud
from tests.integration.fleet_helpers import FLEET, seed_fleet

THROTTLED, CORRUPT = "fleet-b", "fleet-c"


def scheduled(at: datetime) -> dict[str, Any]:
    return {
        "version": "0", "id": f"sched-{at:%H%M}", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/sentinel-drift-checks"], "detail": {},
    }  # fmt: skip


@pytest.fixture
def slow_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 throttles one endpoint's prefix (503 SlowDown), as S3 does per prefix under load."""
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    original = S3Backend.get_object

    def get_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        if key_name == baseline_key(THROTTLED):
            raise S3ClientError("SlowDown", "Please reduce your request rate.")
        return original(self, bucket_name, key_name, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "get_object", get_object)


@pytest.fixture
def cloud(slow_down: None) -> Iterator[LocalCloud]:
    with LocalCloud() as running:
        seed_fleet(running)
        yield running


def _put(cloud: LocalCloud, key: str, body: bytes) -> None:
    cloud.client("s3").put_object(Bucket=cloud.stack.ref("DataBucket"), Key=key, Body=body)


def test_one_failing_item_is_caught_and_the_others_are_checked(cloud: LocalCloud) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rng = np.random.default_rng(21)
    lines = traffic.records(rng, 600, now - timedelta(days=3))
    baseline, _ = build_baseline([b"\n".join(lines)], features=["llm", "columns"], rng=rng)
    current, _ = build_baseline([b"\n".join(traffic.records(rng, 400, now))], features=["llm", "columns"], rng=rng)
    for name in FLEET:
        _put(cloud, baseline_key(name), profile_to_json(baseline) if name != CORRUPT else b'{"version": 1, "type"')
        _put(cloud, profile_key(name, now - timedelta(minutes=8), "batch-1"), profile_to_json(current))
    sfn = cloud.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=cloud.stack.ref("DriftChecksStateMachine"), name="drift-fleet", input=json.dumps(scheduled(now))
    )["executionArn"]
    execution = cloud.wait_for_execution(arn, timeout_s=300)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    assert output["watched"] == len(FLEET)
    by = {c["endpoint"]: c for c in output["checks"]}
    assert set(by) == set(FLEET)  # demo-llm-endpoint (monitors.yaml) has no baseline: skipped, not a Map item
    assert [s["endpoint"] for s in output["skipped"]] == ["demo-llm-endpoint"]
    # the throttled item: retried by the Map (1 + 3 attempts), then its Catch made it the item's result
    assert by[THROTTLED]["status"] == "error" and by[THROTTLED]["error"] == "ThrottledError", by[THROTTLED]
    tries = [
        i for i in cloud.runtime.invocations
        if i.function == "DriftDetectorFunction" and isinstance(i.event, dict) and i.event.get("endpoint") == THROTTLED
    ]  # fmt: skip
    assert len(tries) == 4 and all(i.error_type == "ThrottledError" for i in tries)
    # the corrupt baseline: isolated inside its own check
    assert by[CORRUPT]["status"] in {"bad-input", "error"} and by[CORRUPT]["reason"]
    for name in ("fleet-a", "fleet-d"):
        assert by[name]["status"] in {"drift", "no-drift"}, by[name]
        report = cloud.client("s3").get_object(Bucket=cloud.stack.ref("DataBucket"), Key=by[name]["report_key"])
        assert json.loads(report["Body"].read())["type"] == "drift_report"
    history = cloud.execution_history(arn)
    assert {"MapStateStarted", "MapStateSucceeded"} <= {e["type"] for e in history}
    # Billed transitions (docs/drift.md): List, the Map, one per item, one per caught item, Done.
    entered = sum(1 for e in history if e["type"].endswith("StateEntered"))
    caught = sum(1 for c in output["checks"] if "error" in c)
    assert entered == 3 + len(output["checks"]) + caught
    print(f"\ndrift fan-out over {len(FLEET)} endpoints: {entered} states entered (+ the retries)")

"""The latency monitor over a fleet in the local cloud: targets are the env list plus every registry
endpoint, all their series read in one batched GetMetricData call; when CloudWatch fails for one
endpoint, the batch is re-read per endpoint and only that endpoint's result is an error - the others are
advanced, stored and checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.models.latency import MonitoredEndpoint
from llmops_sentinel.services.latency_monitor import MonitorSettings, advance_queries
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT
from sentinel_dev.local.scenes.latency import minute_start, publish_traffic, scheduled_event
from tests.integration.fleet_helpers import FLEET, seed_fleet

FAILING = "fleet-c"
SIGNALS = "latency,ttft,tokens_per_s,error_rate"  # the template's SENTINEL_LATENCY_SIGNALS


@dataclass
class CloudWatchFaults:
    calls: list[list[str]] = field(default_factory=list)
    """Per GetMetricData call the local CloudWatch answered: the endpoint each query names."""
    failing: set[str] = field(default_factory=set)
    """Endpoints whose series CloudWatch cannot read: a request that includes one fails whole."""


@pytest.fixture
def faults(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> CloudWatchFaults:
    """GetMetricData recorded, and failing with an internal error for requests naming a failing endpoint
    (patched over the local cloud's own GetMetricData, installed when it starts)."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.core.exceptions import ServiceException

    class InternalServiceFault(ServiceException):
        code = "InternalServiceError"
        message = "Internal service error"

    original = CloudWatchBackend.get_metric_data
    recorded = CloudWatchFaults()

    def get_metric_data(self: Any, queries: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        names = [
            d["Value"]
            for q in queries
            for d in q.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
            if d["Name"] == "EndpointName"
        ]
        if queries:
            recorded.calls.append(names)
        if recorded.failing & set(names):
            raise InternalServiceFault()
        return original(self, queries, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", get_metric_data)
    return recorded


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"EndpointName": ENDPOINT}) as running:
        seed_fleet(running)
        yield running


def test_one_endpoint_cloudwatch_cannot_read_fails_alone(cloud: LocalCloud, faults: CloudWatchFaults) -> None:
    now = minute_start(datetime.now(UTC))
    rng = np.random.default_rng(31)
    for name in FLEET:
        publish_traffic(cloud, now - timedelta(minutes=40), 45, rng, endpoint=name, per_minute=10)
    first = cloud.invoke("LatencyMonitorFunction", scheduled_event(now))  # every detector backfills
    assert first.ok, first.logs
    assert {r["status"] for r in first.result["endpoints"]} <= {"ok", "no-data"}
    faults.calls.clear()
    faults.failing.add(FAILING)  # from the second run on: its state is stored, it shares the steady window
    later = now + timedelta(minutes=5)
    record = cloud.invoke("LatencyMonitorFunction", scheduled_event(later))
    assert record.ok, record.logs
    runs = {r["endpoint_name"]: r for r in record.result["endpoints"]}
    assert set(runs) == {ENDPOINT, *FLEET}  # the env list's endpoint and the registry's, each once
    assert runs[FAILING]["status"] == "error" and "InternalServiceError" in runs[FAILING]["reason"]
    for name in set(FLEET) - {FAILING}:
        assert runs[name]["status"] == "ok" and runs[name]["points"] > 0, runs[name]
        assert runs[name]["idle"]["status"] == "active"
    # Steady state: one request carried every target's queries (repeated only by botocore's own retries
    # of the 500); after it failed, each endpoint was read again alone, and only FAILING's read failed.
    settings = MonitorSettings(table_name="t", bus_name="b", signals=SIGNALS.split(","), idle_policy=None)
    per_target = len(advance_queries(MonitoredEndpoint(endpoint_name="x"), settings))
    batched = faults.calls[0]
    assert len(batched) == per_target * (len(FLEET) + 1) <= 500
    assert all(call == batched for call in faults.calls if len(set(call)) > 1)
    alone = {frozenset(call) for call in faults.calls if len(set(call)) == 1}
    assert alone == {frozenset({n}) for n in (ENDPOINT, *FLEET)}

"""bench/fleet.py's core at N=3 on the local cloud: every endpoint is found and checked, the call counts
it prices from are the calls the functions made, and the checks it prints are computed from them."""

from __future__ import annotations

import importlib.util
import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from sentinel_dev.local.cloud import LocalCloud

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fleet.py"
N = 3


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_fleet", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fleet() -> ModuleType:
    return _bench()


@pytest.fixture(scope="module")
def row(fleet: ModuleType) -> dict[str, Any]:
    prices = fleet.load_service_prices(fleet.PRICES)
    result: dict[str, Any] = fleet.bench_one(N, prices, np.random.default_rng(3))
    return result


def test_the_counter_sees_exactly_the_calls_made(fleet: ModuleType) -> None:
    """The hook the bench prices from: two calls made on a client created after it is installed are two
    counted calls, with the metrics a GetMetricData request asks for; a client made after it is uninstalled
    is not counted."""
    with LocalCloud() as cloud:
        counter = fleet.CallCounter()
        counter.install()
        try:
            cw = cloud.new_client("cloudwatch")
            query = {
                "MetricStat": {
                    "Metric": {"Namespace": "AWS/SageMaker", "MetricName": "Invocations"},
                    "Period": 60,
                    "Stat": "Sum",
                }
            }
            now = datetime.now(UTC)
            cw.get_metric_data(
                MetricDataQueries=[{"Id": "a", **query}, {"Id": "b", **query}],
                StartTime=now - timedelta(minutes=10),
                EndTime=now,
            )
            cw.list_metrics(Namespace="AWS/SageMaker")
            calls = counter.take()
        finally:
            counter.uninstall()
        cloud.new_client("cloudwatch").list_metrics(Namespace="AWS/SageMaker")  # made after uninstall
    assert calls.nested() == {"cloudwatch": {"GetMetricData": 1, "ListMetrics": 1}}
    assert calls.gmd_metrics == 2
    assert counter.take().ops == {}


def test_every_endpoint_is_watched_and_checked(row: dict[str, Any]) -> None:
    assert row["endpoints"] == N
    assert row["endpoints_watched"] == N
    assert row["endpoints_checked"] == N
    assert row["drift_endpoints_checked"] == N
    # the measured run is the steady state: every endpoint's detector was backfilled by the first run
    assert row["statuses"]["latency_first_run"] == {"ok": N}
    assert row["statuses"]["latency"] == {"ok": N}


def test_call_counts_are_consistent_with_the_runs(row: dict[str, Any]) -> None:
    latency = row["api_calls"]["latency"]
    gmd = row["get_metric_data"]
    assert latency["cloudwatch"]["GetMetricData"] == gmd["calls"] >= 1
    assert gmd["metrics_requested"] >= N  # at least one series per endpoint
    assert gmd["bound"] == math.ceil(gmd["metrics_requested"] / 500)
    assert gmd["ok"] is (gmd["calls"] <= gmd["bound"])
    # the drift run reads each endpoint's baseline and writes a report per endpoint
    drift = row["api_calls"]["drift"]["s3"]
    assert drift.get("GetObject", 0) >= N and drift.get("PutObject", 0) >= N
    # discovery read every endpoint's tags (the sync's own calls are counted too)
    sync = row["api_calls"]["fleet_sync"]
    assert sum(sync.get("sagemaker", {}).values()) >= N
    assert sum(sync.get("dynamodb", {}).values()) >= N


def test_the_cost_is_the_sum_of_its_items(row: dict[str, Any]) -> None:
    cost = row["monthly_cost_usd_per_endpoint"]
    assert cost["total"] > 0
    assert cost["total"] == pytest.approx(sum(cost["breakdown"].values()), abs=1e-3)
    assert row["monthly_cost_usd_stack"] == pytest.approx(cost["total"] * N, rel=1e-3, abs=0.01)
    assert row["prices"]["region"] == "us-east-1"


def test_the_checks_follow_the_rows(fleet: ModuleType, row: dict[str, Any]) -> None:
    cheaper = {
        **row,
        "endpoints": 10 * N,
        "monthly_cost_usd_per_endpoint": {"total": 0.5 * row["monthly_cost_usd_per_endpoint"]["total"]},
    }
    dearer = {
        **row,
        "endpoints": 10 * N,
        "monthly_cost_usd_per_endpoint": {"total": 2 * row["monthly_cost_usd_per_endpoint"]["total"]},
    }
    assert fleet.checks([row, cheaper])[0][1] is True
    assert fleet.checks([row, dearer])[0][1] is False
    assert fleet.checks([row])[1][1] is row["get_metric_data"]["ok"]

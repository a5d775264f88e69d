"""Batched GetMetricData over a fleet: packing, ids, window grouping, split back per endpoint, pages,
isolation of a failing call, throttling (botocore Stubber with GetMetricData's response shape; moto
DynamoDB for the state and registry items)."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from llmops_sentinel.adapters.cloudwatch import (
    MAX_DATAPOINTS,
    MAX_QUERIES,
    QUERY_ID,
    MetricsReader,
    MetricsRequest,
    fetch_batched,
    latency_queries,
    plan_calls,
)
from llmops_sentinel.adapters.endpoints import EndpointReader
from llmops_sentinel.adapters.events import Published
from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.adapters.latency_store import LatencyStore
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint
from llmops_sentinel.domain.remediation.policy import load_policy
from llmops_sentinel.errors import ConfigError, ThrottledError
from llmops_sentinel.models.bus_events import SentinelDetail
from llmops_sentinel.models.latency import MonitoredEndpoint, ScheduledRun
from llmops_sentinel.services.latency_monitor import (
    MonitorDeps,
    MonitorSettings,
    advance_queries,
    run_scheduled,
    steady_span_s,
)
from tests.conftest import sentinel_table

NOW = 1_764_720_000.0  # 2025-12-03T00:00:00Z, a period boundary
REGION = "us-east-1"


def _queries(endpoint: str, n: int = 5) -> list[Any]:
    return latency_queries(endpoint, "AllTraffic")[:n]


def _steady(n_targets: int, span_s: float = 300.0, per: int = 5) -> list[MetricsRequest]:
    return [MetricsRequest(f"ep{i}/AllTraffic", _queries(f"ep{i}", per), NOW - span_s, NOW) for i in range(n_targets)]


# ----------------------------------------------------------------------------------------- planning
@pytest.mark.parametrize("n_targets", [1, 10, 100, 101, 250, 500])
def test_steady_state_packs_to_ceil_queries_over_500(n_targets: int) -> None:
    requests = _steady(n_targets)
    calls = plan_calls(requests)
    queries = sum(len(r.queries) for r in requests)
    assert len(calls) == math.ceil(queries / MAX_QUERIES)
    assert all(len(c.queries) <= MAX_QUERIES for c in calls)
    assert all(c.datapoints() <= MAX_DATAPOINTS for c in calls)
    ids = [qid for c in calls for qid in c.queries]
    assert len(ids) == len(set(ids)) == queries  # unique over the whole run, not only per call
    assert all(QUERY_ID.match(qid) for qid in ids)
    carried = sorted((key, q.id) for c in calls for key, q in c.queries.values())
    assert carried == sorted((r.key, q.id) for r in requests for q in r.queries)  # every query exactly once


def test_a_backfill_gets_its_own_calls_within_the_datapoint_limit() -> None:
    backfill = MetricsRequest("new/AllTraffic", _queries("new"), NOW - 15 * 86_400, NOW)
    calls = plan_calls([*_steady(100), backfill])
    steady = [c for c in calls if c.start == NOW - 300]
    own = [c for c in calls if c.start == NOW - 15 * 86_400]
    assert len(steady) == 1 and {k for c in steady for k in c.keys} == {f"ep{i}/AllTraffic" for i in range(100)}
    assert {k for c in own for k in c.keys} == {"new/AllTraffic"}
    # 15 days of 1-minute periods: 21,600 points per query, so 4 queries per call (86,400 <= 100,800)
    assert [len(c.queries) for c in own] == [4, 1]
    assert all(c.datapoints() <= MAX_DATAPOINTS for c in own)


def test_a_window_longer_than_the_datapoint_limit_is_cut_in_time() -> None:
    long = MetricsRequest("old/AllTraffic", _queries("old", 2), NOW - 120_000 * 60, NOW)
    calls = plan_calls([long])
    assert all(c.datapoints() <= MAX_DATAPOINTS for c in calls)
    for own in ("latency_p99", "latency_avg"):
        spans = sorted((c.start, c.end) for c in calls for _, q in c.queries.values() if q.id == own)
        assert spans[0][0] == long.start and spans[-1][1] == long.end
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no gap


# ----------------------------------------------------------------------------------------- fetching
def _client() -> Any:
    return boto3.client("cloudwatch", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


def _result(qid: str, points: list[tuple[float, float]], status: str = "Complete") -> dict[str, Any]:
    return {
        "Id": qid,
        "Label": qid,
        "Timestamps": [datetime.fromtimestamp(t, UTC) for t, _ in points],
        "Values": [v for _, v in points],
        "StatusCode": status,
    }


def test_results_are_split_back_per_endpoint_and_pages_followed() -> None:
    cw = _client()
    requests = [
        MetricsRequest("a/AllTraffic", _queries("a", 2), NOW - 180, NOW),
        MetricsRequest("b/AllTraffic", _queries("b", 2), NOW - 180, NOW),
    ]
    call = plan_calls(requests)[0]
    ids = list(call.queries)
    first = {
        "MetricDataResults": [
            _result(ids[0], [(NOW - 180, 1.0)], "PartialData"),
            _result(ids[2], [(NOW - 180, 3.0)], "PartialData"),
        ],
        "NextToken": "page-2",
        "Messages": [],
    }
    second = {
        "MetricDataResults": [
            _result(ids[0], [(NOW - 120, 1.5), (NOW - 60, 1.7)]),
            _result(ids[1], [(NOW - 60, 2.0)]),
            _result(ids[2], [(NOW - 60, 3.5)]),
        ],
        "Messages": [],
    }
    with Stubber(cw) as stub:
        stub.add_response("get_metric_data", first, _expected(call))
        stub.add_response("get_metric_data", second, _expected(call, token="page-2"))
        result = fetch_batched(MetricsReader(cw), requests)
        stub.assert_no_pending_responses()
    assert result.calls == 1 and not result.errors
    a, b = result.series["a/AllTraffic"], result.series["b/AllTraffic"]
    assert a["latency_p99"].timestamps == [NOW - 180, NOW - 120, NOW - 60]
    assert a["latency_p99"].values == [1.0, 1.5, 1.7]
    assert a["latency_avg"].values == [2.0]
    assert b["latency_p99"].values == [3.0, 3.5]
    assert b["latency_avg"].values == []  # no datapoints: an empty series, not missing


def _expected(call: Any, token: str | None = None) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "MetricDataQueries": [
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(q.dimensions.items())],
                    },
                    "Period": q.period,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for qid, (_, q) in call.queries.items()
        ],
        "StartTime": datetime.fromtimestamp(call.start, UTC),
        "EndTime": datetime.fromtimestamp(call.end, UTC),
        "ScanBy": "TimestampAscending",
    }
    if token:
        expected["NextToken"] = token
    return expected


def test_a_failing_call_fails_only_the_endpoint_that_cannot_be_read() -> None:
    cw = _client()
    requests = [MetricsRequest(f"{n}/AllTraffic", _queries(n, 2), NOW - 180, NOW) for n in ("a", "bad", "c")]
    with Stubber(cw) as stub:
        stub.add_client_error("get_metric_data", "InvalidParameterValue", "bad dimension", 400)  # the batch
        stub.add_response("get_metric_data", {"MetricDataResults": [], "Messages": []})  # a alone
        stub.add_client_error("get_metric_data", "InvalidParameterValue", "bad dimension", 400)  # bad alone
        stub.add_response("get_metric_data", {"MetricDataResults": [], "Messages": []})  # c alone
        result = fetch_batched(MetricsReader(cw), requests)
        stub.assert_no_pending_responses()
    assert set(result.errors) == {"bad/AllTraffic"}
    assert set(result.series) == {"a/AllTraffic", "c/AllTraffic"}
    assert result.calls == 4


def test_throttling_is_reported_not_swallowed() -> None:
    cw = _client()
    with Stubber(cw) as stub:
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        result = fetch_batched(MetricsReader(cw), _steady(3))
    assert set(result.throttled) == {f"ep{i}/AllTraffic" for i in range(3)}
    assert all(isinstance(e, ThrottledError) for e in result.throttled.values())
    assert not result.series


# ----------------------------------------------------------------------------------------- the run
class _Bus:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish_detail(self, detail: SentinelDetail) -> Published:
        self.events.append(detail.wire())
        return Published(sent=1, event_ids=[f"e{len(self.events)}"])


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        ddb = sentinel_table(REGION)
        cw = boto3.client("cloudwatch", region_name=REGION)
        calls: list[int] = []

        def count(params: dict[str, Any], **_: Any) -> None:
            calls.append(len(params["MetricDataQueries"]))

        cw.meta.events.register("provide-client-params.cloudwatch.GetMetricData", count)
        yield {"ddb": ddb, "cw": cw, "calls": calls}


def _deps(aws: dict[str, Any], registry: bool = True) -> MonitorDeps:
    ddb = aws["ddb"]
    return MonitorDeps(
        MetricsReader(aws["cw"]),
        LatencyStore("t", ddb=ddb),
        EndpointReader(boto3.client("sagemaker", region_name=REGION)),
        _Bus(),  # type: ignore[arg-type]
        FleetRegistry("t", ddb=ddb) if registry else None,
    )


def _watch(aws: dict[str, Any], name: str, variants: list[str]) -> None:
    FleetRegistry("t", ddb=aws["ddb"]).put(
        WatchedEndpoint(
            endpoint_name=name, variants=variants, source="tag", since="2025-12-01T00:00:00Z",
            updated_at="2025-12-01T00:00:00Z",
        )
    )  # fmt: skip


def _run(epoch: float) -> ScheduledRun:
    return ScheduledRun.model_validate(
        {"detail-type": "Scheduled Event", "source": "aws.events", "time": datetime.fromtimestamp(epoch, UTC)}
    )


def _settings(**extra: Any) -> MonitorSettings:
    return MonitorSettings(table_name="t", bus_name="b", idle_policy=None, **extra)


def test_targets_are_the_registry_and_the_env_list_each_once(aws: dict[str, Any]) -> None:
    _watch(aws, "ep-b", ["AllTraffic", "Canary"])
    _watch(aws, "ep-a", ["AllTraffic"])
    settings = _settings(endpoints=[{"endpoint_name": "ep-b"}, {"endpoint_name": "env-only"}])
    result = run_scheduled(_run(NOW), settings, _deps(aws))
    got = [(r.endpoint_name, r.variant_name) for r in result.endpoints]
    assert got == [("ep-b", "AllTraffic"), ("env-only", "AllTraffic"), ("ep-a", "AllTraffic"), ("ep-b", "Canary")]


def test_an_empty_fleet_is_nothing_to_do_but_no_targets_at_all_is_a_config_error(aws: dict[str, Any]) -> None:
    assert run_scheduled(_run(NOW), _settings(), _deps(aws)).endpoints == []
    assert aws["calls"] == []
    with pytest.raises(ConfigError, match="no endpoints"):
        run_scheduled(_run(NOW), _settings(), _deps(aws, registry=False))


@pytest.mark.parametrize("n", [3, 120])
def test_steady_state_runs_make_ceil_queries_over_500_calls(aws: dict[str, Any], n: int) -> None:
    for i in range(n):
        _watch(aws, f"ep-{i:03d}", ["AllTraffic"])
    settings = _settings(backfills_per_run=n)
    run_scheduled(_run(NOW), settings, _deps(aws))  # first run: every detector backfills (own window)
    assert all(size <= 4 for size in aws["calls"])  # 21,600 points per query: 4 per call
    aws["calls"].clear()
    result = run_scheduled(_run(NOW + 300), settings, _deps(aws))
    per_target = len(advance_queries(MonitoredEndpoint(endpoint_name="x"), settings))
    assert len(aws["calls"]) == math.ceil(n * per_target / MAX_QUERIES)
    assert sum(aws["calls"]) == n * per_target
    assert {r.status for r in result.endpoints} == {"no-data"}


def test_backfills_beyond_the_budget_are_deferred_to_later_runs(aws: dict[str, Any]) -> None:
    for i in range(5):
        _watch(aws, f"ep-{i}", ["AllTraffic"])
    settings = _settings(backfills_per_run=2)
    first = run_scheduled(_run(NOW), settings, _deps(aws))
    assert [r.status for r in first.endpoints] == ["no-data", "no-data", "deferred", "deferred", "deferred"]
    second = run_scheduled(_run(NOW + 300), settings, _deps(aws))
    assert [r.status for r in second.endpoints] == ["no-data", "no-data", "no-data", "no-data", "deferred"]


def test_throttled_getmetricdata_fails_the_run_for_a_retry(aws: dict[str, Any]) -> None:
    for i in range(2):
        _watch(aws, f"ep-{i}", ["AllTraffic"])
    deps = _deps(aws)
    with Stubber(aws["cw"]) as stub:
        stub.add_client_error("get_metric_data", "Throttling", "Rate exceeded", 400)
        with pytest.raises(ThrottledError, match="2 of 2 endpoint variants throttled"):
            run_scheduled(_run(NOW), _settings(), deps)


def test_the_steady_window_fits_500_queries_in_the_datapoint_limit() -> None:
    settings = _settings()
    assert MAX_QUERIES * steady_span_s(settings) / settings.period_s <= MAX_DATAPOINTS


# ------------------------------------------------------------------------------------ idle evidence
def _endpoint(name: str) -> None:
    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model(
        ModelName=f"{name}-model",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sm",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/tgi:latest"},
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-config",
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InitialInstanceCount": 1,
             "InstanceType": "ml.g4dn.xlarge"}
        ],
    )  # fmt: skip
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")


def _invocations(aws: dict[str, Any], name: str, at: float, value: float = 12.0) -> None:
    aws["cw"].put_metric_data(
        Namespace="AWS/SageMaker",
        MetricData=[
            {"MetricName": "Invocations", "Value": value, "Timestamp": datetime.fromtimestamp(at, UTC),
             "Dimensions": [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "AllTraffic"}]}
        ],
    )  # fmt: skip


def _idle_settings(**extra: Any) -> MonitorSettings:
    return MonitorSettings(table_name="t", bus_name="b", idle_policy=load_policy(), **extra)


def test_late_traffic_inside_the_idle_window_ends_the_episode(aws: dict[str, Any]) -> None:
    """Traffic older than the advance's re-read span but within idle_hours (it reached CloudWatch after
    the run that reported the episode) is read by the idle evidence batch and ends the episode."""
    later = time.time() + 7 * 3600  # the endpoint is older than the 6 h window by then
    _endpoint("ep-a")
    _watch(aws, "ep-a", ["AllTraffic"])
    deps, settings = _deps(aws), _idle_settings()
    (first,) = run_scheduled(_run(later), settings, deps).endpoints
    assert first.idle is not None and first.idle.status == "idle-reported"
    _invocations(aws, "ep-a", later - 1800)
    (second,) = run_scheduled(_run(later + 300), settings, deps).endpoints
    assert second.idle is not None and second.idle.status == "active", second.idle
    assert "12 invocations" in second.idle.reason
    # Its state now remembers the traffic: the next run decides without the idle read.
    aws["calls"].clear()
    (third,) = run_scheduled(_run(later + 600), settings, deps).endpoints
    assert third.idle is not None and third.idle.status == "active"
    assert len(aws["calls"]) == 1  # the advance's batch only
    # A new episode is reported once traffic is older than the window again.
    (fourth,) = run_scheduled(_run(later + 7 * 3600), settings, deps).endpoints
    assert fourth.idle is not None and fourth.idle.status == "idle-reported"


def test_idle_evidence_is_read_only_for_suspects_in_one_batch(aws: dict[str, Any]) -> None:
    now = time.time() + 7 * 3600
    for i in range(4):
        _endpoint(f"ep-{i}")
        _watch(aws, f"ep-{i}", ["AllTraffic"])
    settings = _idle_settings(backfills_per_run=4)
    run_scheduled(_run(now), settings, _deps(aws))  # backfills; all four idle
    for i in (0, 1):  # two serve within the advance's next span
        _invocations(aws, f"ep-{i}", now + 120)
    aws["calls"].clear()
    result = run_scheduled(_run(now + 300), settings, _deps(aws))
    per_target = len(advance_queries(MonitoredEndpoint(endpoint_name="x"), settings))
    assert aws["calls"] == [4 * per_target, 2]  # the advance's batch, then one call for both suspects
    assert [r.idle.status for r in result.endpoints if r.idle] == ["active", "active", "idle", "idle"]


def test_a_failing_idle_read_fails_only_its_endpoint(aws: dict[str, Any]) -> None:
    now = time.time() + 7 * 3600
    for i in range(2):
        _endpoint(f"ep-{i}")
        _watch(aws, f"ep-{i}", ["AllTraffic"])
    settings = _idle_settings()
    deps = _deps(aws)
    run_scheduled(_run(now), settings, deps)
    real = deps.metrics.series

    def flaky(queries: list[Any], start: datetime, end: datetime) -> dict[str, Any]:
        if len(queries) <= 2 and any(q.dimensions["EndpointName"] == "ep-1" for q in queries):
            raise RuntimeError("InternalServiceFault")
        return real(queries, start, end)

    deps.metrics.series = flaky  # type: ignore[method-assign]
    a, b = run_scheduled(_run(now + 300), settings, deps).endpoints
    assert a.status == "no-data" and a.idle is not None and a.idle.status == "idle"
    assert b.status == "error" and "InternalServiceFault" in (b.reason or "")

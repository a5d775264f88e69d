"""Fleet benchmark: one stack watching N endpoints in the local cloud; time, AWS calls and cost per endpoint.

Run on demand (not in CI)::

    nice -n 5 .venv/bin/python bench/fleet.py                       # N = 10, 100, 500; a table
    nice -n 5 .venv/bin/python bench/fleet.py --endpoints 10 --json  # one JSON object per N

For each N: a fresh local cloud (template.yaml on moto); N SageMaker endpoints tagged
``sentinel:monitor=true``; discovery into the fleet registry (the fleet tracker's scheduled full sync
when the template has it, else the bench's own list + tags -> membership -> registry, said in the
output's ``sources``); 1 h of 1-minute SageMaker metrics per
variant (ModelLatency samples, so the local cloud computes p99 and Average; Invocations; 4XX/5XX
errors); a baseline and one Firehose partial profile per endpoint for the drift window. Then, in
process, through the template's functions: one scheduled latency run (fresh detectors: the backfill
run), five more minutes of metrics and a second latency run (the steady state a month is made of),
and one scheduled drift run. Every AWS call the functions make is counted with a botocore hook
(``before-parameter-build`` and ``after-call`` on boto3's default session, which the Lambda code's
clients come from; only calls made while a local function runs are counted, not the bench's own).

The monthly cost is priced by ``sentinel_dev.fleet_cost`` from ``bench/_fleet_prices.yaml``
(us-east-1, list prices "as published, verify") at the template's schedules (latency 5 min, drift
15 min, fleet sync hourly). Durations are the local cloud's: in-process Lambda against moto over
HTTP on a shared machine, not AWS's; GB-s are priced from them at each function's template memory.

Two checks are printed (and fail the exit status): the cost per endpoint stays flat or falls as N
grows (within 5 %: durations are measured), and the latency run makes no more GetMetricData calls
than ceil(metrics requested / 500).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import yaml

from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.adapters.s3 import DriftStore
from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.monitors import DEFAULT_MONITORS_PATH
from llmops_sentinel.domain.drift.profiles import profile_to_json
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint, membership
from llmops_sentinel.domain.fleet.policy import load_fleet_policy
from llmops_sentinel.services.emf import FIREHOSE_UNITS
from sentinel_dev.fleet_cost import (
    FleetUsage,
    RunUsage,
    ServicePrices,
    Standing,
    Traffic,
    dynamodb_units,
    load_service_prices,
    monthly_cost,
)
from sentinel_dev.local import emf, traffic
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.lambdas import Invocation

PRICES = Path(__file__).resolve().with_name("_fleet_prices.yaml")
ROOT = Path(__file__).resolve().parents[1]
SCHEDULE_MINUTES = {"latency": 5.0, "drift": 15.0, "fleet_sync": 60.0}
GMD_MAX_QUERIES = 500
VARIANT = "AllTraffic"
SAMPLES_PER_MINUTE = 10
FLAT_TOLERANCE = 0.05
PROCESSOR_METRICS_PER_ENDPOINT = len(FIREHOSE_UNITS) + 2
"""The drift stream processor's EMF metrics per endpoint (latency/TTFT/token values, RecordsOk,
RecordsFailed): the bench writes window profiles without running it, so they are counted, not seen."""
SYNC_MEMORY_MB = 256  # what the bench prices its own sync at when the template has no fleet tracker


_STARTED = time.perf_counter()


def progress(text: str) -> None:
    print(f"[fleet {time.perf_counter() - _STARTED:7.1f} s] {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- counting AWS calls
@dataclasses.dataclass
class Calls:
    ops: Counter[tuple[str, str]] = dataclasses.field(default_factory=Counter)
    gmd_metrics: int = 0
    events: int = 0
    ddb_read: float = 0.0
    ddb_write: float = 0.0
    s3_bytes: int = 0

    def nested(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for (service, op), n in sorted(self.ops.items()):
            out[service][op] = n
        return dict(out)


class CallCounter:
    """Counts the AWS calls made on boto3's default session; with ``gate``, only those made while it
    returns True (a local function is running). Clients copy the session's hooks when they are made, so
    this is installed before the functions make theirs (the local cloud clears the client cache)."""

    def __init__(self, gate: Callable[[], bool] | None = None) -> None:
        self._gate = gate
        self._local = threading.local()
        self.current = Calls()
        self._id = f"bench-fleet-{id(self):x}"

    def install(self) -> None:
        events = boto3._get_default_session().events
        events.register("before-parameter-build", self._before, unique_id=f"{self._id}-before")
        events.register("after-call", self._after, unique_id=f"{self._id}-after")

    def uninstall(self) -> None:
        events = boto3._get_default_session().events
        events.unregister("before-parameter-build", unique_id=f"{self._id}-before")
        events.unregister("after-call", unique_id=f"{self._id}-after")

    def take(self) -> Calls:
        taken, self.current = self.current, Calls()
        return taken

    def _counted(self) -> bool:
        return self._gate is None or self._gate()

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not self._counted():
            return
        service, op = model.service_model.service_name, model.name
        calls = self.current
        calls.ops[(service, op)] += 1
        self._local.params = params
        if (service, op) == ("cloudwatch", "GetMetricData"):
            calls.gmd_metrics += sum(1 for q in params.get("MetricDataQueries", []) if "MetricStat" in q)
        elif (service, op) == ("events", "PutEvents"):
            calls.events += len(params.get("Entries", []))
        elif (service, op) == ("s3", "PutObject"):
            body = params.get("Body", b"")
            calls.s3_bytes += len(body) if isinstance(body, bytes | str) else 0
        elif service == "dynamodb" and op in {"PutItem", "UpdateItem", "DeleteItem"}:
            written = params.get("Item") or {**params.get("Key", {}), **params.get("ExpressionAttributeValues", {})}
            calls.ddb_write += dynamodb_units(op, len(json.dumps(written, default=str)))

    def _after(self, parsed: Any, model: Any, **_: Any) -> None:
        if not self._counted() or model.service_model.service_name != "dynamodb":
            return
        if model.name not in {"GetItem", "Query", "Scan", "BatchGetItem"}:
            return
        params = getattr(self._local, "params", {}) or {}
        items = [parsed["Item"]] if "Item" in parsed else list(parsed.get("Items", []))
        size = len(json.dumps(items, default=str)) if items else 0
        self.current.ddb_read += dynamodb_units(model.name, size, consistent=bool(params.get("ConsistentRead")))


# --------------------------------------------------------------------------- the fleet's data
def tagged_endpoints(cloud: LocalCloud, n: int, tag_key: str, tag_value: str) -> list[str]:
    sm = cloud.client("sagemaker")
    role = cloud.client("iam").create_role(
        RoleName="fleet-execution",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    )["Role"]["Arn"]
    sm.create_model(ModelName="fleet-model", ExecutionRoleArn=role, PrimaryContainer={"Image": "tgi:latest"})
    sm.create_endpoint_config(
        EndpointConfigName="fleet-config-v1",
        ProductionVariants=[
            {
                "VariantName": VARIANT,
                "ModelName": "fleet-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g4dn.2xlarge",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    names = [f"fleet-llm-{i:04d}" for i in range(n)]
    for name in names:
        sm.create_endpoint(
            EndpointName=name, EndpointConfigName="fleet-config-v1", Tags=[{"Key": tag_key, "Value": tag_value}]
        )
    return names


def discover(cloud: LocalCloud, table: str, now: datetime) -> tuple[list[WatchedEndpoint], float]:
    """What the fleet sync does: list the endpoints, read each one's tags, decide, write the registry.
    (Used when the template has no fleet tracker: the bench does it with the same domain functions.)"""
    policy = load_fleet_policy()
    sm, ddb = cloud.new_client("sagemaker"), cloud.new_client("dynamodb")  # made after the hook: counted
    registry = FleetRegistry(table, ddb=ddb)
    started = time.perf_counter()
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for page in sm.get_paginator("list_endpoints").paginate():
        for item in page["Endpoints"]:
            tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=item["EndpointArn"])["Tags"]}
            decided = membership(item["EndpointName"], tags, policy)
            if decided.watched and decided.source is not None:
                registry.put(
                    WatchedEndpoint(
                        endpoint_name=item["EndpointName"],
                        variants=[VARIANT],
                        source=decided.source,
                        since=stamp,
                        updated_at=stamp,
                    )
                )
    return registry.watched(), time.perf_counter() - started


def publish_metrics(
    cloud: LocalCloud, names: list[str], start: datetime, minutes: int, rng: np.random.Generator
) -> None:
    """``minutes`` of 1-minute SageMaker metrics per endpoint variant, as SageMaker would publish them.

    Put straight into moto's CloudWatch backend through its own ``put_metric_data`` (the same stored
    points a PutMetricData request makes): 500 endpoints x 1 h is 400,000 values, and sending them over
    HTTP took minutes of this shared machine for data that is the bench's input, not what it measures.
    """
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[cloud.account_id][cloud.region]
    for name in names:
        dims = [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": VARIANT}]
        level = rng.uniform(400_000, 1_200_000)
        data: list[dict[str, Any]] = []
        for minute in range(minutes):
            at = start + timedelta(minutes=minute, seconds=30)
            samples = rng.lognormal(np.log(level), 0.25, size=SAMPLES_PER_MINUTE)
            calls = float(rng.poisson(600))
            data += [
                {
                    "MetricName": "ModelLatency",
                    "Dimensions": dims,
                    "Timestamp": at,
                    "Unit": "Microseconds",
                    "Values": [round(float(v), 1) for v in samples],
                },
                {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": at, "Value": calls, "Unit": "None"},
                {
                    "MetricName": "Invocation5XXErrors",
                    "Dimensions": dims,
                    "Timestamp": at,
                    "Value": float(rng.binomial(int(calls), 0.001)),
                    "Unit": "None",
                },
                {
                    "MetricName": "Invocation4XXErrors",
                    "Dimensions": dims,
                    "Timestamp": at,
                    "Value": float(rng.binomial(int(calls), 0.002)),
                    "Unit": "None",
                },
            ]
        backend.put_metric_data("AWS/SageMaker", data)


def drift_data(cloud: LocalCloud, names: list[str], arrived: datetime, rng: np.random.Generator) -> None:
    """A baseline and one partial profile (a Firehose flush) per endpoint; the drift monitors list them."""
    env = cloud.runtime.spec("DriftDetectorFunction").environment
    store = DriftStore(env["SENTINEL_DATA_BUCKET"], env["SENTINEL_KMS_KEY_ID"], s3=cloud.client("s3"))
    baseline, _ = build_baseline(
        [b"\n".join(traffic.records(rng, 2000, arrived - timedelta(days=7)))], features=["llm", "columns"], rng=rng
    )
    window, _ = build_baseline([b"\n".join(traffic.records(rng, 400, arrived))], features=["llm", "columns"], rng=rng)
    for name in names:
        store.put_baseline(name, profile_to_json(dataclasses.replace(baseline, endpoint=name)))
        store.put_profile(name, arrived, "bench", profile_to_json(dataclasses.replace(window, endpoint=name)))
    monitors = yaml.safe_load(DEFAULT_MONITORS_PATH.read_text(encoding="utf-8"))
    monitors["monitors"] = [{"endpoint": name} for name in names]
    cloud.runtime.update_environment("DriftDetectorFunction", {"SENTINEL_DRIFT_MONITORS": yaml.safe_dump(monitors)})


def scheduled(at: datetime, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"bench-{at:%Y%m%d%H%M}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def monitor_reads_registry() -> bool:
    """Does the latency monitor list the fleet itself (the batched monitor)? Else the bench passes the
    registry's endpoints in the scheduled event's detail, which the monitor accepts today."""
    source = (ROOT / "layers/core/llmops_sentinel/services/latency_monitor.py").read_text(encoding="utf-8")
    return "FleetRegistry" in source or "fleet_registry" in source


# --------------------------------------------------------------------------- measuring
@dataclasses.dataclass
class Measured:
    invocations: list[Invocation]
    calls: Calls
    seconds: float


def measure(cloud: LocalCloud, counter: CallCounter, function: str, event: dict[str, Any]) -> Measured:
    before = len(cloud.runtime.invocations)
    counter.take()
    started = time.perf_counter()
    record = cloud.invoke(function, event)
    seconds = time.perf_counter() - started
    if not record.ok:
        raise RuntimeError(f"{function}: {record.error_type}: {record.error_message}")
    return Measured(cloud.runtime.invocations[before:], counter.take(), seconds)


def drift_execution(
    cloud: LocalCloud, counter: CallCounter, event: dict[str, Any]
) -> tuple[Measured, int, list[dict[str, Any]]]:
    """The scheduled drift run as the template runs it: one DriftChecks execution (list, then a Map of
    one check per endpoint); its Lambda tasks are counted like any invocation, its states entered from
    the execution history are the billed transitions."""
    sfn = cloud.new_client("stepfunctions")
    before = len(cloud.runtime.invocations)
    counter.take()
    started = time.perf_counter()
    arn = sfn.start_execution(
        stateMachineArn=cloud.stack.ref("DriftChecksStateMachine"), name=f"bench-{event['id']}", input=json.dumps(event)
    )["executionArn"]
    execution = cloud.wait_for_execution(arn, timeout_s=1800)
    seconds = time.perf_counter() - started
    if execution["status"] != "SUCCEEDED":
        raise RuntimeError(f"DriftChecks: {execution['status']}: {execution.get('cause')}")
    entered = 0
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        entered += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
    checks = json.loads(execution["output"]).get("checks", [])
    return Measured(cloud.runtime.invocations[before:], counter.take(), seconds), entered, checks


def run_usage(cloud: LocalCloud, name: str, m: Measured, transitions: int = 0) -> RunUsage:
    gb_s = sum(
        cloud.runtime.spec(i.function).memory_mb / 1024.0 * math.ceil(i.duration_ms) / 1000.0 for i in m.invocations
    )
    return RunUsage(
        name=name,
        every_minutes=SCHEDULE_MINUTES[name],
        invocations=len(m.invocations),
        gb_s=gb_s,
        log_bytes=sum(len(i.logs.encode()) for i in m.invocations),
        api_calls=m.calls.nested(),
        get_metric_data_metrics=m.calls.gmd_metrics,
        events_published=m.calls.events,
        dynamodb_read_units=m.calls.ddb_read,
        dynamodb_write_units=m.calls.ddb_write,
        s3_bytes_written=m.calls.s3_bytes,
        state_transitions=transitions,
    )


def custom_metrics(invocations: list[Invocation]) -> set[tuple[str, str, str]]:
    """Distinct (namespace, metric, dimensions) the functions' EMF output declares: each is a custom metric."""
    found = set()
    for record in invocations:
        for doc in emf.documents(record.logs):
            for namespace, data in emf.metric_data(doc):
                for datum in data:
                    dims = json.dumps(sorted((d["Name"], d["Value"]) for d in datum.get("Dimensions", [])))
                    found.add((namespace, datum["MetricName"], dims))
    return found


def alarm_metrics(cloud: LocalCloud) -> int:
    """Billed alarm metrics of every alarm in the account: 1 per metric, 3 per anomaly detection band."""
    total = 0
    for page in cloud.client("cloudwatch").get_paginator("describe_alarms").paginate():
        for alarm in page["MetricAlarms"]:
            queries = alarm.get("Metrics") or []
            if not queries:
                total += 1
                continue
            stats = sum(1 for q in queries if "MetricStat" in q)
            band = any("ANOMALY_DETECTION_BAND" in (q.get("Expression") or "") for q in queries)
            total += 3 * stats if band else stats
    return total


def per_endpoint_alarm_metrics() -> int:
    """What the fleet tracker keeps per watched variant from config/fleet.yaml's defaults: the p99 alarm (1),
    the anomaly-band alarm (3) and the drift alarm (1)."""
    d = load_fleet_policy().defaults
    return 1 + (3 if d.latency.anomaly_alarm else 0) + (1 if d.drift.enabled else 0)


def bench_one(n: int, prices: ServicePrices, rng: np.random.Generator) -> dict[str, Any]:
    policy = load_fleet_policy()
    progress(f"N={n}: starting a local cloud (template.yaml on moto)")
    with LocalCloud(parameters={"VerifyWaitSeconds": "1"}) as cloud:
        runtime = cloud.runtime
        lock: Any = runtime._lock
        counter = CallCounter(gate=lock._is_owned)
        counter.install()
        sync_counter = CallCounter(gate=lambda: not lock._is_owned())
        from llmops_sentinel.adapters import clients as cached_clients

        cached_clients._client.cache_clear()  # the functions' clients are made after the hook
        try:
            table = runtime.spec("LatencyMonitorFunction").environment["SENTINEL_TABLE_NAME"]
            alarms_before = alarm_metrics(cloud)
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            progress(f"N={n}: creating {n} tagged endpoints")
            names = tagged_endpoints(cloud, n, policy.onboarding.tag_key, policy.onboarding.tag_value)
            tracker = runtime.has("FleetTrackerFunction")
            if tracker:  # the fleet tracker's scheduled full sync finds them (the endpoints made no events)
                progress(f"N={n}: discovery: the fleet tracker's scheduled full sync")
                synced = measure(cloud, counter, "FleetTrackerFunction", scheduled(now, {}))
                watched = FleetRegistry(table, ddb=cloud.new_client("dynamodb")).watched()
                sync_s, sync_calls = synced.seconds, synced.calls
                sync_run = run_usage(cloud, "fleet_sync", synced)
            else:
                progress(f"N={n}: discovery into the fleet registry (by the bench: no fleet tracker in the template)")
                sync_counter.install()
                watched, sync_s = discover(cloud, table, now)
                sync_counter.uninstall()
                sync_calls = sync_counter.take()
                sync_run = RunUsage(
                    name="fleet_sync",
                    every_minutes=SCHEDULE_MINUTES["fleet_sync"],
                    invocations=1,
                    gb_s=SYNC_MEMORY_MB / 1024.0 * sync_s,
                    api_calls=sync_calls.nested(),
                    dynamodb_read_units=sync_calls.ddb_read,
                    dynamodb_write_units=sync_calls.ddb_write,
                )
            progress(f"N={n}: {len(watched)} watched; publishing 1 h of metrics")
            start = now - timedelta(minutes=65)
            publish_metrics(cloud, names, start, 60, rng)
            progress(f"N={n}: a baseline and a window profile per endpoint in S3")
            drift_data(cloud, names, now - timedelta(minutes=9), rng)
            alarms_after = alarm_metrics(cloud)
            reads_registry = monitor_reads_registry()
            if reads_registry:  # a fleet stack: the template's one-endpoint parameter is not part of the fleet
                runtime.update_environment("LatencyMonitorFunction", {"SENTINEL_LATENCY_ENDPOINTS": ""})
            detail: dict[str, Any] = (
                {}
                if reads_registry
                else {
                    "endpoints": [
                        {"endpoint_name": w.endpoint_name, "variant_name": v} for w in watched for v in w.variants
                    ]
                }
            )
            first_at = start + timedelta(minutes=61)
            # A fleet onboarded at once is backfilled ``backfills_per_run`` endpoints per run (the rest are
            # deferred): the bench raises the budget for its first run so that the second is the steady state.
            runtime.update_environment("LatencyMonitorFunction", {"SENTINEL_LATENCY_BACKFILLS_PER_RUN": str(n)})
            progress(f"N={n}: latency run 1 (fresh detectors: backfill, budget {n} backfills)")
            first = measure(cloud, counter, "LatencyMonitorFunction", scheduled(first_at, detail))
            runtime.spec("LatencyMonitorFunction").environment.pop("SENTINEL_LATENCY_BACKFILLS_PER_RUN", None)
            publish_metrics(cloud, names, start + timedelta(minutes=60), 5, rng)
            progress(f"N={n}: latency run 2 (steady state, 5 min later)")
            latency = measure(
                cloud, counter, "LatencyMonitorFunction", scheduled(first_at + timedelta(minutes=5), detail)
            )
            fanned = "DriftChecksStateMachine" in cloud.stack.resource_types
            progress(f"N={n}: drift run" + (" (the DriftChecks state machine)" if fanned else ""))
            if fanned:
                drift, transitions, drift_checks = drift_execution(cloud, counter, scheduled(now, {}))
            else:
                drift = measure(cloud, counter, "DriftDetectorFunction", scheduled(now, {}))
                transitions, drift_checks = 0, (drift.invocations[0].result or {}).get("checks", [])
        finally:
            counter.uninstall()
        result = latency.invocations[0].result or {}
        fleet = set(names)
        checked = [
            e
            for e in result.get("endpoints", [])
            if e.get("endpoint_name") in fleet and e.get("status") in {"ok", "no-data"}
        ]
        statuses = {
            "latency_first_run": dict(
                Counter(e.get("status") for e in (first.invocations[0].result or {}).get("endpoints", []))
            ),
            "latency": dict(Counter(e.get("status") for e in result.get("endpoints", []))),
            "drift": dict(Counter(c.get("status") for c in drift_checks)),
        }
        runs = [
            run_usage(cloud, "latency", latency),
            run_usage(cloud, "drift", drift, transitions),
            sync_run,
        ]
        tracker_alarms = alarms_after > alarms_before
        declared = custom_metrics(latency.invocations + drift.invocations)
        standing = Standing(
            alarm_metrics=alarms_after + (0 if tracker_alarms else n * per_endpoint_alarm_metrics()),
            custom_metrics=len(declared) + n * PROCESSOR_METRICS_PER_ENDPOINT,
            kms_keys=sum(1 for kind in cloud.stack.resource_types.values() if kind == "AWS::KMS::Key"),
        )
    usage = FleetUsage(endpoints=n, runs=runs, standing=standing, traffic=Traffic())
    cost = monthly_cost(usage, prices)
    queries = latency.calls.gmd_metrics
    gmd_calls = latency.calls.ops[("cloudwatch", "GetMetricData")]
    bound = math.ceil(queries / GMD_MAX_QUERIES)
    return {
        "endpoints": n,
        "endpoints_watched": len(watched),
        "endpoints_checked": len(checked),
        "drift_endpoints_checked": sum(1 for c in drift_checks if c.get("status") not in {"error", "bad-input"}),
        "statuses": statuses,
        "latency_run_s": round(latency.seconds, 3),
        "latency_first_run_s": round(first.seconds, 3),
        "drift_run_s": round(drift.seconds, 3),
        "drift_state_transitions": transitions,
        "drift_invocations": len(drift.invocations),
        "fleet_sync_s": round(sync_s, 3),
        "api_calls": {
            "latency": latency.calls.nested(),
            "drift": drift.calls.nested(),
            "fleet_sync": sync_calls.nested(),
            "latency_first_run": first.calls.nested(),
        },
        "get_metric_data": {"calls": gmd_calls, "metrics_requested": queries, "bound": bound, "ok": gmd_calls <= bound},
        "monthly_cost_usd_per_endpoint": {
            "total": round(cost.per_endpoint_usd, 4),
            "breakdown": {k: round(v, 4) for k, v in cost.per_endpoint.items()},
        },
        "monthly_cost_usd_stack": round(cost.total_usd, 2),
        "standing": standing.model_dump(),
        "custom_metrics_by_name": dict(sorted(Counter(f"{ns}/{name}" for ns, name, _ in declared).items()))
        | {"processor (not run here: publish_firehose_batch per endpoint)": n * PROCESSOR_METRICS_PER_ENDPOINT},
        "sources": {
            "discovery": "the fleet tracker's scheduled full sync (FleetTrackerFunction)"
            if tracker
            else "bench wrote the registry (list endpoints + tags -> membership -> FleetRegistry.put); "
            "no fleet tracker in the template",
            "latency_endpoints": "monitor reads the registry"
            if reads_registry
            else "registry's endpoints in the scheduled event's detail (the monitor does not list the registry)",
            "drift_monitors": "SENTINEL_DRIFT_MONITORS listing every endpoint",
            "drift_run": "the DriftChecks state machine (list phase + Map of one check per endpoint)"
            if fanned
            else "one DriftDetectorFunction run over every monitor",
            "per_endpoint_alarms": "alarms in the account"
            if tracker_alarms
            else "from fleet.yaml defaults (p99 + anomaly band + drift); no fleet tracker in the template",
        },
        "prices": {
            "file": str(PRICES.relative_to(ROOT)),
            "region": prices.region,
            "read": str(prices.read),
            "status": prices.status,
        },
        "assumptions": Traffic().model_dump()
        | {"hours_per_month": prices.hours_per_month, "fleet_sync_memory_mb": SYNC_MEMORY_MB},
    }


def checks(rows: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    out = []
    costs = [r["monthly_cost_usd_per_endpoint"]["total"] for r in sorted(rows, key=lambda r: r["endpoints"])]
    flat = all(b <= a * (1 + FLAT_TOLERANCE) for a, b in itertools.pairwise(costs))
    out.append(
        (
            f"cost per endpoint flat or falling with N (within {FLAT_TOLERANCE:.0%}): "
            + " -> ".join(f"{c:.4f}" for c in costs),
            flat,
        )
    )
    for r in rows:
        g = r["get_metric_data"]
        out.append(
            (
                f"N={r['endpoints']}: GetMetricData calls per latency run {g['calls']} <= "
                f"ceil({g['metrics_requested']}/500) = {g['bound']}",
                g["ok"],
            )
        )
    return out


def table(rows: list[dict[str, Any]]) -> str:
    items = list(rows[0]["monthly_cost_usd_per_endpoint"]["breakdown"])
    head = ["", *[f"N={r['endpoints']}" for r in rows]]
    lines = [head]
    for label, get in (
        ("endpoints checked (latency)", lambda r: r["endpoints_checked"]),
        ("endpoints checked (drift)", lambda r: r["drift_endpoints_checked"]),
        ("latency run s (steady)", lambda r: r["latency_run_s"]),
        ("latency run s (backfill)", lambda r: r["latency_first_run_s"]),
        ("drift run s", lambda r: r["drift_run_s"]),
        (
            "GetMetricData calls / metrics",
            lambda r: f"{r['get_metric_data']['calls']} / {r['get_metric_data']['metrics_requested']}",
        ),
        ("AWS calls per latency run", lambda r: sum(sum(o.values()) for o in r["api_calls"]["latency"].values())),
        ("AWS calls per drift run", lambda r: sum(sum(o.values()) for o in r["api_calls"]["drift"].values())),
    ):
        lines.append([label, *[str(get(r)) for r in rows]])
    lines.append(["USD / endpoint / month", *[f"{r['monthly_cost_usd_per_endpoint']['total']:.4f}" for r in rows]])
    for item in items:
        lines.append([f"  {item}", *[f"{r['monthly_cost_usd_per_endpoint']['breakdown'][item]:.4f}" for r in rows]])
    lines.append(["USD / stack / month", *[f"{r['monthly_cost_usd_stack']:.2f}" for r in rows]])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in lines
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, action="append", help="fleet size (repeatable; default 10 100 500)")
    parser.add_argument("--json", action="store_true", help="one JSON object per N on stdout")
    parser.add_argument("--prices", type=Path, default=PRICES, help="price file (default bench/_fleet_prices.yaml)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    prices = load_service_prices(args.prices)
    rng = np.random.default_rng(args.seed)
    rows = []
    out = sys.stdout
    sys.stdout = sys.stderr  # stdout carries only the results: anything else printed goes to stderr
    try:
        for n in args.endpoints or [10, 100, 500]:
            row = bench_one(n, prices, rng)
            rows.append(row)
            if args.json:
                print(json.dumps(row, sort_keys=True), file=out, flush=True)
            progress(
                f"N={n}: latency {row['latency_run_s']} s, drift {row['drift_run_s']} s, "
                f"${row['monthly_cost_usd_per_endpoint']['total']:.4f}/endpoint/month"
            )
    finally:
        sys.stdout = out
    results = checks(rows)
    if not args.json:
        print(table(rows))
        print(
            f"\nprices: {PRICES.relative_to(ROOT)} ({prices.region}, read {prices.read}, {prices.status}); "
            f"schedules: latency 5 min, drift 15 min, fleet sync 60 min; {prices.hours_per_month:.0f} h/month"
        )
        for key, value in rows[0]["sources"].items():
            print(f"{key}: {value}")
    for text, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {text}", file=sys.stderr if args.json else sys.stdout)
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())

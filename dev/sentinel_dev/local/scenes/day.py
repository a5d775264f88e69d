"""A simulated day of real LLM traffic on two endpoints, with scripted incidents, on the local cloud.

``chat-llm`` is fed by the conversation trace, ``code-llm`` by the code-completion trace (the Azure LLM
inference trace 2023, real arrivals and token counts: ``scenes/trace.py``). The trace's hour is replayed
at its real rate, once per simulated hour, thinned by a daily load profile (a seeded subset of the real
requests). Per request the endpoint's latency is **modelled** from its token counts and the endpoint's
state in moto (its config and instance count, read back every step, so a remediation changes what
follows)::

    service_ms = base + prefill * ContextTokens + tpot * GeneratedTokens      (per endpoint config)
    latency_ms = service_ms / (1 - rho) * lognormal(0, 0.08)                  (seeded noise)
    rho        = sum(service_s in the minute) / (60 * instances * slots)      (queueing, capped 0.9)

Each simulated minute becomes what SageMaker publishes (``Invocations``; ``ModelLatency`` as 150
quantiles of the minute's latencies, CloudWatch's values-per-datum limit) and a 5 % data-capture sample
goes, once an hour, through the ``InferenceDeliveryStream`` -> FirehoseProcessorFunction path (flat
inference-log records with ``endpoint_name``, token counts and latency). The incidents, each closed by
the stack's real handlers and state machines:

- ``scale-down``: a quiet night on chat-llm (no traffic until 07:00) -> the scheduled latency monitor's
  idle check at 06:30 -> ``Endpoint Idle`` -> scale-down 3 -> 1 (the floor);
- ``rollback``: 11:00 a new chat-llm config whose decode is 2x slower -> p99 alarm -> the detector
  confirms (cause deployment) -> rollback to the previous config;
- ``duplicate``: the same alarm transition delivered again -> the router answers duplicate, nothing starts;
- ``scale-out``: 14:00-15:00 code-llm arrivals x3 (three minutes of the trace superposed per minute) ->
  queueing -> p99 alarm -> confirmed (cause load) -> scale-out 1 -> 2, latency recovers;
- ``drift``: 17:00-18:00 code-completion requests turn up on chat-llm (about half its traffic) -> the
  18:01 scheduled drift check (the DriftChecks state machine; prompt and output tokens against the
  chat-llm baseline of 07:00-09:00) -> ``Model Drift Detected`` -> retrain; its ``DriftDetected`` metric
  (stamped with the check's simulated time) puts the fleet drift alarm in ALARM at 18:05 (the local alarm
  evaluator, in simulated time) -> EventBridge -> router: the retrain's cooldown holds it (one retrain);
  OK again at 18:20;
- ``governance``: when the traffic ends (18:25 in ``full``) a non-compliant endpoint config and a
  ``sagemaker:*`` role (scenes/governance.py) -> findings -> remediation.

The simulated day ends there (``Day.end_at``: the last incident's end, or 5 minutes after the governance
scene): the report covers 00:00 to ``end_at``, so hours that were never simulated are not billed as idle.

The code mix goes onto chat-llm (not conversation traffic onto code-llm): code requests generate few
tokens, so the mix changes what is asked without a latency alarm, and the drift loop is the only one
that fires.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
import yaml

from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.profiles import profile_to_json
from llmops_sentinel.domain.fleet.alarms import alarm_name
from sentinel_dev.local.alarms import AlarmEvaluator
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import (
    INSTANCE_TYPE,
    VARIANT,
    Echo,
    SceneReport,
    Timeline,
    create_endpoint,
    instance_count,
)
from sentinel_dev.local.scenes import trace as azure
from sentinel_dev.local.scenes.latency import current_config, endpoint_in_service, scheduled_event

CHAT, CODE = "chat-llm", "code-llm"
INCIDENTS: tuple[str, ...] = ("scale-down", "rollback", "duplicate", "scale-out", "drift", "governance")
SCENARIOS: tuple[str, ...] = ("full", *INCIDENTS)
NEEDS: dict[str, tuple[str, ...]] = {"duplicate": ("rollback", "duplicate")}
STEP_MIN = 5
CAPTURE_SHARE = 0.05
QUANTILES = 150
DAY_MIN = 24 * 60
DRIFT_FEATURES = ["input_tokens", "output_tokens"]
EWMA = 0.3  # weight of the current minute in the smoothed busy time


@dataclass(frozen=True)
class Serving:
    """Latency model of one endpoint config (milliseconds)."""

    base_ms: float
    prefill_ms: float  # per context token
    tpot_ms: float  # per generated token
    slots: float  # concurrent requests an instance serves


@dataclass
class Endpoint:
    name: str
    kind: str
    instances: int
    configs: dict[str, Serving]
    threshold_ms: float = 0.0
    captured: list[bytes] = field(default_factory=list)
    baseline: list[bytes] = field(default_factory=list)
    requests: int = 0
    busy_s: float = 0.0


def _endpoints() -> dict[str, Endpoint]:
    chat_v1 = Serving(base_ms=120.0, prefill_ms=0.05, tpot_ms=18.0, slots=75.0)
    code_v1 = Serving(base_ms=80.0, prefill_ms=0.04, tpot_ms=12.0, slots=5.0)
    return {
        CHAT: Endpoint(
            CHAT, "conv", 3, {f"{CHAT}-config-v1": chat_v1, f"{CHAT}-config-v2": Serving(120.0, 0.05, 18.0 * 2.0, 75.0)}
        ),
        CODE: Endpoint(CODE, "code", 1, {f"{CODE}-config-v1": code_v1}),
    }


def selected(scenario: str) -> set[str]:
    if scenario == "full":
        return set(INCIDENTS)
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}")
    return set(NEEDS.get(scenario, (scenario,)))


def _load(endpoint: str, minute: int, incidents: set[str]) -> float:
    """Share of the trace's real requests kept in this minute of the day (a daily profile)."""
    hour = minute / 60
    if endpoint == CHAT and hour < 7:
        return 0.0 if "scale-down" in incidents else 0.3
    if hour < 7:
        return 0.3
    if hour < 9:
        return 0.6
    return 1.0 if hour < 21 else 0.5


def _requests(ep: Endpoint, minute: int, incidents: set[str], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(context, generated) token counts of the requests arriving in ``minute``, and their trace kind."""
    parts: list[tuple[azure.Trace, np.ndarray]] = []
    own = azure.load(ep.kind)
    keep = _load(ep.name, minute, incidents)
    rows = own.minute(minute)
    parts.append((own, rows[rng.random(rows.size) < keep]))
    hour = minute / 60
    if ep.name == CODE and "scale-out" in incidents and 14 <= hour < 15:
        parts.extend((own, own.minute(minute + shift)) for shift in (20, 40))  # arrivals x3
    if ep.name == CHAT and "drift" in incidents and 17 <= hour < 18:
        code = azure.load("code")
        parts.append((code, code.minute(minute)))
    ctx = np.concatenate([t.context_tokens[r] for t, r in parts]) if parts else np.zeros(0)
    gen = np.concatenate([t.generated_tokens[r] for t, r in parts]) if parts else np.zeros(0)
    return ctx.astype(np.float64), gen.astype(np.float64)


def _service_ms(serving: Serving, ctx: np.ndarray, gen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(service, prefill) milliseconds per request on an idle instance."""
    prefill = serving.base_ms + serving.prefill_ms * ctx
    return prefill + serving.tpot_ms * gen, prefill


def _rho(serving: Serving, instances: int, busy_s: float) -> float:
    """Utilisation from the smoothed busy seconds per minute (a backlog outlives a minute), capped."""
    return min(0.9, busy_s / (60.0 * max(instances, 1) * serving.slots))


def _latencies(
    serving: Serving, rho: float, ctx: np.ndarray, gen: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Modelled (latency_ms, ttft_ms) per request (see the module docstring)."""
    service, prefill = _service_ms(serving, ctx, gen)
    factor = 1.0 / (1.0 - rho)
    noise = rng.lognormal(0.0, 0.08, size=ctx.size)
    return service * factor * noise, prefill * factor * noise


def _threshold_ms(ep: Endpoint) -> float:
    """The p99 guard for the endpoint: 1.3x the highest per-minute p99 of its normal daytime traffic
    (one pass over the trace on config v1, one instance), rounded up to 500 ms; computed from the trace
    before the day runs."""
    trace = azure.load(ep.kind)
    serving = next(iter(ep.configs.values()))
    rng = np.random.default_rng(0)
    busy = _mean_busy_s(ep)
    p99s = []
    for minute in range(trace.minutes):
        rows = trace.minute(minute)
        ctx, gen = trace.context_tokens[rows].astype(float), trace.generated_tokens[rows].astype(float)
        busy = EWMA * float(_service_ms(serving, ctx, gen)[0].sum()) / 1000.0 + (1 - EWMA) * busy
        if rows.size:
            lat, _ = _latencies(serving, _rho(serving, 1, busy), ctx, gen, rng)
            p99s.append(float(np.percentile(lat, 99)))
    return float(np.ceil(1.3 * max(p99s) / 500.0) * 500.0)


def _mean_busy_s(ep: Endpoint) -> float:
    trace = azure.load(ep.kind)
    serving = next(iter(ep.configs.values()))
    service, _ = _service_ms(serving, trace.context_tokens.astype(float), trace.generated_tokens.astype(float))
    return float(service.sum()) / 1000.0 / trace.minutes


def parameters() -> dict[str, str]:
    """The stack parameters of the day: fleet policy (the two endpoints, their p99 guards), remediation
    policy (retrain settings, no approval), drift monitors (hourly window, token features)."""
    from llmops_sentinel.domain.drift.monitors import DEFAULT_MONITORS_PATH
    from llmops_sentinel.domain.fleet.policy import DEFAULT_FLEET_PATH
    from llmops_sentinel.domain.remediation.policy import DEFAULT_POLICY_PATH

    eps = _endpoints()
    fleet = yaml.safe_load(DEFAULT_FLEET_PATH.read_text())
    fleet["onboarding"]["endpoints"] = [CHAT, CODE]
    fleet["endpoints"] = {n: {"latency": {"p99_threshold_ms": _threshold_ms(e)}} for n, e in eps.items()}
    remediation = yaml.safe_load(DEFAULT_POLICY_PATH.read_text())
    retrain = dict(remediation["endpoints"]["demo-llm-endpoint"]["retrain"])
    remediation["endpoints"] = {
        CHAT: {
            "actions": {"retrain": {"cooldown_minutes": 1440, "lease_minutes": 2880, "require_approval": False}},
            "retrain": {**retrain, "model_package_group": "chat-llm"},
        },
    }
    monitors = yaml.safe_load(DEFAULT_MONITORS_PATH.read_text())
    monitors["defaults"]["window_minutes"] = 60
    monitors["defaults"]["monitor"]["features"] = DRIFT_FEATURES
    monitors["monitors"] = [{"endpoint": CHAT}]
    return {
        "VerifyWaitSeconds": "1",
        "EndpointName": CHAT,  # also the delivery stream's default endpoint (records name theirs)
        "FleetPolicy": yaml.safe_dump(fleet, sort_keys=False),
        "RemediationPolicy": yaml.safe_dump(remediation, sort_keys=False),
        "DriftMonitors": yaml.safe_dump(monitors, sort_keys=False),
    }


def day_start(now: datetime | None = None) -> datetime:
    """The simulated day: the next UTC midnight (endpoints created now are older than the idle window
    by the time the night ends; SageMaker-style metrics may carry any timestamp in moto)."""
    now = now or datetime.now(UTC)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class Day:
    def __init__(
        self,
        cloud: LocalCloud,
        echo: Echo,
        rng: np.random.Generator,
        scenario: str,
        speed: float = 0.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.cloud, self.rng, self.speed, self.progress = cloud, rng, speed, progress
        self.incidents = selected(scenario)
        self.log = Timeline(echo)
        self.start = day_start()
        self.end_at = self.start  # where the simulated day ends (set by run)
        self.eps = _endpoints()
        self.facts: dict[str, Any] = {}
        self.checks: dict[str, bool] = {}
        self._wall0 = time.perf_counter()
        self._state: dict[str, tuple[str, int]] = {}
        self._marks: deque[int] = deque(maxlen=4)
        from moto.cloudwatch.models import cloudwatch_backends

        self._cw = cloudwatch_backends[cloud.account_id][cloud.region]
        self.alarms = AlarmEvaluator(
            cloudwatch=cloud.client("cloudwatch"),
            events=cloud.client("events"),
            datapoints=self._recent_points,
            alarm_names=[
                *(alarm_name(cloud.stack_name, name, "p99-latency") for name in (CHAT, CODE)),
                *([alarm_name(cloud.stack_name, CHAT, "drift")] if "drift" in self.incidents else []),
            ],
            region=cloud.region,
            account_id=cloud.account_id,
        )

    # --------------------------------------------------------------------------------------- clock
    def at(self, minute: float) -> datetime:
        return self.start + timedelta(minutes=minute)

    def end_minute(self) -> int:
        last = {
            "scale-down": 7 * 60,
            "rollback": 12 * 60,
            "duplicate": 12 * 60,
            "scale-out": 15 * 60 + 30,
            "drift": 18 * 60 + 25,  # the drift alarm: ALARM at 18:05, OK again at 18:20
            "governance": 0,
        }
        return max(last[i] for i in self.incidents)

    # --------------------------------------------------------------------------------------- setup
    def setup(self) -> None:
        sm = self.cloud.client("sagemaker")
        for ep in self.eps.values():
            create_endpoint(self.cloud, ep.name, instances=ep.instances)
            v1 = f"{ep.name}-config-v1"
            endpoint_in_service(self.cloud, v1, self.start - timedelta(days=1), endpoint=ep.name)
            ep.threshold_ms = _threshold_ms(ep)
        if "rollback" in self.incidents:
            base = sm.describe_endpoint_config(EndpointConfigName=f"{CHAT}-config-v1")["ProductionVariants"][0]
            sm.create_endpoint_config(
                EndpointConfigName=f"{CHAT}-config-v2",
                ProductionVariants=[
                    {k: base[k] for k in ("VariantName", "ModelName", "InitialInstanceCount", "InstanceType")}
                ],
            )
        self.log(
            f"{CHAT} (conversation trace, 3 x {INSTANCE_TYPE}) and {CODE} (code trace, 1 instance), "
            f"onboarded by the fleet tracker (p99 guards {self.eps[CHAT].threshold_ms:.0f} ms / "
            f"{self.eps[CODE].threshold_ms:.0f} ms)",
            at=self.start,
        )
        self.log(azure.ATTRIBUTION)

    # --------------------------------------------------------------------------------------- traffic
    def _publish(self, minute0: int, minutes: int) -> None:
        metric_data: list[dict[str, Any]] = []
        for ep in self.eps.values():
            config, instances = self.state(ep.name)
            serving = ep.configs.get(config) or next(iter(ep.configs.values()))
            dims = [{"Name": "EndpointName", "Value": ep.name}, {"Name": "VariantName", "Value": VARIANT}]
            for minute in range(minute0, minute0 + minutes):
                ctx, gen = _requests(ep, minute, self.incidents, self.rng)
                busy = float(_service_ms(serving, ctx, gen)[0].sum()) / 1000.0
                ep.busy_s = EWMA * busy + (1 - EWMA) * ep.busy_s
                if ctx.size == 0:
                    continue
                ep.requests += int(ctx.size)
                latency, ttft = _latencies(serving, _rho(serving, instances, ep.busy_s), ctx, gen, self.rng)
                stamp = self.at(minute + 0.5)
                points = (
                    latency
                    if latency.size <= QUANTILES
                    else np.quantile(latency, (np.arange(QUANTILES) + 0.5) / QUANTILES)
                )
                metric_data.append(
                    {
                        "MetricName": "ModelLatency",
                        "Dimensions": dims,
                        "Timestamp": stamp,
                        "Values": [round(float(v) * 1000.0, 1) for v in points],
                        "Unit": "Microseconds",
                    }
                )
                metric_data.append(
                    {
                        "MetricName": "Invocations",
                        "Dimensions": dims,
                        "Timestamp": stamp,
                        "Value": float(ctx.size),
                        "Unit": "None",
                    }
                )
                captured = np.flatnonzero(self.rng.random(ctx.size) < CAPTURE_SHARE)
                for i in captured:
                    ep.captured.append(
                        orjson.dumps(
                            {
                                "endpoint_name": ep.name,
                                "id": f"{ep.name}-{minute}-{i}",
                                "timestamp": (stamp + timedelta(seconds=float(i) % 30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "input_tokens": int(ctx[i]),
                                "output_tokens": int(gen[i]),
                                "latency_ms": round(float(latency[i]), 1),
                                "ttft_ms": round(float(ttft[i]), 1),
                            }
                        )
                    )
        cw = self.cloud.client("cloudwatch")
        for start in range(0, len(metric_data), 100):
            cw.put_metric_data(Namespace="AWS/SageMaker", MetricData=metric_data[start : start + 100])

    def state(self, name: str) -> tuple[str, int]:
        """(endpoint config, instances) as moto has them, read again after anything that may change them."""
        if name not in self._state:
            described = self.cloud.client("sagemaker").describe_endpoint(EndpointName=name)
            variant = next(v for v in described["ProductionVariants"] if v["VariantName"] == VARIANT)
            count = int(variant.get("CurrentInstanceCount") or variant.get("DesiredInstanceCount") or 0)
            self._state[name] = (str(described["EndpointConfigName"]), count)
        return self._state[name]

    def _recent_points(self) -> list[Any]:
        """moto's stored data points of the last few steps (appended in time order: the demo publishes
        minute by minute), what the day's alarms need; the whole store would cost O(day) per evaluation."""
        return list(self._cw.metric_data[self._marks[0] :]) if self._marks else []

    def _flush(self, minute: int) -> None:
        """An hour's data capture through Firehose (one buffer flush per endpoint, 90 s before the hour)."""
        arrived = self.at(minute - 1.5)
        for ep in self.eps.values():
            if not ep.captured:
                continue
            records: list[bytes | str] = list(ep.captured)
            delivered = self.cloud.firehose_put("InferenceDeliveryStream", records, at=arrived)
            if delivered.failed or delivered.batch_error:
                raise RuntimeError(
                    f"Firehose flush of {ep.name} failed: {delivered.batch_error} "
                    f"{delivered.invocation.error_message} {delivered.response[:1]}"
                )
            if ep.name == CHAT and 7 * 60 < minute <= 9 * 60:
                ep.baseline.extend(ep.captured)
            ep.captured.clear()

    # --------------------------------------------------------------------------------------- scheduled
    def latency_monitor(self, minute: int) -> dict[str, Any]:
        run = self.cloud.invoke("LatencyMonitorFunction", scheduled_event(self.at(minute)))
        if not run.ok:
            raise RuntimeError(f"LatencyMonitorFunction failed: {run.error_type}: {run.error_message}")
        by_name = {str(e.get("endpoint_name")): e for e in (run.result or {}).get("endpoints", [])}
        return by_name

    def drift_check(self, minute: int) -> dict[str, Any]:
        """The scheduled drift check as the template runs it: the schedule's event starts the DriftChecks
        state machine (list the watched endpoints with a baseline, then one check per endpoint); the check's
        DriftDetected metric (stamped with the event's time) and its bus event follow from there."""
        import json

        at = self.at(minute)
        event = {
            "version": "0",
            "id": f"demo-drift-{at:%H%M}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.cloud.account_id,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.cloud.region,
            "resources": [],
            "detail": {},
        }
        started = self.cloud.client("stepfunctions").start_execution(
            stateMachineArn=self.cloud.stack.ref("DriftChecksStateMachine"),
            name=f"demo-drift-{at:%Y%m%d%H%M}",
            input=json.dumps(event),
        )
        execution = self.cloud.wait_for_execution(started["executionArn"], timeout_s=300)
        if execution["status"] != "SUCCEEDED":
            raise RuntimeError(f"DriftChecks {execution['status']}: {execution.get('cause') or execution.get('error')}")
        checks = {str(c.get("endpoint")): c for c in json.loads(execution["output"]).get("checks", [])}
        check: dict[str, Any] = checks.get(CHAT, {})
        if check.get("report_key"):  # the fan-out's item result leaves the scores out: they are in the report
            bucket = self.cloud.stack.ref("DataBucket")
            body = self.cloud.client("s3").get_object(Bucket=bucket, Key=check["report_key"])["Body"].read()
            features = json.loads(body)["report"]["features"]
            check["feature_scores"] = {f["feature"]: round(float(f["effect_size"]), 6) for f in features}
        return check

    def _router_results(self, before: int) -> list[dict[str, Any]]:
        return [i.result or {} for i in self.cloud.runtime.invocations[before:] if i.function == "AlarmRouterFunction"]

    def _settle(self, results: list[dict[str, Any]], at: datetime) -> None:
        for result in results:
            what = f"router: {result.get('signal')} on {result.get('endpoint_name')} -> {result.get('status')}"
            if result.get("action") not in (None, "none"):
                what += f" {result.get('action')}"
            self.log(f"{what} ({result.get('reason', '')[:90]})", at=at)
            self._state.clear()
            if result.get("status") == "started" and result.get("action") != "retrain":
                execution = self.cloud.wait_for_execution(str(result["execution_arn"]))
                self.log(f"  {str(result['execution_arn']).split(':')[-2]} {execution['status']}", at=at)

    def evaluate_alarms(self, minute: int) -> None:
        at = self.at(minute) + timedelta(seconds=5)
        before = len(self.cloud.runtime.invocations)
        changes = self.alarms.evaluate(at)
        for change in changes:
            self.log(f"alarm {change.alarm_name}: {change.previous} -> {change.state}", at=at)
        if changes:
            results = self._router_results(before)
            self.facts.setdefault("drift_alarm", []).extend(
                {"at": at.isoformat(), "state": r.get("state"), "status": r.get("status"), "action": r.get("action")}
                for r in results
                if r.get("signal") == "drift-alarm"
            )
            self._settle(results, at)

    # --------------------------------------------------------------------------------------- incidents
    def at_minute(self, minute: int) -> None:
        """What the schedule and the script do at the start of ``minute``."""
        if minute in (6 * 60 + 30, 9 * 60, 10 * 60 + 30, 13 * 60 + 30):
            before = len(self.cloud.runtime.invocations)
            runs = self.latency_monitor(minute)
            parts = []
            for name, run in sorted(runs.items()):
                idle = (run.get("idle") or {}).get("status")
                parts.append(f"{name}: {run.get('status', run.get('accepted'))}, idle check {idle}")
                if idle == "idle-reported":
                    self.facts["idle"] = run.get("idle")
            self.log(f"LatencyMonitorFunction (schedule): {'; '.join(parts)}", at=self.at(minute))
            self._settle(self._router_results(before), self.at(minute))
            if minute == 6 * 60 + 30 and "scale-down" in self.incidents:
                self.checks["scale-down: chat-llm at the floor (1 instance)"] = instance_count(self.cloud, CHAT) == 1
        if minute % 60 == 0 and minute > 0:
            self._flush(minute)
        if minute == 9 * 60 and "drift" in self.incidents:
            self._baseline()
        if minute in (10 * 60 + 1, 18 * 60 + 1) and "drift" in self.incidents:
            before = len(self.cloud.runtime.invocations)
            check = self.drift_check(minute)
            drifted = check.get("drifted_features", [])
            scores = ", ".join(f"{k} {v:.3f}" for k, v in sorted((check.get("feature_scores") or {}).items()))
            self.log(
                f"DriftChecks (schedule) -> DriftDetectorFunction on {CHAT}: {check.get('status')}, "
                f"{check.get('records')} records"
                f"{' (drifted: ' + ', '.join(drifted) + ')' if drifted else ''}; effect sizes {scores}",
                at=self.at(minute),
            )
            self.facts.setdefault("drift_checks", []).append({"at": self.at(minute).isoformat(), **check})
            self._settle(self._router_results(before), self.at(minute))
            if minute == 18 * 60 + 1:
                self.checks["drift: the 18:01 check found drift"] = check.get("status") == "drift"
            else:
                self.checks[f"drift: the {minute // 60:02d}:01 check found none"] = check.get("status") == "no-drift"
        if minute == 11 * 60 and "rollback" in self.incidents:
            sm = self.cloud.client("sagemaker")
            sm.update_endpoint(EndpointName=CHAT, EndpointConfigName=f"{CHAT}-config-v2")
            endpoint_in_service(self.cloud, f"{CHAT}-config-v2", self.at(minute), endpoint=CHAT)
            self._state.clear()
            self.log(f"UpdateEndpoint {CHAT} -> {CHAT}-config-v2 (decode 2x slower); InService", at=self.at(minute))
        if minute == 11 * 60 + 50 and "rollback" in self.incidents:
            back = current_config(self.cloud, CHAT) == f"{CHAT}-config-v1"
            self.checks["rollback: chat-llm back on config-v1"] = back
            if "duplicate" in self.incidents:
                self._duplicate()
        if minute == 15 * 60 + 25 and "scale-out" in self.incidents:
            self.checks["scale-out: code-llm on 2 instances"] = instance_count(self.cloud, CODE) == 2
        if minute == 18 * 60 + 10 and "drift" in self.incidents:
            self.checks["drift: one retrain execution"] = len(self.cloud.executions("RetrainStateMachine")) == 1

    def _baseline(self) -> None:
        ep = self.eps[CHAT]
        baseline, _ = build_baseline([b"\n".join(ep.baseline)], endpoint=CHAT, features=DRIFT_FEATURES, rng=self.rng)
        bucket = self.cloud.stack.ref("DataBucket")
        self.cloud.client("s3").put_object(Bucket=bucket, Key=f"baselines/{CHAT}.json", Body=profile_to_json(baseline))
        self.log(
            f"baseline of {CHAT}: {baseline.records_ok} captured requests of 07:00-09:00 -> "
            f"s3://{bucket}/baselines/{CHAT}.json",
            at=self.at(9 * 60),
        )

    def _duplicate(self) -> None:
        name = alarm_name(self.cloud.stack_name, CHAT, "p99-latency")
        fired = [t for t in self.alarms.transitions if t.alarm_name == name and t.state == "ALARM"]
        if not fired:
            self.checks["duplicate: an alarm to deliver again"] = False
            return
        arn = self.cloud.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
        before = len(self.cloud.runtime.invocations)
        rollbacks = len(self.cloud.executions("RollbackStateMachine"))
        self.cloud.put_event("aws.cloudwatch", "CloudWatch Alarm State Change", fired[-1].event, resources=[arn])
        results = self._router_results(before)
        self.log(
            f"the same ALARM transition of {name} delivered again (EventBridge is at-least-once)",
            at=self.at(11 * 60 + 50),
        )
        self._settle(results, self.at(11 * 60 + 50))
        self.checks["duplicate: router answered duplicate, no new execution"] = [r.get("status") for r in results] == [
            "duplicate"
        ] and len(self.cloud.executions("RollbackStateMachine")) == rollbacks

    # --------------------------------------------------------------------------------------- run
    def run(self) -> SceneReport:
        self.setup()
        end = self.end_minute()
        for minute0 in range(0, end, STEP_MIN):
            self._marks.append(len(self._cw.metric_data))
            for minute in range(minute0, minute0 + STEP_MIN):
                with self.cloud.clock.at(self.at(minute)):  # bus events of this minute carry its time
                    self.at_minute(minute)
            self._publish(minute0, STEP_MIN)
            with self.cloud.clock.at(self.at(minute0 + STEP_MIN) + timedelta(seconds=5)):
                self.evaluate_alarms(minute0 + STEP_MIN)
            if self.progress:
                self.progress(minute0 + STEP_MIN, end)
            if self.speed > 0:
                ahead = (minute0 + STEP_MIN) * 60.0 / self.speed - (time.perf_counter() - self._wall0)
                if ahead > 0:
                    time.sleep(ahead)
        if "drift" in self.incidents:
            seen = [(a["status"], a["action"]) for a in self.facts.get("drift_alarm", [])]
            held = seen == [("cooldown", "retrain"), ("ignored", "none")]
            self.checks["drift: the drift alarm reached the router (held by the retrain's cooldown), then OK"] = held
        self.end_at = self.at(end)
        if "governance" in self.incidents:
            from sentinel_dev.local.scenes import governance

            self.log("a non-compliant endpoint config and a sagemaker:* role appear (governance scene)", at=self.end_at)
            with self.cloud.clock.at(self.end_at):
                report = governance.run(self.cloud, self.log._echo, self.rng)
            self.checks["governance: findings, compliant copy, policy detached"] = report.ok
            self.facts["governance"] = report.facts
            self.end_at += timedelta(minutes=5)
        self.facts["requests"] = {ep.name: ep.requests for ep in self.eps.values()}
        ok = all(self.checks.values())
        failed = [k for k, v in self.checks.items() if not v]
        return SceneReport(
            name="real-traffic day",
            ok=ok,
            summary="; ".join(self.checks) if ok else f"FAILED: {'; '.join(failed)}",
            timeline=self.log.entries,
            facts={**self.facts, "checks": self.checks, "day_start": self.start.isoformat()},
        )

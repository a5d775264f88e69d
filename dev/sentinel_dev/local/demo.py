"""The demo scenes, run on the local cloud. Each scene checks its own outcome (``ok``)."""

from __future__ import annotations

import importlib
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from llmops_sentinel.domain.cost import PriceBook, load_price_book
from sentinel_dev.local.cloud import LocalCloud

Echo = Callable[[str], None] | None

ENDPOINT = "demo-llm-endpoint"
TGI_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/"
    "huggingface-pytorch-tgi-inference:2.4-tgi2.4-gpu-py311-cu124-ubuntu22.04"
)
VARIANT = "AllTraffic"
INSTANCE_TYPE = "ml.g5.2xlarge"
"""The demo endpoints' type: one NVIDIA A10G (24 GB), a common type for serving an 8B model, with a sourced
price in config/prices.yaml (so the report shows cost per 1k tokens and idle cost, not "unpriced")."""


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
    scenario: str = "scenes"
    seed: int = 7
    scenes: list[SceneReport]
    endpoints: dict[str, Any] = Field(default_factory=dict)
    """Per endpoint, read back from the stack: the audit trail's decisions and the workflow executions."""
    attribution: str | None = None
    not_emulated: dict[str, str]
    report_path: str | None = None
    report_model: dict[str, Any] | None = None


class Timeline:
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


def create_endpoint(
    cloud: LocalCloud,
    name: str = ENDPOINT,
    instances: int = 1,
    tags: dict[str, str] | None = None,
    via_bus: bool = False,
    instance_type: str = INSTANCE_TYPE,
) -> None:
    """A SageMaker endpoint as a team would have it: model, endpoint config, endpoint. CreateEndpoint's
    CloudTrail event goes to the fleet tracker (``cloudtrail.sagemaker_call(tracker_only=True)``), which
    onboards the endpoint if it is config-listed (the demo's EndpointName) or ``tags`` onboard it.
    Governance's CloudTrail rule does not see it here (the scenes and tests that use this helper
    expect no governance findings from it); ``via_bus`` puts the event on the default bus, every rule sees it."""
    from sentinel_dev.local.cloudtrail import sagemaker_call

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
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    extra = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    config = f"{name}-config-v1"
    only = not via_bus
    sagemaker_call(cloud, "CreateEndpoint", tracker_only=only, EndpointName=name, EndpointConfigName=config, **extra)


def instance_count(cloud: LocalCloud, endpoint: str = ENDPOINT, variant: str = VARIANT) -> int:
    described = cloud.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    for item in described["ProductionVariants"]:
        if item["VariantName"] == variant:
            return int(item.get("CurrentInstanceCount") or item.get("DesiredInstanceCount") or 0)
    raise LookupError(variant)


SCENES: tuple[str, ...] = ("latency", "drift", "governance")
"""Scene modules in ``sentinel_dev.local.scenes``, run in this order; each has ``run(cloud, echo, rng)``."""


def scene(name: str) -> Callable[[LocalCloud, Echo, np.random.Generator], SceneReport]:
    module = importlib.import_module(f"sentinel_dev.local.scenes.{name}")
    runner: Callable[[LocalCloud, Echo, np.random.Generator], SceneReport] = module.run
    return runner


def print_audit_trail(cloud: LocalCloud, echo: Callable[[str], None], endpoint: str = ENDPOINT) -> None:
    """What ``sentinel history --endpoint`` shows for the demo endpoint after the scenes."""
    from llmops_sentinel.adapters.dynamodb import SentinelTable

    records = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb")).history(endpoint)
    echo(f"\n== audit trail (sentinel history --endpoint {endpoint})")
    for r in reversed(records):
        twice = f" x{r.deliveries}" if r.deliveries > 1 else ""
        reason = textwrap.shorten(r.reason, width=90, placeholder=" ...")  # whole words only
        echo(f"  {r.signal:19} -> {r.action:10} {r.outcome + twice:12} {r.status or '-':19} {reason}")


WORKFLOWS = (
    "ScaleOutStateMachine",
    "ScaleDownStateMachine",
    "RollbackStateMachine",
    "RetrainStateMachine",
    "DeployStateMachine",
)


def stack_outcomes(cloud: LocalCloud, endpoints: list[str]) -> dict[str, Any]:
    """What the stack recorded, per endpoint: audit decisions (signal, action, outcome) and executions
    (workflow, status), from the Sentinel table and Step Functions -- not from the demo's narration."""
    import json

    from llmops_sentinel.adapters.dynamodb import SentinelTable

    table = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    out: dict[str, Any] = {
        name: {"decisions": [], "executions": [], "instances": None, "endpoint_config": None} for name in endpoints
    }
    for name in endpoints:
        for record in sorted(table.history(name), key=lambda r: r.occurred_at):
            out[name]["decisions"].append(
                {
                    "signal": record.signal,
                    "action": record.action,
                    "outcome": record.outcome,
                    "status": record.status,
                    "occurred_at": record.occurred_at,
                }
            )
        described = cloud.client("sagemaker").describe_endpoint(EndpointName=name)
        out[name]["endpoint_config"] = described["EndpointConfigName"]
        out[name]["instances"] = instance_count(cloud, name)
    sfn = cloud.client("stepfunctions")
    for machine in WORKFLOWS:
        for execution in cloud.executions(machine):
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            target = json.loads(described.get("input") or "{}").get("endpoint_name")
            if target in out:
                status = execution["status"]
                if status == "RUNNING":  # a workflow the day did not wait on (the retrain): its end, not a snapshot
                    status = cloud.wait_for_execution(execution["executionArn"])["status"]
                out[target]["executions"].append({"workflow": machine, "status": status})
    return out


def _report(
    cloud: LocalCloud,
    begin: float,
    end: float,
    prices: PriceBook | None,
    report_path: Path | None,
    keep_model: bool,
    now: float | None = None,
) -> tuple[str | None, dict[str, Any] | None]:
    """The HTML report over ``begin``..``end`` (epoch seconds), written to ``report_path`` and/or kept as
    JSON; nothing is built when neither is asked for."""
    if report_path is None and not keep_model:
        return None, None
    from sentinel_dev.report.local import cloud_report, write_report

    model = cloud_report(cloud, begin, end, prices or load_price_book(), now=now)
    written = str(write_report(model, report_path)) if report_path is not None else None
    return written, model.model_dump(mode="json") if keep_model else None


def run_demo(
    echo: Echo = print,
    seed: int = 7,
    report_path: Path | None = None,
    prices: PriceBook | None = None,
    keep_model: bool = False,
    scenario: str = "scenes",
    speed: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Run the scenario (``scenes``: the three synthetic scenes; ``full`` or one incident: the day of real
    traffic, scenes/day.py); with ``report_path``, write the HTML report of the local cloud there before it
    stops (``keep_model``: return the report's content too). ``prices``: default the packaged price book."""
    if scenario != "scenes":
        return _run_day(echo, seed, report_path, prices, keep_model, scenario, speed, progress)
    started = time.perf_counter()
    wall_start = time.time()
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
        for name in SCENES:
            if echo:
                echo(f"\n== scene: {name}")
            report = scene(name)(cloud, echo, rng)
            scenes.append(report)
            if echo:
                echo(f"  => {'OK' if report.ok else 'FAILED'}: {report.summary}")
        if echo:
            print_audit_trail(cloud, echo)
        # The scenes' simulated clock starts 4 hours back (latency) and ends at the drift check (now).
        written, kept = _report(cloud, wall_start - 4.5 * 3600, time.time() + 600, prices, report_path, keep_model)
        not_emulated = dict(cloud.stack.not_emulated)
    seconds = time.perf_counter() - started
    if echo:
        echo(f"\ndemo finished in {seconds:.1f} s: {'all scenes OK' if all(s.ok for s in scenes) else 'FAILED'}")
        if written:
            echo(f"report: {written} (open it in a browser; it needs no network)")
    return DemoReport(
        ok=all(s.ok for s in scenes),
        seconds=round(seconds, 2),
        scenes=scenes,
        not_emulated=not_emulated,
        report_path=written,
        report_model=kept,
    )


def _run_day(
    echo: Echo,
    seed: int,
    report_path: Path | None,
    prices: PriceBook | None,
    keep_model: bool,
    scenario: str,
    speed: float,
    progress: Callable[[int, int], None] | None,
) -> DemoReport:
    from sentinel_dev.local.scenes import day, trace

    started = time.perf_counter()
    day.selected(scenario)  # a bad name fails before the cloud starts
    if echo:
        echo(f"LLMOps Sentinel demo ({scenario}): a simulated day of real LLM traffic on a local cloud (moto)")
        echo(f"  {trace.ATTRIBUTION}")
    with LocalCloud(parameters=day.parameters()) as cloud:
        if echo:
            echo(f"  stack {cloud.stack.name}: {len(cloud.stack.resources)} resources from template.yaml")
        run = day.Day(cloud, echo, np.random.default_rng(seed), scenario, speed=speed, progress=progress)
        report = run.run()
        names = [day.CHAT, day.CODE]
        if echo:
            for name in names:
                print_audit_trail(cloud, echo, name)
        outcomes = stack_outcomes(cloud, names)
        begin, end = run.start.timestamp(), run.end_at.timestamp()  # the simulated part of the day
        written, kept = _report(cloud, begin, end, prices, report_path, keep_model, now=end)
        not_emulated = dict(cloud.stack.not_emulated)
    seconds = time.perf_counter() - started
    if echo:
        echo(f"\ndemo finished in {seconds:.1f} s: {'OK' if report.ok else 'FAILED'}: {report.summary}")
        echo(f"({trace.ATTRIBUTION})")
        if written:
            echo(f"report: {written} (open it in a browser; it needs no network)")
    return DemoReport(
        ok=report.ok,
        seconds=round(seconds, 2),
        scenario=scenario,
        seed=seed,
        scenes=[report],
        endpoints=outcomes,
        attribution=trace.ATTRIBUTION,
        not_emulated=not_emulated,
        report_path=written,
        report_model=kept,
    )

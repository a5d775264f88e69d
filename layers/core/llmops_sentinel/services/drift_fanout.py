"""Drift checks over a fleet: list the endpoints to check, then one isolated check per endpoint.

The scheduled run is the ``DriftChecksStateMachine`` (statemachines/drift_checks.asl.json):

1. ``phase: list`` (:func:`plan_checks`): the monitors of every fleet-registry endpoint (the
   ``defaults`` monitor unless monitors.yaml lists it) plus every listed entry; those without a
   baseline in S3 are reported ``no-baseline`` here, without a check (one ListObjectsV2 page per
   1,000 baselines, one DynamoDB Query per ~3,000 registry items);
2. a Map state, ``MaxConcurrency`` at a time, one ``phase: check`` invocation per endpoint
   (:func:`check_one`) with its own retry on throttling, a timeout and a Catch: a slow or failing
   endpoint is that item's result and does not hold up the others.

:func:`run_fanned_out` is the same two phases in-process (a thread pool in place of the Map): what
benchmarks and tests call with injected clients.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.adapters.events import SentinelBus
from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.adapters.s3 import DriftStore
from llmops_sentinel.domain.drift.monitors import ENDPOINT_PATTERN
from llmops_sentinel.errors import InvalidEventError, ThrottledError
from llmops_sentinel.models.drift_events import parse_check_request, parse_time
from llmops_sentinel.models.validation import first_error
from llmops_sentinel.services.drift import CheckResult, DriftSettings, EndpointCheck, _iso, isolated_check
from llmops_sentinel.services.emf import publish_drift_checks


class CheckOne(BaseModel):
    """One Map item: which endpoint, at which check time (the run's, so a retry judges the same window)."""

    model_config = ConfigDict(extra="forbid")

    phase: Literal["check"]
    endpoint: str = Field(pattern=ENDPOINT_PATTERN)
    at: str


class DriftPlan(BaseModel):
    at: str
    endpoints: list[str]
    """Endpoints to check, one Map item each."""
    skipped: list[EndpointCheck] = Field(default_factory=list)
    """Endpoints not checked (no baseline), with their result."""
    watched: int = 0
    """Endpoints in the fleet registry."""


def is_fanout_event(event: Any) -> bool:
    return isinstance(event, dict) and event.get("phase") in {"list", "check"}


def plan_checks(
    event: Any, settings: DriftSettings, registry: FleetRegistry | None, store: DriftStore | None = None
) -> DriftPlan:
    """Every endpoint the run checks: the fleet's, listed entries included, those with a baseline."""
    request = parse_check_request({k: v for k, v in event.items() if k != "phase"}) if isinstance(event, dict) else None
    if request is None:
        raise InvalidEventError("drift list request must be a JSON object")
    watched = [w.endpoint_name for w in registry.watched()] if registry is not None else []
    monitors = settings.monitors.fleet(watched)
    store = store or settings.store()
    baselines = store.baseline_endpoints()
    at = request.moment
    checked, skipped = [], []
    for monitor in monitors:
        if monitor.endpoint in baselines:
            checked.append(monitor.endpoint)
            continue
        start, end = monitor.window(at)
        skipped.append(
            EndpointCheck(
                endpoint=monitor.endpoint, status="no-baseline", window_start=_iso(start), window_end=_iso(end),
                reason=f"no {store.uri(f'baselines/{monitor.endpoint}.json')}",
            )
        )  # fmt: skip
    return DriftPlan(at=_iso(at), endpoints=checked, skipped=skipped, watched=len(watched))


def parse_check_one(event: Any) -> CheckOne:
    try:
        return CheckOne.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"not a drift check item: {first_error(exc)}") from exc


def check_one(
    item: CheckOne,
    settings: DriftSettings,
    store: DriftStore | None = None,
    bus: SentinelBus | None = None,
    rng: np.random.Generator | None = None,
) -> CheckResult:
    """One endpoint's check (its monitors.yaml entry, else the defaults), isolated like every check."""
    at = parse_time(item.at)
    monitor = settings.monitors.monitor_for(item.endpoint)
    store = store or settings.store()
    bus = bus or (SentinelBus(settings.bus_name) if settings.bus_name else None)
    generator = rng if rng is not None else np.random.default_rng(monitor.config.seed)
    # Throttling is not this endpoint's verdict: it is raised for the Map's Retry (backoff, this item
    # alone), and after the last attempt its Catch makes it the item's error result.
    check = isolated_check(monitor, at, store, bus, generator, reraise=(ThrottledError,))
    return CheckResult(at=_iso(at), checks=[check])


def run_fanned_out(
    event: Any,
    settings: DriftSettings,
    registry: FleetRegistry | None,
    store: DriftStore | None = None,
    bus: SentinelBus | None = None,
    max_concurrency: int = 10,
) -> CheckResult:
    """The state machine's run in-process: plan, then ``max_concurrency`` checks at a time."""
    plan = plan_checks({"phase": "list", **(event if isinstance(event, dict) else {})}, settings, registry, store)
    store = store or settings.store()

    def one(endpoint: str) -> EndpointCheck:
        item = CheckOne(phase="check", endpoint=endpoint, at=plan.at)
        try:
            return check_one(item, settings, store, bus).checks[0]
        except Exception as exc:  # the state machine's per-item Catch (after its Retry): this item's result
            start, end = settings.monitors.monitor_for(endpoint).window(parse_time(plan.at))
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
            return EndpointCheck(
                endpoint=endpoint, status="error", window_start=_iso(start), window_end=_iso(end), reason=reason
            )

    with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
        checks = list(pool.map(one, plan.endpoints))
    return CheckResult(at=plan.at, checks=[*checks, *plan.skipped])


def registry_from_env() -> FleetRegistry | None:
    """The fleet registry in the Sentinel table (``SENTINEL_TABLE_NAME``; unset: no registry)."""
    table = os.environ.get("SENTINEL_TABLE_NAME", "").strip()
    return FleetRegistry(table) if table else None


def handle_fanout(event: dict[str, Any], settings: DriftSettings, registry: FleetRegistry | None) -> dict[str, Any]:
    """The state machine's two tasks: ``list`` -> the plan; ``check`` -> one endpoint's check (and its
    DriftDetected/DriftScore/DriftCheckErrors metrics, as the one-invocation run publishes them)."""
    if event.get("phase") == "list":
        return plan_checks(event, settings, registry).model_dump(mode="json")
    result = check_one(parse_check_one(event), settings)
    publish_drift_checks(result)
    return result.checks[0].model_dump(mode="json", exclude={"feature_scores"})

"""Remediation router, as a straight line: parse -> confirm -> decide -> guard -> start -> audit.

:func:`route_signal` parses the event, then runs :data:`STEPS` in order. Each step takes the routing
so far and either hands it on or *settles* it with an outcome; a settled routing skips the remaining
steps, and every routing ends in :func:`audit` (one exit, one audit item per decision).

1. ``confirm``: the alarm is this stack's; the endpoint is one the stack watches (exact name, config-listed
   or in the fleet registry the fleet tracker keeps: :class:`~llmops_sentinel.adapters.fleet_registry.FleetScope`;
   else ``unwatched``: logged, no audit item, nothing done; governance findings, which cover the whole
   account, may still notify); a latency alarm is confirmed by the detector.
2. ``decide``: the policy's action (``none`` -> ``ignored``; a workflow on an unwatched endpoint ->
   ``unwatched``, whatever the policy says).
3. ``guard``: dry-run; the action's input builder and prerequisites (unmet -> notify); the cooldown
   lock per (endpoint, action); the **endpoint lease** (one workflow per endpoint, across all actions;
   a loser is ``superseded`` or ``queued`` by precedence, or ``duplicate`` when it is the same
   decision); an execution that already exists (``duplicate``); the daily limit.
4. ``start``: ``notify`` -> SNS; a workflow -> StartExecution under the idempotent execution name.

Only the delivery that took the lease may start the execution, so under any number of concurrent
deliveries of one signal exactly one reports ``started``; its audit write is authoritative (it
overwrites a ``duplicate`` a racing redelivery may have written first). Workflow actions come from
the registry (``domain/remediation/registry.py``): no list of action names is kept here.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.dynamodb import AuditRecord, Lease, SentinelTable, audit_key
from llmops_sentinel.adapters.fleet_registry import FleetRegistry, FleetScope
from llmops_sentinel.adapters.lambda_ import FunctionInvoker
from llmops_sentinel.adapters.sns import Notifier
from llmops_sentinel.adapters.stepfunctions import StepFunctionsAdapter
from llmops_sentinel.domain.remediation.policy import Decision, RemediationPolicy, decide, load_policy
from llmops_sentinel.domain.remediation.registry import ActionRequest, Unmet, is_workflow, workflow_actions
from llmops_sentinel.domain.remediation.scope import ConfiguredEndpoints, ListedEndpoints, WatchedEndpoints
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.models.alarms import parse_alarm_timestamp
from llmops_sentinel.models.signals import RejectedFinding, Signal, parse_finding_batch, parse_signal
from llmops_sentinel.services.latency_confirmation import confirm_latency_alarm

Outcome = Literal[
    "started",
    "duplicate",
    "ignored",
    "unwatched",
    "notified",
    "dry-run",
    "cooldown",
    "superseded",
    "queued",
    "daily-limit",
    "rejected",
]
CLAIM_STALE_S = 120
"""A lease claimed this long ago without a started execution belongs to a delivery that died (the
router's timeout is 30 s): the next delivery takes it over."""
REQUIRED_ENV = ("SENTINEL_TABLE_NAME", "SENTINEL_NOTIFICATION_TOPIC_ARN")
"""``SENTINEL_WATCHED_ENDPOINTS`` may be empty (EndpointName is optional): the fleet registry is the scope then."""


class RouterSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    model_config = ConfigDict(defer_build=True)

    workflows: dict[str, str]
    """State machine ARN per registered workflow action."""
    table_name: str
    topic_arn: str
    alarm_prefix: str = ""
    latency_confirm_function: str = ""
    """Latency monitor asked to confirm latency alarms (empty: latency alarms follow their rule directly)."""
    watched_endpoints: frozenset[str] = frozenset()
    """``SENTINEL_WATCHED_ENDPOINTS`` (comma-separated); with the fleet registry: the default scope."""
    policy: RemediationPolicy
    budget_topic_arn: str = ""
    """The stack's budget topic (``SENTINEL_BUDGET_TOPIC_ARN``): the only SNS source accepted."""
    stack_budget: str = ""
    """The stack's own budget (``SENTINEL_STACK_BUDGET``): acts on every watched endpoint unless the
    policy's ``budgets`` names it."""

    @classmethod
    def from_env(cls) -> RouterSettings:
        missing = [name for name in REQUIRED_ENV if not os.environ.get(name, "").strip()]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        override = os.environ.get("SENTINEL_REMEDIATION_POLICY", "").strip()
        policy = load_policy(text=override) if override else load_policy()
        return cls(
            workflows={a.name: os.environ[a.env] for a in workflow_actions().values() if os.environ.get(a.env)},
            table_name=os.environ["SENTINEL_TABLE_NAME"],
            topic_arn=os.environ["SENTINEL_NOTIFICATION_TOPIC_ARN"],
            alarm_prefix=os.environ.get("SENTINEL_ALARM_PREFIX", ""),
            latency_confirm_function=os.environ.get("SENTINEL_LATENCY_CONFIRM_FUNCTION", ""),
            watched_endpoints=ConfiguredEndpoints.parse(os.environ.get("SENTINEL_WATCHED_ENDPOINTS", "")).names,
            policy=policy,
            budget_topic_arn=os.environ.get("SENTINEL_BUDGET_TOPIC_ARN", "").strip(),
            stack_budget=os.environ.get("SENTINEL_STACK_BUDGET", "").strip(),
        )


class RouteResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    status: Outcome
    action: str
    reason: str
    signal: str
    endpoint_name: str | None = None
    decision_id: str
    execution_name: str | None = None
    execution_arn: str | None = None


@dataclass(frozen=True)
class RouterDeps:
    """The router's ports; every one has an AWS-backed default."""

    table: SentinelTable
    sfn: StepFunctionsAdapter
    notifier: Notifier
    invoker: FunctionInvoker
    watched: WatchedEndpoints

    def previous_config(self, endpoint_name: str) -> str | None:
        """:class:`~llmops_sentinel.domain.remediation.registry.Facts`: the tracked config history
        (written by EndpointTrackerFunction), never the signal."""
        known = self.table.configs(endpoint_name, limit=2)
        return known[1] if len(known) >= 2 else None


@dataclass(frozen=True)
class Settled:
    status: Outcome
    reason: str
    execution_arn: str | None = None
    audited: bool = True
    """False for signals the stack must not keep items for (unwatched endpoints, foreign alarms)."""


@dataclass(frozen=True)
class Routing:
    """One signal on its way through the steps."""

    signal: Signal
    now: float
    rejection: str | None = None
    decision: Decision | None = None
    payload: dict[str, Any] | None = None
    notice: str | None = None
    """Set for a notify: the message body's decision line."""
    cooldown_taken: bool = False
    lease: Lease | None = None
    outcome: Settled | None = None

    @property
    def chosen(self) -> Decision:
        assert self.decision is not None, "decide runs before guard and start"
        return self.decision

    @property
    def endpoint(self) -> str:
        assert self.decision is not None and self.decision.endpoint_name is not None
        return self.decision.endpoint_name

    def settle(self, status: Outcome, reason: str, arn: str | None = None, *, audited: bool = True) -> Routing:
        return replace(self, outcome=Settled(status, reason, arn, audited))


Step = Callable[[Routing, RouterSettings, RouterDeps], Routing]


# ----------------------------------------------------------------------------------------- confirm
def confirm(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    signal = r.signal
    if (
        signal.alarm is not None
        and settings.alarm_prefix
        and not signal.alarm.alarm_name.startswith(settings.alarm_prefix)
    ):
        return r.settle("ignored", f"alarm {signal.alarm.alarm_name!r} is not managed by this stack", audited=False)
    if signal.kind == "model-approved" and signal.endpoint_name is None:
        return _package_endpoint(r, settings, deps)
    if _unwatched(signal, deps) and signal.kind != "governance-finding":  # governance covers the account
        return _unwatched_outcome(r)
    if signal.kind == "latency-alarm" and settings.latency_confirm_function:
        confirmed, rejection = confirm_latency_alarm(signal, settings.latency_confirm_function, deps.invoker)
        return replace(r, signal=confirmed, rejection=rejection)
    return r


# ------------------------------------------------------------------------------------------ decide
def decide_action(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    decision = decide(r.signal, settings.policy, r.rejection)
    if is_workflow(decision.action) and _unwatched(r.signal, deps):  # whatever the policy says
        return _unwatched_outcome(r)
    r = replace(r, decision=decision)
    if decision.action == "none":
        return r.settle("ignored", decision.reason)
    if decision.dry_run:
        verb = "notify" if decision.action == "notify" else f"start {decision.action}"
        return r.settle("dry-run", f"dry run: would {verb} ({decision.reason})")
    if decision.action == "notify":
        return replace(r, notice=decision.reason)
    return r


# ------------------------------------------------------------------------------------------- guard
def prerequisites(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    """The action's input builder: its input, or an unmet prerequisite (-> notify)."""
    decision = r.chosen
    if r.notice is not None:
        return r
    action = workflow_actions()[decision.action]
    if decision.action not in settings.workflows:
        raise ConfigError(f"action {decision.action!r} has no state machine ARN ({action.env}) in this environment")
    request = ActionRequest(
        action=decision.action,
        endpoint_name=r.endpoint,
        variant_name=decision.variant_name or "AllTraffic",
        decision_id=decision.decision_id,
        signal=r.signal,
        settings=decision.settings,
        endpoint=settings.policy.for_endpoint(r.endpoint),
        audit={"table": settings.table_name, **audit_key(r.endpoint, occurred_iso(r.signal), decision.decision_id)},
    )
    built = action.build(request, deps)
    if isinstance(built, Unmet):
        return replace(r, notice=f"{decision.reason}, but {built.reason}")
    return replace(r, payload=built)


def cooldown(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    """Per (endpoint, action): the same action does not run again until its cooldown has passed."""
    if r.notice is not None:
        return r
    decision = r.chosen
    assert decision.execution_name is not None
    lock = deps.table.acquire(
        r.endpoint,
        decision.action,
        decision.decision_id,
        decision.execution_name,
        decision.settings.cooldown_minutes * 60,
        now=r.now,
    )
    if not isinstance(lock, bool):
        until = datetime.fromtimestamp(lock.until, UTC).strftime("%H:%M:%SZ")
        return r.settle(
            "cooldown",
            f"{decision.action} on {r.endpoint} is cooling down until {until} (decision {lock.decision_id})",
        )
    return replace(r, cooldown_taken=lock)


def lease(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    """One workflow per endpoint: take the lease, or take it over from a workflow that has ended."""
    if r.notice is not None:
        return r
    decision = r.chosen
    now = int(r.now)
    claim = Lease(
        decision_id=decision.decision_id,
        action=decision.action,
        rank=settings.policy.rank(decision.action),
        token=uuid.uuid4().hex,
        claimed_at=now,
        expires_at=now + decision.settings.lease_seconds(),
    )
    holder = deps.table.take_lease(r.endpoint, claim, now)
    if holder is not None and _ended(holder, deps, now):
        holder = deps.table.take_lease(r.endpoint, claim, now, replacing=holder)
    if holder is None:
        return replace(r, lease=claim)
    running = f"{holder.action} (decision {holder.decision_id}, {holder.state})"
    if holder.decision_id == decision.decision_id:  # the decision acts through that delivery: keep its cooldown
        return r.settle(
            "duplicate", f"another delivery of this decision holds the lease: {running}", holder.execution_arn
        )
    r = _release_cooldown(r, deps)
    if claim.rank >= holder.rank:
        return r.settle("superseded", f"{running} holds {r.endpoint}; {decision.action} does not outrank it")
    deps.table.queue_on_lease(
        r.endpoint, holder.token, decision.decision_id, decision.action, claim.rank, r.signal.model_dump_json()
    )
    deps.notifier.publish(
        f"LLMOps Sentinel: {decision.action} on {r.endpoint} waits for {holder.action}",
        f"{r.signal.summary}\n\nDecision: {decision.reason}\n{running} holds the endpoint; it is not interrupted. "
        f"{decision.action} outranks it and is recorded as queued on the lease: when that workflow ends, "
        "it is routed again (every guardrail applies then).",
    )
    return r.settle("queued", f"{running} holds {r.endpoint}; {decision.action} outranks it and waits")


def daily_limit(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    """An execution that already exists is a duplicate (nothing counted); else count one action."""
    if r.notice is not None:
        return r
    decision = r.chosen
    assert decision.execution_name is not None and r.lease is not None
    found = deps.sfn.existing(settings.workflows[decision.action], decision.execution_name)
    if found is not None:
        if found.status == "RUNNING":
            deps.table.lease_started(r.endpoint, r.lease.token, found.execution_arn)
        else:
            deps.table.release_lease(r.endpoint, r.lease.token)
        return r.settle("duplicate", f"already started ({found.status}): {decision.reason}", found.execution_arn)
    if not deps.table.count_action(r.endpoint, decision.max_actions_per_day, now=r.now):
        _release(r, deps)
        return r.settle("daily-limit", f"{r.endpoint} reached {decision.max_actions_per_day} actions today")
    return r


# ------------------------------------------------------------------------------------------- start
def start(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    decision = r.chosen
    if r.notice is not None:
        deps.notifier.publish(
            f"LLMOps Sentinel: {r.signal.kind} on {r.signal.endpoint_name or 'fleet'}",
            f"{r.signal.summary}\n\nDecision: {r.notice}",
        )
        return r.settle("notified", r.notice)
    assert decision.execution_name is not None and r.lease is not None and r.payload is not None
    started = deps.sfn.start(settings.workflows[decision.action], decision.execution_name, r.payload)
    deps.table.lease_started(r.endpoint, r.lease.token, started.execution_arn)
    if not started.started:
        return r.settle("duplicate", f"already started ({started.status}): {decision.reason}", started.execution_arn)
    return r.settle("started", decision.reason, started.execution_arn)


STEPS: tuple[Step, ...] = (confirm, decide_action, prerequisites, cooldown, lease, daily_limit, start)


# ------------------------------------------------------------------------------------------- audit
def audit(r: Routing, settings: RouterSettings, deps: RouterDeps) -> RouteResult:
    assert r.outcome is not None, "start settles every routing it reaches"
    outcome, decision = r.outcome, r.decision
    action = decision.action if decision else "none"
    decision_id = decision.decision_id if decision else "-"
    execution_name = decision.execution_name if decision and outcome.execution_arn else None
    endpoint = decision.endpoint_name if decision else None
    if outcome.audited and endpoint:
        deps.table.record(
            AuditRecord(
                endpoint=endpoint,
                decided_at=datetime.fromtimestamp(r.now, UTC).isoformat(),
                occurred_at=occurred_iso(r.signal),
                decision_id=decision_id,
                signal=r.signal.kind,
                summary=r.signal.summary,
                action=action,
                outcome=outcome.status,
                reason=outcome.reason,
                execution_name=execution_name,
                execution_arn=outcome.execution_arn,
            ),
            now=r.now,
            authoritative=outcome.status == "started",
        )
    return RouteResult(
        status=outcome.status,
        action=action,
        reason=outcome.reason,
        signal=r.signal.kind,
        endpoint_name=endpoint if outcome.audited else r.signal.endpoint_name,
        decision_id=decision_id,
        execution_name=execution_name,
        execution_arn=outcome.execution_arn,
    )


def route_signal(
    event: Any,
    settings: RouterSettings,
    table: SentinelTable | None = None,
    sfn: StepFunctionsAdapter | None = None,
    notifier: Notifier | None = None,
    invoker: FunctionInvoker | None = None,
    now: float | None = None,
    watched: WatchedEndpoints | None = None,
) -> RouteResult:
    """parse -> confirm -> decide -> guard -> start -> audit (see the module docstring)."""
    deps = router_deps(settings, table, sfn, notifier, invoker, watched)
    return route(parse_signal(event), settings, deps, now)


def route_findings(
    event: Any, settings: RouterSettings, deps: RouterDeps, now: float | None = None
) -> list[RouteResult]:
    """A ``Governance Findings`` event: every finding through :func:`route` on its own (its own decision
    id, audit item, lease and cooldown, exactly as a ``Governance Finding`` event of its own), plus a
    ``rejected`` result per malformed finding (nothing acted on, nothing audited).

    A finding whose routing raises does not stop the others: each is routed, then the first error is
    raised so Lambda/EventBridge redeliver the event; the findings already routed are recognised by
    their deterministic decision ids (a started workflow answers ``duplicate``)."""
    signals, rejected = parse_finding_batch(event)  # the envelope is checked before anything is read
    at = now if now is not None else time.time()
    results = [_rejected(r) for r in rejected]
    errors: list[Exception] = []
    for signal in signals:
        try:
            results.append(route(signal, settings, deps, at))
        except Exception as exc:  # re-raised below, once every other finding had its routing
            errors.append(exc)
    if errors:
        raise errors[0]
    return results


def _rejected(finding: RejectedFinding) -> RouteResult:
    return RouteResult(
        status="rejected", action="none", reason=finding.reason, signal="governance-finding", decision_id="-"
    )


def router_deps(
    settings: RouterSettings,
    table: SentinelTable | None = None,
    sfn: StepFunctionsAdapter | None = None,
    notifier: Notifier | None = None,
    invoker: FunctionInvoker | None = None,
    watched: WatchedEndpoints | None = None,
) -> RouterDeps:
    """The router's ports, each given one or its AWS-backed default."""
    return RouterDeps(
        table=table or SentinelTable(settings.table_name),
        sfn=sfn or StepFunctionsAdapter(),
        notifier=notifier or Notifier(settings.topic_arn),
        invoker=invoker or FunctionInvoker(),
        watched=watched or FleetScope(settings.watched_endpoints, FleetRegistry(settings.table_name)),
    )


def route(signal: Signal, settings: RouterSettings, deps: RouterDeps, now: float | None = None) -> RouteResult:
    """One parsed signal through :data:`STEPS`, then :func:`audit`."""
    routing = Routing(signal=signal, now=now if now is not None else time.time())
    try:
        for step in STEPS:
            if routing.outcome is None:
                routing = step(routing, settings, deps)
    except Exception:
        _release(routing, deps)  # a failed start must not block the retry (Lambda/EventBridge redeliver)
        raise
    return audit(routing, settings, deps)


# ----------------------------------------------------------------------------------------- helpers
def _package_endpoint(r: Routing, settings: RouterSettings, deps: RouterDeps) -> Routing:
    """A model package event names a group: the watched endpoint whose policy deploys that group.

    Candidates: the configured names, the policy's per-endpoint entries and, when the scope can list
    them, every fleet-registry endpoint (a tag-onboarded endpoint takes ``defaults.retrain``'s group)."""
    group = str(r.signal.attributes.get("model_package_group", ""))
    listed = deps.watched.listed() if isinstance(deps.watched, ListedEndpoints) else frozenset()
    candidates = set(settings.watched_endpoints) | set(settings.policy.endpoints) | listed
    owners = sorted(
        name
        for name in candidates
        if deps.watched.watches(name) and settings.policy.for_endpoint(name).retrain.model_package_group == group
    )
    if len(owners) != 1:
        if owners:
            why = f"{len(owners)} watched endpoints ({', '.join(owners)}) deploy model package group {group!r}"
        else:
            why = f"no watched endpoint deploys model package group {group!r}"
        return r.settle("ignored", why, audited=False)
    return replace(r, signal=r.signal.model_copy(update={"endpoint_name": owners[0]}))


def _unwatched(signal: Signal, deps: RouterDeps) -> bool:
    return signal.endpoint_name is not None and not deps.watched.watches(signal.endpoint_name)


def _unwatched_outcome(r: Routing) -> Routing:
    """Logged and counted (RouterUnwatched), never audited: no items keyed by names we do not own."""
    reason = f"endpoint {r.signal.endpoint_name!r} is not watched by this stack (names match exactly)"
    return r.settle("unwatched", reason, audited=False)


def _ended(holder: Lease, deps: RouterDeps, now: int) -> bool:
    """The holder's workflow is over (any way: succeeded, failed, aborted, timed out), or its delivery
    died before starting one: the lease may be handed over."""
    if holder.state == "started" and holder.execution_arn:
        return deps.sfn.status(holder.execution_arn) != "RUNNING"
    return now - holder.claimed_at > CLAIM_STALE_S


def _release_cooldown(r: Routing, deps: RouterDeps) -> Routing:
    """A decision that does not act does not consume its action's cooldown."""
    if r.cooldown_taken and r.decision is not None and r.decision.endpoint_name:
        deps.table.release(r.decision.endpoint_name, r.decision.action, r.decision.decision_id)
    return replace(r, cooldown_taken=False)


def _release(r: Routing, deps: RouterDeps) -> None:
    if r.lease is not None and r.decision is not None and r.decision.endpoint_name and r.outcome is None:
        deps.table.release_lease(r.decision.endpoint_name, r.lease.token)
    if r.outcome is None:
        _release_cooldown(r, deps)


def occurred_iso(signal: Signal) -> str:
    """A sortable UTC timestamp for the signal (raw text if it cannot be read)."""
    parsed = parse_alarm_timestamp(signal.occurred_at)
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(signal.occurred_at.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return signal.occurred_at
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""AWS Budgets -> ``budget-exceeded`` signals -> the router's STEPS (scale-down with every guardrail).

A Budgets notification reaches the router through the stack's budget topic (SNS, plain text:
:mod:`llmops_sentinel.models.budgets`). The budget is mapped to endpoints by the remediation policy
(``budgets: {<name>: [endpoints] | watched}``; the stack's own budget, ``SENTINEL_STACK_BUDGET``, is
``watched`` unless listed), and each endpoint gets its own ``budget-exceeded`` signal, routed exactly
like any other (:func:`llmops_sentinel.services.remediation.route`): scope, policy rule, cooldown,
endpoint lease, daily limit, the scale-down floor (``min_instances``) and approval all apply.

Untrusted input: a record from any other topic is an :class:`~llmops_sentinel.errors.UntrustedSourceError`
(nothing is read or written); a budget the policy does not name is audited (under ``budget:<name>``)
and does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from llmops_sentinel.adapters.dynamodb import AuditRecord
from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.models.budgets import BudgetNotification, is_sns_event, parse_budget_event
from llmops_sentinel.models.signals import Signal, is_finding_batch
from llmops_sentinel.models.workflow_events import is_execution_status_change
from llmops_sentinel.services.queued import redrive_queued
from llmops_sentinel.services.remediation import (
    RouterDeps,
    RouteResult,
    RouterSettings,
    route,
    route_findings,
    route_signal,
    router_deps,
)

WatchedListing = Callable[[], Iterable[str]]


def budget_endpoints(notice: BudgetNotification, settings: RouterSettings, listing: WatchedListing) -> list[str] | None:
    """The endpoints a budget's notification applies to (sorted, each once); None: a budget not configured."""
    mapped = settings.policy.budgets.get(notice.budget_name)
    if mapped is None and settings.stack_budget and notice.budget_name == settings.stack_budget:
        mapped = "watched"
    if mapped is None:
        return None
    names = listing() if mapped == "watched" else mapped
    return sorted(set(names))


def budget_signal(notice: BudgetNotification, endpoint: str) -> Signal:
    """One endpoint's ``budget-exceeded`` signal; ``source_id`` names the SNS message and the endpoint,
    so a redelivered notification is the same decision and each endpoint its own."""
    spent = f"{notice.actual_amount:g}" if notice.actual_amount is not None else "?"
    limit = f"{notice.threshold:g}" if notice.threshold is not None else "?"
    return Signal(
        kind="budget-exceeded",
        source_id=f"{notice.message_id}|{endpoint}",
        occurred_at=notice.sent_at,
        summary=f"AWS Budgets: {notice.budget_name} {notice.alert_type or '?'} {spent} over the threshold {limit}"[
            :300
        ],
        endpoint_name=endpoint,
        attributes={
            "budget_name": notice.budget_name,
            "budget_type": notice.budget_type,
            "alert_type": notice.alert_type,
            "budgeted_amount": notice.budgeted_amount,
            "threshold": notice.threshold,
            "actual_amount": notice.actual_amount,
        },
    )


def _unknown_budget(notice: BudgetNotification, deps: RouterDeps, now: float) -> RouteResult:
    reason = f"budget {notice.budget_name!r} is not in the remediation policy's budgets: no endpoint to act on"
    signal = budget_signal(notice, "-")
    record = AuditRecord(
        endpoint=f"budget:{notice.budget_name}",
        decided_at=datetime.fromtimestamp(now, UTC).isoformat(),
        occurred_at=notice.sent_at,
        decision_id=notice.message_id,
        signal="budget-exceeded",
        summary=signal.summary,
        action="none",
        outcome="ignored",
        reason=reason,
    )
    deps.table.record(record, now=now)
    return RouteResult(
        status="ignored", action="none", reason=reason, signal="budget-exceeded", decision_id=notice.message_id
    )


def route_budget(
    event: Any, settings: RouterSettings, deps: RouterDeps, now: float, listing: WatchedListing | None = None
) -> list[RouteResult]:
    """Every endpoint of every notification in the SNS event, each routed through the STEPS."""
    notices = parse_budget_event(event, settings.budget_topic_arn)  # raises before anything is read
    if listing is None:
        registry = FleetRegistry(settings.table_name, ddb=deps.table.ddb)

        def listing() -> list[str]:
            return [*settings.watched_endpoints, *(w.endpoint_name for w in registry.watched())]

    results = []
    for notice in notices:
        endpoints = budget_endpoints(notice, settings, listing)
        if endpoints is None:
            results.append(_unknown_budget(notice, deps, now))
            continue
        results.extend(route(budget_signal(notice, name), settings, deps, now) for name in endpoints)
    return results


def route_event(event: Any, settings: RouterSettings, now: float | None = None, **ports: Any) -> list[RouteResult]:
    """The router's entry: an SNS event is a Budgets notification (one result per endpoint it acts on);
    a ``Governance Findings`` event one result per finding
    (:func:`~llmops_sentinel.services.remediation.route_findings`); a Step Functions status change
    re-drives the decision queued behind that workflow; anything else is one signal
    (:func:`~llmops_sentinel.services.remediation.route_signal`)."""
    at = now if now is not None else time.time()
    if is_finding_batch(event):
        return route_findings(event, settings, router_deps(settings, **ports), at)
    if is_execution_status_change(event):  # a workflow ended: the decision queued behind it, if any
        return [redrive_queued(event, settings, router_deps(settings, **ports), at)]
    if not is_sns_event(event):
        return [route_signal(event, settings, now=now, **ports)]
    return route_budget(event, settings, router_deps(settings, **ports), at)

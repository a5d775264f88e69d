"""Queued decisions, re-driven: when a remediation workflow ends, the decision queued behind it is routed.

A decision whose action outranks the running workflow's is ``queued`` on that workflow's endpoint lease
(with its signal; :meth:`~llmops_sentinel.adapters.dynamodb.SentinelTable.queue_on_lease`). Step Functions
announces every execution's end on the default bus (``Execution Status Change``); the router's
``WorkflowEnded`` rule delivers those of the stack's own state machines here, and the queued signal goes
through :func:`~llmops_sentinel.services.remediation.route` again: scope, policy, latency confirmation,
cooldown, the lease (now handed over, since its workflow ended), the daily limit and approval all apply,
so a queued rollback whose regression has gone is not confirmed and does nothing.

Untrusted input: only ``aws.states`` events (a source no PutEvents caller may use) of a state machine
in the router's own workflow list are read; the endpoint comes from the execution's input, and nothing
is re-driven unless that endpoint's lease names exactly the execution that ended. A second delivery of
the same event finds the lease held by the re-driven decision and does nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from llmops_sentinel.errors import UntrustedSourceError
from llmops_sentinel.models.signals import Signal
from llmops_sentinel.models.workflow_events import parse_execution_status_change
from llmops_sentinel.services.remediation import RouterDeps, RouteResult, RouterSettings, route


def _ignored(reason: str, execution_name: str, endpoint: str | None) -> RouteResult:
    return RouteResult(
        status="ignored",
        action="none",
        reason=reason,
        signal="workflow-ended",
        endpoint_name=endpoint,
        decision_id=execution_name,
    )


def redrive_queued(event: Any, settings: RouterSettings, deps: RouterDeps, now: float) -> RouteResult:
    """The decision queued behind the execution that ``event`` says ended, routed; else ``ignored``."""
    change = parse_execution_status_change(event)
    detail = change.detail
    if detail.state_machine_arn not in settings.workflows.values():
        raise UntrustedSourceError(f"execution of {detail.state_machine_arn!r}, not one of this stack's workflows")
    endpoint = change.endpoint_name
    if not change.ended:
        return _ignored(f"execution {detail.name} is {detail.status}", detail.name, endpoint)
    if endpoint is None:
        return _ignored(f"execution {detail.name}'s input names no endpoint", detail.name, None)
    held = deps.table.lease(endpoint)
    if held is None or held.execution_arn != detail.execution_arn or not held.queued_signal:
        return _ignored(f"nothing is queued behind {detail.name} on {endpoint}", detail.name, endpoint)
    try:
        signal = Signal.model_validate_json(held.queued_signal)
    except ValidationError as exc:  # written by this router; unreadable means a corrupt item, not an event
        return _ignored(f"the queued signal on {endpoint}'s lease cannot be read: {exc.errors()[0]['msg']}",
                        detail.name, endpoint)  # fmt: skip
    return route(signal, settings, deps, now)

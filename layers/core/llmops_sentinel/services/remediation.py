"""Remediation router: a signal in; a decision, guardrails, at most one workflow, and an audit record out.

Order of operations, each step recorded in the decision's audit item:
1. parse the event into a Signal (InvalidEventError otherwise);
2. decide the action from the policy (rules, per-endpoint settings);
3. ``none`` -> recorded as ignored (when the signal names an endpoint); ``notify`` -> SNS;
4. dry-run -> recorded, nothing started;
5. cooldown lock (conditional write, TTL) -> held by another decision: recorded as ``cooldown``;
6. daily limit (conditional counter) -> at the limit: lock released, recorded as ``daily-limit``;
7. StartExecution with the idempotent name -> ``started``, or ``duplicate`` if that name exists.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from llmops_sentinel.adapters.dynamodb import AuditRecord, SentinelTable, audit_key
from llmops_sentinel.adapters.lambda_ import FunctionInvoker
from llmops_sentinel.adapters.sns import Notifier
from llmops_sentinel.adapters.stepfunctions import StepFunctionsAdapter
from llmops_sentinel.domain.remediation.policy import (
    Decision,
    EndpointPolicy,
    RemediationPolicy,
    decide,
    load_policy,
)
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.models.alarms import parse_alarm_timestamp
from llmops_sentinel.models.signals import Signal, parse_signal
from llmops_sentinel.services.latency_confirmation import confirm_latency_alarm

Outcome = Literal["started", "duplicate", "ignored", "notified", "dry-run", "cooldown", "daily-limit"]
WORKFLOW_ENV = {
    "scale-out": "SENTINEL_SCALE_OUT_STATE_MACHINE_ARN",
    "scale-down": "SENTINEL_SCALE_DOWN_STATE_MACHINE_ARN",
    "rollback": "SENTINEL_ROLLBACK_STATE_MACHINE_ARN",
    "retrain": "SENTINEL_RETRAIN_STATE_MACHINE_ARN",
}


class RouterSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    workflows: dict[str, str]
    table_name: str
    topic_arn: str
    alarm_prefix: str = ""
    latency_confirm_function: str = ""
    """Latency monitor asked to confirm latency alarms (empty: latency alarms follow their rule directly)."""
    policy: RemediationPolicy

    @classmethod
    def from_env(cls) -> RouterSettings:
        missing = [
            name for name in ("SENTINEL_TABLE_NAME", "SENTINEL_NOTIFICATION_TOPIC_ARN") if not os.environ.get(name)
        ]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        override = os.environ.get("SENTINEL_REMEDIATION_POLICY", "").strip()
        policy = load_policy(text=override) if override else load_policy()
        return cls(
            workflows={action: os.environ[env] for action, env in WORKFLOW_ENV.items() if os.environ.get(env)},
            table_name=os.environ["SENTINEL_TABLE_NAME"],
            topic_arn=os.environ["SENTINEL_NOTIFICATION_TOPIC_ARN"],
            alarm_prefix=os.environ.get("SENTINEL_ALARM_PREFIX", ""),
            latency_confirm_function=os.environ.get("SENTINEL_LATENCY_CONFIRM_FUNCTION", ""),
            policy=policy,
        )


class RouteResult(BaseModel):
    status: Outcome
    action: str
    reason: str
    signal: str
    endpoint_name: str | None = None
    decision_id: str
    execution_name: str | None = None
    execution_arn: str | None = None


def occurred_iso(signal: Signal) -> str:
    """A sortable UTC timestamp for the signal (raw text if it cannot be read)."""
    parsed = parse_alarm_timestamp(signal.occurred_at)
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(signal.occurred_at.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return signal.occurred_at
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def workflow_input(signal: Signal, decision: Decision, endpoint: EndpointPolicy, table: str) -> dict[str, Any]:
    assert decision.endpoint_name is not None
    payload: dict[str, Any] = {
        "endpoint_name": decision.endpoint_name,
        "variant_name": decision.variant_name or "AllTraffic",
        "dry_run": False,
        "require_approval": decision.settings.require_approval,
        "approval_timeout_seconds": decision.settings.approval_timeout_seconds,
        "bounds": {
            "min_instances": endpoint.min_instances,
            "max_instances": endpoint.max_instances,
            "step": endpoint.scale_step,
        },
        "signal": {
            "kind": signal.kind,
            "source_id": signal.source_id,
            "occurred_at": signal.occurred_at,
            "summary": signal.summary,
        },
        "audit": {"table": table, **audit_key(decision.endpoint_name, occurred_iso(signal), decision.decision_id)},
    }
    if decision.action == "scale-down" and signal.kind == "idle":
        payload["bounds"]["step"] = endpoint.max_instances  # idle: straight to the floor, not one step
    if decision.action == "rollback":
        payload["target_config"] = signal.attributes.get("previous_endpoint_config")
    if decision.action == "retrain":
        payload["retrain"] = endpoint.retrain.model_dump()
        payload["retrain"]["job_name"] = f"sentinel-retrain-{decision.decision_id[:20]}"
    return payload


def route_signal(
    event: Any,
    settings: RouterSettings,
    table: SentinelTable | None = None,
    sfn: StepFunctionsAdapter | None = None,
    notifier: Notifier | None = None,
    invoker: FunctionInvoker | None = None,
    now: float | None = None,
) -> RouteResult:
    signal = parse_signal(event)
    table = table or SentinelTable(settings.table_name)
    notifier = notifier or Notifier(settings.topic_arn)
    now_s = now if now is not None else time.time()
    if (
        signal.alarm is not None
        and settings.alarm_prefix
        and not signal.alarm.alarm_name.startswith(settings.alarm_prefix)
    ):
        return RouteResult(
            status="ignored",
            action="none",
            reason=f"alarm {signal.alarm.alarm_name!r} is not managed by this stack",
            signal=signal.kind,
            decision_id="-",
        )
    rejection = None
    if signal.kind == "latency-alarm" and settings.latency_confirm_function:
        invoker = invoker or FunctionInvoker()
        signal, rejection = confirm_latency_alarm(signal, settings.latency_confirm_function, invoker)
    decision = decide(signal, settings.policy)
    if rejection is not None:
        decision = decision.model_copy(update={"action": "none", "reason": rejection, "execution_name": None})
    endpoint = settings.policy.for_endpoint(signal.endpoint_name)

    def result(status: Outcome, reason: str, arn: str | None = None, detail: str | None = None) -> RouteResult:
        if decision.endpoint_name:
            table.record(
                AuditRecord(
                    endpoint=decision.endpoint_name,
                    decided_at=datetime.fromtimestamp(now_s, UTC).isoformat(),
                    occurred_at=occurred_iso(signal),
                    decision_id=decision.decision_id,
                    signal=signal.kind,
                    summary=signal.summary,
                    action=decision.action,
                    outcome=status,
                    reason=reason,
                    execution_name=decision.execution_name if arn else None,
                    execution_arn=arn,
                    detail=detail,
                ),
                now=now_s,
            )
        return RouteResult(
            status=status,
            action=decision.action,
            reason=reason,
            signal=signal.kind,
            endpoint_name=decision.endpoint_name,
            decision_id=decision.decision_id,
            execution_name=decision.execution_name if arn else None,
            execution_arn=arn,
        )

    if decision.action == "none":
        return result("ignored", decision.reason)
    if decision.action == "notify":
        if decision.dry_run:
            return result("dry-run", f"dry run: would notify ({decision.reason})")
        notifier.publish(
            f"LLMOps Sentinel: {signal.kind} on {signal.endpoint_name or 'fleet'}",
            f"{signal.summary}\n\nDecision: {decision.reason}",
        )
        return result("notified", decision.reason)
    if decision.dry_run:
        return result("dry-run", f"dry run: would start {decision.action} ({decision.reason})")
    state_machine = settings.workflows.get(decision.action)
    if state_machine is None:
        raise ConfigError(f"action {decision.action!r} has no state machine ARN in this function's environment")
    assert decision.endpoint_name is not None and decision.execution_name is not None
    payload = workflow_input(signal, decision, endpoint, settings.table_name)
    if decision.action == "rollback" and not payload.get("target_config"):
        known = table.configs(decision.endpoint_name, limit=2)
        if len(known) < 2:
            notifier.publish(
                f"LLMOps Sentinel: cannot roll back {decision.endpoint_name}",
                f"{signal.summary}\n\nNo previous endpoint config is recorded for this endpoint.",
            )
            return result("notified", f"{decision.reason}, but no previous endpoint config is known")
        payload["target_config"] = known[1]
    lock = table.acquire(
        decision.endpoint_name,
        decision.action,
        decision.decision_id,
        decision.execution_name,
        decision.settings.cooldown_minutes * 60,
        now=now_s,
    )
    if not isinstance(lock, bool):
        until = datetime.fromtimestamp(lock.until, UTC).strftime("%H:%M:%SZ")
        return result(
            "cooldown",
            f"{decision.action} on {decision.endpoint_name} is cooling down until {until} "
            f"(decision {lock.decision_id})",
        )
    if lock and not table.count_action(decision.endpoint_name, decision.max_actions_per_day, now=now_s):
        table.release(decision.endpoint_name, decision.action, decision.decision_id)
        return result("daily-limit", f"{decision.endpoint_name} reached {decision.max_actions_per_day} actions today")
    workflows = sfn or StepFunctionsAdapter()
    # A redelivery (our own lock) starts nothing new, unless the first delivery died before starting.
    started = (None if lock else workflows.existing(state_machine, decision.execution_name)) or workflows.start(
        state_machine, decision.execution_name, payload
    )
    if not started.started:
        return result("duplicate", f"already started ({started.status}): {decision.reason}", started.execution_arn)
    return result("started", decision.reason, started.execution_arn)

"""Alarm router use case: alarm transition in, at most one workflow execution out."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel

from llmops_sentinel.adapters.stepfunctions import StepFunctionsAdapter
from llmops_sentinel.domain.routing import DEFAULT_ROUTES, RoutingDecision, decide
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.models.alarms import parse_alarm_event


class RouterSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    workflows: dict[str, str]
    alarm_prefix: str = ""

    @classmethod
    def from_env(cls) -> RouterSettings:
        workflows = {}
        scale_out = os.environ.get("SENTINEL_SCALE_OUT_STATE_MACHINE_ARN")
        if scale_out:
            workflows["scale-out"] = scale_out
        return cls(workflows=workflows, alarm_prefix=os.environ.get("SENTINEL_ALARM_PREFIX", ""))


class RouteResult(BaseModel):
    status: Literal["started", "duplicate", "ignored"]
    reason: str
    alarm_name: str
    workflow: str | None = None
    execution_name: str | None = None
    execution_arn: str | None = None


def route_alarm(event: Any, settings: RouterSettings, sfn: StepFunctionsAdapter | None = None) -> RouteResult:
    """Parse (raises InvalidEventError), decide, and start the workflow idempotently."""
    transition = parse_alarm_event(event)
    decision: RoutingDecision = decide(transition, DEFAULT_ROUTES, settings.alarm_prefix)
    if decision.action == "ignore" or decision.workflow is None or decision.execution_name is None:
        return RouteResult(status="ignored", reason=decision.reason, alarm_name=transition.alarm_name)
    arn = settings.workflows.get(decision.workflow)
    if arn is None:
        raise ConfigError(f"workflow {decision.workflow!r} has no state machine ARN in this function's environment")
    started = (sfn or StepFunctionsAdapter()).start(arn, decision.execution_name, decision.input)
    return RouteResult(
        status="started" if started.started else "duplicate",
        reason=decision.reason if started.started else f"already started ({started.status}): {decision.reason}",
        alarm_name=transition.alarm_name,
        workflow=decision.workflow,
        execution_name=decision.execution_name,
        execution_arn=started.execution_arn,
    )

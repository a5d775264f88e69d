"""Which workflow an alarm transition starts, and under which idempotent execution name."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.models.alarms import AlarmTransition


class Route(BaseModel):
    """An alarm on ``namespace``/``metric`` entering one of ``states`` starts ``workflow``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow: str
    namespace: str
    metric: str
    states: frozenset[str] = frozenset({"ALARM"})


DEFAULT_ROUTES: tuple[Route, ...] = (Route(workflow="scale-out", namespace="AWS/SageMaker", metric="ModelLatency"),)


class RoutingDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Literal["start", "ignore"]
    reason: str
    workflow: str | None = None
    endpoint_name: str | None = None
    variant_name: str | None = None
    execution_name: str | None = None
    input: dict[str, object] = Field(default_factory=dict)


_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
MAX_EXECUTION_NAME = 80


def execution_name(workflow: str, transition: AlarmTransition, subject: str) -> str:
    """Same alarm transition -> same name, so Step Functions starts it once however often it arrives.

    The key is what identifies a transition in AWS: the alarm ARN, the new state and the state's
    timestamp exactly as sent. A later transition of the same alarm gets a new name.
    """
    key = f"{transition.alarm_arn}|{transition.state}|{transition.state_timestamp}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    readable = _NAME_UNSAFE.sub("-", f"{workflow}-{subject}").strip("-")
    head = readable[: MAX_EXECUTION_NAME - len(digest) - 1]
    return f"{head}-{digest}"


def decide(
    transition: AlarmTransition, routes: tuple[Route, ...] = DEFAULT_ROUTES, alarm_prefix: str = ""
) -> RoutingDecision:
    if alarm_prefix and not transition.alarm_name.startswith(alarm_prefix):
        return RoutingDecision(action="ignore", reason=f"alarm {transition.alarm_name!r} is not managed by this stack")
    for route in routes:
        if transition.state not in route.states:
            continue
        for metric in transition.metrics:
            if metric.namespace != route.namespace or metric.name != route.metric:
                continue
            endpoint = metric.dimensions.get("EndpointName")
            variant = metric.dimensions.get("VariantName")
            if not endpoint or not variant:
                return RoutingDecision(
                    action="ignore",
                    reason=f"alarm {transition.alarm_name!r} has no EndpointName/VariantName dimensions",
                )
            return RoutingDecision(
                action="start",
                reason=f"{transition.summary} on {route.namespace}/{route.metric}",
                workflow=route.workflow,
                endpoint_name=endpoint,
                variant_name=variant,
                execution_name=execution_name(route.workflow, transition, endpoint),
                input={
                    "endpoint_name": endpoint,
                    "variant_name": variant,
                    "dry_run": False,
                    "signal": {
                        "type": "alarm",
                        "alarm_name": transition.alarm_name,
                        "alarm_arn": transition.alarm_arn,
                        "state": transition.state,
                        "state_timestamp": transition.state_timestamp,
                        "summary": f"{transition.summary} ({transition.reason[:200]})",
                    },
                },
            )
    if transition.state != "ALARM":
        return RoutingDecision(action="ignore", reason=f"{transition.summary}: only ALARM transitions act")
    return RoutingDecision(action="ignore", reason=f"no route for alarm {transition.alarm_name!r}")

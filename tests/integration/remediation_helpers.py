"""Shared helpers for the remediation integration tests (local cloud)."""

from __future__ import annotations

import json
import re
from typing import Any

from sentinel_dev.local.cloud import LocalCloud
from tests.conftest import EVENTS, load_json

ENDPOINT = "demo-llm-endpoint"


def policy_text(**endpoint: Any) -> str:
    """A remediation policy (JSON is YAML) with the default rules and these endpoint settings."""
    from llmops_sentinel.domain.remediation.policy import load_policy

    rules = [rule.model_dump() for rule in load_policy().rules]
    return json.dumps({"version": 1, "defaults": endpoint, "rules": rules})


def router_event(name: str, **detail: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_json(EVENTS / "alarm_router" / name)
    if "detail" in event and detail:
        event["detail"].update(detail)
    return event


def load_regression(event_id: str = "8e1f1c2a-2222-4b9e-9d0c-2f4a6b8c0d02") -> dict[str, Any]:
    """A load-caused latency regression (-> scale-out); the same id is the same occurrence."""
    event = router_event("latency_regression_load.json")
    event["id"] = event_id
    return event


def route(cloud: LocalCloud, event: dict[str, Any]) -> dict[str, Any]:
    record = cloud.invoke("AlarmRouterFunction", event)
    assert record.ok, record.logs
    result: dict[str, Any] = record.result
    return result


def audit(cloud: LocalCloud, endpoint: str = ENDPOINT) -> list[dict[str, Any]]:
    from llmops_sentinel.adapters.dynamodb import SentinelTable

    table = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    return [r.model_dump() for r in table.history(endpoint)]


def all_executions(cloud: LocalCloud) -> list[dict[str, Any]]:
    found = []
    machines = ("ScaleOutStateMachine", "ScaleDownStateMachine", "RollbackStateMachine", "RetrainStateMachine")
    for lid in (*machines, "DeployStateMachine"):
        found.extend(cloud.executions(lid))
    return found


def task_token(cloud: LocalCloud) -> str:
    for message in reversed(cloud.sns_messages(cloud.stack.ref("NotificationTopic"))):
        match = re.search(r"Task token: (\S+)", message)
        if match:
            return match.group(1)
    raise AssertionError("no approval request was published")

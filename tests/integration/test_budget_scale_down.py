"""AWS Budgets notification (SNS, plain text) -> router -> budget-exceeded -> scale-down to the floor.

The local cloud does not deliver SNS to Lambda: the router is invoked with the SNS event shape Lambda
receives (``events/alarm_router/budget_exceeded_unmapped.json``, a real Budgets message with our names),
with the stack's own budget turned on (``BudgetAmountUsd``)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, create_endpoint, instance_count
from tests.conftest import EVENTS, load_json
from tests.integration.remediation_helpers import audit, policy_text

STACK_BUDGET = "sentinel-sagemaker"


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    params = {"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT, "BudgetAmountUsd": "500"}
    with LocalCloud(parameters=params) as running:
        create_endpoint(running, instances=3)
        yield running


def budget_event(cloud: LocalCloud, budget: str, message_id: str = "m-1", alert: str = "ACTUAL") -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(load_json(EVENTS / "alarm_router" / "budget_exceeded_unmapped.json"))
    sns = event["Records"][0]["Sns"]
    sns["TopicArn"] = cloud.stack.ref("BudgetTopic")
    sns["MessageId"] = message_id
    sns["Message"] = sns["Message"].replace("team-llm-monthly", budget).replace("ACTUAL", alert)
    return event


def test_the_stack_budget_scales_every_watched_endpoint_down_to_the_floor_once(cloud: LocalCloud) -> None:
    first = cloud.invoke("AlarmRouterFunction", budget_event(cloud, STACK_BUDGET))
    assert first.ok, first.logs
    assert (first.result["signal"], first.result["action"], first.result["status"]) == (
        "budget-exceeded",
        "scale-down",
        "started",
    )
    (execution,) = cloud.executions("ScaleDownStateMachine")
    assert cloud.wait_for_execution(execution["executionArn"])["status"] == "SUCCEEDED"
    assert instance_count(cloud) == 1  # 3 -> min_instances in one move
    (record,) = [r for r in audit(cloud) if r["signal"] == "budget-exceeded"]
    assert record["outcome"] == "started" and "sentinel-sagemaker" in record["summary"]
    # SNS redelivers: the same message is the same decision; another message inside the cooldown is not acted on
    again = cloud.invoke("AlarmRouterFunction", budget_event(cloud, STACK_BUDGET))
    assert again.result["status"] == "duplicate"
    later = cloud.invoke("AlarmRouterFunction", budget_event(cloud, STACK_BUDGET, message_id="m-2"))
    assert later.result["status"] == "cooldown"
    assert len(cloud.executions("ScaleDownStateMachine")) == 1


def test_a_forecasted_breach_notifies_and_changes_nothing(cloud: LocalCloud) -> None:
    routed = cloud.invoke("AlarmRouterFunction", budget_event(cloud, STACK_BUDGET, alert="FORECASTED"))
    assert (routed.result["action"], routed.result["status"]) == ("notify", "notified")
    assert cloud.executions("ScaleDownStateMachine") == [] and instance_count(cloud) == 3


def test_an_unknown_budget_does_nothing_and_is_audited(cloud: LocalCloud) -> None:
    routed = cloud.invoke("AlarmRouterFunction", budget_event(cloud, "someone-elses-budget"))
    assert (routed.result["action"], routed.result["status"]) == ("none", "ignored")
    assert cloud.executions("ScaleDownStateMachine") == [] and instance_count(cloud) == 3
    (record,) = audit(cloud, "budget:someone-elses-budget")
    assert record["outcome"] == "ignored" and "not in the remediation policy" in record["reason"]


def test_a_forged_topic_is_rejected_before_anything_is_read(cloud: LocalCloud) -> None:
    event = budget_event(cloud, STACK_BUDGET)
    event["Records"][0]["Sns"]["TopicArn"] = cloud.stack.ref("NotificationTopic")  # real, but not the budget topic
    routed = cloud.invoke("AlarmRouterFunction", event)
    assert (routed.result["status"], routed.result["error"]) == ("rejected", "UntrustedSourceError")
    assert cloud.executions("ScaleDownStateMachine") == [] and audit(cloud) == []


def test_a_policy_budget_maps_to_listed_endpoints_only() -> None:
    policy = policy_text(min_instances=2)[:-1] + ', "budgets": {"team-llm-monthly": ["demo-llm-endpoint", "other"]}}'
    params = {"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT, "RemediationPolicy": policy}
    with LocalCloud(parameters=params) as cloud:
        create_endpoint(cloud, instances=3)
        routed = cloud.invoke("AlarmRouterFunction", budget_event(cloud, "team-llm-monthly"))
        assert routed.ok, routed.logs
        by_endpoint = {r["endpoint_name"]: r["status"] for r in routed.result["results"]}
        assert by_endpoint == {"demo-llm-endpoint": "started", "other": "unwatched"}
        (execution,) = cloud.executions("ScaleDownStateMachine")
        assert cloud.wait_for_execution(execution["executionArn"])["status"] == "SUCCEEDED"
        assert instance_count(cloud) == 2  # the policy's floor

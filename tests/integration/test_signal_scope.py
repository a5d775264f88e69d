"""Forged and unscoped bus signals cannot steer the router (local cloud, the router as deployed).

Each case is an event anyone able to put on the bus could send: a rollback target named in the event,
an endpoint the stack does not watch, a case variant of the watched name, a list or dict detail-type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint, instance_count
from tests.integration.remediation_helpers import ENDPOINT, all_executions, audit, route, router_event

BASE = {"VerifyWaitSeconds": "1", "VerifyMaxAttempts": "3", "EndpointName": ENDPOINT}
FORGED = "attacker-p3-16xlarge-config"


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters=BASE) as running:
        create_endpoint(running, instances=1)
        running.client("sagemaker").create_endpoint_config(
            EndpointConfigName=FORGED,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": f"{ENDPOINT}-model",
                    "InitialInstanceCount": 8,
                    "InstanceType": "ml.p3.16xlarge",
                }
            ],
        )
        yield running


def deployment_regression(**detail: Any) -> dict[str, Any]:
    return router_event("latency_regression_deployment_no_history.json", **detail)


def track(cloud: LocalCloud, config: str, event_id: str) -> None:
    """What EndpointTrackerFunction records when SageMaker reports the endpoint InService."""
    detail = {
        "EndpointName": ENDPOINT,
        "EndpointConfigName": config,
        "EndpointStatus": "IN_SERVICE",
        "ProductionVariants": [{"DesiredWeight": 1.0, "DesiredInstanceCount": 1.0}],
        "event_id": event_id,
    }
    cloud.put_event("aws.sagemaker", "SageMaker Endpoint State Change", detail)


def test_forged_previous_config_without_tracked_history_only_notifies(cloud: LocalCloud) -> None:
    result = route(cloud, deployment_regression(previous_endpoint_config=FORGED))
    assert (result["status"], result["action"]) == ("notified", "rollback")
    assert "no previous endpoint config" in result["reason"]
    assert all_executions(cloud) == []
    config = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    assert config == f"{ENDPOINT}-config-v1"


def test_forged_previous_config_is_ignored_and_the_tracked_history_is_used(cloud: LocalCloud) -> None:
    sm = cloud.client("sagemaker")
    v1 = f"{ENDPOINT}-config-v1"
    track(cloud, v1, "1")
    described = sm.describe_endpoint_config(EndpointConfigName=v1)
    sm.create_endpoint_config(
        EndpointConfigName=f"{ENDPOINT}-config-v2", ProductionVariants=described["ProductionVariants"]
    )
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=f"{ENDPOINT}-config-v2")
    track(cloud, f"{ENDPOINT}-config-v2", "2")
    result = route(cloud, deployment_regression(previous_endpoint_config=FORGED))
    assert (result["status"], result["action"]) == ("started", "rollback")
    execution = cloud.wait_for_execution(result["execution_arn"])
    assert json.loads(execution["input"])["target_config"] == v1
    assert execution["status"] == "SUCCEEDED"
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == v1


@pytest.mark.parametrize(
    ("event_name", "endpoint"),
    [
        ("latency_regression_load.json", "someone-elses-endpoint"),
        ("latency_regression_load.json", "Demo-LLM-Endpoint"),
        ("drift_detected.json", "Demo-LLM-Endpoint"),
        ("endpoint_idle.json", "DEMO-LLM-ENDPOINT"),
        ("latency_regression_deployment_no_history.json", "demo-llm-endpoint-2"),
    ],
)
def test_signal_for_an_unwatched_endpoint_starts_nothing(cloud: LocalCloud, event_name: str, endpoint: str) -> None:
    result = route(cloud, router_event(event_name, endpoint_name=endpoint))
    assert result["status"] == "unwatched"
    assert endpoint in result["reason"]
    assert all_executions(cloud) == []
    assert instance_count(cloud) == 1
    assert audit(cloud) == [] and audit(cloud, endpoint) == []  # no items keyed by a name we do not own


def test_governance_finding_for_an_unwatched_endpoint_may_notify_but_never_start_a_workflow() -> None:
    """Governance covers the whole account, so its findings notify for any endpoint; but even a policy
    that maps them to a workflow starts nothing on an endpoint the stack does not watch."""
    rules = [{"signal": "governance-finding", "action": "scale-out"}]
    with LocalCloud(parameters={**BASE, "RemediationPolicy": json.dumps({"version": 1, "rules": rules})}) as cloud:
        create_endpoint(cloud, instances=1)
        unwatched = route(cloud, router_event("governance_finding.json", endpoint_name="Demo-LLM-Endpoint"))
        assert unwatched["status"] == "unwatched"
        assert all_executions(cloud) == []
        watched = route(cloud, router_event("governance_finding.json", endpoint_name=ENDPOINT))
        assert (watched["status"], watched["action"]) == ("started", "scale-out")  # the control: it could act


def test_governance_finding_for_an_unwatched_endpoint_notifies(cloud: LocalCloud) -> None:
    result = route(cloud, router_event("governance_finding.json", endpoint_name="team-llm"))
    assert (result["status"], result["action"]) == ("notified", "notify")
    assert all_executions(cloud) == []


@pytest.mark.parametrize("detail_type", [["Latency Regression Detected"], {"Latency Regression Detected": 1}])
def test_list_or_dict_detail_type_is_a_typed_rejection(cloud: LocalCloud, detail_type: Any) -> None:
    event = router_event("latency_regression_load.json")
    event["detail-type"] = detail_type
    record = cloud.invoke("AlarmRouterFunction", event)
    assert record.ok, record.logs
    assert (record.result["status"], record.result["error"]) == ("rejected", "InvalidEventError")
    assert all_executions(cloud) == []

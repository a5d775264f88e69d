"""The deploy workflow end to end in the local cloud (real ASL): an approved package reaches the endpoint
with blue/green canary guardrails, and an alarm firing during the shift leaves it on its previous config.

Where moto needs help: UpdateEndpoint is the local cloud's (moto 5.2 lacks it); it records the
DeploymentConfig and, when an alarm of its AutoRollbackConfiguration is in ALARM, ends InService on the
previous config as SageMaker's automatic rollback does. Traffic shifting itself is not simulated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from llmops_sentinel.adapters.dynamodb import audit_key
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint
from tests.conftest import aws_event
from tests.integration.remediation_helpers import ENDPOINT, route

PARAMS = {
    "VerifyWaitSeconds": "1",
    "EndpointName": ENDPOINT,
    "ModelExecutionRoleName": f"{ENDPOINT}-execution",  # the role create_endpoint's model runs as
}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters=PARAMS) as running:
        yield running


def approved_package(cloud: LocalCloud, status: str = "Approved") -> str:
    sm = cloud.client("sagemaker")
    groups = [g["ModelPackageGroupName"] for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]]
    if "demo-llm" not in groups:
        sm.create_model_package_group(ModelPackageGroupName="demo-llm")
    arn: str = sm.create_model_package(
        ModelPackageGroupName="demo-llm",
        ModelApprovalStatus=status,
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:2"}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    return arn


def deploy(cloud: LocalCloud, package_arn: str, occurred: str = "2026-12-03T06:00:00.000000Z") -> dict[str, Any]:
    """Start the deploy machine with the input the router builds, and wait for it."""
    table = cloud.stack.ref("SentinelTable")
    payload = {
        "endpoint_name": ENDPOINT,
        "variant_name": "AllTraffic",
        "model_package_arn": package_arn,
        "model_package_group": "demo-llm",
        "deployment": {"strategy": "canary", "canary_percent": 10, "wait_interval_seconds": 600},
        "require_approval": False,
        "approval_timeout_seconds": 60,
        "signal": {"kind": "model-approved", "summary": f"{package_arn} approved"},
        "audit": {"table": table, **audit_key(ENDPOINT, occurred, "d-" + occurred[11:19].replace(":", ""))},
    }
    arn = cloud.client("stepfunctions").start_execution(
        stateMachineArn=cloud.stack.ref("DeployStateMachine"),
        name=f"deploy-{occurred[11:19].replace(':', '')}",
        input=json.dumps(payload),
    )["executionArn"]
    return cloud.wait_for_execution(arn)


def audit_status(cloud: LocalCloud, occurred: str = "2026-12-03T06:00:00.000000Z") -> str:
    """The status the workflow recorded on the decision's audit item (the router writes the rest of it)."""
    key = audit_key(ENDPOINT, occurred, "d-" + occurred[11:19].replace(":", ""))
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.stack.ref("SentinelTable"), Key={k: {"S": v} for k, v in key.items()}
    )["Item"]
    return str(item["status"]["S"])


def endpoint(cloud: LocalCloud) -> dict[str, Any]:
    described: dict[str, Any] = cloud.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    return described


def test_an_approved_package_is_deployed_with_canary_guardrails(cloud: LocalCloud) -> None:
    create_endpoint(cloud)
    package = approved_package(cloud)
    execution = deploy(cloud, package)
    assert execution["status"] == "SUCCEEDED", cloud.describe_history(execution["executionArn"], 12)
    output = json.loads(execution["output"])
    assert (output["outcome"], output["from_config"]) == ("deployed", f"{ENDPOINT}-config-v1")
    assert endpoint(cloud)["EndpointConfigName"] == output["to_config"] != f"{ENDPOINT}-config-v1"
    sm = cloud.client("sagemaker")
    variant = sm.describe_endpoint_config(EndpointConfigName=output["to_config"])["ProductionVariants"][0]
    assert sm.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"] == {"ModelPackageName": package}
    from moto.sagemaker.models import sagemaker_backends

    recorded = sagemaker_backends["123456789012"]["us-east-1"].endpoints[ENDPOINT].last_deployment_config
    routing = recorded["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert (routing["Type"], routing["CanarySize"]["Value"]) == ("CANARY", 10)
    alarms = {a["AlarmName"] for a in recorded["AutoRollbackConfiguration"]["Alarms"]}
    # The fleet tracker's alarms for the deployed (first) variant, named per endpoint in code.
    assert alarms == {f"sentinel-{ENDPOINT}-p99-latency", f"sentinel-{ENDPOINT}-latency-anomaly"}
    assert audit_status(cloud) == "SUCCEEDED"
    # The same package again: nothing to do, recorded as such.
    again = deploy(cloud, package, occurred="2026-12-03T07:00:00.000000Z")
    assert json.loads(again["output"])["outcome"] == "unchanged"


def test_an_alarm_during_the_shift_rolls_the_endpoint_back(cloud: LocalCloud) -> None:
    create_endpoint(cloud)
    package = approved_package(cloud)
    cloud.client("cloudwatch").set_alarm_state(
        AlarmName=f"sentinel-{ENDPOINT}-p99-latency", StateValue="ALARM", StateReason="canary is slow"
    )
    execution = deploy(cloud, package)
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "DeploymentRolledBackError"
    assert endpoint(cloud)["EndpointConfigName"] == f"{ENDPOINT}-config-v1"
    assert audit_status(cloud) == "ROLLED_BACK"


def test_a_package_not_approved_in_the_registry_is_refused(cloud: LocalCloud) -> None:
    create_endpoint(cloud)
    pending = approved_package(cloud, status="PendingManualApproval")
    execution = deploy(cloud, pending)
    assert json.loads(execution["output"])["outcome"] == "refused"
    assert endpoint(cloud)["EndpointConfigName"] == f"{ENDPOINT}-config-v1"
    assert audit_status(cloud) == "REFUSED"


def approval_event(package_arn: str, group: str = "demo-llm", status: str = "Approved") -> dict[str, Any]:
    """AWS's documented model package state change (duplicate ``source`` key and all), for this package."""
    event: dict[str, Any] = aws_event("sagemaker_model_package_state_change__awsdocs.json")
    event["detail"].update(
        {"ModelPackageGroupName": group, "ModelPackageArn": package_arn, "ModelApprovalStatus": status}
    )
    event["resources"] = [package_arn]
    return event


def test_the_registry_approval_event_starts_the_deploy_through_the_router(cloud: LocalCloud) -> None:
    create_endpoint(cloud)
    package = approved_package(cloud)
    event = approval_event(package)
    assert event["source"] == ["aws.sagemaker"]  # the documented example's quirk, kept
    started = route(cloud, event)
    assert (started["status"], started["action"], started["endpoint_name"]) == ("started", "deploy", ENDPOINT)
    execution = cloud.wait_for_execution(started["execution_arn"])
    assert execution["status"] == "SUCCEEDED", cloud.describe_history(started["execution_arn"], 12)
    assert json.loads(execution["output"])["outcome"] == "deployed"
    assert endpoint(cloud)["EndpointConfigName"] != f"{ENDPOINT}-config-v1"
    assert route(cloud, event)["status"] == "duplicate"  # a redelivery starts nothing


def test_approval_events_the_stack_does_not_own_start_nothing(cloud: LocalCloud) -> None:
    create_endpoint(cloud)
    other = approve_elsewhere(cloud)
    assert route(cloud, approval_event(other, group="someone-elses"))["status"] == "ignored"
    # A forged event claims the watched group for a package that is not Approved in the registry.
    pending = approved_package(cloud, status="PendingManualApproval")
    forged = route(cloud, approval_event(pending))
    assert forged["status"] == "started"  # the event passes the router's checks ...
    execution = cloud.wait_for_execution(forged["execution_arn"])
    assert json.loads(execution["output"])["outcome"] == "refused"  # ... and the fresh registry read refuses it
    assert endpoint(cloud)["EndpointConfigName"] == f"{ENDPOINT}-config-v1"
    rejected = route(cloud, approval_event(pending, status="Rejected"))
    assert rejected["status"] == "ignored"


def approve_elsewhere(cloud: LocalCloud) -> str:
    sm = cloud.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="someone-elses")
    arn: str = sm.create_model_package(
        ModelPackageGroupName="someone-elses",
        ModelApprovalStatus="Approved",
        InferenceSpecification={
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/other:1"}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    )["ModelPackageArn"]
    return arn

"""The deploy workflow's prepare step against moto's SageMaker: fresh reads, idempotent writes, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from llmops_sentinel.adapters.model_deployment import DeploymentTargetNotFoundError, ModelDeployer
from llmops_sentinel.domain.remediation.deployment import AlreadyDeployedError, DeploymentRefusedError
from llmops_sentinel.services.deployment import PlannerSettings, PrepareRequest, prepare_deployment

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sm-exec"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/llm:1"


@pytest.fixture
def sm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("sagemaker", region_name=REGION)
        client.create_model(ModelName="llm-v1", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": IMAGE},
                            EnableNetworkIsolation=True)  # fmt: skip
        client.create_endpoint_config(
            EndpointConfigName="llm-config-v1",
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "llm-v1", "InitialInstanceCount": 2,
                                 "InstanceType": "ml.g4dn.2xlarge"}],
        )  # fmt: skip
        client.create_endpoint(EndpointName="llm", EndpointConfigName="llm-config-v1")
        client.create_model_package_group(ModelPackageGroupName="llm-group")
        yield client


def register(sm: Any, status: str, group: str = "llm-group") -> str:
    if group != "llm-group":
        sm.create_model_package_group(ModelPackageGroupName=group)
    arn: str = sm.create_model_package(
        ModelPackageGroupName=group,
        ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{"Image": IMAGE}], "SupportedContentTypes": ["application/json"],
                                "SupportedResponseMIMETypes": ["application/json"]},
    )["ModelPackageArn"]  # fmt: skip
    return arn


def request(arn: str, group: str = "llm-group") -> PrepareRequest:
    return PrepareRequest(endpoint_name="llm", model_package_arn=arn, model_package_group=group)


def test_prepare_creates_the_model_and_config_once(sm: Any) -> None:
    arn = register(sm, "Approved")
    settings = PlannerSettings(rollback_alarms=("stack-p99",), verify_wait_seconds=30)
    first = prepare_deployment(request(arn), settings, ModelDeployer(sm))
    assert first.before_config == "llm-config-v1" and len(first.created_resources) == 2
    model, source = (sm.describe_model(ModelName=name) for name in (first.model_name, "llm-v1"))
    # Same role and isolation as the model it replaces (moto 5.2 stores EnableNetworkIsolation as False
    # whatever is sent; the unit tests check the request carries True).
    assert (model["ExecutionRoleArn"], model["EnableNetworkIsolation"]) == (ROLE, source["EnableNetworkIsolation"])
    assert model["PrimaryContainer"] == {"ModelPackageName": arn}
    config = sm.describe_endpoint_config(EndpointConfigName=first.target_config)
    assert config["ProductionVariants"][0]["ModelName"] == first.model_name
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2
    assert first.deployment_config["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "stack-p99"}]}
    assert first.verify_max_attempts == (3600 + 900) // 30
    # A retried step (Step Functions retries the task) finds what the first attempt made.
    again = prepare_deployment(request(arn), settings, ModelDeployer(sm))
    assert (again.target_config, again.created_resources) == (first.target_config, [])


def test_the_event_is_not_trusted_the_registry_is(sm: Any) -> None:
    pending = register(sm, "PendingManualApproval")
    with pytest.raises(DeploymentRefusedError, match="PendingManualApproval"):
        prepare_deployment(request(pending), PlannerSettings(), ModelDeployer(sm))
    foreign = register(sm, "Approved", group="other-team")
    with pytest.raises(DeploymentRefusedError, match="other-team"):
        prepare_deployment(request(foreign), PlannerSettings(), ModelDeployer(sm))
    missing = "arn:aws:sagemaker:us-east-1:123456789012:model-package/llm-group/99"
    with pytest.raises(DeploymentTargetNotFoundError):
        prepare_deployment(request(missing), PlannerSettings(), ModelDeployer(sm))
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["llm-v1"]  # nothing was created


def test_a_package_already_served_is_not_deployed_twice(sm: Any) -> None:
    arn = register(sm, "Approved")
    sm.create_model(ModelName="llm-v2", ExecutionRoleArn=ROLE, PrimaryContainer={"ModelPackageName": arn})
    sm.create_endpoint_config(
        EndpointConfigName="llm-config-v2",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "llm-v2", "InitialInstanceCount": 1,
                             "InstanceType": "ml.g4dn.2xlarge"}],
    )  # fmt: skip
    sm.delete_endpoint(EndpointName="llm")
    sm.create_endpoint(EndpointName="llm", EndpointConfigName="llm-config-v2")
    with pytest.raises(AlreadyDeployedError):
        prepare_deployment(request(arn), PlannerSettings(), ModelDeployer(sm))

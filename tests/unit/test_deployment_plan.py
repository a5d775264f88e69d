"""Deploying an approved model package: the pure plan and its refusals."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from llmops_sentinel.domain.remediation.deployment import (
    AlreadyDeployedError,
    CurrentModel,
    DeploymentRefusedError,
    DeploymentSettings,
    ModelPackage,
    plan_deployment,
    resource_name,
)

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/demo-llm/7"
CONFIG: dict[str, Any] = {
    "EndpointConfigName": "demo-llm-endpoint-config-v1",
    "ProductionVariants": [
        {
            "VariantName": "AllTraffic",
            "ModelName": "demo-llm-v1",
            "InitialInstanceCount": 2,
            "InstanceType": "ml.g5.2xlarge",
            "InitialVariantWeight": 1.0,
            "CurrentInstanceCount": 2,  # DescribeEndpoint-only fields never reach CreateEndpointConfig
        }
    ],
    "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 20, "KmsKeyId": "key"},
    "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/abc",
}
CURRENT = CurrentModel(
    ModelName="demo-llm-v1",
    ExecutionRoleArn="arn:aws:iam::111122223333:role/sm-exec",
    VpcConfig={"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
    EnableNetworkIsolation=True,
)


def package(**overrides: Any) -> ModelPackage:
    base = {
        "ModelPackageArn": ARN,
        "ModelPackageGroupName": "demo-llm",
        "ModelPackageVersion": 7,
        "ModelApprovalStatus": "Approved",
        "ModelPackageStatus": "Completed",
    }
    return ModelPackage.model_validate({**base, **overrides})


def plan(**overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "endpoint_name": "demo-llm-endpoint",
        "variant_name": "AllTraffic",
        "expected_group": "demo-llm",
        "package": package(),
        "endpoint_config": CONFIG,
        "current_model": CURRENT,
        "settings": DeploymentSettings(),
        "rollback_alarms": ("stack-p99", "stack-errors"),
    }
    return plan_deployment(**{**kwargs, **overrides})


def test_plan_keeps_the_governance_posture_and_swaps_only_the_model() -> None:
    p = plan()
    assert p.create_model["ExecutionRoleArn"] == CURRENT.execution_role_arn
    assert p.create_model["VpcConfig"] == CURRENT.vpc_config
    assert p.create_model["EnableNetworkIsolation"] is True
    assert p.create_model["PrimaryContainer"] == {"ModelPackageName": ARN}
    (variant,) = p.create_endpoint_config["ProductionVariants"]
    assert variant["ModelName"] == p.model_name != "demo-llm-v1"
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.g5.2xlarge", 2)
    assert "CurrentInstanceCount" not in variant
    assert p.create_endpoint_config["KmsKeyId"] == CONFIG["KmsKeyId"]
    assert p.create_endpoint_config["DataCaptureConfig"] == CONFIG["DataCaptureConfig"]
    assert p.before_config == "demo-llm-endpoint-config-v1"


def test_default_deployment_is_a_canary_with_auto_rollback_on_the_stack_alarms() -> None:
    config = plan().deployment_config
    routing = config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {
        "Type": "CANARY",
        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        "WaitIntervalInSeconds": 600,
    }
    assert config["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "stack-p99"}, {"AlarmName": "stack-errors"}]
    }
    linear = plan(settings=DeploymentSettings(strategy="linear", linear_step_percent=20, wait_interval_seconds=300))
    step = linear.deployment_config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert step["Type"] == "LINEAR" and step["LinearStepSize"]["Value"] == 20


def test_names_are_deterministic_and_valid() -> None:
    assert plan().model_name == plan().model_name
    assert plan().endpoint_config_name != plan().model_name
    long = resource_name("x" * 80, "v12", digest_of="a")
    assert len(long) <= 63 and long[0].isalnum() and long[-1].isalnum()
    assert resource_name("a_b.c", "v1", digest_of="z").startswith("a-b-c-v1-")
    other = plan(package=package(ModelPackageArn=ARN.replace("/7", "/8"), ModelPackageVersion=8))
    assert other.model_name != plan().model_name


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"package": package(ModelApprovalStatus="PendingManualApproval")}, DeploymentRefusedError),
        ({"package": package(ModelApprovalStatus="Rejected")}, DeploymentRefusedError),
        ({"package": package(ModelPackageGroupName="someone-elses-group")}, DeploymentRefusedError),
        ({"package": package(ModelPackageStatus="Failed")}, DeploymentRefusedError),
        ({"expected_group": ""}, DeploymentRefusedError),
        ({"variant_name": "Shadow"}, DeploymentRefusedError),
        ({"current_model": CURRENT.model_copy(update={"package_arns": (ARN,)})}, AlreadyDeployedError),
        ({"allowed_execution_role": "arn:aws:iam::111122223333:role/other"}, DeploymentRefusedError),
    ],
)
def test_refusals(overrides: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        plan(**overrides)


def test_the_allowed_role_passes() -> None:
    assert (
        plan(allowed_execution_role=CURRENT.execution_role_arn).create_model["ExecutionRoleArn"]
        == CURRENT.execution_role_arn
    )


def test_serverless_endpoints_are_refused() -> None:
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "ServerlessConfig": {"MemorySizeInMB": 2048}}
    serverless = {**CONFIG, "ProductionVariants": [variant]}
    with pytest.raises(DeploymentRefusedError, match="serverless"):
        plan(endpoint_config=serverless)


def test_settings_follow_aws_ranges_and_cover_their_waits() -> None:
    for bad in ({"canary_percent": 0}, {"canary_percent": 60}, {"wait_interval_seconds": 3601},
                {"maximum_execution_timeout_seconds": 599}, {"termination_wait_seconds": -1}, {"nope": 1},
                {"wait_interval_seconds": 3600, "maximum_execution_timeout_seconds": 3600}):  # fmt: skip
        with pytest.raises(ValidationError):
            DeploymentSettings.model_validate(bad)
    linear = {"strategy": "linear", "linear_step_percent": 10, "wait_interval_seconds": 600}
    with pytest.raises(ValidationError, match="must exceed"):
        DeploymentSettings.model_validate({**linear, "maximum_execution_timeout_seconds": 6000})
    DeploymentSettings.model_validate({**linear, "maximum_execution_timeout_seconds": 7000})


def test_at_most_ten_distinct_rollback_alarms() -> None:
    alarms = (*(f"a{i}" for i in range(12)), "a0", "")
    listed = plan(rollback_alarms=alarms).deployment_config["AutoRollbackConfiguration"]["Alarms"]
    assert [a["AlarmName"] for a in listed] == [f"a{i}" for i in range(10)]


def test_current_model_reads_packages_from_describe_model() -> None:
    described = {"ModelName": "m", "ExecutionRoleArn": "r", "PrimaryContainer": {"ModelPackageName": ARN}}
    assert CurrentModel.from_describe(described).package_arns == (ARN,)
    image = {"ModelName": "m", "ExecutionRoleArn": "r", "Containers": [{"Image": "x"}]}
    assert CurrentModel.from_describe(image).package_arns == ()


def test_new_model_and_config_carry_the_stack_tag_the_planners_iam_requires() -> None:
    from llmops_sentinel.domain.fleet.policy import STACK_TAG

    tagged = plan(stack_name="sentinel-prod")
    for request in (tagged.create_model, tagged.create_endpoint_config):
        tags = {t["Key"]: t["Value"] for t in request["Tags"]}
        assert tags[STACK_TAG] == "sentinel-prod" and tags["sentinel:endpoint"] == "demo-llm-endpoint"
    untagged = plan()
    assert all(t["Key"] != STACK_TAG for t in untagged.create_model["Tags"] + untagged.create_endpoint_config["Tags"])
    # the names do not depend on the tag: a redelivered step finds what the first attempt created
    assert (tagged.model_name, tagged.endpoint_config_name) == (untagged.model_name, untagged.endpoint_config_name)

"""Deploying an approved model package: the plan, pure.

The retrain workflow ends with a model package in the registry (PendingManualApproval unless
auto-approved). When a person or a pipeline approves it, SageMaker emits a ``SageMaker Model Package
State Change`` event; the deploy workflow then moves the watched endpoint onto the new model with
SageMaker's deployment guardrails: blue/green with canary or linear traffic shifting, and automatic
rollback when one of the stack's alarms fires while traffic shifts.

Nothing here trusts the event. The plan is made from fresh reads (DescribeModelPackage,
DescribeEndpoint, DescribeEndpointConfig, DescribeModel) done by the adapter:

- the package must be ``Approved`` and in the model package group configured for the endpoint;
- the new model keeps the current model's execution role, VPC and network isolation (the same
  governance posture as what it replaces) and runs the package's containers (``ModelPackageName``);
- the new endpoint config is the current one with the target variant's model swapped (instance type,
  count, data capture, KMS key unchanged), under a deterministic name, so a retried step finds what
  the first attempt created instead of making a second copy;
- the deployment config is built from the validated settings below and AWS's documented ranges
  (``BlueGreenUpdatePolicy``: MaximumExecutionTimeoutInSeconds 600-28800, TerminationWaitInSeconds
  0-3600; ``TrafficRoutingConfig``: WaitIntervalInSeconds 0-3600; at most 10 rollback alarms).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_sentinel.domain.fleet.tags import STACK_TAG
from llmops_sentinel.errors import BadInputError

#: SageMaker resource names: 1-63 characters, ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``.
_NAME_BAD = re.compile(r"[^a-zA-Z0-9-]+")
MAX_ROLLBACK_ALARMS = 10


class DeploymentRefusedError(BadInputError):
    """The approved package cannot be deployed on this endpoint (not approved, wrong group, no such variant)."""


class AlreadyDeployedError(BadInputError):
    """The endpoint already serves this model package: nothing to do."""


class DeploymentSettings(BaseModel):
    """How an approved model reaches traffic. Validated at load time, like every policy setting."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    strategy: Literal["canary", "linear", "all-at-once"] = "canary"
    canary_percent: int = Field(default=10, ge=1, le=50, description="Share of capacity that takes traffic first.")
    linear_step_percent: int = Field(default=25, ge=10, le=50, description="Share of capacity moved per step.")
    wait_interval_seconds: int = Field(default=600, ge=0, le=3600, description="Bake time between traffic shifts.")
    termination_wait_seconds: int = Field(default=300, ge=0, le=3600, description="Old fleet kept after the shift.")
    maximum_execution_timeout_seconds: int = Field(default=3600, ge=600, le=28800)

    @model_validator(mode="after")
    def _timeout_covers_the_waits(self) -> Self:
        steps = {"canary": 1, "linear": -(-100 // self.linear_step_percent), "all-at-once": 0}[self.strategy]
        total = steps * self.wait_interval_seconds + self.termination_wait_seconds
        if self.maximum_execution_timeout_seconds <= total:
            raise ValueError(
                f"maximum_execution_timeout_seconds ({self.maximum_execution_timeout_seconds}) must exceed the "
                f"waits it covers ({total} s: {steps} x wait_interval_seconds + termination_wait_seconds)"
            )
        return self

    def deployment_config(self, rollback_alarms: tuple[str, ...]) -> dict[str, Any]:
        """The ``DeploymentConfig`` of ``UpdateEndpoint``."""
        routing: dict[str, Any] = {"WaitIntervalInSeconds": self.wait_interval_seconds}
        if self.strategy == "canary":
            routing |= {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": self.canary_percent}}
        elif self.strategy == "linear":
            routing |= {
                "Type": "LINEAR",
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": self.linear_step_percent},
            }
        else:
            routing = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        config: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": self.termination_wait_seconds,
                "MaximumExecutionTimeoutInSeconds": self.maximum_execution_timeout_seconds,
            }
        }
        alarms = tuple(dict.fromkeys(a for a in rollback_alarms if a))[:MAX_ROLLBACK_ALARMS]
        if alarms:
            config["AutoRollbackConfiguration"] = {"Alarms": [{"AlarmName": a} for a in alarms]}
        return config


class ModelPackage(BaseModel):
    """What DescribeModelPackage says about a package (the fields the plan uses)."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, populate_by_name=True)

    arn: str = Field(alias="ModelPackageArn")
    group: str = Field(default="", alias="ModelPackageGroupName")
    version: int = Field(default=0, alias="ModelPackageVersion")
    approval_status: str = Field(default="", alias="ModelApprovalStatus")
    status: str = Field(default="", alias="ModelPackageStatus")


class CurrentModel(BaseModel):
    """What DescribeModel says about the model the target variant serves today."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, populate_by_name=True)

    name: str = Field(alias="ModelName")
    execution_role_arn: str = Field(alias="ExecutionRoleArn")
    vpc_config: dict[str, Any] | None = Field(default=None, alias="VpcConfig")
    network_isolation: bool = Field(default=False, alias="EnableNetworkIsolation")
    package_arns: tuple[str, ...] = ()
    """The model packages the model's containers run (empty when it was built from an image)."""

    @classmethod
    def from_describe(cls, described: dict[str, Any]) -> CurrentModel:
        containers = [described.get("PrimaryContainer") or {}, *(described.get("Containers") or [])]
        packages = tuple(
            str(c["ModelPackageName"]) for c in containers if isinstance(c, dict) and c.get("ModelPackageName")
        )
        return cls.model_validate({**described, "package_arns": packages})


class DeploymentPlan(BaseModel):
    """The three writes of a deployment, in order: CreateModel, CreateEndpointConfig, UpdateEndpoint."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    endpoint_name: str
    variant_name: str
    package_arn: str
    before_config: str
    model_name: str
    endpoint_config_name: str
    create_model: dict[str, Any]
    create_endpoint_config: dict[str, Any]
    deployment_config: dict[str, Any]


def resource_name(*parts: str, digest_of: str) -> str:
    """A valid, deterministic SageMaker name from ``parts`` plus a short digest of ``digest_of``."""
    digest = hashlib.sha256(digest_of.encode()).hexdigest()[:10]
    stem = "-".join(_NAME_BAD.sub("-", p).strip("-") for p in parts if p)
    stem = re.sub("-{2,}", "-", stem)[: 63 - len(digest) - 1].strip("-")
    return f"{stem}-{digest}" if stem else f"m-{digest}"


def plan_deployment(
    *,
    endpoint_name: str,
    variant_name: str,
    expected_group: str,
    package: ModelPackage,
    endpoint_config: dict[str, Any],
    current_model: CurrentModel,
    settings: DeploymentSettings,
    rollback_alarms: tuple[str, ...],
    allowed_execution_role: str = "",
    stack_name: str = "",
) -> DeploymentPlan:
    """Check that ``package`` may replace the variant's model and plan the writes (raises the errors above).

    ``allowed_execution_role``: the one role the stack may pass to SageMaker (iam:PassRole is scoped to
    it); a current model running under another role is refused with a clear reason, not an AccessDenied.

    ``stack_name``: tagged ``sentinel:stack`` on the new model and config; the planner's IAM allows the
    creates only with that request tag, and the deploy workflow moves endpoints only onto configs carrying it.
    """
    if allowed_execution_role and current_model.execution_role_arn != allowed_execution_role:
        raise DeploymentRefusedError(
            f"{endpoint_name}'s model runs as {current_model.execution_role_arn}; this stack may pass only "
            f"{allowed_execution_role} (template parameter ModelExecutionRoleName)"
        )
    if not expected_group:
        raise DeploymentRefusedError(f"no model package group is configured for {endpoint_name}")
    if package.group != expected_group:
        raise DeploymentRefusedError(
            f"model package {package.arn} is in group {package.group!r}, not {expected_group!r} ({endpoint_name})"
        )
    if package.approval_status != "Approved":
        raise DeploymentRefusedError(f"model package {package.arn} is {package.approval_status or 'not approved'}")
    if package.status and package.status != "Completed":
        raise DeploymentRefusedError(f"model package {package.arn} is {package.status}, not Completed")
    if package.arn in current_model.package_arns:
        raise AlreadyDeployedError(f"{endpoint_name}/{variant_name} already serves {package.arn}")
    variants = endpoint_config.get("ProductionVariants")
    if not isinstance(variants, list) or not any(
        isinstance(v, dict) and v.get("VariantName") == variant_name for v in variants
    ):
        raise DeploymentRefusedError(f"endpoint config of {endpoint_name} has no variant {variant_name!r}")
    if any(isinstance(v, dict) and v.get("ServerlessConfig") for v in variants):
        raise DeploymentRefusedError(f"{endpoint_name} has serverless variants: deployment guardrails do not apply")

    before = str(endpoint_config["EndpointConfigName"])
    model_name = resource_name(endpoint_name, f"v{package.version}", digest_of=f"{package.arn}|{before}")
    config_name = resource_name(endpoint_name, f"v{package.version}", digest_of=f"{package.arn}|{before}|config")
    stack_tags = [{"Key": STACK_TAG, "Value": stack_name}] if stack_name else []
    create_model: dict[str, Any] = {
        "ModelName": model_name,
        "ExecutionRoleArn": current_model.execution_role_arn,
        "PrimaryContainer": {"ModelPackageName": package.arn},
        "EnableNetworkIsolation": current_model.network_isolation,
        "Tags": [
            {"Key": "sentinel:endpoint", "Value": endpoint_name},
            {"Key": "sentinel:model-package", "Value": package.arn[-256:]},
            *stack_tags,
        ],
    }
    if current_model.vpc_config:
        create_model["VpcConfig"] = current_model.vpc_config
    new_variants = [
        {**v, "ModelName": model_name} if v.get("VariantName") == variant_name else dict(v) for v in variants
    ]
    create_config: dict[str, Any] = {
        "EndpointConfigName": config_name,
        "ProductionVariants": [_writable_variant(v) for v in new_variants],
        "Tags": [{"Key": "sentinel:endpoint", "Value": endpoint_name}, *stack_tags],
    }
    for key in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig", "ExplainerConfig"):
        if endpoint_config.get(key):
            create_config[key] = endpoint_config[key]
    return DeploymentPlan(
        endpoint_name=endpoint_name,
        variant_name=variant_name,
        package_arn=package.arn,
        before_config=before,
        model_name=model_name,
        endpoint_config_name=config_name,
        create_model=create_model,
        create_endpoint_config=create_config,
        deployment_config=settings.deployment_config(rollback_alarms),
    )


#: DescribeEndpointConfig returns these per variant; CreateEndpointConfig accepts them back.
_VARIANT_WRITABLE = (
    "VariantName",
    "ModelName",
    "InitialInstanceCount",
    "InstanceType",
    "InitialVariantWeight",
    "AcceleratorType",
    "CoreDumpConfig",
    "VolumeSizeInGB",
    "ModelDataDownloadTimeoutInSeconds",
    "ContainerStartupHealthCheckTimeoutInSeconds",
    "EnableSSMAccess",
    "ManagedInstanceScaling",
    "RoutingConfig",
    "InferenceAmiVersion",
)


def _writable_variant(variant: dict[str, Any]) -> dict[str, Any]:
    return {k: variant[k] for k in _VARIANT_WRITABLE if k in variant and variant[k] is not None}

"""The deploy workflow's prepare step: fresh reads, the plan, the two idempotent writes."""

from __future__ import annotations

import math
import os

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.model_deployment import ModelDeployer
from llmops_sentinel.domain.remediation.deployment import DeploymentRefusedError, DeploymentSettings, plan_deployment
from llmops_sentinel.errors import ConfigError, EndpointNotInServiceError


class PlannerSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    model_config = ConfigDict(defer_build=True)

    rollback_alarms: tuple[str, ...] = ()
    """The stack's alarms that roll a deployment back while traffic shifts (SageMaker allows 10). The
    fleet tracker names them per endpoint, so an entry may hold ``{endpoint}``: replaced per deployment
    by the deployed variant's stem (:func:`rollback_alarms_for`)."""
    verify_wait_seconds: int = Field(default=30, ge=1)
    model_execution_role_arn: str = ""
    """The role new models run as: the current model's, and the only one iam:PassRole allows."""
    stack_name: str = ""
    """Tagged sentinel:stack on what the planner creates (its IAM allows the creates only with that tag)."""

    @classmethod
    def from_env(cls) -> PlannerSettings:
        alarms = tuple(a.strip() for a in os.environ.get("SENTINEL_DEPLOY_ROLLBACK_ALARMS", "").split(",") if a.strip())
        try:
            wait = int(os.environ.get("SENTINEL_VERIFY_WAIT_SECONDS", "30"))
        except ValueError as exc:
            raise ConfigError(f"SENTINEL_VERIFY_WAIT_SECONDS is not an integer: {exc}") from exc
        role = os.environ.get("SENTINEL_MODEL_EXECUTION_ROLE_ARN", "")
        return cls(
            rollback_alarms=alarms,
            verify_wait_seconds=wait,
            model_execution_role_arn=role,
            stack_name=os.environ.get("SENTINEL_STACK_NAME", ""),
        )


class PrepareRequest(BaseModel):
    """What the deploy state machine passes (the router built it from the policy and a fresh registry read)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    endpoint_name: str = Field(min_length=1, max_length=63)
    variant_name: str = Field(default="AllTraffic", min_length=1, max_length=63)
    model_package_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+")
    model_package_group: str = Field(min_length=1, max_length=63)
    settings: DeploymentSettings = DeploymentSettings()


class PreparedDeployment(BaseModel):
    model_config = ConfigDict(defer_build=True)
    before_config: str
    target_config: str
    model_name: str
    deployment_config: dict[str, object]
    verify_max_attempts: int
    created_resources: list[str]


def rollback_alarms_for(
    templates: tuple[str, ...], endpoint: str, variant: str, variants: list[str]
) -> tuple[str, ...]:
    """``{endpoint}`` in each entry -> the stem the fleet tracker's alarms of ``variant`` carry:
    ``<endpoint>`` for the endpoint's first variant, ``<endpoint>-<variant>`` for the others
    (:func:`~llmops_sentinel.domain.fleet.alarms.alarm_name`). Entries without it are kept as they are."""
    first = variants[0] if variants else variant
    stem = endpoint if variant == first else f"{endpoint}-{variant}"
    return tuple(t.replace("{endpoint}", stem) for t in templates)


def prepare_deployment(
    request: PrepareRequest, settings: PlannerSettings, deployer: ModelDeployer | None = None
) -> PreparedDeployment:
    """The deploy workflow's prepare step (``deployer``: the SageMaker adapter, a fresh one by default)."""
    deployer = deployer or ModelDeployer()
    status, config = deployer.endpoint_config(request.endpoint_name)
    if status != "InService":
        raise EndpointNotInServiceError(f"{request.endpoint_name} is {status}: a deployment starts from InService")
    variant = next(
        (v for v in config.get("ProductionVariants") or [] if v.get("VariantName") == request.variant_name), None
    )
    current = deployer.model(str(variant["ModelName"])) if variant and variant.get("ModelName") else None
    if current is None:
        raise DeploymentRefusedError(f"{request.endpoint_name} has no variant {request.variant_name!r} with a model")
    plan = plan_deployment(
        endpoint_name=request.endpoint_name,
        variant_name=request.variant_name,
        expected_group=request.model_package_group,
        package=deployer.package(request.model_package_arn),
        endpoint_config=config,
        current_model=current,
        settings=request.settings,
        rollback_alarms=rollback_alarms_for(
            settings.rollback_alarms,
            request.endpoint_name,
            request.variant_name,
            [str(v.get("VariantName")) for v in config.get("ProductionVariants") or []],
        ),
        allowed_execution_role=settings.model_execution_role_arn,
        stack_name=settings.stack_name,
    )
    created = [
        name
        for name, made in (
            (plan.model_name, deployer.create_model(plan.create_model)),
            (plan.endpoint_config_name, deployer.create_endpoint_config(plan.create_endpoint_config)),
        )
        if made
    ]
    # Verify for as long as SageMaker may take (its own timeout) plus a margin for the fleet to start.
    budget = request.settings.maximum_execution_timeout_seconds + 900
    return PreparedDeployment(
        before_config=plan.before_config,
        target_config=plan.endpoint_config_name,
        model_name=plan.model_name,
        deployment_config=plan.deployment_config,
        verify_max_attempts=math.ceil(budget / settings.verify_wait_seconds),
        created_resources=created,
    )

"""Inputs of the Lambda task steps the remediation state machines call (scaling planner, model evaluator).

Each is what the state machine's ``Parameters`` build; a value outside the model is the state machine's
(or a forged input's) fault and raises ``InvalidEventError`` through the handler's rejection decorator.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.domain.scaling import VariantCapacity

NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
"""A SageMaker resource name (training job, model package group): what the API accepts."""
GROUP = rf"^(arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{{12}}:model-package-group/)?{NAME}"


class PlanRequest(BaseModel):
    """The scaling planner's input."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    direction: Literal["out", "in"]
    endpoint_name: str
    variant_name: str
    endpoint_status: str
    variants: list[VariantCapacity]
    min_instances: int
    max_instances: int
    step: int = 1
    dry_run: bool = False


class EvaluationRequest(BaseModel):
    """The model evaluator's input."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    endpoint_name: str
    model_package_group: str = Field(pattern=GROUP)
    objective_metric: str = Field(min_length=1, max_length=255)
    objective: Literal["minimize", "maximize"]
    min_improvement: float = Field(default=0.0, allow_inf_nan=False)
    training_job_name: str = Field(pattern=f"^{NAME}")

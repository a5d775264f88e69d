"""Model evaluator: the retrain workflow's decision step (register the candidate or not)."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.adapters.sagemaker import ModelRegistry
from llmops_sentinel.domain.remediation.evaluation import MetricValue, compare
from llmops_sentinel.errors import InvalidEventError

logger = Logger()


class EvaluationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_name: str
    model_package_group: str = Field(min_length=1)
    objective_metric: str
    objective: Literal["minimize", "maximize"]
    min_improvement: float = 0.0
    training_job_name: str


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = EvaluationRequest.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"bad evaluation input: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    registry = ModelRegistry()
    final = registry.final_metrics(request.training_job_name)
    candidate = [MetricValue(metric_name=name, value=value) for name, value in final]
    current = registry.approved_objective(request.model_package_group, request.objective_metric)
    result = compare(
        candidate,
        current,
        request.objective_metric,
        request.objective,
        request.min_improvement,
    )
    logger.info("evaluation", extra={"training_job": request.training_job_name, **result.model_dump()})
    return result.model_dump()

"""Model evaluator: the retrain workflow's decision step (register the candidate or not).

A Step Functions task: bad input raises a typed error (InvalidEventError...) for the state machine.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.adapters.sagemaker import ModelRegistry
from llmops_sentinel.domain.remediation.evaluation import MetricValue, compare
from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.workflow_steps import EvaluationRequest

logger = Logger()


@logger.inject_lambda_context
@rejects_bad_input(logger, mode="raise")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    r = EvaluationRequest.model_validate(event)
    registry = ModelRegistry()
    candidate = [MetricValue(metric_name=n, value=v) for n, v in registry.final_metrics(r.training_job_name)]
    current = registry.approved_objective(r.model_package_group, r.objective_metric)
    result = compare(candidate, current, r.objective_metric, r.objective, r.min_improvement)
    logger.info("evaluation", extra={"training_job": r.training_job_name, **result.model_dump()})
    return result.model_dump()

"""Model evaluator: the retrain workflow's decision step (register the candidate or not).

A Step Functions task: bad input raises a typed error (InvalidEventError...) for the state machine.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.workflow_steps import EvaluationRequest
from llmops_sentinel.services.evaluation import evaluate_candidate

logger = Logger()


@logger.inject_lambda_context
@rejects_bad_input(logger, mode="raise")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = EvaluationRequest.model_validate(event)
    result = evaluate_candidate(request)
    logger.info("evaluation", extra={"training_job": request.training_job_name, **result.model_dump()})
    return result.model_dump()

"""Deployment planner: the deploy workflow's prepare step (fresh reads, plan, new model and endpoint config)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.deployment import PlannerSettings, PrepareRequest, prepare_deployment

logger = Logger()
SETTINGS = PlannerSettings.from_env()


@logger.inject_lambda_context
@rejects_bad_input(logger, mode="raise")  # a Step Functions task: bad input raises InvalidEventError
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    request = PrepareRequest.model_validate(event)
    prepared = prepare_deployment(request, SETTINGS)
    logger.info("deployment prepared", extra=prepared.model_dump())
    return prepared.model_dump()

"""Deployment planner: the deploy workflow's prepare step (fresh reads, plan, new model and endpoint config)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from llmops_sentinel.adapters.model_deployment import ModelDeployer
from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.services.deployment import PlannerSettings, PrepareRequest, prepare_deployment

logger = Logger()
SETTINGS = PlannerSettings.from_env()


@logger.inject_lambda_context
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        request = PrepareRequest.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidEventError(f"bad deployment input: {first['loc']}: {first['msg']}") from exc
    prepared = prepare_deployment(request, SETTINGS, ModelDeployer())
    logger.info("deployment prepared", extra=prepared.model_dump())
    return prepared.model_dump()

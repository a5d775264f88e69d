"""Endpoint tracker: remember each endpoint config an endpoint runs InService with (rollback targets)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.endpoint_history import track_endpoint_state

logger = Logger()


@logger.inject_lambda_context
@rejects_bad_input(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = track_endpoint_state(event)
    logger.info("endpoint config", extra=result)
    return result

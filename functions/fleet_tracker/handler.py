"""Fleet tracker: follow the endpoints this stack watches (CloudTrail, state changes, schedule, deploy time)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.fleet import FleetSettings, invoke

logger = Logger()


@cache
def settings() -> FleetSettings:
    return FleetSettings.from_env()


@logger.inject_lambda_context
@rejects_bad_input(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = invoke(event, settings)
    logger.info("fleet tracker", extra={"status": result.get("status"), "endpoint": result.get("endpoint_name")})
    return result

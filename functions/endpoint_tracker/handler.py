"""Endpoint tracker: remember each endpoint config an endpoint runs InService with (rollback targets)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.adapters.dynamodb import SentinelTable
from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.sagemaker_events import parse_endpoint_state_change

logger = Logger()


@logger.inject_lambda_context
@rejects_bad_input(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    change = parse_endpoint_state_change(event)
    if not change.in_service:
        return {"status": "ignored", "reason": f"endpoint is {change.detail.EndpointStatus}"}
    # SageMaker lowercases names in ARNs but not in events: key by the name as the API reports it.
    recorded = SentinelTable(os.environ["SENTINEL_TABLE_NAME"]).record_config(
        change.detail.EndpointName, change.detail.EndpointConfigName, change.seen_at
    )
    logger.info("endpoint config", extra={"endpoint": change.detail.EndpointName, "recorded": recorded})
    return {
        "status": "recorded" if recorded else "unchanged",
        "endpoint_name": change.detail.EndpointName,
        "endpoint_config": change.detail.EndpointConfigName,
    }

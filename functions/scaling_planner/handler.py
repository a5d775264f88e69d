"""Scaling planner: the decision step of the scaling workflows (bounded target instance count).

A Step Functions task: bad input raises a typed error (InvalidEventError...) for the state machine.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.workflow_steps import PlanRequest
from llmops_sentinel.services.scaling import plan_capacity

logger = Logger()


@logger.inject_lambda_context
@rejects_bad_input(logger, mode="raise")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PlanRequest.model_validate(event)
    plan = plan_capacity(request)
    logger.info("capacity plan", extra={"endpoint": request.endpoint_name, **plan.model_dump()})
    return plan.model_dump()

"""Scaling planner: the decision step of the scaling workflows (bounded target instance count).

A Step Functions task: bad input raises a typed error (InvalidEventError...) for the state machine.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.domain.scaling import ScalingBounds, plan_scaling
from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.workflow_steps import PlanRequest

logger = Logger()


@logger.inject_lambda_context
@rejects_bad_input(logger, mode="raise")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    r = PlanRequest.model_validate(event)
    bounds = ScalingBounds(min_instances=r.min_instances, max_instances=r.max_instances, step=r.step)
    plan = plan_scaling(r.direction, r.variants, r.variant_name, r.endpoint_status, bounds, r.dry_run)
    logger.info("capacity plan", extra={"endpoint": r.endpoint_name, **plan.model_dump()})
    return plan.model_dump()

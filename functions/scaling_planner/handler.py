"""Scaling planner: the decision step of the scaling workflows (bounded target instance count)."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from llmops_sentinel.domain.scaling import ScalingBounds, VariantCapacity, plan_scaling
from llmops_sentinel.errors import InvalidEventError

logger = Logger()


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["out", "in"]
    endpoint_name: str
    variant_name: str
    endpoint_status: str
    variants: list[VariantCapacity]
    min_instances: int
    max_instances: int
    step: int = 1
    dry_run: bool = False


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = PlanRequest.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"bad planner input: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    bounds = ScalingBounds(min_instances=request.min_instances, max_instances=request.max_instances, step=request.step)
    plan = plan_scaling(
        request.direction, request.variants, request.variant_name, request.endpoint_status, bounds, request.dry_run
    )
    logger.info("capacity plan", extra={"endpoint": request.endpoint_name, **plan.model_dump()})
    return plan.model_dump()

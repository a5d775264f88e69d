"""The scaling workflows' decision step: a bounded target instance count (functions/scaling_planner).

No AWS client here: the workflow read the endpoint's variants before this step, so the planner's cold
start imports no AWS SDK beyond botocore's exception types.
"""

from __future__ import annotations

from llmops_sentinel.domain.scaling import ScalingBounds, ScalingPlan, plan_scaling
from llmops_sentinel.models.workflow_steps import PlanRequest


def plan_capacity(request: PlanRequest) -> ScalingPlan:
    """The next instance count of the request's variant, never outside its bounds."""
    bounds = ScalingBounds(min_instances=request.min_instances, max_instances=request.max_instances, step=request.step)
    return plan_scaling(
        request.direction, request.variants, request.variant_name, request.endpoint_status, bounds, request.dry_run
    )

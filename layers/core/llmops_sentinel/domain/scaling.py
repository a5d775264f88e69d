"""Capacity decisions for the scaling workflows: pure, bounded, explained."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_sentinel.errors import VariantNotFoundError


class ScalingBounds(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    min_instances: int = Field(ge=1)
    max_instances: int = Field(ge=1)
    step: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max_instances < self.min_instances:
            raise ValueError(f"max_instances ({self.max_instances}) < min_instances ({self.min_instances})")
        return self


class VariantCapacity(BaseModel):
    """The fields of a DescribeEndpoint ``ProductionVariants`` item that capacity depends on."""

    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True)

    variant_name: str = Field(alias="VariantName")
    current_instance_count: int | None = Field(default=None, alias="CurrentInstanceCount")
    desired_instance_count: int | None = Field(default=None, alias="DesiredInstanceCount")


class ScalingPlan(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    action: Literal["scale", "none"]
    current: int
    target: int
    reason: str


def plan_scaling(
    direction: Literal["out", "in"],
    variants: list[VariantCapacity],
    variant_name: str,
    endpoint_status: str,
    bounds: ScalingBounds,
    dry_run: bool = False,
) -> ScalingPlan:
    """Next instance count for ``variant_name``, never outside ``bounds``.

    No change while the endpoint is not ``InService`` (a capacity change on an updating endpoint
    fails, and stacking changes hides which one helped), at a bound, or in dry-run.
    """
    variant = next((v for v in variants if v.variant_name == variant_name), None)
    if variant is None:
        names = ", ".join(v.variant_name for v in variants) or "none"
        raise VariantNotFoundError(f"endpoint has no variant {variant_name!r} (variants: {names})")
    current = variant.current_instance_count or variant.desired_instance_count or 0
    if endpoint_status != "InService":
        return ScalingPlan(
            action="none", current=current, target=current, reason=f"endpoint is {endpoint_status}, not InService"
        )
    if direction == "out":
        target = min(bounds.max_instances, max(bounds.min_instances, current + bounds.step))
    else:
        target = max(bounds.min_instances, min(bounds.max_instances, current - bounds.step))
    if target == current:
        bound = "maximum" if direction == "out" else "minimum"
        return ScalingPlan(
            action="none",
            current=current,
            target=current,
            reason=f"already at the configured {bound} of {current} instances",
        )
    if dry_run:
        return ScalingPlan(
            action="none",
            current=current,
            target=target,
            reason=f"dry run: would change {current} -> {target} instances",
        )
    return ScalingPlan(
        action="scale",
        current=current,
        target=target,
        reason=f"{current} -> {target} instances (bounds {bounds.min_instances}-{bounds.max_instances})",
    )

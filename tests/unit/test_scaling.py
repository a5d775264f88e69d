"""Capacity plans stay within bounds and explain themselves."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llmops_sentinel.domain.scaling import ScalingBounds, VariantCapacity, plan_scaling
from llmops_sentinel.errors import VariantNotFoundError

BOUNDS = ScalingBounds(min_instances=1, max_instances=4, step=2)


def variants(count: int) -> list[VariantCapacity]:
    return [
        VariantCapacity.model_validate({"VariantName": "AllTraffic", "CurrentInstanceCount": count}),
        VariantCapacity.model_validate({"VariantName": "Shadow", "CurrentInstanceCount": 9}),
    ]


@pytest.mark.parametrize(("current", "target"), [(1, 3), (2, 4), (3, 4)])
def test_scale_out_adds_step_capped_at_max(current: int, target: int) -> None:
    plan = plan_scaling("out", variants(current), "AllTraffic", "InService", BOUNDS)
    assert (plan.action, plan.current, plan.target) == ("scale", current, target)


def test_at_max_nothing_changes() -> None:
    plan = plan_scaling("out", variants(4), "AllTraffic", "InService", BOUNDS)
    assert (plan.action, plan.target) == ("none", 4)
    assert "maximum" in plan.reason


@pytest.mark.parametrize(("current", "target"), [(4, 2), (2, 1), (5, 3)])
def test_scale_in_removes_step_floored_at_min(current: int, target: int) -> None:
    plan = plan_scaling("in", variants(current), "AllTraffic", "InService", BOUNDS)
    assert (plan.action, plan.target) == ("scale", target)


def test_below_min_scale_out_goes_at_least_to_min() -> None:
    plan = plan_scaling("out", variants(0), "AllTraffic", "InService", ScalingBounds(min_instances=2, max_instances=4))
    assert plan.target == 2


def test_updating_endpoint_is_left_alone() -> None:
    plan = plan_scaling("out", variants(1), "AllTraffic", "Updating", BOUNDS)
    assert plan.action == "none"
    assert "Updating" in plan.reason


def test_dry_run_says_what_it_would_do() -> None:
    plan = plan_scaling("out", variants(1), "AllTraffic", "InService", BOUNDS, dry_run=True)
    assert (plan.action, plan.target) == ("none", 3)
    assert plan.reason.startswith("dry run")


def test_unknown_variant_is_a_typed_error_naming_the_variants() -> None:
    with pytest.raises(VariantNotFoundError, match="AllTraffic, Shadow"):
        plan_scaling("out", variants(1), "Blue", "InService", BOUNDS)


def test_inverted_bounds_are_rejected() -> None:
    with pytest.raises(ValidationError, match="max_instances"):
        ScalingBounds(min_instances=5, max_instances=2)

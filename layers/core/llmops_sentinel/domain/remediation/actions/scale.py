"""Scale out / scale down: ``statemachines/scale.asl.json`` (two state machines, one definition)."""

from __future__ import annotations

from typing import Any

from llmops_sentinel.domain.remediation.registry import ActionRequest, Facts, Unmet, register_action


@register_action("scale-out", env="SENTINEL_SCALE_OUT_STATE_MACHINE_ARN")
def scale_out_input(request: ActionRequest, facts: Facts) -> dict[str, Any] | Unmet:
    return request.base_input()


@register_action("scale-down", env="SENTINEL_SCALE_DOWN_STATE_MACHINE_ARN")
def scale_down_input(request: ActionRequest, facts: Facts) -> dict[str, Any] | Unmet:
    payload = request.base_input()
    if request.signal.kind in {"idle", "budget-exceeded"}:  # idle or over budget: to the floor
        payload["bounds"]["step"] = request.endpoint.max_instances  # straight to min_instances, not one step
    return payload

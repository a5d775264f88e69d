"""Retrain: ``statemachines/retrain.asl.json`` (a SageMaker Pipeline, or one training job)."""

from __future__ import annotations

from typing import Any

from llmops_sentinel.domain.remediation.registry import ActionRequest, Facts, Unmet, register_action


@register_action("retrain", env="SENTINEL_RETRAIN_STATE_MACHINE_ARN")
def retrain_input(request: ActionRequest, facts: Facts) -> dict[str, Any] | Unmet:
    retrain = request.endpoint.retrain.model_dump()
    retrain["job_name"] = f"sentinel-retrain-{request.decision_id[:20]}"
    return {**request.base_input(), "retrain": retrain}

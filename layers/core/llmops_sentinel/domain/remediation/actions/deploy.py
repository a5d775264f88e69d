"""Deploy: ``statemachines/deploy.asl.json`` moves the endpoint onto an approved model package with
SageMaker's deployment guardrails (blue/green canary or linear shifting, auto-rollback on the stack's alarms)."""

from __future__ import annotations

from typing import Any

from llmops_sentinel.domain.remediation.registry import ActionRequest, Facts, Unmet, register_action


@register_action("deploy", env="SENTINEL_DEPLOY_STATE_MACHINE_ARN")
def deploy_input(request: ActionRequest, facts: Facts) -> dict[str, Any] | Unmet:
    """The package ARN is the event's claim; the workflow's prepare step re-reads it from the registry
    (Approved, in this endpoint's group) before it creates anything."""
    group = request.endpoint.retrain.model_package_group
    arn = request.signal.attributes.get("model_package_arn")
    if not group:
        return Unmet("no model package group is configured for this endpoint (retrain.model_package_group)")
    if request.signal.attributes.get("model_package_group") != group or not isinstance(arn, str):
        return Unmet(f"the event's package is not from {group!r}")
    return {
        **request.base_input(),
        "model_package_arn": arn,
        "model_package_group": group,
        "deployment": request.endpoint.deployment.model_dump(),
    }

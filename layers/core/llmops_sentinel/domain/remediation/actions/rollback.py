"""Rollback: ``statemachines/rollback.asl.json`` moves the endpoint to its previous tracked config."""

from __future__ import annotations

from typing import Any

from llmops_sentinel.domain.remediation.registry import ActionRequest, Facts, Unmet, register_action


@register_action("rollback", env="SENTINEL_ROLLBACK_STATE_MACHINE_ARN")
def rollback_input(request: ActionRequest, facts: Facts) -> dict[str, Any] | Unmet:
    """The target is ALWAYS the config the endpoint ran before its current one in the history the
    endpoint tracker recorded; a config named by the event (``previous_endpoint_config``) is a claim,
    not evidence, and is never used. No tracked previous config: notify instead."""
    target = facts.previous_config(request.endpoint_name)
    if target is None:
        return Unmet("no previous endpoint config is recorded for this endpoint")
    return {**request.base_input(), "target_config": target}

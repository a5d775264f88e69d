"""The endpoint tracker's service: remember each endpoint config an endpoint runs InService with.

Those records are the rollback workflow's targets (never a config named by an event).
"""

from __future__ import annotations

import os
from typing import Any

from llmops_sentinel.adapters.dynamodb import SentinelTable
from llmops_sentinel.models.sagemaker_events import parse_endpoint_state_change


def track_endpoint_state(event: dict[str, Any], table: SentinelTable | None = None) -> dict[str, Any]:
    """An endpoint state change -> ``recorded`` / ``unchanged`` (InService) or ``ignored`` (any other state)."""
    change = parse_endpoint_state_change(event)
    detail = change.detail
    if not change.in_service:
        return {"status": "ignored", "reason": f"endpoint is {detail.EndpointStatus}"}
    table = table or SentinelTable(os.environ["SENTINEL_TABLE_NAME"])
    # SageMaker lowercases names in ARNs but not in events: key by the name as the API reports it.
    recorded = table.record_config(detail.EndpointName, detail.EndpointConfigName, change.seen_at)
    return {
        "status": "recorded" if recorded else "unchanged",
        "endpoint_name": detail.EndpointName,
        "endpoint_config": detail.EndpointConfigName,
    }

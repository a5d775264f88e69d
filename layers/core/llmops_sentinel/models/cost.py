"""The latency monitor's hourly cost request: ``{"meter": "cost"}`` from its own schedule rule.

Optional ``hour_end`` (ISO time) meters that hour instead of the last one (a re-run, a backfill by
``sentinel invoke``); it is truncated to the hour. ``endpoints`` limits the run to those endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.models.validation import parse_as


class CostRequest(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    meter: Literal["cost"]
    hour_end: datetime | None = None
    endpoints: list[str] | None = Field(default=None, max_length=5000)


def is_cost_request(event: Any) -> bool:
    return isinstance(event, dict) and event.get("meter") == "cost"


def parse_cost_request(event: Any) -> CostRequest:
    return parse_as(CostRequest, event, "cost request")

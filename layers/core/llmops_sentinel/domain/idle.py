"""Is an endpoint idle? Pure: no traffic over a whole window, on an endpoint older than the window.

SageMaker publishes ``Invocations`` only for periods with traffic, so a missing datapoint is zero
invocations, not missing knowledge. What does need knowing is that the endpoint existed (unchanged)
for the whole window: a freshly created or updated endpoint has had no chance to serve yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict


class IdleResult(BaseModel):
    """What one idle check found and did."""

    model_config = ConfigDict(defer_build=True)

    status: Literal["active", "idle-reported", "idle", "unknown"]
    reason: str
    event_id: str | None = None


class IdleAssessment(BaseModel):
    model_config = ConfigDict(defer_build=True)
    idle: bool
    reason: str
    invocations: float
    window_hours: float


def assess_idle(
    invocation_values: Sequence[float], last_modified: float | None, now: float, idle_hours: float
) -> IdleAssessment:
    """``invocation_values``: the Invocations sums of the periods within ``[now - idle_hours, now]``."""
    window_s = idle_hours * 3600.0
    total = float(sum(v for v in invocation_values if not math.isnan(v)))
    if last_modified is None:
        return IdleAssessment(idle=False, reason="endpoint not found", invocations=total, window_hours=idle_hours)
    if last_modified > now - window_s:
        age_h = max(0.0, (now - last_modified) / 3600.0)
        return IdleAssessment(
            idle=False,
            reason=f"endpoint changed {age_h:.1f} h ago, less than the {idle_hours:g} h window",
            invocations=total,
            window_hours=idle_hours,
        )
    if total > 0:
        return IdleAssessment(
            idle=False,
            reason=f"{total:g} invocations in the last {idle_hours:g} h",
            invocations=total,
            window_hours=idle_hours,
        )
    return IdleAssessment(
        idle=True, reason=f"no invocations for {idle_hours:g} h", invocations=0.0, window_hours=idle_hours
    )

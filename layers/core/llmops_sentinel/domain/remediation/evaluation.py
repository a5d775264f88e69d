"""Is a retrained candidate better than the model in service? Pure comparison, explained."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict


class MetricValue(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore", populate_by_name=True)

    metric_name: str
    value: float


class Evaluation(BaseModel):
    model_config = ConfigDict(defer_build=True)
    register_candidate: bool
    reason: str
    candidate_value: float | None
    current_value: float | None


def compare(
    candidate_metrics: list[MetricValue],
    current_value: float | None,
    objective_metric: str,
    objective: Literal["minimize", "maximize"],
    min_improvement: float = 0.0,
) -> Evaluation:
    """Register when the candidate reports the objective and beats the current model by at least
    ``min_improvement`` (absolute), or when there is no current model to beat."""
    found = [m.value for m in candidate_metrics if m.metric_name == objective_metric and math.isfinite(m.value)]
    if not found:
        names = ", ".join(sorted({m.metric_name for m in candidate_metrics})) or "none"
        return Evaluation(
            register_candidate=False,
            candidate_value=None,
            current_value=current_value,
            reason=f"candidate reports no finite {objective_metric!r} (metrics: {names})",
        )
    candidate = found[-1]
    if current_value is None:
        return Evaluation(
            register_candidate=True,
            candidate_value=candidate,
            current_value=None,
            reason=f"{objective_metric}={candidate:g}; no approved model to compare with",
        )
    gain = (current_value - candidate) if objective == "minimize" else (candidate - current_value)
    better = gain > 0 and gain >= min_improvement
    verdict = "better" if better else "not better"
    return Evaluation(
        register_candidate=better,
        candidate_value=candidate,
        current_value=current_value,
        reason=f"{objective_metric} {candidate:g} vs {current_value:g} ({objective}): {verdict} "
        f"(improvement {gain:g}, required {min_improvement:g})",
    )

"""Drift detector (scheduled): per monitored endpoint, window profiles vs baseline -> report, metrics, signal.

No Powertools Tracer in the drift functions: the X-Ray SDK costs ~0.3x the cold-start floor; the
function's Active tracing still records every invocation (docs/drift.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.services.drift import CheckResult, DriftSettings, run_drift_checks

logger = Logger()


@cache
def settings() -> DriftSettings:
    return DriftSettings.from_env()


def publish(result: CheckResult) -> None:
    """DriftDetected (0/1) and DriftScore (share of drifted features) per endpoint; DriftScore (effect
    size) per endpoint and feature. Endpoints without a verdict publish nothing (the alarm treats
    missing data as not breaching)."""
    stamp = int(result.moment.timestamp() * 1000)  # the check's time: a re-run lands on the same minute
    for check in result.checks:
        if check.drifted is None:
            continue
        emf = EphemeralMetrics(service="")
        emf.set_timestamp(stamp)
        emf.add_dimension("EndpointName", check.endpoint)
        emf.add_metric(name="DriftDetected", unit=MetricUnit.Count, value=int(check.drifted))
        emf.add_metric(name="DriftScore", unit=MetricUnit.NoUnit, value=check.share_drifted or 0.0)
        emf.flush_metrics()
        for feature, score in check.feature_scores.items():
            per_feature = EphemeralMetrics(service="")
            per_feature.set_timestamp(stamp)
            per_feature.add_dimensions(EndpointName=check.endpoint, Feature=feature)
            per_feature.add_metric(name="DriftScore", unit=MetricUnit.NoUnit, value=score)
            per_feature.flush_metrics()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        result = run_drift_checks(event, settings())
    except InvalidEventError as exc:
        logger.warning("rejected event", extra={"error": str(exc)})
        return {"status": "rejected", "error": type(exc).__name__, "reason": str(exc)}
    publish(result)
    for check in result.checks:
        logger.info("drift check", extra=check.model_dump(exclude={"feature_scores"}))
    drifted = [c.endpoint for c in result.checks if c.status == "drift"]
    return {"status": "checked", "drifted": drifted, **result.model_dump(mode="json")}

"""Latency monitor: scheduled detector runs per endpoint, and synchronous confirmation of latency alarms."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.latency import ConfirmRequest, parse_monitor_event
from llmops_sentinel.services.latency_monitor import MonitorSettings, confirm, run_scheduled

logger = Logger()
metrics = Metrics()


@cache
def settings() -> MonitorSettings:
    return MonitorSettings.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = parse_monitor_event(event)
    except InvalidEventError as exc:
        logger.warning("rejected event", extra={"error": str(exc)})
        return {"status": "rejected", "error": type(exc).__name__, "reason": str(exc)}
    if isinstance(request, ConfirmRequest):
        answer = confirm(request, settings())
        logger.info("confirmation", extra={"alarm": request.alarm_name, **answer.model_dump(exclude={"evidence"})})
        metrics.add_metric(
            name="LatencyAlarmConfirmed" if answer.confirmed else "LatencyAlarmRejected", unit=MetricUnit.Count, value=1
        )
        return answer.model_dump(mode="json", exclude_none=True)
    result = run_scheduled(request, settings())
    for run in result.endpoints:
        dims = {"EndpointName": run.endpoint_name, "VariantName": run.variant_name}
        for name, unit, value in (
            ("LatencyRegressionScore", MetricUnit.NoUnit, run.max_score),
            ("LatencyDetectorWarmingUp", MetricUnit.Count, float(run.warming_up)),
        ):
            with single_metric(name=name, unit=unit, value=value, default_dimensions=dims):
                pass
    logger.info("scheduled run", extra=result.model_dump())
    return result.model_dump(mode="json")

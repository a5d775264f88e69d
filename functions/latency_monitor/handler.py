"""Latency monitor: scheduled detector runs per endpoint, and synchronous confirmation of latency alarms."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.latency import ConfirmRequest, parse_monitor_event
from llmops_sentinel.services.emf import publish_latency_scores
from llmops_sentinel.services.latency_monitor import MonitorSettings, confirm, run_scheduled

logger = Logger()
metrics = Metrics()
settings = cache(MonitorSettings.from_env)  # read once per container


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger, metrics=metrics, metric="LatencyRejected")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse_monitor_event(event)
    if isinstance(request, ConfirmRequest):
        answer = confirm(request, settings())
        logger.info("confirmation", extra={"alarm": request.alarm_name, **answer.model_dump(exclude={"evidence"})})
        name = "LatencyAlarmConfirmed" if answer.confirmed else "LatencyAlarmRejected"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return answer.model_dump(mode="json", exclude_none=True)
    publish_latency_scores(result := run_scheduled(request, settings()))
    logger.info("scheduled run", extra=result.model_dump())
    return result.model_dump(mode="json")

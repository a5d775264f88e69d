"""Latency monitor: scheduled detector runs per endpoint, hourly cost metrics, synchronous alarm confirmation."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.cost import is_cost_request, parse_cost_request
from llmops_sentinel.models.latency import ConfirmRequest, parse_monitor_event
from llmops_sentinel.services.cost import CostSettings, meter_hour
from llmops_sentinel.services.emf import publish_latency_scores
from llmops_sentinel.services.latency_monitor import MonitorSettings, confirm, run_scheduled

logger = Logger()
metrics = Metrics()
settings = cache(MonitorSettings.from_env)  # read once per container
cost_settings = cache(CostSettings.from_env)


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger, metrics=metrics, metric="LatencyRejected")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_cost_request(event):  # the hourly cost rule: {"meter": "cost"}
        return meter_hour(parse_cost_request(event), settings(), cost_settings()).model_dump(mode="json")
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

"""Remediation router: alarms, Sentinel signals, Budgets notifications -> decision, guardrails, workflow, audit."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.services.budget import route_event
from llmops_sentinel.services.remediation import RouterSettings

logger = Logger()
metrics = Metrics()
settings = cache(RouterSettings.from_env)  # read once per container


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        results = route_event(event, settings())
    except InvalidEventError as exc:
        # A malformed (or untrusted) event will not improve on retry: reject it visibly instead of raising.
        logger.warning("rejected event", extra={"error": str(exc)})
        metrics.add_metric(name="RouterRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": type(exc).__name__, "reason": str(exc)}
    for result in results:
        logger.info("routed signal", extra=result.model_dump())
        metrics.add_metric(name=f"Router{result.status.title().replace('-', '')}", unit=MetricUnit.Count, value=1)
    answers = [result.model_dump(mode="json") for result in results]
    return answers[0] if len(answers) == 1 else {"status": "routed", "results": answers}

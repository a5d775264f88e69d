"""Governance on every API call: a CloudTrail event (via EventBridge) -> findings, reports, remediation."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.governance import GovernanceDeps, GovernanceSettings, handle_cloudtrail

logger = Logger()
metrics = Metrics()


@cache
def deps() -> GovernanceDeps:
    return GovernanceDeps(GovernanceSettings.from_env())


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger, metrics=metrics, metric="GovernanceRejected")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = handle_cloudtrail(event, deps())
    logger.info("governed", extra=result.model_dump(exclude={"remediations"}))
    metrics.add_metric(name="GovernanceFindings", unit=MetricUnit.Count, value=result.findings)
    metrics.add_metric(name="GovernanceViolations", unit=MetricUnit.Count, value=result.non_compliant)
    return result.model_dump(mode="json")

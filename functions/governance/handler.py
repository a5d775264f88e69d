"""Governance on every API call: a CloudTrail event (via EventBridge) -> findings, reports, remediation."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.errors import BadInputError
from llmops_sentinel.services.governance import GovernanceDeps, GovernanceSettings, handle_cloudtrail

logger = Logger()
metrics = Metrics()


@cache
def deps() -> GovernanceDeps:
    return GovernanceDeps(GovernanceSettings.from_env())


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        result = handle_cloudtrail(event, deps())
    except BadInputError as exc:
        # Not a CloudTrail record we can read: retrying will not help.
        logger.warning("rejected event", extra={"error": str(exc)})
        metrics.add_metric(name="GovernanceRejected", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": type(exc).__name__, "reason": str(exc)}
    logger.info("governed", extra=result.model_dump(exclude={"remediations"}))
    metrics.add_metric(name="GovernanceFindings", unit=MetricUnit.Count, value=result.findings)
    metrics.add_metric(name="GovernanceViolations", unit=MetricUnit.Count, value=result.non_compliant)
    return result.model_dump(mode="json")

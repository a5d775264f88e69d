"""Governance scan worker: one Distributed Map batch -> fetch, evaluate, Security Hub, bus, remediation."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from llmops_sentinel.models.governance import BatchResult, ScanBatch
from llmops_sentinel.services.governance import GovernanceDeps, GovernanceSettings, scan_batch

logger = Logger()
metrics = Metrics()


@cache
def deps() -> GovernanceDeps:
    return GovernanceDeps(GovernanceSettings.from_env())


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        batch = ScanBatch.model_validate(event)
    except ValidationError as exc:
        # A malformed batch will not improve on retry: count it as rejected, let the Map go on.
        logger.warning("rejected batch", extra={"error": str(exc)})
        metrics.add_metric(name="GovernanceBatchRejected", unit=MetricUnit.Count, value=1)
        return BatchResult(status="rejected", error=str(exc).splitlines()[0]).model_dump(mode="json")
    result = scan_batch(batch, deps())
    logger.info("batch evaluated", extra=result.model_dump())
    metrics.add_metric(name="GovernanceFindings", unit=MetricUnit.Count, value=result.findings)
    return result.model_dump(mode="json")

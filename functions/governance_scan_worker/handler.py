"""Governance scan worker: one Distributed Map batch -> fetch, evaluate, Security Hub, bus, remediation.
A malformed batch will not improve on retry: it is answered ``rejected`` (counted), the Map goes on."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.errors import BadInputError
from llmops_sentinel.handlers import one_line, rejects_bad_input
from llmops_sentinel.models.governance import BatchResult, ScanBatch
from llmops_sentinel.services.governance import GovernanceDeps, GovernanceSettings, scan_batch

logger = Logger()
metrics = Metrics()


@cache
def deps() -> GovernanceDeps:
    return GovernanceDeps(GovernanceSettings.from_env())


def rejected(exc: BadInputError) -> dict[str, Any]:
    return BatchResult(status="rejected", error=f"{type(exc).__name__}: {one_line(str(exc))}").model_dump(mode="json")


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger, metrics=metrics, metric="GovernanceBatchRejected", shape=rejected)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = scan_batch(ScanBatch.model_validate(event), deps())
    logger.info("batch evaluated", extra=result.model_dump())
    metrics.add_metric(name="GovernanceFindings", unit=MetricUnit.Count, value=result.findings)
    return result.model_dump(mode="json")

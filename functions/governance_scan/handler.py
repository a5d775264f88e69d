"""Governance scan coordinator: phase ``list`` writes the Map's batches to S3, ``summarise`` totals them."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.models.governance import ListRequest, ScanRequest
from llmops_sentinel.services.governance import GovernanceDeps, GovernanceSettings, scan_list, scan_summary

logger = Logger()
metrics = Metrics()
REQUEST: TypeAdapter[ScanRequest] = TypeAdapter(ScanRequest)


@cache
def deps() -> GovernanceDeps:
    return GovernanceDeps(GovernanceSettings.from_env())


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(request := REQUEST.validate_python(event), ListRequest):
        listing = scan_list(request, deps())
        logger.info("listed", extra=listing.model_dump())
        metrics.add_metric(name="GovernanceScanResources", unit=MetricUnit.Count, value=listing.resources)
        return {"status": "listed", **listing.model_dump(mode="json")}
    logger.info("scan finished", extra=(summary := scan_summary(request)).model_dump())
    metrics.add_metric(name="GovernanceScanViolations", unit=MetricUnit.Count, value=summary.non_compliant)
    return summary.model_dump(mode="json")

"""Governance scan coordinator: ``{"phase": "list"}`` writes the Map's batches to S3;
``{"phase": "summarise", ...}`` totals the batch results."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter, ValidationError

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
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = REQUEST.validate_python(event)
    except ValidationError as exc:
        logger.warning("rejected event", extra={"error": str(exc)})
        return {"status": "rejected", "error": "InvalidEventError", "reason": str(exc).splitlines()[0]}
    if isinstance(request, ListRequest):
        listing = scan_list(request, deps())
        logger.info("listed", extra=listing.model_dump())
        metrics.add_metric(name="GovernanceScanResources", unit=MetricUnit.Count, value=listing.resources)
        return {"status": "listed", **listing.model_dump(mode="json")}
    summary = scan_summary(request)
    logger.info("scan finished", extra=summary.model_dump())
    metrics.add_metric(name="GovernanceScanViolations", unit=MetricUnit.Count, value=summary.non_compliant)
    return summary.model_dump(mode="json")

"""Data-capture profiler: a SageMaker data-capture file lands in S3 -> one partial profile in S3.

No Powertools Tracer (cold start; see functions/drift_detector/handler.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.drift import DriftSettings, profile_data_capture
from llmops_sentinel.services.emf import publish_capture_quality

logger = Logger()
metrics = Metrics()


@cache
def settings() -> DriftSettings:
    return DriftSettings.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger, metrics=metrics, metric="CaptureRejected")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = profile_data_capture(event, settings())
    logger.info("data capture", extra=result.model_dump(exclude={"errors"}))
    if result.status == "profiled":
        metrics.add_metric(name="CaptureRecordsOk", unit=MetricUnit.Count, value=result.records_ok)
        metrics.add_metric(name="CaptureRecordsFailed", unit=MetricUnit.Count, value=result.records_failed)
        publish_capture_quality(result)
    return result.model_dump(mode="json")

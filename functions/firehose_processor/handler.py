"""Firehose transformation: inference records -> feature rows (Ok) or ProcessingFailed, one by one.

One partial profile per endpoint and batch (keyed by the batch's records: a retry overwrites its own);
the answer stays under Lambda's 6 MiB response limit (services/drift.py, "Firehose semantics").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.drift import DriftSettings, firehose_response, ingest_firehose_event
from llmops_sentinel.services.emf import publish_firehose_batch

logger = Logger()
metrics = Metrics()


@cache
def settings() -> DriftSettings:
    return DriftSettings.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@rejects_bad_input(logger, metrics=metrics, metric="FirehoseBatchRejected")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = ingest_firehose_event(event, settings())
    for endpoint_batch in result.endpoints:
        publish_firehose_batch(endpoint_batch)
    metrics.add_metric(name="FirehoseRecordsOk", unit=MetricUnit.Count, value=result.ok)
    metrics.add_metric(name="FirehoseRecordsFailed", unit=MetricUnit.Count, value=result.failed)
    metrics.add_metric(name="FirehoseRecordsUnanswerable", unit=MetricUnit.Count, value=result.unanswerable)
    logger.info("batch", extra=result.summary())
    return firehose_response(result)

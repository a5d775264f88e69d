"""Firehose transformation: inference records -> feature rows (Ok) or ProcessingFailed, one by one.

Writes one partial profile per endpoint and invocation to S3 and publishes per-batch EMF metrics
(record counts; latency, TTFT and token values, from which CloudWatch computes percentiles).
No Powertools Tracer (cold start; see functions/drift_detector/handler.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.data_classes import (
    KinesisFirehoseDataTransformationRecord,
    KinesisFirehoseDataTransformationResponse,
    KinesisFirehoseEvent,
    event_source,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.services.drift import DriftSettings, EndpointBatch, FirehoseRecordIn, ingest_firehose

logger = Logger()
metrics = Metrics()
UNITS = {
    "latency_ms": ("LatencyMs", MetricUnit.Milliseconds),
    "ttft_ms": ("TimeToFirstTokenMs", MetricUnit.Milliseconds),
    "input_tokens": ("InputTokens", MetricUnit.Count),
    "output_tokens": ("OutputTokens", MetricUnit.Count),
}


@cache
def settings() -> DriftSettings:
    return DriftSettings.from_env()


def publish(batch: EndpointBatch) -> None:
    """One EMF document per endpoint, dimension EndpointName only (what alarms and dashboards name)."""
    emf = EphemeralMetrics(service="")
    emf.add_dimension("EndpointName", batch.endpoint)
    for feature, dist in batch.distributions.items():
        name, unit = UNITS[feature]
        for value in dist.values:
            emf.add_metric(name=name, unit=unit, value=value)
    emf.add_metric(name="RecordsOk", unit=MetricUnit.Count, value=batch.records_ok)
    emf.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=batch.records_failed)
    emf.flush_metrics()


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=KinesisFirehoseEvent)
def lambda_handler(event: KinesisFirehoseEvent, context: LambdaContext) -> dict[str, Any]:
    try:
        records = [FirehoseRecordIn(r.record_id, r.data, r.get("approximateArrivalTimestamp")) for r in event.records]
    except (KeyError, TypeError) as exc:  # not a Firehose batch: nothing to answer record by record
        logger.warning("rejected event", extra={"error": repr(exc)})
        return {"status": "rejected", "error": "InvalidEventError", "reason": f"not a Firehose batch: {exc!r}"}
    result = ingest_firehose(
        records, settings(), invocation_id=event.get("invocationId"), delivery_stream_arn=event.get("deliveryStreamArn")
    )
    for failed in [r for r in result.records if r.result != "Ok"][:20]:
        logger.warning("record failed", extra={"record_id": failed.record_id, "reason": failed.reason})
    for batch in result.endpoints:
        publish(batch)
    metrics.add_metric(name="FirehoseRecordsOk", unit=MetricUnit.Count, value=result.ok)
    metrics.add_metric(name="FirehoseRecordsFailed", unit=MetricUnit.Count, value=result.failed)
    logger.info("batch", extra={"batch_id": result.batch_id, "ok": result.ok, "failed": result.failed,
                                "failures": result.failures, "profiles": [b.profile_key for b in result.endpoints]})
    response = KinesisFirehoseDataTransformationResponse()
    for out in result.records:
        record = KinesisFirehoseDataTransformationRecord(record_id=out.record_id, result=out.result, data=out.data)
        response.add_record(record)
    return response.asdict() if result.records else {"records": []}

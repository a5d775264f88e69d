"""The CloudWatch metrics the handlers publish, as Embedded Metric Format documents (one place, one shape).

Every document carries the ``EndpointName`` dimension (what alarms and the dashboard name); the
namespace is the function's ``POWERTOOLS_METRICS_NAMESPACE``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

if TYPE_CHECKING:  # annotations only: the latency monitor must not import the drift stack, nor the drift
    # handlers the latency models or the cost code, just to publish their metrics
    from llmops_sentinel.models.latency import ScheduledResult
    from llmops_sentinel.services.cost import CostRun
    from llmops_sentinel.services.drift import CaptureResult, CheckResult, EndpointBatch

FIREHOSE_UNITS = {
    "latency_ms": ("LatencyMs", MetricUnit.Milliseconds),
    "ttft_ms": ("TimeToFirstTokenMs", MetricUnit.Milliseconds),
    "input_tokens": ("InputTokens", MetricUnit.Count),
    "output_tokens": ("OutputTokens", MetricUnit.Count),
}


QUALITY_UNITS = {
    "sampled": ("QualitySampledRecords", MetricUnit.Count),
    "scored": ("QualityScoredRecords", MetricUnit.Count),
    "skipped_records": ("QualitySkippedRecords", MetricUnit.Count),
    "toxicity_calls": ("QualityToxicityCalls", MetricUnit.Count),
    "pii_calls": ("QualityPiiCalls", MetricUnit.Count),
    "failures": ("QualityCallFailures", MetricUnit.Count),
    "units": ("QualityBilledUnits", MetricUnit.Count),
}
"""The sampled Comprehend extractor's counters (``services.quality.counters``) -> metric names. Besides
these, ``QualityBudgetExhausted`` is 1 for a batch whose calls the error, throttle or time budget stopped."""


def _add_quality(emf: EphemeralMetrics, quality: dict[str, Any]) -> None:
    for field, (name, unit) in QUALITY_UNITS.items():
        emf.add_metric(name=name, unit=unit, value=int(quality.get(field, 0)))
    emf.add_metric(name="QualityBudgetExhausted", unit=MetricUnit.Count, value=int(quality.get("stopped") is not None))


def _document(timestamp_ms: int | None = None, **dimensions: str) -> EphemeralMetrics:
    emf = EphemeralMetrics(service="")
    if timestamp_ms is not None:
        emf.set_timestamp(timestamp_ms)
    for name, value in dimensions.items():  # one dimension set (add_dimensions would add a second)
        emf.add_dimension(name, value)
    return emf


def publish_drift_checks(result: CheckResult) -> None:
    """Per endpoint: DriftDetected (0/1) and DriftScore (share of drifted features), or DriftCheckErrors
    (1) when its check failed; per endpoint and feature: DriftScore (effect size). Endpoints without a
    verdict publish no DriftDetected (the alarm treats missing data as not breaching)."""
    stamp = int(result.moment.timestamp() * 1000)  # the check's time: a re-run lands on the same minute
    for check in result.checks:
        if check.status in {"error", "bad-input"}:
            emf = _document(stamp, EndpointName=check.endpoint)
            emf.add_metric(name="DriftCheckErrors", unit=MetricUnit.Count, value=1)
            emf.flush_metrics()
        if check.drifted is None:
            continue
        emf = _document(stamp, EndpointName=check.endpoint)
        emf.add_metric(name="DriftDetected", unit=MetricUnit.Count, value=int(check.drifted))
        emf.add_metric(name="DriftScore", unit=MetricUnit.NoUnit, value=check.share_drifted or 0.0)
        emf.flush_metrics()
        for feature, score in check.feature_scores.items():
            per_feature = _document(stamp, EndpointName=check.endpoint, Feature=feature)
            per_feature.add_metric(name="DriftScore", unit=MetricUnit.NoUnit, value=score)
            per_feature.flush_metrics()


def publish_firehose_batch(batch: EndpointBatch) -> None:
    """One document per endpoint and batch: record counts and the latency/TTFT/token values (CloudWatch
    computes percentiles from them)."""
    emf = _document(EndpointName=batch.endpoint)
    for feature, dist in batch.distributions.items():
        name, unit = FIREHOSE_UNITS[feature]
        for value in dist.values:
            emf.add_metric(name=name, unit=unit, value=value)
    emf.add_metric(name="RecordsOk", unit=MetricUnit.Count, value=batch.records_ok)
    emf.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=batch.records_failed)
    if batch.quality:  # sampling on: the Comprehend extractor's counters for this endpoint
        _add_quality(emf, batch.quality)
    emf.flush_metrics()


def publish_capture_quality(result: CaptureResult) -> None:
    """A profiled data-capture file with quality sampling on: the extractor's counters (as the Firehose
    processor publishes them), one document with the file's endpoint. Nothing when sampling is off."""
    if not result.quality or result.endpoint is None:
        return
    emf = _document(EndpointName=result.endpoint)
    _add_quality(emf, result.quality)
    emf.flush_metrics()


def publish_latency_scores(result: ScheduledResult) -> None:
    """Per endpoint and variant: LatencyRegressionScore (the detector's max score of the run) and
    LatencyDetectorWarmingUp (1 while the detector has too few points to judge), or LatencyCheckErrors (1)
    when its check failed. A ``deferred`` endpoint (its backfill waits for a later run) was not checked:
    it publishes nothing, rather than a score of 0 that would read as "checked, fine"."""
    for run in result.endpoints:
        if run.status == "deferred":
            continue
        emf = _document(EndpointName=run.endpoint_name, VariantName=run.variant_name)
        if run.status in {"error", "bad-input"}:
            emf.add_metric(name="LatencyCheckErrors", unit=MetricUnit.Count, value=1)
            emf.flush_metrics()
            continue
        emf.add_metric(name="LatencyRegressionScore", unit=MetricUnit.NoUnit, value=run.max_score)
        emf.add_metric(name="LatencyDetectorWarmingUp", unit=MetricUnit.Count, value=float(run.warming_up))
        emf.flush_metrics()


COST_UNITS = {
    "cost_usd": ("CostUsd", MetricUnit.NoUnit),
    "idle_cost_usd": ("IdleCostUsd", MetricUnit.NoUnit),
    "usd_per_1k_input_tokens": ("CostPer1kInputTokensUsd", MetricUnit.NoUnit),
    "usd_per_1k_output_tokens": ("CostPer1kOutputTokensUsd", MetricUnit.NoUnit),
}


def publish_costs(run: CostRun) -> None:
    """Per endpoint and variant and metered hour (timestamped at the hour's start, so a re-run lands on
    the same hour): InstanceHours and IdleInstanceHours; CostUsd, IdleCostUsd and the cost per 1k input
    and output tokens (USD) when priced and known; CostUnpriced (1) for a variant without a price.
    Nothing between hours, nothing for an endpoint whose metering failed (its reason is in the log), nothing
    for a row not ``published`` (an hour an earlier run already published)."""
    if not run.metered or run.window_start is None:
        return
    stamp = int(datetime.fromisoformat(run.window_start).timestamp() * 1000)
    for row in run.rows:
        if row.status == "error" or not row.published:
            continue
        emf = _document(stamp, EndpointName=row.endpoint_name, VariantName=row.variant_name)
        if row.cost is not None:
            emf.add_metric(name="InstanceHours", unit=MetricUnit.NoUnit, value=row.cost.instance_hours)
            emf.add_metric(name="IdleInstanceHours", unit=MetricUnit.NoUnit, value=row.cost.idle_instance_hours)
        if row.status == "unpriced":
            emf.add_metric(name="CostUnpriced", unit=MetricUnit.Count, value=1)
        else:
            assert row.cost is not None
            for field, (name, unit) in COST_UNITS.items():
                value = getattr(row.cost, field)
                if value is not None:
                    emf.add_metric(name=name, unit=unit, value=round(float(value), 8))
        emf.flush_metrics()

"""What a Sentinel stack costs per month, and per watched endpoint, from measured usage and list prices.

Pure arithmetic (no SDK): ``bench/fleet.py`` measures one scheduled run of each kind on the local cloud
(Lambda invocations and their duration, every AWS call the functions make, the metrics each
GetMetricData call requests, DynamoDB request units from item sizes, bytes written to S3 and logs),
adds what the stack keeps standing (alarm metrics, custom metrics, KMS keys) and what the endpoints'
own traffic causes (data capture through Firehose, remediation workflows: stated assumptions, not
measurements), and prices the month with :func:`monthly_cost`.

Prices come from a price file (``bench/_fleet_prices.yaml``): one entry per billed unit, each with the
page it was read from; the file states the region and the date. A month is ``hours_per_month`` hours
(730, AWS's convention), so a run every 5 minutes is 8,760 runs.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_sentinel.domain.validation import parse_yaml_mapping

GB = 1024**3
FIREHOSE_INCREMENT = 5 * 1024
"""Firehose Direct PUT bills each record rounded up to the next 5 KB."""
DDB_READ_UNIT = 4 * 1024
DDB_WRITE_UNIT = 1024

PRICE_KEYS = (
    "lambda_request",
    "lambda_gb_s_arm64",
    "cloudwatch_get_metric_data",
    "cloudwatch_api_request",
    "cloudwatch_alarm_metric",
    "cloudwatch_custom_metric",
    "cloudwatch_logs_ingest",
    "firehose_ingest",
    "s3_put",
    "s3_get",
    "s3_storage",
    "dynamodb_read",
    "dynamodb_write",
    "stepfunctions_transition",
    "eventbridge_event",
    "kms_key",
    "kms_request",
    "xray_trace",
)
#: CloudWatch requests billed per request (GetMetricData is billed per metric requested instead; alarm
#: and dashboard reads such as DescribeAlarms are not billed).
CLOUDWATCH_BILLED_REQUESTS = frozenset({"GetMetricStatistics", "ListMetrics", "PutMetricData", "GetMetricWidgetImage"})
#: S3 operations in the PUT price class; every other S3 request is in the GET class.
S3_PUT_CLASS = frozenset(
    {
        "PutObject",
        "CopyObject",
        "PostObject",
        "ListObjects",
        "ListObjectsV2",
        "ListObjectVersions",
        "ListBuckets",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    usd: float = Field(ge=0)
    per: float = Field(gt=0, description="the price is for this many units")
    unit: str = Field(min_length=1)
    source: str = Field(min_length=1, description="the page the price was read from")

    @property
    def unit_usd(self) -> float:
        return self.usd / self.per


class ServicePrices(_Strict):
    version: int = 1
    region: str
    currency: str = "USD"
    read: date
    status: str = "as published, verify"
    hours_per_month: float = Field(730.0, gt=0)
    prices: dict[str, Price]
    source: str = "<inline>"

    @model_validator(mode="after")
    def _complete(self) -> ServicePrices:
        missing = [k for k in PRICE_KEYS if k not in self.prices]
        if missing:
            raise ValueError(f"no price for {', '.join(missing)}")
        return self

    def unit(self, key: str) -> float:
        return self.prices[key].unit_usd


def parse_service_prices(text: str, source: str = "<inline>") -> ServicePrices:
    return parse_yaml_mapping(ServicePrices, text, source, "a mapping with 'prices'")


def load_service_prices(path: str | Path) -> ServicePrices:
    path = Path(path)
    return parse_service_prices(path.read_text(encoding="utf-8"), str(path))


class RunUsage(_Strict):
    """One scheduled run as measured: what it invoked and called, and how often it runs."""

    name: str
    every_minutes: float = Field(gt=0)
    invocations: int = Field(ge=0)
    gb_s: float = Field(ge=0, description="sum over invocations of memory (GB) x billed duration (s)")
    log_bytes: int = Field(0, ge=0)
    api_calls: dict[str, dict[str, int]] = Field(default_factory=dict, description="service -> operation -> calls")
    get_metric_data_metrics: int = Field(0, ge=0, description="metrics requested over all GetMetricData calls")
    events_published: int = Field(0, ge=0, description="PutEvents entries")
    state_transitions: int = Field(0, ge=0, description="Standard workflow states entered by the run")
    dynamodb_read_units: float = Field(0.0, ge=0)
    dynamodb_write_units: float = Field(0.0, ge=0)
    s3_bytes_written: int = Field(0, ge=0)

    def runs_per_month(self, hours: float) -> float:
        return hours * 60.0 / self.every_minutes

    def calls(self, service: str, operations: frozenset[str] | None = None, exclude: bool = False) -> int:
        ops = self.api_calls.get(service, {})
        if operations is None:
            return sum(ops.values())
        return sum(n for op, n in ops.items() if (op in operations) != exclude)


class Standing(_Strict):
    """Billed per month whatever the runs do: totals for the whole stack (fixed + per endpoint)."""

    alarm_metrics: int = Field(ge=0, description="standard alarms count 1, anomaly detection alarms 3")
    custom_metrics: int = Field(ge=0, description="distinct metric name + dimension sets published")
    kms_keys: int = Field(1, ge=0)


class Traffic(_Strict):
    """What each endpoint's own traffic and incidents cause: assumptions, stated in the output."""

    capture_records_per_s: float = Field(1.0, ge=0, description="records per second into the drift stream")
    record_bytes: int = Field(2048, gt=0)
    flush_s: float = Field(60.0, gt=0, description="Firehose buffer interval: one processor run and profile")
    processor_memory_mb: int = Field(1024, gt=0)
    processor_s_per_flush: float = Field(0.2, ge=0)
    profile_bytes: int = Field(16 * 1024, ge=0, description="one partial profile written per flush")
    remediations_per_month: float = Field(1.0, ge=0)
    transitions_per_remediation: int = Field(12, ge=0)
    events_per_remediation: int = Field(3, ge=0)


class FleetUsage(_Strict):
    endpoints: int = Field(gt=0)
    runs: list[RunUsage]
    standing: Standing
    traffic: Traffic = Traffic()
    s3_retention_months: float = Field(1.0, ge=0, description="how long written objects are kept (storage)")


class CostBreakdown(_Strict):
    endpoints: int
    total_usd: float
    per_endpoint_usd: float
    items: dict[str, float]
    """Monthly USD of the whole stack, by item."""
    per_endpoint: dict[str, float]
    region: str
    prices_read: date
    prices_status: str


def _month_gb_written(usage: FleetUsage, hours: float) -> float:
    runs = sum(r.s3_bytes_written * r.runs_per_month(hours) for r in usage.runs)
    flushes = hours * 3600.0 / usage.traffic.flush_s * usage.endpoints if usage.traffic.capture_records_per_s else 0.0
    return (runs + flushes * usage.traffic.profile_bytes) / GB


def monthly_cost(usage: FleetUsage, prices: ServicePrices) -> CostBreakdown:
    """USD per month of the stack and per endpoint, item by item (see the module docstring)."""
    h = prices.hours_per_month
    p = prices.unit
    t = usage.traffic
    n = usage.endpoints

    def per_month(value: Any) -> float:
        return sum(float(value(r)) * r.runs_per_month(h) for r in usage.runs)

    flushes = h * 3600.0 / t.flush_s * n if t.capture_records_per_s else 0.0
    records = t.capture_records_per_s * h * 3600.0 * n
    billed_record = math.ceil(t.record_bytes / FIREHOSE_INCREMENT) * FIREHOSE_INCREMENT
    processor_gb_s = flushes * t.processor_memory_mb / 1024.0 * t.processor_s_per_flush
    invocations = per_month(lambda r: r.invocations) + flushes
    items = {
        "lambda_requests": invocations * p("lambda_request"),
        "lambda_compute": (per_month(lambda r: r.gb_s) + processor_gb_s) * p("lambda_gb_s_arm64"),
        "cloudwatch_get_metric_data": per_month(lambda r: r.get_metric_data_metrics) * p("cloudwatch_get_metric_data"),
        "cloudwatch_requests": per_month(lambda r: r.calls("cloudwatch", CLOUDWATCH_BILLED_REQUESTS))
        * p("cloudwatch_api_request"),
        "cloudwatch_alarms": usage.standing.alarm_metrics * p("cloudwatch_alarm_metric"),
        "cloudwatch_custom_metrics": usage.standing.custom_metrics * p("cloudwatch_custom_metric"),
        "cloudwatch_logs": per_month(lambda r: r.log_bytes) / GB * p("cloudwatch_logs_ingest"),
        "firehose_ingest": records * billed_record / GB * p("firehose_ingest"),
        "s3_requests": (per_month(lambda r: r.calls("s3", S3_PUT_CLASS)) + flushes) * p("s3_put")
        + per_month(lambda r: r.calls("s3", S3_PUT_CLASS, exclude=True)) * p("s3_get"),
        "s3_storage": _month_gb_written(usage, h) * usage.s3_retention_months * p("s3_storage"),
        "dynamodb": per_month(lambda r: r.dynamodb_read_units) * p("dynamodb_read")
        + per_month(lambda r: r.dynamodb_write_units) * p("dynamodb_write"),
        "stepfunctions": (
            per_month(lambda r: r.state_transitions) + n * t.remediations_per_month * t.transitions_per_remediation
        )
        * p("stepfunctions_transition"),
        "eventbridge": (
            per_month(lambda r: r.events_published) + n * t.remediations_per_month * t.events_per_remediation
        )
        * p("eventbridge_event"),
        "kms": usage.standing.kms_keys * p("kms_key") + per_month(lambda r: r.calls("kms")) * p("kms_request"),
        "xray": invocations * p("xray_trace"),
    }
    total = sum(items.values())
    return CostBreakdown(
        endpoints=n,
        total_usd=total,
        per_endpoint_usd=total / n,
        items=items,
        per_endpoint={k: v / n for k, v in items.items()},
        region=prices.region,
        prices_read=prices.read,
        prices_status=prices.status,
    )


def dynamodb_units(operation: str, item_bytes: int, consistent: bool = False) -> float:
    """Request units of one DynamoDB item operation on an on-demand table (reads: 4 KB units, half for
    eventually consistent reads; writes: 1 KB units; at least one unit of either)."""
    if operation in {"PutItem", "UpdateItem", "DeleteItem"}:
        return float(max(1, math.ceil(item_bytes / DDB_WRITE_UNIT)))
    units = float(max(1, math.ceil(item_bytes / DDB_READ_UNIT)))
    return units if consistent else units / 2.0

"""Cost metrics: per endpoint and variant, each clock hour, what it cost and what a 1k tokens cost.

The latency monitor's own hourly rule (``{"meter": "cost"}``, a quarter past each hour, so late
Firehose-emitted token metrics have landed) meters the hour that ended ``settle_s`` ago, for the
endpoints the scheduled runs watch (the same enumeration: config list, then the fleet registry):

- instance-hours: the variant's ``CurrentInstanceCount`` (DescribeEndpoint, one call per endpoint per
  hour) times the hour; the instance type from its endpoint config (read once per config per container).
  The count is the count at metering time: exact unless autoscaling moved it within the hour.
- idle instance-hours: the minutes of the hour without ``Invocations`` (AWS/SageMaker, per variant).
- tokens: the hour's ``InputTokens``/``OutputTokens`` sums the Firehose processor emits per endpoint,
  split over the variants by their share of invocations.
- prices: ``config/prices.yaml`` (region x instance type, each with its source and date).

All endpoints' series are read in one batch (``ceil(queries / 500)`` GetMetricData calls, queries = 2
per endpoint + 1 per variant). An instance type without a price (or a serverless variant) gets no cost
metric and a stated ``unpriced`` reason, never a guessed number. A failure is that endpoint's result:
one endpoint's failure never hides the others' (its hour is then missing, not wrong).
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.cloudwatch import (
    SAGEMAKER,
    SENTINEL,
    MetricQuery,
    MetricsReader,
    MetricsRequest,
    Series,
    SeriesReader,
    fetch_batched,
)
from llmops_sentinel.adapters.endpoint_capacity import CapacityReader, VariantCapacity
from llmops_sentinel.adapters.latency_store import LatencyStore
from llmops_sentinel.domain.cost import (
    HOUR_S,
    PriceBook,
    VariantCost,
    VariantUsage,
    idle_instance_hours,
    load_price_book,
    variant_cost,
)
from llmops_sentinel.models.cost import CostRequest

if TYPE_CHECKING:
    from llmops_sentinel.services.latency_monitor import MonitorDeps, MonitorSettings

MINUTE_S = 60
_OFF = {"off", "false", "0", "no"}


class CostSettings(BaseModel):
    model_config = ConfigDict(defer_build=True, arbitrary_types_allowed=True)

    enabled: bool = True
    region: str = "us-east-1"
    settle_s: int = Field(600, ge=0, description="the hour metered is the last one that ended this long ago")
    prices_path: str | None = None

    @classmethod
    def from_env(cls) -> CostSettings:
        return cls(
            enabled=os.environ.get("SENTINEL_COST_METRICS", "on").strip().lower() not in _OFF,
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            settle_s=int(os.environ.get("SENTINEL_COST_SETTLE_SECONDS", "600")),
            prices_path=os.environ.get("SENTINEL_PRICES_PATH") or None,
        )

    def window(self, now: float, hour_end: float | None = None) -> tuple[float, float]:
        """The clock hour to meter: the one ending at ``hour_end`` (truncated to the hour), else the last
        one that ended ``settle_s`` before ``now``."""
        end = hour_end if hour_end is not None else now - self.settle_s
        end = math.floor(end / HOUR_S) * HOUR_S
        return end - HOUR_S, end


class VariantCostRow(BaseModel):
    model_config = ConfigDict(defer_build=True)

    endpoint_name: str
    variant_name: str
    status: Literal["priced", "unpriced", "error"]
    reason: str = ""
    instance_type: str | None = None
    instance_count: int = 0
    cost: VariantCost | None = None
    published: bool = False
    """Its metrics went out in this run; False for an hour an earlier run already published (re-metered)."""


class CostRun(BaseModel):
    model_config = ConfigDict(defer_build=True)

    metered: bool
    reason: str = ""
    window_start: str | None = None
    window_end: str | None = None
    rows: list[VariantCostRow] = Field(default_factory=list)
    calls: int = 0
    """GetMetricData calls made."""


def cost_queries(endpoint: str, variants: list[str], hours: int) -> list[MetricQuery]:
    """The endpoint's token sums over the window (one point each) and each variant's per-minute Invocations."""
    own = {"EndpointName": endpoint}
    period = hours * int(HOUR_S)
    queries = [
        MetricQuery(
            id="input_tokens", namespace=SENTINEL, metric="InputTokens", dimensions=own, stat="Sum", period=period
        ),
        MetricQuery(
            id="output_tokens", namespace=SENTINEL, metric="OutputTokens", dimensions=own, stat="Sum", period=period
        ),
    ]
    for index, variant in enumerate(variants):
        dims = {"EndpointName": endpoint, "VariantName": variant}
        queries.append(
            MetricQuery(
                id=f"inv_{index}",
                namespace=SAGEMAKER,
                metric="Invocations",
                dimensions=dims,
                stat="Sum",
                period=MINUTE_S,
            )
        )
    return queries


def _total(series: Series | None) -> float:
    return float(sum(series.values)) if series is not None else 0.0


def variant_rows(
    endpoint: str,
    capacity: list[VariantCapacity],
    data: dict[str, Series],
    start: float,
    end: float,
    region: str,
    book: PriceBook,
) -> list[VariantCostRow]:
    """Usage and cost of each variant over ``[start, end)`` from the batch's series of this endpoint."""
    invocations = [data.get(f"inv_{i}") for i in range(len(capacity))]
    served = [_total(s) for s in invocations]
    all_served = sum(served)
    tokens_in, tokens_out = _total(data.get("input_tokens")), _total(data.get("output_tokens"))
    rows = []
    for index, variant in enumerate(capacity):
        base = {
            "endpoint_name": endpoint,
            "variant_name": variant.variant,
            "instance_type": variant.instance_type,
            "instance_count": variant.instance_count,
        }
        if variant.instance_type is None:
            rows.append(
                VariantCostRow(
                    status="unpriced", reason="serverless variant: billed per request, not per instance-hour", **base
                )
            )
            continue
        share = served[index] / all_served if all_served else 1 / len(capacity)
        steps = [(start, variant.instance_count)]
        series = invocations[index]
        busy = [t for t, v in zip(series.timestamps, series.values, strict=True) if v > 0] if series else []
        hours = variant.instance_count * (end - start) / HOUR_S
        usage = VariantUsage(
            endpoint=endpoint,
            variant=variant.variant,
            region=region,
            instance_type=variant.instance_type,
            instance_hours=hours,
            idle_instance_hours=min(hours, idle_instance_hours(steps, busy, MINUTE_S, start, end)),
            input_tokens=tokens_in * share,
            output_tokens=tokens_out * share,
        )
        cost = variant_cost(usage, book)
        if not cost.priced:
            reason = f"no price for {variant.instance_type} in {region} in {book.source}"
            rows.append(VariantCostRow(status="unpriced", reason=reason, cost=cost, **base))
        else:
            rows.append(VariantCostRow(status="priced", cost=cost, **base))
    return rows


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def meter_costs(
    endpoints: list[str],
    window: tuple[float, float],
    settings: CostSettings,
    metrics: SeriesReader | None = None,
    capacity: CapacityReader | None = None,
    book: PriceBook | None = None,
) -> CostRun:
    """The cost rows of every endpoint's variants over ``window`` (one batch of reads for all)."""
    start, end = window
    book = book or load_price_book(settings.prices_path)
    capacity = capacity or CapacityReader()
    rows: list[VariantCostRow] = []
    described: dict[str, list[VariantCapacity]] = {}
    for endpoint in sorted(set(endpoints)):
        try:
            found = capacity.variants(endpoint)
        except Exception as exc:  # isolation: this endpoint's hour is missing, the others are metered
            rows.append(_error_row(endpoint, exc))
            continue
        if found:
            described[endpoint] = found
    hours = round((end - start) / HOUR_S)
    requests = [
        MetricsRequest(key=name, queries=cost_queries(name, [v.variant for v in caps], hours), start=start, end=end)
        for name, caps in described.items()
    ]
    batch = fetch_batched(metrics or MetricsReader(), requests)
    for name, caps in described.items():
        failure = batch.errors.get(name) or batch.throttled.get(name)
        if failure is not None:
            rows.append(_error_row(name, failure))
            continue
        rows.extend(variant_rows(name, caps, batch.series.get(name, {}), start, end, settings.region, book))
    return CostRun(metered=True, window_start=_iso(start), window_end=_iso(end), rows=rows, calls=batch.calls)


def _error_row(endpoint: str, exc: Exception) -> VariantCostRow:
    return VariantCostRow(
        endpoint_name=endpoint, variant_name="*", status="error", reason=f"{type(exc).__name__}: {exc}"[:300]
    )


def meter_hour(
    request: CostRequest, monitor: MonitorSettings, settings: CostSettings, deps: MonitorDeps | None = None
) -> CostRun:
    """The hourly cost request: the watched endpoints (the scheduled runs' targets), metered and published."""
    if not settings.enabled:
        return CostRun(metered=False, reason="cost metrics are off (SENTINEL_COST_METRICS)")
    from llmops_sentinel.services.emf import publish_costs
    from llmops_sentinel.services.latency_monitor import MonitorDeps, scheduled_targets

    hour_end = request.hour_end.timestamp() if request.hour_end is not None else None
    window = settings.window(datetime.now(UTC).timestamp(), hour_end)
    if request.endpoints is not None:
        endpoints = request.endpoints
    else:
        endpoints = [t.endpoint_name for t in scheduled_targets(monitor, deps or MonitorDeps.default(monitor))]
    run = meter_costs(endpoints, window, settings, metrics=(deps.metrics if deps else None))
    store = deps.store if deps else LatencyStore(monitor.table_name)
    _claim_hours(run, store, expires_at=int(window[1]) + CLAIM_KEPT_S)
    publish_costs(run)
    return run


CLAIM_KEPT_S = 40 * 86_400
"""How long the record that an endpoint's hour was published is kept: longer than anyone re-meters."""


def _claim_hours(run: CostRun, store: LatencyStore, expires_at: int) -> None:
    """Mark the rows to publish: those of the endpoints whose hour no earlier run published (one claim per
    endpoint; a failing claim leaves that endpoint unpublished, not doubled)."""
    if run.window_start is None:
        return
    claimed: dict[str, bool] = {}
    for row in run.rows:
        if row.status == "error":
            continue
        if row.endpoint_name not in claimed:
            try:
                claimed[row.endpoint_name] = store.claim_cost_hour(row.endpoint_name, run.window_start, expires_at)
            except Exception as exc:  # isolation: this endpoint's hour stays unpublished, the others go out
                row.reason = f"not published: {type(exc).__name__}: {exc}"[:300]
                claimed[row.endpoint_name] = False
        row.published = claimed[row.endpoint_name]
        if not row.published and "not published" not in row.reason:
            row.reason = "; ".join(filter(None, [row.reason, "not published: an earlier run published this hour"]))

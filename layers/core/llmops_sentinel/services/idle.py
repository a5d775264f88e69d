"""Idle endpoints: one ``Endpoint Idle`` event per idle episode, which the router turns into a
scale-down to the configured floor.

Run by the latency monitor's scheduled invocation for each watched endpoint variant: traffic its
batched read already saw within the window settles the check (active, no call); any other target reads
the whole window's Invocations (:func:`idle_query`, batched with the other suspects' by the monitor)
and :func:`settle_idle` acts on the verdict. :func:`check_idle` is the same check with its own
GetMetricData read. The idle
window is the remediation policy's ``idle_hours`` for the endpoint (one source of truth). An
episode item in the Sentinel table (``idle#<endpoint>#<variant>`` / ``episode``, conditional put)
makes the event fire once per episode; traffic ends the episode (the item is deleted).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from llmops_sentinel.adapters.cloudwatch import MetricQuery, MetricsReader, Series
from llmops_sentinel.adapters.dynamodb import SentinelTable
from llmops_sentinel.adapters.endpoints import EndpointReader, EndpointState
from llmops_sentinel.adapters.events import BusPublisher
from llmops_sentinel.domain.idle import IdleAssessment, IdleResult, assess_idle
from llmops_sentinel.domain.remediation.policy import RemediationPolicy
from llmops_sentinel.errors import SentinelError
from llmops_sentinel.models.bus_events import EndpointIdleDetail

DETAIL_TYPE = EndpointIdleDetail.DETAIL_TYPE


class IdlePublishError(SentinelError):
    """EventBridge refused the idle event; the episode is not recorded, so the next run retries."""


IDLE_QUERY_ID = "invocations"


def idle_query(endpoint: str, variant: str, hours: float) -> MetricQuery:
    """The idle window's Invocations sums (read over ``[now - hours, now]``): hourly for windows of 3 h
    or more, else 5-minute periods."""
    return MetricQuery(
        id=IDLE_QUERY_ID,
        namespace="AWS/SageMaker",
        metric="Invocations",
        dimensions={"EndpointName": endpoint, "VariantName": variant},
        stat="Sum",
        period=3600 if hours >= 3 else 300,
    )


def check_idle(
    endpoint: str,
    variant: str,
    now: float | None,
    policy: RemediationPolicy,
    metrics: MetricsReader,
    endpoints: EndpointReader,
    episodes: SentinelTable,
    bus: BusPublisher,
) -> IdleResult:
    at = now if now is not None else time.time()
    hours = policy.for_endpoint(endpoint).idle_hours
    end = datetime.fromtimestamp(at, UTC)
    start = end - timedelta(hours=hours)
    series = metrics.series([idle_query(endpoint, variant, hours)], start, end).get(IDLE_QUERY_ID)
    described = endpoints.describe(endpoint)
    verdict = assess_idle(series.values if series else [], described.last_modified if described else None, at, hours)
    active_at = last_activity(series, described)
    return settle_idle(endpoint, variant, at, hours, verdict, described, episodes, bus, active_at)


def last_activity(series: Series | None, described: EndpointState | None) -> float | None:
    """The newest evidence that the endpoint was not idle: its last period with invocations, or its last
    change (None when there is neither, or the endpoint is gone)."""
    if described is None:
        return None
    busy = [t for t, v in zip(series.timestamps, series.values, strict=False) if v > 0] if series else []
    seen = [t for t in (max(busy, default=None), described.last_modified) if t is not None]
    return max(seen, default=None)


def settle_idle(
    endpoint: str,
    variant: str,
    at: float,
    hours: float,
    verdict: IdleAssessment,
    described: EndpointState | None,
    episodes: SentinelTable,
    bus: BusPublisher,
    active_at: float | None = None,
) -> IdleResult:
    """Act on an idle verdict: end the episode (active: only one that began before ``active_at``, the newest
    traffic or change seen), or report a new one once (``Endpoint Idle``)."""
    start = datetime.fromtimestamp(at, UTC) - timedelta(hours=hours)
    if not verdict.idle:
        episodes.end_idle(endpoint, variant, active_at)
        return IdleResult(status="unknown" if described is None else "active", reason=verdict.reason)
    if not episodes.begin_idle(endpoint, variant, at - hours * 3600):
        return IdleResult(status="idle", reason=f"{verdict.reason} (already reported)")
    detail = EndpointIdleDetail(
        endpoint_name=endpoint,
        variant_name=variant,
        idle_hours=float(hours),
        since=start.isoformat().replace("+00:00", "Z"),
        summary=f"{endpoint}/{variant}: {verdict.reason}",
    )
    sent = bus.publish_detail(detail)
    if sent.failed:
        episodes.end_idle(endpoint, variant)
        failed = sent.failed[0]
        raise IdlePublishError(f"PutEvents rejected {DETAIL_TYPE}: {failed.error_code} {failed.error_message}")
    return IdleResult(status="idle-reported", reason=verdict.reason, event_id=sent.event_ids[0])

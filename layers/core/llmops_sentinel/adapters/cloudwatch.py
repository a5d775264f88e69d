"""CloudWatch: metric series through GetMetricData (oldest first, paginated), batched over a fleet.

:meth:`MetricsReader.series` is one request (every page of it); results come back with
``ScanBy=TimestampAscending`` because the detector rejects points older than the last one it accepted,
and GetMetricData returns newest first by default.

:func:`plan_calls` / :func:`fetch_batched` carry the queries of many endpoint variants in few requests:
GetMetricData takes up to 500 queries (``MAX_QUERIES``) and 100,800 datapoints (``MAX_DATAPOINTS``) per
call, with one StartTime/EndTime per call. Requests with the same window share calls, packed to 500
queries (a target's queries may straddle two calls); a window so long that 500 queries would exceed the
datapoint budget gets fewer queries per call, and one longer than 100,800 periods is cut into slices.
Every query gets a fresh id (``q<n>``, valid for ``^[a-z][a-zA-Z0-9_]*$``); results are split back per
request key under the request's own query ids.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled
from llmops_sentinel.errors import ThrottledError

SAGEMAKER = "AWS/SageMaker"
SENTINEL = "LLMOpsSentinel"
MAX_QUERIES = 500
"""MetricDataQuery structures per GetMetricData call (the API's limit)."""
MAX_DATAPOINTS = 100_800
"""Datapoints one GetMetricData call may cover (the API's limit): queries x periods in the window."""
QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


class MetricQuery(BaseModel):
    """One ``MetricStat`` query; ``id`` names its series in the result."""

    model_config = ConfigDict(frozen=True)

    id: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    stat: str
    period: int = 60


class Series(BaseModel):
    """Epoch-second timestamps and values, oldest first."""

    timestamps: list[float]
    values: list[float]


def latency_queries(
    endpoint: str, variant: str, period: int = 60, variants: list[str] | None = None
) -> list[MetricQuery]:
    """The series a latency run reads for one endpoint variant (ids are the keys of the result).

    ModelLatency Average and p99, Invocations (Sum), ModelSetupTime (Average), Invocation4XX/5XXErrors
    (Sum) of the variant; the project's own TimeToFirstTokenMs (p50) and TokensPerSecond (Average) per
    endpoint; and ModelLatency Average of every variant in ``variants`` (one-variant regressions).
    """
    dims = {"EndpointName": endpoint, "VariantName": variant}
    own = {"EndpointName": endpoint}
    queries = [
        MetricQuery(id="latency_p99", namespace=SAGEMAKER, metric="ModelLatency", dimensions=dims, stat="p99"),
        MetricQuery(id="latency_avg", namespace=SAGEMAKER, metric="ModelLatency", dimensions=dims, stat="Average"),
        MetricQuery(id="invocations", namespace=SAGEMAKER, metric="Invocations", dimensions=dims, stat="Sum"),
        MetricQuery(id="setup_time", namespace=SAGEMAKER, metric="ModelSetupTime", dimensions=dims, stat="Average"),
        MetricQuery(id="errors_4xx", namespace=SAGEMAKER, metric="Invocation4XXErrors", dimensions=dims, stat="Sum"),
        MetricQuery(id="errors_5xx", namespace=SAGEMAKER, metric="Invocation5XXErrors", dimensions=dims, stat="Sum"),
        MetricQuery(id="ttft_p50", namespace=SENTINEL, metric="TimeToFirstTokenMs", dimensions=own, stat="p50"),
        MetricQuery(id="tokens_per_s", namespace=SENTINEL, metric="TokensPerSecond", dimensions=own, stat="Average"),
    ]
    for index, name in enumerate(sorted(set(variants or [])) if variants and len(set(variants)) > 1 else []):
        queries.append(
            MetricQuery(
                id=f"variant_{index}",
                namespace=SAGEMAKER,
                metric="ModelLatency",
                dimensions={"EndpointName": endpoint, "VariantName": name},
                stat="Average",
            )
        )
    return [q.model_copy(update={"period": period}) for q in queries]


class MetricsReader:
    def __init__(self, cloudwatch: Any | None = None) -> None:
        self._cw = cloudwatch

    cw = LazyClient("cloudwatch")

    def series(self, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, Series]:
        """Every query's datapoints in ``[start, end)``, oldest first (empty series when no data)."""
        found: dict[str, tuple[list[float], list[float]]] = {q.id: ([], []) for q in queries}
        if not queries or end <= start:
            return {key: Series(timestamps=[], values=[]) for key in found}
        request: dict[str, Any] = {
            "MetricDataQueries": [
                {
                    "Id": q.id,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": q.namespace,
                            "MetricName": q.metric,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(q.dimensions.items())],
                        },
                        "Period": q.period,
                        "Stat": q.stat,
                    },
                    "ReturnData": True,
                }
                for q in queries
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            try:
                response = self.cw.get_metric_data(**request)
            except ClientError as exc:
                raise_if_throttled(exc, "GetMetricData")
                raise
            for result in response.get("MetricDataResults", []):
                times, values = found.setdefault(result["Id"], ([], []))
                times.extend(t.timestamp() for t in result.get("Timestamps", []))
                values.extend(float(v) for v in result.get("Values", []))
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        out = {}
        for key, (times, values) in found.items():
            order = sorted(range(len(times)), key=times.__getitem__)  # pages are ascending; be sure
            out[key] = Series(timestamps=[times[i] for i in order], values=[values[i] for i in order])
        return out


class SeriesReader(Protocol):
    def series(self, queries: list[MetricQuery], start: datetime, end: datetime) -> dict[str, Series]: ...


@dataclass(frozen=True)
class MetricsRequest:
    """What one target (an endpoint variant) needs: its queries over ``[start, end)`` (epoch s)."""

    key: str
    queries: list[MetricQuery]
    start: float
    end: float


@dataclass
class PlannedCall:
    """One GetMetricData request: its window and, per fresh query id, (request key, own query)."""

    start: float
    end: float
    queries: dict[str, tuple[str, MetricQuery]] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(key for key, _ in self.queries.values()))

    def datapoints(self) -> int:
        return sum(_periods(self.start, self.end, q.period) for _, q in self.queries.values())


def _periods(start: float, end: float, period: int) -> int:
    return max(0, math.ceil((end - start) / period))


def plan_calls(requests: list[MetricsRequest]) -> list[PlannedCall]:
    """Group requests by window and pack their queries into as few calls as the limits allow.

    Calls of one window hold ``min(500, 100,800 // periods)`` queries each (the last may hold fewer);
    a window of more than 100,800 periods is cut into slices of at most that many, one query per call.
    """
    groups: dict[tuple[float, float], list[tuple[str, MetricQuery]]] = {}
    for request in requests:
        if request.end > request.start and request.queries:
            groups.setdefault((request.start, request.end), []).extend((request.key, q) for q in request.queries)
    calls: list[PlannedCall] = []
    counter = 0
    for (start, end), items in groups.items():
        finest = min(q.period for _, q in items)  # the most datapoints per query of this window
        slices = [(start, end)]
        if _periods(start, end, finest) > MAX_DATAPOINTS:
            step = MAX_DATAPOINTS * finest
            slices = [(s, min(s + step, end)) for s in _frange(start, end, step)]
        for s, e in slices:
            per_call = max(1, min(MAX_QUERIES, MAX_DATAPOINTS // max(1, _periods(s, e, finest))))
            for first in range(0, len(items), per_call):
                call = PlannedCall(start=s, end=e)
                for key, query in items[first : first + per_call]:
                    call.queries[f"q{counter}"] = (key, query)
                    counter += 1
                calls.append(call)
    return calls


def _frange(start: float, end: float, step: float) -> list[float]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += step
    return out


@dataclass
class BatchResult:
    """Series per request key (under the request's own query ids), and the keys whose calls failed."""

    series: dict[str, dict[str, Series]] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)
    throttled: dict[str, ThrottledError] = field(default_factory=dict)
    calls: int = 0


def fetch_batched(reader: SeriesReader, requests: list[MetricsRequest]) -> BatchResult:
    """Every request's series in as few GetMetricData calls as :func:`plan_calls` allows.

    Isolation: a call that fails (not throttled) is retried once per request it carried, alone, so only
    the request that cannot be read fails (extra calls only on failure). A throttled call is not retried
    here (botocore's standard mode already did) and no further call is made: its requests and every
    later one are listed in ``throttled`` for the caller to re-raise, so the invocation is retried by
    Lambda's asynchronous retries instead of being swallowed.
    """
    result = BatchResult()
    by_key = {r.key: r for r in requests}
    parts: dict[str, list[dict[str, Series]]] = {}
    retry: list[str] = []
    calls = plan_calls(requests)
    for index, call in enumerate(calls):
        keys = call.keys
        try:
            data = _run(reader, call, result)
        except ThrottledError as exc:  # stop here: more calls now would only be throttled too
            for later in calls[index:]:
                result.throttled.update(dict.fromkeys(later.keys, exc))
            break
        except Exception as exc:
            if len(keys) == 1:
                result.errors.setdefault(keys[0], exc)
            else:
                retry.extend(k for k in keys if k not in retry)
            continue
        for key, own in data.items():
            parts.setdefault(key, []).append(own)
    for key in retry:
        if result.throttled:
            result.throttled.setdefault(key, next(iter(result.throttled.values())))
            continue
        if key in result.errors:
            continue
        parts.pop(key, None)  # read it again whole, alone
        for call in plan_calls([by_key[key]]):
            try:
                parts.setdefault(key, []).append(_run(reader, call, result)[key])
            except ThrottledError as exc:
                result.throttled[key] = exc
                break
            except Exception as exc:
                result.errors[key] = exc
                break
    for request in requests:
        if request.key in result.errors or request.key in result.throttled:
            continue
        merged: dict[str, tuple[list[float], list[float]]] = {q.id: ([], []) for q in request.queries}
        for part in parts.get(request.key, []):
            for qid, found in part.items():
                times, values = merged.setdefault(qid, ([], []))
                times.extend(found.timestamps)
                values.extend(found.values)
        result.series[request.key] = {
            qid: Series(timestamps=[t for t, _ in pairs], values=[v for _, v in pairs])
            for qid, (times, values) in merged.items()
            for pairs in [sorted(zip(times, values, strict=True))]
        }
    return result


def _run(reader: SeriesReader, call: PlannedCall, result: BatchResult) -> dict[str, dict[str, Series]]:
    queries = [q.model_copy(update={"id": fresh}) for fresh, (_, q) in call.queries.items()]
    result.calls += 1
    data = reader.series(queries, datetime.fromtimestamp(call.start, UTC), datetime.fromtimestamp(call.end, UTC))
    out: dict[str, dict[str, Series]] = {}
    for fresh, (key, own) in call.queries.items():
        out.setdefault(key, {})[own.id] = data.get(fresh, Series(timestamps=[], values=[]))
    return out

"""CloudWatch: metric series through GetMetricData (oldest first, paginated).

One call fetches every series a latency run needs (up to 500 queries per request); results come back
with ``ScanBy=TimestampAscending`` because the detector rejects points older than the last one it
accepted, and GetMetricData returns newest first by default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled

SAGEMAKER = "AWS/SageMaker"
SENTINEL = "LLMOpsSentinel"


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

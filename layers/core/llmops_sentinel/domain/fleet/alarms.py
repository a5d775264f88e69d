"""The alarms the service keeps for one watched endpoint: desired specs, and the plan against what exists.

Pure (no boto3): :func:`desired_alarms` turns an endpoint's variants and fleet policy settings into
:class:`AlarmSpec` records; :func:`plan` compares them with the alarms CloudWatch holds for the
endpoint (found by name prefix and owned by tag) and says which to put and which to delete.

Names (kept from the single-endpoint template so the router, scenes and tests keep keying on them):

- ``<stack>-<endpoint>-p99-latency`` / ``-latency-anomaly`` for the endpoint's first variant (as
  DescribeEndpoint lists them), ``<stack>-<endpoint>-<variant>-p99-latency`` / ``-latency-anomaly``
  for each further variant;
- ``<stack>-<endpoint>-drift`` once per endpoint (LLMOpsSentinel DriftDetected).

Every alarm carries the tags ``sentinel:stack`` and ``sentinel:endpoint``: a name alone cannot say
which endpoint owns it (``<stack>-a-b-p99-latency`` is endpoint ``a-b``'s first variant and endpoint
``a``'s variant ``b``), so ownership is always decided by the tags.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from llmops_sentinel.domain.fleet.policy import STACK_TAG, EndpointSettings

ENDPOINT_TAG = "sentinel:endpoint"
"""Tag on every service-managed alarm: the endpoint it watches (exact name)."""
Kind = Literal["p99-latency", "latency-anomaly", "drift"]
MICROSECONDS_PER_MS = 1000.0


class AlarmSpec(BaseModel):
    """One alarm as PutMetricAlarm takes it (the fields this project sets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Kind
    endpoint_name: str
    variant_name: str | None = None
    description: str
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    statistic: str | None = None
    extended_statistic: str | None = None
    unit: str | None = None
    period: int | None = None
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float | None = None
    comparison_operator: str
    treat_missing_data: str = "notBreaching"
    metrics: tuple[dict[str, Any], ...] = ()
    """Metric math (the anomaly band): PutMetricAlarm ``Metrics``."""
    threshold_metric_id: str | None = None

    def request(self, stack: str) -> dict[str, Any]:
        """PutMetricAlarm arguments, tags included (they apply when the alarm is created)."""
        out: dict[str, Any] = {
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm,
            "ComparisonOperator": self.comparison_operator,
            "TreatMissingData": self.treat_missing_data,
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags(stack).items())],
        }
        if self.metrics:
            out["Metrics"] = [dict(m) for m in self.metrics]
            out["ThresholdMetricId"] = self.threshold_metric_id
            return out
        out |= {
            "Namespace": self.namespace,
            "MetricName": self.metric_name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
            "Period": self.period,
            "Threshold": self.threshold,
        }
        out |= {"ExtendedStatistic": self.extended_statistic} if self.extended_statistic else {}
        out |= {"Statistic": self.statistic} if self.statistic else {}
        out |= {"Unit": self.unit} if self.unit else {}
        return out

    def tags(self, stack: str) -> dict[str, str]:
        return {STACK_TAG: stack, ENDPOINT_TAG: self.endpoint_name}

    def matches(self, existing: dict[str, Any]) -> bool:
        """Does a DescribeAlarms ``MetricAlarms`` entry already say what this spec says?"""
        wanted = self.request("")
        wanted.pop("Tags")
        for key, value in wanted.items():
            have = existing.get(key)
            if key == "Metrics":
                if _metrics_key(have) != _metrics_key(value):
                    return False
            elif key == "Dimensions":
                if sorted((d["Name"], d["Value"]) for d in have or []) != sorted(
                    (d["Name"], d["Value"]) for d in value
                ):
                    return False
            elif isinstance(value, float | int) and not isinstance(value, bool):
                if not isinstance(have, float | int) or float(have) != float(value):
                    return False
            elif have != value:
                return False
        return True


def _metrics_key(metrics: Any) -> list[str]:
    out = []
    for m in metrics or []:
        stat = m.get("MetricStat") or {}
        metric = stat.get("Metric") or {}
        dims = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or [])
        out.append(
            repr(
                (
                    m.get("Id"),
                    m.get("Expression"),
                    metric.get("Namespace"),
                    metric.get("MetricName"),
                    dims,
                    stat.get("Period"),
                    stat.get("Stat"),
                    bool(m.get("ReturnData", True)),
                )
            )
        )
    return sorted(out)


def alarm_name(stack: str, endpoint: str, kind: Kind, variant: str | None = None) -> str:
    """``<stack>-<endpoint>[-<variant>]-<kind>``; ``variant`` None = the endpoint's first variant."""
    middle = f"{endpoint}-{variant}" if variant else endpoint
    return f"{stack}-{middle}-{kind}"


def endpoint_prefix(stack: str, endpoint: str) -> str:
    """The name prefix every alarm of ``endpoint`` has (other endpoints' alarms may share it: check tags)."""
    return f"{stack}-{endpoint}-"


def _variant_alarm(
    stack: str,
    endpoint: str,
    variant: str,
    suffix: str | None,
    settings: EndpointSettings,
    kind: Kind,
    description: str,
    **fields: Any,
) -> AlarmSpec:
    """One latency alarm of one variant: the name, ownership fields and evaluation window they share."""
    return AlarmSpec(
        name=alarm_name(stack, endpoint, kind, suffix),
        kind=kind,
        endpoint_name=endpoint,
        variant_name=variant,
        description=description,
        evaluation_periods=settings.latency.evaluation_periods,
        datapoints_to_alarm=settings.latency.datapoints_to_alarm,
        **fields,
    )


def desired_alarms(stack: str, endpoint: str, variants: list[str], settings: EndpointSettings) -> list[AlarmSpec]:
    """The alarms ``endpoint`` should have: latency per variant, drift per endpoint (per its settings)."""
    specs: list[AlarmSpec] = []
    latency = settings.latency
    for index, variant in enumerate(dict.fromkeys(variants)):
        suffix = None if index == 0 else variant
        dims = (("EndpointName", endpoint), ("VariantName", variant))
        variant_alarm = partial(_variant_alarm, stack, endpoint, variant, suffix, settings)

        specs.append(
            variant_alarm(
                "p99-latency",
                (
                    f"Static p99 guard on SageMaker ModelLatency of {endpoint}/{variant} (service-managed by "
                    f"the fleet tracker). Its state changes reach the alarm router through EventBridge."
                ),
                namespace="AWS/SageMaker",
                metric_name="ModelLatency",
                dimensions=dims,
                extended_statistic="p99",
                unit="Microseconds",
                period=latency.period_seconds,
                threshold=latency.p99_threshold_ms * MICROSECONDS_PER_MS,
                comparison_operator="GreaterThanThreshold",
            )
        )
        if latency.anomaly_alarm:
            band = f"{latency.anomaly_band:g}"
            specs.append(
                variant_alarm(
                    "latency-anomaly",
                    (
                        f"ModelLatency of {endpoint}/{variant} above its anomaly-detection band (service-managed). "
                        f"The router asks the latency monitor to confirm it before any remediation."
                    ),
                    comparison_operator="GreaterThanUpperThreshold",
                    metrics=(
                        {
                            "Id": "m1",
                            "ReturnData": True,
                            "MetricStat": {
                                "Metric": {
                                    "Namespace": "AWS/SageMaker",
                                    "MetricName": "ModelLatency",
                                    "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
                                },
                                "Period": latency.period_seconds,
                                "Stat": "Average",
                            },
                        },
                        {
                            "Id": "ad1",
                            "ReturnData": True,
                            "Label": "ModelLatency (expected)",
                            "Expression": f"ANOMALY_DETECTION_BAND(m1, {band})",
                        },
                    ),
                    threshold_metric_id="ad1",
                )
            )
    if settings.drift.enabled:
        specs.append(
            AlarmSpec(
                name=alarm_name(stack, endpoint, "drift"),
                kind="drift",
                endpoint_name=endpoint,
                description=(
                    f"The drift detector found drift on {endpoint} (LLMOpsSentinel DriftDetected = 1; "
                    f"service-managed). The router maps it to the retrain workflow (cooldown-guarded)."
                ),
                namespace="LLMOpsSentinel",
                metric_name="DriftDetected",
                dimensions=(("EndpointName", endpoint),),
                statistic="Maximum",
                period=settings.drift.period_seconds,
                evaluation_periods=settings.drift.evaluation_periods,
                datapoints_to_alarm=1,
                threshold=1.0,
                comparison_operator="GreaterThanOrEqualToThreshold",
            )
        )
    return specs


class AlarmPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    put: list[AlarmSpec]
    """New alarms and alarms whose settings changed."""
    delete: list[str]
    """Owned alarms no longer desired (a removed variant, a disabled alarm, an offboarded endpoint)."""
    unchanged: list[str]
    conflicts: list[str]
    """Desired names held by an alarm this stack does not own for this endpoint: left alone."""


def plan(
    stack: str,
    endpoint: str,
    desired: list[AlarmSpec],
    existing: dict[str, dict[str, Any]],
    tags: dict[str, dict[str, str]],
) -> AlarmPlan:
    """``existing``: DescribeAlarms entries by name (under the endpoint's prefix); ``tags``: their tags."""

    def owned(name: str) -> bool:
        t = tags.get(name, {})
        return t.get(STACK_TAG) == stack and t.get(ENDPOINT_TAG) == endpoint

    wanted = {spec.name: spec for spec in desired}
    put, unchanged, conflicts = [], [], []
    for name, spec in wanted.items():
        if name not in existing:
            put.append(spec)
        elif not owned(name):
            conflicts.append(name)
        elif spec.matches(existing[name]):
            unchanged.append(name)
        else:
            put.append(spec)
    delete = sorted(name for name in existing if name not in wanted and owned(name))
    return AlarmPlan(put=put, delete=delete, unchanged=sorted(unchanged), conflicts=sorted(conflicts))

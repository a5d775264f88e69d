"""Read a report's content from a deployment through the project's adapters (clients injectable).

Sources: the Sentinel table (audit trail, endpoint config history) via ``SentinelTable``; drift
reports and partial profiles in the data bucket via ``DriftStore`` (token counts come from the
profiles' exact counts and means); ModelLatency p99 and Invocations via ``MetricsReader``;
endpoints, configs and instance counts from SageMaker; the p99 guard alarm's threshold from
CloudWatch; governance findings from Security Hub (ours: ``ProductFields`` ``llmops-sentinel/*``).

The latency detector's score is recomputed here from the p99 series with the same pure detector the
monitor runs (the stored state holds the detector, not a history of scores).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from pydantic import BaseModel

from llmops_sentinel.adapters.clients import client
from llmops_sentinel.adapters.cloudwatch import SAGEMAKER, MetricQuery, MetricsReader
from llmops_sentinel.adapters.dynamodb import AuditRecord, SentinelTable
from llmops_sentinel.adapters.s3 import REPORTS, DriftStore
from llmops_sentinel.domain.cost import PriceBook, VariantUsage, idle_instance_hours, instance_hours, variant_cost
from llmops_sentinel.domain.drift.profiles import NumericProfile, profile_from_json
from llmops_sentinel.domain.latency import detect
from llmops_sentinel.errors import BadInputError
from sentinel_dev.report.model import (
    AuditRow,
    DriftPoint,
    EndpointView,
    FeatureDriftSeries,
    FindingRow,
    InstanceSeries,
    LatencySeries,
    Marker,
    Point,
    ReportModel,
)

PERIOD_S = 60
CAPACITY_ACTIONS = {"rollback", "scale-out", "scale-down"}
SCALING_ACTIONS = {"scale-out", "scale-down"}


@dataclass
class Clients:
    """boto3 clients the gatherer uses; ``Clients.default()`` takes the environment's credentials."""

    s3: Any
    dynamodb: Any
    cloudwatch: Any
    sagemaker: Any
    securityhub: Any
    stepfunctions: Any = None
    """Optional: the scaling workflows' outputs (the count each one set); without it, the instance steps
    come from the config history and the current count only."""

    @classmethod
    def default(cls) -> Clients:
        names = ("s3", "dynamodb", "cloudwatch", "sagemaker", "securityhub", "stepfunctions")
        return cls(*(client(name) for name in names))


class Deployment(BaseModel):
    table: str
    bucket: str
    region: str
    source: str
    """Shown in the report's header (e.g. ``stack sentinel in us-east-1``)."""


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def _anchor(endpoint: str, record: AuditRecord) -> str:
    return f"decision-{endpoint}-{record.decision_id}"


def list_endpoints(sagemaker: Any) -> list[str]:
    names: list[str] = []
    for page in sagemaker.get_paginator("list_endpoints").paginate():
        names.extend(item["EndpointName"] for item in page.get("Endpoints", []))
    return sorted(names)


def _variants_of_config(sagemaker: Any, config: str) -> dict[str, tuple[str | None, int]] | None:
    """variant -> (instance type, initial count) of an endpoint config; None if it is gone."""
    try:
        described = sagemaker.describe_endpoint_config(EndpointConfigName=config)
    except ClientError:
        return None
    return {
        v["VariantName"]: (v.get("InstanceType"), int(v.get("InitialInstanceCount") or 0))
        for v in described.get("ProductionVariants", [])
    }


class _Segment(BaseModel):
    t: float
    instance_type: str | None
    count: int


def _scaled(stepfunctions: Any, audit: list[AuditRecord]) -> list[tuple[float, str, int]]:
    """(when, variant, instances) that each successful scale-out/scale-down set, from its execution's
    output (``outcome: scaled``), dated by its decision (the workflow ends minutes later). A workflow
    that could not be read (no client, no permission, gone) adds no step."""
    out: list[tuple[float, str, int]] = []
    for r in audit:
        t = _epoch(r.occurred_at)
        if stepfunctions is None or r.action not in SCALING_ACTIONS or r.status != "SUCCEEDED" or t is None:
            continue
        if not r.execution_arn:
            continue
        try:
            described = stepfunctions.describe_execution(executionArn=r.execution_arn)
        except ClientError:
            continue
        try:
            result = json.loads(described.get("output") or "{}")
        except ValueError:
            continue
        if isinstance(result, dict) and result.get("outcome") == "scaled" and result.get("variant_name"):
            out.append((t, str(result["variant_name"]), int(result.get("instances") or 0)))
    return out


def _capacity(
    sagemaker: Any,
    endpoint: str,
    configs: list[tuple[str, str]],
    audit: list[AuditRecord],
    now: float,
    stepfunctions: Any = None,
) -> dict[str, list[_Segment]]:
    """Per variant: (from t, instance type, count) steps, from the config history and the counts the
    scaling workflows set, then the current state (dated by the decision of the last successful
    capacity-changing workflow when it differs from the last step: its workflow finishes minutes later, so
    instance-hours are exact to those minutes)."""
    segments: dict[str, list[_Segment]] = {}
    changes: list[tuple[float, int, str, str | None, int]] = []  # (t, order, variant, type or None, count)
    for seen_iso, config in sorted(configs):
        seen = _epoch(seen_iso)
        variants = _variants_of_config(sagemaker, config) if seen is not None else None
        for name, (itype, count) in (variants or {}).items():
            changes.append((seen or 0.0, 0, name, itype, count))
    changes.extend((t, 1, name, None, count) for t, name, count in _scaled(stepfunctions, audit))
    for t, _, name, set_type, count in sorted(changes, key=lambda c: (c[0], c[1])):
        steps = segments.setdefault(name, [])
        if set_type is None and not steps:
            continue
        itype = set_type if set_type is not None else steps[-1].instance_type  # scaling keeps the type
        steps.append(_Segment(t=t, instance_type=itype, count=count))
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    current_types = _variants_of_config(sagemaker, described["EndpointConfigName"]) or {}
    changed = [
        when
        for r in audit
        if r.action in CAPACITY_ACTIONS and r.status == "SUCCEEDED" and (when := _epoch(r.occurred_at)) is not None
    ]
    for v in described.get("ProductionVariants", []):
        name = v["VariantName"]
        count = int(v.get("CurrentInstanceCount") or v.get("DesiredInstanceCount") or 0)
        itype = current_types.get(name, (None, 0))[0]
        steps = segments.setdefault(name, [])
        if steps and steps[-1].count == count and steps[-1].instance_type == itype:
            continue
        at = max([*changed, steps[-1].t if steps else 0.0]) if changed else now
        steps.append(_Segment(t=at if steps else min(at, now), instance_type=itype, count=count))
    return segments


def _p99_threshold_ms(cloudwatch: Any, endpoint: str) -> float | None:
    for page in cloudwatch.get_paginator("describe_alarms").paginate():
        for alarm in page.get("MetricAlarms", []):
            dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
            if (
                alarm.get("MetricName") == "ModelLatency"
                and alarm.get("ExtendedStatistic") == "p99"
                and dims.get("EndpointName") == endpoint
            ):
                return float(alarm["Threshold"]) / 1000.0
    return None


def _drift(
    store: DriftStore, endpoint: str, start: float, end: float
) -> tuple[list[FeatureDriftSeries], list[DriftPoint]]:
    docs: list[tuple[float, dict[str, Any]]] = []
    pages = store.s3.get_paginator("list_objects_v2").paginate(Bucket=store.bucket, Prefix=f"{REPORTS}/{endpoint}/")
    for page in pages:
        for item in page.get("Contents", []):
            doc = _json(store.get(item["Key"]))
            t = _epoch(str(doc.get("window_end") or ""))
            if t is not None and start <= t <= end and isinstance(doc.get("report"), dict):
                docs.append((t, doc["report"]))
    features: dict[str, dict[str, Any]] = {}
    share: list[DriftPoint] = []
    for t, report in sorted(docs, key=lambda d: d[0]):
        share.append(
            DriftPoint(
                t=t,
                effect=float(report.get("share_drifted", 0.0)),
                threshold=float(report.get("share_threshold", 0.0)),
                drifted=bool(report.get("drifted")),
            )
        )
        for f in report.get("features", []):
            uses_p = f.get("p_value") is not None
            effect = float(f["effect_size"] if uses_p else f["statistic"])
            threshold = float((f.get("effect_floor") or 0.0) if uses_p else f["threshold"])
            entry = features.setdefault(f["feature"], {"method": f["method"], "critical": False, "points": []})
            entry["critical"] = entry["critical"] or bool(f.get("critical"))
            entry["points"].append(DriftPoint(t=t, effect=effect, threshold=threshold, drifted=bool(f["drifted"])))
    series = [FeatureDriftSeries(feature=name, **entry) for name, entry in sorted(features.items())]
    return series, share


def _json(blob: bytes) -> dict[str, Any]:
    import orjson

    try:
        data = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise BadInputError(f"a stored document is not JSON: {exc}") from None
    return data if isinstance(data, dict) else {}


def _tokens(store: DriftStore, endpoint: str, start: float, end: float) -> tuple[float, float]:
    """Exact input/output token totals of the window's partial profiles (count x mean of each)."""
    totals = [0.0, 0.0]
    keys = store.profile_keys(endpoint, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    for key in keys:
        profile = profile_from_json(store.get(key))
        for index, name in enumerate(("input_tokens", "output_tokens")):
            feature = profile.features.get(name)
            if isinstance(feature, NumericProfile) and feature.count:
                totals[index] += feature.count * feature.mean
    return totals[0], totals[1]


def _latency(
    metrics: MetricsReader, endpoint: str, variant: str, start: float, end: float
) -> tuple[list[Point], list[Point], list[Marker], list[tuple[float, float]]]:
    dims = {"EndpointName": endpoint, "VariantName": variant}
    queries = [
        MetricQuery(id="p99", namespace=SAGEMAKER, metric="ModelLatency", dimensions=dims, stat="p99", period=PERIOD_S),
        MetricQuery(id="inv", namespace=SAGEMAKER, metric="Invocations", dimensions=dims, stat="Sum", period=PERIOD_S),
    ]
    data = metrics.series(queries, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    p99 = data["p99"]
    points = [Point(t=t, v=v / 1000.0) for t, v in zip(p99.timestamps, p99.values, strict=True)]
    scores: list[Point] = []
    markers: list[Marker] = []
    if p99.timestamps:
        result = detect(np.asarray(p99.timestamps), np.asarray(p99.values))
        scores = [
            Point(t=float(t), v=float(s))
            for t, s in zip(result.timestamps, result.scores, strict=True)
            if math.isfinite(float(s))
        ]
        for alarm in result.alarm_records:
            markers.append(Marker(t=alarm.onset, label=f"onset {alarm.magnitude:+.0%}", kind="onset"))
            markers.append(Marker(t=alarm.detected_at, label=f"detected ({alarm.statistic})", kind="detected"))
    invocations = list(zip(data["inv"].timestamps, data["inv"].values, strict=True))
    return points, scores, markers, invocations


def _audit_rows(endpoint: str, records: list[AuditRecord]) -> list[AuditRow]:
    return [
        AuditRow(
            anchor=_anchor(endpoint, r),
            occurred_at=r.occurred_at,
            signal=r.signal,
            summary=r.summary,
            decision=r.outcome,
            reason=r.reason,
            action=r.action,
            workflow=r.execution_name,
            status=r.status or ("RUNNING" if r.execution_arn else None),
            deliveries=r.deliveries,
        )
        for r in sorted(records, key=lambda r: r.occurred_at)
    ]


def endpoint_view(
    deployment: Deployment,
    clients: Clients,
    endpoint: str,
    start: float,
    end: float,
    book: PriceBook | None,
    now: float,
) -> EndpointView:
    table = SentinelTable(deployment.table, ddb=clients.dynamodb)
    store = DriftStore(deployment.bucket, kms_key_id="", s3=clients.s3)  # read-only: the key is never used
    metrics = MetricsReader(cloudwatch=clients.cloudwatch)
    audit = [r for r in table.history(endpoint, limit=500) if (t := _epoch(r.occurred_at)) is None or t <= end]
    configs = table.config_history(endpoint, limit=50)
    capacity = _capacity(clients.sagemaker, endpoint, configs, audit, now, clients.stepfunctions)
    threshold = _p99_threshold_ms(clients.cloudwatch, endpoint)
    action_markers = [
        Marker(t=t, label=f"{r.action} {r.outcome}", kind="action", link=_anchor(endpoint, r))
        for r in audit
        if (t := _epoch(r.occurred_at)) is not None
    ]
    deploy_markers = [
        Marker(t=t, label=name.removeprefix(f"{endpoint}-"), kind="deploy")
        for iso, name in configs
        if (t := _epoch(iso)) is not None
    ]
    latency: list[LatencySeries] = []
    busy: dict[str, list[float]] = {}
    for variant in sorted(capacity):
        p99, scores, markers, invocations = _latency(metrics, endpoint, variant, start, end)
        busy[variant] = [t for t, v in invocations if v > 0]
        if p99:
            latency.append(
                LatencySeries(
                    variant=variant,
                    p99_ms=p99,
                    score=scores,
                    threshold_ms=threshold,
                    markers=[*deploy_markers, *markers, *action_markers],
                )
            )
    instances = [
        InstanceSeries(
            variant=variant,
            instance_type="/".join(sorted({s.instance_type or "?" for s in segs})),
            steps=[Point(t=max(s.t, start), v=float(s.count)) for s in segs if s.t <= end],
        )
        for variant, segs in sorted(capacity.items())
    ]
    drift, share = _drift(store, endpoint, start, end)
    costs = []
    if book is not None:
        tokens_in, tokens_out = _tokens(store, endpoint, start, end)
        # Tokens are per endpoint (profiles); each variant gets its share of the minutes with traffic
        # (an even split when no Invocations were published).
        all_busy = sum(len(b) for b in busy.values())
        for variant, segs in sorted(capacity.items()):
            share_of_traffic = len(busy.get(variant, [])) / all_busy if all_busy else 1 / len(capacity)
            types = sorted({s.instance_type for s in segs if s.instance_type})
            hours = {
                it: instance_hours([(s.t, s.count if s.instance_type == it else 0) for s in segs], start, end)
                for it in types
            }
            total_hours = sum(hours.values()) or 1.0
            for itype in types:
                steps = [(s.t, s.count if s.instance_type == itype else 0) for s in segs]
                weight = share_of_traffic * hours[itype] / total_hours
                costs.append(
                    variant_cost(
                        VariantUsage(
                            endpoint=endpoint,
                            variant=variant,
                            region=deployment.region,
                            instance_type=itype,
                            instance_hours=hours[itype],
                            idle_instance_hours=min(
                                hours[itype], idle_instance_hours(steps, busy.get(variant, []), PERIOD_S, start, end)
                            ),
                            input_tokens=tokens_in * weight,
                            output_tokens=tokens_out * weight,
                        ),
                        book,
                    )
                )
    return EndpointView(
        name=endpoint,
        drift=drift,
        drift_share=share,
        latency=latency,
        instances=instances,
        costs=costs,
        audit=_audit_rows(endpoint, audit),
    )


def findings(securityhub: Any) -> list[FindingRow]:
    rows: dict[str, FindingRow] = {}
    try:
        pages = list(securityhub.get_paginator("get_findings").paginate())
    except ClientError:
        return []
    for page in pages:
        for f in page.get("Findings", []):
            fields = f.get("ProductFields", {})
            if "llmops-sentinel/Check" not in fields:
                continue
            action = fields.get("llmops-sentinel/RemediationAction")
            status = fields.get("llmops-sentinel/RemediationStatus")
            rows[f["Id"]] = FindingRow(
                severity=str(f.get("Severity", {}).get("Label", "INFORMATIONAL")),
                policy=str(f.get("GeneratorId", "?")),
                resource=str((f.get("Resources") or [{}])[0].get("Id", "?")),
                compliant=f.get("Compliance", {}).get("Status") == "PASSED",
                remediation=f"{action}: {status}" if action else None,
            )
    return list(rows.values())


def gather(
    deployment: Deployment,
    clients: Clients,
    start: float,
    end: float,
    endpoints: list[str] | None = None,
    book: PriceBook | None = None,
    now: float | None = None,
    notes: list[str] | None = None,
) -> ReportModel:
    """Everything the report shows for ``endpoints`` (default: every endpoint) over [start, end]."""
    if end <= start:
        raise BadInputError("the report period must end after it starts")
    moment = time.time() if now is None else now
    names = endpoints if endpoints is not None else list_endpoints(clients.sagemaker)
    views = []
    for name in names:
        try:
            views.append(endpoint_view(deployment, clients, name, start, end, book, moment))
        except ClientError as exc:
            raise BadInputError(
                f"cannot read endpoint {name!r}: {exc.response.get('Error', {}).get('Message', exc)}"
            ) from None
    return ReportModel(
        source=deployment.source,
        generated_at=moment,
        start=start,
        end=end,
        endpoints=views,
        findings=findings(clients.securityhub),
        price_book=book.source if book else None,
        notes=notes or [],
    )

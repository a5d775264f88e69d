"""CloudWatch Embedded Metric Format -> metrics, as CloudWatch Logs does for a Lambda's output.

Powertools ``Metrics`` prints EMF JSON lines; in AWS, CloudWatch Logs extracts them into metrics.
moto's Logs does not, so alarms on our own metrics (``DriftDetected``, ...) would never see data.
This reads each local invocation's captured output and puts the metrics it declares into moto's
CloudWatch, batched per namespace (up to 1,000 metrics per ``PutMetricData``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sentinel_dev.local.lambdas import Invocation

PUT_METRIC_DATA_MAX = 1000
"""Metrics per PutMetricData request (CloudWatch's limit)."""


def documents(logs: str) -> list[dict[str, Any]]:
    found = []
    for raw in logs.splitlines():
        line = raw.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("_aws"), dict):
            found.append(doc)
    return found


def metric_data(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, MetricData) pairs for one EMF document, per the EMF specification."""
    meta = doc["_aws"]
    stamp = datetime.fromtimestamp(int(meta.get("Timestamp", 0)) / 1000, UTC)
    out = []
    for directive in meta.get("CloudWatchMetrics", []):
        namespace = directive["Namespace"]
        data = []
        for dimension_set in directive.get("Dimensions", [[]]) or [[]]:
            dims = [{"Name": name, "Value": str(doc[name])} for name in dimension_set if name in doc]
            for metric in directive.get("Metrics", []):
                value = doc.get(metric["Name"])
                values = value if isinstance(value, list) else [value]
                numbers = [float(v) for v in values if isinstance(v, int | float)]
                if not numbers:
                    continue
                entry: dict[str, Any] = {
                    "MetricName": metric["Name"],
                    "Dimensions": dims,
                    "Timestamp": stamp,
                    "Values": numbers,
                }
                if metric.get("Unit"):
                    entry["Unit"] = metric["Unit"]
                data.append(entry)
        if data:
            out.append((namespace, data))
    return out


class EmfExtractor:
    """Invocation listener: publish the EMF metrics an invocation printed."""

    def __init__(self, cloudwatch: Any) -> None:
        self._cloudwatch = cloudwatch
        self.published = 0

    def __call__(self, invocation: Invocation) -> None:
        # One PutMetricData per namespace and 1,000 metrics (the API's limit), not one per EMF document:
        # a fleet run prints a document per endpoint, and 500 calls per run made the local cloud slow.
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for doc in documents(invocation.logs):
            for namespace, data in metric_data(doc):
                by_namespace.setdefault(namespace, []).extend(data)
        for namespace, data in by_namespace.items():
            for start in range(0, len(data), PUT_METRIC_DATA_MAX):
                chunk = data[start : start + PUT_METRIC_DATA_MAX]
                self._cloudwatch.put_metric_data(Namespace=namespace, MetricData=chunk)
                self.published += len(chunk)

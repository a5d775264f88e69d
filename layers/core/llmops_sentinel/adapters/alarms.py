"""CloudWatch alarms the fleet tracker owns: DescribeAlarms by prefix, tags, PutMetricAlarm, DeleteAlarms."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled
from llmops_sentinel.domain.fleet.alarms import AlarmSpec

DELETE_BATCH = 100
"""DeleteAlarms takes at most 100 names per call."""


class FleetAlarms:
    def __init__(self, cloudwatch: Any | None = None) -> None:
        self._cloudwatch = cloudwatch

    cloudwatch = LazyClient("cloudwatch")

    def by_prefix(self, prefix: str) -> dict[str, dict[str, Any]]:
        """Metric alarms whose name starts with ``prefix`` (DescribeAlarms, paginated), by name."""
        out: dict[str, dict[str, Any]] = {}
        request: dict[str, Any] = {"AlarmNamePrefix": prefix, "AlarmTypes": ["MetricAlarm"], "MaxRecords": 100}
        while True:
            page = self._call("DescribeAlarms", self.cloudwatch.describe_alarms, **request)
            out.update({str(a["AlarmName"]): a for a in page.get("MetricAlarms", [])})
            if not page.get("NextToken"):
                return out
            request["NextToken"] = page["NextToken"]

    def tags(self, alarm_arn: str) -> dict[str, str]:
        page = self._call("ListTagsForResource", self.cloudwatch.list_tags_for_resource, ResourceARN=alarm_arn)
        return {str(t["Key"]): str(t.get("Value", "")) for t in page.get("Tags", [])}

    def put(self, spec: AlarmSpec, stack: str) -> None:
        self._call("PutMetricAlarm", self.cloudwatch.put_metric_alarm, **spec.request(stack))

    def tag(self, alarm_arn: str, tags: dict[str, str]) -> None:
        """PutMetricAlarm ignores Tags when it updates an alarm: keep an updated alarm's tags right."""
        self._call(
            "TagResource",
            self.cloudwatch.tag_resource,
            ResourceARN=alarm_arn,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        )

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), DELETE_BATCH):
            self._call("DeleteAlarms", self.cloudwatch.delete_alarms, AlarmNames=names[start : start + DELETE_BATCH])

    @staticmethod
    def _call(what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            raise_if_throttled(exc, f"CloudWatch {what}")
            raise

"""Evaluate the stack's metric alarms on what was published to moto, and emit state changes.

The alarms are the template's (by name) and the ones the fleet tracker keeps for watched endpoints
(listed by the stack's name prefix, ``<stack>-``, at every evaluation: they come and go with the fleet).

moto stores alarms and data points, but never evaluates an alarm and returns nothing for percentile
statistics. This evaluator follows CloudWatch's documented rules for the alarms this project
defines: the last ``EvaluationPeriods`` complete periods, ``DatapointsToAlarm`` of them breaching
for ALARM, ``TreatMissingData``, and ``Statistic``/``ExtendedStatistic`` (``pNN`` computed on the
raw values; CloudWatch's own percentiles are sketch approximations, so a value within a bucket of
the threshold may differ). Alarms on metric math or anomaly bands are listed as not evaluated.

On a transition it updates moto's alarm state and puts a ``CloudWatch Alarm State Change`` event,
shaped as AWS documents it, on the default bus, where the template's rules route it.
"""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


@dataclass(frozen=True)
class Transition:
    alarm_name: str
    previous: str
    state: str
    at: datetime
    reason: str
    event: dict[str, Any]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def statistic(values: np.ndarray, name: str) -> float:
    """One CloudWatch statistic of a period's raw values."""
    if name == "Average":
        return float(values.mean())
    if name == "Sum":
        return float(values.sum())
    if name == "Minimum":
        return float(values.min())
    if name == "Maximum":
        return float(values.max())
    if name == "SampleCount":
        return float(values.size)
    if name.startswith("p"):
        return float(np.percentile(values, float(name[1:])))
    raise ValueError(f"statistic {name!r} is not evaluated locally")


class AlarmEvaluator:
    """Evaluates metric alarms on moto's stored data points."""

    def __init__(
        self,
        cloudwatch: Any,
        events: Any,
        datapoints: Callable[[], list[Any]],
        alarm_names: list[str],
        region: str,
        account_id: str,
        managed_prefix: str = "",
    ) -> None:
        self._cloudwatch = cloudwatch
        self._events = events
        self._datapoints = datapoints
        self._names = alarm_names
        self._prefix = managed_prefix
        self._region = region
        self._account = account_id
        self.transitions: list[Transition] = []
        self.not_evaluated: dict[str, str] = {}

    def evaluate(self, at: datetime) -> list[Transition]:
        """Evaluate every alarm as CloudWatch would at time ``at``; emit and return transitions."""
        alarms = self._alarms()
        points = self._datapoints()
        fired = []
        for alarm in alarms:
            transition = self._evaluate_one(alarm, points, at)
            if transition is not None:
                fired.append(transition)
        return fired

    def _alarms(self) -> list[dict[str, Any]]:
        """The template's alarms (by name) and the service-managed ones under the prefix, each once."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(self._names), 100):  # DescribeAlarms takes at most 100 names
            for alarm in self._cloudwatch.describe_alarms(AlarmNames=self._names[start : start + 100])["MetricAlarms"]:
                found[alarm["AlarmName"]] = alarm
        if self._prefix:
            request: dict[str, Any] = {"AlarmNamePrefix": self._prefix, "AlarmTypes": ["MetricAlarm"]}
            while True:
                page = self._cloudwatch.describe_alarms(**request)
                found.update({a["AlarmName"]: a for a in page.get("MetricAlarms", [])})
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        return list(found.values())

    def _evaluate_one(self, alarm: dict[str, Any], points: list[Any], at: datetime) -> Transition | None:
        name = alarm["AlarmName"]
        stat = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
        if not alarm.get("MetricName") or not stat:
            self.not_evaluated[name] = "metric math or anomaly band alarms are not evaluated locally"
            return None
        period = int(alarm["Period"])
        periods = int(alarm["EvaluationPeriods"])
        needed = int(alarm.get("DatapointsToAlarm") or periods)
        compare = _COMPARE[alarm["ComparisonOperator"]]
        threshold = float(alarm["Threshold"])
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        end = datetime.fromtimestamp((int(at.timestamp()) // period) * period, UTC)
        start = end - timedelta(seconds=period * periods)
        buckets: list[list[float]] = [[] for _ in range(periods)]
        for point in points:
            if point.namespace != alarm["Namespace"] or point.name != alarm["MetricName"]:
                continue
            if {d.name: d.value for d in point.dimensions} != dims or not hasattr(point, "value"):
                continue
            moment = _as_datetime(point.timestamp)
            if start <= moment < end:
                buckets[int((moment - start).total_seconds() // period)].append(float(point.value))
        evaluated: list[tuple[datetime, float | None]] = []
        for index, bucket in enumerate(buckets):
            value = statistic(np.asarray(bucket), stat) if bucket else None
            evaluated.append((start + timedelta(seconds=period * index), value))
        present = [(t, v) for t, v in evaluated if v is not None]
        missing_mode = alarm.get("TreatMissingData", "missing")
        breaching = sum(1 for _, v in present if compare(v, threshold))
        if missing_mode == "breaching":
            breaching += periods - len(present)
        previous = alarm.get("StateValue", "INSUFFICIENT_DATA")
        if not present and missing_mode in {"missing", "ignore"}:
            state = "INSUFFICIENT_DATA" if missing_mode == "missing" else previous
        else:
            state = "ALARM" if breaching >= needed else "OK"
        if state == previous:
            return None
        recent = [v for _, v in reversed(present)]
        shown = ", ".join(f"{v} ({t.strftime('%d/%m/%y %H:%M:%S')})" for t, v in reversed(present))
        verb = "was" if state == "ALARM" else "was not"
        reason = (
            f"Threshold Crossed: {breaching} out of the last {periods} datapoints [{shown}] {verb} "
            f"{_WORDS[alarm['ComparisonOperator']]} the threshold ({threshold}) "
            f"(minimum {needed} datapoint{'s' if needed > 1 else ''} for {previous} -> {state} transition)."
        )
        reason_data = {
            "version": "1.0",
            "queryDate": _stamp(at),
            "startDate": _stamp(start),
            ("extendedStatistic" if alarm.get("ExtendedStatistic") else "statistic"): stat,
            "period": period,
            "recentDatapoints": recent,
            "threshold": threshold,
            "evaluatedDatapoints": [
                {"timestamp": _stamp(t), **({"value": v} if v is not None else {})} for t, v in reversed(evaluated)
            ],
        }
        self._cloudwatch.set_alarm_state(
            AlarmName=name, StateValue=state, StateReason=reason[:1023], StateReasonData=json.dumps(reason_data)
        )
        event_detail = {
            "alarmName": name,
            "state": {"value": state, "reason": reason, "reasonData": json.dumps(reason_data), "timestamp": _stamp(at)},
            "previousState": {
                "value": previous,
                "reason": alarm.get("StateReason", "Unchecked: Initial alarm creation"),
                "timestamp": _stamp(_as_datetime(alarm.get("StateUpdatedTimestamp", at))),
            },
            "configuration": {
                "description": alarm.get("AlarmDescription", ""),
                "metrics": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                        "metricStat": {
                            "metric": {
                                "dimensions": dims,
                                "name": alarm["MetricName"],
                                "namespace": alarm["Namespace"],
                            },
                            "period": period,
                            "stat": stat,
                        },
                        "returnData": True,
                    }
                ],
            },
        }
        alarm_arn = alarm.get("AlarmArn") or f"arn:aws:cloudwatch:{self._region}:{self._account}:alarm:{name}"
        self._events.put_events(
            Entries=[
                {
                    "Time": at,
                    "Source": "aws.cloudwatch",
                    "DetailType": "CloudWatch Alarm State Change",
                    "Resources": [alarm_arn],
                    "Detail": json.dumps(event_detail),
                }
            ]
        )
        transition = Transition(name, previous, state, at, reason, event_detail)
        self.transitions.append(transition)
        return transition

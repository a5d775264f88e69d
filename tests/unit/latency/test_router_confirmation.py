"""The router asks the latency detector before acting on a latency alarm (in-memory fakes, no AWS).

The anomaly alarm is AWS's published anomaly-detection state change, pointed at this stack's
ModelLatency alarm; the detector's answers are the shapes LatencyMonitorFunction returns.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmops_sentinel.adapters.dynamodb import AuditRecord
from llmops_sentinel.adapters.lambda_ import InvocationFailedError
from llmops_sentinel.adapters.stepfunctions import Started
from llmops_sentinel.domain.remediation.policy import load_policy
from llmops_sentinel.services.remediation import RouterSettings, route_signal
from tests.conftest import aws_event

ENDPOINT = "demo-llm-endpoint"
MONITOR = "sentinel-LatencyMonitorFunction"


def anomaly_alarm(state: str = "ALARM") -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(
        aws_event("cloudwatch_alarm_state_change_eventbridge_anomaly_detection__awsdocs.json")
    )
    name = f"sentinel-{ENDPOINT}-latency-anomaly"
    event["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
    detail = event["detail"]
    detail["alarmName"] = name
    detail["state"]["value"] = state
    detail["configuration"]["metrics"][0]["metricStat"]["metric"] = {
        "namespace": "AWS/SageMaker",
        "name": "ModelLatency",
        "dimensions": {"EndpointName": ENDPOINT, "VariantName": "AllTraffic"},
    }
    return event


class FakeTable:
    """In-memory SentinelTable: guardrails always free, the tracked config history given."""

    def __init__(self, history: list[str] | None = None) -> None:
        self.records: list[AuditRecord] = []
        self.history = history or []

    def record(self, rec: AuditRecord, now: float | None = None, authoritative: bool = False) -> AuditRecord:
        self.records.append(rec)
        return rec

    def take_lease(self, *args: Any, **kwargs: Any) -> None:
        return None

    def lease_started(self, *args: Any) -> None:
        pass

    def release_lease(self, *args: Any) -> None:
        pass

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def count_action(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def release(self, *args: Any) -> None:
        pass

    def configs(self, endpoint: str, limit: int = 10) -> list[str]:
        return self.history[:limit]


class FakeSfn:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, dict[str, Any]]] = []

    def existing(self, arn: str, name: str) -> Started | None:
        return None

    def start(self, arn: str, name: str, payload: dict[str, Any]) -> Started:
        self.started.append((arn, name, payload))
        return Started(execution_arn=f"{arn}:{name}", started=True)


class FakeNotifier:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> str:
        self.messages.append((subject, message))
        return "m-1"


class FakeInvoker:
    def __init__(self, answer: dict[str, Any] | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, function: str, payload: dict[str, Any]) -> Any:
        self.calls.append((function, payload))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def settings(confirm: str = MONITOR) -> RouterSettings:
    return RouterSettings(
        workflows={
            a: f"arn:aws:states:us-east-1:123456789012:stateMachine:sentinel-{a}" for a in ("scale-out", "rollback")
        },
        table_name="sentinel-table",
        topic_arn="arn:aws:sns:us-east-1:123456789012:sentinel-notifications",
        alarm_prefix="sentinel-",
        latency_confirm_function=confirm,
        watched_endpoints=frozenset({ENDPOINT}),
        policy=load_policy(),
    )


def confirmed(cause: str, previous: str | None = None) -> dict[str, Any]:
    answer = {
        "confirmed": True,
        "cause": cause,
        "onset": "2019-10-03T15:56:00Z",
        "detected_at": "2019-10-03T15:58:00Z",
        "magnitude": 1.4,
        "evidence": {"findings": []},
        "summary": f"{ENDPOINT}/AllTraffic: ModelLatency p99 +140%; likely cause: {cause}",
    }
    if previous:
        answer["previous_endpoint_config"] = previous
    return answer


def route(
    event: dict[str, Any], invoker: FakeInvoker, confirm: str = MONITOR, history: list[str] | None = None
) -> tuple[Any, FakeTable, FakeSfn]:
    table, sfn = FakeTable(history), FakeSfn()
    result = route_signal(
        event,
        settings(confirm),
        table=table,
        sfn=sfn,
        notifier=FakeNotifier(),
        invoker=invoker,
        now=1_570_118_404.0,  # type: ignore[arg-type]
    )
    return result, table, sfn


def test_anomaly_alarm_confirmed_as_deployment_rolls_back_to_the_tracked_previous_config() -> None:
    """The detector's ``previous_endpoint_config`` is informational: the target is the tracked history's."""
    invoker = FakeInvoker(confirmed("deployment", previous=f"{ENDPOINT}-config-untracked"))
    history = [f"{ENDPOINT}-config-v2", f"{ENDPOINT}-config-v1"]
    result, table, sfn = route(anomaly_alarm(), invoker, history=history)
    assert invoker.calls == [
        (
            MONITOR,
            {
                "endpoint_name": ENDPOINT,
                "variant_name": "AllTraffic",
                "alarm_name": f"sentinel-{ENDPOINT}-latency-anomaly",
                "state_timestamp": "2019-10-03T16:00:04.653+0000",
            },
        )
    ]
    assert (result.status, result.action, result.signal) == ("started", "rollback", "latency-regression")
    ((arn, name, payload),) = sfn.started
    assert arn.endswith("sentinel-rollback") and name.startswith(f"rollback-{ENDPOINT}-")
    assert payload["target_config"] == f"{ENDPOINT}-config-v1"
    assert table.records[-1].signal == "latency-regression"


def test_anomaly_alarm_confirmed_as_load_scales_out() -> None:
    result, _, sfn = route(anomaly_alarm(), FakeInvoker(confirmed("load")))
    assert (result.status, result.action) == ("started", "scale-out")
    assert sfn.started[0][2]["signal"]["kind"] == "latency-regression"


def test_anomaly_alarm_not_confirmed_starts_no_workflow_and_is_audited_as_ignored() -> None:
    answer = {"confirmed": False, "summary": "no sustained regression in the p99 series (score 0.12)"}
    result, table, sfn = route(anomaly_alarm(), FakeInvoker(answer))
    assert (result.status, result.action) == ("ignored", "none")
    assert result.reason == "not confirmed by the detector: no sustained regression in the p99 series (score 0.12)"
    assert sfn.started == []
    assert [(r.outcome, r.signal) for r in table.records] == [("ignored", "latency-alarm")]


def test_same_alarm_confirmed_twice_maps_to_one_execution_name() -> None:
    first, _, sfn1 = route(anomaly_alarm(), FakeInvoker(confirmed("load")))
    second, _, sfn2 = route(anomaly_alarm(), FakeInvoker(confirmed("load")))
    assert sfn1.started[0][1] == sfn2.started[0][1]
    assert first.decision_id == second.decision_id


def test_without_the_confirm_function_a_latency_alarm_follows_its_rule() -> None:
    invoker = FakeInvoker(confirmed("deployment"))
    result, _, _ = route(anomaly_alarm(), invoker, confirm="")
    assert invoker.calls == []
    assert (result.status, result.action, result.signal) == ("started", "scale-out", "latency-alarm")


@pytest.mark.parametrize(
    "answer", [InvocationFailedError("sentinel-LatencyMonitorFunction failed: Timeout"), {"status": "rejected"}]
)
def test_detector_unavailable_fails_open_to_the_alarm_rule(answer: Any) -> None:
    result, table, _ = route(anomaly_alarm(), FakeInvoker(answer))
    assert (result.status, result.action, result.signal) == ("started", "scale-out", "latency-alarm")
    assert "detector unavailable" in table.records[-1].summary


def test_recovery_transition_does_not_ask_the_detector() -> None:
    invoker = FakeInvoker(confirmed("load"))
    result, _, _ = route(anomaly_alarm("OK"), invoker)
    assert invoker.calls == []
    assert result.status == "ignored"


def test_detector_without_history_keeps_the_alarm_rule() -> None:
    answer = {"confirmed": False, "verdict": "insufficient-history", "summary": "detector has 3 points, needs 30"}
    result, table, _ = route(anomaly_alarm(), FakeInvoker(answer))
    assert (result.status, result.action, result.signal) == ("started", "scale-out", "latency-alarm")
    assert "detector cannot judge yet" in table.records[-1].summary

"""One endpoint, one workflow: the endpoint lease under concurrent deliveries (local cloud, moto).

The router runs in-process from many threads at once against the local cloud's DynamoDB and Step
Functions, with the settings template.yaml gives AlarmRouterFunction, as concurrent Lambda
invocations would. ``RouterStarted`` is the handler's metric for a ``started`` result, one for one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from llmops_sentinel.adapters.dynamodb import Lease, SentinelTable
from llmops_sentinel.adapters.sns import Notifier
from llmops_sentinel.adapters.stepfunctions import StepFunctionsAdapter
from llmops_sentinel.domain.remediation.policy import decide
from llmops_sentinel.errors import ThrottledError
from llmops_sentinel.models.signals import parse_signal
from llmops_sentinel.services.remediation import CLAIM_STALE_S, RouteResult, RouterSettings, route_signal
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint
from tests.conftest import AWS_EVENTS, load_json
from tests.integration.remediation_helpers import (
    ENDPOINT,
    all_executions,
    audit,
    load_regression,
    policy_text,
    route,
    router_event,
    task_token,
)

BASE = {"VerifyWaitSeconds": "1", "VerifyMaxAttempts": "3", "EndpointName": ENDPOINT}
THREADS = 20


@pytest.fixture(autouse=True)
def _item_writes_are_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each write to an item atomically; moto's in-process server does not (two
    concurrent UpdateItem ``ADD`` can lose one). Give moto's backend that one guarantee, nothing more:
    the router's own ordering and conditions are what the tests below check."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "get_item"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)


def settings_of(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> RouterSettings:
    for key, value in cloud.runtime.spec("AlarmRouterFunction").environment.items():
        monkeypatch.setenv(key, value)
    return RouterSettings.from_env()


def deliver_at_once(cloud: LocalCloud, settings: RouterSettings, events: list[dict[str, Any]]) -> list[RouteResult]:
    """Every event routed from its own thread, released together."""
    barrier = threading.Barrier(len(events))
    results: list[RouteResult | BaseException] = [RuntimeError("not run")] * len(events)

    def run(index: int) -> None:
        table = SentinelTable(settings.table_name, ddb=cloud.client("dynamodb"))
        sfn = StepFunctionsAdapter(cloud.client("stepfunctions"))
        notifier = Notifier(settings.topic_arn, sns=cloud.client("sns"))
        barrier.wait()
        try:
            results[index] = route_signal(events[index], settings, table=table, sfn=sfn, notifier=notifier)
        except BaseException as exc:  # reported below with the others
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures
    return [r for r in results if isinstance(r, RouteResult)]


def test_twenty_concurrent_deliveries_of_one_signal_start_one_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = policy_text(actions={"scale-out": {"cooldown_minutes": 0}})
    with LocalCloud(parameters={**BASE, "RemediationPolicy": policy}) as cloud:
        create_endpoint(cloud, instances=1)
        settings = settings_of(cloud, monkeypatch)
        for repetition in range(3):
            event = load_regression(f"concurrent-occurrence-{repetition}")
            results = deliver_at_once(cloud, settings, [event] * THREADS)
            statuses = Counter(r.status for r in results)
            assert statuses == {"started": 1, "duplicate": THREADS - 1}, (repetition, statuses)
            router_started = statuses["started"]  # the handler emits RouterStarted once per started result
            assert router_started == 1
            (started,) = [r for r in results if r.status == "started"]
            assert {r.execution_arn for r in results if r.execution_arn} == {started.execution_arn}
            record = next(r for r in audit(cloud) if r["decision_id"] == started.decision_id)
            assert (record["outcome"], record["execution_arn"], record["deliveries"]) == (
                "started",
                started.execution_arn,
                THREADS,
            )
            assert len(all_executions(cloud)) == repetition + 1
            assert cloud.wait_for_execution(started.execution_arn)["status"] == "SUCCEEDED"


def test_three_different_signals_on_one_endpoint_start_one_workflow(monkeypatch: pytest.MonkeyPatch) -> None:
    # Approval keeps every workflow RUNNING, so the lease is held for the whole test.
    approval = {"require_approval": True, "approval_timeout_seconds": 600}
    actions = {name: approval for name in ("scale-out", "scale-down", "retrain")}
    with LocalCloud(parameters={**BASE, "RemediationPolicy": policy_text(actions=actions)}) as cloud:
        create_endpoint(cloud, instances=2)
        settings = settings_of(cloud, monkeypatch)
        for repetition in range(3):
            events = [
                load_regression(f"load-{repetition}"),
                {**router_event("drift_detected.json"), "id": f"drift-{repetition}"},
                {**router_event("endpoint_idle.json"), "id": f"idle-{repetition}"},
            ]
            results = deliver_at_once(cloud, settings, events)
            started = [r for r in results if r.status == "started"]
            assert len(started) == (1 if repetition == 0 else 0), [(r.action, r.status, r.reason) for r in results]
            if repetition == 0:
                holder = started[0]  # later repetitions: the first winner still holds the lease
            for loser in (r for r in results if r.status != "started"):
                if loser.action == holder.action:  # the holder's own action: its cooldown answers first
                    assert loser.status == "cooldown", loser
                    continue
                outranks = settings.policy.rank(loser.action) < settings.policy.rank(holder.action)
                assert loser.status == ("queued" if outranks else "superseded"), (loser, holder.action)
                assert holder.action in loser.reason
            assert len(all_executions(cloud)) == 1
            outcomes = {r["decision_id"]: r["outcome"] for r in audit(cloud)}
            assert all(outcomes[r.decision_id] == r.status for r in results)  # every decision audited as it ended


def approval_token(cloud: LocalCloud) -> str:
    for _ in range(200):
        try:
            return task_token(cloud)
        except AssertionError:
            time.sleep(0.05)
    raise AssertionError("the held workflow never asked for approval")


@pytest.fixture
def held() -> Iterator[LocalCloud]:
    """scale-down (idle) waiting for approval: RUNNING, holding the endpoint's lease."""
    approval = {"require_approval": True, "approval_timeout_seconds": 600}
    policy = policy_text(actions={"scale-down": approval})
    with LocalCloud(parameters={**BASE, "RemediationPolicy": policy}) as cloud:
        create_endpoint(cloud, instances=2)
        first = route(cloud, router_event("endpoint_idle.json"))
        assert (first["status"], first["action"]) == ("started", "scale-down")
        yield cloud


def test_weaker_action_is_superseded_and_stronger_is_queued_then_the_lease_is_handed_over(held: LocalCloud) -> None:
    cloud = held
    weaker = route(cloud, router_event("drift_detected.json"))
    assert (weaker["action"], weaker["status"]) == ("retrain", "superseded")
    stronger = route(cloud, load_regression("stronger"))
    assert (stronger["action"], stronger["status"]) == ("scale-out", "queued")
    assert any("scale-out outranks it" in m for m in cloud.sns_messages(cloud.stack.ref("NotificationTopic")))
    table = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    lease = table.lease(ENDPOINT)
    assert lease is not None
    assert (lease.action, lease.state, lease.queued_action) == ("scale-down", "started", "scale-out")
    # the cooldowns of the decisions that did not act were not consumed
    locks = [i["pk"]["S"] for i in cloud.client("dynamodb").scan(TableName=table.name)["Items"]]
    assert f"guard#{ENDPOINT}#retrain" not in locks and f"guard#{ENDPOINT}#scale-out" not in locks

    cloud.client("stepfunctions").send_task_success(taskToken=approval_token(cloud), output='{"approved": true}')
    (execution,) = cloud.executions("ScaleDownStateMachine")
    assert cloud.wait_for_execution(execution["executionArn"])["status"] == "SUCCEEDED"
    again = route(cloud, {**router_event("drift_detected.json"), "id": "drift-after-the-lease"})
    assert (again["action"], again["status"]) == ("retrain", "started")  # handed over: the holder ended
    assert sorted(r["outcome"] for r in audit(cloud)) == ["queued", "started", "started", "superseded"]


class ThrottledOnce(StepFunctionsAdapter):
    """The real adapter, whose first StartExecution is throttled (as Step Functions may do)."""

    def __init__(self, sfn: Any) -> None:
        super().__init__(sfn)
        self.throttled = False

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> Any:
        if not self.throttled:
            self.throttled = True
            raise ThrottledError("StartExecution throttled")
        return super().start(state_machine_arn, name, payload)


def test_a_failed_start_releases_the_lease_so_the_retry_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalCloud(parameters=BASE) as cloud:
        create_endpoint(cloud, instances=1)
        settings = settings_of(cloud, monkeypatch)
        table = SentinelTable(settings.table_name, ddb=cloud.client("dynamodb"))
        sfn = ThrottledOnce(cloud.client("stepfunctions"))
        event = load_regression("throttled-once")
        with pytest.raises(ThrottledError):
            route_signal(event, settings, table=table, sfn=sfn)
        assert table.lease(ENDPOINT) is None
        assert all_executions(cloud) == []
        retried = route_signal(event, settings, table=table, sfn=sfn)
        assert retried.status == "started"
        assert [r["outcome"] for r in audit(cloud)] == ["started"]


@pytest.mark.parametrize(("claimed_ago", "status"), [(10, "duplicate"), (CLAIM_STALE_S + 1, "started")])
def test_a_claim_by_a_delivery_that_died_is_taken_over_once_stale(
    monkeypatch: pytest.MonkeyPatch, claimed_ago: int, status: str
) -> None:
    with LocalCloud(parameters=BASE) as cloud:
        create_endpoint(cloud, instances=1)
        settings = settings_of(cloud, monkeypatch)
        table = SentinelTable(settings.table_name, ddb=cloud.client("dynamodb"))
        sfn = StepFunctionsAdapter(cloud.client("stepfunctions"))
        event = load_regression("died-after-claim")
        now = time.time()
        decision_id = decide(parse_signal(event), settings.policy).decision_id
        dead = Lease(
            decision_id=decision_id,
            action="scale-out",
            rank=1,
            token="dead-delivery",
            claimed_at=int(now - claimed_ago),
            expires_at=int(now + 3600),
        )
        assert table.take_lease(ENDPOINT, dead, now - claimed_ago) is None
        result = route_signal(event, settings, table=table, sfn=sfn, now=now)
        assert result.status == status
        assert len(all_executions(cloud)) == (1 if status == "started" else 0)


def workflow_ended(cloud: LocalCloud, execution_arn: str, **detail: Any) -> dict[str, Any]:
    """Step Functions' own end-of-execution event (the published shape) for a local-cloud execution."""
    event: dict[str, Any] = load_json(AWS_EVENTS / "stepfunctions_execution_status_change_succeeded__awsdocs.json")
    described = cloud.client("stepfunctions").describe_execution(executionArn=execution_arn)
    event["resources"] = [execution_arn]
    event["detail"].update({
        "executionArn": execution_arn, "stateMachineArn": described["stateMachineArn"], "name": described["name"],
        "status": described["status"], "input": described["input"], **detail,
    })  # fmt: skip
    return event


def test_the_queued_decision_is_routed_when_the_workflow_it_waits_for_ends(held: LocalCloud) -> None:
    cloud = held
    queued = route(cloud, load_regression("stronger"))
    assert (queued["action"], queued["status"]) == ("scale-out", "queued")
    weaker = route(cloud, router_event("drift_detected.json"))  # outranked by the queued one: cannot replace it
    assert weaker["status"] == "superseded"
    (running,) = cloud.executions("ScaleDownStateMachine")
    early = route(cloud, workflow_ended(cloud, running["executionArn"]))  # RUNNING still: nothing handed over
    assert early["status"] == "ignored" and early["action"] == "none", early
    other = "arn:aws:states:us-east-1:123456789012:stateMachine:other"  # not one of the stack's workflows
    forged = route(cloud, workflow_ended(cloud, running["executionArn"], status="SUCCEEDED", stateMachineArn=other))
    assert (forged["status"], forged["error"]) == ("rejected", "UntrustedSourceError"), forged
    lease = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb")).lease(ENDPOINT)
    assert lease is not None and (lease.action, lease.queued_action) == ("scale-down", "scale-out")

    cloud.client("stepfunctions").send_task_success(taskToken=approval_token(cloud), output='{"approved": true}')
    assert cloud.wait_for_execution(running["executionArn"])["status"] == "SUCCEEDED"
    ended = workflow_ended(cloud, running["executionArn"])
    redriven = route(cloud, ended)
    assert (redriven["action"], redriven["status"]) == ("scale-out", "started"), redriven
    assert redriven["decision_id"] == queued["decision_id"]  # the same decision, now acted on
    assert len(cloud.executions("ScaleOutStateMachine")) == 1

    again = route(cloud, ended)  # EventBridge delivers at least once
    assert again["status"] == "ignored" and "nothing is queued" in again["reason"], again
    outcomes = {r["decision_id"]: r["outcome"] for r in audit(cloud)}
    assert outcomes[queued["decision_id"]] == "started"
    assert len(cloud.executions("ScaleOutStateMachine")) == 1

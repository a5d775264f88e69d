"""Guardrails before any action: idempotency, cooldown, daily limit, dry-run; all audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmops_sentinel.adapters.dynamodb import SentinelTable
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint, instance_count
from tests.integration.remediation_helpers import ENDPOINT, all_executions, audit, load_regression, policy_text, route

BASE = {"VerifyWaitSeconds": "1", "EndpointName": ENDPOINT}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters=BASE) as running:
        create_endpoint(running, instances=1)
        yield running


def test_same_signal_twice_starts_one_execution_and_counts_once(cloud: LocalCloud) -> None:
    first = route(cloud, load_regression("occurrence-1"))
    second = route(cloud, load_regression("occurrence-1"))
    assert (first["status"], second["status"]) == ("started", "duplicate")
    assert first["execution_arn"] == second["execution_arn"]
    assert len(all_executions(cloud)) == 1
    records = audit(cloud)
    assert len(records) == 1
    assert records[0]["deliveries"] == 2
    assert records[0]["outcome"] == "started"
    daily = cloud.client("dynamodb").scan(TableName=cloud.stack.ref("SentinelTable"))["Items"]
    counters = [i for i in daily if i["pk"]["S"].startswith("daily#")]
    assert [c["actions"]["N"] for c in counters] == ["1"]


def test_second_signal_inside_the_cooldown_is_recorded_not_acted_on(cloud: LocalCloud) -> None:
    first = route(cloud, load_regression("occurrence-1"))
    cloud.wait_for_execution(first["execution_arn"])
    second = route(cloud, load_regression("occurrence-2"))
    assert second["status"] == "cooldown"
    assert "cooling down" in second["reason"]
    assert len(all_executions(cloud)) == 1
    assert instance_count(cloud) == 2  # the first one acted, the second did not
    assert sorted(r["outcome"] for r in audit(cloud)) == ["cooldown", "started"]


def test_audit_record_links_signal_to_execution_and_outcome(cloud: LocalCloud) -> None:
    started = route(cloud, load_regression("occurrence-1"))
    cloud.wait_for_execution(started["execution_arn"])
    (record,) = audit(cloud)
    assert record["signal"] == "latency-regression"
    assert record["execution_arn"] == started["execution_arn"]
    assert record["status"] == "SUCCEEDED"  # written by the state machine itself
    assert record["finished_at"]


def test_cooldown_expires_and_the_lock_is_conditional(cloud: LocalCloud) -> None:
    table = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    assert table.acquire(ENDPOINT, "scale-out", "d1", None, cooldown_s=600, now=1_000) is True
    assert table.acquire(ENDPOINT, "scale-out", "d1", None, cooldown_s=600, now=1_010) is False  # redelivery
    held = table.acquire(ENDPOINT, "scale-out", "d2", None, cooldown_s=600, now=1_300)
    assert not isinstance(held, bool)
    assert (held.decision_id, held.until) == ("d1", 1_600)  # the redelivery did not extend it
    assert table.acquire(ENDPOINT, "scale-out", "d2", None, cooldown_s=600, now=1_601) is True
    assert table.acquire(ENDPOINT, "scale-down", "d3", None, cooldown_s=600, now=1_602) is True  # per action


def test_daily_limit_is_enforced_per_endpoint_and_day(cloud: LocalCloud) -> None:
    table = SentinelTable(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    day = 1_795_000_000
    assert [table.count_action(ENDPOINT, 2, now=day) for _ in range(3)] == [True, True, False]
    assert table.count_action("other-endpoint", 2, now=day) is True
    assert table.count_action(ENDPOINT, 2, now=day + 86_400) is True


def test_daily_limit_through_the_router_releases_the_lock() -> None:
    params = {
        **BASE,
        "RemediationPolicy": policy_text(max_actions_per_day=1, actions={"scale-out": {"cooldown_minutes": 0}}),
    }
    with LocalCloud(parameters=params) as cloud:
        create_endpoint(cloud, instances=1)
        first = route(cloud, load_regression("occurrence-1"))
        cloud.wait_for_execution(first["execution_arn"])
        second = route(cloud, load_regression("occurrence-3"))
        assert second["status"] == "daily-limit"
        assert len(all_executions(cloud)) == 1
        locks = [
            i
            for i in cloud.client("dynamodb").scan(TableName=cloud.stack.ref("SentinelTable"))["Items"]
            if i["pk"]["S"].startswith("guard#")
        ]
        assert second["decision_id"] not in [lock["decision_id"]["S"] for lock in locks]


def test_dry_run_records_the_decision_and_changes_nothing() -> None:
    with LocalCloud(parameters={**BASE, "RemediationPolicy": policy_text(dry_run=True)}) as cloud:
        create_endpoint(cloud, instances=1)
        result = route(cloud, load_regression("occurrence-1"))
        assert result["status"] == "dry-run"
        assert "would start scale-out" in result["reason"]
        assert all_executions(cloud) == []
        assert instance_count(cloud) == 1
        assert [r["outcome"] for r in audit(cloud)] == ["dry-run"]


def test_history_cli_prints_the_audit_trail(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from sentinel_dev.cli.main import main

    started = route(cloud, load_regression("occurrence-1"))
    cloud.wait_for_execution(started["execution_arn"])
    route(cloud, load_regression("occurrence-2"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint_url)
    table = cloud.stack.ref("SentinelTable")
    assert main(["history", "--endpoint", ENDPOINT, "--table", table, "--json"]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out)
    assert sorted(r["outcome"] for r in rows) == ["cooldown", "started"]
    assert main(["history", "--endpoint", ENDPOINT, "--table", table]) == 0
    text = capsys.readouterr().out
    assert "latency-regression" in text
    assert "SUCCEEDED" in text
    assert main(["history", "--endpoint", "nobody", "--table", table]) == 0
    assert "no remediation decisions" in capsys.readouterr().out
    assert main(["history", "--endpoint", ENDPOINT, "--table", "no-such-table"]) == 2

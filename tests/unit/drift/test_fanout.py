"""Drift fan-out over the fleet: the list phase's plan (registry + monitors.yaml, defaults for
unlisted endpoints, opt-outs, no-baseline skipped), the per-item check (isolated; throttling raised for
the Map's Retry), and the in-process run (one failing item is its result, the others are checked).
S3 and DynamoDB are moto; profiles are built from seeded synthetic chat traffic."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.adapters.s3 import DriftStore, baseline_key
from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.domain.drift.profiles import profile_to_json
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint
from llmops_sentinel.errors import InvalidEventError, ThrottledError
from llmops_sentinel.services.drift import DriftSettings
from llmops_sentinel.services.drift_fanout import (
    CheckOne,
    check_one,
    handle_fanout,
    parse_check_one,
    plan_checks,
    run_fanned_out,
)
from tests.conftest import sentinel_table

AT = datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
REGION = "us-east-1"
MONITORS = """version: 1
defaults:
  min_records: 50
monitors:
  - endpoint: listed-only
  - endpoint: tuned
    window_minutes: 30
  - endpoint: opted-out
    enabled: false
"""


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="data")
        ddb = sentinel_table(REGION)
        yield {"s3": s3, "ddb": ddb}


def _settings() -> DriftSettings:
    return DriftSettings(bucket="data", kms_key_id="alias/aws/s3", monitors=load_monitors(text=MONITORS))


def _store(aws: dict[str, Any]) -> DriftStore:
    store = DriftStore("data", "alias/aws/s3")
    store.s3 = aws["s3"]  # type: ignore[misc]
    return store


def _watch(aws: dict[str, Any], *names: str) -> FleetRegistry:
    registry = FleetRegistry("t", ddb=aws["ddb"])
    for name in names:
        registry.put(
            WatchedEndpoint(endpoint_name=name, variants=["AllTraffic"], source="tag", since="2026-11-01T00:00:00Z",
                            updated_at="2026-11-01T00:00:00Z")
        )  # fmt: skip
    return registry


def _profiles(
    store: DriftStore, chat_lines: Callable[[int, int], list[bytes]], endpoints: list[str], seed: int = 1
) -> None:
    baseline, _ = build_baseline([b"\n".join(chat_lines(300, seed))])
    current, _ = build_baseline([b"\n".join(chat_lines(300, seed + 1))])
    for endpoint in endpoints:
        store.put_baseline(endpoint, profile_to_json(baseline))
        store.put_profile(endpoint, AT - timedelta(minutes=8), "batch", profile_to_json(current))


def test_the_plan_is_the_fleet_with_defaults_and_the_listed_entries_with_a_baseline(aws: dict[str, Any]) -> None:
    registry = _watch(aws, "fleet-b", "fleet-a", "tuned", "opted-out", "no-baseline")
    store = _store(aws)
    for name in ("fleet-a", "fleet-b", "tuned", "opted-out", "listed-only"):
        store.put_baseline(name, b"{}")
    store.put("baselines/nested/x.json", b"{}")  # not a baseline key: ignored
    plan = plan_checks({"phase": "list", "time": AT.isoformat()}, _settings(), registry, store)
    # listed entries first (file order), then the rest of the fleet by name; opted-out is never checked
    assert plan.endpoints == ["listed-only", "tuned", "fleet-a", "fleet-b"]
    assert [(s.endpoint, s.status) for s in plan.skipped] == [("no-baseline", "no-baseline")]
    assert plan.watched == 5 and plan.at == "2026-11-26T10:30:00Z"
    assert baseline_key("no-baseline") in (plan.skipped[0].reason or "")


def test_an_empty_fleet_and_no_entries_is_an_empty_plan(aws: dict[str, Any]) -> None:
    settings = DriftSettings(bucket="data", kms_key_id="k", monitors=load_monitors(text="version: 1\nmonitors: []\n"))
    plan = plan_checks({"phase": "list", "time": AT.isoformat()}, settings, _watch(aws), _store(aws))
    assert plan.endpoints == [] and plan.skipped == [] and plan.watched == 0


def test_a_watched_endpoint_without_an_entry_gets_the_defaults_monitor() -> None:
    monitors = load_monitors(text=MONITORS)
    assert monitors.monitor_for("fleet-a").window_minutes == monitors.defaults.window_minutes
    assert monitors.monitor_for("tuned").window_minutes == 30
    assert [m.endpoint for m in monitors.fleet(["opted-out", "fleet-a"])] == ["listed-only", "tuned", "fleet-a"]


@pytest.mark.parametrize(
    "item",
    [{"phase": "check", "endpoint": "bad name!", "at": "2026-11-26T10:30:00Z"},
     {"phase": "check", "at": "2026-11-26T10:30:00Z"},
     {"phase": "check", "endpoint": "ep", "at": "2026-11-26T10:30:00Z", "extra": 1}],
)  # fmt: skip
def test_a_bad_map_item_is_invalid_input(item: dict[str, Any]) -> None:
    with pytest.raises(InvalidEventError, match="not a drift check item"):
        parse_check_one(item)


def test_one_item_is_checked_with_its_own_window(
    aws: dict[str, Any], chat_lines: Callable[[int, int], list[bytes]]
) -> None:
    store = _store(aws)
    _profiles(store, chat_lines, ["tuned"])
    result = check_one(CheckOne(phase="check", endpoint="tuned", at=AT.isoformat()), _settings(), store, None)
    (check,) = result.checks
    assert check.status in {"drift", "no-drift"}, check
    assert (check.window_start, check.window_end) == ("2026-11-26T09:58:00Z", "2026-11-26T10:28:00Z")
    assert check.report_key and store.get(check.report_key)


def _slow_down_on(aws: dict[str, Any], endpoint: str) -> None:
    """S3 answers 503 SlowDown for one endpoint's baseline (S3 throttles per prefix)."""

    def slow(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == baseline_key(endpoint):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}},
                              "GetObject")  # fmt: skip

    aws["s3"].meta.events.register("provide-client-params.s3.GetObject", slow)


def test_throttling_is_raised_for_the_maps_retry_other_errors_are_the_items_result(
    aws: dict[str, Any], chat_lines: Callable[[int, int], list[bytes]]
) -> None:
    store = _store(aws)
    _profiles(store, chat_lines, ["fleet-a", "fleet-b"])
    store.put_baseline("fleet-b", b"not json")
    _slow_down_on(aws, "fleet-a")
    with pytest.raises(ThrottledError, match="S3 throttled"):
        check_one(CheckOne(phase="check", endpoint="fleet-a", at=AT.isoformat()), _settings(), store, None)
    (broken,) = check_one(CheckOne(phase="check", endpoint="fleet-b", at=AT.isoformat()), _settings(), store).checks
    assert broken.status in {"error", "bad-input"} and broken.reason


def test_the_in_process_run_isolates_a_failing_item(
    aws: dict[str, Any], chat_lines: Callable[[int, int], list[bytes]]
) -> None:
    names = ["fleet-a", "fleet-b", "fleet-c", "fleet-d"]
    registry = _watch(aws, *names)
    store = _store(aws)
    _profiles(store, chat_lines, names)
    _slow_down_on(aws, "fleet-b")
    result = run_fanned_out({"time": AT.isoformat()}, _settings(), registry, store, max_concurrency=3)
    by = {c.endpoint: c for c in result.checks}
    assert set(by) == {*names, "listed-only", "tuned"}
    assert by["fleet-b"].status == "error" and "ThrottledError" in (by["fleet-b"].reason or "")
    for name in ("fleet-a", "fleet-c", "fleet-d"):
        assert by[name].status in {"drift", "no-drift"} and by[name].report_key, by[name]
    assert by["listed-only"].status == by["tuned"].status == "no-baseline"


def test_the_handler_phases_answer_the_state_machines_shapes(
    aws: dict[str, Any], chat_lines: Callable[[int, int], list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LLMOpsSentinel")
    registry = _watch(aws, "fleet-a")
    store = _store(aws)
    _profiles(store, chat_lines, ["fleet-a"])
    settings = _settings()
    monkeypatch.setattr(DriftSettings, "store", lambda self: store)
    plan = handle_fanout({"phase": "list", "time": AT.isoformat()}, settings, registry)
    assert set(plan) == {"at", "endpoints", "skipped", "watched"}  # the ASL's ResultSelector reads these
    assert plan["endpoints"] == ["fleet-a"]
    item = handle_fanout({"phase": "check", "endpoint": "fleet-a", "at": plan["at"]}, settings, registry)
    assert item["endpoint"] == "fleet-a" and item["status"] in {"drift", "no-drift"}
    assert "feature_scores" not in item
    assert item["window_end"] == "2026-11-26T10:28:00Z"

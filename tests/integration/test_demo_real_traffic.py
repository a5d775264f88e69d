"""The real-traffic demo day (``sentinel demo --scenario full``): every incident closes its loop exactly
once, and nothing else acts. Read from what the stack recorded (the Sentinel table's audit items, Step
Functions executions, SageMaker's endpoint state), never from the demo's narration."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.domain.cost import load_price_book
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import stack_outcomes
from sentinel_dev.local.scenes import day, trace
from sentinel_dev.report.local import cloud_report

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def ran() -> Iterator[tuple[day.Day, Any, dict[str, Any]]]:
    with LocalCloud(parameters=day.parameters()) as cloud:
        run = day.Day(cloud, None, np.random.default_rng(7), "full")
        report = run.run()
        outcomes = stack_outcomes(cloud, [day.CHAT, day.CODE])
        end = run.end_at.timestamp()
        outcomes["report"] = cloud_report(cloud, run.start.timestamp(), end, load_price_book(), now=end)
        yield run, report, outcomes


def decisions(outcomes: dict[str, Any], endpoint: str) -> Counter[tuple[str, str, str]]:
    return Counter((d["signal"], d["action"], d["outcome"]) for d in outcomes[endpoint]["decisions"])


def test_every_expected_decision_once_and_nothing_else(ran: tuple[day.Day, Any, dict[str, Any]]) -> None:
    _, _, outcomes = ran
    assert decisions(outcomes, day.CHAT) == Counter(
        {
            ("idle", "scale-down", "started"): 1,  # quiet night -> floor
            ("latency-regression", "rollback", "started"): 1,  # regressing config (the duplicate adds none)
            ("latency-alarm", "none", "ignored"): 1,  # the p99 guard back to OK after the rollback
            ("drift", "retrain", "started"): 1,  # code traffic on chat-llm (the detector's bus event)
            ("drift-alarm", "retrain", "cooldown"): 1,  # its DriftDetected metric -> alarm -> router: one retrain
            ("drift-alarm", "none", "ignored"): 1,  # the drift alarm back to OK
        }
    )
    assert decisions(outcomes, day.CODE) == Counter(
        {
            ("latency-regression", "scale-out", "started"): 1,  # surge
            ("latency-alarm", "none", "ignored"): 1,  # back to OK on two instances
        }
    )


def test_every_decision_is_dated_in_the_simulated_day(ran: tuple[day.Day, Any, dict[str, Any]]) -> None:
    """Bus events (Endpoint Idle, Model Drift Detected, ...) carry the simulated time they were put at (the
    local cloud's clock), as alarm transitions do: the audit trail dates every signal inside the day."""
    run, _, outcomes = ran
    begin, end = run.start, run.start + timedelta(days=1)
    for name in (day.CHAT, day.CODE):
        for d in outcomes[name]["decisions"]:
            assert begin <= datetime.fromisoformat(d["occurred_at"].replace("Z", "+00:00")) < end, d
    (idle,) = [d for d in outcomes[day.CHAT]["decisions"] if d["signal"] == "idle"]
    assert idle["occurred_at"].startswith((begin + timedelta(hours=6, minutes=30)).strftime("%Y-%m-%dT%H:%M"))


def test_every_workflow_ran_once_and_succeeded(ran: tuple[day.Day, Any, dict[str, Any]]) -> None:
    _, _, outcomes = ran
    chat = Counter((e["workflow"], e["status"]) for e in outcomes[day.CHAT]["executions"])
    code = Counter((e["workflow"], e["status"]) for e in outcomes[day.CODE]["executions"])
    assert chat == Counter(
        {
            ("ScaleDownStateMachine", "SUCCEEDED"): 1,
            ("RollbackStateMachine", "SUCCEEDED"): 1,
            ("RetrainStateMachine", "SUCCEEDED"): 1,
        }
    )
    assert code == Counter({("ScaleOutStateMachine", "SUCCEEDED"): 1})
    assert outcomes[day.CODE]["instances"] == 2
    assert outcomes[day.CHAT]["endpoint_config"] == f"{day.CHAT}-config-v1"


def test_the_duplicate_delivery_reached_the_router_and_started_nothing(
    ran: tuple[day.Day, Any, dict[str, Any]],
) -> None:
    run, _, _ = ran
    routed = [i.result or {} for i in run.cloud.runtime.invocations if i.function == "AlarmRouterFunction"]
    rollbacks = [r for r in routed if r.get("action") == "rollback"]
    assert [r["status"] for r in rollbacks] == ["started", "duplicate"]
    assert len(run.cloud.executions("RollbackStateMachine")) == 1


def test_the_drift_alarm_went_through_cloudwatch_and_eventbridge_in_simulated_time(
    ran: tuple[day.Day, Any, dict[str, Any]],
) -> None:
    """The scheduled check ran as the template runs it (the DriftChecks state machine), its DriftDetected
    datapoint carries the simulated check time, and the alarm on it changed state at the day's 18:05 and
    18:20 evaluations; each transition reached the router as an EventBridge delivery."""
    run, _, _ = ran
    checks = run.cloud.executions("DriftChecksStateMachine")
    assert len(checks) == 2 and all(e["status"] == "SUCCEEDED" for e in checks)
    name = f"{run.cloud.stack_name}-{day.CHAT}-drift"
    transitions = [(t.previous, t.state, t.at - run.start) for t in run.alarms.transitions if t.alarm_name == name]
    minutes = [(a, b, int(d.total_seconds() // 60)) for a, b, d in transitions]
    assert minutes == [("OK", "ALARM", 18 * 60 + 5), ("ALARM", "OK", 18 * 60 + 20)]
    routed = [
        i
        for i in run.cloud.runtime.invocations
        if i.function == "AlarmRouterFunction" and (i.result or {}).get("signal") == "drift-alarm"
    ]
    assert [i.source.startswith("rule:") for i in routed] == [True, True]


def test_governance_found_and_fixed_the_noncompliant_endpoint(ran: tuple[day.Day, Any, dict[str, Any]]) -> None:
    _, report, _ = ran
    facts = report.facts["governance"]
    assert facts["security_hub_failed"] >= 3
    assert facts["enforce"]["endpoint_config"] != facts["dry-run"]["endpoint_config"]
    assert report.ok, report.summary


def test_the_replay_used_the_real_trace(ran: tuple[day.Day, Any, dict[str, Any]]) -> None:
    _, report, _ = ran
    conv, code = trace.load("conv"), trace.load("code")
    assert (len(conv), len(code)) == (19366, 8819)
    # A day of the 58-minute hour, thinned at night and in the evening, plus the surge and the mix:
    # between 10 and 30 hours' worth of each trace's requests.
    requests = report.facts["requests"]
    assert 10 * len(conv) < requests[day.CHAT] < 30 * len(conv)
    assert 10 * len(code) < requests[day.CODE] < 30 * len(code)


def test_the_report_follows_the_instance_counts_and_prices_the_day(ran: tuple[day.Day, Any, dict[str, Any]]) -> None:
    """chat-llm: 3 instances, 1 from the 06:30 scale-down, 3 again from the 11:00 deployment (config-v2 has
    3; the rollback keeps 3); code-llm: 1, then 2 from the 14:xx scale-out. Priced (ml.g5.2xlarge), with
    tokens counted: cost per 1k input and output tokens and idle cost are numbers, not blanks."""
    run, _, outcomes = ran
    views = {v.name: v for v in outcomes["report"].endpoints}
    hour = {
        name: [(round((p.t - run.start.timestamp()) / 3600, 1), p.v) for p in views[name].instances[0].steps]
        for name in (day.CHAT, day.CODE)
    }
    assert [v for _, v in hour[day.CHAT]] == [3.0, 1.0, 3.0] and hour[day.CHAT][1][0] == 6.5
    assert hour[day.CHAT][2][0] == 11.0
    assert [v for _, v in hour[day.CODE]] == [1.0, 2.0] and 14.0 <= hour[day.CODE][1][0] < 15.0
    (chat,) = views[day.CHAT].costs
    assert chat.instance_type == "ml.g5.2xlarge" and chat.priced
    # the report ends with the simulated day (18:30, 5 min after the governance scene at the traffic's end)
    assert run.end_at - run.start == timedelta(hours=18, minutes=30)
    assert chat.instance_hours == pytest.approx(3 * 6.5 + 1 * 4.5 + 3 * 7.5, abs=0.1)
    assert chat.usd_per_1k_input_tokens and chat.usd_per_1k_output_tokens and chat.idle_cost_usd

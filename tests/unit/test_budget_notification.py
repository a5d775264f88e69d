"""AWS Budgets notifications as SNS delivers them: plain text, not JSON (models/budgets.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from llmops_sentinel.errors import InvalidEventError, UntrustedSourceError
from llmops_sentinel.models.budgets import is_sns_event, parse_budget_event
from tests.conftest import EVENTS, load_json

SAMPLE = EVENTS / "alarm_router" / "budget_exceeded_unmapped.json"
TOPIC = "arn:aws:sns:us-east-1:123456789012:sentinel-budgets"

# A notification as AWS Budgets sent it (a daily budget; from a captured Lambda SNS event in a public
# repository, the account number replaced).
REAL_DAILY = (
    "AWS Budget Notification March 05, 2023\nAWS Account 123456789012\n\nDear AWS Customer,\n\nYou requested "
    "that we alert you when the ACTUAL Cost associated with your killswitch budget is greater than $0.75 per "
    "day. Yesterday, the ACTUAL Cost associated with this budget is $1.70. You can find additional details "
    "below and by accessing the AWS Budgets dashboard [1].\n\nBudget Name: killswitch\nBudget Type: Cost\n"
    "Budgeted Amount: $5.00\nAlert Type: ACTUAL\nAlert Threshold: > $0.75\nACTUAL Amount: $1.70\n\n"
    "[1] https://console.aws.amazon.com/billing/home#/budgets\n"
)


def sample() -> dict[str, Any]:
    return copy.deepcopy(load_json(SAMPLE))


def test_the_sample_event_is_plain_text_inside_the_sns_envelope() -> None:
    event = sample()
    assert is_sns_event(event)
    with pytest.raises(json.JSONDecodeError):
        json.loads(event["Records"][0]["Sns"]["Message"])
    (notice,) = parse_budget_event(event, TOPIC)
    assert (notice.budget_name, notice.budget_type, notice.alert_type) == ("team-llm-monthly", "Cost", "ACTUAL")
    assert (notice.budgeted_amount, notice.threshold, notice.actual_amount) == (500.0, 500.0, 512.34)
    assert notice.account == "123456789012" and notice.message_id == "0afa48ef-db9f-5b07-9359-149237adeae5"


def test_a_real_daily_budget_message_reads_the_same_way() -> None:
    event = sample()
    event["Records"][0]["Sns"]["Message"] = REAL_DAILY
    (notice,) = parse_budget_event(event, TOPIC)
    assert (notice.budget_name, notice.threshold, notice.actual_amount, notice.budgeted_amount) == (
        "killswitch",
        0.75,
        1.70,
        5.0,
    )


def test_a_forecasted_alert_reads_its_forecasted_amount() -> None:
    event = sample()
    sns = event["Records"][0]["Sns"]
    sns["Message"] = sns["Message"].replace("ACTUAL", "FORECASTED").replace("$512.34", "$1,234.50")
    (notice,) = parse_budget_event(event, TOPIC)
    assert (notice.alert_type, notice.actual_amount) == ("FORECASTED", 1234.5)


@pytest.mark.parametrize("topic", ["arn:aws:sns:us-east-1:123456789012:other", "", TOPIC + "-x"])
def test_only_the_stack_budget_topic_is_accepted(topic: str) -> None:
    event = sample()
    event["Records"][0]["Sns"]["TopicArn"] = topic or "arn:aws:sns:us-east-1:123456789012:sentinel-budgets"
    with pytest.raises(UntrustedSourceError):
        parse_budget_event(event, TOPIC if topic else "")  # "" = no budget topic configured: nothing accepted


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ('{"AlarmName": "x", "NewStateValue": "ALARM"}', "not an AWS Budgets notification"),
        ("AWS Budget Notification\nBudget Type: Cost\n", "names no budget"),
        ("", "not an AWS Budgets notification"),
    ],
)
def test_a_message_that_is_not_a_budgets_notification_is_a_typed_rejection(message: str, why: str) -> None:
    event = sample()
    event["Records"][0]["Sns"]["Message"] = message
    with pytest.raises(InvalidEventError, match=why):
        parse_budget_event(event, TOPIC)


def test_an_envelope_without_records_is_not_an_sns_event() -> None:
    assert not is_sns_event({"Records": []}) and not is_sns_event({"detail-type": "x"})
    with pytest.raises(InvalidEventError, match="not an SNS event"):
        parse_budget_event({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}, TOPIC)


def _settings(budgets: dict[str, Any], stack_budget: str = "") -> Any:
    from llmops_sentinel.domain.remediation.policy import load_policy
    from llmops_sentinel.services.remediation import RouterSettings

    rules = [rule.model_dump() for rule in load_policy().rules]
    policy = load_policy(text=json.dumps({"version": 1, "rules": rules, "budgets": budgets}))
    return RouterSettings(workflows={}, table_name="t", topic_arn="n", policy=policy, stack_budget=stack_budget)


def test_a_budget_maps_to_its_listed_endpoints_or_every_watched_one_and_an_unknown_one_to_none() -> None:
    from llmops_sentinel.services.budget import budget_endpoints

    (notice,) = parse_budget_event(sample(), TOPIC)  # budget "team-llm-monthly"
    watched = ["b-endpoint", "a-endpoint", "b-endpoint"]
    assert budget_endpoints(notice, _settings({"team-llm-monthly": ["x", "y", "x"]}), lambda: watched) == ["x", "y"]
    assert budget_endpoints(notice, _settings({"team-llm-monthly": "watched"}), lambda: watched) == [
        "a-endpoint",
        "b-endpoint",
    ]
    assert budget_endpoints(notice, _settings({}, stack_budget="team-llm-monthly"), lambda: watched) == [
        "a-endpoint",
        "b-endpoint",
    ]
    assert budget_endpoints(notice, _settings({"other": "watched"}, stack_budget="sentinel-sagemaker"), list) is None


@pytest.mark.parametrize("name", ["a:b", "a\\b", "", "x" * 101])
def test_a_budget_name_aws_budgets_would_refuse_is_a_config_error(name: str) -> None:
    from llmops_sentinel.errors import ConfigError

    with pytest.raises(ConfigError, match="budgets"):
        _settings({name: "watched"})

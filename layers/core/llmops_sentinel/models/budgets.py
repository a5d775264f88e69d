"""AWS Budgets notifications as they reach a Lambda through SNS.

AWS Budgets publishes to an SNS topic a **plain-text** message (not JSON), e.g. (a real notification,
account and amounts changed; ``events/alarm_router/budget_exceeded.json``)::

    AWS Budget Notification March 05, 2023
    AWS Account 123456789012

    Dear AWS Customer,

    You requested that we alert you when the ACTUAL Cost associated with your ... budget is greater
    than $0.75 per day. ...

    Budget Name: killswitch
    Budget Type: Cost
    Budgeted Amount: $5.00
    Alert Type: ACTUAL
    Alert Threshold: > $0.75
    ACTUAL Amount: $1.70

    [1] https://console.aws.amazon.com/billing/home#/budgets

with the subject ``AWS Budgets: <budget name> has exceeded your alert threshold``. The Lambda event is
the SNS envelope (``Records[].Sns``); only records from the stack's own budget topic are accepted
(:class:`~llmops_sentinel.errors.UntrustedSourceError` otherwise), and only a message that anchors as a
Budgets notification (its first line and a ``Budget Name:`` line) is read as one: a future format
change is a typed rejection, never an unintended scale-down.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.errors import InvalidEventError, UntrustedSourceError
from llmops_sentinel.models.validation import first_error

ANCHOR = "AWS Budget Notification"
_FIELD = re.compile(r"^(?P<key>[A-Z][A-Za-z ]+?):\s*(?P<value>.*?)\s*$", re.MULTILINE)
_AMOUNT = re.compile(r"(?P<amount>[0-9][0-9,]*(?:\.[0-9]+)?)")
_ACCOUNT = re.compile(r"^AWS Account (?P<account>\d{12})\s*$", re.MULTILINE)


class _Loose(BaseModel):
    """AWS adds fields over time: accept unknown keys, validate the ones we use."""

    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)


class SnsMessage(_Loose):
    type: str = Field(alias="Type")
    message_id: str = Field(alias="MessageId", min_length=1)
    topic_arn: str = Field(alias="TopicArn", min_length=1)
    subject: str | None = Field(default=None, alias="Subject")
    message: str = Field(alias="Message")
    timestamp: str = Field(alias="Timestamp", min_length=1)


class SnsRecord(_Loose):
    event_source: str = Field(alias="EventSource", pattern="^aws:sns$")
    sns: SnsMessage = Field(alias="Sns")


class SnsEvent(_Loose):
    records: list[SnsRecord] = Field(alias="Records", min_length=1)


class BudgetNotification(BaseModel):
    """What one Budgets notification says (amounts as published, in the budget's currency)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    message_id: str
    topic_arn: str
    sent_at: str
    budget_name: str
    budget_type: str
    alert_type: str
    """ACTUAL or FORECASTED."""
    account: str | None = None
    budgeted_amount: float | None = None
    threshold: float | None = None
    actual_amount: float | None = None
    """The ``ACTUAL Amount`` (or ``FORECASTED Amount``) line."""


def is_sns_event(event: Any) -> bool:
    """Lambda's SNS trigger shape (``Records`` whose ``EventSource`` is ``aws:sns``)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("EventSource") == "aws:sns" for r in records)
    )


def _amount(text: str | None) -> float | None:
    found = _AMOUNT.search(text or "")
    return float(found.group("amount").replace(",", "")) if found else None


def parse_budget_message(sns: SnsMessage) -> BudgetNotification:
    """The plain-text message of one SNS record; :class:`InvalidEventError` if it is not a Budgets one."""
    text = sns.message.replace("\r\n", "\n")
    if not text.lstrip().startswith(ANCHOR):
        raise InvalidEventError(f"SNS message {sns.message_id} is not an AWS Budgets notification")
    fields = {m.group("key").strip(): m.group("value") for m in _FIELD.finditer(text)}
    name = fields.get("Budget Name", "").strip()
    if not name:
        raise InvalidEventError(f"AWS Budgets notification {sns.message_id} names no budget ('Budget Name:' line)")
    alert = fields.get("Alert Type", "").strip().upper()
    account = _ACCOUNT.search(text)
    return BudgetNotification(
        message_id=sns.message_id,
        topic_arn=sns.topic_arn,
        sent_at=sns.timestamp,
        budget_name=name,
        budget_type=fields.get("Budget Type", "").strip(),
        alert_type=alert,
        account=account.group("account") if account else None,
        budgeted_amount=_amount(fields.get("Budgeted Amount")),
        threshold=_amount(fields.get("Alert Threshold")),
        actual_amount=_amount(fields.get(f"{alert} Amount")) if alert else None,
    )


def parse_budget_event(event: Any, trusted_topic_arn: str) -> list[BudgetNotification]:
    """Every record of an SNS event as a Budgets notification, each from ``trusted_topic_arn`` only.

    :class:`UntrustedSourceError` when any record comes from another topic (or no budget topic is
    configured); :class:`InvalidEventError` when the envelope or a message is not what Budgets sends."""
    try:
        parsed = SnsEvent.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"not an SNS event: {first_error(exc)}") from exc
    for record in parsed.records:
        if not trusted_topic_arn or record.sns.topic_arn != trusted_topic_arn:
            raise UntrustedSourceError(
                f"SNS notification from {record.sns.topic_arn!r}: only this stack's budget topic is accepted"
            )
    return [parse_budget_message(record.sns) for record in parsed.records]

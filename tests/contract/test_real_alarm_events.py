"""The real, published CloudWatch alarm events reach the router without breaking it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sentinel_dev.local.cloud import LocalCloud
from tests.conftest import AWS_EVENTS, aws_event

ALARM_EVENTS = sorted(p.name for p in AWS_EVENTS.glob("cloudwatch_alarm_*.json"))
#: The registry's approval event is a signal too (model-approved -> deploy); tested below.
MODEL_PACKAGE = "sagemaker_model_package_state_change__awsdocs.json"
NOT_ALARM_TRANSITIONS = sorted(
    p.name for p in AWS_EVENTS.glob("*.json") if not p.name.startswith("cloudwatch_alarm_") and p.name != MODEL_PACKAGE
)


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as running:
        yield running


@pytest.mark.parametrize("name", ALARM_EVENTS)
def test_foreign_alarm_transitions_are_ignored_not_acted_on(cloud: LocalCloud, name: str) -> None:
    event = aws_event(name)
    record = cloud.invoke("AlarmRouterFunction", event)
    assert record.ok, record.logs
    if name.startswith("cloudwatch_alarm_configuration_change"):
        # A configuration change is another detail-type: the router rejects it, typed.
        assert record.result["status"] == "rejected"
    else:
        assert record.result["status"] == "ignored"
        assert "not managed by this stack" in record.result["reason"]


@pytest.mark.parametrize("name", NOT_ALARM_TRANSITIONS)
def test_any_other_aws_event_is_rejected_with_a_typed_error(cloud: LocalCloud, name: str) -> None:
    record = cloud.invoke("AlarmRouterFunction", aws_event(name))
    assert record.ok, record.logs
    # An SNS delivery is read as a Budgets notification, accepted from the stack's budget topic only; a
    # Step Functions status change as the end of a workflow, accepted for the stack's own state machines only.
    sns, workflow = name.startswith("sns_"), name.startswith("stepfunctions_execution_status_change")
    assert record.result == {
        "status": "rejected",
        "error": "UntrustedSourceError" if sns or workflow else "InvalidEventError",
        "reason": record.result["reason"],
    }
    if sns:
        assert record.result["reason"].endswith("only this stack's budget topic is accepted")
    elif workflow:
        assert record.result["reason"].endswith("not one of this stack's workflows")
    else:
        assert record.result["reason"].startswith("not a CloudWatch alarm event")


def test_no_execution_was_started_by_foreign_events(cloud: LocalCloud) -> None:
    assert cloud.executions("ScaleOutStateMachine") == []


def test_the_documented_model_package_event_is_read_and_not_acted_on(cloud: LocalCloud) -> None:
    """Its group is nobody's here (and it says Rejected): ignored, never a deployment."""
    record = cloud.invoke("AlarmRouterFunction", aws_event(MODEL_PACKAGE))
    assert record.ok, record.logs
    assert record.result["status"] == "ignored"
    assert "no watched endpoint deploys model package group 'versionedmp-p-idy6c3e1fiqj'" in record.result["reason"]

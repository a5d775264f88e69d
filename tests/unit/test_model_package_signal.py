"""The model registry's approval event becomes a ``model-approved`` signal (AWS's documented shape, quirks kept)."""

from __future__ import annotations

from typing import Any

import pytest

from llmops_sentinel.domain.remediation.policy import decide, load_policy
from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.signals import parse_signal
from tests.conftest import aws_event

FIXTURE = "sagemaker_model_package_state_change__awsdocs.json"


def test_the_documented_event_parses_with_its_duplicate_source_key() -> None:
    event = aws_event(FIXTURE)
    signal = parse_signal(event)
    assert signal.kind == "model-approved" and signal.endpoint_name is None
    assert signal.attributes["model_package_group"] == "versionedmp-p-idy6c3e1fiqj"
    assert signal.attributes["approval_status"] == "Rejected"
    assert signal.source_id == event["id"]
    # A rejected package is not deployed: the packaged rules say none.
    assert decide(signal, load_policy()).action == "none"


def test_only_an_approved_package_decides_deploy() -> None:
    event = aws_event(FIXTURE)
    event["detail"]["ModelApprovalStatus"] = "Approved"
    signal = parse_signal(event)
    assert decide(signal, load_policy()).action == "none"  # no endpoint yet: the router maps the group first
    resolved = signal.model_copy(update={"endpoint_name": "demo-llm-endpoint"})
    assert decide(resolved, load_policy()).action == "deploy"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e["detail"].pop("ModelPackageArn"),
        lambda e: e["detail"].update(ModelPackageArn="arn:aws:iam::123456789012:role/x"),
        lambda e: e["detail"].update(ModelPackageGroupName=["a"]),
        lambda e: e.update(source="aws.evil"),
        lambda e: e.pop("id"),
        lambda e: e.update(detail=None),
    ],
)
def test_malformed_approval_events_are_typed_rejections(mutate: Any) -> None:
    event = aws_event(FIXTURE)
    mutate(event)
    with pytest.raises(InvalidEventError):
        parse_signal(event)

"""models/fleet_events.py: the tracker's four triggers, from the real CloudTrail record and malformed ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.fleet_events import (
    CustomResourceRequest,
    FullSync,
    Ignore,
    LookAt,
    parse_fleet_event,
    response_url_allowed,
)
from tests.conftest import AWS_EVENTS, load_json

REAL = AWS_EVENTS / "cloudtrail_records" / "cloudtrail_record_sagemaker_CreateEndpoint__awsdocs.json"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/team-a-llm"


def wrapped(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sagemaker",
        "account": "123456789012",
        "time": "2026-12-03T09:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": record,
    }


def trail(name: str, **params: Any) -> dict[str, Any]:
    record = copy.deepcopy(load_json(REAL))
    record["eventName"] = name
    record["requestParameters"] = params
    return wrapped(record)


def test_the_real_create_endpoint_record_names_the_endpoint_to_look_at() -> None:
    request = parse_fleet_event(wrapped(load_json(REAL)))
    assert request == LookAt(endpoint_name="ExampleEndpoint", why="CreateEndpoint")


@pytest.mark.parametrize("name", ["UpdateEndpoint", "DeleteEndpoint"])
def test_endpoint_calls_name_the_endpoint(name: str) -> None:
    assert parse_fleet_event(trail(name, endpointName="Team-A")) == LookAt(endpoint_name="Team-A", why=name)


@pytest.mark.parametrize("name", ["AddTags", "DeleteTags"])
def test_tag_calls_on_an_endpoint_arn_are_resolved_later(name: str) -> None:
    request = parse_fleet_event(trail(name, resourceArn=ARN, tags=[{"key": "sentinel:monitor", "value": "true"}]))
    assert isinstance(request, LookAt) and (request.endpoint_name, request.from_arn) == ("team-a-llm", True)


@pytest.mark.parametrize(
    "event",
    [
        trail("AddTags", resourceArn="arn:aws:sagemaker:us-east-1:123456789012:model/team-a-llm"),
        trail("AddTags", resourceArn="arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/team-a-llm"),
        trail("CreateModel", modelName="m"),
        {
            **trail("CreateEndpoint", endpointName="x"),
            "detail": {**load_json(REAL), "errorCode": "ValidationException"},
        },
    ],
    ids=["model-arn", "config-arn", "other-call", "failed-call"],
)
def test_what_changes_no_membership_is_ignored(event: dict[str, Any]) -> None:
    assert isinstance(parse_fleet_event(event), Ignore)


def test_state_change_and_schedule() -> None:
    change = load_json(AWS_EVENTS / "sagemaker_endpoint_state_change_in_service__awsdocs.json")
    assert parse_fleet_event(change) == LookAt(endpoint_name="MyEndpoint", why="endpoint state change (IN_SERVICE)")
    assert parse_fleet_event(load_json(AWS_EVENTS / "eventbridge_scheduled_event__awsdocs.json")) == FullSync()


def _custom(**overrides: Any) -> dict[str, Any]:
    return {
        "RequestType": "Create",
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=1",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/sentinel/guid",
        "RequestId": "r-1",
        "LogicalResourceId": "FleetDiscovery",
        "ResourceType": "Custom::FleetDiscovery",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f"},
        **overrides,
    }


def test_a_custom_resource_request_parses_and_its_url_is_checked() -> None:
    request = parse_fleet_event(_custom())
    assert isinstance(request, CustomResourceRequest) and request.RequestType == "Create"
    assert response_url_allowed(request.ResponseURL, local=False)
    assert not response_url_allowed("http://cloudformation-custom-resource-response.s3.amazonaws.com/x?a=1", False)
    assert not response_url_allowed("https://evil.example.com/x?X-Amz-Signature=1", False)
    assert not response_url_allowed("https://s3.amazonaws.com.evil.example/x?a=1", False)
    assert not response_url_allowed("http://127.0.0.1:8080/reply", local=False)
    assert response_url_allowed("http://127.0.0.1:8080/reply", local=True)


@pytest.mark.parametrize(
    "event",
    [
        [],
        "CreateEndpoint",
        {"detail-type": "Something Else", "source": "aws.sagemaker"},
        {"detail-type": "AWS API Call via CloudTrail", "source": "aws.kms", "detail": load_json(REAL)},
        trail("CreateEndpoint"),
        trail("CreateEndpoint", endpointName="bad_name!"),
        trail("DeleteEndpoint", endpointName=["x"]),
        trail("AddTags", resourceArn=7),
        trail("AddTags", resourceArn="a" * 3000),
        {**wrapped(load_json(REAL)), "detail": "not a record"},
        {
            "detail-type": "SageMaker Endpoint State Change",
            "source": "aws.sagemaker",
            "detail": {"EndpointName": "a b"},
        },
        {"detail-type": "Scheduled Event", "source": "aws.sagemaker"},
        _custom(RequestType="Destroy"),
        _custom(StackId="not-an-arn"),
        {k: v for k, v in _custom().items() if k != "ResponseURL"},
    ],
    ids=[
        "list",
        "string",
        "detail-type",
        "other-service",
        "no-name",
        "bad-name",
        "name-list",
        "arn-int",
        "arn-huge",
        "detail-string",
        "state-bad-name",
        "schedule-source",
        "request-type",
        "stack-id",
        "no-response-url",
    ],
)
def test_malformed_events_are_typed_rejections(event: Any) -> None:
    with pytest.raises(InvalidEventError):
        parse_fleet_event(event)

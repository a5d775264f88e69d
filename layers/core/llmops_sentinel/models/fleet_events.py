"""What the fleet tracker is asked to do, parsed from its four triggers (all untrusted).

- ``AWS API Call via CloudTrail`` from ``aws.sagemaker`` (CreateEndpoint, UpdateEndpoint,
  DeleteEndpoint: ``requestParameters.endpointName``; AddTags, DeleteTags:
  ``requestParameters.resourceArn``, whose name part SageMaker lowercases) -> :class:`LookAt`;
  a failed call (``errorCode``), another operation or a non-endpoint ARN -> :class:`Ignore`;
- ``SageMaker Endpoint State Change`` -> :class:`LookAt` (InService: the variants are known now);
- ``Scheduled Event`` -> :class:`FullSync`;
- a CloudFormation custom resource request (``Custom::FleetDiscovery``) -> :class:`CustomResourceRequest`.

An event only names an endpoint to look at: what the tracker does is decided from a fresh
DescribeEndpoint + ListTags read, never from the event's other fields.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.sagemaker_events import EndpointStateDetail
from llmops_sentinel.models.validation import parse_as

ENDPOINT_NAME = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
ENDPOINT_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:endpoint/([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})$")
ENDPOINT_CALLS = frozenset({"CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"})
TAG_CALLS = frozenset({"AddTags", "DeleteTags"})
_S3_HOST = re.compile(r"^([a-z0-9.-]+\.)?s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


class LookAt(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["look"] = "look"
    endpoint_name: str
    from_arn: bool = False
    """True: the name came from an ARN, lowercased by SageMaker; resolve it with a fresh read."""
    why: str


class Ignore(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["ignore"] = "ignore"
    reason: str


class FullSync(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["sync"] = "sync"


class CustomResourceRequest(BaseModel):
    """A CloudFormation custom resource request (the fields CloudFormation always sends)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    RequestType: Literal["Create", "Update", "Delete"]
    ResponseURL: str = Field(min_length=8, max_length=8192)
    StackId: str = Field(pattern=r"^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack/.+")
    RequestId: str = Field(min_length=1, max_length=256)
    LogicalResourceId: str = Field(min_length=1, max_length=256)
    ResourceType: str = Field(pattern=r"^Custom::[A-Za-z0-9_@-]{1,60}$|^AWS::CloudFormation::CustomResource$")
    PhysicalResourceId: str | None = Field(default=None, max_length=1024)
    ResourceProperties: dict[str, Any] = Field(default_factory=dict)


def response_url_allowed(url: str, local: bool) -> bool:
    """An S3 presigned https URL (CloudFormation's); the local cloud (``local``) may use its own http host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and _S3_HOST.match(host) and parts.query:
        return True
    return local and parts.scheme in {"http", "https"} and host in _LOCAL_HOSTS


class _CloudTrailDetail(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event_source: Literal["sagemaker.amazonaws.com"] = Field(alias="eventSource")
    event_name: str = Field(alias="eventName", min_length=1, max_length=128)
    error_code: str | None = Field(default=None, alias="errorCode")
    request_parameters: dict[str, Any] | None = Field(default=None, alias="requestParameters")


class _CloudTrailEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    source: Literal["aws.sagemaker"]
    detail: _CloudTrailDetail


class _StateChange(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    detail_type: Literal["SageMaker Endpoint State Change"] = Field(alias="detail-type")
    source: Literal["aws.sagemaker"]
    detail: EndpointStateDetail

    @field_validator("detail")
    @classmethod
    def _named(cls, detail: EndpointStateDetail) -> EndpointStateDetail:
        if not re.match(ENDPOINT_NAME, detail.EndpointName):
            raise ValueError("EndpointName is not a SageMaker endpoint name")
        return detail


class _Scheduled(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    source: Literal["aws.events"]


FleetRequest = LookAt | Ignore | FullSync | CustomResourceRequest


def parse_fleet_event(event: Any) -> FleetRequest:
    """The tracker's request, or :class:`InvalidEventError` for an event of none of its triggers."""
    if not isinstance(event, dict):
        raise InvalidEventError("not a fleet tracker event: not a JSON object")
    if "RequestType" in event:
        return parse_as(CustomResourceRequest, event, "CloudFormation custom resource request")
    kind = event.get("detail-type")
    if kind == "AWS API Call via CloudTrail":
        return _cloudtrail(parse_as(_CloudTrailEvent, event, "SageMaker CloudTrail event"))
    if kind == "SageMaker Endpoint State Change":
        change = parse_as(_StateChange, event, "SageMaker Endpoint State Change")
        return LookAt(
            endpoint_name=change.detail.EndpointName, why=f"endpoint state change ({change.detail.EndpointStatus})"
        )
    if kind == "Scheduled Event":
        parse_as(_Scheduled, event, "Scheduled Event")
        return FullSync()
    raise InvalidEventError(f"not a fleet tracker event: detail-type {str(kind)[:100]!r}")


def _cloudtrail(event: _CloudTrailEvent) -> FleetRequest:
    detail = event.detail
    name = detail.event_name
    if detail.error_code:
        return Ignore(reason=f"{name} failed ({detail.error_code[:100]}): nothing changed")
    params = detail.request_parameters or {}
    if name in ENDPOINT_CALLS:
        endpoint = params.get("endpointName")
        if not isinstance(endpoint, str) or not re.match(ENDPOINT_NAME, endpoint):
            raise InvalidEventError(
                f"not a SageMaker CloudTrail event: {name} without a valid requestParameters.endpointName"
            )
        return LookAt(endpoint_name=endpoint, why=name)
    if name in TAG_CALLS:
        arn = params.get("resourceArn")
        if not isinstance(arn, str) or len(arn) > 2048:
            raise InvalidEventError(f"not a SageMaker CloudTrail event: {name} without requestParameters.resourceArn")
        match = ENDPOINT_ARN.match(arn)
        if match is None:
            return Ignore(reason=f"{name} on {arn[:200]!r}: not an endpoint")
        return LookAt(endpoint_name=match.group(1), from_arn=True, why=name)
    return Ignore(reason=f"{name[:100]} does not change which endpoints are watched")

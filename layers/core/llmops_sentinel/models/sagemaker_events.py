"""SageMaker EventBridge events the project consumes (shapes as the AWS docs publish them).

Quirk kept on purpose: the documented endpoint state change has ``time`` as an epoch-ms string
and ``EndpointStatus`` as ``IN_SERVICE`` (the API says ``InService``); both are accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.models.validation import parse_as


class EndpointStateDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")

    EndpointName: str
    EndpointConfigName: str
    EndpointStatus: str


class EndpointStateChange(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    id: str
    detail_type: Literal["SageMaker Endpoint State Change"] = Field(alias="detail-type")
    source: Literal["aws.sagemaker"]
    time: str
    detail: EndpointStateDetail

    @property
    def in_service(self) -> bool:
        return self.detail.EndpointStatus.replace("_", "").lower() == "inservice"

    @property
    def seen_at(self) -> str:
        """ISO-8601 UTC, whether ``time`` came as ISO or as epoch milliseconds."""
        if self.time.isdigit():
            return datetime.fromtimestamp(int(self.time) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return self.time


def parse_endpoint_state_change(event: Any) -> EndpointStateChange:
    return parse_as(EndpointStateChange, event, "SageMaker Endpoint State Change")


class ModelPackageDetail(BaseModel):
    """The fields of a model package state change the router reads (AWS sends many more)."""

    model_config = ConfigDict(defer_build=True, extra="ignore")

    ModelPackageGroupName: str = Field(min_length=1, max_length=63)
    ModelPackageArn: str = Field(pattern=r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/.+")
    ModelPackageVersion: int = Field(default=0, ge=0)
    ModelApprovalStatus: str = ""


class ModelPackageStateChange(BaseModel):
    """``SageMaker Model Package State Change``. Quirk kept: AWS's documented example repeats ``source``
    (a string, then a list); JSON parsers keep the last, so a one-item list is accepted too.

    The event is a claim: the deploy workflow re-reads the package (approval, group) before acting."""

    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    id: str = Field(min_length=1)
    detail_type: Literal["SageMaker Model Package State Change"] = Field(alias="detail-type")
    source: Literal["aws.sagemaker"] | tuple[Literal["aws.sagemaker"]]
    time: str
    detail: ModelPackageDetail


MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


def parse_model_package_state_change(event: Any) -> ModelPackageStateChange:
    return parse_as(ModelPackageStateChange, event, MODEL_PACKAGE_STATE_CHANGE)

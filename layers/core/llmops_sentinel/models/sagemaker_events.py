"""SageMaker EventBridge events the project consumes (shapes as the AWS docs publish them).

Quirk kept on purpose: the documented endpoint state change has ``time`` as an epoch-ms string
and ``EndpointStatus`` as ``IN_SERVICE`` (the API says ``InService``); both are accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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

    @field_validator("time")
    @classmethod
    def _a_time(cls, value: str) -> str:
        _utc(value)  # raises ValueError (-> InvalidEventError) for anything that is not a time
        return value

    @property
    def in_service(self) -> bool:
        return self.detail.EndpointStatus.replace("_", "").lower() == "inservice"

    @property
    def seen_at(self) -> str:
        """``time`` as fixed-width ISO-8601 UTC with microseconds (``2026-12-03T10:00:00.000000Z``), whether it
        came as ISO (any offset, with or without fractions) or as epoch milliseconds: the config history is
        sorted by this text, so one width and one zone keep text order equal to time order."""
        return _utc(self.time).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc(value: str) -> datetime:
    try:
        if value.isdigit():
            moment = datetime.fromtimestamp(int(value) / 1000, UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError(f"time {value!r} has no zone")
            moment = parsed.astimezone(UTC)
    except (OverflowError, OSError) as exc:  # epoch ms beyond what datetime holds
        raise ValueError(f"time {value!r} is out of range") from exc
    if not 2000 <= moment.year <= 9999:
        raise ValueError(f"time {value!r} is not a plausible event time")
    return moment


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

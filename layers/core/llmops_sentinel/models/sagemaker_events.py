"""SageMaker EventBridge events the project consumes (shapes as the AWS docs publish them).

Quirk kept on purpose: the documented endpoint state change has ``time`` as an epoch-ms string
and ``EndpointStatus`` as ``IN_SERVICE`` (the API says ``InService``); both are accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.errors import InvalidEventError


class EndpointStateDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    EndpointName: str
    EndpointConfigName: str
    EndpointStatus: str


class EndpointStateChange(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

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
    try:
        return EndpointStateChange.model_validate(event)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise InvalidEventError(f"not a SageMaker Endpoint State Change: {where}: {first['msg']}") from exc

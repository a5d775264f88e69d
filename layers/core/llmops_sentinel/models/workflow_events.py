"""Step Functions' ``Execution Status Change`` event, as EventBridge delivers it (the shape AWS documents:
``shared/fixtures/aws-events/stepfunctions_execution_status_change_*``).

The router reads the ones that say a remediation workflow ended, to start the decision that was queued
behind it (:mod:`llmops_sentinel.services.queued`). Only the fields read are modelled; AWS may add more.
``input`` is the execution's input as text (absent or ``null`` when ``inputDetails.included`` is false:
inputs over 256 KiB are not included).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.models.validation import parse_as

DETAIL_TYPE = "Step Functions Execution Status Change"
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class ExecutionStatusDetail(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    execution_arn: str = Field(alias="executionArn", min_length=1, max_length=2048)
    state_machine_arn: str = Field(alias="stateMachineArn", min_length=1, max_length=2048)
    name: str = Field(min_length=1, max_length=80)
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]
    input: str | None = None


class ExecutionStatusChange(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    id: str
    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    source: Literal["aws.states"]
    time: str
    detail: ExecutionStatusDetail

    @property
    def ended(self) -> bool:
        return self.detail.status in ENDED

    @property
    def endpoint_name(self) -> str | None:
        """The ``endpoint_name`` of the execution's input (every remediation workflow's input has one)."""
        try:
            given: Any = json.loads(self.detail.input) if self.detail.input else None
        except ValueError:
            return None
        name = given.get("endpoint_name") if isinstance(given, dict) else None
        return name if isinstance(name, str) and name else None


def is_execution_status_change(event: Any) -> bool:
    return isinstance(event, dict) and event.get("detail-type") == DETAIL_TYPE


def parse_execution_status_change(event: Any) -> ExecutionStatusChange:
    return parse_as(ExecutionStatusChange, event, DETAIL_TYPE)

"""Step Functions: start executions idempotently."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled


class Started(BaseModel):
    model_config = ConfigDict(defer_build=True)
    execution_arn: str
    started: bool
    """False when an execution of that name already existed (a duplicate delivery)."""
    status: str | None = None


class StepFunctionsAdapter:
    def __init__(self, sfn: Any | None = None) -> None:
        self._sfn = sfn

    sfn = LazyClient("stepfunctions")

    def existing(self, state_machine_arn: str, name: str) -> Started | None:
        """The execution of that name, if there is one."""
        arn = _execution_arn(state_machine_arn, name)
        try:
            status = self.sfn.describe_execution(executionArn=arn)["status"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None
            raise
        return Started(execution_arn=arn, started=False, status=status)

    def status(self, execution_arn: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, ...; None if there is no such execution."""
        try:
            return str(self.sfn.describe_execution(executionArn=execution_arn)["status"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None
            raise

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> Started:
        """Start ``name`` once. Step Functions refuses a second execution of the same name
        (``ExecutionAlreadyExists``) for 90 days, which is what makes a redelivered alarm a no-op."""
        try:
            response = self.sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExecutionAlreadyExists":
                arn = _execution_arn(state_machine_arn, name)
                status = self.sfn.describe_execution(executionArn=arn).get("status")
                return Started(execution_arn=arn, started=False, status=status)
            raise_if_throttled(exc, "StartExecution")
            raise
        return Started(execution_arn=response["executionArn"], started=True, status="RUNNING")


def _execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"

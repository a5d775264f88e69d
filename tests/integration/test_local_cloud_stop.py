"""Stopping a local cloud fences its executions: none of their threads outlives ``stop()``.

A stopped execution finishes the task it is in before it sees the stop. When that task is slow (a loaded
machine), a thread still running after ``stop()`` would make its next call into the next cloud on the same
moto server, with the same resource names: the load-only flake this pins."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint
from tests.integration.remediation_helpers import ENDPOINT, load_regression, route


def _execution_threads() -> list[str]:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    return [t.name for t in TMP_THREADS if t.is_alive() and not t.name.startswith("WaitForTaskToken")]


def test_stop_returns_after_the_task_in_flight_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.update_endpoint_weights_and_capacities
    in_task: list[float] = []

    def slow(self: Any, endpoint_name: str, desired_weights_and_capacities: list[dict[str, Any]]) -> str:
        in_task.append(time.monotonic())
        time.sleep(1.5)  # a task that outlasts the stop, as a loaded machine makes any task
        return str(original(self, endpoint_name, desired_weights_and_capacities))

    monkeypatch.setattr(SageMakerModelBackend, "update_endpoint_weights_and_capacities", slow)
    cloud = LocalCloud(parameters={"VerifyWaitSeconds": "1", "VerifyMaxAttempts": "3", "EndpointName": ENDPOINT})
    with cloud:
        create_endpoint(cloud, instances=1)
        started = route(cloud, load_regression("occurrence-1"))
        assert started["status"] == "started"
        for _ in range(200):  # until the execution is inside the slow task
            if in_task:
                break
            time.sleep(0.05)
        assert in_task, cloud.describe_history(started["execution_arn"])
    assert _execution_threads() == []
    assert time.monotonic() - in_task[0] >= 1.5  # stop() waited for the task instead of resetting under it

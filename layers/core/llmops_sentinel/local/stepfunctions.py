"""Service names moto's ASL interpreter does not map from Step Functions to boto3.

Step Functions' AWS SDK integrations name services by their SDK id without dashes
(``arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget``); boto3 calls the same
service ``application-autoscaling``. moto maps only ``sfn``/``states``. We add the names our state
machines use, so the definitions stay exactly what AWS runs.
"""

from __future__ import annotations

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)

SFN_TO_BOTO = {"applicationautoscaling": "application-autoscaling"}


def install() -> None:
    StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES.update(SFN_TO_BOTO)  # type: ignore[attr-defined]

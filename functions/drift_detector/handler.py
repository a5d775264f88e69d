"""Drift detector (scheduled): per monitored endpoint, window profiles vs baseline -> report, metrics, signal.

Each endpoint is checked on its own: one that cannot be checked (bad baseline, unreadable profile, any
error) gets status ``error`` or ``bad-input`` and a DriftCheckErrors metric; the others are still checked.
No Powertools Tracer in the drift functions: the X-Ray SDK costs ~0.3x the cold-start floor; the
function's Active tracing still records every invocation (docs/drift.md).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from llmops_sentinel.handlers import rejects_bad_input
from llmops_sentinel.services.drift import DriftSettings, run_drift_checks
from llmops_sentinel.services.emf import publish_drift_checks

logger = Logger()


@cache
def settings() -> DriftSettings:
    return DriftSettings.from_env()


@logger.inject_lambda_context
@rejects_bad_input(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    publish_drift_checks(result := run_drift_checks(event, settings()))
    for check in result.checks:
        logger.info("drift check", extra=check.model_dump(exclude={"feature_scores"}))
    drifted = [c.endpoint for c in result.checks if c.status == "drift"]
    return {"status": "checked", "drifted": drifted, **result.model_dump(mode="json")}

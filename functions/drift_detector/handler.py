"""Drift detector: per endpoint, window profiles vs baseline -> report, metrics, signal.

Scheduled by the DriftChecks state machine (``phase: list``, then ``phase: check`` per endpoint:
services/drift_fanout.py); a direct invocation checks the listed monitors in one run. An endpoint that
cannot be checked gets status ``error``/``bad-input`` and DriftCheckErrors; the others are still checked.
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
from llmops_sentinel.services.drift_fanout import handle_fanout, is_fanout_event, registry_from_env
from llmops_sentinel.services.emf import publish_drift_checks

logger = Logger()


@cache
def settings() -> DriftSettings:
    return DriftSettings.from_env()


@logger.inject_lambda_context
@rejects_bad_input(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_fanout_event(event):
        return handle_fanout(event, settings(), registry_from_env())
    publish_drift_checks(result := run_drift_checks(event, settings()))
    for check in result.checks:
        logger.info("drift check", extra=check.model_dump(exclude={"feature_scores"}))
    drifted = [c.endpoint for c in result.checks if c.status == "drift"]
    return {"status": "checked", "drifted": drifted, **result.model_dump(mode="json")}

"""The handler kit: one rejection decorator for every Lambda handler.

``@rejects_bad_input(logger, ...)`` wraps a handler so that input it cannot use gets one clear, typed
answer instead of a traceback:

- the event is not a JSON object -> :class:`InvalidEventError`;
- the handler (or what it calls) raises :class:`BadInputError` (any subclass but :class:`ConfigError`),
  a pydantic ``ValidationError`` or a botocore ``ParamValidationError`` (a value from the event that an
  AWS API refuses before any call) -> the typed error (the last two become :class:`InvalidEventError`
  naming the first offending field).

What happens then depends on the trigger:

- ``mode="return"`` (asynchronous and EventBridge triggers, the default): a malformed event will not
  improve on retry, so the handler returns ``{"status": "rejected", "error": <class>, "reason": <one
  line>}`` (``shape`` may build another answer from the error), logs a warning and adds ``metric``.
- ``mode="raise"`` (Step Functions task steps): the typed error is raised, so the state machine's
  ``Catch``/``Retry`` on its name (``InvalidEventError``...) decides.

:class:`ConfigError` (a bad deployment: environment, monitors or policies file) is never turned into a
rejection: it fails the invocation, so the function's error alarm fires. The remediation router
(functions/alarm_router) still carries its own block; it can adopt this decorator unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ParamValidationError
from pydantic import ValidationError

from llmops_sentinel.errors import BadInputError, ConfigError, InvalidEventError

R = TypeVar("R")
Handler = Callable[[Any, Any], R]
MAX_REASON = 500


def one_line(text: str) -> str:
    """The first line of ``text``, at most :data:`MAX_REASON` characters."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= MAX_REASON else first[: MAX_REASON - 3] + "..."


def typed_error(exc: Exception) -> BadInputError | None:
    """``exc`` as the typed bad-input error it stands for, or None when it is not bad input."""
    if isinstance(exc, ConfigError):
        return None
    if isinstance(exc, BadInputError):
        return exc
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False)
        where = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
        msg = errors[0]["msg"] if errors else str(exc)
        return InvalidEventError(one_line(f"{exc.title}: {where or '(event)'}: {msg}"))
    if isinstance(exc, ParamValidationError):
        return InvalidEventError(one_line(f"a value in the event is refused by the AWS API: {exc}"))
    return None


def rejection(exc: BadInputError) -> dict[str, Any]:
    """The answer a rejected event gets."""
    return {"status": "rejected", "error": type(exc).__name__, "reason": one_line(str(exc))}


def rejects_bad_input(
    logger: Logger,
    *,
    metrics: Metrics | None = None,
    metric: str | None = None,
    mode: Literal["return", "raise"] = "return",
    shape: Callable[[BadInputError], Any] = rejection,
) -> Callable[[Handler[R]], Handler[R | Any]]:
    """Decorate a handler: bad input -> a typed rejection (see the module docstring)."""

    def decorate(handler: Handler[R]) -> Handler[R | Any]:
        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> R | Any:
            try:
                if not isinstance(event, dict):
                    raise InvalidEventError(f"the event is a JSON {type(event).__name__}, not an object")
                return handler(event, context)
            except (BadInputError, ValidationError, ParamValidationError) as exc:
                typed = typed_error(exc)
                if typed is None:
                    raise
                if mode == "raise":
                    if typed is exc:
                        raise
                    raise typed from exc
                logger.warning("rejected event", extra={"error": type(typed).__name__, "reason": str(typed)[:2000]})
                if metrics is not None and metric:
                    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
                return shape(typed)

        return wrapper

    return decorate

"""One way to turn a pydantic ValidationError at a boundary into the typed InvalidEventError."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from llmops_sentinel.domain import validation
from llmops_sentinel.errors import InvalidEventError

_M = TypeVar("_M", bound=BaseModel)


def first_error(exc: ValidationError) -> str:
    """``where: what`` of the first validation error (``event`` when it is about the whole input)."""
    return validation.first_error(exc, top="event")


def parse_as(model: type[_M], event: Any, what: str) -> _M:
    """``event`` as ``model``, or :class:`InvalidEventError` ``not a <what>: <first error>``."""
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"not a {what}: {first_error(exc)}") from exc

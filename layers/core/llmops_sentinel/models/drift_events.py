"""Events the drift functions consume: S3 "Object Created" (EventBridge) and the detector's trigger.

Quirk kept on purpose: moto's S3 notification carries ``time`` as epoch seconds (AWS: ISO-8601), and
the object's entity tag arrives as ``etag`` (AWS docs) or ``eTag`` (moto); both are accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.validation import first_error


def parse_time(value: Any) -> datetime:
    """ISO-8601 (``Z`` or offset) or epoch seconds/milliseconds -> aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return parse_time(float(text))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidEventError(f"time {value!r} is neither ISO-8601 nor epoch") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise InvalidEventError(f"time {value!r} is neither ISO-8601 nor epoch")


class _Bucket(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")
    name: str


class _Object(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)
    key: str
    size: int | None = None
    etag: str | None = None
    eTag: str | None = None  # noqa: N815 - moto's spelling


class _S3Detail(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")
    bucket: _Bucket
    object: _Object


class ObjectCreated(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    id: str
    detail_type: Literal["Object Created"] = Field(alias="detail-type")
    source: Literal["aws.s3"]
    time: str | float
    detail: _S3Detail

    @property
    def bucket(self) -> str:
        return self.detail.bucket.name

    @property
    def key(self) -> str:
        return self.detail.object.key

    @property
    def etag(self) -> str:
        return self.detail.object.etag or self.detail.object.eTag or ""

    @property
    def created_at(self) -> datetime:
        return parse_time(self.time)


def parse_object_created(event: Any) -> ObjectCreated:
    try:
        return ObjectCreated.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"not an S3 Object Created event: {first_error(exc)}") from exc


class CheckRequest(BaseModel):
    """When to check (the scheduled event's ``time``) and, optionally, which endpoints only."""

    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    time: str | float | None = None
    at: str | float | None = None
    endpoints: list[str] | None = None
    detail_type: str | None = Field(default=None, alias="detail-type")

    @property
    def moment(self) -> datetime:
        value = self.at if self.at is not None else self.time
        return parse_time(value) if value is not None else datetime.now(UTC)


def parse_check_request(event: Any) -> CheckRequest:
    """An EventBridge ``Scheduled Event`` or a manual ``{"at": ISO, "endpoints": [...]}`` (both optional)."""
    if not isinstance(event, dict):
        raise InvalidEventError(f"detector input must be a JSON object, not {type(event).__name__}")
    try:
        request = CheckRequest.model_validate(event)
    except ValidationError as exc:
        raise InvalidEventError(f"not a drift check request: {first_error(exc)}") from exc
    if request.detail_type not in (None, "Scheduled Event"):
        raise InvalidEventError(f"unexpected event {request.detail_type!r} (expected a Scheduled Event)")
    request.moment  # noqa: B018 - an unreadable time fails here, as InvalidEventError
    return request

"""EventBridge: put Sentinel events (source ``llmops.sentinel``) on the project's bus.

``PutEvents`` takes at most 10 entries and 256 KB per call and may fail some entries while the call
succeeds: each failed entry is reported back (``Published.failed``), never dropped silently.
Throttling raises :class:`ThrottledError` (a Lambda retry or a state machine ``Retry`` handles it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled
from llmops_sentinel.errors import SentinelError
from llmops_sentinel.models.bus_events import SOURCE, SentinelDetail

MAX_ENTRIES = 10


class FailedEntry(BaseModel):
    model_config = ConfigDict(defer_build=True)
    index: int
    error_code: str | None = None
    error_message: str | None = None


class Published(BaseModel):
    model_config = ConfigDict(defer_build=True)
    sent: int = 0
    event_ids: list[str] = Field(default_factory=list)
    failed: list[FailedEntry] = Field(default_factory=list)


class BusPublisher:
    def __init__(self, bus_name: str, events: Any | None = None, source: str = SOURCE) -> None:
        self.bus_name = bus_name
        self.source = source
        self._events = events

    events = LazyClient("events")

    def publish(
        self, detail_type: str, details: Sequence[Mapping[str, Any]], resources: Sequence[Sequence[str]] | None = None
    ) -> Published:
        """Put one event per detail (in calls of 10). ``resources[i]`` are ARNs for event ``i``."""
        out = Published()
        for start in range(0, len(details), MAX_ENTRIES):
            chunk = details[start : start + MAX_ENTRIES]
            entries = [
                {
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "EventBusName": self.bus_name,
                    "Resources": list(resources[start + i]) if resources else [],
                }
                for i, detail in enumerate(chunk)
            ]
            try:
                response = self.events.put_events(Entries=entries)
            except ClientError as exc:
                raise_if_throttled(exc, "PutEvents")
                raise
            for i, entry in enumerate(response.get("Entries", [])):
                if entry.get("EventId"):
                    out.sent += 1
                    out.event_ids.append(str(entry["EventId"]))
                else:
                    out.failed.append(
                        FailedEntry(
                            index=start + i, error_code=entry.get("ErrorCode"), error_message=entry.get("ErrorMessage")
                        )
                    )
        return out

    def publish_detail(self, detail: SentinelDetail, resources: Sequence[str] | None = None) -> Published:
        """Put one modelled Sentinel event (models/bus_events.py): its detail-type comes from the model."""
        return self.publish(detail.DETAIL_TYPE, [detail.wire()], [resources] if resources else None)


class SentinelBus:
    """One event at a time: put it or raise, for callers whose invocation should fail (and be retried)
    rather than carry on when the signal did not reach the bus."""

    def __init__(self, bus_name: str, events: Any | None = None) -> None:
        self.bus_name = bus_name
        self._publisher = BusPublisher(bus_name, events)

    def put(self, detail_type: str, detail: Mapping[str, Any], resources: Sequence[str] | None = None) -> str:
        """Returns the event id; a rejected entry raises :class:`SentinelError` with its error code."""
        published = self._publisher.publish(detail_type, [detail], [resources] if resources else None)
        if published.failed or not published.event_ids:
            failure = published.failed[0] if published.failed else FailedEntry(index=0)
            raise SentinelError(f"PutEvents rejected {detail_type}: {failure.error_code} {failure.error_message}")
        return published.event_ids[0]

    def put_detail(self, detail: SentinelDetail, resources: Sequence[str] | None = None) -> str:
        """:meth:`put` for a modelled Sentinel event (models/bus_events.py)."""
        return self.put(detail.DETAIL_TYPE, detail.wire(), resources)

    def put_details(self, events: Sequence[tuple[SentinelDetail, Sequence[str] | None]]) -> Published:
        """Many modelled events in calls of 10 (not one call each): ``failed[i].index`` is the position in
        ``events`` of an entry PutEvents rejected; the caller decides what a rejected entry means."""
        out = Published()
        start = 0
        while start < len(events):
            kind = events[start][0].DETAIL_TYPE
            end = start
            while end < len(events) and kind == events[end][0].DETAIL_TYPE:
                end += 1
            run = events[start:end]
            published = self._publisher.publish(kind, [d.wire() for d, _ in run], [list(r or []) for _, r in run])
            out.sent += published.sent
            out.event_ids.extend(published.event_ids)
            out.failed.extend(f.model_copy(update={"index": start + f.index}) for f in published.failed)
            start = end
        return out

"""A simulated clock for what EventBridge stamps with the time of the call.

EventBridge gives an event put without ``Time`` the time of the PutEvents call. A run on simulated time
(the demo day) would otherwise get bus events from the wall clock -- an ``Endpoint Idle`` or ``Model
Drift Detected`` of 06:30 or 18:01 of the simulated day dated today, hours before the day begins -- and
everything that dates by them (the audit trail's ``occurred_at``, the report's instance steps and
markers) would fall outside the day. While ``SimulatedClock.at(moment)`` is active, a PutEvents entry
without ``Time`` from any boto3 client of the process (the handlers' too) gets ``moment`` plus the wall
seconds since the block began (a handler's run takes time; order is kept). An entry that names its own
``Time`` keeps it. Outside a block nothing changes, and the block restores the previous setting on exit
(blocks nest).

Not simulated: ``time.time()`` in the handlers (the router's cooldowns, leases and daily limits, the
workflows' executions): those keep the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any


class SimulatedClock:
    def __init__(self) -> None:
        self._moment: datetime | None = None
        self._since = 0.0

    def now(self) -> datetime | None:
        """The simulated time now, or None outside an ``at`` block."""
        if self._moment is None:
            return None
        return self._moment + timedelta(seconds=time.monotonic() - self._since)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        previous = self._moment, self._since
        self._moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        self._since = time.monotonic()
        try:
            yield
        finally:
            self._moment, self._since = previous


def stamp_entries(params: dict[str, Any], clock: SimulatedClock | None) -> None:
    """``before-parameter-build`` of PutEvents: the simulated time on entries that carry no ``Time``."""
    moment = clock.now() if clock is not None else None
    if moment is None:
        return
    for entry in params.get("Entries") or []:
        if isinstance(entry, dict) and "Time" not in entry:
            entry["Time"] = moment

"""The simulated clock stamps PutEvents entries that carry no Time, only inside its block, and restores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sentinel_dev.local.clock import SimulatedClock, stamp_entries

DAY = datetime(2030, 1, 2, 6, 30, tzinfo=UTC)


def _entries(*times: datetime | None) -> dict[str, Any]:
    return {"Entries": [{"Source": "s", **({"Time": t} if t else {})} for t in times]}


def test_outside_a_block_nothing_is_stamped() -> None:
    clock = SimulatedClock()
    params = _entries(None)
    stamp_entries(params, clock)
    stamp_entries(params, None)
    assert clock.now() is None and "Time" not in params["Entries"][0]


def test_inside_a_block_entries_without_time_get_the_simulated_time_and_named_times_stay() -> None:
    clock = SimulatedClock()
    own = DAY - timedelta(days=3)
    with clock.at(DAY):
        params = _entries(None, own)
        stamp_entries(params, clock)
    stamped, kept = (e["Time"] for e in params["Entries"])
    assert DAY <= stamped < DAY + timedelta(seconds=5)  # plus the wall seconds the block has run
    assert kept == own


def test_blocks_nest_and_each_exit_restores_the_previous_setting() -> None:
    clock = SimulatedClock()
    later = DAY + timedelta(hours=12)
    with clock.at(DAY):
        with clock.at(later):
            inner = clock.now()
        outer = clock.now()
    assert inner is not None and later <= inner < later + timedelta(seconds=5)
    assert outer is not None and DAY <= outer < DAY + timedelta(seconds=5)
    assert clock.now() is None

"""The endpoint state change's ``time``: one canonical text for the config history, whatever AWS sent."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from llmops_sentinel.errors import InvalidEventError
from llmops_sentinel.models.sagemaker_events import parse_endpoint_state_change
from tests.conftest import EVENTS, load_json

SAMPLE: dict[str, Any] = load_json(EVENTS / "endpoint_tracker" / "endpoint_in_service.json")


def _with_time(value: Any) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLE)
    event["time"] = value
    return event


@pytest.mark.parametrize(
    "sent",
    ["2026-12-03T10:00:00Z", "2026-12-03T10:00:00.000Z", "2026-12-03T11:00:00+01:00", "1796292000000"],
)
def test_every_form_of_one_instant_gives_the_same_seen_at(sent: str) -> None:
    assert parse_endpoint_state_change(_with_time(sent)).seen_at == "2026-12-03T10:00:00.000000Z"


def test_seen_at_text_order_is_time_order() -> None:
    """Mixed forms (epoch ms with a fraction, ISO without one) used to sort a later time first."""
    sent = ["2026-12-03T10:00:00Z", "1796292000500", "2026-12-03T10:00:01+00:00", "2026-12-03T09:59:59.9Z"]
    seen = [parse_endpoint_state_change(_with_time(s)).seen_at for s in sent]
    instants = [datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC) for s in seen]
    assert sorted(seen) == [s for _, s in sorted(zip(instants, seen, strict=True))]


@pytest.mark.parametrize(
    "sent", ["yesterday", "2026-12-03T10:00:00", "99999999999999999999", "1970-01-01T00:00:00Z", ""]
)
def test_a_time_that_is_not_one_is_a_typed_rejection(sent: str) -> None:
    with pytest.raises(InvalidEventError):
        parse_endpoint_state_change(_with_time(sent))

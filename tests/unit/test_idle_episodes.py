"""Idle episodes in the table: only evidence newer than an episode ends it (moto DynamoDB)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from llmops_sentinel.adapters.cloudwatch import Series
from llmops_sentinel.adapters.dynamodb import SentinelTable
from llmops_sentinel.adapters.endpoints import EndpointState
from llmops_sentinel.services.idle import last_activity
from tests.conftest import sentinel_table

HOUR = 3600.0
SINCE = 1_796_292_000.0  # the reported episode: no invocations since then


@pytest.fixture
def table() -> Iterator[SentinelTable]:
    with mock_aws():
        ddb = sentinel_table("us-east-1")
        table = SentinelTable("t", ddb=ddb)
        assert table.begin_idle("e", "v", SINCE) is True
        yield table


def test_traffic_older_than_the_episode_does_not_end_it(table: SentinelTable) -> None:
    """A run that read data from before the episode began (a slow or overlapping run) leaves it: otherwise
    the next run would report the same idle endpoint again."""
    table.end_idle("e", "v", active_at=SINCE - HOUR)
    assert table.begin_idle("e", "v", SINCE + HOUR) is False  # still reported


def test_traffic_after_the_episode_began_ends_it(table: SentinelTable) -> None:
    table.end_idle("e", "v", active_at=SINCE + 60)
    assert table.begin_idle("e", "v", SINCE + HOUR) is True  # a new episode can be reported


def test_no_episode_and_unconditional_end_are_quiet(table: SentinelTable) -> None:
    table.end_idle("other", "v", active_at=SINCE)  # nothing to end: no error
    table.end_idle("e", "v")  # the endpoint is gone: the item goes
    assert table.begin_idle("e", "v", SINCE) is True


def test_last_activity_is_the_newest_busy_period_or_change() -> None:
    state = EndpointState(
        endpoint_name="e", endpoint_config="c", status="InService", last_modified=SINCE - 10 * HOUR, variants=["v"]
    )
    series = Series(timestamps=[SINCE - 120, SINCE - 60, SINCE], values=[3.0, 1.0, 0.0])
    assert last_activity(series, state) == SINCE - 60
    assert last_activity(Series(timestamps=[SINCE], values=[0.0]), state) == SINCE - 10 * HOUR
    assert last_activity(None, None) is None

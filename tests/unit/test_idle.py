"""Idle assessment: a whole window without traffic, on an endpoint older than the window."""

from __future__ import annotations

import math

import pytest

from llmops_sentinel.domain.idle import assess_idle

NOW = 1_795_000_000.0
HOUR = 3600.0


def test_no_traffic_on_an_old_endpoint_is_idle() -> None:
    verdict = assess_idle([], last_modified=NOW - 30 * HOUR, now=NOW, idle_hours=6)
    assert verdict.idle
    assert verdict.reason == "no invocations for 6 h"


def test_zero_and_nan_sums_are_no_traffic() -> None:
    assert assess_idle([0.0, math.nan, 0.0], NOW - 30 * HOUR, NOW, 6).idle


@pytest.mark.parametrize("values", [[1.0], [0.0, 0.0, 3.0]])
def test_any_invocation_means_active(values: list[float]) -> None:
    verdict = assess_idle(values, NOW - 30 * HOUR, NOW, 6)
    assert not verdict.idle
    assert verdict.invocations == sum(values)


def test_an_endpoint_changed_inside_the_window_is_not_idle_yet() -> None:
    verdict = assess_idle([], last_modified=NOW - 2 * HOUR, now=NOW, idle_hours=6)
    assert not verdict.idle
    assert "2.0 h ago" in verdict.reason


def test_exactly_the_window_old_counts() -> None:
    assert assess_idle([], last_modified=NOW - 6 * HOUR, now=NOW, idle_hours=6).idle


def test_missing_endpoint_is_not_idle() -> None:
    assert not assess_idle([], last_modified=None, now=NOW, idle_hours=6).idle

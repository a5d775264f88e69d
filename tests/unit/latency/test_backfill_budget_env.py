"""SENTINEL_LATENCY_BACKFILLS_PER_RUN sets how many new detectors one scheduled run backfills."""

from __future__ import annotations

import pytest

from llmops_sentinel.errors import ConfigError
from llmops_sentinel.services.latency_monitor import MonitorSettings


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL_TABLE_NAME", "table")
    monkeypatch.setenv("SENTINEL_EVENT_BUS_NAME", "bus")


def test_unset_keeps_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTINEL_LATENCY_BACKFILLS_PER_RUN", raising=False)
    default = MonitorSettings.model_fields["backfills_per_run"].default
    assert MonitorSettings.from_env().backfills_per_run == default


def test_a_budget_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL_LATENCY_BACKFILLS_PER_RUN", "500")
    assert MonitorSettings.from_env().backfills_per_run == 500


def test_a_bad_budget_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL_LATENCY_BACKFILLS_PER_RUN", "many")
    with pytest.raises(ConfigError, match="BACKFILLS_PER_RUN"):
        MonitorSettings.from_env()

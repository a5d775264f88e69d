"""Drift monitors: which endpoints the scheduled detector checks, over which window, and how.

Every watched endpoint of the fleet is checked with the ``defaults`` monitor; an entry under
``monitors`` overrides it for one endpoint (or, with ``enabled: false``, opts that endpoint out).

Loaded from YAML (``config/monitors.yaml``; the packaged default is
``llmops_sentinel/config/monitors.yaml``), validated with pydantic (``extra="forbid"``); errors name the
file, the field and, when known, the line. An endpoint's ``monitor`` section replaces the defaults'
``monitor`` keys one by one (so an entry names only what differs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops_sentinel.domain.drift.features import resolve_features
from llmops_sentinel.domain.drift.stat_tests import MonitorConfig
from llmops_sentinel.domain.quality import QualityConfig
from llmops_sentinel.domain.validation import first_error, load_yaml
from llmops_sentinel.errors import ConfigError

DEFAULT_MONITORS_PATH = Path(__file__).resolve().parents[2] / "config" / "monitors.yaml"
ENDPOINT_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"  # SageMaker endpoint names


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class MonitorDefaults(_Strict):
    window_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    settle_minutes: int = Field(default=2, ge=0, le=24 * 60)
    min_records: int = Field(default=200, ge=1)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)


class EndpointMonitor(_Strict):
    endpoint: str = Field(pattern=ENDPOINT_PATTERN)
    window_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    settle_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    min_records: int | None = Field(default=None, ge=1)
    monitor: MonitorConfig | None = None
    enabled: bool = True


class Monitor(BaseModel):
    """One endpoint's resolved monitor: defaults merged with its entry."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    endpoint: str
    window_minutes: int
    settle_minutes: int
    min_records: int
    config: MonitorConfig

    def window(self, at: datetime) -> tuple[datetime, datetime]:
        """[start, end) of the window a check at ``at`` judges: it ends ``settle_minutes`` before ``at``
        (floored to the minute, so a late or retried scheduled event judges the same window)."""
        end = at.replace(second=0, microsecond=0) - timedelta(minutes=self.settle_minutes)
        return end - timedelta(minutes=self.window_minutes), end


class MonitorsFile(_Strict):
    version: Literal[1] = 1
    defaults: MonitorDefaults = Field(default_factory=MonitorDefaults)
    monitors: list[EndpointMonitor] = Field(default_factory=list)
    quality: QualityConfig = Field(default_factory=QualityConfig)  # sampled Comprehend signals (off by default)

    @model_validator(mode="after")
    def _one_entry_per_endpoint(self) -> Self:
        seen: set[str] = set()
        for entry in self.monitors:
            if entry.endpoint in seen:
                raise ValueError(f"endpoint {entry.endpoint!r} is listed twice")
            seen.add(entry.endpoint)
        for monitor in (self.defaults.monitor, *(m.monitor for m in self.monitors if m.monitor is not None)):
            try:
                resolve_features(monitor.features)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return self

    def resolved(self) -> list[Monitor]:
        return [self.monitor_for(entry.endpoint) for entry in self.monitors if entry.enabled]

    def fleet(self, watched: list[str]) -> list[Monitor]:
        """The monitors of a fleet: every enabled entry, then every watched endpoint without an entry
        (the ``defaults`` monitor: the fleet default; entries are per-endpoint overrides). An entry with
        ``enabled: false`` opts its endpoint out even when it is watched."""
        listed = {entry.endpoint for entry in self.monitors}
        extra = sorted({name for name in watched if name not in listed})
        return [*self.resolved(), *(self.monitor_for(name) for name in extra)]

    def monitor_for(self, endpoint: str) -> Monitor:
        """The monitor of ``endpoint``; an endpoint without an entry gets the defaults (used for profiling)."""
        d = self.defaults
        entry = next((m for m in self.monitors if m.endpoint == endpoint), None)
        config = d.monitor
        if entry is not None and entry.monitor is not None:
            config = config.model_copy(update={k: getattr(entry.monitor, k) for k in entry.monitor.model_fields_set})
        return Monitor(
            endpoint=endpoint,
            window_minutes=entry.window_minutes if entry and entry.window_minutes else d.window_minutes,
            settle_minutes=(
                entry.settle_minutes if entry is not None and entry.settle_minutes is not None else d.settle_minutes
            ),
            min_records=entry.min_records if entry and entry.min_records else d.min_records,
            config=config.model_copy(update={"endpoint": endpoint}),
        )


def load_monitors(path: Path | None = None, text: str | None = None) -> MonitorsFile:
    """Parse and validate a monitors file; errors name the file, the field and, when known, the line."""
    import yaml  # PyYAML on first parse, not at cold start

    where = str(path or DEFAULT_MONITORS_PATH) if text is None else "monitors (text)"
    try:
        raw_text = text if text is not None else (path or DEFAULT_MONITORS_PATH).read_text()
        data: Any = load_yaml(raw_text)
    except OSError as exc:
        raise ConfigError(f"cannot read drift monitors {where}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc
    try:
        return MonitorsFile.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {first_error(exc, text=raw_text)}") from exc

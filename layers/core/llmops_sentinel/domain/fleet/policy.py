"""Fleet policy: how endpoints are onboarded and the per-endpoint alarm settings.

Loaded from YAML (``config/fleet.yaml``; the packaged default is ``llmops_sentinel/config/fleet.yaml``;
the ``FleetPolicy`` template parameter replaces it at deploy time), validated with pydantic
(``extra="forbid"``). An endpoint's section is merged over ``defaults`` key by key, so an override
names only what differs. Remediation (actions, dry-run, idle hours) stays in ``remediation.yaml`` and
drift monitors in ``monitors.yaml``, each with the same defaults/overrides shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops_sentinel.domain.fleet.tags import STACK_TAG as STACK_TAG  # noqa: PLC0414 (re-export, mypy strict)
from llmops_sentinel.domain.validation import deep_merge, first_error, load_yaml
from llmops_sentinel.errors import ConfigError

DEFAULT_FLEET_PATH = Path(__file__).resolve().parents[2] / "config" / "fleet.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Onboarding(_Strict):
    tag_key: str = Field(default="sentinel:monitor", min_length=1, max_length=128)
    tag_value: str = Field(default="true", max_length=256)
    endpoints: list[str] = Field(default_factory=list)
    """Watched whatever their tags (exact SageMaker names)."""


class LatencyAlarm(_Strict):
    """The per-endpoint p99 alarm and the anomaly-band alarm the service keeps for each watched variant."""

    p99_threshold_ms: float = Field(default=2000.0, gt=0)
    """SageMaker publishes ModelLatency in microseconds: the alarm's threshold is this times 1000."""
    period_seconds: Literal[60, 300] = 60
    evaluation_periods: int = Field(default=3, ge=1, le=100)
    datapoints_to_alarm: int = Field(default=2, ge=1, le=100)
    anomaly_band: float = Field(default=3.0, gt=0, le=10)
    anomaly_alarm: bool = True

    @model_validator(mode="after")
    def _datapoints_fit(self) -> Self:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm must not exceed evaluation_periods")
        return self


class DriftAlarm(_Strict):
    enabled: bool = True
    period_seconds: int = Field(default=300, ge=60)
    evaluation_periods: int = Field(default=3, ge=1, le=100)


class EndpointSettings(_Strict):
    watch: bool = True
    """False: never watched, even when tagged (an opt-out)."""
    latency: LatencyAlarm = LatencyAlarm()
    drift: DriftAlarm = DriftAlarm()


class FleetPolicy(_Strict):
    version: Literal[1] = 1
    onboarding: Onboarding = Onboarding()
    defaults: EndpointSettings = EndpointSettings()
    endpoints: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-endpoint overrides, merged over ``defaults`` key by key (validated at load)."""

    def model_post_init(self, _context: Any) -> None:
        for name in self.endpoints:
            self.settings(name)  # every override must validate when the file is loaded

    def settings(self, endpoint: str) -> EndpointSettings:
        override = self.endpoints.get(endpoint)
        if not override:
            return self.defaults
        merged = deep_merge(self.defaults.model_dump(), override)
        try:
            return EndpointSettings.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(f"fleet policy, endpoints.{endpoint}: {first_error(exc)}") from None

    def configured(self) -> frozenset[str]:
        return frozenset(self.onboarding.endpoints)


def parse_fleet_policy(text: str, source: str = "fleet policy") -> FleetPolicy:
    import yaml  # PyYAML on first parse, not at cold start

    try:
        raw = load_yaml(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return FleetPolicy.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {first_error(exc)}") from None


def load_fleet_policy(override: str = "", path: Path = DEFAULT_FLEET_PATH) -> FleetPolicy:
    """The ``FleetPolicy`` parameter's YAML when set, else the packaged file."""
    if override.strip():
        return parse_fleet_policy(override, "FleetPolicy parameter")
    return parse_fleet_policy(path.read_text(encoding="utf-8"), str(path.name))

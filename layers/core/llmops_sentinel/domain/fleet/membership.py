"""Is an endpoint watched? Decided from a fresh read of its name and tags, never from an event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # annotation only: the registry adapter imports this module without the policy models
    from llmops_sentinel.domain.fleet.policy import FleetPolicy

Source = Literal["tag", "config"]


class Membership(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    watched: bool
    source: Source | None = None
    reason: str


def membership(endpoint_name: str, tags: dict[str, str], policy: FleetPolicy) -> Membership:
    """Config-listed names are watched; so are endpoints whose onboarding tag has the onboarding value
    (exact match, as SageMaker stores both). ``watch: false`` in the endpoint's policy wins over both."""
    if not policy.settings(endpoint_name).watch:
        return Membership(watched=False, reason="opted out in the fleet policy (watch: false)")
    if endpoint_name in policy.configured():
        return Membership(watched=True, source="config", reason="listed in the fleet policy")
    key, value = policy.onboarding.tag_key, policy.onboarding.tag_value
    if tags.get(key) == value:
        return Membership(watched=True, source="tag", reason=f"tagged {key}={value}")
    if key in tags:
        return Membership(watched=False, reason=f"tag {key}={tags[key]!r}, not {value!r}")
    return Membership(watched=False, reason=f"no {key} tag")


class WatchedEndpoint(BaseModel):
    """One watched endpoint as the fleet registry holds it."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    endpoint_name: str
    variants: list[str]
    source: Source
    since: str
    """ISO time it was first watched."""
    updated_at: str
    alarms: list[str] = []
    """Names of the alarms the service created for it (removed on offboarding)."""

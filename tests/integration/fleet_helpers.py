"""The fleet the fleet-wide integration tests run over: endpoints created in the local cloud and
watched through the fleet registry (as the fleet tracker records tag-discovered endpoints)."""

from __future__ import annotations

from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import create_endpoint

FLEET = ("fleet-a", "fleet-b", "fleet-c", "fleet-d")
SINCE = "2026-11-01T00:00:00Z"


def seed_fleet(cloud: LocalCloud, names: tuple[str, ...] = FLEET) -> None:
    """Each endpoint created (one AllTraffic variant) and put in the registry as tag-discovered."""
    registry = FleetRegistry(cloud.stack.ref("SentinelTable"), ddb=cloud.client("dynamodb"))
    for name in names:
        create_endpoint(cloud, name=name)
        registry.put(
            WatchedEndpoint(endpoint_name=name, variants=["AllTraffic"], source="tag", since=SINCE, updated_at=SINCE)
        )

"""The fleet registry round-trips watched endpoints through DynamoDB (moto) and pages the listing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint
from tests.conftest import sentinel_table


@pytest.fixture
def registry() -> Iterator[FleetRegistry]:
    with mock_aws():
        ddb = sentinel_table("us-east-1")
        yield FleetRegistry("t", ddb=ddb)


def _watched(name: str) -> WatchedEndpoint:
    return WatchedEndpoint(
        endpoint_name=name,
        variants=["AllTraffic"],
        source="tag",
        since="2026-12-03T00:00:00Z",
        updated_at="2026-12-03T00:00:00Z",
        alarms=[f"s-{name}-p99-latency"],
    )


def test_put_get_list_delete(registry: FleetRegistry) -> None:
    for name in ("b", "a", "Case"):
        registry.put(_watched(name))
    assert registry.get("a") == _watched("a")
    assert registry.get("case") is None  # exact names only
    assert [w.endpoint_name for w in registry.watched()] == ["Case", "a", "b"]
    assert registry.delete("a") == _watched("a")
    assert registry.delete("a") is None
    assert [w.endpoint_name for w in registry.watched()] == ["Case", "b"]


def test_listing_pages_past_one_megabyte(registry: FleetRegistry) -> None:
    long_variants = [f"variant-{i:03d}-" + "x" * 40 for i in range(60)]
    for i in range(400):  # ~3.4 kB each: more than one 1 MB Query page
        registry.put(_watched(f"ep-{i:04d}").model_copy(update={"variants": long_variants}))
    assert len(registry.watched()) == 400

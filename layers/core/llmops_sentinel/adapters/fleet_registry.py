"""The fleet registry: the watched endpoints, in the Sentinel table.

| item | pk | sk |
| --- | --- | --- |
| watched endpoint | ``fleet`` | ``endpoint#<endpoint name>`` |

One partition, so the scheduled monitors list the fleet with one paginated Query (an item is about
300 bytes: 1 MB pages hold ~3,000 endpoints). Written only by the fleet tracker, from a fresh
DescribeEndpoint + ListTags read; read by the router (is this endpoint watched?) and the schedulers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint

PARTITION = "fleet"


def _key(endpoint: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": PARTITION}, "sk": {"S": f"endpoint#{endpoint}"}}


def _item(watched: WatchedEndpoint) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(watched.endpoint_name),
        "endpoint_name": {"S": watched.endpoint_name},
        "source": {"S": watched.source},
        "since": {"S": watched.since},
        "updated_at": {"S": watched.updated_at},
        "variants": {"L": [{"S": v} for v in watched.variants]},
        "alarms": {"L": [{"S": a} for a in watched.alarms]},
    }
    return item


def _parse(item: dict[str, Any]) -> WatchedEndpoint | None:
    try:
        return WatchedEndpoint(
            endpoint_name=item["endpoint_name"]["S"],
            source=item["source"]["S"],
            since=item["since"]["S"],
            updated_at=item["updated_at"]["S"],
            variants=[v["S"] for v in item.get("variants", {}).get("L", [])],
            alarms=[a["S"] for a in item.get("alarms", {}).get("L", [])],
        )
    except (KeyError, TypeError, ValidationError):
        return None  # a damaged item is not a watched endpoint; the next sync rewrites it


class FleetRegistry:
    def __init__(self, table_name: str, ddb: Any | None = None) -> None:
        self.name = table_name
        self._ddb = ddb

    ddb = LazyClient("dynamodb")

    def put(self, watched: WatchedEndpoint) -> None:
        try:
            self.ddb.put_item(TableName=self.name, Item=_item(watched))
        except ClientError as exc:
            raise_if_throttled(exc, "DynamoDB")
            raise

    def delete(self, endpoint: str) -> WatchedEndpoint | None:
        """Remove the endpoint; returns what was stored (None if it was not watched)."""
        try:
            old = self.ddb.delete_item(TableName=self.name, Key=_key(endpoint), ReturnValues="ALL_OLD")
        except ClientError as exc:
            raise_if_throttled(exc, "DynamoDB")
            raise
        return _parse(old["Attributes"]) if "Attributes" in old else None

    def get(self, endpoint: str) -> WatchedEndpoint | None:
        try:
            item = self.ddb.get_item(TableName=self.name, Key=_key(endpoint), ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise_if_throttled(exc, "DynamoDB")
            raise
        if item is None or item.get("endpoint_name", {}).get("S") != endpoint:
            return None
        return _parse(item)

    def watches(self, endpoint: str) -> bool:
        """Is ``endpoint`` (exact name: DynamoDB keys compare exactly) in the fleet? A fresh, consistent read."""
        return self.get(endpoint) is not None

    def watched(self) -> list[WatchedEndpoint]:
        """Every watched endpoint, by name."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": PARTITION}, ":prefix": {"S": "endpoint#"}},
        }
        out: list[WatchedEndpoint] = []
        while True:
            try:
                page = self.ddb.query(**request)
            except ClientError as exc:
                raise_if_throttled(exc, "DynamoDB")
                raise
            out.extend(w for w in (_parse(i) for i in page.get("Items", [])) if w is not None)
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True)
class FleetScope:
    """The router's :class:`~llmops_sentinel.domain.remediation.scope.WatchedEndpoints`: the config-listed
    names (``SENTINEL_WATCHED_ENDPOINTS``) and every endpoint the fleet tracker onboarded, exact names.

    A config-listed name is answered without a read; any other name is one consistent GetItem, so an
    endpoint offboarded a moment ago (untagged, deleted) is no longer acted on."""

    configured: frozenset[str]
    registry: FleetRegistry
    _seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def watches(self, endpoint_name: str) -> bool:
        if endpoint_name in self.configured:
            return True
        if endpoint_name not in self._seen:  # one read per routed signal (the scope lives for one route)
            self._seen[endpoint_name] = self.registry.watches(endpoint_name)
        return self._seen[endpoint_name]

    def listed(self) -> frozenset[str]:
        """The config-listed names and every registry endpoint (one paginated Query); each one read is
        remembered as watched, so checking the listed names costs no further reads."""
        onboarded = {w.endpoint_name for w in self.registry.watched()}
        self._seen.update(dict.fromkeys(onboarded, True))
        return self.configured | onboarded

"""The latency monitor's items in the Sentinel table (DynamoDB, KMS-encrypted).

| item | pk | sk |
| --- | --- | --- |
| detector state of one endpoint variant | ``latency#<endpoint>#<variant>`` | ``state`` |
| config seen InService (by EndpointTrackerFunction) | ``endpoint#<endpoint>`` | ``config#<ISO>[#<config>]`` |
| an hour whose cost metrics were published | ``cost#<endpoint>`` | ``hour#<ISO start>`` (TTL ``expires_at``) |

The state item holds the p99 detector's JSON state (``state``), the other signals' states
(``signals``: a JSON map signal name -> state; TTFT, tokens/s, error rate), the last alarm episode the
monitor reported, the newest period with invocations it read (``last_active``: the idle check's
evidence, so idle needs no GetMetricData call of its own), and a ``revision`` counter: writes are
conditional on the revision read, so two
overlapping runs cannot both advance one detector. With backfill, states are 20-60 kB each for
1-minute data, under the 400 kB item limit for the four signals.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.clients import LazyClient
from llmops_sentinel.adapters.dynamodb import SentinelTable, raise_throttle
from llmops_sentinel.errors import SentinelError


class StateConflictError(SentinelError):
    """Another run advanced the detector state since this run read it."""


class StoredState(BaseModel):
    model_config = ConfigDict(defer_build=True)
    state_json: str | None = None
    last_alarm_json: str | None = None
    revision: int = 0
    signal_states: dict[str, str] = Field(default_factory=dict)
    """State JSON of every signal other than the p99 latency, by signal name."""
    last_active: float | None = None
    """Epoch s of the newest period with invocations the monitor has read (its idle evidence)."""
    read_through: float | None = None
    """End (epoch s) of the last span read: a run without new points does not read its backfill again."""


class ConfigSeen(BaseModel):
    model_config = ConfigDict(defer_build=True)
    config_name: str
    seen_at: float
    """Epoch s the endpoint was first seen InService on this config."""


def _epoch(iso: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


class LatencyStore:
    def __init__(self, table_name: str, ddb: Any | None = None) -> None:
        self.name = table_name
        self._ddb = ddb

    ddb = LazyClient("dynamodb")

    @staticmethod
    def key(endpoint: str, variant: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"latency#{endpoint}#{variant}"}, "sk": {"S": "state"}}

    def load(self, endpoint: str, variant: str) -> StoredState:
        try:
            item = self.ddb.get_item(TableName=self.name, Key=self.key(endpoint, variant), ConsistentRead=True).get(
                "Item"
            )
        except ClientError as exc:
            raise_throttle(exc)
            raise
        if not item:
            return StoredState()
        return StoredState(
            state_json=item.get("state", {}).get("S"),
            last_alarm_json=item.get("last_alarm", {}).get("S"),
            revision=int(item.get("revision", {}).get("N", "0")),
            signal_states=json.loads(item["signals"]["S"]) if "signals" in item else {},
            last_active=float(item["last_active"]["N"]) if "last_active" in item else None,
            read_through=float(item["read_through"]["N"]) if "read_through" in item else None,
        )

    def save(
        self,
        endpoint: str,
        variant: str,
        state_json: str,
        last_alarm_json: str | None,
        revision: int,
        now: float | None = None,
        signal_states: dict[str, str] | None = None,
        last_active: float | None = None,
        read_through: float | None = None,
    ) -> int:
        """Write the state if nobody else did since ``revision`` was read; returns the new revision."""
        item: dict[str, Any] = {
            **self.key(endpoint, variant),
            "state": {"S": state_json},
            "revision": {"N": str(revision + 1)},
            "updated_at": {"S": datetime.fromtimestamp(now if now is not None else time.time(), UTC).isoformat()},
        }
        if last_alarm_json:
            item["last_alarm"] = {"S": last_alarm_json}
        if signal_states:
            item["signals"] = {"S": json.dumps(signal_states, sort_keys=True)}
        if last_active is not None:
            item["last_active"] = {"N": repr(float(last_active))}
        if read_through is not None:
            item["read_through"] = {"N": repr(float(read_through))}
        try:
            self.ddb.put_item(
                TableName=self.name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR revision = :rev",
                ExpressionAttributeValues={":rev": {"N": str(revision)}},
            )
        except ClientError as exc:
            raise_throttle(exc)
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise StateConflictError(
                    f"latency state of {endpoint}/{variant} changed since revision {revision}"
                ) from exc
            raise
        return revision + 1

    def claim_cost_hour(self, endpoint: str, hour_start: str, expires_at: int) -> bool:
        """True for the first run to meter this endpoint's hour (it publishes), False for any later one: a
        re-metered hour must not publish its datapoints again (an hourly Sum would double)."""
        try:
            self.ddb.put_item(
                TableName=self.name,
                Item={
                    "pk": {"S": f"cost#{endpoint}"},
                    "sk": {"S": f"hour#{hour_start}"},
                    "expires_at": {"N": str(int(expires_at))},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            raise_throttle(exc)
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def config_history(self, endpoint: str, limit: int = 20) -> list[ConfigSeen]:
        """Configs the endpoint ran InService with, newest first, with when each was first seen."""
        found = []
        for seen_iso, name in SentinelTable(self.name, ddb=self.ddb).config_history(endpoint, limit):
            seen = _epoch(seen_iso)
            if seen is not None:
                found.append(ConfigSeen(config_name=name, seen_at=seen))
        return found

"""The Sentinel table (DynamoDB, KMS-encrypted, TTL on ``expires_at``): guardrails and audit.

Single-table layout (pk, sk):

| item | pk | sk |
| --- | --- | --- |
| cooldown lock | ``guard#<endpoint>#<action>`` | ``lock`` |
| endpoint lease (one workflow per endpoint) | ``lease#<endpoint>`` | ``lease`` |
| daily action counter | ``daily#<endpoint>`` | ``<YYYY-MM-DD>`` |
| decision (audit) | ``endpoint#<endpoint>`` | ``decision#<occurred ISO>#<decision id>`` |
| endpoint config seen InService | ``endpoint#<endpoint>`` | ``config#<ISO>#<config>`` |
| idle episode reported | ``idle#<endpoint>#<variant>`` | ``episode`` |

All guardrail writes are conditional, so two routers racing on one endpoint cannot both act.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled
from llmops_sentinel.errors import ThrottledError

DAY_S = 86_400
AUDIT_RETENTION_S = 400 * DAY_S


class Held(BaseModel):
    model_config = ConfigDict(defer_build=True)
    decision_id: str
    execution_name: str | None = None
    until: int


class Lease(BaseModel):
    """Who holds an endpoint's workflow lease: one workflow at a time, across all actions.

    ``token`` identifies the delivery that took it (every write after the take is conditional on it);
    ``state`` is ``claimed`` until the execution started, then ``started`` with its ARN."""

    model_config = ConfigDict(defer_build=True)

    decision_id: str
    action: str
    rank: int
    token: str
    state: Literal["claimed", "started"] = "claimed"
    claimed_at: int
    expires_at: int
    execution_arn: str | None = None
    queued_decision_id: str | None = None
    queued_action: str | None = None
    queued_rank: int | None = None
    queued_signal: str | None = None
    """The queued decision's signal (JSON): routed again when the holder's workflow ends."""


class AuditRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)
    endpoint: str
    decided_at: str
    occurred_at: str
    decision_id: str
    signal: str
    summary: str
    action: str
    outcome: str
    reason: str
    deliveries: int = 1
    execution_name: str | None = None
    execution_arn: str | None = None
    status: str | None = None
    finished_at: str | None = None
    detail: str | None = None


def raise_throttle(exc: ClientError) -> None:
    raise_if_throttled(exc, "DynamoDB")


def audit_key(endpoint: str, occurred_at: str, decision_id: str) -> dict[str, str]:
    return {"pk": f"endpoint#{endpoint}", "sk": f"decision#{occurred_at}#{decision_id}"}


class SentinelTable:
    def __init__(self, table_name: str, ddb: Any | None = None) -> None:
        self.name = table_name
        self._ddb = ddb

    ddb = LazyClient("dynamodb")

    # ------------------------------------------------------------------ guardrails
    def acquire(
        self,
        endpoint: str,
        action: str,
        decision_id: str,
        execution_name: str | None,
        cooldown_s: int,
        now: float | None = None,
    ) -> Held | bool:
        """Take the cooldown lock. True: newly taken; False: this decision already held it (a
        redelivery, which must not count again); :class:`Held`: another decision holds it."""
        now_s = int(now if now is not None else time.time())
        key = {"pk": {"S": f"guard#{endpoint}#{action}"}, "sk": {"S": "lock"}}
        item = {
            **key,
            "decision_id": {"S": decision_id},
            "expires_at": {"N": str(now_s + cooldown_s)},
            **({"execution_name": {"S": execution_name}} if execution_name else {}),
        }
        try:
            self.ddb.put_item(
                TableName=self.name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now_s)}},
            )
            return True
        except ClientError as exc:
            raise_throttle(exc)
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        held = self.ddb.get_item(TableName=self.name, Key=key, ConsistentRead=True).get("Item", {})
        if held.get("decision_id", {}).get("S") == decision_id:
            return False  # our own lock: a redelivery, which must neither extend nor count
        return Held(
            decision_id=held.get("decision_id", {}).get("S", "?"),
            execution_name=held.get("execution_name", {}).get("S"),
            until=int(held.get("expires_at", {}).get("N", now_s)),
        )

    def release(self, endpoint: str, action: str, decision_id: str) -> None:
        try:
            self.ddb.delete_item(
                TableName=self.name,
                Key={"pk": {"S": f"guard#{endpoint}#{action}"}, "sk": {"S": "lock"}},
                ConditionExpression="decision_id = :id",
                ExpressionAttributeValues={":id": {"S": decision_id}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def count_action(self, endpoint: str, limit: int, now: float | None = None) -> bool:
        """Count one action against today's limit; False (and nothing counted) when at the limit."""
        now_s = int(now if now is not None else time.time())
        day = datetime.fromtimestamp(now_s, UTC).strftime("%Y-%m-%d")
        try:
            self.ddb.update_item(
                TableName=self.name,
                Key={"pk": {"S": f"daily#{endpoint}"}, "sk": {"S": day}},
                UpdateExpression="ADD actions :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(actions) OR actions < :limit",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":exp": {"N": str(now_s + 3 * DAY_S)},
                },
            )
            return True
        except ClientError as exc:
            raise_throttle(exc)
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise

    # ------------------------------------------------------------------ endpoint lease
    @staticmethod
    def _lease_key(endpoint: str) -> dict[str, Any]:
        return {"pk": {"S": f"lease#{endpoint}"}, "sk": {"S": "lease"}}

    def take_lease(self, endpoint: str, claim: Lease, now: float, *, replacing: Lease | None = None) -> Lease | None:
        """Take the endpoint's lease for ``claim``: None when taken, else the current holder.

        Free means no item or an expired one; with ``replacing`` the write succeeds only if that exact
        holder (its token) still holds it, so two deliveries handing over one lease cannot both win."""
        item = {**self._lease_key(endpoint), **_lease_item(claim)}
        for _ in range(3):  # a holder that vanished between our write and our read: try again
            if replacing is None:
                condition = "attribute_not_exists(pk) OR expires_at < :now"
                extra: dict[str, Any] = {"ExpressionAttributeValues": {":now": {"N": str(int(now))}}}
            else:
                condition = "#token = :token"
                extra = {
                    "ExpressionAttributeValues": {":token": {"S": replacing.token}},
                    "ExpressionAttributeNames": {"#token": "token"},
                }
            try:
                self.ddb.put_item(TableName=self.name, Item=item, ConditionExpression=condition, **extra)
                return None
            except ClientError as exc:
                raise_throttle(exc)
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
            held = self.lease(endpoint)
            if held is not None:
                return held
            replacing = None
        raise ThrottledError(f"lease on {endpoint} changed hands three times during one take; retry")

    def lease(self, endpoint: str) -> Lease | None:
        held = self.ddb.get_item(TableName=self.name, Key=self._lease_key(endpoint), ConsistentRead=True).get("Item")
        return _lease_from_item(held) if held else None

    def lease_started(self, endpoint: str, token: str, execution_arn: str) -> None:
        """The holder's execution runs: the lease now names it (conditional on the holder's token)."""
        self._lease_update(
            endpoint,
            token,
            "SET #state = :started, execution_arn = :arn",
            {":started": {"S": "started"}, ":arn": {"S": execution_arn}},
            {"#state": "state"},
        )

    def queue_on_lease(self, endpoint: str, token: str, decision_id: str, action: str, rank: int, signal: str) -> None:
        """Record a stronger decision's intent (and its signal, to route it again when the running workflow
        ends) on that workflow's lease. One decision waits per lease: a later one replaces it only if it ranks
        at least as high (lower or equal rank), so a weaker signal cannot push a stronger one out."""
        self._lease_update(
            endpoint,
            token,
            "SET queued_decision_id = :d, queued_action = :a, queued_rank = :r, queued_signal = :s",
            {":d": {"S": decision_id}, ":a": {"S": action}, ":r": {"N": str(rank)}, ":s": {"S": signal}},
            {},
            extra_condition="(attribute_not_exists(queued_rank) OR queued_rank >= :r)",
        )

    def release_lease(self, endpoint: str, token: str) -> None:
        try:
            self.ddb.delete_item(
                TableName=self.name,
                Key=self._lease_key(endpoint),
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": token}},
            )
        except ClientError as exc:
            raise_throttle(exc)
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def _lease_update(
        self,
        endpoint: str,
        token: str,
        expression: str,
        values: dict[str, Any],
        names: dict[str, str],
        extra_condition: str | None = None,
    ) -> None:
        try:
            self.ddb.update_item(
                TableName=self.name,
                Key=self._lease_key(endpoint),
                UpdateExpression=expression,
                ConditionExpression="#token = :token" + (f" AND {extra_condition}" if extra_condition else ""),
                ExpressionAttributeNames={**names, "#token": "token"},
                ExpressionAttributeValues={**values, ":token": {"S": token}},
            )
        except ClientError as exc:
            raise_throttle(exc)
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    # ------------------------------------------------------------------ audit
    def record(self, rec: AuditRecord, now: float | None = None, *, authoritative: bool = False) -> AuditRecord:
        """One item per decision; a redelivered signal only bumps ``deliveries``. Returns the stored record.

        The first delivery's fields are kept (``if_not_exists``), except for an ``authoritative``
        write: the delivery that started the execution overwrites what a racing duplicate wrote first,
        so the record never says ``duplicate`` for the decision that started it."""
        now_s = int(now if now is not None else time.time())
        key = audit_key(rec.endpoint, rec.occurred_at, rec.decision_id)
        fields = rec.model_dump(exclude={"deliveries"}, exclude_none=True)
        names = {f"#{k}": k for k in fields}
        values: dict[str, Any] = {f":{k}": {"S": str(v)} for k, v in fields.items()}
        values[":one"] = {"N": "1"}
        values[":exp"] = {"N": str(now_s + AUDIT_RETENTION_S)}
        sets = ", ".join(f"#{k} = :{k}" if authoritative else f"#{k} = if_not_exists(#{k}, :{k})" for k in fields)
        stored = self.ddb.update_item(
            TableName=self.name,
            Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}},
            UpdateExpression=f"SET {sets}, expires_at = :exp ADD deliveries :one",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return _audit_from_item(stored)

    def history(self, endpoint: str, limit: int = 50) -> list[AuditRecord]:
        items = self.ddb.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"endpoint#{endpoint}"}, ":prefix": {"S": "decision#"}},
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
        return [_audit_from_item(item) for item in items]

    # ------------------------------------------------------------------ idle episodes
    @staticmethod
    def _idle_key(endpoint: str, variant: str) -> dict[str, Any]:
        return {"pk": {"S": f"idle#{endpoint}#{variant}"}, "sk": {"S": "episode"}}

    def begin_idle(self, endpoint: str, variant: str, since: float) -> bool:
        """True if this starts a new idle episode (nobody reported it yet): a conditional put."""
        try:
            self.ddb.put_item(
                TableName=self.name,
                Item={**self._idle_key(endpoint, variant), "since": {"N": str(int(since))}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            raise_throttle(exc)
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def end_idle(self, endpoint: str, variant: str, active_at: float | None = None) -> None:
        """The episode is over, or was not reported (a later run retries).

        With ``active_at`` (the newest traffic, or change, the run saw) only an episode that began before it
        ends: a run that read older data than the run which reported the episode cannot delete that episode
        (its next run would report it again). Without it (the endpoint is gone, or a report that failed) the
        item goes unconditionally."""
        if active_at is None:
            self.ddb.delete_item(TableName=self.name, Key=self._idle_key(endpoint, variant))
            return
        try:
            self.ddb.delete_item(
                TableName=self.name,
                Key=self._idle_key(endpoint, variant),
                ConditionExpression="since < :at",
                ExpressionAttributeValues={":at": {"N": str(int(active_at))}},
            )
        except ClientError as exc:
            raise_throttle(exc)
            if error_code(exc) != "ConditionalCheckFailedException":  # no episode, or one newer than the evidence
                raise

    # ------------------------------------------------------------------ endpoint config history
    def record_config(self, endpoint: str, config_name: str, seen_at: str) -> bool:
        """Remember a config the endpoint was InService with; False if it is already the latest."""
        latest = self.configs(endpoint, limit=1)
        if latest and latest[0] == config_name:
            return False
        self.ddb.put_item(
            TableName=self.name,
            Item={
                "pk": {"S": f"endpoint#{endpoint}"},
                "sk": {"S": f"config#{seen_at}#{config_name}"},
                "config_name": {"S": config_name},
            },
        )
        return True

    def config_history(self, endpoint: str, limit: int = 10) -> list[tuple[str, str]]:
        """(first seen ISO, config name) the endpoint was InService with, newest first."""
        items = self.ddb.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"endpoint#{endpoint}"}, ":prefix": {"S": "config#"}},
            ScanIndexForward=False,
            Limit=limit,
        )["Items"]
        return [
            (item["sk"]["S"].removeprefix("config#").split("#")[0], item["config_name"]["S"])  # config#<ISO>#<name>
            for item in items
            if "config_name" in item
        ]

    def configs(self, endpoint: str, limit: int = 10) -> list[str]:
        """Configs the endpoint was InService with, newest first."""
        return [name for _, name in self.config_history(endpoint, limit)]


def _lease_item(lease: Lease) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in lease.model_dump(exclude_none=True).items():
        out[key] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
    return out


def _lease_from_item(item: dict[str, Any]) -> Lease:
    plain = {k: (v["S"] if "S" in v else int(float(v["N"]))) for k, v in item.items() if k not in ("pk", "sk")}
    return Lease.model_validate(plain)


def _audit_from_item(item: dict[str, Any]) -> AuditRecord:
    plain: dict[str, Any] = {}
    for key, value in item.items():
        if "S" in value:
            plain[key] = value["S"]
        elif "N" in value:
            plain[key] = int(float(value["N"]))
    return AuditRecord.model_validate(plain)

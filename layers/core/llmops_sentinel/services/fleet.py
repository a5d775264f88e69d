"""The fleet tracker: which endpoints this stack watches, followed by itself.

Every request ends in the same use case, :func:`reconcile`: a fresh DescribeEndpoint + ListTags read
of one endpoint decides (with :func:`~llmops_sentinel.domain.fleet.membership.membership`) whether it
is watched, then

- **onboard**: its alarms made to match :func:`~llmops_sentinel.domain.fleet.alarms.desired_alarms`
  (put new or changed ones, delete owned ones no longer desired), the stack tag
  ``sentinel:stack=<stack>`` on the endpoint, its registry item written; a second read after the
  writes catches an endpoint deleted or untagged meanwhile (then it is offboarded at once);
- **offboard** (not found, ``Deleting``, untagged, opted out): its owned alarms deleted, the stack tag
  removed, the registry item deleted. Nothing is left behind.

Both are idempotent and depend only on the state read, so two events for one endpoint in any order
converge. An endpoint tagged ``sentinel:stack`` by another stack is not taken over.

:func:`full_sync` (the schedule and the custom resource's Create/Update) reconciles every endpoint in
the account, every registry item and every config-listed name, then deletes owned alarms of
endpoints that are none of those; one endpoint's failure is that endpoint's result.
:func:`teardown` (the custom resource's Delete) removes every alarm and stack tag the service created.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pydantic import BaseModel

from llmops_sentinel.adapters import cfn_response
from llmops_sentinel.adapters.alarms import FleetAlarms
from llmops_sentinel.adapters.clients import error_code
from llmops_sentinel.adapters.fleet_endpoints import EndpointView, FleetEndpoints, FleetScalableTargets
from llmops_sentinel.adapters.fleet_registry import FleetRegistry
from llmops_sentinel.domain.fleet.alarms import ENDPOINT_TAG, desired_alarms, endpoint_prefix, plan
from llmops_sentinel.domain.fleet.membership import WatchedEndpoint, membership
from llmops_sentinel.domain.fleet.policy import STACK_TAG, FleetPolicy, load_fleet_policy
from llmops_sentinel.errors import ConfigError, CustomResourceReplyError, InvalidEventError, ThrottledError
from llmops_sentinel.models.fleet_events import (
    CustomResourceRequest,
    FullSync,
    Ignore,
    LookAt,
    parse_fleet_event,
    response_url_allowed,
)

logger = Logger(child=True)
Status = Literal["onboarded", "updated", "unchanged", "offboarded", "not-watched", "error"]


@dataclass(frozen=True)
class FleetSettings:
    stack_name: str
    table_name: str
    policy: FleetPolicy
    local: bool = False
    """The local cloud (AWS_SAM_LOCAL): a custom resource may reply to its own http host."""

    @classmethod
    def from_env(cls) -> FleetSettings:
        missing = [n for n in ("SENTINEL_STACK_NAME", "SENTINEL_TABLE_NAME") if not os.environ.get(n, "").strip()]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        policy = load_fleet_policy(os.environ.get("SENTINEL_FLEET_POLICY", ""))
        return cls(
            stack_name=os.environ["SENTINEL_STACK_NAME"],
            table_name=os.environ["SENTINEL_TABLE_NAME"],
            policy=with_listed(policy, os.environ.get("SENTINEL_FLEET_ENDPOINTS", "")),
            local=os.environ.get("AWS_SAM_LOCAL") == "true",
        )


def with_listed(policy: FleetPolicy, names: str) -> FleetPolicy:
    """The policy with comma-separated ``names`` (the EndpointName parameter) added to its config list."""
    extra = [n.strip() for n in names.split(",") if n.strip() and n.strip() not in policy.onboarding.endpoints]
    if not extra:
        return policy
    onboarding = policy.onboarding.model_copy(update={"endpoints": [*policy.onboarding.endpoints, *extra]})
    return policy.model_copy(update={"onboarding": onboarding})


@dataclass
class FleetDeps:
    endpoints: FleetEndpoints
    alarms: FleetAlarms
    registry: FleetRegistry
    now: Callable[[], str] = field(default=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    scaling: FleetScalableTargets = field(default_factory=FleetScalableTargets)

    @classmethod
    def default(cls, settings: FleetSettings) -> FleetDeps:
        return cls(FleetEndpoints(), FleetAlarms(), FleetRegistry(settings.table_name))


class EndpointResult(BaseModel):
    endpoint_name: str
    status: Status
    reason: str
    source: str | None = None
    alarms: list[str] = []
    put: list[str] = []
    deleted: list[str] = []
    conflicts: list[str] = []
    targets_tagged: list[str] = []
    """Scalable targets of its variants given (onboard) or relieved of (offboard) the stack tag."""


class SyncResult(BaseModel):
    status: Literal["synced", "torn-down"]
    endpoints_seen: int
    watched: list[str]
    counts: dict[str, int]
    orphan_alarms_deleted: list[str] = []
    results: list[EndpointResult]


class _AlarmView:
    """The stack's alarms as one sync sees them: listed once (or per endpoint), tags read at most once each."""

    def __init__(self, alarms: FleetAlarms, listed: dict[str, dict[str, Any]] | None = None) -> None:
        self._alarms = alarms
        self._listed = listed
        self._tags: dict[str, dict[str, str]] = {}

    def under(self, prefix: str) -> dict[str, dict[str, Any]]:
        if self._listed is None:
            return self._alarms.by_prefix(prefix)
        return {n: a for n, a in self._listed.items() if n.startswith(prefix)}

    def tags(self, name: str, alarm: dict[str, Any]) -> dict[str, str]:
        if name not in self._tags:
            self._tags[name] = self._alarms.tags(str(alarm["AlarmArn"]))
        return self._tags[name]

    def forget(self, names: list[str]) -> None:
        if self._listed is not None:
            for name in names:
                self._listed.pop(name, None)


def reconcile(name: str, settings: FleetSettings, deps: FleetDeps, view: _AlarmView | None = None) -> EndpointResult:
    """Look at ``name`` now (fresh read) and make the stack's state for it match."""
    alarms = view or _AlarmView(deps.alarms)
    endpoint = deps.endpoints.read(name)
    watched, why = _decide(name, endpoint, settings)
    if not watched or endpoint is None:
        return _offboard(name, endpoint, why, settings, deps, alarms)
    result = _onboard(endpoint, why, settings, deps, alarms)
    if result.status in {"onboarded", "updated"}:
        again = deps.endpoints.read(name)  # changed while we wrote? (a delete or untag racing this event)
        still, why_not = _decide(name, again, settings)
        if not still:
            return _offboard(name, again, f"{why_not} (while onboarding)", settings, deps, _AlarmView(deps.alarms))
    return result


def _decide(name: str, endpoint: EndpointView | None, settings: FleetSettings) -> tuple[bool, str]:
    if endpoint is None:
        return False, "endpoint not found"
    if endpoint.status == "Deleting":
        return False, "endpoint is Deleting"
    owner = endpoint.tags.get(STACK_TAG)
    if owner and owner != settings.stack_name:
        return False, f"watched by stack {owner!r} ({STACK_TAG}); not taken over"
    m = membership(endpoint.name, endpoint.tags, settings.policy)
    return m.watched, f"{m.source}: {m.reason}" if m.watched else m.reason


def _onboard(
    endpoint: EndpointView, why: str, settings: FleetSettings, deps: FleetDeps, alarms: _AlarmView
) -> EndpointResult:
    stack, name = settings.stack_name, endpoint.name
    desired = desired_alarms(stack, name, endpoint.variants, settings.policy.settings(name))
    existing = alarms.under(endpoint_prefix(stack, name))
    tags = {n: alarms.tags(n, a) for n, a in existing.items()}
    todo = plan(stack, name, desired, existing, tags)
    for spec in todo.put:
        deps.alarms.put(spec, stack)
        if spec.name in existing:
            deps.alarms.tag(str(existing[spec.name]["AlarmArn"]), spec.tags(stack))
    deps.alarms.delete(todo.delete)
    alarms.forget(todo.delete)
    tagged = endpoint.tags.get(STACK_TAG) == stack
    if not tagged:
        deps.endpoints.add_stack_tag(endpoint.arn, stack)
    targets = _retag_targets(endpoint, stack, deps, tag=True)
    source = "config" if why.startswith("config") else "tag"
    kept = sorted(s.name for s in desired if s.name not in todo.conflicts)
    old = deps.registry.get(name)
    changed = old is None or (old.variants, old.source, old.alarms) != (endpoint.variants, source, kept)
    if changed:
        now = deps.now()
        deps.registry.put(
            WatchedEndpoint(
                endpoint_name=name,
                variants=endpoint.variants,
                source=source,
                since=old.since if old else now,
                updated_at=now,
                alarms=kept,
            )
        )
    wrote = changed or bool(todo.put or todo.delete) or not tagged or bool(targets)
    status: Status = "onboarded" if old is None else ("updated" if wrote else "unchanged")
    return EndpointResult(
        endpoint_name=name,
        status=status,
        reason=why,
        source=source,
        alarms=kept,
        put=[s.name for s in todo.put],
        deleted=todo.delete,
        conflicts=todo.conflicts,
        targets_tagged=targets,
    )


def _retag_targets(endpoint: EndpointView, stack: str, deps: FleetDeps, *, tag: bool) -> list[str]:
    """Put (``tag``) or take off the stack tag on every registered scalable target of the endpoint's
    variants; returns the targets changed. IAM by tag lets the scale workflows register a target only when
    it carries the tag; a target registered later is tagged by the next event or hourly sync. A refused
    call is logged, not fatal: the endpoint stays watched (or offboarded) and its alarms stay as planned;
    only a workflow that registers that target would be denied. A deleted endpoint's targets go with it."""
    done: list[str] = []
    try:
        for arn in deps.scaling.of(endpoint.name, endpoint.variants):
            ours = deps.scaling.stack_of(arn) == stack
            if tag and not ours:
                deps.scaling.add_stack_tag(arn, stack)
            elif not tag and ours:
                deps.scaling.remove_stack_tag(arn)
            else:
                continue
            done.append(arn)
    except ClientError as exc:
        logger.warning(
            "scalable target tag not changed",
            extra={"endpoint": endpoint.name, "tag": tag, "error": error_code(exc)},
        )
    return done


def _offboard(
    name: str, endpoint: EndpointView | None, why: str, settings: FleetSettings, deps: FleetDeps, alarms: _AlarmView
) -> EndpointResult:
    stack = settings.stack_name
    existing = alarms.under(endpoint_prefix(stack, name))
    owned = sorted(
        n
        for n, a in existing.items()
        if alarms.tags(n, a).get(STACK_TAG) == stack and alarms.tags(n, a).get(ENDPOINT_TAG) == name
    )
    deps.alarms.delete(owned)
    alarms.forget(owned)
    untagged = False
    if endpoint is not None and endpoint.tags.get(STACK_TAG) == stack:
        try:
            deps.endpoints.remove_stack_tag(endpoint.arn)
            untagged = True
        except ClientError as exc:  # a Deleting endpoint may refuse tag changes; it takes its tags with it
            logger.info("stack tag not removed", extra={"endpoint": name, "error": error_code(exc)})
    targets = _retag_targets(endpoint, stack, deps, tag=False) if endpoint is not None else []
    old = deps.registry.delete(name)
    did = old is not None or bool(owned) or untagged or bool(targets)
    return EndpointResult(
        endpoint_name=name,
        status="offboarded" if did else "not-watched",
        reason=why,
        deleted=owned,
        targets_tagged=targets,
    )


def _isolated(name: str, run: Callable[[], EndpointResult]) -> tuple[EndpointResult, bool]:
    """One endpoint's work; its failure is its result. Returns (result, throttled)."""
    try:
        return run(), False
    except ThrottledError as exc:
        return EndpointResult(endpoint_name=name, status="error", reason=f"ThrottledError: {exc}"[:500]), True
    except ClientError as exc:
        return EndpointResult(endpoint_name=name, status="error", reason=f"{error_code(exc)}: {exc}"[:500]), False


def _summary(
    status: Literal["synced", "torn-down"], seen: int, results: list[EndpointResult], throttled: int, orphans: list[str]
) -> SyncResult:
    if results and throttled == len(results):
        raise ThrottledError(f"every one of {len(results)} endpoints was throttled: nothing could be done")
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    watched = sorted(r.endpoint_name for r in results if r.status in {"onboarded", "updated", "unchanged"})
    return SyncResult(
        status=status,
        endpoints_seen=seen,
        watched=watched,
        counts=counts,
        orphan_alarms_deleted=orphans,
        results=results,
    )


def full_sync(settings: FleetSettings, deps: FleetDeps) -> SyncResult:
    """Every endpoint in the account, every registry item and config-listed name reconciled; orphans removed."""
    stack = settings.stack_name
    names = deps.endpoints.names()  # throttled here: nothing could be done, ThrottledError propagates
    listed = deps.alarms.by_prefix(f"{stack}-")
    view = _AlarmView(deps.alarms, listed)
    registry = [w.endpoint_name for w in deps.registry.watched()]
    candidates = list(dict.fromkeys([*names, *registry, *sorted(settings.policy.configured())]))
    results, throttled = [], 0
    for name in candidates:
        result, was_throttled = _isolated(name, lambda n=name: reconcile(n, settings, deps, view))  # type: ignore[misc]
        results.append(result)
        throttled += was_throttled
    known = set(candidates)
    orphans = []
    for alarm_name, alarm in sorted(listed.items()):
        try:
            tags = view.tags(alarm_name, alarm)
        except (ClientError, ThrottledError):
            continue  # the next sync looks again
        if tags.get(STACK_TAG) == stack and tags.get(ENDPOINT_TAG) and tags[ENDPOINT_TAG] not in known:
            orphans.append(alarm_name)
    deps.alarms.delete(orphans)
    return _summary("synced", len(names), results, throttled, orphans)


def teardown(settings: FleetSettings, deps: FleetDeps) -> SyncResult:
    """Remove every alarm, stack tag and registry item the service created (the stack is being deleted)."""
    stack = settings.stack_name
    listed = deps.alarms.by_prefix(f"{stack}-")
    view = _AlarmView(deps.alarms, dict(listed))
    owned = []
    for name, alarm in sorted(listed.items()):
        tags = view.tags(name, alarm)
        if tags.get(STACK_TAG) == stack and ENDPOINT_TAG in tags:
            owned.append(name)
    deps.alarms.delete(owned)
    view.forget(owned)
    names = deps.endpoints.names()
    registry = [w.endpoint_name for w in deps.registry.watched()]
    results, throttled = [], 0
    for name in dict.fromkeys([*registry, *names]):

        def remove(n: str = name) -> EndpointResult:
            endpoint = deps.endpoints.read(n)
            return _offboard(n, endpoint, "the stack is being deleted", settings, deps, view)

        result, was_throttled = _isolated(name, remove)
        results.append(result)
        throttled += was_throttled
    return _summary("torn-down", len(names), results, throttled, owned)


# ------------------------------------------------------------------------------- requests
def invoke(
    event: Any,
    load_settings: Callable[[], FleetSettings],
    make_deps: Callable[[FleetSettings], FleetDeps] = FleetDeps.default,
    reply: Callable[[str, dict[str, Any]], int] = cfn_response.send,
) -> dict[str, Any]:
    """The handler's one call. A bad deployment (:class:`ConfigError`: environment, fleet policy) still
    fails the invocation (the health alarm fires), but a custom resource request gets its FAILED reply
    first: CloudFormation would otherwise wait an hour for an answer that never comes."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        local = os.environ.get("AWS_SAM_LOCAL") == "true"
        _reply_failed_if_possible(event, local, reply, f"ConfigError: {exc}")
        raise
    return handle(event, settings, make_deps(settings), reply)


def handle(
    event: Any,
    settings: FleetSettings,
    deps: FleetDeps,
    reply: Callable[[str, dict[str, Any]], int] = cfn_response.send,
) -> dict[str, Any]:
    """One tracker invocation: parse (typed rejection of malformed events), then the use case."""
    try:
        request = parse_fleet_event(event)
    except InvalidEventError as exc:
        _reply_failed_if_possible(event, settings.local, reply, str(exc))
        raise
    if isinstance(request, Ignore):
        return {"status": "ignored", "reason": request.reason}
    if isinstance(request, FullSync):
        return full_sync(settings, deps).model_dump(mode="json")
    if isinstance(request, CustomResourceRequest):
        return custom_resource(request, settings, deps, reply)
    return look_at(request, settings, deps).model_dump(mode="json")


def look_at(request: LookAt, settings: FleetSettings, deps: FleetDeps) -> EndpointResult:
    if not request.from_arn:
        return reconcile(request.endpoint_name, settings, deps)
    # An ARN's name is lowercased: the canonical name(s) from a fresh read, and registry items it may mean.
    names = set(deps.endpoints.resolve(request.endpoint_name))
    names |= {w.endpoint_name for w in deps.registry.watched() if w.endpoint_name.lower() == request.endpoint_name}
    results = [reconcile(n, settings, deps) for n in sorted(names)]
    if not results:
        return EndpointResult(
            endpoint_name=request.endpoint_name,
            status="not-watched",
            reason=f"{request.why}: no endpoint named {request.endpoint_name!r} (any case)",
        )
    return results[0] if len(results) == 1 else max(results, key=lambda r: r.status != "not-watched")


def custom_resource(
    request: CustomResourceRequest,
    settings: FleetSettings,
    deps: FleetDeps,
    reply: Callable[[str, dict[str, Any]], int],
) -> dict[str, Any]:
    """Create/Update: a full sync; Delete: teardown. Always replies to the ResponseURL (SUCCESS or FAILED)."""
    if not response_url_allowed(request.ResponseURL, settings.local):
        raise InvalidEventError("custom resource ResponseURL is not an https S3 presigned URL")
    physical = request.PhysicalResourceId or f"{settings.stack_name}-fleet-discovery"
    body: dict[str, Any] = {
        "PhysicalResourceId": physical,
        "StackId": request.StackId,
        "RequestId": request.RequestId,
        "LogicalResourceId": request.LogicalResourceId,
        "NoEcho": False,
    }
    try:
        result = teardown(settings, deps) if request.RequestType == "Delete" else full_sync(settings, deps)
        body |= {
            "Status": "SUCCESS",
            "Reason": f"{result.status}: {len(result.watched)} endpoints watched",
            "Data": {"Watched": str(len(result.watched)), "Errors": str(result.counts.get("error", 0))},
        }
    except Exception as exc:
        logger.exception("fleet discovery failed")
        result = None
        body |= {"Status": "FAILED", "Reason": f"{type(exc).__name__}: {exc}"[:1000]}
    try:
        status = reply(request.ResponseURL, body)
    except OSError as exc:  # the work is idempotent: Lambda's retry of the invocation replies again
        raise CustomResourceReplyError(f"could not reply {body['Status']} to the ResponseURL: {exc}"[:500]) from exc
    logger.info("custom resource reply", extra={"status": body["Status"], "http": status})
    return {
        "status": body["Status"].lower(),
        "request": request.RequestType,
        "reason": body["Reason"],
        **({"sync": result.model_dump(mode="json")} if result else {}),
    }


def _reply_failed_if_possible(
    event: Any, local: bool, reply: Callable[[str, dict[str, Any]], int], reason: str
) -> None:
    """A malformed custom resource request with a usable ResponseURL still gets its FAILED reply."""
    if not isinstance(event, dict) or "RequestType" not in event:
        return
    url = event.get("ResponseURL")
    if not isinstance(url, str) or len(url) > 8192 or not response_url_allowed(url, local):
        return
    stack = os.environ.get("SENTINEL_STACK_NAME", "") or "sentinel"
    body = {
        "Status": "FAILED",
        "Reason": reason[:1000],
        "PhysicalResourceId": str(event.get("PhysicalResourceId") or f"{stack}-fleet-discovery")[:1024],
        **{k: str(event.get(k, ""))[:1024] for k in ("StackId", "RequestId", "LogicalResourceId")},
    }
    try:
        reply(url, body)
    except OSError:
        logger.warning("could not reply to a malformed custom resource request")

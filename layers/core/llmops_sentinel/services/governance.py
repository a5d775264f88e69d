"""Governance use cases: a CloudTrail event, or one batch of the periodic scan, in; findings out to
Security Hub and the Sentinel bus; remediation per policy (dry-run unless the policy says otherwise).

Flow of :func:`govern` (both entry points end there):

1. ``evaluate(resources, policies)`` (pure);
2. Security Hub: every finding except "insufficient data" ones, as ASFF, 100 per call (a partial
   CloudTrail view must not overwrite what a full evaluation said);
3. bus: the NON_COMPLIANT findings in ``Governance Findings`` events of up to 50 findings each
   (:func:`finding_events`; the router handles one event in one invocation, each finding on its own,
   and notifies on it);
4. remediation: each plan through :class:`RemediationExecutor` (dry-run plans are reported, not run),
   each outcome logged with its finding.

A CloudTrail record carries only part of a resource. :func:`handle_cloudtrail` therefore re-reads
the resource it names (the same fetch the scan uses) and evaluates the current state; when the
resource no longer exists, the record itself is evaluated (violations it shows still count).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.clients import client
from llmops_sentinel.adapters.events import SentinelBus
from llmops_sentinel.adapters.governance_scan import GovernanceScanner
from llmops_sentinel.adapters.remediation_actions import ActionOutcome, RemediationExecutor
from llmops_sentinel.adapters.securityhub import SecurityHubImporter
from llmops_sentinel.domain.governance import (
    Finding,
    PolicySet,
    RemediationPlan,
    Resource,
    Status,
    evaluate,
    load_default_policies,
    normalise_cloudtrail,
    normalise_scan_bundle,
    parse_policies,
    to_asff,
)
from llmops_sentinel.domain.governance.resources import EndpointConfig, IamPolicy, KmsKey, ResourceType
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.models.bus_events import (
    MAX_FINDINGS_DETAIL_BYTES,
    MAX_FINDINGS_PER_EVENT,
    GovernanceFindingDetail,
    GovernanceFindingsDetail,
)
from llmops_sentinel.models.governance import (
    BatchResult,
    Listing,
    ListRequest,
    ScanBatch,
    ScanItem,
    ScanSummary,
    SummariseRequest,
)

DETAIL_TYPE = GovernanceFindingsDetail.DETAIL_TYPE
logger = Logger(child=True)  # logs through the handler's Logger (same service)


class GovernanceSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    model_config = ConfigDict(defer_build=True, arbitrary_types_allowed=True)

    policies: PolicySet
    bus_name: str
    topic_arn: str
    account_id: str
    region: str
    items_bucket: str | None = None
    batch_size: int = Field(default=50, ge=1, le=1000)
    governed_role_pattern: str = ""  # template.yaml GovernedRolePattern; empty = no detaching or role tags
    stack_name: str = ""  # tagged sentinel:stack on compliant copies (the create is conditioned on it)

    @classmethod
    def from_env(cls) -> GovernanceSettings:
        required = ("SENTINEL_EVENT_BUS_NAME", "SENTINEL_NOTIFICATION_TOPIC_ARN", "SENTINEL_ACCOUNT_ID")
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        override = os.environ.get("SENTINEL_GOVERNANCE_POLICIES", "").strip()
        policies = parse_policies(override, "SENTINEL_GOVERNANCE_POLICIES") if override else load_default_policies()
        return cls(
            policies=policies,
            bus_name=os.environ["SENTINEL_EVENT_BUS_NAME"],
            topic_arn=os.environ["SENTINEL_NOTIFICATION_TOPIC_ARN"],
            account_id=os.environ["SENTINEL_ACCOUNT_ID"],
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            items_bucket=os.environ.get("SENTINEL_SCAN_BUCKET") or None,
            batch_size=int(os.environ.get("SENTINEL_SCAN_BATCH_SIZE", "50")),
            governed_role_pattern=os.environ.get("SENTINEL_GOVERNED_ROLE_PATTERN", "").strip(),
            stack_name=os.environ.get("SENTINEL_STACK_NAME", ""),
        )


@dataclass
class GovernanceDeps:
    """The adapters; each created on first use unless injected (tests inject fakes or moto clients)."""

    settings: GovernanceSettings
    scanner: GovernanceScanner | None = None
    hub: SecurityHubImporter = field(default_factory=SecurityHubImporter)
    bus: SentinelBus | None = None
    executor: RemediationExecutor | None = None
    s3: Any | None = None

    def __post_init__(self) -> None:
        s = self.settings
        self.scanner = self.scanner or GovernanceScanner(s.account_id, s.region)
        self.bus = self.bus or SentinelBus(s.bus_name)
        self.executor = self.executor or RemediationExecutor(
            s.topic_arn, governed_role_pattern=s.governed_role_pattern, stack_name=s.stack_name
        )


class GovernResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    status: str = "evaluated"
    resources: int = 0
    findings: int = 0
    non_compliant: int = 0
    insufficient_data: int = 0
    imported: int = 0
    import_failed: list[str] = Field(default_factory=list)
    published: int = 0
    publish_failed: int = 0
    remediations: list[ActionOutcome] = Field(default_factory=list)
    violations: list[dict[str, Any]] = Field(default_factory=list)


def _endpoint_of(finding: Finding, resources: dict[str, Resource]) -> str | None:
    resource = resources.get(finding.resource_id)
    if isinstance(resource, EndpointConfig | KmsKey) and resource.used_by_endpoints:
        return resource.used_by_endpoints[0]
    return None


def bus_detail(finding: Finding, outcome: ActionOutcome | None, endpoint: str | None) -> GovernanceFindingDetail:
    """The ``Governance Finding`` event detail the router parses (models/signals.py)."""
    detail: dict[str, Any] = {
        "policy": finding.policy,
        "check": finding.check,
        "resource_type": finding.resource_type.value,
        "resource_id": finding.resource_id,
        "severity": finding.severity.value,
        "compliant": finding.compliant,
        "summary": f"{finding.policy}: {finding.reason}"[:300],
        "finding_id": finding.id,
        "source": finding.source.value,
    }
    if finding.event_name:
        detail["event_name"] = finding.event_name
    if finding.remediation is not None:
        detail["remediation"] = {
            "action": finding.remediation.action,
            "plan_status": finding.remediation.status,
            "outcome": outcome.status if outcome else None,
            "idempotency_key": finding.remediation.idempotency_key,
            "summary": outcome.detail[:300] if outcome else finding.remediation.reason,
        }
    if endpoint:
        detail["endpoint_name"] = endpoint
    return GovernanceFindingDetail.model_validate(detail)


@dataclass(frozen=True)
class FindingEvent:
    """One ``Governance Findings`` event to put, and which of the violations (by position) it carries."""

    detail: GovernanceFindingsDetail
    resources: list[str]
    indexes: list[int]


def finding_events(
    details: list[tuple[GovernanceFindingDetail, str | None]],
    max_findings: int = MAX_FINDINGS_PER_EVENT,
    max_bytes: int = MAX_FINDINGS_DETAIL_BYTES,
) -> list[FindingEvent]:
    """The findings (detail, resource ARN) cut into ``Governance Findings`` events, in order: at most
    ``max_findings`` each, and a detail's JSON under ``max_bytes`` (PutEvents' 256 KB per entry)."""
    events: list[FindingEvent] = []
    chunk: list[int] = []
    size = 0
    wires = [detail.wire() for detail, _ in details]
    for index, wire in enumerate(wires):
        cost = len(json.dumps(wire, default=str).encode()) + 2  # the list's ", "
        if chunk and (len(chunk) >= max_findings or size + cost > max_bytes):
            events.append(_finding_event(details, wires, chunk))
            chunk, size = [], 0
        chunk.append(index)
        size += cost
    if chunk:
        events.append(_finding_event(details, wires, chunk))
    return events


def _finding_event(
    details: list[tuple[GovernanceFindingDetail, str | None]], wires: list[dict[str, Any]], chunk: list[int]
) -> FindingEvent:
    policies = Counter(details[i][0].policy for i in chunk)
    named = ", ".join(f"{policy} x{count}" for policy, count in policies.most_common())
    summary = f"{len(chunk)} governance finding{'s' if len(chunk) != 1 else ''}: {named}"
    arns = list(dict.fromkeys(arn for i in chunk if (arn := details[i][1])))
    detail = GovernanceFindingsDetail(summary=summary[:1000], findings=[wires[i] for i in chunk])
    return FindingEvent(detail=detail, resources=arns, indexes=list(chunk))


def merge_endpoint_config_replacements(findings: list[Finding]) -> dict[str, RemediationPlan]:
    """One compliant copy per endpoint config, not one per policy.

    When several policies (KMS, data capture) plan ``replace-endpoint-config`` on the same config,
    each plan alone would create a copy that fixes only its own check, and the endpoint would be
    moved twice. Their overrides are merged into one plan whose name and idempotency key derive from
    the source config and the merged overrides (deterministic: a redelivery finds the same copy).
    Returns the merged plan for each finding it replaces.
    """
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        plan = finding.remediation
        if plan is not None and plan.action == "replace-endpoint-config" and plan.status == "planned":
            groups.setdefault(str(plan.parameters.get("source_endpoint_config")), []).append(finding)
    out: dict[str, RemediationPlan] = {}
    for source, group in groups.items():
        if len(group) < 2:
            continue
        plans = [f.remediation for f in group if f.remediation is not None]
        overrides: dict[str, Any] = {}
        for plan in plans:
            extra = plan.parameters.get("overrides")
            if isinstance(extra, dict):
                overrides.update(extra)
        digest = hashlib.sha256(f"{source}|{json.dumps(overrides, sort_keys=True)}".encode()).hexdigest()
        first = plans[0]
        tail = f"-sentinel-{digest[:8]}"
        name = source[: 63 - len(tail)] + tail
        endpoints = next((p.parameters.get("endpoints") for p in plans if p.parameters.get("endpoints")), None)
        merged = first.model_copy(
            update={
                "policy": "+".join(sorted({p.policy for p in plans})),
                "parameters": {
                    **first.parameters,
                    "new_endpoint_config": name,
                    "overrides": overrides,
                    "endpoints": endpoints,
                    "move_endpoints": any(p.parameters.get("move_endpoints", True) for p in plans),
                },
                "idempotency_key": f"replace-endpoint-config-{digest[:40]}",
                "steps": tuple(dict.fromkeys(step for p in plans for step in p.steps)),
            }
        )
        for finding in group:
            out[finding.id] = merged
    return out


def govern(resources: list[Resource], deps: GovernanceDeps, now: datetime | None = None) -> GovernResult:
    settings = deps.settings
    assert deps.bus is not None and deps.executor is not None
    now = now or datetime.now(UTC)
    findings = evaluate(resources, settings.policies, now=now)
    by_id = {r.resource_id: r for r in resources}
    reportable = [f for f in findings if not f.insufficient_data]
    imported = deps.hub.import_findings(
        [to_asff(f, account_id=settings.account_id, region=settings.region, now=now) for f in reportable]
    )
    for failed in imported.failed:
        logger.error("Security Hub refused a finding", extra={"finding_id": failed.id, "error": failed.error_message})
    violations = [f for f in reportable if f.status is Status.NON_COMPLIANT]
    outcomes: dict[str, ActionOutcome] = {}
    merged = merge_endpoint_config_replacements(violations)
    done: dict[str, ActionOutcome] = {}
    for finding in violations:
        plan = merged.get(finding.id, finding.remediation)
        if plan is None:
            continue
        if plan.idempotency_key in done:  # one merged copy serves several findings
            outcome = done[plan.idempotency_key].model_copy(update={"finding_id": finding.id})
        else:
            outcome = done[plan.idempotency_key] = deps.executor.execute(plan, finding)
        outcomes[finding.id] = outcome
        logger.info(
            "governance remediation",
            extra={"finding": finding.summary(), "finding_id": finding.id, "outcome": outcome.model_dump()},
        )
    events = finding_events(
        [
            (bus_detail(finding, outcomes.get(finding.id), _endpoint_of(finding, by_id)), finding.resource_arn)
            for finding in violations
        ]
    )
    sent = deps.bus.put_details([(e.detail, e.resources or None) for e in events])  # 10 per call; throttling raises
    publish_failed = 0
    for rejected in sent.failed:
        lost = [violations[i].id for i in events[rejected.index].indexes]
        publish_failed += len(lost)
        error = f"PutEvents rejected the findings: {rejected.error_code} {rejected.error_message}"
        logger.error("bus refused a findings event", extra={"finding_ids": lost, "error": error})
    published = len(violations) - publish_failed
    return GovernResult(
        resources=len(resources),
        findings=len(findings),
        non_compliant=len(violations),
        insufficient_data=len(findings) - len(reportable),
        imported=imported.success,
        import_failed=[f.id for f in imported.failed],
        published=published,
        publish_failed=publish_failed,
        remediations=list(outcomes.values()),
        violations=[
            {"policy": f.policy, "resource_id": f.resource_id, "severity": f.severity.value, "reason": f.reason}
            for f in violations
        ],
    )


# ------------------------------------------------------------------------------------- CloudTrail


def _scan_item(resource: Resource) -> ScanItem:
    used: list[str] | None = None
    if isinstance(resource, EndpointConfig | KmsKey) and resource.used_by_endpoints is not None:
        used = list(resource.used_by_endpoints)
    ref = resource.arn if isinstance(resource, IamPolicy) and resource.arn else resource.name
    if isinstance(resource, KmsKey):
        ref = resource.arn or resource.key_id
    return ScanItem(type=resource.resource_type, id=ref, used_by_endpoints=used)


def refresh(resources: list[Resource], scanner: GovernanceScanner, now: datetime) -> list[Resource]:
    """The current state of each resource a record names; the record's view when it is gone."""
    out: list[Resource] = []
    for resource in resources:
        bundle, missing = scanner.bundle([_scan_item(resource)], observed_at=now)
        if missing:
            out.append(resource)
            continue
        for fresh in normalise_scan_bundle(bundle):
            out.append(fresh.model_copy(update={"event_name": resource.event_name}))
    return out


def handle_cloudtrail(event: dict[str, Any], deps: GovernanceDeps, now: datetime | None = None) -> GovernResult:
    """An ``AWS API Call via CloudTrail`` event -> findings, reports and remediation.

    Raises :class:`BadInputError` (from the normaliser) when the event is not a CloudTrail record.
    """
    now = now or datetime.now(UTC)
    resources = normalise_cloudtrail(event)
    if not resources:
        return GovernResult(status="ignored")
    assert deps.scanner is not None
    return govern(refresh(resources, deps.scanner, now), deps, now)


# ------------------------------------------------------------------------------------------- scan


def scan_list(request: ListRequest, deps: GovernanceDeps, now: datetime | None = None) -> Listing:
    """List every governed resource, cut it into batches, write them to S3 for the Map's ItemReader."""
    settings = deps.settings
    if not settings.items_bucket:
        raise ConfigError("SENTINEL_SCAN_BUCKET is not set")
    assert deps.scanner is not None
    now = now or datetime.now(UTC)
    scan_id = request.scan_id or now.strftime("scan-%Y%m%dT%H%M%SZ")
    items = deps.scanner.list_items()
    size = settings.batch_size
    batches = [
        ScanBatch(scan_id=scan_id, batch=i // size, items=items[i : i + size]).model_dump(
            mode="json", exclude_none=True
        )
        for i in range(0, len(items), size)
    ]
    key = f"governance-scans/{scan_id}/items.json"
    (deps.s3 or client("s3")).put_object(
        Bucket=settings.items_bucket, Key=key, Body=json.dumps(batches).encode(), ContentType="application/json"
    )
    return Listing(
        scan_id=scan_id,
        bucket=settings.items_bucket,
        key=key,
        batches=len(batches),
        resources=len(items),
        by_type=dict(Counter(item.type.value for item in items)),
    )


def scan_batch(batch: ScanBatch, deps: GovernanceDeps, now: datetime | None = None) -> BatchResult:
    """One Map iteration: fetch the batch's resources, evaluate, report, remediate."""
    assert deps.scanner is not None
    now = now or datetime.now(UTC)
    bundle, missing = deps.scanner.bundle(batch.items, observed_at=now)
    result = govern(normalise_scan_bundle(bundle), deps, now)
    return BatchResult(
        scan_id=batch.scan_id,
        batch=batch.batch,
        resources=len(batch.items) - len(missing),
        missing=len(missing),
        findings=result.findings,
        non_compliant=result.non_compliant,
        imported=result.imported,
        import_failed=len(result.import_failed),
        published=result.published,
        publish_failed=result.publish_failed,
        remediations=dict(Counter(o.status for o in result.remediations)),
    )


def scan_summary(request: SummariseRequest) -> ScanSummary:
    results = request.results
    remediations: Counter[str] = Counter()
    for r in results:
        remediations.update(r.remediations)
    return ScanSummary(
        scan_id=request.listing.scan_id,
        resources=request.listing.resources,
        batches=request.listing.batches,
        batches_reported=len(results),
        batches_rejected=sum(1 for r in results if r.status == "rejected"),
        findings=sum(r.findings for r in results),
        non_compliant=sum(r.non_compliant for r in results),
        imported=sum(r.imported for r in results),
        import_failed=sum(r.import_failed for r in results),
        published=sum(r.published for r in results),
        publish_failed=sum(r.publish_failed for r in results),
        missing=sum(r.missing for r in results),
        remediations=dict(remediations),
    )


__all__ = [
    "DETAIL_TYPE",
    "GovernResult",
    "GovernanceDeps",
    "GovernanceSettings",
    "ResourceType",
    "bus_detail",
    "finding_events",
    "govern",
    "handle_cloudtrail",
    "refresh",
    "scan_batch",
    "scan_list",
    "scan_summary",
]

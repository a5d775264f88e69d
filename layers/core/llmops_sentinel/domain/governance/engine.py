"""``evaluate(resources, policies) -> findings``: every enabled policy against every resource of its type."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from llmops_sentinel.domain.governance.findings import Finding
from llmops_sentinel.domain.governance.policy import Policy, PolicySet, policies_from
from llmops_sentinel.domain.governance.registry import CHECKS, CheckResult, PlanContext, Status
from llmops_sentinel.domain.governance.resources import EndpointConfig, KmsKey, Resource, ResourceBase


def _key_refs(key: KmsKey) -> set[str]:
    refs = {key.key_id}
    if key.arn:
        refs.add(key.arn)
    return refs


def link_key_usage(resources: Iterable[Resource]) -> list[Resource]:
    """Tell keys which endpoints use them, from endpoint configs in the same batch that know their
    endpoints (``used_by_endpoints``) and name the key (``KmsKeyId`` or data capture's key) by id or ARN.

    Only adds evidence: a key whose usage is unknown and that no config names stays unknown.
    """
    resources = list(resources)
    configs = [r for r in resources if isinstance(r, EndpointConfig) and r.used_by_endpoints]
    if not configs:
        return resources
    out: list[Resource] = []
    for resource in resources:
        if isinstance(resource, KmsKey):
            refs = _key_refs(resource)
            users: set[str] = set(resource.used_by_endpoints or ())
            for config in configs:
                named = {config.kms_key_id, config.data_capture.kms_key_id if config.data_capture else None}
                if named & refs:
                    users.update(config.used_by_endpoints or ())
            if users != set(resource.used_by_endpoints or ()):
                out.append(resource.model_copy(update={"used_by_endpoints": tuple(sorted(users))}))
                continue
        out.append(resource)
    return out


def _evaluate_one(policy: Policy, resource: ResourceBase) -> CheckResult | None:
    in_scope = policy.tags.decide(resource.tags)
    if in_scope is False:
        return None
    if in_scope is None:
        return CheckResult.insufficient("the policy is scoped by tags and the input does not carry the tags")
    return policy.check().evaluate(resource, policy.check_params)


def finding_id(policy: str, resource: ResourceBase) -> str:
    return f"llmops-sentinel/{policy}/{resource.identity}"


def evaluate(
    resources: Iterable[Resource],
    policies: PolicySet | Sequence[Policy],
    *,
    now: datetime | None = None,
) -> list[Finding]:
    """Evaluate ``policies`` on ``resources``. Pure: no AWS calls, no clock unless nothing says when.

    A resource out of a policy's tag scope yields no finding; every other (policy, resource) pair of
    matching type yields one: COMPLIANT, NON_COMPLIANT (with a remediation plan) or NOT_APPLICABLE.
    """
    chosen = [p for p in policies_from(policies) if p.enabled]
    findings: list[Finding] = []
    for resource in link_key_usage(resources):
        for policy in chosen:
            if policy.resource != resource.resource_type:
                continue
            result = _evaluate_one(policy, resource)
            if result is None:
                continue
            remediation = None
            if result.status is Status.NON_COMPLIANT:
                context = PlanContext(policy=policy.name, check=policy.check_id, resource=resource, result=result)
                remediation = policy.action().plan(context, policy.action_params, dry_run=policy.dry_run)
            check = CHECKS[policy.check_id]
            findings.append(
                Finding(
                    id=finding_id(policy.name, resource),
                    policy=policy.name,
                    check=policy.check_id,
                    resource_type=resource.resource_type,
                    resource_id=resource.resource_id,
                    resource_name=resource.name,
                    resource_arn=resource.arn,
                    account_id=resource.account_id,
                    region=resource.region,
                    status=result.status,
                    severity=policy.severity,
                    reason=result.reason,
                    insufficient_data=result.insufficient_data,
                    evidence=result.evidence,
                    remediation=remediation,
                    observed_at=resource.observed_at or now or datetime.now(UTC),
                    source=resource.source,
                    event_name=resource.event_name,
                    title=policy.description or check.description,
                    asff_type=check.asff_type,
                )
            )
    return findings

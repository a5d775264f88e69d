"""Governance policy engine (pure: no AWS SDK, no Powertools).

What an adapter or a handler calls::

    resources = normalise_cloudtrail(event)            # or normalise_config_items / normalise_scan_bundle
    findings = evaluate(resources, load_default_policies())
    asff = [to_asff(f, region=region) for f in findings]
    plans = [f.remediation for f in findings if f.remediation and f.remediation.status == "planned"]
"""

from llmops_sentinel.domain.governance.engine import evaluate, finding_id, link_key_usage
from llmops_sentinel.domain.governance.findings import Finding, to_asff
from llmops_sentinel.domain.governance.normalise import (
    ScanBundle,
    normalise_cloudtrail,
    normalise_config_item,
    normalise_config_items,
    normalise_document,
    normalise_scan_bundle,
    resolve_attached_policies,
)
from llmops_sentinel.domain.governance.policy import (
    Policy,
    PolicyFileError,
    PolicySet,
    load_default_policies,
    load_policies,
    parse_policies,
)
from llmops_sentinel.domain.governance.registry import (
    ACTIONS,
    CHECKS,
    Action,
    Check,
    CheckResult,
    RemediationPlan,
    Severity,
    Status,
    register_action,
    register_check,
)
from llmops_sentinel.domain.governance.resources import Resource, ResourceType

__all__ = [
    "ACTIONS",
    "CHECKS",
    "Action",
    "Check",
    "CheckResult",
    "Finding",
    "Policy",
    "PolicyFileError",
    "PolicySet",
    "RemediationPlan",
    "Resource",
    "ResourceType",
    "ScanBundle",
    "Severity",
    "Status",
    "evaluate",
    "finding_id",
    "link_key_usage",
    "load_default_policies",
    "load_policies",
    "normalise_cloudtrail",
    "normalise_config_item",
    "normalise_config_items",
    "normalise_document",
    "normalise_scan_bundle",
    "parse_policies",
    "register_action",
    "register_check",
    "resolve_attached_policies",
    "to_asff",
]

"""Findings and their AWS Security Finding Format (ASFF) form. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from llmops_sentinel.domain.governance.registry import RemediationPlan, Severity, Status
from llmops_sentinel.domain.governance.resources import ResourceType, Source
from llmops_sentinel.errors import BadInputError

ASFF_SCHEMA_VERSION = "2018-10-08"

#: ASFF resource types. SageMaker endpoint configs, models and training jobs have none: "Other".
ASFF_RESOURCE_TYPES: dict[ResourceType, str] = {
    ResourceType.IAM_ROLE: "AwsIamRole",
    ResourceType.IAM_POLICY: "AwsIamPolicy",
    ResourceType.KMS_KEY: "AwsKmsKey",
}

_COMPLIANCE = {Status.COMPLIANT: "PASSED", Status.NON_COMPLIANT: "FAILED", Status.NOT_APPLICABLE: "NOT_AVAILABLE"}


class Finding(BaseModel):
    """One policy's verdict on one resource."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    id: str = Field(description="Stable per policy and resource: re-evaluations update the same finding.")
    policy: str
    check: str
    resource_type: ResourceType
    resource_id: str
    resource_name: str
    resource_arn: str | None = None
    account_id: str | None = None
    region: str | None = None
    status: Status
    severity: Severity
    reason: str
    insufficient_data: bool = False
    evidence: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    remediation: RemediationPlan | None = None
    observed_at: datetime
    source: Source
    event_name: str | None = None
    title: str
    asff_type: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def compliant(self) -> bool | None:
        """True/False; None when the check does not apply or lacks data."""
        if self.status is Status.NOT_APPLICABLE:
            return None
        return self.status is Status.COMPLIANT

    def summary(self) -> dict[str, Any]:
        """The CLI contract's row (plus a few extra keys)."""
        return {
            "policy": self.policy,
            "check": self.check,
            "resource_type": self.resource_type.value,
            "resource_id": self.resource_id,
            "compliant": self.compliant,
            "status": self.status.value,
            "insufficient_data": self.insufficient_data,
            "severity": self.severity.value,
            "reason": self.reason,
            "remediation": None if self.remediation is None else self.remediation.model_dump(mode="json"),
            "source": self.source.value,
            "event_name": self.event_name,
        }


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _partition(arn: str | None) -> str:
    if arn and arn.startswith("arn:"):
        return arn.split(":", 2)[1]
    return "aws"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_asff(
    finding: Finding,
    *,
    account_id: str | None = None,
    region: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The finding as an ASFF dict for ``securityhub:BatchImportFindings``.

    ``account_id``/``region`` fill in what the finding does not know (IAM is global: IAM findings need
    the region of the Security Hub they are imported into). ``now`` is ``UpdatedAt``; by default the
    time the resource was observed. Compliance: COMPLIANT → PASSED (workflow RESOLVED, record
    ARCHIVED), NON_COMPLIANT → FAILED (NEW, ACTIVE), NOT_APPLICABLE → NOT_AVAILABLE (NEW, ACTIVE).
    """
    account = finding.account_id or account_id
    where = finding.region or region
    if not account or not where:
        raise BadInputError(f"finding {finding.id}: account and region are needed for ASFF (pass them)")
    partition = _partition(finding.resource_arn)
    observed = _iso(finding.observed_at)
    updated = _iso(now) if now is not None else observed
    compliance = _COMPLIANCE[finding.status]
    resource_type = ASFF_RESOURCE_TYPES.get(finding.resource_type, "Other")
    resource: dict[str, Any] = {
        "Type": resource_type,
        "Id": finding.resource_arn or finding.resource_id,
        "Partition": partition,
        "Region": where,
    }
    if resource_type == "Other":
        resource["Details"] = {"Other": {"ResourceType": finding.resource_type.value, "Name": finding.resource_name}}
    product_fields = {
        "llmops-sentinel/Check": finding.check,
        "llmops-sentinel/Source": finding.source.value,
    }
    if finding.event_name:
        product_fields["llmops-sentinel/EventName"] = finding.event_name
    if finding.insufficient_data:
        product_fields["llmops-sentinel/InsufficientData"] = "true"
    if finding.remediation is not None:
        product_fields["llmops-sentinel/RemediationAction"] = finding.remediation.action
        product_fields["llmops-sentinel/RemediationStatus"] = finding.remediation.status
        product_fields["llmops-sentinel/IdempotencyKey"] = finding.remediation.idempotency_key
    asff: dict[str, Any] = {
        "SchemaVersion": ASFF_SCHEMA_VERSION,
        "Id": finding.id,
        "ProductArn": f"arn:{partition}:securityhub:{where}:{account}:product/{account}/default",
        "GeneratorId": finding.policy,
        "AwsAccountId": account,
        "Types": [finding.asff_type],
        "FirstObservedAt": observed,
        "LastObservedAt": observed,
        "CreatedAt": observed,
        "UpdatedAt": updated,
        "Severity": {"Label": finding.severity.value, "Original": finding.severity.value},
        "Title": _clip(finding.title, 256),
        "Description": _clip(finding.reason or finding.title, 1024),
        "Resources": [resource],
        "Compliance": {"Status": compliance},
        "Workflow": {"Status": "RESOLVED" if compliance == "PASSED" else "NEW"},
        "RecordState": "ARCHIVED" if compliance == "PASSED" else "ACTIVE",
        "ProductFields": product_fields,
    }
    if finding.remediation is not None and finding.status is Status.NON_COMPLIANT:
        text = "; ".join(finding.remediation.steps) or finding.remediation.reason
        asff["Remediation"] = {"Recommendation": {"Text": _clip(f"{finding.remediation.action}: {text}", 512)}}
    return asff

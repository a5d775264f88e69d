"""Execute governance remediation plans (``RemediationPlan`` from the pure engine) with boto3.

One executor per registered action id (``@executor("id")``), so a new action is one domain class plus
one function here. Every executor is idempotent: it reads the current state first and does nothing
when the fix is already in place, so a redelivered CloudTrail event or a second scan changes nothing.
Nothing is ever deleted: ``replace-endpoint-config`` creates a compliant copy under the plan's
deterministic name and moves the endpoints with ``UpdateEndpoint``, keeping the old config for
roll-back; ``detach-policy`` detaches, never deletes.

A plan whose status is not ``planned`` (dry run, or the action could not act) is not executed; the
outcome says so. Each outcome carries the finding id and the plan's idempotency key, and the service
logs it with the finding.
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled
from llmops_sentinel.adapters.sns import Notifier
from llmops_sentinel.domain.fleet.tags import STACK_TAG
from llmops_sentinel.domain.governance import Finding, RemediationPlan, ResourceType
from llmops_sentinel.errors import SentinelError

OutcomeStatus = Literal["executed", "already-done", "skipped-dry-run", "skipped", "failed"]


class RemediationError(SentinelError):
    """An action could not be carried out (the resource changed, a call was refused, ...)."""


class ActionOutcome(BaseModel):
    model_config = ConfigDict(defer_build=True)
    action: str
    finding_id: str
    idempotency_key: str
    status: OutcomeStatus
    detail: str
    changes: list[str] = Field(default_factory=list)


_Executor = Callable[["RemediationExecutor", RemediationPlan, Finding], tuple[OutcomeStatus, str, list[str]]]
EXECUTORS: dict[str, _Executor] = {}


def executor(action_id: str) -> Callable[[_Executor], _Executor]:
    def register(func: _Executor) -> _Executor:
        EXECUTORS[action_id] = func
        return func

    return register


class RemediationExecutor:
    """Runs planned remediations. ``governed_role_pattern`` is template.yaml's GovernedRolePattern (IAM
    wildcards): only roles it matches may have policies detached or be tagged; empty disables both."""

    def __init__(
        self,
        topic_arn: str,
        sagemaker: Any | None = None,
        iam: Any | None = None,
        kms: Any | None = None,
        sns: Any | None = None,
        governed_role_pattern: str = "",
        stack_name: str = "",
    ) -> None:
        self.topic_arn = topic_arn
        self.governed_role_pattern = governed_role_pattern
        self.stack_name = stack_name  # tagged sentinel:stack on compliant copies: IAM requires it on the create
        self._sm, self._iam, self._kms, self._sns = sagemaker, iam, kms, sns

    def ungoverned(self, role_name: str) -> str | None:
        """Why this role's policies and tags are out of reach (None when the pattern matches it)."""
        if not self.governed_role_pattern:
            return "role remediation disabled: GovernedRolePattern is empty (findings only)"
        if not fnmatchcase(role_name, self.governed_role_pattern):
            return f"role {role_name} is outside GovernedRolePattern {self.governed_role_pattern!r} (findings only)"
        return None

    sm = LazyClient("sagemaker")

    iam = LazyClient("iam")

    kms = LazyClient("kms")

    def notifier(self, topic_arn: str | None) -> Notifier:
        return Notifier(topic_arn or self.topic_arn, sns=self._sns)

    def execute(self, plan: RemediationPlan, finding: Finding) -> ActionOutcome:
        def outcome(status: OutcomeStatus, detail: str, changes: list[str] | None = None) -> ActionOutcome:
            return ActionOutcome(
                action=plan.action,
                finding_id=finding.id,
                idempotency_key=plan.idempotency_key,
                status=status,
                detail=detail,
                changes=changes or [],
            )

        if plan.status == "skipped-dry-run":
            return outcome("skipped-dry-run", "dry run: " + "; ".join(plan.steps))
        if plan.status != "planned":
            return outcome("skipped", plan.reason)
        run = EXECUTORS.get(plan.action)
        if run is None:
            return outcome("failed", f"no executor for action {plan.action!r}")
        try:
            status, detail, changes = run(self, plan, finding)
        except ClientError as exc:
            raise_if_throttled(exc, f"remediation {plan.action}")
            return outcome("failed", f"{error_code(exc)}: {exc}")
        except RemediationError as exc:
            return outcome("failed", str(exc))
        return outcome(status, detail, changes)


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise RemediationError(f"plan parameter {what} is missing")
    return value


# ------------------------------------------------------------------------------------------- notify


@executor("notify")
def _notify(ex: RemediationExecutor, plan: RemediationPlan, finding: Finding) -> tuple[OutcomeStatus, str, list[str]]:
    topic = plan.parameters.get("topic_arn")
    subject = str(plan.parameters.get("subject") or f"[{finding.policy}] {finding.resource_name}")
    message = (
        f"{finding.title}\n\nPolicy: {finding.policy} ({finding.check})\nSeverity: {finding.severity.value}\n"
        f"Resource: {finding.resource_type.value} {finding.resource_id}\nFinding: {finding.reason}\n"
        f"Finding id: {finding.id}\nIdempotency key: {plan.idempotency_key}"
    )
    message_id = ex.notifier(topic if isinstance(topic, str) else None).publish(f"LLMOps Sentinel {subject}", message)
    return "executed", f"published message {message_id}", [f"sns:Publish {message_id}"]


# ---------------------------------------------------------------------------------------------- tag


@executor("tag")
def _tag(ex: RemediationExecutor, plan: RemediationPlan, finding: Finding) -> tuple[OutcomeStatus, str, list[str]]:
    raw = plan.parameters.get("tags")
    if not isinstance(raw, dict) or not raw:
        raise RemediationError("plan parameter tags is missing")
    tags = {str(k): str(v) for k, v in raw.items()}
    target = plan.target
    kind = target.resource_type
    if kind in (ResourceType.ENDPOINT_CONFIG, ResourceType.MODEL, ResourceType.TRAINING_JOB):
        arn = _str(target.arn, "target.arn")
        current = {t["Key"]: t["Value"] for t in ex.sm.list_tags(ResourceArn=arn).get("Tags", [])}
        todo = {k: v for k, v in tags.items() if current.get(k) != v}
        if todo:
            ex.sm.add_tags(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in todo.items()])
    elif kind is ResourceType.IAM_ROLE:
        if (why := ex.ungoverned(target.name)) is not None:
            return "skipped", why, []
        role = ex.iam.get_role(RoleName=target.name)["Role"]
        current = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        todo = {k: v for k, v in tags.items() if current.get(k) != v}
        if todo:
            ex.iam.tag_role(RoleName=target.name, Tags=[{"Key": k, "Value": v} for k, v in todo.items()])
    elif kind is ResourceType.IAM_POLICY:
        arn = _str(target.arn, "target.arn")
        current = {t["Key"]: t["Value"] for t in ex.iam.get_policy(PolicyArn=arn)["Policy"].get("Tags", [])}
        todo = {k: v for k, v in tags.items() if current.get(k) != v}
        if todo:
            ex.iam.tag_policy(PolicyArn=arn, Tags=[{"Key": k, "Value": v} for k, v in todo.items()])
    else:
        key = target.arn or target.name
        current = {t["TagKey"]: t["TagValue"] for t in ex.kms.list_resource_tags(KeyId=key).get("Tags", [])}
        todo = {k: v for k, v in tags.items() if current.get(k) != v}
        if todo:
            ex.kms.tag_resource(KeyId=key, Tags=[{"TagKey": k, "TagValue": v} for k, v in todo.items()])
    if not todo:
        return "already-done", "tags already present", []
    return "executed", f"tagged {target.resource_id}", [f"tag {k}={v}" for k, v in todo.items()]


# ---------------------------------------------------------------------------------------------- KMS


@executor("enable-key-rotation")
def _enable_rotation(
    ex: RemediationExecutor, plan: RemediationPlan, finding: Finding
) -> tuple[OutcomeStatus, str, list[str]]:
    key = _str(plan.parameters.get("key_id"), "key_id")
    if ex.kms.get_key_rotation_status(KeyId=key).get("KeyRotationEnabled"):
        return "already-done", "rotation already enabled", []
    period = plan.parameters.get("rotation_period_days")
    kwargs: dict[str, Any] = {"KeyId": key}
    if isinstance(period, int):
        kwargs["RotationPeriodInDays"] = period
    ex.kms.enable_key_rotation(**kwargs)
    return "executed", f"enabled rotation on {key}", [f"kms:EnableKeyRotation {key}"]


@executor("cancel-key-deletion")
def _cancel_deletion(
    ex: RemediationExecutor, plan: RemediationPlan, finding: Finding
) -> tuple[OutcomeStatus, str, list[str]]:
    key = _str(plan.parameters.get("key_id"), "key_id")
    changes: list[str] = []
    state = ex.kms.describe_key(KeyId=key)["KeyMetadata"].get("KeyState")
    if state in ("PendingDeletion", "PendingReplicaDeletion"):
        ex.kms.cancel_key_deletion(KeyId=key)
        changes.append(f"kms:CancelKeyDeletion {key}")
        state = "Disabled"
    if plan.parameters.get("re_enable") and state == "Disabled":
        ex.kms.enable_key(KeyId=key)
        changes.append(f"kms:EnableKey {key}")
    if not changes:
        return "already-done", f"key is {state}: nothing to cancel", []
    return "executed", "; ".join(changes), changes


# ---------------------------------------------------------------------------------------------- IAM


@executor("detach-policy")
def _detach(ex: RemediationExecutor, plan: RemediationPlan, finding: Finding) -> tuple[OutcomeStatus, str, list[str]]:
    role = _str(plan.parameters.get("role_name"), "role_name")
    if (why := ex.ungoverned(role)) is not None:
        return "skipped", why, []
    wanted = plan.parameters.get("policy_arns")
    if not isinstance(wanted, list) or not wanted:
        raise RemediationError("plan parameter policy_arns is missing")
    attached: set[str] = set()
    for page in ex.iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        attached.update(p["PolicyArn"] for p in page.get("AttachedPolicies", []))
    changes = []
    for arn in wanted:
        if arn in attached:
            ex.iam.detach_role_policy(RoleName=role, PolicyArn=arn)
            changes.append(f"iam:DetachRolePolicy {arn}")
    if not changes:
        return "already-done", "no offending policy is attached any more", []
    return "executed", f"detached {len(changes)} policies from {role} (policies kept)", changes


# ---------------------------------------------------------------------------------------- SageMaker

#: DescribeEndpointConfig fields that CreateEndpointConfig accepts (the copy keeps all of them).
_COPY_FIELDS = (
    "ProductionVariants",
    "DataCaptureConfig",
    "KmsKeyId",
    "AsyncInferenceConfig",
    "ExplainerConfig",
    "ShadowProductionVariants",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
)


def _endpoints_on(ex: RemediationExecutor, config: str) -> list[tuple[str, str, str]]:
    """(endpoint, its config, status) for every endpoint; used when the plan does not know them."""
    out = []
    for page in ex.sm.get_paginator("list_endpoints").paginate():
        for entry in page.get("Endpoints", []):
            described = ex.sm.describe_endpoint(EndpointName=entry["EndpointName"])
            out.append((entry["EndpointName"], described["EndpointConfigName"], described["EndpointStatus"]))
    return out


def _config_exists(ex: RemediationExecutor, name: str) -> bool:
    try:
        ex.sm.describe_endpoint_config(EndpointConfigName=name)
    except ClientError as exc:
        if error_code(exc) == "ValidationException":
            return False
        raise
    return True


@executor("replace-endpoint-config")
def _replace_config(
    ex: RemediationExecutor, plan: RemediationPlan, finding: Finding
) -> tuple[OutcomeStatus, str, list[str]]:
    source = _str(plan.parameters.get("source_endpoint_config"), "source_endpoint_config")
    target = _str(plan.parameters.get("new_endpoint_config"), "new_endpoint_config")
    overrides = plan.parameters.get("overrides")
    if not isinstance(overrides, dict) or not overrides:
        raise RemediationError("plan parameter overrides is missing")
    changes: list[str] = []
    if not _config_exists(ex, target):
        described = ex.sm.describe_endpoint_config(EndpointConfigName=source)
        capture = overrides.get("DataCaptureConfig")
        key_refs = {overrides.get("KmsKeyId"), capture.get("KmsKeyId") if isinstance(capture, dict) else None}
        for key_ref in key_refs:
            if isinstance(key_ref, str):
                ex.kms.describe_key(KeyId=key_ref)  # fail before creating anything if the key is unusable
        tags = [t for t in ex.sm.list_tags(ResourceArn=described["EndpointConfigArn"]).get("Tags", [])]
        tags = [t for t in tags if not t["Key"].startswith("sentinel:")] + [
            {"Key": "sentinel:replaces", "Value": source},
            {"Key": "sentinel:policy", "Value": plan.policy},
        ]
        if ex.stack_name:
            tags.append({"Key": STACK_TAG, "Value": ex.stack_name})
        request = {k: described[k] for k in _COPY_FIELDS if described.get(k) not in (None, [], {})}
        request.update(overrides)
        ex.sm.create_endpoint_config(EndpointConfigName=target, Tags=tags, **request)
        changes.append(f"sagemaker:CreateEndpointConfig {target} (copy of {source} + {', '.join(sorted(overrides))})")
    if not plan.parameters.get("move_endpoints", True):
        return ("executed" if changes else "already-done"), f"{target} exists; endpoints not moved (policy)", changes
    known = plan.parameters.get("endpoints")
    if isinstance(known, list) and known:
        endpoints = []
        for name in known:
            described = ex.sm.describe_endpoint(EndpointName=str(name))
            endpoints.append((str(name), described["EndpointConfigName"], described["EndpointStatus"]))
    else:
        endpoints = _endpoints_on(ex, source)
    waiting, unwatched = [], []
    for name, config, status in endpoints:
        if config != source:
            continue
        if ex.stack_name and not _stack_tagged(ex, name):
            unwatched.append(name)  # its UpdateEndpoint would be denied: IAM is conditioned on the tag
            continue
        if status != "InService":
            waiting.append(f"{name} ({status})")
            continue
        ex.sm.update_endpoint(EndpointName=name, EndpointConfigName=target)
        changes.append(f"sagemaker:UpdateEndpoint {name} -> {target}")
    if waiting:
        raise RemediationError(f"{target} ready, but endpoints not InService yet: {', '.join(waiting)} (retry later)")
    note = (
        f"; not moved, not watched by this stack (no {STACK_TAG}={ex.stack_name} tag): {', '.join(unwatched)}"
        if unwatched
        else ""
    )
    if not changes:
        if unwatched:
            return "skipped", f"{target} exists{note}", []
        return "already-done", f"{target} exists and no endpoint runs on {source}", []
    return "executed", f"{source} kept for roll-back; " + "; ".join(changes) + note, changes


def _stack_tagged(ex: RemediationExecutor, endpoint: str) -> bool:
    """Does the endpoint carry ``sentinel:stack=<this stack>`` (the fleet tracker's mark of a watched one)?"""
    arn = ex.sm.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    tags = ex.sm.list_tags(ResourceArn=arn).get("Tags", [])
    return any(t.get("Key") == STACK_TAG and t.get("Value") == ex.stack_name for t in tags)

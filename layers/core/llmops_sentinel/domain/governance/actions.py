"""Remediation actions: pure declarations of what to do. An adapter executes the plans.

No action deletes a workload. ``replace-endpoint-config`` creates a compliant copy and moves the
endpoint(s) to it; ``detach-policy`` detaches a managed policy but never deletes it (nor inline
policies); ``cancel-key-deletion`` only cancels and optionally re-enables.
"""

from __future__ import annotations

import re

from pydantic import Field, JsonValue, field_validator

from llmops_sentinel.domain.governance.registry import (
    Action,
    NoParams,
    Params,
    PlanContext,
    PlanDraft,
    register_action,
)
from llmops_sentinel.domain.governance.resources import EndpointConfig, KmsKey, ResourceType

# ---------------------------------------------------------------------------------------------- notify


class NotifyParams(Params):
    topic_arn: str | None = Field(default=None, description="SNS topic; None: the project's findings topic.")
    subject: str | None = Field(default=None, max_length=100)


@register_action
class Notify(Action[NotifyParams]):
    id = "notify"
    params_model = NotifyParams
    permissions = ("sns:Publish",)
    description = "Publish the finding to SNS."

    def draft(self, context: PlanContext, params: NotifyParams) -> PlanDraft:
        subject = params.subject or f"[{context.policy}] {context.resource.name}"[:100]
        topic = params.topic_arn or "(project findings topic)"
        return PlanDraft(
            parameters={"topic_arn": params.topic_arn, "subject": subject, "message": context.result.reason},
            steps=(f"sns:Publish the finding to {topic}",),
        )


# ------------------------------------------------------------------------------------------------- tag

_TAG_PERMISSIONS: dict[ResourceType, tuple[str, ...]] = {
    ResourceType.ENDPOINT_CONFIG: ("sagemaker:AddTags",),
    ResourceType.MODEL: ("sagemaker:AddTags",),
    ResourceType.TRAINING_JOB: ("sagemaker:AddTags",),
    ResourceType.IAM_ROLE: ("iam:TagRole",),
    ResourceType.IAM_POLICY: ("iam:TagPolicy",),
    ResourceType.KMS_KEY: ("kms:TagResource",),
}


class TagParams(Params):
    tags: dict[str, str] = Field(min_length=1, description="Tags to add; values may use {policy} and {check}.")


@register_action
class Tag(Action[TagParams]):
    id = "tag"
    params_model = TagParams
    permissions = ("sagemaker:AddTags", "iam:TagRole", "iam:TagPolicy", "kms:TagResource")
    description = "Add tags to the resource (marks it for owners; changes nothing else)."

    def draft(self, context: PlanContext, params: TagParams) -> PlanDraft:
        resource = context.resource
        tags = {k: v.format(policy=context.policy, check=context.check) for k, v in params.tags.items()}
        permissions = _TAG_PERMISSIONS[resource.resource_type]
        needs_arn = resource.resource_type in (
            ResourceType.ENDPOINT_CONFIG,
            ResourceType.MODEL,
            ResourceType.TRAINING_JOB,
            ResourceType.IAM_POLICY,
        )
        if needs_arn and not resource.arn:
            return PlanDraft(permissions=permissions, skip_reason="resource ARN unknown: cannot tag")
        tag_params: dict[str, JsonValue] = {"tags": dict(tags)}
        return PlanDraft(
            parameters=tag_params,
            permissions=permissions,
            steps=(f"{permissions[0]} {', '.join(f'{k}={v}' for k, v in tags.items())} on {resource.resource_id}",),
        )


# ------------------------------------------------------------------------------------------------- KMS


class RotationParams(Params):
    rotation_period_days: int | None = Field(default=None, ge=90, le=2560)


@register_action
class EnableKeyRotation(Action[RotationParams]):
    id = "enable-key-rotation"
    params_model = RotationParams
    permissions = ("kms:GetKeyRotationStatus", "kms:EnableKeyRotation")
    description = "Re-enable automatic rotation (idempotent: enabling an enabled key changes nothing)."
    resource_types = frozenset({ResourceType.KMS_KEY})
    fixes_checks = frozenset({"kms-key-rotation-enabled"})

    def draft(self, context: PlanContext, params: RotationParams) -> PlanDraft:
        key = context.resource
        if not isinstance(key, KmsKey):
            return PlanDraft(skip_reason="enable-key-rotation acts on KMS keys only")
        period = f" every {params.rotation_period_days} days" if params.rotation_period_days else ""
        return PlanDraft(
            parameters={"key_id": key.arn or key.key_id, "rotation_period_days": params.rotation_period_days},
            steps=(
                "kms:GetKeyRotationStatus (stop if already enabled)",
                f"kms:EnableKeyRotation{period}",
            ),
        )


class CancelDeletionParams(Params):
    re_enable: bool = Field(default=False, description="Also EnableKey (a cancelled key comes back Disabled).")


@register_action
class CancelKeyDeletion(Action[CancelDeletionParams]):
    id = "cancel-key-deletion"
    params_model = CancelDeletionParams
    permissions = ("kms:DescribeKey", "kms:CancelKeyDeletion", "kms:EnableKey")
    description = "Cancel a scheduled key deletion; optionally re-enable the key."
    resource_types = frozenset({ResourceType.KMS_KEY})
    fixes_checks = frozenset({"kms-key-not-pending-deletion"})

    def draft(self, context: PlanContext, params: CancelDeletionParams) -> PlanDraft:
        key = context.resource
        if not isinstance(key, KmsKey):
            return PlanDraft(skip_reason="cancel-key-deletion acts on KMS keys only")
        key_ref = key.arn or key.key_id
        steps = ["kms:DescribeKey (stop unless the state still matches the finding)"]
        permissions = ["kms:DescribeKey"]
        if key.key_state in ("PendingDeletion", "PendingReplicaDeletion"):
            steps.append("kms:CancelKeyDeletion")
            permissions.append("kms:CancelKeyDeletion")
        elif not params.re_enable:
            return PlanDraft(
                permissions=tuple(permissions),
                skip_reason="key is disabled, not pending deletion; set re_enable: true to enable it",
            )
        if params.re_enable:
            steps.append("kms:EnableKey")
            permissions.append("kms:EnableKey")
        return PlanDraft(
            parameters={"key_id": key_ref, "re_enable": params.re_enable},
            steps=tuple(steps),
            permissions=tuple(permissions),
        )


# ------------------------------------------------------------------------------------------------- IAM


class DetachParams(Params):
    policy_arns: tuple[str, ...] | None = Field(
        default=None, description="Only these ARNs (still only if offending); None: every offending one."
    )
    include_aws_managed: bool = True


@register_action
class DetachPolicy(Action[DetachParams]):
    id = "detach-policy"
    params_model = DetachParams
    permissions = ("iam:ListAttachedRolePolicies", "iam:DetachRolePolicy")
    description = "Detach the offending managed policies from the role (never deletes a policy)."
    resource_types = frozenset({ResourceType.IAM_ROLE})
    fixes_checks = frozenset({"iam-role-no-admin"})

    def draft(self, context: PlanContext, params: DetachParams) -> PlanDraft:
        offending = list(context.result.evidence.get("managed_policies", ()))
        if params.policy_arns is not None:
            offending = [a for a in offending if a in params.policy_arns]
        if not params.include_aws_managed:
            offending = [a for a in offending if ":iam::aws:policy/" not in a]
        if not offending:
            inline = context.result.evidence.get("inline_policies", ())
            why = f"offending grants are inline ({', '.join(inline)})" if inline else "no offending managed policy"
            return PlanDraft(skip_reason=f"{why}; detach-policy only detaches managed policies")
        arns: list[JsonValue] = list(offending)
        return PlanDraft(
            parameters={"role_name": context.resource.name, "policy_arns": arns},
            steps=(
                "iam:ListAttachedRolePolicies (skip policies no longer attached)",
                *(f"iam:DetachRolePolicy {a}" for a in offending),
            ),
        )


# -------------------------------------------------------------------------------------------- SageMaker


class DataCaptureFix(Params):
    destination_s3_uri: str = Field(pattern=r"^s3://")
    kms_key_id: str
    sampling_percentage: int = Field(default=100, ge=0, le=100)
    capture_modes: tuple[str, ...] = ("Input", "Output")


class ReplaceEndpointConfigParams(Params):
    kms_key_id: str | None = Field(default=None, description="KmsKeyId for the copy (fixes the KMS check).")
    data_capture: DataCaptureFix | None = Field(default=None, description="DataCaptureConfig for the copy.")
    name_suffix: str = Field(default="-sentinel", max_length=20)
    move_endpoints: bool = Field(default=True, description="UpdateEndpoint every endpoint that uses the old one.")

    @field_validator("name_suffix")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-zA-Z0-9-]*", value):
            raise ValueError("name_suffix may hold letters, digits and '-' only")
        return value


_MAX_NAME = 63


@register_action
class ReplaceEndpointConfig(Action[ReplaceEndpointConfigParams]):
    id = "replace-endpoint-config"
    params_model = ReplaceEndpointConfigParams
    permissions = (
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:ListTags",
        "sagemaker:CreateEndpointConfig",
        "sagemaker:AddTags",
        "sagemaker:ListEndpoints",
        "sagemaker:DescribeEndpoint",
        "sagemaker:UpdateEndpoint",
        "kms:DescribeKey",
        "kms:CreateGrant",
    )
    description = (
        "Create a compliant copy of the endpoint config (KMS key and/or data capture set) and move the "
        "endpoints to it. The old config is kept (never deleted) for roll-back."
    )
    resource_types = frozenset({ResourceType.ENDPOINT_CONFIG})
    fixes_checks = frozenset({"sagemaker-endpoint-config-kms", "sagemaker-endpoint-config-data-capture"})

    def validate_for(self, check_id: str, params: ReplaceEndpointConfigParams) -> str | None:
        if check_id == "sagemaker-endpoint-config-kms" and not params.kms_key_id:
            return "replace-endpoint-config for sagemaker-endpoint-config-kms needs kms_key_id"
        if check_id == "sagemaker-endpoint-config-data-capture" and params.data_capture is None:
            return "replace-endpoint-config for sagemaker-endpoint-config-data-capture needs data_capture"
        return None

    def draft(self, context: PlanContext, params: ReplaceEndpointConfigParams) -> PlanDraft:
        config = context.resource
        if not isinstance(config, EndpointConfig):
            return PlanDraft(skip_reason="replace-endpoint-config acts on endpoint configs only")
        tail = f"{params.name_suffix}-{context.digest[:8]}"
        new_name = config.name[: _MAX_NAME - len(tail)] + tail
        overrides: dict[str, JsonValue] = {}
        if context.check == "sagemaker-endpoint-config-kms" and params.kms_key_id:
            overrides["KmsKeyId"] = params.kms_key_id
        if context.check == "sagemaker-endpoint-config-data-capture" and params.data_capture is not None:
            dc = params.data_capture
            overrides["DataCaptureConfig"] = {
                "EnableCapture": True,
                "InitialSamplingPercentage": dc.sampling_percentage,
                "DestinationS3Uri": dc.destination_s3_uri,
                "KmsKeyId": dc.kms_key_id,
                "CaptureOptions": [{"CaptureMode": m} for m in dc.capture_modes],
            }
        if not overrides:
            return PlanDraft(skip_reason=f"nothing to override for check {context.check}")
        endpoints: list[JsonValue] | None = None if config.used_by_endpoints is None else list(config.used_by_endpoints)
        steps = [
            f"sagemaker:DescribeEndpointConfig {config.name} and sagemaker:ListTags (the source of the copy)",
            f"sagemaker:CreateEndpointConfig {new_name} = copy + {', '.join(sorted(overrides))} "
            f"(tags copied, plus sentinel:replaces={config.name}); an existing {new_name} means done",
        ]
        if params.move_endpoints:
            who = ", ".join(config.used_by_endpoints) if config.used_by_endpoints else "every endpoint found"
            steps.append(
                f"sagemaker:ListEndpoints + DescribeEndpoint to find endpoints on {config.name} ({who}); "
                f"sagemaker:UpdateEndpoint each to {new_name}"
            )
        steps.append(f"keep {config.name} for roll-back (never deleted)")
        return PlanDraft(
            parameters={
                "source_endpoint_config": config.name,
                "new_endpoint_config": new_name,
                "overrides": overrides,
                "endpoints": endpoints,
                "move_endpoints": params.move_endpoints,
            },
            steps=tuple(steps),
        )


__all__ = [
    "CancelKeyDeletion",
    "DetachPolicy",
    "EnableKeyRotation",
    "NoParams",
    "Notify",
    "ReplaceEndpointConfig",
    "Tag",
]

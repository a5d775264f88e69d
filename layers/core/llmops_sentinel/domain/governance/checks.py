"""The governance checks. Each is one class plus :func:`register_check`; ids are stable.

Rule for partial inputs (CloudTrail records): a check may report NON_COMPLIANT from the evidence a
record carries, but reports NOT_APPLICABLE with ``insufficient_data`` instead of COMPLIANT when a field
it needs is not known.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llmops_sentinel.domain.governance.iam import (
    BroadGrant,
    PolicyDocument,
    broad_grants,
    glob_match,
    is_public_statement,
    public_statements,
    restricting_condition_keys,
    trusts_anyone,
)
from llmops_sentinel.domain.governance.registry import (
    Check,
    CheckResult,
    NoParams,
    Params,
    register_check,
)
from llmops_sentinel.domain.governance.resources import (
    EndpointConfig,
    IamPolicy,
    IamRole,
    KmsKey,
    Model,
    ProductionVariant,
    ResourceType,
    TrainingJob,
)

#: Instance families with local NVMe instance storage. SageMaker encrypts those volumes with a
#: hardware module and *rejects* ``KmsKeyId`` (endpoint configs) / ``VolumeKmsKeyId`` (training jobs)
#: for them, so "no key" is the only possible state. A default to review, not a fact to trust: it is
#: a parameter of the checks that use it.
INSTANCE_STORAGE_TYPES: tuple[str, ...] = (
    "ml.c5d.*",
    "ml.m5d.*",
    "ml.r5d.*",
    "ml.c6id.*",
    "ml.m6id.*",
    "ml.r6id.*",
    "ml.g4dn.*",
    "ml.g5.*",
    "ml.g6.*",
    "ml.g6e.*",
    "ml.p3dn.*",
    "ml.p4d.*",
    "ml.p4de.*",
    "ml.p5.*",
    "ml.p5e.*",
    "ml.p5en.*",
    "ml.trn1.*",
    "ml.trn1n.*",
)

ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def _has_instance_storage(instance_type: str | None, patterns: tuple[str, ...]) -> bool:
    return instance_type is not None and any(glob_match(p, instance_type, ignore_case=True) for p in patterns)


def _instance_variants(variants: tuple[ProductionVariant, ...]) -> list[ProductionVariant]:
    return [v for v in variants if not v.serverless]


def _insufficient_fields(resource_kind: str, event: str | None) -> CheckResult:
    via = f"the {event} record" if event else "the input"
    return CheckResult.insufficient(f"{via} does not carry the {resource_kind} settings this check needs")


# --------------------------------------------------------------------------------------- SageMaker


class InstanceStorageParams(Params):
    instance_storage_types: tuple[str, ...] = Field(
        default=INSTANCE_STORAGE_TYPES,
        description="Instance-type globs with NVMe instance storage (KMS keys are rejected for them).",
    )


@register_check
class EndpointConfigKms(Check[EndpointConfig, InstanceStorageParams]):
    id = "sagemaker-endpoint-config-kms"
    resource_type = ResourceType.ENDPOINT_CONFIG
    params_model = InstanceStorageParams
    permissions = ("sagemaker:DescribeEndpointConfig",)
    description = "The endpoint config sets KmsKeyId, so ML storage volumes use a customer key."

    def run(self, resource: EndpointConfig, params: InstanceStorageParams) -> CheckResult:
        if not resource.is_known("kms_key_id", "variants"):
            return _insufficient_fields("endpoint config", resource.event_name)
        if resource.kms_key_id:
            return CheckResult.compliant(f"KmsKeyId is {resource.kms_key_id}", kms_key_id=(resource.kms_key_id,))
        instance_variants = _instance_variants(resource.variants)
        if instance_variants and all(
            _has_instance_storage(v.instance_type, params.instance_storage_types) for v in instance_variants
        ):
            types = tuple(sorted({v.instance_type or "" for v in instance_variants}))
            return CheckResult.not_applicable(
                f"every variant runs on instance storage ({', '.join(types)}), encrypted by hardware; "
                "SageMaker rejects KmsKeyId for these types"
            )
        return CheckResult.non_compliant(
            "no KmsKeyId: the endpoint's ML storage volumes are encrypted with an AWS-owned key",
            missing=("KmsKeyId",),
        )


class DataCaptureParams(Params):
    min_sampling_percentage: int = Field(default=20, ge=0, le=100)
    require_kms: bool = True
    required_capture_modes: tuple[Literal["Input", "Output"], ...] = ("Input", "Output")


@register_check
class EndpointConfigDataCapture(Check[EndpointConfig, DataCaptureParams]):
    id = "sagemaker-endpoint-config-data-capture"
    resource_type = ResourceType.ENDPOINT_CONFIG
    params_model = DataCaptureParams
    permissions = ("sagemaker:DescribeEndpointConfig",)
    description = "Data capture is enabled, KMS-encrypted and samples at least the configured percentage."

    def run(self, resource: EndpointConfig, params: DataCaptureParams) -> CheckResult:
        if not resource.is_known("data_capture"):
            return _insufficient_fields("endpoint config", resource.event_name)
        capture = resource.data_capture
        if capture is None or not capture.enabled:
            return CheckResult.non_compliant("data capture is not enabled", violations=("disabled",))
        violations: list[str] = []
        reasons: list[str] = []
        if capture.sampling_percentage is None or capture.sampling_percentage < params.min_sampling_percentage:
            violations.append("sampling")
            reasons.append(
                f"samples {capture.sampling_percentage if capture.sampling_percentage is not None else 'an unknown'}"
                f"% < {params.min_sampling_percentage}%"
            )
        if params.require_kms and not capture.kms_key_id:
            violations.append("kms")
            reasons.append("capture files are not encrypted with a KMS key")
        missing_modes = [m for m in params.required_capture_modes if m not in capture.capture_modes]
        if missing_modes:
            violations.append("modes")
            reasons.append(f"does not capture {'/'.join(missing_modes)}")
        if violations:
            return CheckResult.non_compliant("data capture " + "; ".join(reasons), violations=tuple(violations))
        return CheckResult.compliant(
            f"data capture on at {capture.sampling_percentage}%, KMS key {capture.kms_key_id or '(not required)'}"
        )


class InstanceCountParams(Params):
    min_instances: int = Field(default=2, ge=1)
    production_tag_key: str | None = Field(
        default=None,
        description="Optional narrowing: only configs with this tag set to one of production_tag_values. "
        "Unset (the default) checks every endpoint config, as AWS Config's rule does.",
    )
    production_tag_values: tuple[str, ...] = ("prod", "production")


@register_check
class EndpointConfigInstanceCount(Check[EndpointConfig, InstanceCountParams]):
    id = "sagemaker-endpoint-config-instance-count"
    resource_type = ResourceType.ENDPOINT_CONFIG
    params_model = InstanceCountParams
    permissions = ("sagemaker:DescribeEndpointConfig", "sagemaker:ListTags")
    description = (
        "Every instance-based production variant runs at least min_instances (default 2) instances: the semantics of "
        "AWS Config's sagemaker-endpoint-config-prod-instance-count (NON_COMPLIANT when InitialInstanceCount is 1); "
        "optionally narrowed to configs tagged as production."
    )

    def run(self, resource: EndpointConfig, params: InstanceCountParams) -> CheckResult:
        if params.production_tag_key is not None:
            if resource.tags is None:
                return CheckResult.insufficient("tags unknown: cannot tell whether this is production")
            value = resource.tags.get(params.production_tag_key)
            wanted = {v.lower() for v in params.production_tag_values}
            if value is None or value.lower() not in wanted:
                shown = value if value is not None else "(unset)"
                return CheckResult.not_applicable(f"not production (tag {params.production_tag_key}={shown})")
        if not resource.is_known("variants"):
            return _insufficient_fields("endpoint config", resource.event_name)
        instance_variants = _instance_variants(resource.variants)
        if not instance_variants:
            return CheckResult.not_applicable("serverless variants only: no instance count")
        short = tuple(
            f"{v.name}={v.initial_instance_count}"
            for v in instance_variants
            if v.initial_instance_count is None or v.initial_instance_count < params.min_instances
        )
        if short:
            return CheckResult.non_compliant(
                f"production variants below {params.min_instances} instances: {', '.join(short)}", variants=short
            )
        return CheckResult.compliant(f"every production variant has >= {params.min_instances} instances")


@register_check
class ModelNetworkIsolation(Check[Model, NoParams]):
    id = "sagemaker-model-network-isolation"
    resource_type = ResourceType.MODEL
    permissions = ("sagemaker:DescribeModel",)
    description = "The model's containers run with EnableNetworkIsolation (no outbound network)."

    def run(self, resource: Model, params: NoParams) -> CheckResult:
        if not resource.is_known("network_isolation"):
            return _insufficient_fields("model", resource.event_name)
        if resource.network_isolation:
            return CheckResult.compliant("EnableNetworkIsolation is true")
        return CheckResult.non_compliant("EnableNetworkIsolation is not set: containers can reach the network")


@register_check
class ModelVpc(Check[Model, NoParams]):
    id = "sagemaker-model-vpc"
    resource_type = ResourceType.MODEL
    permissions = ("sagemaker:DescribeModel",)
    description = "The model runs in a VPC (VpcConfig with subnets and security groups)."

    def run(self, resource: Model, params: NoParams) -> CheckResult:
        if not resource.is_known("vpc_subnets", "vpc_security_group_ids"):
            return _insufficient_fields("model", resource.event_name)
        if resource.vpc_subnets and resource.vpc_security_group_ids:
            return CheckResult.compliant(
                f"VpcConfig with {len(resource.vpc_subnets)} subnet(s)", subnets=resource.vpc_subnets
            )
        return CheckResult.non_compliant("no VpcConfig: the model runs outside your VPC")


class TrainingEncryptionParams(InstanceStorageParams):
    require_output_kms: bool = True
    require_volume_kms: bool = True
    require_inter_container_encryption: bool = True
    inter_container_min_instances: int = Field(
        default=1, ge=1, description="Require inter-container encryption from this instance count up."
    )


@register_check
class TrainingJobEncryption(Check[TrainingJob, TrainingEncryptionParams]):
    id = "sagemaker-training-job-encryption"
    resource_type = ResourceType.TRAINING_JOB
    params_model = TrainingEncryptionParams
    permissions = ("sagemaker:DescribeTrainingJob",)
    description = "Output and volume KMS keys are set and inter-container traffic is encrypted."

    def run(self, resource: TrainingJob, params: TrainingEncryptionParams) -> CheckResult:
        if not resource.is_known("output_kms_key_id", "volume_kms_key_id", "inter_container_encryption"):
            return _insufficient_fields("training job", resource.event_name)
        problems: list[str] = []
        if params.require_output_kms and not resource.output_kms_key_id:
            problems.append("OutputDataConfig.KmsKeyId")
        if (
            params.require_volume_kms
            and not resource.volume_kms_key_id
            and not _has_instance_storage(resource.instance_type, params.instance_storage_types)
        ):
            problems.append("ResourceConfig.VolumeKmsKeyId")
        needs_ice = (resource.instance_count or 1) >= params.inter_container_min_instances
        if params.require_inter_container_encryption and needs_ice and not resource.inter_container_encryption:
            problems.append("EnableInterContainerTrafficEncryption")
        if problems:
            return CheckResult.non_compliant(f"not set: {', '.join(problems)}", missing=tuple(problems))
        return CheckResult.compliant("output, volume and inter-container traffic are encrypted")


# ------------------------------------------------------------------------------------------------ IAM


class NoAdminParams(Params):
    forbidden_managed_policies: tuple[str, ...] = Field(
        default=(ADMINISTRATOR_ACCESS,),
        description="Managed policy ARNs that fail the check by name (any partition).",
    )
    unresolved_aws_managed: Literal["insufficient-data", "ignore"] = Field(
        default="insufficient-data",
        description="AWS-managed policies whose document is not in the input: unknown, or trusted.",
    )
    include_conditional: bool = Field(default=True, description="Flag broad grants that carry a Condition.")


def _partitionless(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[2] if len(parts) == 3 else arn


def _grant_texts(where: str, grants: list[BroadGrant]) -> list[str]:
    return [f"{where}: {g.describe()}" for g in grants]


@register_check
class IamRoleNoAdmin(Check[IamRole, NoAdminParams]):
    id = "iam-role-no-admin"
    resource_type = ResourceType.IAM_ROLE
    params_model = NoAdminParams
    permissions = (
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
    )
    description = (
        "No AdministratorAccess and no '*' or '<service>:*' (or NotAction) on '*' in inline or attached "
        "managed policies."
    )

    def run(self, resource: IamRole, params: NoAdminParams) -> CheckResult:
        forbidden = {_partitionless(a) for a in params.forbidden_managed_policies}
        findings: list[str] = []
        bad_managed: list[str] = []
        bad_inline: list[str] = []
        unresolved: list[str] = []
        for inline in resource.inline_policies:
            grants = broad_grants(inline.document, include_conditional=params.include_conditional)
            if grants:
                bad_inline.append(inline.name)
                findings.extend(_grant_texts(f"inline {inline.name}", grants))
        for attached in resource.attached_policies:
            label = attached.name or attached.arn
            if _partitionless(attached.arn) in forbidden:
                bad_managed.append(attached.arn)
                findings.append(f"managed {label} is forbidden")
                continue
            if attached.document is None:
                if not (attached.aws_managed and params.unresolved_aws_managed == "ignore"):
                    unresolved.append(attached.arn)
                continue
            grants = broad_grants(attached.document, include_conditional=params.include_conditional)
            if grants:
                bad_managed.append(attached.arn)
                findings.extend(_grant_texts(f"managed {label}", grants))
        if findings:
            return CheckResult.non_compliant(
                "; ".join(findings),
                managed_policies=tuple(bad_managed),
                inline_policies=tuple(bad_inline),
            )
        if not resource.is_known("inline_policies", "attached_policies"):
            return CheckResult.insufficient(
                f"no admin grant in what {resource.event_name or 'the input'} shows, "
                "but it does not carry the role's other policies"
            )
        if unresolved:
            return CheckResult.insufficient(
                f"attached policy documents not in the input: {', '.join(unresolved)}", unresolved=tuple(unresolved)
            )
        return CheckResult.compliant(
            f"{len(resource.inline_policies)} inline and {len(resource.attached_policies)} attached "
            "policies grant no admin-equivalent action on *"
        )


@register_check
class IamPolicyNoAdmin(Check[IamPolicy, NoParams]):
    id = "iam-policy-no-admin"
    resource_type = ResourceType.IAM_POLICY
    permissions = ("iam:GetPolicy", "iam:GetPolicyVersion")
    description = "A customer-managed policy's default version grants no '*', '<service>:*' or NotAction on '*'."

    def run(self, resource: IamPolicy, params: NoParams) -> CheckResult:
        document: PolicyDocument | None = resource.document
        if document is None:
            return CheckResult.insufficient("the policy's default version document is not in the input")
        grants = broad_grants(document)
        if grants:
            return CheckResult.non_compliant(
                "; ".join(g.describe() for g in grants), grants=tuple(g.pattern for g in grants)
            )
        return CheckResult.compliant("no admin-equivalent grant on *")


class TrustParams(Params):
    allowed_service_principals: tuple[str, ...] = ("sagemaker.amazonaws.com",)
    allowed_aws_principals: tuple[str, ...] = ()
    role_name_patterns: tuple[str, ...] = Field(
        default=("*",), description="Case-insensitive globs naming the execution roles this applies to."
    )


@register_check
class IamRoleTrustRestricted(Check[IamRole, TrustParams]):
    id = "iam-role-trust-restricted"
    resource_type = ResourceType.IAM_ROLE
    params_model = TrustParams
    permissions = ("iam:GetRole",)
    description = "Execution roles trust only the expected service principal(s); never '*'."

    def run(self, resource: IamRole, params: TrustParams) -> CheckResult:
        if not any(glob_match(p, resource.name, ignore_case=True) for p in params.role_name_patterns):
            return CheckResult.not_applicable("role name does not match the execution-role patterns")
        if resource.trust_policy is None:
            return CheckResult.insufficient("the role's trust policy is not in the input")
        allowed_services = {s.lower() for s in params.allowed_service_principals}
        allowed_aws = set(params.allowed_aws_principals)
        problems: list[str] = []
        for statement in resource.trust_policy.statements:
            if not statement.allows:
                continue
            sid = statement.sid_or_index
            if trusts_anyone(statement):
                keys = restricting_condition_keys(statement)
                note = f" (restricted by {', '.join(keys)})" if keys else ""
                problems.append(f"{sid}: trusts any principal{note}")
                continue
            principal = statement.principal
            if principal is None:
                continue
            problems.extend(f"{sid}: service {s}" for s in principal.services if s not in allowed_services)
            problems.extend(f"{sid}: AWS {a}" for a in principal.aws if a not in allowed_aws)
            problems.extend(f"{sid}: federated {f}" for f in principal.federated)
            problems.extend(f"{sid}: canonical user {c}" for c in principal.canonical_user)
        if problems:
            return CheckResult.non_compliant("trust policy allows " + "; ".join(problems), principals=tuple(problems))
        return CheckResult.compliant(f"trusts only {', '.join(sorted(allowed_services | allowed_aws))}")


@register_check
class IamRoleTrustNotPublic(Check[IamRole, NoParams]):
    id = "iam-role-trust-not-public"
    resource_type = ResourceType.IAM_ROLE
    permissions = ("iam:GetRole",)
    description = (
        "No role, whatever its name, lets anyone assume it: a trust statement allowing '*', {'AWS': '*'} or "
        "NotPrincipal without a condition restricting the caller (aws:PrincipalOrgID, aws:SourceAccount, ...)."
    )

    def run(self, resource: IamRole, params: NoParams) -> CheckResult:
        if resource.trust_policy is None:
            return CheckResult.insufficient("the role's trust policy is not in the input")
        public = [s.sid_or_index for s in resource.trust_policy.statements if is_public_statement(s)]
        if public:
            return CheckResult.non_compliant(
                f"anyone can assume this role: {', '.join(public)} allow any principal with no restricting condition",
                statements=tuple(public),
            )
        return CheckResult.compliant("no trust statement allows an unrestricted principal")


# ------------------------------------------------------------------------------------------------ KMS


@register_check
class KmsKeyRotation(Check[KmsKey, NoParams]):
    id = "kms-key-rotation-enabled"
    resource_type = ResourceType.KMS_KEY
    permissions = ("kms:DescribeKey", "kms:GetKeyRotationStatus")
    description = "Automatic rotation is enabled on symmetric customer-managed keys."

    def run(self, resource: KmsKey, params: NoParams) -> CheckResult:
        supported = resource.rotation_supported
        if supported is False:
            return CheckResult.not_applicable(
                "automatic rotation does not apply to this key "
                f"(manager={resource.key_manager}, origin={resource.origin}, spec={resource.key_spec})"
            )
        if resource.key_state in ("PendingDeletion", "PendingReplicaDeletion"):
            return CheckResult.not_applicable("key is pending deletion (see kms-key-not-pending-deletion)")
        if resource.rotation_enabled is None:
            return CheckResult.insufficient("rotation status is not in the input")
        if resource.rotation_enabled:
            return CheckResult.compliant("automatic rotation is enabled")
        if supported is None:
            return CheckResult.insufficient("rotation is off, but the key's type (spec/origin) is not in the input")
        return CheckResult.non_compliant("automatic key rotation is disabled")


class PendingDeletionParams(Params):
    fail_disabled_if_usage_unknown: bool = Field(
        default=False, description="A disabled key whose users are unknown fails instead of 'insufficient data'."
    )


@register_check
class KmsKeyNotPendingDeletion(Check[KmsKey, PendingDeletionParams]):
    id = "kms-key-not-pending-deletion"
    resource_type = ResourceType.KMS_KEY
    params_model = PendingDeletionParams
    permissions = ("kms:DescribeKey",)
    description = "The key is not pending deletion, and not disabled while an endpoint uses it."

    def run(self, resource: KmsKey, params: PendingDeletionParams) -> CheckResult:
        state = resource.key_state
        if state is None:
            return CheckResult.insufficient("key state is not in the input")
        if state in ("PendingDeletion", "PendingReplicaDeletion"):
            when = f" on {resource.deletion_date}" if resource.deletion_date else ""
            return CheckResult.non_compliant(f"key is scheduled for deletion{when}", key_state=(state,))
        if state == "Disabled":
            used = resource.used_by_endpoints
            if used:
                return CheckResult.non_compliant(
                    f"key is disabled while endpoints use it: {', '.join(used)}", endpoints=used
                )
            if used is None:
                if params.fail_disabled_if_usage_unknown:
                    return CheckResult.non_compliant("key is disabled; which endpoints use it is unknown")
                return CheckResult.insufficient(
                    "key is disabled; the input does not say which endpoints use it", key_state=(state,)
                )
            return CheckResult.compliant("key is disabled and no endpoint uses it")
        return CheckResult.compliant(f"key state is {state}")


@register_check
class KmsKeyPolicyNoPublicPrincipal(Check[KmsKey, NoParams]):
    id = "kms-key-policy-no-public-principal"
    resource_type = ResourceType.KMS_KEY
    permissions = ("kms:GetKeyPolicy",)
    description = "The key policy grants nothing to '*' unless a condition pins callers to known accounts/orgs."

    def run(self, resource: KmsKey, params: NoParams) -> CheckResult:
        if resource.policy is None:
            return CheckResult.insufficient(
                "the key policy is not in the input (AWS Config does not record it; only PutKeyPolicy records carry it)"
            )
        public = public_statements(resource.policy)
        if public:
            sids = tuple(s.sid_or_index for s in public)
            return CheckResult.non_compliant(f"statements grant access to any principal: {', '.join(sids)}", sids=sids)
        return CheckResult.compliant("no statement grants access to an unrestricted '*' principal")

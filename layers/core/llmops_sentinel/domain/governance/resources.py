"""Normalised, typed resources the checks read. One model per governed resource type.

Every source (AWS Config item, boto3 scan, CloudTrail record) ends up here. A record-derived resource
may know only part of its state: ``known`` lists the fields whose value is *complete*; ``None`` means
every field is. Fields not in ``known`` may still carry *partial evidence* (an ``AttachRolePolicy``
record yields a role whose ``attached_policies`` holds just the policy attached by that call). Checks
report a violation found in evidence, but never call a resource compliant on fields that are not known.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.domain.governance.iam import PolicyDocument


class ResourceType(StrEnum):
    ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
    MODEL = "AWS::SageMaker::Model"
    TRAINING_JOB = "AWS::SageMaker::TrainingJob"
    IAM_ROLE = "AWS::IAM::Role"
    IAM_POLICY = "AWS::IAM::Policy"
    KMS_KEY = "AWS::KMS::Key"


class Source(StrEnum):
    CONFIG = "aws-config"
    SCAN = "scan"
    CLOUDTRAIL = "cloudtrail"


class _Frozen(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")


class ResourceBase(_Frozen):
    """Identity and provenance shared by all resources."""

    resource_type: ResourceType
    name: str
    arn: str | None = None
    account_id: str | None = None
    region: str | None = None
    tags: dict[str, str] | None = None  # None: the source did not say
    source: Source
    observed_at: datetime | None = None
    event_name: str | None = None  # CloudTrail eventName for record-derived resources
    known: frozenset[str] | None = None  # None: every field is complete

    def is_known(self, *fields: str) -> bool:
        return self.known is None or all(f in self.known for f in fields)

    @property
    def complete(self) -> bool:
        return self.known is None

    @property
    def resource_id(self) -> str:
        """The ARN when known, otherwise the name."""
        return self.arn or self.name

    @property
    def identity(self) -> str:
        """Stable across sources (Config, scan, CloudTrail): type, account and name."""
        return f"{self.resource_type.value}/{self.account_id or '-'}/{self.name}"


class DataCapture(_Frozen):
    enabled: bool
    sampling_percentage: int | None = None
    kms_key_id: str | None = None
    destination_s3_uri: str | None = None
    capture_modes: tuple[str, ...] = ()


class ProductionVariant(_Frozen):
    name: str
    model_name: str | None = None
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless: bool = False


class EndpointConfig(ResourceBase):
    resource_type: Literal[ResourceType.ENDPOINT_CONFIG] = ResourceType.ENDPOINT_CONFIG
    kms_key_id: str | None = None
    data_capture: DataCapture | None = None
    variants: tuple[ProductionVariant, ...] = ()
    used_by_endpoints: tuple[str, ...] | None = None  # None: unknown


class Model(ResourceBase):
    resource_type: Literal[ResourceType.MODEL] = ResourceType.MODEL
    execution_role_arn: str | None = None
    network_isolation: bool = False
    vpc_subnets: tuple[str, ...] = ()
    vpc_security_group_ids: tuple[str, ...] = ()
    images: tuple[str, ...] = ()


class TrainingJob(ResourceBase):
    resource_type: Literal[ResourceType.TRAINING_JOB] = ResourceType.TRAINING_JOB
    output_kms_key_id: str | None = None
    volume_kms_key_id: str | None = None
    inter_container_encryption: bool = False
    network_isolation: bool = False
    instance_type: str | None = None
    instance_count: int | None = None
    role_arn: str | None = None
    status: str | None = None


class InlinePolicy(_Frozen):
    name: str
    document: PolicyDocument


class AttachedPolicy(_Frozen):
    arn: str
    name: str | None = None
    document: PolicyDocument | None = None  # None: not resolved (no document in the input)

    @property
    def aws_managed(self) -> bool:
        return self.arn.split(":")[4:5] == ["aws"] if self.arn.count(":") >= 5 else False


class IamRole(ResourceBase):
    resource_type: Literal[ResourceType.IAM_ROLE] = ResourceType.IAM_ROLE
    role_id: str | None = None
    path: str | None = None
    trust_policy: PolicyDocument | None = None
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policies: tuple[AttachedPolicy, ...] = ()


class IamPolicy(ResourceBase):
    """A managed policy; ``document`` is its *default* (effective) version."""

    resource_type: Literal[ResourceType.IAM_POLICY] = ResourceType.IAM_POLICY
    policy_id: str | None = None
    default_version_id: str | None = None
    document: PolicyDocument | None = None
    attachment_count: int | None = None


class KmsKey(ResourceBase):
    resource_type: Literal[ResourceType.KMS_KEY] = ResourceType.KMS_KEY
    key_id: str
    key_state: str | None = None  # Enabled | Disabled | PendingDeletion | PendingImport | ...
    enabled: bool | None = None
    key_manager: str | None = None  # CUSTOMER | AWS
    key_spec: str | None = None
    origin: str | None = None  # AWS_KMS | EXTERNAL | AWS_CLOUDHSM | EXTERNAL_KEY_STORE
    rotation_enabled: bool | None = None
    rotation_capable: bool | None = None  # evidence from an event that only rotatable keys accept
    deletion_date: str | None = None
    policy: PolicyDocument | None = None
    used_by_endpoints: tuple[str, ...] | None = None  # None: unknown

    @property
    def rotation_supported(self) -> bool | None:
        """Automatic rotation exists only for symmetric, KMS-generated, customer-managed keys."""
        if self.rotation_capable is not None:
            return self.rotation_capable
        if self.key_manager == "AWS":
            return False  # AWS-managed keys rotate on their own; not configurable
        if self.origin is not None and self.origin != "AWS_KMS":
            return False
        if self.key_spec is not None and self.key_spec != "SYMMETRIC_DEFAULT":
            return False
        if self.key_spec is None or self.origin is None:
            return None
        return True


Resource = Annotated[
    EndpointConfig | Model | TrainingJob | IamRole | IamPolicy | KmsKey,
    Field(discriminator="resource_type"),
]

RESOURCE_MODELS: dict[ResourceType, type[ResourceBase]] = {
    ResourceType.ENDPOINT_CONFIG: EndpointConfig,
    ResourceType.MODEL: Model,
    ResourceType.TRAINING_JOB: TrainingJob,
    ResourceType.IAM_ROLE: IamRole,
    ResourceType.IAM_POLICY: IamPolicy,
    ResourceType.KMS_KEY: KmsKey,
}

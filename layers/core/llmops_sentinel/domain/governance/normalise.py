"""Normalisers: AWS Config items, boto3 scan bundles and CloudTrail records → typed resources.

Three sources, one set of *wire* models. AWS Config records SageMaker types with CloudFormation
(PascalCase) names and IAM/KMS with camelCase; boto3 uses PascalCase; CloudTrail ``requestParameters``
use camelCase. Wire models therefore match keys case-insensitively (each folds the keys of the mapping it
validates; nested models fold their own; raw values such as policy documents and tags are left as they
are).

Public entry points: :func:`normalise_config_items`, :func:`normalise_scan_bundle`,
:func:`normalise_cloudtrail`, :func:`normalise_document` (detects which of the above it was given) and
:func:`resolve_attached_policies`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops_sentinel.domain.governance.iam import PolicyDocument, PolicyDocumentError, parse_policy_document
from llmops_sentinel.domain.governance.resources import (
    AttachedPolicy,
    DataCapture,
    EndpointConfig,
    IamPolicy,
    IamRole,
    InlinePolicy,
    KmsKey,
    Model,
    ProductionVariant,
    Resource,
    ResourceType,
    Source,
    TrainingJob,
)
from llmops_sentinel.domain.validation import first_error
from llmops_sentinel.errors import BadInputError

_M = TypeVar("_M", bound=BaseModel)


class UnsupportedResourceError(BadInputError):
    """An input names a resource type this engine does not govern."""


class MalformedInputError(BadInputError):
    """An input has the right outline but a field has the wrong shape."""


# ------------------------------------------------------------------------------------------ wire models


class _Wire(BaseModel):
    """Case-insensitive view of an AWS payload: ``KmsKeyId``, ``kmsKeyId`` and ``kmskeyid`` all match."""

    model_config = ConfigDict(
        defer_build=True,
        extra="ignore",
        frozen=True,
        alias_generator=lambda name: name.replace("_", ""),
        populate_by_name=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _fold_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {str(k).lower(): v for k, v in data.items()}
        return data


class WCaptureOption(_Wire):
    capture_mode: str


class WDataCaptureConfig(_Wire):
    enable_capture: bool | None = None
    initial_sampling_percentage: int | None = None
    destination_s3_uri: str | None = None
    kms_key_id: str | None = None
    capture_options: list[WCaptureOption] = Field(default_factory=list)


class WProductionVariant(_Wire):
    variant_name: str
    model_name: str | None = None
    instance_type: str | None = None
    initial_instance_count: int | None = None
    serverless_config: dict[str, Any] | None = None


class WEndpointConfig(_Wire):
    """``DescribeEndpointConfig`` / ``CreateEndpointConfig`` request / Config ``configuration``."""

    endpoint_config_name: str
    endpoint_config_arn: str | None = None
    kms_key_id: str | None = None
    data_capture_config: WDataCaptureConfig | None = None
    production_variants: list[WProductionVariant] = Field(default_factory=list)
    tags: Any = None


class WContainer(_Wire):
    image: str | None = None


class WVpcConfig(_Wire):
    subnets: list[str] = Field(default_factory=list)
    security_group_ids: list[str] = Field(default_factory=list)


class WModel(_Wire):
    """``DescribeModel`` / ``CreateModel`` request / Config ``configuration``."""

    model_name: str
    model_arn: str | None = None
    execution_role_arn: str | None = None
    enable_network_isolation: bool | None = None
    vpc_config: WVpcConfig | None = None
    primary_container: WContainer | None = None
    containers: list[WContainer] = Field(default_factory=list)
    tags: Any = None


class WOutputDataConfig(_Wire):
    kms_key_id: str | None = None
    s3_output_path: str | None = None


class WResourceConfig(_Wire):
    volume_kms_key_id: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None


class WTrainingJob(_Wire):
    """``DescribeTrainingJob`` / ``CreateTrainingJob`` request (not an AWS Config resource type)."""

    training_job_name: str
    training_job_arn: str | None = None
    output_data_config: WOutputDataConfig | None = None
    resource_config: WResourceConfig | None = None
    enable_inter_container_traffic_encryption: bool | None = None
    enable_network_isolation: bool | None = None
    role_arn: str | None = None
    training_job_status: str | None = None
    tags: Any = None


class WRolePolicy(_Wire):
    """Config ``rolePolicyList[]`` entry or a ``GetRolePolicy`` response."""

    policy_name: str
    policy_document: Any


class WAttachedPolicy(_Wire):
    """Config ``attachedManagedPolicies[]`` / ``ListAttachedRolePolicies`` entry.

    ``document`` is not in either: the scan adds the default version's document
    (``GetPolicyVersion``) under that key so the role can be judged without another input.
    """

    policy_arn: str
    policy_name: str | None = None
    document: Any = None


class WRole(_Wire):
    """Config ``configuration`` of ``AWS::IAM::Role`` or ``GetRole``'s ``Role``."""

    role_name: str
    role_id: str | None = None
    arn: str | None = None
    path: str | None = None
    assume_role_policy_document: Any = None
    role_policy_list: list[WRolePolicy] = Field(default_factory=list)
    attached_managed_policies: list[WAttachedPolicy] = Field(default_factory=list)
    tags: Any = None


class WPolicyVersion(_Wire):
    document: Any = None
    version_id: str | None = None
    is_default_version: bool | None = None


class WManagedPolicy(_Wire):
    """Config ``configuration`` of ``AWS::IAM::Policy`` or ``GetPolicy``'s ``Policy``."""

    policy_name: str
    policy_id: str | None = None
    arn: str | None = None
    default_version_id: str | None = None
    attachment_count: int | None = None
    policy_version_list: list[WPolicyVersion] = Field(default_factory=list)
    tags: Any = None


class WKeyMetadata(_Wire):
    """``DescribeKey``'s ``KeyMetadata`` / Config ``configuration`` of ``AWS::KMS::Key``."""

    key_id: str
    arn: str | None = None
    aws_account_id: str | None = None
    enabled: bool | None = None
    key_state: str | None = None
    key_manager: str | None = None
    key_spec: str | None = None
    customer_master_key_spec: str | None = None
    origin: str | None = None
    deletion_date: datetime | str | None = None


# ----------------------------------------------------------------------------------------- scan bundle


class _Scan(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class EndpointConfigScan(_Scan):
    describe: WEndpointConfig  # sagemaker.describe_endpoint_config(...)
    tags: Any = None  # sagemaker.list_tags(ResourceArn=...)["Tags"]; None: not fetched
    used_by_endpoints: list[str] | None = None  # endpoints whose EndpointConfigName is this one


class ModelScan(_Scan):
    describe: WModel  # sagemaker.describe_model(...)
    tags: Any = None


class TrainingJobScan(_Scan):
    describe: WTrainingJob  # sagemaker.describe_training_job(...)
    tags: Any = None


class RoleScan(_Scan):
    role: WRole  # iam.get_role(...)["Role"]
    inline_policies: list[WRolePolicy] = Field(default_factory=list)  # iam.get_role_policy(...) per name
    attached_policies: list[WAttachedPolicy] = Field(default_factory=list)  # + "Document" per entry


class ManagedPolicyScan(_Scan):
    policy: WManagedPolicy  # iam.get_policy(...)["Policy"]
    document: Any = None  # iam.get_policy_version(DefaultVersionId)["PolicyVersion"]["Document"]


class KeyScan(_Scan):
    key_metadata: WKeyMetadata  # kms.describe_key(...)["KeyMetadata"]
    rotation_enabled: bool | None = None  # kms.get_key_rotation_status(...)["KeyRotationEnabled"]
    policy: Any = None  # kms.get_key_policy(KeyId=..., PolicyName="default")["Policy"]
    tags: Any = None  # kms.list_resource_tags(...)["Tags"]
    used_by_endpoints: list[str] | None = None


class ScanBundle(_Scan):
    """What the periodic scan fetched for one account and region, in boto3 response shapes."""

    account_id: str
    region: str
    observed_at: datetime | None = None
    endpoint_configs: list[EndpointConfigScan] = Field(default_factory=list)
    models: list[ModelScan] = Field(default_factory=list)
    training_jobs: list[TrainingJobScan] = Field(default_factory=list)
    roles: list[RoleScan] = Field(default_factory=list)
    policies: list[ManagedPolicyScan] = Field(default_factory=list)
    keys: list[KeyScan] = Field(default_factory=list)


# -------------------------------------------------------------------------------------------- helpers


def parse_tags(raw: Any) -> dict[str, str] | None:
    """Tags from any AWS shape: ``{"k": "v"}``, ``[{"Key","Value"}]``, ``[{"key","value"}]``,
    ``[{"TagKey","TagValue"}]``. ``None`` stays ``None`` (unknown)."""
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        out: dict[str, str] = {}
        for entry in raw:
            if not isinstance(entry, Mapping):
                raise MalformedInputError("a tag entry must be an object")
            folded = {str(k).lower(): v for k, v in entry.items()}
            key = folded.get("key", folded.get("tagkey"))
            value = folded.get("value", folded.get("tagvalue", ""))
            if key is None:
                raise MalformedInputError("a tag entry has no Key")
            out[str(key)] = "" if value is None else str(value)
        return out
    raise MalformedInputError(f"tags must be an object or a list, got {type(raw).__name__}")


def _doc(raw: Any, what: str) -> PolicyDocument | None:
    if raw is None or raw == "":
        return None
    try:
        return parse_policy_document(raw)
    except PolicyDocumentError as exc:
        raise MalformedInputError(f"{what}: {exc}") from None


def _validate(model: type[_M], data: Any, what: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise MalformedInputError(f"{what}: {first_error(exc)}") from None


def _arn_part(arn: str | None, index: int) -> str | None:
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    return parts[index] or None if len(parts) > index else None


def _key_id_from(value: str) -> str:
    """``arn:aws:kms:r:a:key/ID`` → ``ID``; a bare key id or alias is returned as is."""
    if value.startswith("arn:") and ":key/" in value:
        return value.rsplit("/", 1)[1]
    return value


# ---------------------------------------------------------------------------------- wire → resource


def _endpoint_config(w: WEndpointConfig, **common: Any) -> EndpointConfig:
    dc = w.data_capture_config
    capture = None
    if dc is not None:
        capture = DataCapture(
            enabled=bool(dc.enable_capture),
            sampling_percentage=dc.initial_sampling_percentage,
            kms_key_id=dc.kms_key_id or None,
            destination_s3_uri=dc.destination_s3_uri,
            capture_modes=tuple(o.capture_mode for o in dc.capture_options),
        )
    variants = tuple(
        ProductionVariant(
            name=v.variant_name,
            model_name=v.model_name,
            instance_type=v.instance_type,
            initial_instance_count=v.initial_instance_count,
            serverless=v.serverless_config is not None,
        )
        for v in w.production_variants
    )
    common.setdefault("arn", w.endpoint_config_arn)
    common.setdefault("tags", parse_tags(w.tags))
    return EndpointConfig(
        name=w.endpoint_config_name,
        kms_key_id=w.kms_key_id or None,
        data_capture=capture,
        variants=variants,
        **common,
    )


def _model(w: WModel, **common: Any) -> Model:
    containers = ([w.primary_container] if w.primary_container else []) + list(w.containers)
    vpc = w.vpc_config
    common.setdefault("arn", w.model_arn)
    common.setdefault("tags", parse_tags(w.tags))
    return Model(
        name=w.model_name,
        execution_role_arn=w.execution_role_arn,
        network_isolation=bool(w.enable_network_isolation),
        vpc_subnets=tuple(vpc.subnets) if vpc else (),
        vpc_security_group_ids=tuple(vpc.security_group_ids) if vpc else (),
        images=tuple(c.image for c in containers if c.image),
        **common,
    )


def _training_job(w: WTrainingJob, **common: Any) -> TrainingJob:
    out = w.output_data_config
    res = w.resource_config
    common.setdefault("arn", w.training_job_arn)
    common.setdefault("tags", parse_tags(w.tags))
    return TrainingJob(
        name=w.training_job_name,
        output_kms_key_id=(out.kms_key_id or None) if out else None,
        volume_kms_key_id=(res.volume_kms_key_id or None) if res else None,
        inter_container_encryption=bool(w.enable_inter_container_traffic_encryption),
        network_isolation=bool(w.enable_network_isolation),
        instance_type=res.instance_type if res else None,
        instance_count=res.instance_count if res else None,
        role_arn=w.role_arn,
        status=w.training_job_status,
        **common,
    )


def _attached(entries: Iterable[WAttachedPolicy], what: str) -> tuple[AttachedPolicy, ...]:
    return tuple(
        AttachedPolicy(arn=a.policy_arn, name=a.policy_name, document=_doc(a.document, f"{what} {a.policy_arn}"))
        for a in entries
    )


def _role(w: WRole, inline: Iterable[WRolePolicy], attached: Iterable[WAttachedPolicy], **common: Any) -> IamRole:
    what = f"role {w.role_name}"
    inline_policies = []
    for p in inline:
        document = _doc(p.policy_document, f"{what} inline policy {p.policy_name}")
        if document is None:
            raise MalformedInputError(f"{what} inline policy {p.policy_name} has no document")
        inline_policies.append(InlinePolicy(name=p.policy_name, document=document))
    common.setdefault("arn", w.arn)
    common.setdefault("tags", parse_tags(w.tags))
    return IamRole(
        name=w.role_name,
        role_id=w.role_id,
        path=w.path,
        trust_policy=_doc(w.assume_role_policy_document, f"{what} trust policy"),
        inline_policies=tuple(inline_policies),
        attached_policies=_attached(attached, what),
        **common,
    )


def _managed_policy(w: WManagedPolicy, document: Any, **common: Any) -> IamPolicy:
    raw = document
    version_id = w.default_version_id
    if raw is None:
        for version in w.policy_version_list:
            if version.is_default_version:
                raw, version_id = version.document, version.version_id or version_id
    common.setdefault("arn", w.arn)
    common.setdefault("tags", parse_tags(w.tags))
    return IamPolicy(
        name=w.policy_name,
        policy_id=w.policy_id,
        default_version_id=version_id,
        document=_doc(raw, f"policy {w.policy_name}"),
        attachment_count=w.attachment_count,
        **common,
    )


def _kms_key(w: WKeyMetadata, rotation: bool | None, policy: Any, **common: Any) -> KmsKey:
    deletion = w.deletion_date
    common.setdefault("arn", w.arn)
    common.setdefault("account_id", w.aws_account_id)
    return KmsKey(
        name=w.key_id,
        key_id=w.key_id,
        key_state=w.key_state,
        enabled=w.enabled,
        key_manager=w.key_manager,
        key_spec=w.key_spec or w.customer_master_key_spec,
        origin=w.origin,
        rotation_enabled=rotation,
        deletion_date=deletion.isoformat() if isinstance(deletion, datetime) else deletion,
        policy=_doc(policy, f"key {w.key_id} policy"),
        **common,
    )


# ---------------------------------------------------------------------------------------- AWS Config


class ConfigItem(BaseModel):
    """An AWS Config configuration item, as delivered to rules, in snapshots and by the API."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, populate_by_name=True)

    resource_type: str = Field(alias="resourceType")
    resource_id: str | None = Field(default=None, alias="resourceId")
    resource_name: str | None = Field(default=None, alias="resourceName")
    arn: str | None = Field(default=None, alias="arn")
    account_id: str | None = Field(default=None, alias="awsAccountId")
    region: str | None = Field(default=None, alias="awsRegion")
    status: str | None = Field(default=None, alias="configurationItemStatus")
    capture_time: datetime | None = Field(default=None, alias="configurationItemCaptureTime")
    configuration: Any = None
    supplementary: Any = Field(default=None, alias="supplementaryConfiguration")
    tags: Any = None

    @model_validator(mode="before")
    @classmethod
    def _account_alias(cls, data: Any) -> Any:
        # Rules and snapshots say "awsAccountId"; the API's BaseConfigurationItem says "accountId".
        if isinstance(data, Mapping) and "awsAccountId" not in data and "accountId" in data:
            data = {**data, "awsAccountId": data["accountId"]}
        return data


#: Config statuses that mean "there is nothing left to evaluate".
_GONE = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"})


def _maybe_json(value: Any) -> Any:
    """Config's API returns ``configuration`` and supplementary values as JSON text."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "[") or text in ("true", "false", "null"):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                return value
    return value


def normalise_config_item(item: Mapping[str, Any]) -> Resource | None:
    """One configuration item → one resource, or ``None`` for a deleted/unrecorded resource.

    Attached customer-managed policies stay unresolved; use :func:`normalise_config_items` to resolve
    them from ``AWS::IAM::Policy`` items passed alongside.
    """
    ci = _validate(ConfigItem, item, "AWS Config item")
    if ci.status in _GONE:
        return None
    configuration = _maybe_json(ci.configuration)
    if not isinstance(configuration, Mapping):
        raise MalformedInputError(f"AWS Config item {ci.resource_type} {ci.resource_id}: no configuration")
    supplementary = _maybe_json(ci.supplementary) or {}
    if not isinstance(supplementary, Mapping):
        raise MalformedInputError("supplementaryConfiguration must be an object")
    supplementary = {str(k).lower(): _maybe_json(v) for k, v in supplementary.items()}
    common: dict[str, Any] = {
        "account_id": ci.account_id,
        "region": None if ci.region in (None, "global") else ci.region,  # IAM items say "global"
        "source": Source.CONFIG,
        "observed_at": ci.capture_time,
    }
    if ci.arn:
        common["arn"] = ci.arn
    if ci.tags is not None:
        common["tags"] = parse_tags(ci.tags)
    config = dict(configuration)
    what = f"AWS Config {ci.resource_type} {ci.resource_id}"
    match ci.resource_type:
        case ResourceType.ENDPOINT_CONFIG:
            config.setdefault("EndpointConfigName", ci.resource_name or ci.resource_id)
            return _endpoint_config(_validate(WEndpointConfig, config, what), **common)
        case ResourceType.MODEL:
            config.setdefault("ModelName", ci.resource_name or ci.resource_id)
            return _model(_validate(WModel, config, what), **common)
        case ResourceType.TRAINING_JOB:
            config.setdefault("TrainingJobName", ci.resource_name or ci.resource_id)
            return _training_job(_validate(WTrainingJob, config, what), **common)
        case ResourceType.IAM_ROLE:
            config.setdefault("roleName", ci.resource_name)
            w = _validate(WRole, config, what)
            return _role(w, w.role_policy_list, w.attached_managed_policies, **common)
        case ResourceType.IAM_POLICY:
            config.setdefault("policyName", ci.resource_name)
            return _managed_policy(_validate(WManagedPolicy, config, what), None, **common)
        case ResourceType.KMS_KEY:
            config.setdefault("keyId", ci.resource_id)
            rotation = supplementary.get("keyrotationstatus")
            meta = _validate(WKeyMetadata, config, what)
            return _kms_key(meta, None if rotation is None else bool(rotation), None, **common)
    raise UnsupportedResourceError(f"resource type {ci.resource_type!r} is not governed")


def normalise_config_items(items: Iterable[Mapping[str, Any]]) -> list[Resource]:
    """Configuration items → resources, with roles' attached policies resolved from the batch."""
    resources = [r for r in (normalise_config_item(i) for i in items) if r is not None]
    return resolve_attached_policies(resources)


def resolve_attached_policies(resources: Iterable[Resource]) -> list[Resource]:
    """Fill each role's unresolved attached-policy documents from ``IamPolicy`` resources in the batch."""
    resources = list(resources)
    documents = {r.arn: r.document for r in resources if isinstance(r, IamPolicy) and r.arn and r.document}
    if not documents:
        return resources
    out: list[Resource] = []
    for resource in resources:
        if isinstance(resource, IamRole) and any(a.document is None for a in resource.attached_policies):
            attached = tuple(
                a.model_copy(update={"document": documents[a.arn]}) if a.document is None and a.arn in documents else a
                for a in resource.attached_policies
            )
            out.append(resource.model_copy(update={"attached_policies": attached}))
        else:
            out.append(resource)
    return out


# ------------------------------------------------------------------------------------------ scan


def normalise_scan_bundle(bundle: ScanBundle) -> list[Resource]:
    """A scan's boto3 responses → complete resources (everything a check needs was fetched)."""
    common: dict[str, Any] = {
        "account_id": bundle.account_id,
        "region": bundle.region,
        "source": Source.SCAN,
        "observed_at": bundle.observed_at,
    }
    out: list[Resource] = []
    for ec in bundle.endpoint_configs:
        config = _endpoint_config(ec.describe, **common, tags=parse_tags(ec.tags))
        used = None if ec.used_by_endpoints is None else tuple(ec.used_by_endpoints)
        out.append(config.model_copy(update={"used_by_endpoints": used}))
    out.extend(_model(m.describe, **common, tags=parse_tags(m.tags)) for m in bundle.models)
    out.extend(_training_job(t.describe, **common, tags=parse_tags(t.tags)) for t in bundle.training_jobs)
    for role in bundle.roles:
        common_role = {**common, "region": None}  # IAM is global
        if role.role.tags is None:
            common_role["tags"] = None
        out.append(_role(role.role, role.inline_policies, role.attached_policies, **common_role))
    out.extend(_managed_policy(p.policy, p.document, **{**common, "region": None}) for p in bundle.policies)
    for key in bundle.keys:
        resource = _kms_key(key.key_metadata, key.rotation_enabled, key.policy, **common, tags=parse_tags(key.tags))
        used = None if key.used_by_endpoints is None else tuple(key.used_by_endpoints)
        out.append(resource.model_copy(update={"used_by_endpoints": used}))
    return resolve_attached_policies(out)


# ------------------------------------------------------------------------------------------ CloudTrail


class CloudTrailRecord(BaseModel):
    """The fields of a CloudTrail record the normalisers read."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True, populate_by_name=True)

    event_source: str = Field(alias="eventSource")
    event_name: str = Field(alias="eventName")
    event_time: datetime | None = Field(default=None, alias="eventTime")
    aws_region: str | None = Field(default=None, alias="awsRegion")
    recipient_account_id: str | None = Field(default=None, alias="recipientAccountId")
    user_identity: dict[str, Any] = Field(default_factory=dict, alias="userIdentity")
    request_parameters: dict[str, Any] | None = Field(default=None, alias="requestParameters")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    error_code: str | None = Field(default=None, alias="errorCode")
    resources: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def account_id(self) -> str | None:
        identity_account = self.user_identity.get("accountId")
        return self.recipient_account_id or (identity_account if isinstance(identity_account, str) else None)

    def request(self) -> dict[str, Any]:
        return dict(self.request_parameters or {})

    def response(self) -> dict[str, Any]:
        return dict(self.response_elements or {})

    def resource_arn(self, type_name: str) -> str | None:
        for entry in self.resources:
            arn = entry.get("ARN") or entry.get("arn")
            if isinstance(arn, str) and (entry.get("type") in (None, type_name)):
                return arn
        return None

    def common(self, arn: str | None = None) -> dict[str, Any]:
        """Provenance for a resource; an ARN from the record wins for account and region."""
        return {
            "arn": arn,
            "account_id": _arn_part(arn, 4) or self.account_id,
            "region": _arn_part(arn, 3) or self.aws_region,
            "source": Source.CLOUDTRAIL,
            "observed_at": self.event_time,
            "event_name": self.event_name,
        }


_CloudTrailHandler = Callable[[CloudTrailRecord], list[Resource]]
#: (eventSource, eventName) → handler. Adding an event is one function plus one decorator.
CLOUDTRAIL_HANDLERS: dict[tuple[str, str], _CloudTrailHandler] = {}


def cloudtrail_handler(source: str, *names: str) -> Callable[[_CloudTrailHandler], _CloudTrailHandler]:
    def register(func: _CloudTrailHandler) -> _CloudTrailHandler:
        for name in names:
            CLOUDTRAIL_HANDLERS[(source, name)] = func
        return func

    return register


def _sagemaker_arn(record: CloudTrailRecord, kind: str, name: str) -> str | None:
    if not (record.aws_region and record.account_id):
        return None
    # SageMaker lower-cases names in ARNs.
    return f"arn:aws:sagemaker:{record.aws_region}:{record.account_id}:{kind}/{name.lower()}"


_SM = "sagemaker.amazonaws.com"
_IAM = "iam.amazonaws.com"
_KMS = "kms.amazonaws.com"


@cloudtrail_handler(_SM, "CreateEndpointConfig")
def _ct_create_endpoint_config(record: CloudTrailRecord) -> list[Resource]:
    w = _validate(WEndpointConfig, record.request(), "CreateEndpointConfig requestParameters")
    arn = record.response().get("endpointConfigArn") or _sagemaker_arn(
        record, "endpoint-config", w.endpoint_config_name
    )
    return [_endpoint_config(w, tags=parse_tags(w.tags) or {}, **record.common(arn))]


@cloudtrail_handler(_SM, "CreateEndpoint", "UpdateEndpoint")
def _ct_endpoint(record: CloudTrailRecord) -> list[Resource]:
    request = {k.lower(): v for k, v in record.request().items()}
    config_name = request.get("endpointconfigname")
    endpoint_name = request.get("endpointname")
    if not isinstance(config_name, str) or not isinstance(endpoint_name, str):
        raise MalformedInputError(f"{record.event_name}: requestParameters need endpointName and endpointConfigName")
    # The record names the config the endpoint now uses but carries none of its settings.
    return [
        EndpointConfig(
            name=config_name,
            used_by_endpoints=(endpoint_name,),
            known=frozenset(),
            **record.common(_sagemaker_arn(record, "endpoint-config", config_name)),
        )
    ]


@cloudtrail_handler(_SM, "CreateModel")
def _ct_create_model(record: CloudTrailRecord) -> list[Resource]:
    w = _validate(WModel, record.request(), "CreateModel requestParameters")
    arn = record.response().get("modelArn") or _sagemaker_arn(record, "model", w.model_name)
    return [_model(w, tags=parse_tags(w.tags) or {}, **record.common(arn))]


@cloudtrail_handler(_SM, "CreateTrainingJob")
def _ct_create_training_job(record: CloudTrailRecord) -> list[Resource]:
    w = _validate(WTrainingJob, record.request(), "CreateTrainingJob requestParameters")
    arn = record.response().get("trainingJobArn") or _sagemaker_arn(record, "training-job", w.training_job_name)
    return [_training_job(w, tags=parse_tags(w.tags) or {}, **record.common(arn))]


class _RoleRequest(_Wire):
    role_name: str
    policy_arn: str | None = None
    policy_name: str | None = None
    policy_document: Any = None


def _iam_common(record: CloudTrailRecord) -> dict[str, Any]:
    return {**record.common(), "region": None}  # IAM is global; role ARNs need a path we do not have


@cloudtrail_handler(_IAM, "AttachRolePolicy")
def _ct_attach_role_policy(record: CloudTrailRecord) -> list[Resource]:
    r = _validate(_RoleRequest, record.request(), "AttachRolePolicy requestParameters")
    if not r.policy_arn:
        raise MalformedInputError("AttachRolePolicy requestParameters need policyArn")
    attached = (AttachedPolicy(arn=r.policy_arn, name=r.policy_arn.rsplit("/", 1)[-1]),)
    return [IamRole(name=r.role_name, attached_policies=attached, known=frozenset(), **_iam_common(record))]


@cloudtrail_handler(_IAM, "PutRolePolicy")
def _ct_put_role_policy(record: CloudTrailRecord) -> list[Resource]:
    r = _validate(_RoleRequest, record.request(), "PutRolePolicy requestParameters")
    document = _doc(r.policy_document, "PutRolePolicy policyDocument")
    if document is None or not r.policy_name:
        raise MalformedInputError("PutRolePolicy requestParameters need policyName and policyDocument")
    inline = (InlinePolicy(name=r.policy_name, document=document),)
    return [IamRole(name=r.role_name, inline_policies=inline, known=frozenset(), **_iam_common(record))]


@cloudtrail_handler(_IAM, "UpdateAssumeRolePolicy")
def _ct_update_trust(record: CloudTrailRecord) -> list[Resource]:
    r = _validate(_RoleRequest, record.request(), "UpdateAssumeRolePolicy requestParameters")
    document = _doc(r.policy_document, "UpdateAssumeRolePolicy policyDocument")
    if document is None:
        raise MalformedInputError("UpdateAssumeRolePolicy requestParameters need policyDocument")
    return [IamRole(name=r.role_name, trust_policy=document, known=frozenset({"trust_policy"}), **_iam_common(record))]


class _PolicyVersionRequest(_Wire):
    policy_arn: str
    policy_document: Any = None
    set_as_default: bool = False


@cloudtrail_handler(_IAM, "CreatePolicyVersion")
def _ct_create_policy_version(record: CloudTrailRecord) -> list[Resource]:
    r = _validate(_PolicyVersionRequest, record.request(), "CreatePolicyVersion requestParameters")
    # A version that is not the default is not in effect: it says nothing about the policy yet.
    document = _doc(r.policy_document, "CreatePolicyVersion policyDocument") if r.set_as_default else None
    version = record.response().get("policyVersion")
    version_id = version.get("versionId") if isinstance(version, Mapping) else None
    return [
        IamPolicy(
            name=r.policy_arn.rsplit("/", 1)[-1],
            document=document,
            default_version_id=version_id if r.set_as_default else None,
            known=frozenset({"document"}) if document is not None else frozenset(),
            **{**_iam_common(record), "arn": r.policy_arn},
        )
    ]


def _kms_target(record: CloudTrailRecord) -> dict[str, Any]:
    request = {k.lower(): v for k, v in record.request().items()}
    response = {k.lower(): v for k, v in record.response().items()}
    arn = record.resource_arn("AWS::KMS::Key")
    for candidate in (response.get("keyid"), request.get("keyid")):
        if arn is None and isinstance(candidate, str) and candidate.startswith("arn:") and ":key/" in candidate:
            arn = candidate
    key_ref = request.get("keyid")
    key_id = _key_id_from(arn) if arn else (key_ref if isinstance(key_ref, str) else None)
    if key_id is None:
        raise MalformedInputError(f"{record.event_name}: no keyId in the record")
    common = record.common(arn)
    return {"name": key_id, "key_id": key_id, **common}


@cloudtrail_handler(_KMS, "DisableKey")
def _ct_disable_key(record: CloudTrailRecord) -> list[Resource]:
    return [KmsKey(key_state="Disabled", enabled=False, known=frozenset(), **_kms_target(record))]


@cloudtrail_handler(_KMS, "EnableKey")
def _ct_enable_key(record: CloudTrailRecord) -> list[Resource]:
    return [KmsKey(key_state="Enabled", enabled=True, known=frozenset(), **_kms_target(record))]


@cloudtrail_handler(_KMS, "ScheduleKeyDeletion")
def _ct_schedule_deletion(record: CloudTrailRecord) -> list[Resource]:
    response = {k.lower(): v for k, v in record.response().items()}
    state = response.get("keystate")
    deletion = response.get("deletiondate")
    return [
        KmsKey(
            key_state=state if isinstance(state, str) else "PendingDeletion",
            enabled=False,
            deletion_date=None if deletion is None else str(deletion),
            known=frozenset(),
            **_kms_target(record),
        )
    ]


@cloudtrail_handler(_KMS, "CancelKeyDeletion")
def _ct_cancel_deletion(record: CloudTrailRecord) -> list[Resource]:
    # A cancelled key comes back Disabled.
    return [KmsKey(key_state="Disabled", enabled=False, known=frozenset(), **_kms_target(record))]


@cloudtrail_handler(_KMS, "DisableKeyRotation", "EnableKeyRotation")
def _ct_rotation(record: CloudTrailRecord) -> list[Resource]:
    # Either call succeeds only on keys that support automatic rotation.
    enabled = record.event_name == "EnableKeyRotation"
    return [KmsKey(rotation_enabled=enabled, rotation_capable=True, known=frozenset(), **_kms_target(record))]


@cloudtrail_handler(_KMS, "PutKeyPolicy")
def _ct_put_key_policy(record: CloudTrailRecord) -> list[Resource]:
    request = {k.lower(): v for k, v in record.request().items()}
    policy = _doc(request.get("policy"), "PutKeyPolicy policy")
    if policy is None:
        raise MalformedInputError("PutKeyPolicy requestParameters need policy")
    return [KmsKey(policy=policy, known=frozenset(), **_kms_target(record))]


@cloudtrail_handler(_KMS, "CreateKey")
def _ct_create_key(record: CloudTrailRecord) -> list[Resource]:
    metadata = record.response().get("keyMetadata")
    if not isinstance(metadata, Mapping):
        raise MalformedInputError("CreateKey responseElements need keyMetadata")
    meta = _validate(WKeyMetadata, metadata, "CreateKey keyMetadata")
    request = {k.lower(): v for k, v in record.request().items()}
    common = record.common(meta.arn)
    common["account_id"] = meta.aws_account_id or common["account_id"]
    # New customer-managed keys start with automatic rotation off. Without a policy in the request
    # the key gets the default policy, which CloudTrail does not show: left unknown.
    return [_kms_key(meta, False, request.get("policy"), **common)]


def _unwrap_eventbridge(event: Mapping[str, Any]) -> Mapping[str, Any]:
    if "detail-type" in event and "detail" in event:
        if event["detail-type"] != "AWS API Call via CloudTrail":
            raise BadInputError(f"EventBridge event of type {event['detail-type']!r} is not a CloudTrail API call")
        detail = event["detail"]
        if not isinstance(detail, Mapping):
            raise MalformedInputError("EventBridge event detail must be an object")
        return detail
    return event


def normalise_cloudtrail(event: Mapping[str, Any]) -> list[Resource]:
    """A CloudTrail record, or an EventBridge ``AWS API Call via CloudTrail`` event, → resources.

    Returns ``[]`` for a call that failed (``errorCode`` set: nothing changed) and for API calls this
    engine does not govern (e.g. ``kms:CreateGrant``). Raises :class:`BadInputError` for anything that
    is not a CloudTrail record.
    """
    record = _validate(CloudTrailRecord, _unwrap_eventbridge(event), "CloudTrail record")
    if record.error_code:
        return []
    handler = CLOUDTRAIL_HANDLERS.get((record.event_source, record.event_name))
    return handler(record) if handler is not None else []


# ------------------------------------------------------------------------------------- any document


def _is_config_item(doc: Mapping[str, Any]) -> bool:
    return "resourceType" in doc and ("configuration" in doc or "configurationItemStatus" in doc)


def normalise_document(doc: Any) -> list[Resource]:
    """Whatever a user hands the CLI: a Config item or a list of them, ``{"configurationItems": [...]}``
    (snapshot/history), a Config rule event (``invokingEvent``), ``{"configurationItem": ...}``, a
    CloudTrail record, ``{"Records": [...]}`` (a CloudTrail log file), or an EventBridge event wrapping a
    record. Roles' attached policies are resolved from ``AWS::IAM::Policy`` items in the same document.
    """
    if isinstance(doc, list):
        resources: list[Resource] = []
        for entry in doc:
            resources.extend(normalise_document(entry))
        return resolve_attached_policies(resources)
    if not isinstance(doc, Mapping):
        raise BadInputError("input must be a JSON object or a list of objects")
    if "invokingEvent" in doc:
        invoking = _maybe_json(doc["invokingEvent"])
        return normalise_document(invoking)
    if "configurationItems" in doc and isinstance(doc["configurationItems"], list):
        return normalise_config_items(doc["configurationItems"])
    if "configurationItem" in doc and isinstance(doc["configurationItem"], Mapping):
        return normalise_config_items([doc["configurationItem"]])
    if "Records" in doc and isinstance(doc["Records"], list):
        return normalise_document(doc["Records"])
    if _is_config_item(doc):
        return normalise_config_items([doc])
    if "eventSource" in doc or ("detail-type" in doc and "detail" in doc):
        return normalise_cloudtrail(doc)
    raise BadInputError(
        "input is neither an AWS Config configuration item, a CloudTrail record nor an EventBridge event"
    )

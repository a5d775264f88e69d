"""Read-only boto3 side of governance: list what to scan and fetch the responses a ScanBundle holds.

Every call here is a ``List*``/``Describe*``/``Get*``; the permissions are the checks' declared read
permissions plus the list calls (template.yaml grants exactly these). A resource that disappeared
between listing and fetching is reported as missing (``None``), not as an error.

| resource | list | fetch |
| --- | --- | --- |
| endpoint config | ``sagemaker:ListEndpointConfigs`` | ``DescribeEndpointConfig`` + ``ListTags`` |
| model | ``sagemaker:ListModels`` | ``DescribeModel`` + ``ListTags`` |
| training job | ``sagemaker:ListTrainingJobs`` | ``DescribeTrainingJob`` + ``ListTags`` |
| role | ``iam:ListRoles`` (service-linked roles skipped) | ``GetRole``, ``ListRolePolicies``, ``GetRolePolicy``, |
| | | ``ListAttachedRolePolicies`` + ``GetPolicy`` + ``GetPolicyVersion`` |
| managed policy | ``iam:ListPolicies`` (``Scope=Local``) | ``GetPolicy`` + ``GetPolicyVersion`` |
| KMS key | ``kms:ListKeys`` | ``DescribeKey``, ``GetKeyRotationStatus``, ``GetKeyPolicy``, ``ListResourceTags`` |

Endpoint usage (which endpoints run on a config, which endpoints depend on a key) comes from
``ListEndpoints`` + ``DescribeEndpoint`` + ``DescribeEndpointConfig`` of the configs in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from llmops_sentinel.adapters.clients import LazyClient, error_code, raise_if_throttled
from llmops_sentinel.domain.governance import ResourceType, ScanBundle
from llmops_sentinel.domain.governance.normalise import (
    EndpointConfigScan,
    KeyScan,
    ManagedPolicyScan,
    ModelScan,
    RoleScan,
    TrainingJobScan,
)
from llmops_sentinel.models.governance import ScanItem

_NOT_FOUND = {"NoSuchEntity", "NoSuchEntityException", "NotFoundException", "ResourceNotFound", "ValidationException"}


def _missing(exc: ClientError) -> bool:
    """True when the resource is gone (SageMaker says so with a ValidationException)."""
    raise_if_throttled(exc, "governance scan read")
    code = error_code(exc)
    if code == "ValidationException":
        message = str(exc.response.get("Error", {}).get("Message", "")).lower()
        return "could not find" in message or "does not exist" in message or "not found" in message
    return code in _NOT_FOUND


class EndpointUsage(BaseModel):
    model_config = ConfigDict(defer_build=True)
    by_config: dict[str, list[str]]
    by_key: dict[str, list[str]]  # key id, key ARN or alias as the configs name it -> endpoints

    def for_key(self, key_id: str, arn: str | None) -> list[str]:
        users: set[str] = set()
        for ref in (key_id, arn):
            if ref:
                users.update(self.by_key.get(ref, ()))
        return sorted(users)


class GovernanceScanner:
    def __init__(
        self,
        account_id: str,
        region: str,
        sagemaker: Any | None = None,
        iam: Any | None = None,
        kms: Any | None = None,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self._sm, self._iam, self._kms = sagemaker, iam, kms

    sm = LazyClient("sagemaker")

    iam = LazyClient("iam")

    kms = LazyClient("kms")

    # ------------------------------------------------------------------------------------ listing
    def _pages(self, api: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            for page in api.get_paginator(operation).paginate(**kwargs):
                yield from page.get(key, [])
        except ClientError as exc:
            raise_if_throttled(exc, "governance scan list")
            raise

    def endpoint_usage(self) -> EndpointUsage:
        by_config: dict[str, list[str]] = {}
        for endpoint in self._pages(self.sm, "list_endpoints", "Endpoints"):
            name = endpoint["EndpointName"]
            try:
                described = self.sm.describe_endpoint(EndpointName=name)
            except ClientError as exc:
                if _missing(exc):
                    continue
                raise
            by_config.setdefault(described["EndpointConfigName"], []).append(name)
        by_key: dict[str, list[str]] = {}
        for config, endpoints in by_config.items():
            try:
                described = self.sm.describe_endpoint_config(EndpointConfigName=config)
            except ClientError as exc:
                if _missing(exc):
                    continue
                raise
            keys = {described.get("KmsKeyId"), (described.get("DataCaptureConfig") or {}).get("KmsKeyId")}
            for key in keys - {None}:
                by_key.setdefault(str(key), []).extend(endpoints)
        return EndpointUsage(by_config=by_config, by_key=by_key)

    def list_items(self, usage: EndpointUsage | None = None) -> list[ScanItem]:
        """Every governed resource of the account and region, paginated; usage attached where known."""
        usage = usage or self.endpoint_usage()
        items: list[ScanItem] = []
        for entry in self._pages(self.sm, "list_endpoint_configs", "EndpointConfigs"):
            name = entry["EndpointConfigName"]
            items.append(
                ScanItem(type=ResourceType.ENDPOINT_CONFIG, id=name, used_by_endpoints=usage.by_config.get(name, []))
            )
        items.extend(
            ScanItem(type=ResourceType.MODEL, id=m["ModelName"]) for m in self._pages(self.sm, "list_models", "Models")
        )
        items.extend(
            ScanItem(type=ResourceType.TRAINING_JOB, id=t["TrainingJobName"])
            for t in self._pages(self.sm, "list_training_jobs", "TrainingJobSummaries")
        )
        items.extend(
            ScanItem(type=ResourceType.IAM_ROLE, id=r["RoleName"])
            for r in self._pages(self.iam, "list_roles", "Roles")
            if not str(r.get("Path", "/")).startswith("/aws-service-role/")
        )
        items.extend(
            ScanItem(type=ResourceType.IAM_POLICY, id=p["Arn"])
            for p in self._pages(self.iam, "list_policies", "Policies", Scope="Local")
        )
        for key in self._pages(self.kms, "list_keys", "Keys"):
            items.append(
                ScanItem(
                    type=ResourceType.KMS_KEY,
                    id=key["KeyId"],
                    used_by_endpoints=usage.for_key(key["KeyId"], key.get("KeyArn")),
                )
            )
        return items

    # ------------------------------------------------------------------------------------ fetching
    def _sm_tags(self, arn: str | None) -> list[dict[str, str]] | None:
        if not arn:
            return None
        tags: list[dict[str, str]] = list(self._pages(self.sm, "list_tags", "Tags", ResourceArn=arn))
        return tags

    def endpoint_config(self, name: str, used_by: list[str] | None = None) -> EndpointConfigScan | None:
        try:
            described = self.sm.describe_endpoint_config(EndpointConfigName=name)
            tags = self._sm_tags(described.get("EndpointConfigArn"))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return EndpointConfigScan(describe=described, tags=tags, used_by_endpoints=used_by)

    def model(self, name: str) -> ModelScan | None:
        try:
            described = self.sm.describe_model(ModelName=name)
            tags = self._sm_tags(described.get("ModelArn"))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return ModelScan(describe=described, tags=tags)

    def training_job(self, name: str) -> TrainingJobScan | None:
        try:
            described = self.sm.describe_training_job(TrainingJobName=name)
            tags = self._sm_tags(described.get("TrainingJobArn"))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return TrainingJobScan(describe=described, tags=tags)

    def _policy_document(self, arn: str) -> tuple[dict[str, Any], Any]:
        policy = self.iam.get_policy(PolicyArn=arn)["Policy"]
        version = self.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        return policy, version["PolicyVersion"]["Document"]

    def role(self, name: str) -> RoleScan | None:
        try:
            role = self.iam.get_role(RoleName=name)["Role"]
            role.setdefault("Tags", [])  # GetRole omits Tags when there are none
            inline = [
                self.iam.get_role_policy(RoleName=name, PolicyName=policy_name)
                for policy_name in self._pages(self.iam, "list_role_policies", "PolicyNames", RoleName=name)
            ]
            attached = []
            for entry in self._pages(self.iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name):
                try:
                    _, document = self._policy_document(entry["PolicyArn"])
                except ClientError as exc:
                    if not _missing(exc):
                        raise
                    document = None  # an AWS managed policy the partition does not serve: unresolved
                attached.append({**entry, "Document": document})
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return RoleScan(role=role, inline_policies=inline, attached_policies=attached)

    def managed_policy(self, arn: str) -> ManagedPolicyScan | None:
        try:
            policy, document = self._policy_document(arn)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return ManagedPolicyScan(policy=policy, document=document)

    def key(self, key_id: str, used_by: list[str] | None = None) -> KeyScan | None:
        try:
            metadata = self.kms.describe_key(KeyId=key_id)["KeyMetadata"]
            customer = metadata.get("KeyManager") == "CUSTOMER"
            symmetric = (metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec")) == "SYMMETRIC_DEFAULT"
            rotation = None
            rotatable = customer and symmetric and metadata.get("Origin", "AWS_KMS") == "AWS_KMS"
            if rotatable and metadata.get("KeyState") not in ("PendingDeletion", "PendingReplicaDeletion"):
                rotation = bool(self.kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"])
            policy = self.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
            tags = list(self._pages(self.kms, "list_resource_tags", "Tags", KeyId=key_id)) if customer else None
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return KeyScan(
            key_metadata=metadata, rotation_enabled=rotation, policy=policy, tags=tags, used_by_endpoints=used_by
        )

    def bundle(
        self, items: Iterable[ScanItem], observed_at: datetime | None = None
    ) -> tuple[ScanBundle, list[ScanItem]]:
        """Fetch every item; returns the bundle and the items that no longer exist."""
        parts: dict[str, list[Any]] = {
            "endpoint_configs": [],
            "models": [],
            "training_jobs": [],
            "roles": [],
            "policies": [],
            "keys": [],
        }
        missing: list[ScanItem] = []
        for item in items:
            field, fetched = self._fetch(item)
            if fetched is None:
                missing.append(item)
            else:
                parts[field].append(fetched)
        bundle = ScanBundle(account_id=self.account_id, region=self.region, observed_at=observed_at, **parts)
        return bundle, missing

    def _fetch(self, item: ScanItem) -> tuple[str, Any]:
        match item.type:
            case ResourceType.ENDPOINT_CONFIG:
                return "endpoint_configs", self.endpoint_config(item.id, item.used_by_endpoints)
            case ResourceType.MODEL:
                return "models", self.model(item.id)
            case ResourceType.TRAINING_JOB:
                return "training_jobs", self.training_job(item.id)
            case ResourceType.IAM_ROLE:
                return "roles", self.role(item.id)
            case ResourceType.IAM_POLICY:
                return "policies", self.managed_policy(item.id)
            case ResourceType.KMS_KEY:
                return "keys", self.key(item.id, item.used_by_endpoints)

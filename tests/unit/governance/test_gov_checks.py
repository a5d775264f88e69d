"""Every check: compliant and non-compliant inputs, and 'insufficient data' for partial ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmops_sentinel.domain.governance import CHECKS, Status, evaluate, normalise_document
from llmops_sentinel.domain.governance.iam import parse_policy_document
from llmops_sentinel.domain.governance.registry import CheckResult, Params
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
    Source,
    TrainingJob,
)

Loader = Callable[[str], Any]


def run(check_id: str, resource: Any, **params: Any) -> CheckResult:
    check = CHECKS[check_id]()
    parsed: Params = check.params_model.model_validate(params)
    return check.evaluate(resource, parsed)


def policy_doc(*statements: dict[str, Any]) -> Any:
    return parse_policy_document({"Version": "2012-10-17", "Statement": list(statements)})


def config_status(loader: Loader, fixture: str, check_id: str, policies: Any) -> tuple[Status, str]:
    findings = [f for f in evaluate(normalise_document(loader(fixture)), policies) if f.check == check_id]
    assert len(findings) == 1, findings
    return findings[0].status, findings[0].reason


# ----------------------------------------------------------------- SageMaker, from AWS Config fixtures


@pytest.mark.parametrize(
    ("fixture", "check_id", "expected"),
    [
        ("config_endpoint_config_compliant", "sagemaker-endpoint-config-kms", Status.COMPLIANT),
        ("config_endpoint_config_noncompliant", "sagemaker-endpoint-config-kms", Status.NON_COMPLIANT),
        ("config_endpoint_config_compliant", "sagemaker-endpoint-config-data-capture", Status.COMPLIANT),
        ("config_endpoint_config_noncompliant", "sagemaker-endpoint-config-data-capture", Status.NON_COMPLIANT),
        ("config_endpoint_config_compliant", "sagemaker-endpoint-config-instance-count", Status.COMPLIANT),
        ("config_endpoint_config_noncompliant", "sagemaker-endpoint-config-instance-count", Status.NON_COMPLIANT),
        ("config_model_compliant", "sagemaker-model-network-isolation", Status.COMPLIANT),
        ("config_model_noncompliant", "sagemaker-model-network-isolation", Status.NON_COMPLIANT),
        ("config_model_compliant", "sagemaker-model-vpc", Status.COMPLIANT),
        ("config_model_noncompliant", "sagemaker-model-vpc", Status.NON_COMPLIANT),
        ("config_role_clean", "iam-role-no-admin", Status.NOT_APPLICABLE),  # attached policy not in input
        ("config_snapshot_role_with_policy", "iam-role-no-admin", Status.COMPLIANT),
        ("config_role_sagemaker_star", "iam-role-no-admin", Status.NON_COMPLIANT),
        ("config_role_admin_attached", "iam-role-no-admin", Status.NON_COMPLIANT),
        ("config_role_clean", "iam-role-trust-restricted", Status.COMPLIANT),
        ("config_role_public_trust", "iam-role-trust-restricted", Status.NON_COMPLIANT),
        ("config_policy_llm_deploy", "iam-policy-no-admin", Status.COMPLIANT),
        ("config_kms_key_rotating", "kms-key-rotation-enabled", Status.COMPLIANT),
        ("config_kms_key_not_rotating", "kms-key-rotation-enabled", Status.NON_COMPLIANT),
        ("config_kms_key_rotating", "kms-key-not-pending-deletion", Status.COMPLIANT),
        ("config_kms_key_pending_deletion", "kms-key-not-pending-deletion", Status.NON_COMPLIANT),
        ("config_kms_key_rotating", "kms-key-policy-no-public-principal", Status.NOT_APPLICABLE),
    ],
)
def test_config_fixtures(
    fixture_json: Loader, default_policies: Any, fixture: str, check_id: str, expected: Status
) -> None:
    status, reason = config_status(fixture_json, fixture, check_id, default_policies)
    assert status is expected, reason


def test_non_compliant_endpoint_config_reasons(fixture_json: Loader, default_policies: Any) -> None:
    check = "sagemaker-endpoint-config-instance-count"
    _, reason = config_status(fixture_json, "config_endpoint_config_noncompliant", check, default_policies)
    assert "AllTraffic=1" in reason


# ------------------------------------------------------------------------------- direct, per check


def endpoint_config(**kwargs: Any) -> EndpointConfig:
    base: dict[str, Any] = {
        "name": "cfg",
        "source": Source.SCAN,
        "variants": (ProductionVariant(name="v", instance_type="ml.m5.xlarge", initial_instance_count=2),),
        "tags": {"environment": "prod"},
    }
    return EndpointConfig(**{**base, **kwargs})


def test_kms_not_applicable_on_instance_storage_types() -> None:
    gpu = (ProductionVariant(name="v", instance_type="ml.g5.12xlarge", initial_instance_count=1),)
    assert run("sagemaker-endpoint-config-kms", endpoint_config(variants=gpu)).status is Status.NOT_APPLICABLE
    mixed = (*gpu, ProductionVariant(name="w", instance_type="ml.m5.large", initial_instance_count=1))
    assert run("sagemaker-endpoint-config-kms", endpoint_config(variants=mixed)).status is Status.NON_COMPLIANT


def test_kms_partial_record_is_insufficient_not_compliant() -> None:
    result = run("sagemaker-endpoint-config-kms", endpoint_config(known=frozenset()))
    assert result.status is Status.NOT_APPLICABLE and result.insufficient_data


@pytest.mark.parametrize(
    ("capture", "params", "violations"),
    [
        (None, {}, ("disabled",)),
        (DataCapture(enabled=False, sampling_percentage=100, kms_key_id="k"), {}, ("disabled",)),
        (DataCapture(enabled=True, sampling_percentage=10, kms_key_id="k", capture_modes=("Input", "Output")),
         {"min_sampling_percentage": 20}, ("sampling",)),
        (DataCapture(enabled=True, sampling_percentage=100, capture_modes=("Input", "Output")), {}, ("kms",)),
        (DataCapture(enabled=True, sampling_percentage=100, kms_key_id="k", capture_modes=("Input",)), {},
         ("modes",)),
    ],
)  # fmt: skip
def test_data_capture_violations(capture: Any, params: dict[str, Any], violations: tuple[str, ...]) -> None:
    result = run("sagemaker-endpoint-config-data-capture", endpoint_config(data_capture=capture), **params)
    assert result.status is Status.NON_COMPLIANT
    assert result.evidence["violations"] == violations


def test_data_capture_compliant_and_kms_optional() -> None:
    capture = DataCapture(enabled=True, sampling_percentage=20, capture_modes=("Input", "Output"))
    resource = endpoint_config(data_capture=capture)
    assert run("sagemaker-endpoint-config-data-capture", resource, require_kms=False).status is Status.COMPLIANT
    assert run("sagemaker-endpoint-config-data-capture", resource).status is Status.NON_COMPLIANT


def test_instance_count_follows_aws_config_semantics_by_default() -> None:
    """AWS Config's prod-instance-count: every config, NON_COMPLIANT when a production variant has 1 instance."""
    check = "sagemaker-endpoint-config-instance-count"
    one = (ProductionVariant(name="v", instance_type="ml.m5.xlarge", initial_instance_count=1),)
    for tags in ({"environment": "dev"}, {}, None):  # untagged and tags-unknown configs are in scope too
        assert run(check, endpoint_config(variants=one, tags=tags)).status is Status.NON_COMPLIANT
    two = (ProductionVariant(name="v", instance_type="ml.m5.xlarge", initial_instance_count=2),)
    assert run(check, endpoint_config(variants=two, tags=None)).status is Status.COMPLIANT
    mixed = (*two, ProductionVariant(name="w", instance_type="ml.g5.xlarge", initial_instance_count=1))
    result = run(check, endpoint_config(variants=mixed))
    assert result.status is Status.NON_COMPLIANT and result.evidence["variants"] == ("w=1",)
    serverless = endpoint_config(variants=(ProductionVariant(name="s", serverless=True),))
    assert run(check, serverless).status is Status.NOT_APPLICABLE


def test_instance_count_can_be_narrowed_to_production_by_tag() -> None:
    check = "sagemaker-endpoint-config-instance-count"
    one = (ProductionVariant(name="v", instance_type="ml.m5.xlarge", initial_instance_count=1),)
    dev = endpoint_config(variants=one, tags={"environment": "dev"})
    assert run(check, dev, production_tag_key="environment").status is Status.NOT_APPLICABLE
    prod = endpoint_config(variants=one, tags={"stage": "PROD"})
    result = run(check, prod, production_tag_key="stage", min_instances=2)
    assert result.status is Status.NON_COMPLIANT
    unknown = endpoint_config(variants=one, tags=None)
    assert run(check, unknown, production_tag_key="environment").insufficient_data


@pytest.mark.parametrize(
    ("name", "statement", "expected"),
    [
        # Anyone can assume it, whatever the role is called: critical on every role.
        ("app-backend", {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}, Status.NON_COMPLIANT),
        ("reports", {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}, Status.NON_COMPLIANT),
        ("x", {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
               "Action": "sts:AssumeRole"}, Status.NON_COMPLIANT),
        # A condition that restricts the caller makes it not public.
        ("ci", {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}, Status.COMPLIANT),
        # A wildcard org id restricts nothing.
        ("ci", {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                "Condition": {"StringLike": {"aws:PrincipalOrgID": "*"}}}, Status.NON_COMPLIANT),
        ("svc", {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
         Status.COMPLIANT),
        ("deny", {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}, Status.COMPLIANT),
    ],
)  # fmt: skip
def test_public_trust_is_found_on_any_role(name: str, statement: dict[str, Any], expected: Status) -> None:
    role = IamRole(name=name, source=Source.SCAN, trust_policy=policy_doc(statement))
    result = run("iam-role-trust-not-public", role)
    assert result.status is expected, result.reason
    # The execution-role check with its default-policy pattern does not even look at these names.
    assert run("iam-role-trust-restricted", role, role_name_patterns=["*sagemaker*"]).status is Status.NOT_APPLICABLE


def test_public_trust_needs_the_trust_policy() -> None:
    assert run("iam-role-trust-not-public", IamRole(name="r", source=Source.SCAN)).insufficient_data


def test_default_policies_flag_public_trust_as_critical(fixture_json: Loader, default_policies: Any) -> None:
    findings = [
        f
        for f in evaluate(normalise_document(fixture_json("config_role_public_trust")), default_policies)
        if f.check == "iam-role-trust-not-public"
    ]
    assert [(f.status, f.severity.value) for f in findings] == [(Status.NON_COMPLIANT, "CRITICAL")]


def test_model_checks_need_both_subnets_and_security_groups() -> None:
    model = Model(name="m", source=Source.SCAN, vpc_subnets=("subnet-1",))
    assert run("sagemaker-model-vpc", model).status is Status.NON_COMPLIANT
    isolated = Model(name="m", source=Source.SCAN, network_isolation=True)
    assert run("sagemaker-model-network-isolation", isolated).status is Status.COMPLIANT


def training_job(**kwargs: Any) -> TrainingJob:
    base: dict[str, Any] = {
        "name": "tj",
        "source": Source.SCAN,
        "output_kms_key_id": "k",
        "volume_kms_key_id": "k",
        "inter_container_encryption": True,
        "instance_type": "ml.m5.xlarge",
        "instance_count": 2,
    }
    return TrainingJob(**{**base, **kwargs})


def test_training_job_encryption() -> None:
    assert run("sagemaker-training-job-encryption", training_job()).status is Status.COMPLIANT
    result = run(
        "sagemaker-training-job-encryption",
        training_job(output_kms_key_id=None, volume_kms_key_id=None, inter_container_encryption=False),
    )
    assert result.status is Status.NON_COMPLIANT
    assert result.evidence["missing"] == (
        "OutputDataConfig.KmsKeyId",
        "ResourceConfig.VolumeKmsKeyId",
        "EnableInterContainerTrafficEncryption",
    )
    # Instance storage: SageMaker rejects VolumeKmsKeyId, so its absence is not a violation.
    nvme = training_job(volume_kms_key_id=None, instance_type="ml.p4d.24xlarge")
    assert run("sagemaker-training-job-encryption", nvme).status is Status.COMPLIANT
    single = training_job(inter_container_encryption=False, instance_count=1)
    relaxed = run("sagemaker-training-job-encryption", single, inter_container_min_instances=2)
    assert relaxed.status is Status.COMPLIANT


# --------------------------------------------------------------------------------------------- IAM

STAR = {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}
NARROW = {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": "*"}


def role(**kwargs: Any) -> IamRole:
    return IamRole(**{"name": "AmazonSageMaker-ExecutionRole-x", "source": Source.SCAN, **kwargs})


def test_no_admin_inline_and_attached_customer_managed() -> None:
    clean = role(inline_policies=(InlinePolicy(name="i", document=policy_doc(NARROW)),))
    assert run("iam-role-no-admin", clean).status is Status.COMPLIANT
    bad_attached = role(
        attached_policies=(
            AttachedPolicy(arn="arn:aws:iam::111122223333:policy/deploy", document=policy_doc(NARROW, STAR)),
        )
    )
    result = run("iam-role-no-admin", bad_attached)
    assert result.status is Status.NON_COMPLIANT
    assert result.evidence["managed_policies"] == ("arn:aws:iam::111122223333:policy/deploy",)


def test_no_admin_administrator_access_by_name_in_any_partition() -> None:
    govcloud = role(attached_policies=(AttachedPolicy(arn="arn:aws-us-gov:iam::aws:policy/AdministratorAccess"),))
    assert run("iam-role-no-admin", govcloud).status is Status.NON_COMPLIANT


def test_no_admin_unresolved_documents() -> None:
    aws_managed = role(attached_policies=(AttachedPolicy(arn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"),))
    assert run("iam-role-no-admin", aws_managed).insufficient_data
    assert run("iam-role-no-admin", aws_managed, unresolved_aws_managed="ignore").status is Status.COMPLIANT
    forbidden = run(
        "iam-role-no-admin",
        aws_managed,
        forbidden_managed_policies=["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"],
    )
    assert forbidden.status is Status.NON_COMPLIANT


def test_no_admin_partial_record_reports_violations_but_never_compliance() -> None:
    partial_bad = role(inline_policies=(InlinePolicy(name="p", document=policy_doc(STAR)),), known=frozenset())
    assert run("iam-role-no-admin", partial_bad).status is Status.NON_COMPLIANT
    partial_ok = role(inline_policies=(InlinePolicy(name="p", document=policy_doc(NARROW)),), known=frozenset())
    result = run("iam-role-no-admin", partial_ok)
    assert result.status is Status.NOT_APPLICABLE and result.insufficient_data


def test_policy_no_admin() -> None:
    policy = IamPolicy(name="p", source=Source.SCAN, document=policy_doc({**STAR, "Action": "*"}))
    assert run("iam-policy-no-admin", policy).status is Status.NON_COMPLIANT
    assert run("iam-policy-no-admin", IamPolicy(name="p", source=Source.SCAN)).insufficient_data


def trust(*statements: dict[str, Any]) -> IamRole:
    return role(trust_policy=policy_doc(*statements))


SM_TRUST = {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([SM_TRUST], Status.COMPLIANT),
        ([{**SM_TRUST, "Principal": {"Service": ["sagemaker.amazonaws.com", "lambda.amazonaws.com"]}}],
         Status.NON_COMPLIANT),
        ([{**SM_TRUST, "Principal": "*"}], Status.NON_COMPLIANT),
        ([{**SM_TRUST, "Principal": {"AWS": "*"},
           "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}], Status.NON_COMPLIANT),
        ([{**SM_TRUST, "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}], Status.NON_COMPLIANT),
        ([SM_TRUST, {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}], Status.COMPLIANT),
    ],
)  # fmt: skip
def test_trust_restricted(statements: list[dict[str, Any]], expected: Status) -> None:
    assert run("iam-role-trust-restricted", trust(*statements)).status is expected


def test_trust_applies_to_named_execution_roles_only() -> None:
    other = IamRole(name="ci-deployer", source=Source.SCAN, trust_policy=policy_doc({**SM_TRUST, "Principal": "*"}))
    result = run("iam-role-trust-restricted", other, role_name_patterns=["*sagemaker*"])
    assert result.status is Status.NOT_APPLICABLE and not result.insufficient_data


# --------------------------------------------------------------------------------------------- KMS


def key(**kwargs: Any) -> KmsKey:
    base: dict[str, Any] = {
        "name": "k",
        "key_id": "k",
        "source": Source.SCAN,
        "key_state": "Enabled",
        "key_manager": "CUSTOMER",
        "key_spec": "SYMMETRIC_DEFAULT",
        "origin": "AWS_KMS",
    }
    return KmsKey(**{**base, **kwargs})


def test_rotation() -> None:
    assert run("kms-key-rotation-enabled", key(rotation_enabled=True)).status is Status.COMPLIANT
    assert run("kms-key-rotation-enabled", key(rotation_enabled=False)).status is Status.NON_COMPLIANT
    asymmetric = key(rotation_enabled=False, key_spec="RSA_2048")
    assert run("kms-key-rotation-enabled", asymmetric).status is Status.NOT_APPLICABLE
    assert run("kms-key-rotation-enabled", key(rotation_enabled=False, key_manager="AWS")).status is (
        Status.NOT_APPLICABLE
    )
    assert run("kms-key-rotation-enabled", key(rotation_enabled=None)).insufficient_data


def test_pending_deletion_and_disabled_in_use() -> None:
    check = "kms-key-not-pending-deletion"
    assert run(check, key(key_state="PendingDeletion")).status is Status.NON_COMPLIANT
    assert run(check, key(key_state="Disabled", used_by_endpoints=("llm-prod",))).status is Status.NON_COMPLIANT
    assert run(check, key(key_state="Disabled", used_by_endpoints=())).status is Status.COMPLIANT
    assert run(check, key(key_state="Disabled")).insufficient_data
    strict = run(check, key(key_state="Disabled"), fail_disabled_if_usage_unknown=True)
    assert strict.status is Status.NON_COMPLIANT
    assert run(check, key(key_state=None)).insufficient_data


def test_key_policy_public_principal() -> None:
    check = "kms-key-policy-no-public-principal"
    root = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
            "Resource": "*"}  # fmt: skip
    public = {"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    org = {**public, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}
    assert run(check, key(policy=policy_doc(root))).status is Status.COMPLIANT
    result = run(check, key(policy=policy_doc(root, public)))
    assert result.status is Status.NON_COMPLIANT and result.evidence["sids"] == ("Open",)
    assert run(check, key(policy=policy_doc(root, org))).status is Status.COMPLIANT


def test_endpoint_usage_links_disabled_keys_to_endpoints(default_policies: Any) -> None:
    arn = "arn:aws:kms:us-east-1:111122223333:key/k1"
    config = endpoint_config(kms_key_id=arn, used_by_endpoints=("llm-prod",))
    disabled = key(name="k1", key_id="k1", arn=arn, key_state="Disabled")
    findings = evaluate([config, disabled], default_policies)
    pending = next(f for f in findings if f.check == "kms-key-not-pending-deletion")
    assert pending.status is Status.NON_COMPLIANT and "llm-prod" in pending.reason


def test_wrong_resource_type_is_refused() -> None:
    with pytest.raises(Exception, match="applies to"):
        run("kms-key-rotation-enabled", role())

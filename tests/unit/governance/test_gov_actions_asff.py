"""Remediation plans (pure declarations) and the ASFF form of findings."""

from __future__ import annotations

from datetime import UTC, datetime
from textwrap import dedent
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from llmops_sentinel.domain.governance import (
    ACTIONS,
    CHECKS,
    Status,
    evaluate,
    parse_policies,
    to_asff,
)
from llmops_sentinel.domain.governance.iam import parse_policy_document
from llmops_sentinel.domain.governance.registry import Action, Check, RegistryError, register_action
from llmops_sentinel.domain.governance.resources import (
    AttachedPolicy,
    EndpointConfig,
    IamRole,
    InlinePolicy,
    KmsKey,
    ProductionVariant,
    Source,
)
from llmops_sentinel.errors import BadInputError

ACCOUNT = "111122223333"
OBSERVED = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
STAR = parse_policy_document({"Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]})


def policies(remediation: str, resource: str, check: str, dry_run: bool = True) -> Any:
    return parse_policies(
        dedent(
            f"""\
            version: 1
            policies:
              - name: p
                resource: {resource}
                check: {{type: {check}}}
                severity: HIGH
                remediation: {remediation}
                dry_run: {str(dry_run).lower()}
            """
        )
    )


def config(**kwargs: Any) -> EndpointConfig:
    base: dict[str, Any] = {
        "name": "llm-prod-config-with-a-rather-long-name-for-sagemaker-limits",
        "arn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/llm",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "source": Source.SCAN,
        "observed_at": OBSERVED,
        "variants": (ProductionVariant(name="v", instance_type="ml.m5.large", initial_instance_count=2),),
        "used_by_endpoints": ("llm-prod",),
    }
    return EndpointConfig(**{**base, **kwargs})


def test_every_declared_permission_is_exact() -> None:
    declared = [p for c in CHECKS.values() for p in c.permissions]
    declared += [p for a in ACTIONS.values() for p in a.permissions]
    assert declared
    assert all(":" in p and "*" not in p and "?" not in p for p in declared)


def test_registering_a_wildcard_permission_fails() -> None:
    with pytest.raises(RegistryError, match="exact"):

        @register_action
        class Bad(Action[Any]):
            id = "bad"
            permissions = ("sagemaker:*",)
            description = "never"

            def draft(self, context: Any, params: Any) -> Any:
                raise NotImplementedError


def test_replace_endpoint_config_plan_is_deterministic_and_never_deletes() -> None:
    remediation = "{type: replace-endpoint-config, kms_key_id: alias/llm}"
    policy_set = policies(remediation, "AWS::SageMaker::EndpointConfig", "sagemaker-endpoint-config-kms")
    (finding,) = evaluate([config()], policy_set)
    plan = finding.remediation
    assert plan is not None and plan.status == "skipped-dry-run" and plan.dry_run
    params = plan.parameters
    assert params["overrides"] == {"KmsKeyId": "alias/llm"}
    assert params["endpoints"] == ["llm-prod"]
    new_name = params["new_endpoint_config"]
    assert isinstance(new_name, str) and len(new_name) <= 63 and new_name.startswith("llm-prod-config")
    assert not any("Delete" in p for p in plan.permissions)
    assert "sagemaker:UpdateEndpoint" in plan.permissions
    (again,) = evaluate([config()], policy_set)
    assert again.remediation == plan  # same finding, same plan and idempotency key
    assert len(plan.idempotency_key) <= 80 and plan.idempotency_key.startswith("replace-endpoint-config-")


def test_not_dry_run_is_planned_and_a_new_violation_gets_a_new_key() -> None:
    remediation = "{type: detach-policy}"
    policy_set = policies(remediation, "AWS::IAM::Role", "iam-role-no-admin", dry_run=False)
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    role = IamRole(name="r", account_id=ACCOUNT, source=Source.SCAN, observed_at=OBSERVED,
                   attached_policies=(AttachedPolicy(arn=admin),))  # fmt: skip
    (finding,) = evaluate([role], policy_set)
    assert finding.remediation is not None
    assert finding.remediation.status == "planned"
    assert finding.remediation.parameters["policy_arns"] == [admin]
    assert finding.remediation.permissions == ("iam:ListAttachedRolePolicies", "iam:DetachRolePolicy")
    other = role.model_copy(update={"attached_policies": (AttachedPolicy(arn=f"arn:aws:iam::{ACCOUNT}:policy/x",
                                                                         document=STAR),)})  # fmt: skip
    (second,) = evaluate([other], policy_set)
    assert second.remediation is not None
    assert second.remediation.idempotency_key != finding.remediation.idempotency_key


def test_detach_policy_skips_inline_only_violations() -> None:
    policy_set = policies("{type: detach-policy}", "AWS::IAM::Role", "iam-role-no-admin", dry_run=False)
    role = IamRole(name="r", source=Source.SCAN, inline_policies=(InlinePolicy(name="all", document=STAR),))
    (finding,) = evaluate([role], policy_set)
    assert finding.remediation is not None and finding.remediation.status == "skipped"
    assert "inline (all)" in finding.remediation.reason


def test_cancel_key_deletion_plans_cancel_and_only_enables_when_asked() -> None:
    key = KmsKey(name="k", key_id="k", source=Source.SCAN, key_state="PendingDeletion")
    plain = policies("{type: cancel-key-deletion}", "AWS::KMS::Key", "kms-key-not-pending-deletion")
    (finding,) = evaluate([key], plain)
    assert finding.remediation is not None
    assert finding.remediation.permissions == ("kms:DescribeKey", "kms:CancelKeyDeletion")
    enable = policies("{type: cancel-key-deletion, re_enable: true}", "AWS::KMS::Key", "kms-key-not-pending-deletion")
    (finding,) = evaluate([key], enable)
    assert finding.remediation is not None and "kms:EnableKey" in finding.remediation.permissions


def test_tag_action_permissions_follow_the_resource_type() -> None:
    policy_set = policies("{type: tag, tags: {sentinel: '{policy}'}}", "AWS::KMS::Key", "kms-key-rotation-enabled")
    key = KmsKey(name="k", key_id="k", source=Source.SCAN, rotation_enabled=False, key_manager="CUSTOMER",
                 key_spec="SYMMETRIC_DEFAULT", origin="AWS_KMS")  # fmt: skip
    (finding,) = evaluate([key], policy_set)
    assert finding.remediation is not None
    assert finding.remediation.permissions == ("kms:TagResource",)
    assert finding.remediation.parameters == {"tags": {"sentinel": "p"}}


def test_no_plan_for_compliant_findings() -> None:
    policy_set = policies("{type: notify}", "AWS::SageMaker::EndpointConfig", "sagemaker-endpoint-config-kms")
    (finding,) = evaluate([config(kms_key_id="alias/llm")], policy_set)
    assert finding.status is Status.COMPLIANT and finding.remediation is None


# ------------------------------------------------------------------------------------------------ ASFF


def _validate_against_securityhub(asff: dict[str, Any]) -> None:
    model = get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    report = ParamValidator().validate({"Findings": [asff]}, shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize("kms", [None, "alias/llm"])
def test_asff_shape_for_sagemaker(kms: str | None) -> None:
    policy_set = policies("{type: notify}", "AWS::SageMaker::EndpointConfig", "sagemaker-endpoint-config-kms")
    (finding,) = evaluate([config(kms_key_id=kms)], policy_set)
    asff = to_asff(finding)
    _validate_against_securityhub(asff)
    assert asff["SchemaVersion"] == "2018-10-08"
    assert asff["ProductArn"] == f"arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert asff["GeneratorId"] == "p"
    assert asff["AwsAccountId"] == ACCOUNT
    assert asff["Types"][0].startswith("Software and Configuration Checks/")
    assert asff["CreatedAt"] == "2024-05-02T10:00:00.000Z"
    assert asff["Severity"]["Label"] == "HIGH"
    assert asff["Resources"][0]["Type"] == "Other"
    assert asff["Resources"][0]["Details"]["Other"]["ResourceType"] == "AWS::SageMaker::EndpointConfig"
    if kms is None:
        assert asff["Compliance"]["Status"] == "FAILED"
        assert asff["Workflow"]["Status"] == "NEW" and asff["RecordState"] == "ACTIVE"
        assert "Remediation" in asff
    else:
        assert asff["Compliance"]["Status"] == "PASSED"
        assert asff["Workflow"]["Status"] == "RESOLVED" and asff["RecordState"] == "ARCHIVED"


def test_asff_for_global_iam_needs_a_region_and_ids_are_stable() -> None:
    policy_set = policies("{type: notify}", "AWS::IAM::Role", "iam-role-no-admin")
    role = IamRole(name="r", arn=f"arn:aws:iam::{ACCOUNT}:role/r", account_id=ACCOUNT, source=Source.SCAN,
                   observed_at=OBSERVED, inline_policies=(InlinePolicy(name="all", document=STAR),))  # fmt: skip
    (finding,) = evaluate([role], policy_set)
    with pytest.raises(BadInputError, match="region"):
        to_asff(finding)
    asff = to_asff(finding, region="eu-west-1", now=datetime(2024, 5, 3, tzinfo=UTC))
    _validate_against_securityhub(asff)
    assert asff["Resources"][0] == {
        "Type": "AwsIamRole",
        "Id": f"arn:aws:iam::{ACCOUNT}:role/r",
        "Partition": "aws",
        "Region": "eu-west-1",
    }
    assert asff["UpdatedAt"] == "2024-05-03T00:00:00.000Z"
    fixed = role.model_copy(update={"inline_policies": ()})
    (later,) = evaluate([fixed], policy_set)
    assert later.id == finding.id  # the PASSED import updates the FAILED finding


def test_not_applicable_maps_to_not_available() -> None:
    policy_set = policies("{type: notify}", "AWS::KMS::Key", "kms-key-policy-no-public-principal")
    key = KmsKey(name="k", key_id="k", account_id=ACCOUNT, region="us-east-1", source=Source.CONFIG,
                 observed_at=OBSERVED)  # fmt: skip
    (finding,) = evaluate([key], policy_set)
    asff = to_asff(finding)
    _validate_against_securityhub(asff)
    assert asff["Compliance"]["Status"] == "NOT_AVAILABLE"
    assert asff["Resources"][0]["Type"] == "AwsKmsKey"
    assert finding.compliant is None


def test_registry_types_are_exported() -> None:
    assert issubclass(CHECKS["kms-key-rotation-enabled"], Check)

"""GovernedRolePattern: empty disables detaching and role tagging; otherwise only matching roles are touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from textwrap import dedent
from typing import Any

import boto3
import pytest
from moto import mock_aws

from llmops_sentinel.adapters.remediation_actions import RemediationExecutor
from llmops_sentinel.domain.governance import evaluate, parse_policies
from llmops_sentinel.domain.governance.iam import parse_policy_document
from llmops_sentinel.domain.governance.resources import AttachedPolicy, IamRole, Source

ADMIN = "arn:aws:iam::123456789012:policy/everything"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}  # fmt: skip


def _policies(remediation: str) -> Any:
    return parse_policies(
        dedent(
            f"""\
            version: 1
            policies:
              - name: no-admin
                resource: AWS::IAM::Role
                check: {{type: iam-role-no-admin}}
                severity: CRITICAL
                remediation: {remediation}
                dry_run: false
            """
        )
    )


@pytest.fixture
def iam() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        assert (
            client.create_policy(PolicyName="everything", PolicyDocument=json.dumps(EVERYTHING))["Policy"]["Arn"]
            == ADMIN
        )
        for name in ("team-sagemaker-execution", "platform-admin"):
            client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
            client.attach_role_policy(RoleName=name, PolicyArn=ADMIN)
        yield client


def _run(iam: Any, role: str, pattern: str, remediation: str = "{type: detach-policy}") -> Any:
    document = parse_policy_document(EVERYTHING)
    resource = IamRole(name=role, source=Source.SCAN, attached_policies=(AttachedPolicy(arn=ADMIN, document=document),))
    (finding,) = evaluate([resource], _policies(remediation))
    assert finding.remediation is not None and finding.remediation.status == "planned"
    executor = RemediationExecutor("arn:aws:sns:us-east-1:123456789012:t", iam=iam, governed_role_pattern=pattern)
    return executor.execute(finding.remediation, finding)


def _attached(iam: Any, role: str) -> list[str]:
    return [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def test_empty_pattern_disables_detaching(iam: Any) -> None:
    outcome = _run(iam, "team-sagemaker-execution", "")
    assert outcome.status == "skipped" and "GovernedRolePattern is empty" in outcome.detail
    assert _attached(iam, "team-sagemaker-execution") == [ADMIN]


def test_a_role_outside_the_pattern_keeps_its_policies(iam: Any) -> None:
    outcome = _run(iam, "platform-admin", "team-sagemaker-*")
    assert outcome.status == "skipped" and "outside GovernedRolePattern" in outcome.detail
    assert _attached(iam, "platform-admin") == [ADMIN]


def test_a_role_inside_the_pattern_is_detached(iam: Any) -> None:
    outcome = _run(iam, "team-sagemaker-execution", "team-sagemaker-*")
    assert outcome.status == "executed" and outcome.changes == [f"iam:DetachRolePolicy {ADMIN}"]
    assert _attached(iam, "team-sagemaker-execution") == []


def test_tagging_a_role_follows_the_same_pattern(iam: Any) -> None:
    tag = "{type: tag, tags: {sentinel:finding: no-admin}}"
    assert _run(iam, "platform-admin", "", tag).status == "skipped"
    assert iam.list_role_tags(RoleName="platform-admin")["Tags"] == []
    assert _run(iam, "team-sagemaker-execution", "team-sagemaker-*", tag).status == "executed"
    assert iam.list_role_tags(RoleName="team-sagemaker-execution")["Tags"] == [
        {"Key": "sentinel:finding", "Value": "no-admin"}
    ]

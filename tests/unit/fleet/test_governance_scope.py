"""Governance's compliant-copy remediation moves only endpoints this stack watches (the sentinel:stack tag).

IAM allows UpdateEndpoint only on endpoints tagged ``sentinel:stack=<stack>`` (the fleet tracker's mark),
so an unwatched endpoint on a non-compliant config is left where it is, with a note in the outcome,
instead of an AccessDenied. The copy itself is still created (it is the stack's own resource).
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from llmops_sentinel.adapters.remediation_actions import RemediationExecutor
from llmops_sentinel.domain.governance import evaluate
from sentinel_dev.local import sagemaker as local_sagemaker
from tests.unit.governance.test_gov_actions_asff import config, policies

STACK = "sentinel"


@pytest.mark.parametrize("tagged", [True, False], ids=["watched", "unwatched"])
def test_only_watched_endpoints_are_moved_to_the_compliant_copy(tagged: bool) -> None:
    remediation = "{type: replace-endpoint-config, kms_key_id: alias/llm}"
    policy_set = policies(remediation, "AWS::SageMaker::EndpointConfig", "sagemaker-endpoint-config-kms", False)
    source = config()
    (finding,) = evaluate([source], policy_set)
    assert finding.remediation is not None and finding.remediation.status == "planned"
    local_sagemaker.install()  # moto lacks UpdateEndpoint; the local cloud's has AWS's documented effect
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        kms = boto3.client("kms", region_name="us-east-1")
        kms.create_alias(AliasName="alias/llm", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        role = "arn:aws:iam::123456789012:role/m"
        sm.create_model(ModelName="m", ExecutionRoleArn=role, PrimaryContainer={"Image": "img"})
        variant = {"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}
        sm.create_endpoint_config(EndpointConfigName=source.name, ProductionVariants=[variant])
        tags = [{"Key": "sentinel:stack", "Value": STACK}] if tagged else [{"Key": "sentinel:stack", "Value": "other"}]
        sm.create_endpoint(EndpointName="llm-prod", EndpointConfigName=source.name, Tags=tags)
        executor = RemediationExecutor("arn:aws:sns:us-east-1:123456789012:t", sagemaker=sm, kms=kms, stack_name=STACK)
        outcome = executor.execute(finding.remediation, finding)
        now_on = sm.describe_endpoint(EndpointName="llm-prod")["EndpointConfigName"]
        copy = finding.remediation.parameters["new_endpoint_config"]
        assert sm.describe_endpoint_config(EndpointConfigName=copy)["KmsKeyId"] == "alias/llm"
    if tagged:
        assert (outcome.status, now_on) == ("executed", copy)
        assert "not watched" not in outcome.detail
    else:
        assert (outcome.status, now_on) == ("executed", source.name)  # the copy was created, no move
        assert "not moved, not watched by this stack" in outcome.detail and "llm-prod" in outcome.detail
        assert not any("UpdateEndpoint" in c for c in outcome.changes)

"""Normalisers: AWS Config items (as recorded), boto3 scan bundles, CloudTrail records."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from llmops_sentinel.domain.governance import (
    ScanBundle,
    Status,
    evaluate,
    normalise_cloudtrail,
    normalise_config_item,
    normalise_document,
    normalise_scan_bundle,
)
from llmops_sentinel.domain.governance.resources import EndpointConfig, IamPolicy, IamRole, KmsKey, Model
from llmops_sentinel.errors import BadInputError

Loader = Callable[[str], Any]


def test_config_role_decodes_url_encoded_documents(fixture_json: Loader) -> None:
    role = normalise_config_item(fixture_json("config_role_sagemaker_star"))
    assert isinstance(role, IamRole)
    assert role.region is None  # Config says "global" for IAM
    assert role.trust_policy is not None
    assert role.trust_policy.statements[0].principal is not None
    assert role.trust_policy.statements[0].principal.services == ("sagemaker.amazonaws.com",)
    assert role.inline_policies[0].document.statements[0].action == ("sagemaker:*",)


def test_config_policy_uses_the_default_version(fixture_json: Loader) -> None:
    policy = normalise_config_item(fixture_json("config_policy_llm_deploy"))
    assert isinstance(policy, IamPolicy)
    assert policy.default_version_id == "v2"
    assert policy.document is not None
    assert "*" not in policy.document.statements[0].action


def test_attached_policies_resolve_from_the_same_batch(fixture_json: Loader) -> None:
    resources = normalise_document(fixture_json("config_snapshot_role_with_policy"))
    role = next(r for r in resources if isinstance(r, IamRole))
    assert role.attached_policies[0].document is not None


def test_config_api_shape_with_json_string_configuration(fixture_json: Loader) -> None:
    item = fixture_json("config_kms_key_not_rotating")
    # BatchGetResourceConfig/GetResourceConfigHistory return text and "accountId".
    item["configuration"] = json.dumps(item["configuration"])
    item["supplementaryConfiguration"] = {"KeyRotationStatus": "false"}
    key = normalise_config_item(item)
    assert isinstance(key, KmsKey)
    assert key.rotation_enabled is False and key.account_id == "111122223333"


def test_deleted_config_items_are_skipped(fixture_json: Loader) -> None:
    item = fixture_json("config_model_noncompliant")
    item["configurationItemStatus"] = "ResourceDeleted"
    item["configuration"] = None
    assert normalise_config_item(item) is None


def test_config_rule_invoking_event(fixture_json: Loader) -> None:
    item = fixture_json("config_model_noncompliant")
    event = {
        "invokingEvent": json.dumps({"configurationItem": item, "messageType": "ConfigurationItemChangeNotification"}),
        "ruleParameters": "{}",
        "resultToken": "TESTMODE",
    }
    (model,) = normalise_document(event)
    assert isinstance(model, Model) and not model.network_isolation


@pytest.mark.parametrize(
    "doc",
    [
        {"resourceType": "AWS::EC2::Instance", "resourceId": "i-1", "configuration": {}},
        {"hello": "world"},
        "a string",
    ],
)
def test_unsupported_input_is_bad_input(doc: Any) -> None:
    with pytest.raises(BadInputError):
        normalise_document(doc)


def test_malformed_config_item_names_the_field(fixture_json: Loader) -> None:
    item = fixture_json("config_endpoint_config_compliant")
    item["configuration"]["ProductionVariants"][0]["InitialInstanceCount"] = "many"
    with pytest.raises(BadInputError, match="initialinstancecount"):
        normalise_config_item(item)


ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def scan_bundle() -> ScanBundle:
    return ScanBundle.model_validate(
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "endpoint_configs": [
                {
                    "describe": {
                        "EndpointConfigName": "llm",
                        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/llm",
                        "ProductionVariants": [
                            {"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1,
                             "InstanceType": "ml.m5.large"}
                        ],
                        "KmsKeyId": KEY_ARN,
                        "CreationTime": "2024-05-01T00:00:00Z",
                    },
                    "tags": [{"Key": "environment", "Value": "prod"}],
                    "used_by_endpoints": ["llm-prod"],
                }
            ],
            "roles": [
                {
                    "role": {
                        "RoleName": "AmazonSageMaker-ExecutionRole-scan",
                        "Arn": f"arn:aws:iam::{ACCOUNT}:role/AmazonSageMaker-ExecutionRole-scan",
                        "AssumeRolePolicyDocument": {  # boto3 decodes IAM documents into dicts
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                                           "Action": "sts:AssumeRole"}],
                        },
                    },
                    "inline_policies": [
                        {"RoleName": "AmazonSageMaker-ExecutionRole-scan", "PolicyName": "all",
                         "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sagemaker:*",
                                                           "Resource": "*"}]}}
                    ],
                    "attached_policies": [
                        {"PolicyName": "AmazonSageMakerReadOnly",
                         "PolicyArn": "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly",
                         "Document": {"Statement": [{"Effect": "Allow", "Action": "sagemaker:Describe*",
                                                     "Resource": "*"}]}}
                    ],
                }
            ],
            "keys": [
                {
                    "key_metadata": {"AWSAccountId": ACCOUNT, "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                                     "Arn": KEY_ARN, "Enabled": False, "KeyState": "Disabled",
                                     "KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS"},
                    "rotation_enabled": True,
                    "policy": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                         "Action": "kms:Decrypt", "Resource": "*"}]}),
                    "tags": [{"TagKey": "team", "TagValue": "ml"}],
                }
            ],
        }
    )  # fmt: skip


def test_scan_bundle_normalises_boto3_shapes(default_policies: Any) -> None:
    resources = normalise_scan_bundle(scan_bundle())
    config = next(r for r in resources if isinstance(r, EndpointConfig))
    key = next(r for r in resources if isinstance(r, KmsKey))
    assert config.tags == {"environment": "prod"} and config.used_by_endpoints == ("llm-prod",)
    assert key.tags == {"team": "ml"} and key.policy is not None
    by_check = {f.check: f for f in evaluate(resources, default_policies)}
    assert by_check["sagemaker-endpoint-config-kms"].status is Status.COMPLIANT
    assert by_check["sagemaker-endpoint-config-instance-count"].status is Status.NON_COMPLIANT
    assert by_check["iam-role-no-admin"].status is Status.NON_COMPLIANT
    assert by_check["iam-role-trust-restricted"].status is Status.COMPLIANT
    assert by_check["kms-key-policy-no-public-principal"].status is Status.NON_COMPLIANT
    # The endpoint config names the disabled key and knows its endpoint: disabled-while-in-use.
    assert by_check["kms-key-not-pending-deletion"].status is Status.NON_COMPLIANT


def _record(source: str, name: str, request: dict[str, Any], response: Any = None) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "accountId": ACCOUNT},
        "eventTime": "2024-05-02T10:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "requestParameters": request,
        "responseElements": response,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }


def test_cloudtrail_create_endpoint_config_is_complete(default_policies: Any) -> None:
    record = _record(
        "sagemaker.amazonaws.com",
        "CreateEndpointConfig",
        {
            "endpointConfigName": "llm-v3",
            "productionVariants": [{"variantName": "AllTraffic", "modelName": "m", "initialInstanceCount": 1,
                                    "instanceType": "ml.m5.large"}],
            "dataCaptureConfig": {"enableCapture": True, "initialSamplingPercentage": 5,
                                  "destinationS3Uri": "s3://c", "captureOptions": [{"captureMode": "Input"}]},
            "tags": [{"key": "environment", "value": "prod"}],
        },
        {"endpointConfigArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/llm-v3"},
    )  # fmt: skip
    by_check = {f.check: f for f in evaluate(normalise_cloudtrail(record), default_policies)}
    assert by_check["sagemaker-endpoint-config-kms"].status is Status.NON_COMPLIANT
    assert by_check["sagemaker-endpoint-config-data-capture"].status is Status.NON_COMPLIANT
    assert by_check["sagemaker-endpoint-config-instance-count"].status is Status.NON_COMPLIANT


def test_cloudtrail_iam_events(default_policies: Any) -> None:
    attach = _record("iam.amazonaws.com", "AttachRolePolicy",
                     {"roleName": "AmazonSageMaker-ExecutionRole-x",
                      "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})  # fmt: skip
    put = _record("iam.amazonaws.com", "PutRolePolicy",
                  {"roleName": "AmazonSageMaker-ExecutionRole-x", "policyName": "p",
                   "policyDocument": json.dumps({"Statement": [{"Effect": "Allow", "Action": "SageMaker:*",
                                                                "Resource": "*"}]})})  # fmt: skip
    trust = _record("iam.amazonaws.com", "UpdateAssumeRolePolicy",
                    {"roleName": "AmazonSageMaker-ExecutionRole-x",
                     "policyDocument": json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                                  "Action": "sts:AssumeRole"}]})})  # fmt: skip
    version = _record("iam.amazonaws.com", "CreatePolicyVersion",
                      {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/p", "setAsDefault": True,
                       "policyDocument": json.dumps({"Statement": [{"Effect": "Allow", "NotAction": "iam:*",
                                                                    "Resource": "*"}]})})  # fmt: skip
    expected = {
        "AttachRolePolicy": ("iam-role-no-admin", Status.NON_COMPLIANT),
        "PutRolePolicy": ("iam-role-no-admin", Status.NON_COMPLIANT),
        "UpdateAssumeRolePolicy": ("iam-role-trust-restricted", Status.NON_COMPLIANT),
        "CreatePolicyVersion": ("iam-policy-no-admin", Status.NON_COMPLIANT),
    }
    for record in (attach, put, trust, version):
        check, status = expected[record["eventName"]]
        findings = [f for f in evaluate(normalise_cloudtrail(record), default_policies) if f.check == check]
        assert [f.status for f in findings] == [status], record["eventName"]


def test_cloudtrail_partial_iam_record_is_never_compliant(default_policies: Any) -> None:
    attach = _record("iam.amazonaws.com", "AttachRolePolicy",
                     {"roleName": "AmazonSageMaker-ExecutionRole-x",
                      "policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly"})  # fmt: skip
    for finding in evaluate(normalise_cloudtrail(attach), default_policies):
        assert finding.status is not Status.COMPLIANT


def test_failed_calls_and_ungoverned_events_yield_nothing() -> None:
    failed = _record("kms.amazonaws.com", "DisableKeyRotation", {"keyId": "k"})
    failed["errorCode"] = "AccessDenied"
    assert normalise_cloudtrail(failed) == []
    assert normalise_cloudtrail(_record("s3.amazonaws.com", "PutObject", {"bucketName": "b"})) == []


def test_non_default_policy_version_is_not_judged(default_policies: Any) -> None:
    record = _record("iam.amazonaws.com", "CreatePolicyVersion",
                     {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/p", "setAsDefault": False,
                      "policyDocument": json.dumps({"Statement": [{"Effect": "Allow", "Action": "*",
                                                                   "Resource": "*"}]})})  # fmt: skip
    (finding,) = evaluate(normalise_cloudtrail(record), default_policies)
    assert finding.status is Status.NOT_APPLICABLE and finding.insufficient_data


def test_eventbridge_envelope_of_another_type_is_rejected() -> None:
    with pytest.raises(BadInputError, match="not a CloudTrail API call"):
        normalise_cloudtrail({"detail-type": "EC2 Instance State-change Notification", "detail": {}})

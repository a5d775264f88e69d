"""Governance end to end in the local cloud: CloudTrail-shaped events through the bus -> GovernanceFunction
-> Security Hub + Sentinel bus (router) -> remediation; dry-run gives the findings only. And the
Distributed Map scan over 1,000 resources, executed by moto's ASL interpreter."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.scenes.governance import (
    CONFIG,
    ENDPOINT,
    ENFORCE_POLICIES,
    GOVERNED_ROLES,
    ROLE,
    create_fleet,
    create_noncompliant_endpoint,
    create_wildcard_role,
    deliver,
    policies_yaml,
)


def test_dry_run_reports_the_findings_and_changes_nothing() -> None:
    with LocalCloud(parameters={"GovernancePolicies": policies_yaml(dry_run=True)}) as cloud:
        create_noncompliant_endpoint(cloud)
        policy_arn = create_wildcard_role(cloud)
        config = deliver(cloud, "sagemaker", "CreateEndpoint", {"endpointName": ENDPOINT, "endpointConfigName": CONFIG})
        role = deliver(cloud, "iam", "AttachRolePolicy", {"roleName": ROLE, "policyArn": policy_arn})
        assert {"endpoint-config-kms", "endpoint-config-data-capture", "role-no-admin"} <= set(_failed(cloud))
        assert {o["status"] for o in config["remediations"] + role["remediations"]} == {"skipped-dry-run"}
        sm = cloud.client("sagemaker")
        assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == CONFIG
        assert len(sm.list_endpoint_configs()["EndpointConfigs"]) == 1
        attached = cloud.client("iam").list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [policy_arn]


def test_scan_of_1000_resources_runs_the_distributed_map() -> None:
    with LocalCloud() as cloud:
        cloud.client("kms").create_alias(
            AliasName="alias/llm-endpoints",
            TargetKeyId=cloud.client("kms").create_key(Description="fleet")["KeyMetadata"]["KeyId"],
        )
        create_fleet(cloud, 1000)
        sfn = cloud.client("stepfunctions")
        started = time.perf_counter()
        arn = sfn.start_execution(stateMachineArn=cloud.stack.ref("GovernanceScanStateMachine"), name="scan-test")[
            "executionArn"
        ]
        execution = cloud.wait_for_execution(arn, timeout_s=600)
        seconds = time.perf_counter() - started
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        summary = json.loads(execution["output"])
        assert summary["resources"] >= 1000
        assert summary["batches"] == summary["batches_reported"] == -(-summary["resources"] // 50)
        assert summary["batches_rejected"] == 0 and summary["import_failed"] == 0
        assert summary["non_compliant"] > 0 and summary["remediations"]  # default policies: all dry-run
        assert set(summary["remediations"]) <= {"skipped-dry-run", "skipped"}
        kinds = {e["type"] for e in cloud.execution_history(arn)}
        assert "MapRunStarted" in kinds
        print(f"\nscan of {summary['resources']} resources: {seconds:.1f} s, {summary['batches']} batches")


# The enforced stack is shared by the tests below (one LocalCloud per process at a time: keep them last).
@pytest.fixture(scope="module")
def enforced() -> Iterator[tuple[LocalCloud, dict[str, Any]]]:
    parameters = {"GovernancePolicies": ENFORCE_POLICIES, "GovernedRolePattern": GOVERNED_ROLES}
    with LocalCloud(parameters=parameters) as cloud:
        create_noncompliant_endpoint(cloud)
        policy_arn = create_wildcard_role(cloud)
        outcome = {
            "policy_arn": policy_arn,
            "config": deliver(
                cloud, "sagemaker", "CreateEndpoint", {"endpointName": ENDPOINT, "endpointConfigName": CONFIG}
            ),
            "role": deliver(cloud, "iam", "AttachRolePolicy", {"roleName": ROLE, "policyArn": policy_arn}),
        }
        yield cloud, outcome


def _failed(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    findings = cloud.client("securityhub").get_findings()["Findings"]
    return {f["GeneratorId"]: f for f in findings if f["Compliance"]["Status"] == "FAILED"}


def test_findings_reach_security_hub_and_the_router(enforced: tuple[LocalCloud, dict[str, Any]]) -> None:
    cloud, _ = enforced
    failed = _failed(cloud)
    # One instance per variant is non-compliant on every config (AWS Config's prod-instance-count semantics).
    expected = {"endpoint-config-kms", "endpoint-config-data-capture", "endpoint-config-production-instances"}
    assert expected | {"role-no-admin"} <= set(failed)
    assert failed["role-no-admin"]["Severity"]["Label"] == "CRITICAL"
    assert failed["endpoint-config-kms"]["ProductFields"]["llmops-sentinel/RemediationStatus"] == "planned"
    answers = [i.result for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction" and i.ok and i.result]
    # one router invocation per Governance Findings event (the config's three findings, the role's one)
    assert len(answers) == 2
    routed = [r for a in answers for r in a.get("results", [a]) if r["signal"] == "governance-finding"]
    assert len(routed) == 4 and {r["status"] for r in routed} == {"notified"}
    # the endpoint-config findings name the endpoint, so the router audits them per endpoint
    assert sum(1 for r in routed if r["endpoint_name"] == ENDPOINT) == 3
    assert any("role-no-admin" in m for m in cloud.sns_messages(cloud.stack.ref("NotificationTopic")))


def test_endpoint_moves_to_a_compliant_copy_and_the_old_config_stays(
    enforced: tuple[LocalCloud, dict[str, Any]],
) -> None:
    cloud, outcome = enforced
    sm = cloud.client("sagemaker")
    new = sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"]
    assert new != CONFIG and new.startswith(f"{CONFIG}-sentinel-")
    copy = sm.describe_endpoint_config(EndpointConfigName=new)
    assert copy["KmsKeyId"] == "alias/llm-endpoints"
    assert copy["DataCaptureConfig"]["EnableCapture"] is True
    assert copy["DataCaptureConfig"]["InitialSamplingPercentage"] == 25
    assert copy["ProductionVariants"][0]["InstanceType"] == "ml.inf1.xlarge"
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=copy["EndpointConfigArn"])["Tags"]}
    assert tags["sentinel:replaces"] == CONFIG and tags["team"] == "llm"
    assert tags["sentinel:stack"] == cloud.stack_name  # the create is conditioned on this request tag
    assert sm.describe_endpoint_config(EndpointConfigName=CONFIG)["EndpointConfigName"] == CONFIG  # never deleted
    statuses = {(o["action"], o["status"]) for o in outcome["config"]["remediations"]}
    # the enforced copy ran; the instance-count finding's notify stays in its default dry run
    assert statuses == {("replace-endpoint-config", "executed"), ("notify", "skipped-dry-run")}


def test_wildcard_policy_is_detached_not_deleted(enforced: tuple[LocalCloud, dict[str, Any]]) -> None:
    cloud, outcome = enforced
    iam = cloud.client("iam")
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    assert iam.get_policy(PolicyArn=outcome["policy_arn"])["Policy"]["PolicyName"] == "sagemaker-everything"
    [detach] = outcome["role"]["remediations"]
    assert detach["status"] == "executed" and detach["changes"] == [f"iam:DetachRolePolicy {outcome['policy_arn']}"]


def test_redelivery_changes_nothing(enforced: tuple[LocalCloud, dict[str, Any]]) -> None:
    cloud, outcome = enforced
    before = cloud.client("sagemaker").list_endpoint_configs()["EndpointConfigs"]
    again = deliver(cloud, "sagemaker", "CreateEndpoint", {"endpointName": ENDPOINT, "endpointConfigName": CONFIG})
    statuses = {(o["action"], o["status"]) for o in again["remediations"]}
    assert statuses == {("replace-endpoint-config", "already-done"), ("notify", "skipped-dry-run")}
    role = deliver(cloud, "iam", "AttachRolePolicy", {"roleName": ROLE, "policyArn": outcome["policy_arn"]})
    assert role["non_compliant"] == 0  # the role is compliant now: its finding is PASSED in Security Hub
    assert "role-no-admin" not in _failed(cloud)
    assert cloud.client("sagemaker").list_endpoint_configs()["EndpointConfigs"] == before

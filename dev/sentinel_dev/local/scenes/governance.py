"""Governance scene: a non-compliant endpoint config and a role with ``sagemaker:*`` on ``*`` ->
CloudTrail events through the bus -> findings (Security Hub + bus -> router) -> remediation,
first in dry-run (findings only), then enforced (compliant copy, endpoint moved, policy detached).

The helpers here are also what tests/integration/test_governance.py and bench/governance_scan.py use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np

from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import Echo, SceneReport, Timeline

KEY_ALIAS = "alias/llm-endpoints"
ENDPOINT = "team-llm"
MONITOR_TAG = {"Key": "sentinel:monitor", "Value": "true"}  # watched: governance may move only watched endpoints
CONFIG = "team-llm-config-v1"
ROLE = "team-sagemaker-execution"
GOVERNED_ROLES = "team-sagemaker-*"  # the GovernedRolePattern this scene deploys with (empty = detaching off)
WILDCARD_POLICY = "sagemaker-everything"
CAPTURE_URI = "s3://team-llm-capture/datacapture"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
WILDCARD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}


def policies_yaml(dry_run: bool) -> str:
    """Deployment policies (``GovernancePolicies`` parameter): the defaults, with remediations that fix."""
    flag = "true" if dry_run else "false"
    return f"""version: 1
extends: default
policies:
  - name: endpoint-config-kms
    resource: AWS::SageMaker::EndpointConfig
    check: {{type: sagemaker-endpoint-config-kms}}
    severity: HIGH
    remediation: {{type: replace-endpoint-config, kms_key_id: {KEY_ALIAS}}}
    dry_run: {flag}
  - name: endpoint-config-data-capture
    resource: AWS::SageMaker::EndpointConfig
    check: {{type: sagemaker-endpoint-config-data-capture, min_sampling_percentage: 20}}
    severity: MEDIUM
    remediation:
      type: replace-endpoint-config
      data_capture: {{destination_s3_uri: "{CAPTURE_URI}", kms_key_id: {KEY_ALIAS}, sampling_percentage: 25}}
    dry_run: {flag}
  - name: role-no-admin
    resource: AWS::IAM::Role
    check: {{type: iam-role-no-admin}}
    severity: CRITICAL
    remediation: {{type: detach-policy}}
    dry_run: {flag}
"""


ENFORCE_POLICIES = policies_yaml(dry_run=False)


def create_noncompliant_endpoint(cloud: LocalCloud) -> None:
    """A KMS key (alias) for the fix, and an endpoint on a config with no KMS key and no data capture."""
    kms = cloud.client("kms")
    key = kms.create_key(Description="platform key for LLM endpoints")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key)
    role = cloud.client("iam").create_role(
        RoleName=f"{ENDPOINT}-model-role", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    sm = cloud.client("sagemaker")
    sm.create_model(
        ModelName=f"{ENDPOINT}-model",
        ExecutionRoleArn=role["Role"]["Arn"],
        PrimaryContainer={"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124"},
    )
    sm.create_endpoint_config(EndpointConfigName=CONFIG, ProductionVariants=[_variant()], Tags=[_team_tag()])
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG, Tags=[MONITOR_TAG])
    _onboard(cloud, ENDPOINT)


def _now(cloud: LocalCloud, otherwise: datetime) -> datetime:
    """The local cloud's simulated time when a run sets one (the demo day), else ``otherwise``."""
    return cloud.clock.now() or otherwise


def _onboard(cloud: LocalCloud, endpoint: str) -> None:
    """The fleet tracker sees the endpoint (its state change; the CloudTrail event stays the scene's to
    deliver): alarms, registry item, and the sentinel:stack tag that lets governance move it."""
    event = {
        "version": "0",
        "id": f"state-{endpoint}",
        "detail-type": "SageMaker Endpoint State Change",
        "source": "aws.sagemaker",
        "account": cloud.account_id,
        "time": _now(cloud, datetime(2026, 12, 3, 9, tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": cloud.region,
        "resources": [],
        "detail": {"EndpointName": endpoint, "EndpointConfigName": CONFIG, "EndpointStatus": "IN_SERVICE"},
    }
    tracked = cloud.invoke("FleetTrackerFunction", event)
    if not tracked.ok or tracked.result.get("status") not in {"onboarded", "updated", "unchanged"}:
        raise RuntimeError(f"FleetTrackerFunction did not onboard {endpoint}: {tracked.result or tracked.logs}")


def _variant() -> dict[str, Any]:
    return {
        "VariantName": "AllTraffic",
        "ModelName": f"{ENDPOINT}-model",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.inf1.xlarge",
        "InitialVariantWeight": 1.0,
    }


def _team_tag() -> dict[str, str]:
    return {"Key": "team", "Value": "llm"}


def create_wildcard_role(cloud: LocalCloud) -> str:
    """A SageMaker execution role with a customer-managed policy allowing ``sagemaker:*`` on ``*``."""
    iam = cloud.client("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
    arn = str(iam.create_policy(PolicyName=WILDCARD_POLICY, PolicyDocument=json.dumps(WILDCARD))["Policy"]["Arn"])
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)
    return arn


def cloudtrail_event(cloud: LocalCloud, service: str, name: str, request: dict[str, Any]) -> dict[str, Any]:
    """A CloudTrail record as EventBridge carries it in ``detail`` (field set of the real records)."""
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:alice",
            "arn": f"arn:aws:sts::{cloud.account_id}:assumed-role/ml-team/alice",
            "accountId": cloud.account_id,
        },
        "eventTime": _now(cloud, datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": cloud.region,
        "sourceIPAddress": "192.0.2.10",
        "userAgent": "Boto3/1.35.0",
        "requestParameters": request,
        "responseElements": None,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": cloud.account_id,
        "eventCategory": "Management",
    }


def deliver(cloud: LocalCloud, service: str, name: str, request: dict[str, Any]) -> dict[str, Any]:
    """Put the CloudTrail-shaped event on the default bus; returns what GovernanceFunction returned."""
    before = len(cloud.runtime.invocations)
    cloud.put_event(f"aws.{service}", "AWS API Call via CloudTrail", cloudtrail_event(cloud, service, name, request))
    runs = [i for i in cloud.runtime.invocations[before:] if i.function == "GovernanceFunction"]
    if not runs or not runs[0].ok:
        raise AssertionError(f"GovernanceFunction did not run cleanly: {runs[0].logs[-2000:] if runs else 'no run'}")
    result: dict[str, Any] = runs[0].result
    return result


def create_fleet(cloud: LocalCloud, total: int) -> dict[str, int]:
    """``total`` governed resources for the scan: endpoint configs, models, roles, managed policies, keys.

    Created through moto's in-process backends (:meth:`LocalCloud.backend`, the same calls moto's API
    handlers make with the same parameters): 1,000 resources take well under a second instead of
    ~1,000 API calls. The scan lists, reads and fixes them through the API like any other resource."""
    iam = cloud.client("iam")
    role_arn = iam.create_role(RoleName="fleet-model-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    shares = {"configs": 0.4, "models": 0.3, "roles": 0.15, "policies": 0.05}
    counts = {kind: int(total * share) for kind, share in shares.items()}
    counts["keys"] = total - sum(counts.values()) - 1  # the role above counts as one
    sm, iam_backend, kms = cloud.backend("sagemaker"), cloud.backend("iam"), cloud.backend("kms")
    image = {"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0"}
    for i in range(counts["models"]):
        sm.create_model(
            model_name=f"fleet-model-{i:04d}",
            execution_role_arn=role_arn,
            primary_container=dict(image),
            vpc_config=None,
            containers=None,
            tags=None,
        )
    for i in range(counts["configs"]):
        variant = {**_variant(), "ModelName": f"fleet-model-{i % max(counts['models'], 1):04d}"}
        sm.create_endpoint_config(
            endpoint_config_name=f"fleet-config-{i:04d}",
            production_variants=[variant],
            data_capture_config=None,
            async_inference_config=None,
            tags=None,
            kms_key_id=KEY_ALIAS if i % 2 else None,
        )
    trust = json.dumps(TRUST)
    for i in range(counts["roles"]):
        iam_backend.create_role(f"fleet-sagemaker-role-{i:04d}", trust, None, None, None, [], 3600)
    wildcard = json.dumps(WILDCARD)
    for i in range(counts["policies"]):
        iam_backend.create_policy(None, None, wildcard, f"fleet-policy-{i:04d}", [])
    for i in range(counts["keys"]):
        key = kms.create_key(None, None, None, f"fleet key {i}", None, None, "AWS_KMS")
        if i % 3:
            kms.enable_key_rotation(key.id)
    return counts


def run(cloud: LocalCloud, echo: Echo, rng: np.random.Generator) -> SceneReport:
    """Dry-run first (the stack's policies as deployed by the demo), then the same events enforced."""
    log = Timeline(echo)
    create_noncompliant_endpoint(cloud)
    policy_arn = create_wildcard_role(cloud)
    log(f"endpoint {ENDPOINT} on {CONFIG} (no KmsKeyId, no data capture); role {ROLE} with {WILDCARD_POLICY}")
    sm, iam, hub = cloud.client("sagemaker"), cloud.client("iam"), cloud.client("securityhub")
    facts: dict[str, Any] = {}
    for mode, yaml_text in (("dry-run", policies_yaml(dry_run=True)), ("enforce", ENFORCE_POLICIES)):
        # The function reads its policies from SENTINEL_GOVERNANCE_POLICIES once per container; the
        # demo swaps them between the two passes (a deployment would update the stack parameter).
        _set_policies(cloud, yaml_text)
        config_result = deliver(
            cloud, "sagemaker", "CreateEndpoint", {"endpointName": ENDPOINT, "endpointConfigName": CONFIG}
        )
        role_result = deliver(cloud, "iam", "AttachRolePolicy", {"roleName": ROLE, "policyArn": policy_arn})
        for result in (config_result, role_result):
            for v in result["violations"]:
                log(f"[{mode}] finding {v['severity']} {v['policy']}: {v['reason']}")
            # One line per distinct remediation (two findings on one config share one compliant copy).
            distinct: dict[tuple[str, str, str], int] = {}
            for o in result["remediations"]:
                key = (o["action"], o["status"], o["changes"][0] if o["changes"] else "")
                distinct[key] = distinct.get(key, 0) + 1
            for (action, status, change), count in distinct.items():
                covers = f" (covers {count} findings)" if count > 1 else ""
                log(f"[{mode}] remediation {action}: {status}{covers}" + (f" - {change}" if change else ""))
        facts[mode] = {
            "endpoint_config": sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"],
            "attached": [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]],
            "violations": config_result["non_compliant"] + role_result["non_compliant"],
        }
    answers = [i.result for i in cloud.runtime.invocations if i.function == "AlarmRouterFunction" and i.ok]
    routed = [r for a in answers if a for r in a.get("results", [a])]  # a Governance Findings event: many
    governance_routed = [r for r in routed if r.get("signal") == "governance-finding"]
    failed = [f for f in hub.get_findings()["Findings"] if f["Compliance"]["Status"] == "FAILED"]
    log(f"Security Hub: {len(failed)} FAILED findings; router handled {len(governance_routed)} governance findings")
    new_config = facts["enforce"]["endpoint_config"]
    described = sm.describe_endpoint_config(EndpointConfigName=new_config)
    ok = (
        facts["dry-run"]["endpoint_config"] == CONFIG
        and policy_arn in facts["dry-run"]["attached"]
        and new_config != CONFIG
        and bool(described.get("KmsKeyId"))
        and bool(described.get("DataCaptureConfig", {}).get("EnableCapture"))
        and policy_arn not in facts["enforce"]["attached"]
        and len(failed) >= 3
    )
    log(f"enforce: {ENDPOINT} moved {CONFIG} -> {new_config} (kept {CONFIG}); {WILDCARD_POLICY} detached, not deleted")
    return SceneReport(
        name="governance",
        ok=ok,
        summary=f"dry-run: findings only; enforce: compliant copy {new_config}, endpoint moved, policy detached",
        timeline=log.entries,
        facts={**facts, "security_hub_failed": len(failed), "router_events": len(governance_routed)},
    )


def _set_policies(cloud: LocalCloud, text: str) -> None:
    for logical_id in ("GovernanceFunction", "GovernanceScanWorkerFunction"):
        cloud.runtime.update_environment(
            logical_id, {"SENTINEL_GOVERNANCE_POLICIES": text, "SENTINEL_GOVERNED_ROLE_PATTERN": GOVERNED_ROLES}
        )

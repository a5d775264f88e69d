"""template.yaml pins for "nothing lost", "least privilege" and "the stack watches itself" (issues 9, 12).

Every asynchronous invocation and rule target dead-letters to a KMS queue with a depth alarm; the
buses, buckets and key grants are as narrow as the services allow; the dashboard shows only metrics
the code emits; every checkov skip says why.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sentinel_dev.local.intrinsics import Resolver
from tests.conftest import REPO
from tests.template.test_template import RESOURCES, SOURCE, TRANSLATED, _statements, of_type

FUNCTIONS = of_type("AWS::Serverless::Function")
RULES = of_type("AWS::Events::Rule", TRANSLATED)
ASYNC_EVENT_TYPES = {"EventBridgeRule", "Schedule", "ScheduleV2", "CloudWatchEvent", "S3", "SNS", "SQS", "IoTRule"}

# Functions nothing invokes asynchronously: a caller waits for the answer and owns the failure.
SYNCHRONOUS_ONLY = {
    "ScalingPlannerFunction": "Step Functions task (RequestResponse): the scale workflows' Retry/Catch handle errors",
    "ModelEvaluatorFunction": "Step Functions task (RequestResponse): the retrain workflow's Catch notifies",
    "GovernanceScanFunction": "Step Functions task (RequestResponse): the scan workflow's Catch notifies",
    "GovernanceScanWorkerFunction": "Distributed Map item processor (RequestResponse): the map run counts failures",
    "FirehoseProcessorFunction": "Firehose invokes it synchronously, retries, then writes records to firehose-errors/",
    "DeploymentPlannerFunction": "Step Functions task (RequestResponse): the deploy workflow's Catch notifies",
    "DriftDetectorFunction": "Step Functions task (RequestResponse): the drift-checks Map's per-item Catch",
}


def _refs(node: Any) -> set[str]:
    """Every logical id a node names through Ref, Fn::GetAtt or a ${...} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([A-Za-z0-9_.:]+)\}", str(text))}
            found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def _getatt(node: Any) -> str | None:
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        value = node["Fn::GetAtt"]
        return str(value[0] if isinstance(value, list) else str(value).split(".")[0])
    return None


def _kms_queue(logical_id: str | None) -> bool:
    queue = RESOURCES.get(logical_id or "", {})
    return queue.get("Type") == "AWS::SQS::Queue" and bool(queue["Properties"].get("KmsMasterKeyId"))


# ------------------------------------------------------------------------------------- nothing lost


def test_every_asynchronously_invoked_function_keeps_its_failures_in_a_kms_queue() -> None:
    covered = 0
    for logical_id, function in FUNCTIONS.items():
        props = function["Properties"]
        asynchronous = any(e["Type"] in ASYNC_EVENT_TYPES for e in props.get("Events", {}).values())
        if not asynchronous:
            assert logical_id in SYNCHRONOUS_ONLY, f"{logical_id}: no async event source: list it with a reason"
            continue
        assert logical_id not in SYNCHRONOUS_ONLY, f"{logical_id} has an asynchronous event source"
        config = props.get("EventInvokeConfig", {})
        on_failure = config.get("DestinationConfig", {}).get("OnFailure", {})
        assert on_failure.get("Type") == "SQS", f"{logical_id}: no on-failure destination"
        assert _kms_queue(_getatt(on_failure.get("Destination"))), f"{logical_id}: destination is not a KMS queue"
        assert 0 <= int(config["MaximumRetryAttempts"]) <= 2 and int(config["MaximumEventAgeInSeconds"]) >= 60
        covered += 1
    assert covered == len(FUNCTIONS) - len(SYNCHRONOUS_ONLY) >= 5


@pytest.mark.parametrize("logical_id", sorted(SYNCHRONOUS_ONLY))
def test_synchronous_only_functions_really_have_a_synchronous_caller(logical_id: str) -> None:
    callers = [
        lid
        for lid, r in RESOURCES.items()
        if r["Type"] in {"AWS::StepFunctions::StateMachine", "AWS::KinesisFirehose::DeliveryStream"}
        and logical_id in _refs(r["Properties"])
    ]
    assert callers, f"{logical_id}: no state machine or delivery stream invokes it"
    assert not FUNCTIONS[logical_id]["Properties"].get("Events"), f"{logical_id} also has event sources"


def test_every_rule_target_has_a_dead_letter_queue_and_a_retry_policy() -> None:
    targets = [(rule, target) for rule, r in RULES.items() for target in r["Properties"]["Targets"]]
    assert len(targets) >= 8
    for rule, target in targets:
        assert _kms_queue(_getatt(target.get("DeadLetterConfig", {}).get("Arn"))), f"{rule}: no KMS dead-letter queue"
        retry = target.get("RetryPolicy", {})
        assert {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"} <= set(retry), f"{rule}: no RetryPolicy"
        assert int(retry["MaximumEventAgeInSeconds"]) >= 60


def test_the_dead_letter_queue_policy_admits_exactly_the_stacks_rules_and_bus() -> None:
    policies = of_type("AWS::SQS::QueuePolicy")
    for rule, r in RULES.items():
        for target in r["Properties"]["Targets"]:
            queue = _getatt(target["DeadLetterConfig"]["Arn"])
            (policy,) = [p for p in policies.values() if {"Ref": queue} in p["Properties"]["Queues"]]
            allow = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
            sources = [a for s in allow for a in s["Condition"]["ArnEquals"]["aws:SourceArn"]]
            assert {"Fn::GetAtt": f"{rule}.Arn"} in sources or {"Fn::GetAtt": [rule, "Arn"]} in sources, rule
    bus = RESOURCES["SentinelBus"]["Properties"]
    assert _kms_queue(_getatt(bus["DeadLetterConfig"]["Arn"]))


def test_every_dead_letter_queue_has_a_depth_alarm_to_the_notification_topic() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    for queue in of_type("AWS::SQS::Queue"):
        watching = [
            a
            for a in alarms.values()
            if any(
                m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == "ApproximateNumberOfMessagesVisible"
                and queue in _refs(m["MetricStat"]["Metric"].get("Dimensions"))
                for m in a["Properties"].get("Metrics", [])
            )
        ]
        assert watching, f"{queue}: no depth alarm"
        assert all({"Ref": "NotificationTopic"} in a["Properties"]["AlarmActions"] for a in watching)


def test_router_and_firehose_processor_have_reserved_concurrency() -> None:
    for logical_id in ("AlarmRouterFunction", "FirehoseProcessorFunction"):
        reserved = FUNCTIONS[logical_id]["Properties"]["ReservedConcurrentExecutions"]
        assert "Fn::If" in reserved and reserved["Fn::If"][1]["Ref"].endswith("ReservedConcurrency")
        parameter = SOURCE.parameters[reserved["Fn::If"][1]["Ref"]]
        assert 1 <= int(parameter["Default"]) <= 20, "a default that leaves the account pool enough"


# -------------------------------------------------------------------------------- least privilege


def test_every_bucket_is_versioned_kms_encrypted_and_tls_only() -> None:
    policies = of_type("AWS::S3::BucketPolicy")
    for logical_id, bucket in of_type("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props.get("VersioningConfiguration", {}).get("Status") == "Enabled", f"{logical_id}: not versioned"
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert rule["SSEAlgorithm"] == "aws:kms" and rule.get("KMSMasterKeyID"), f"{logical_id}: not on the stack key"
        mine = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": logical_id}]
        denies = [
            s
            for p in mine
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert denies, f"{logical_id}: no TLS-only bucket policy"
        covered = {json.dumps(r, sort_keys=True) for s in denies for r in s["Resource"]}
        assert json.dumps({"Fn::GetAtt": f"{logical_id}.Arn"}, sort_keys=True) in covered or any(
            logical_id in c and "/*" not in c for c in covered
        )
        assert any(f"${{{logical_id}.Arn}}/*" in c for c in covered), f"{logical_id}: objects not covered"


def test_the_sentinel_bus_is_on_the_stack_key_and_only_the_stacks_producers_put_sentinel_signals() -> None:
    bus = RESOURCES["SentinelBus"]["Properties"]
    assert _getatt(bus["KmsKeyIdentifier"]) == "SentinelKey"
    granting = {
        owner
        for owner, s in _statements(TRANSLATED)
        if s.get("Effect") == "Allow"
        and "events:PutEvents" in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        and "SentinelBus" in _refs(s.get("Resource"))
    }
    roles = of_type("AWS::IAM::Role", TRANSLATED)
    producers = {
        lid
        for lid, role in roles.items()
        if lid in granting or granting & _refs(role["Properties"].get("ManagedPolicyArns", []))
    }
    assert len(producers) >= 3
    (policy,) = of_type("AWS::Events::EventBusPolicy").values()
    statement = policy["Properties"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Action"] == "events:PutEvents" and _getatt(statement["Resource"]) == "SentinelBus"
    assert statement["Condition"]["StringLike"]["events:source"] == "llmops.sentinel*"
    allowed = {_getatt(a) for a in statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]}
    assert allowed == producers, "every role that may PutEvents on the bus, and no other, is exempt"
    key = RESOURCES["SentinelKey"]["Properties"]["KeyPolicy"]["Statement"]
    contexts = [s["Condition"]["StringEquals"].get("kms:EncryptionContext:aws:events:event-bus:arn") for s in key
                if s.get("Condition", {}).get("StringEquals")]  # fmt: skip
    assert any(c and "event-bus/${AWS::StackName}-bus" in c["Fn::Sub"] for c in contexts)


SCOPED_ACTIONS = {
    "application-autoscaling:RegisterScalableTarget",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "kms:EnableKeyRotation",
    "kms:CancelKeyDeletion",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:TagResource",
    "kms:ScheduleKeyDeletion",
    "iam:DetachRolePolicy",
}


def _identity_statements() -> list[tuple[str, dict[str, Any]]]:
    return [(o, s) for o, s in _statements(TRANSLATED) if TRANSLATED[o]["Type"] != "AWS::KMS::Key"]


@pytest.mark.parametrize(
    ("owner", "statement"),
    [
        (o, s)
        for o, s in _identity_statements()
        if SCOPED_ACTIONS & set([s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", []))
    ],
    ids=lambda v: v if isinstance(v, str) else v.get("Sid", ""),
)
def test_autoscaling_endpoint_and_key_changes_are_limited_to_what_the_stack_watches(
    owner: str, statement: dict[str, Any]
) -> None:
    actions = {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert "*" not in resources, f"{owner}: {actions & SCOPED_ACTIONS} on *"
    texts = [json.dumps(r) for r in resources]
    condition = statement.get("Condition", {}).get("StringEquals", {})
    if any(a.startswith("application-autoscaling:") for a in actions):
        assert condition.get("application-autoscaling:service-namespace") == "sagemaker"
        assert condition.get("application-autoscaling:scalable-dimension") == "sagemaker:variant:DesiredInstanceCount"
        assert condition.get("aws:ResourceTag/sentinel:stack") == {"Ref": "AWS::StackName"}
    if actions & {"sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"}:
        # endpoints by the stack tag (tests/template/test_iam_by_tag.py); a config-only statement is the
        # target of the move, bounded by the endpoint statement beside it
        assert all(":endpoint/" in t or ":endpoint-config/" in t for t in texts), texts
        if any(":endpoint/" in t for t in texts):
            assert condition.get("aws:ResourceTag/sentinel:stack") == {"Ref": "AWS::StackName"}, texts
    if any(a.startswith("kms:") for a in actions):
        assert all("SentinelKey" in t for t in texts) or condition.get("aws:ResourceTag/sentinel:governed") == "true"


def test_describe_scalable_targets_is_the_only_autoscaling_call_on_star() -> None:
    for owner, s in _identity_statements():
        actions = [s["Action"]] if isinstance(s.get("Action"), str) else s.get("Action", [])
        if any(a.startswith("application-autoscaling:") for a in actions) and s.get("Resource") == "*":
            assert actions == ["application-autoscaling:DescribeScalableTargets"], owner  # no resource-level support


def test_governed_role_pattern_has_no_star_default_and_empty_grants_no_detaching() -> None:
    parameter = SOURCE.parameters["GovernedRolePattern"]
    assert parameter["Default"] == "" and re.fullmatch(parameter["AllowedPattern"], "")
    (remediate,) = [r for lid, r in RESOURCES.items() if lid == "GovernanceReportAndRemediatePolicy"]
    statements = remediate["Properties"]["PolicyDocument"]["Statement"]
    (conditional,) = [s for s in statements if "Fn::If" in s]
    name, when_set, when_empty = conditional["Fn::If"]
    assert RESOURCES and name == "DetachingEnabled" and when_empty == {"Ref": "AWS::NoValue"}
    assert "iam:DetachRolePolicy" in when_set["Action"]
    assert not [s for s in statements if "Fn::If" not in s and "iam:DetachRolePolicy" in s.get("Action", [])]
    for logical_id, function in FUNCTIONS.items():
        if {"Ref": "GovernanceReportAndRemediatePolicy"} in function["Properties"].get("Policies", []):
            env = function["Properties"]["Environment"]["Variables"]
            assert env["SENTINEL_GOVERNED_ROLE_PATTERN"] == {"Ref": "GovernedRolePattern"}, logical_id


def test_every_checkov_skip_names_a_check_and_says_why() -> None:
    skips = [
        (lid, skip)
        for lid, r in RESOURCES.items()
        for skip in (r.get("Metadata", {}).get("checkov", {}) or {}).get("skip", [])
    ]
    assert skips, "the template documents its checkov exceptions"
    for logical_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), f"{logical_id}: {skip}"
        assert len(str(skip.get("comment", "")).strip()) >= 15, f"{logical_id}: {skip['id']} has no reason"


# ---------------------------------------------------------------------------- the stack watches itself


def _resolved_dashboard() -> dict[str, Any]:
    (dashboard,) = of_type("AWS::CloudWatch::Dashboard").values()
    resolver = Resolver(lambda name: f"ref:{name}", lambda lid, attr: f"{lid}.{attr}", conditions={})
    body: dict[str, Any] = json.loads(resolver.resolve(dashboard["Properties"]["DashboardBody"]))
    return body


_SEARCH = re.compile(
    r"SEARCH\('\{(?P<schema>[^}]+)\}\s+MetricName=\"(?P<name>\w+)\"',\s*'(?P<stat>\w+)',\s*(?P<period>\d+)\)"
)


@dataclass(frozen=True)
class Plotted:
    """One dashboard line: a metric with its exact dimension set, pinned to values or, for a SEARCH
    expression, every series of that schema (every endpoint the stack publishes for)."""

    namespace: str
    name: str
    dimensions: frozenset[str]
    pinned: dict[str, str] | None
    """Dimension -> value of a plain line; None for a SEARCH over the whole schema."""


def dashboard_lines(body: dict[str, Any] | None = None) -> list[Plotted]:
    plotted: list[Plotted] = []
    for widget in (body or _resolved_dashboard())["widgets"]:
        for line in widget["properties"].get("metrics", []):
            if isinstance(line[0], dict):
                found = _SEARCH.fullmatch(line[0]["expression"])
                assert found, f"not a SEARCH this test reads: {line[0]['expression']}"
                namespace, *dims = found["schema"].split(",")
                plotted.append(Plotted(namespace, found["name"], frozenset(dims), None))
                continue
            pairs = [x for x in line[2:] if not isinstance(x, dict)]
            pinned = dict(zip(pairs[::2], pairs[1::2], strict=True))
            plotted.append(Plotted(line[0], line[1], frozenset(pinned), pinned))
    return plotted


def emitted_metric_names() -> set[str]:
    """Metric names the handlers and the layer publish (EMF through Powertools), read from the code."""
    names: set[str] = set()
    for path in [*Path(REPO / "functions").rglob("*.py"), *Path(REPO / "layers" / "core").rglob("*.py")]:
        text = path.read_text()
        names |= set(re.findall(r"(?:add_metric|single_metric)\(\s*name=\"(\w+)\"", text))
        names |= set(re.findall(r"\(\"(\w+)\", MetricUnit\.", text))  # name tables, e.g. the Firehose processor's
        names |= set(re.findall(r"@rejects_bad_input\([^)]*metric=\"(\w+)\"", text))  # the rejection decorator's
        for pair in re.findall(r"name=\"(\w+)\" if [^,]+ else \"(\w+)\"", text):  # one of two names
            names |= set(pair)
        if 'name=f"Router{' in text:
            from llmops_sentinel.services import remediation

            names |= {f"Router{s.title().replace('-', '')}" for s in typing.get_args(remediation.Outcome)}
    return names


AWS_METRICS = {
    "AWS/Lambda": {"Errors", "Throttles", "Invocations", "Duration", "ConcurrentExecutions"},
    "AWS/States": {
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
        "ExecutionThrottled",
    },
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
    "AWS/SageMaker": {"ModelLatency", "Invocations", "Invocation4XXErrors", "Invocation5XXErrors"},
}


def test_the_dashboard_body_is_json_and_shows_only_metrics_that_exist() -> None:
    body = _resolved_dashboard()
    emitted = emitted_metric_names()
    assert {"DriftScore", "RouterStarted", "GovernanceFindings", "LatencyRegressionScore", "CostUsd"} <= emitted
    shown: set[tuple[str, str]] = set()
    for line in dashboard_lines(body):
        shown.add((line.namespace, line.name))
        if line.namespace == "LLMOpsSentinel":
            assert line.name in emitted, f"dashboard shows {line.name}, which no code emits"
        else:
            assert line.name in AWS_METRICS[line.namespace], f"{line.namespace} {line.name}"
        # The fleet: a per-endpoint line is a SEARCH over every endpoint, never pinned to one parameter.
        assert "EndpointName" not in line.dimensions or line.pinned is None, f"{line.name} plots one endpoint"
    for needed in [("LLMOpsSentinel", "DriftScore"), ("AWS/SageMaker", "ModelLatency"),
                   ("LLMOpsSentinel", "LatencyRegressionScore"), ("LLMOpsSentinel", "RouterStarted"),
                   ("AWS/States", "ExecutionsSucceeded"), ("LLMOpsSentinel", "GovernanceFindings"),
                   ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Throttles"),
                   ("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/States", "ExecutionsFailed"),
                   ("LLMOpsSentinel", "CostPer1kInputTokensUsd"), ("LLMOpsSentinel", "CostPer1kOutputTokensUsd"),
                   ("LLMOpsSentinel", "CostUsd"), ("LLMOpsSentinel", "IdleCostUsd"),
                   ("LLMOpsSentinel", "CostUnpriced")]:  # fmt: skip
        assert needed in shown, f"dashboard lacks {needed}"


def test_every_function_and_state_machine_has_a_health_alarm_to_the_notification_topic() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")

    def watched(namespace: str, metric: str) -> set[str]:
        return {
            ref
            for a in alarms.values()
            if {"Ref": "NotificationTopic"} in a["Properties"].get("AlarmActions", [])
            for m in a["Properties"].get("Metrics", [])
            if m.get("MetricStat", {}).get("Metric", {}).get("Namespace") == namespace
            and m["MetricStat"]["Metric"]["MetricName"] == metric
            for ref in _refs(m["MetricStat"]["Metric"].get("Dimensions"))
        }

    functions = set(FUNCTIONS)
    machines = set(of_type("AWS::StepFunctions::StateMachine"))
    assert functions <= watched("AWS/Lambda", "Errors") and functions <= watched("AWS/Lambda", "Throttles")
    assert machines <= watched("AWS/States", "ExecutionsFailed")
    assert machines <= watched("AWS/States", "ExecutionsTimedOut")
    for logical_id, alarm in alarms.items():
        name = json.dumps(alarm["Properties"].get("AlarmName"))
        if ".health." in name:  # never routed to remediation: the router listens to "<stack>-" alarms only
            assert not name.startswith('{"Fn::Sub": "${AWS::StackName}-'), logical_id


def test_the_services_that_write_to_the_kms_queues_may_use_the_stack_key() -> None:
    """Lambda sends on-failure records with the function's role; EventBridge with its service principal."""
    roles = of_type("AWS::IAM::Role", TRANSLATED)
    for logical_id, function in FUNCTIONS.items():
        if not function["Properties"].get("EventInvokeConfig"):
            continue
        role = roles[f"{logical_id}Role"]
        granting = {o for o, _ in _statements(TRANSLATED)} & _refs(role["Properties"].get("ManagedPolicyArns", []))
        statements = [s for o, s in _statements(TRANSLATED) if o == f"{logical_id}Role" or o in granting]
        assert any(
            s["Effect"] == "Allow" and "kms:GenerateDataKey" in s["Action"] and "SentinelKey" in _refs(s["Resource"])
            for s in statements
        ), f"{logical_id}: cannot encrypt its on-failure record"
    key = RESOURCES["SentinelKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"].get("Service")
        and "events.amazonaws.com" in s["Principal"]["Service"]
        and {"kms:GenerateDataKey", "kms:Decrypt"} <= set(s["Action"])
        and s["Condition"]["StringEquals"].get("aws:SourceAccount") == {"Ref": "AWS::AccountId"}
        for s in key
        if isinstance(s.get("Principal"), dict) and s.get("Condition")
    ), "EventBridge cannot write dead letters to the KMS queue"


def test_state_machine_execution_data_is_on_the_stack_key() -> None:
    """Plain AWS::StepFunctions::StateMachine resources (SAM's cannot carry EncryptionConfiguration,
    aws/serverless-application-model#3925); each role may use the key for its own state machine only."""
    machines = of_type("AWS::StepFunctions::StateMachine", TRANSLATED)
    assert len(machines) == 7  # the five workflows, the governance scan, the drift checks
    roles = of_type("AWS::IAM::Role", TRANSLATED)
    for logical_id, machine in machines.items():
        config = machine["Properties"].get("EncryptionConfiguration", {})
        assert config.get("Type") == "CUSTOMER_MANAGED_KMS_KEY", logical_id
        assert config.get("KmsKeyId") == {"Fn::GetAtt": ["SentinelKey", "Arn"]}, logical_id
        role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        grants = [
            s
            for p in roles[role_id]["Properties"]["Policies"]
            for s in p["PolicyDocument"]["Statement"]
            if "kms:EncryptionContext:aws:states:stateMachineArn" in json.dumps(s.get("Condition", {}))
        ]
        assert grants and {"kms:GenerateDataKey", "kms:Decrypt"} <= set(grants[0]["Action"]), logical_id

"""Create template.yaml's resources in moto: a small CloudFormation for the types this project uses.

Each resource type has one creator, registered with :func:`creator`. Creators get the resolved
properties and return the resource's ``Ref`` value and attributes (for ``Fn::GetAtt``). Types with
no creator are recorded in :attr:`Stack.not_emulated` (and shown by ``sentinel demo``), never
silently dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops_sentinel.errors import TemplateError
from sentinel_dev.local.intrinsics import Resolver, references
from sentinel_dev.local.template import SourceTemplate

PARTITION = "aws"


@dataclass
class Created:
    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionSpec:
    """What the local Lambda runtime needs to run a function as template.yaml defines it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    environment: dict[str, str]
    timeout: int
    memory_mb: int
    on_failure: str | None = None
    """SQS queue ARN of the function's asynchronous on-failure destination (EventInvokeConfig)."""


@dataclass
class StackContext:
    """What creators may use: clients on the local cloud, names, and the template's code dirs."""

    stack_name: str
    region: str
    account_id: str
    clients: Callable[[str], Any]
    source: SourceTemplate
    functions: list[FunctionSpec] = field(default_factory=list)

    def physical_name(self, logical_id: str, max_length: int = 64) -> str:
        """CloudFormation-style generated name: stack-logical-suffix, deterministic here."""
        suffix = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:12].upper()
        head = f"{self.stack_name}-{logical_id}"[: max_length - len(suffix) - 1]
        return f"{head}-{suffix}"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{self.account_id}:{resource}"


Creator = Callable[[StackContext, str, dict[str, Any]], Created]
_CREATORS: dict[str, Creator] = {}


def creator(resource_type: str) -> Callable[[Creator], Creator]:
    def register(fn: Creator) -> Creator:
        _CREATORS[resource_type] = fn
        return fn

    return register


@dataclass
class Stack:
    name: str
    resources: dict[str, Created]
    resource_types: dict[str, str]
    functions: dict[str, FunctionSpec]
    not_emulated: dict[str, str]
    outputs: dict[str, Any]
    parameters: dict[str, str]

    def ref(self, logical_id: str) -> str:
        return self.resources[logical_id].ref

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.resources[logical_id].attributes[name]

    def function(self, logical_id: str) -> FunctionSpec:
        try:
            return self.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise TemplateError(f"template.yaml has no function {logical_id!r} (functions: {known})") from None


def _parameter_values(source: SourceTemplate, overrides: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    unknown = set(overrides) - set(source.parameters)
    if unknown:
        raise TemplateError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
    for name, spec in source.parameters.items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in spec:
            default = spec["Default"]
            values[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        else:
            raise TemplateError(f"template parameter {name} has no default and no value was given")
    return values


def _order(resources: dict[str, Any]) -> list[str]:
    """Dependency order (Ref, GetAtt, Sub variables, DependsOn); a cycle is a TemplateError."""
    deps: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        found = references(resource.get("Properties", {}))
        depends_on = resource.get("DependsOn", [])
        found |= set([depends_on] if isinstance(depends_on, str) else depends_on)
        deps[logical_id] = {name for name in found if name in resources}
    ordered: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            raise TemplateError(f"dependency cycle through {node}")
        visiting.add(node)
        for dep in sorted(deps[node]):
            visit(dep)
        visiting.discard(node)
        done.add(node)
        ordered.append(node)

    for logical_id in resources:
        visit(logical_id)
    return ordered


def provision(
    translated: dict[str, Any],
    ctx: StackContext,
    parameter_overrides: dict[str, str] | None = None,
) -> Stack:
    params = _parameter_values(ctx.source, parameter_overrides or {})
    pseudo = {
        "AWS::StackName": ctx.stack_name,
        "AWS::Region": ctx.region,
        "AWS::AccountId": ctx.account_id,
        "AWS::Partition": PARTITION,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackId": ctx.arn("cloudformation", f"stack/{ctx.stack_name}/local"),
    }
    created: dict[str, Created] = {}
    resources: dict[str, Any] = translated["Resources"]

    def ref(name: str) -> Any:
        if name in pseudo:
            return pseudo[name]
        if name in params:
            return params[name]
        if name in created:
            return created[name].ref
        raise TemplateError(f"Ref to unknown or not-yet-created {name!r}")

    def getatt(logical_id: str, attribute: str) -> Any:
        try:
            return created[logical_id].attributes[attribute]
        except KeyError:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not available locally") from None

    resolver = Resolver(ref, getatt, conditions={})
    resolver = Resolver(ref, getatt, conditions=_conditions(translated, resolver))
    not_emulated: dict[str, str] = {}
    types: dict[str, str] = {}
    for logical_id in _order(resources):
        resource = resources[logical_id]
        kind = resource["Type"]
        condition = resource.get("Condition")
        if condition and not resolver.resolve({"Condition": condition}):
            continue  # not created: not listed either (the alarm evaluator and others look each one up)
        types[logical_id] = kind
        make = _CREATORS.get(kind)
        if make is None:
            not_emulated[logical_id] = kind
            created[logical_id] = Created(ref=logical_id)
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        try:
            created[logical_id] = make(ctx, logical_id, props)
        except TemplateError:
            raise
        except Exception as exc:
            raise TemplateError(f"creating {logical_id} ({kind}) in the local cloud failed: {exc}") from exc
    outputs = {name: resolver.resolve(spec.get("Value")) for name, spec in translated.get("Outputs", {}).items()}
    return Stack(
        name=ctx.stack_name,
        resources=created,
        resource_types=types,
        functions={spec.logical_id: spec for spec in ctx.functions},
        not_emulated=not_emulated,
        outputs=outputs,
        parameters=params,
    )


def _conditions(translated: dict[str, Any], resolver: Resolver) -> dict[str, bool]:
    return {name: bool(resolver.resolve(body)) for name, body in translated.get("Conditions", {}).items()}


# --------------------------------------------------------------------------- creators


def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
    tags = props.get("Tags") or []
    if isinstance(tags, dict):
        return [{"Key": k, "Value": str(v)} for k, v in tags.items()]
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in tags]


@creator("AWS::KMS::Key")
def _kms_key(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    kms = ctx.clients("kms")
    args: dict[str, Any] = {"Description": props.get("Description", logical_id)}
    if "KeyPolicy" in props:
        args["Policy"] = json.dumps(props["KeyPolicy"])
    if props.get("Tags"):
        args["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags(props)]
    meta = kms.create_key(**args)["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=meta["KeyId"])
    return Created(ref=meta["KeyId"], attributes={"Arn": meta["Arn"], "KeyId": meta["KeyId"]})


@creator("AWS::KMS::Alias")
def _kms_alias(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    ctx.clients("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return Created(ref=props["AliasName"])


@creator("AWS::Events::EventBus")
def _event_bus(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    args: dict[str, Any] = {"Name": props["Name"]}
    for key in ("Description", "KmsKeyIdentifier", "DeadLetterConfig"):
        if props.get(key):
            args[key] = props[key]
    arn = ctx.clients("events").create_event_bus(**args)["EventBusArn"]
    return Created(ref=props["Name"], attributes={"Arn": arn, "Name": props["Name"]})


@creator("AWS::Events::Rule")
def _event_rule(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    events = ctx.clients("events")
    name = props.get("Name") or ctx.physical_name(logical_id)
    bus = props.get("EventBusName", "default")
    args: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        args["EventPattern"] = json.dumps(props["EventPattern"])
    if "ScheduleExpression" in props:
        args["ScheduleExpression"] = props["ScheduleExpression"]
    arn = events.put_rule(**args)["RuleArn"]
    targets = []
    for target in props.get("Targets", []):
        entry = {
            k: v
            for k, v in target.items()
            if k in {"Id", "Arn", "Input", "InputPath", "InputTransformer", "DeadLetterConfig", "RetryPolicy"}
        }
        if "RetryPolicy" in entry:
            entry["RetryPolicy"] = {k: int(v) for k, v in entry["RetryPolicy"].items()}
        if isinstance(entry.get("InputTransformer", {}).get("InputPathsMap"), dict):
            entry["InputTransformer"] = dict(entry["InputTransformer"])
        targets.append(entry)
    if targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    return Created(ref=name, attributes={"Arn": arn})


@creator("AWS::SNS::Topic")
def _sns_topic(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("TopicName") or ctx.physical_name(logical_id, 256)
    attributes = {}
    if props.get("KmsMasterKeyId"):
        attributes["KmsMasterKeyId"] = props["KmsMasterKeyId"]
    arn = ctx.clients("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
    return Created(ref=arn, attributes={"TopicArn": arn, "TopicName": name})


@creator("AWS::SQS::Queue")
def _sqs_queue(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    sqs = ctx.clients("sqs")
    name = props.get("QueueName") or ctx.physical_name(logical_id, 80)
    attributes = {
        k: str(v)
        for k, v in props.items()
        if k in {"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "MessageRetentionPeriod", "VisibilityTimeout"}
    }
    tags = {t["Key"]: t["Value"] for t in _tags(props)}
    url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=tags)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Created(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


_ALARM_KEYS = {
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
}
_ALARM_NUMBERS = {"Period": int, "EvaluationPeriods": int, "DatapointsToAlarm": int, "Threshold": float}


@creator("AWS::CloudWatch::Alarm")
def _alarm(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    args = {k: v for k, v in props.items() if k in _ALARM_KEYS}
    args.setdefault("AlarmName", ctx.physical_name(logical_id, 255))
    for key, cast in _ALARM_NUMBERS.items():
        if key in args:
            args[key] = cast(args[key])
    ctx.clients("cloudwatch").put_metric_alarm(**args)
    name = args["AlarmName"]
    return Created(ref=name, attributes={"Arn": ctx.arn("cloudwatch", f"alarm:{name}")})


@creator("AWS::Logs::LogGroup")
def _log_group(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("LogGroupName") or f"/sentinel/{ctx.physical_name(logical_id)}"
    args: dict[str, Any] = {"logGroupName": name}
    if props.get("KmsKeyId"):
        args["kmsKeyId"] = props["KmsKeyId"]
    logs = ctx.clients("logs")
    logs.create_log_group(**args)
    if props.get("RetentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return Created(ref=name, attributes={"Arn": ctx.arn("logs", f"log-group:{name}:*")})


@creator("AWS::IAM::Role")
def _iam_role(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    iam = ctx.clients("iam")
    name = props.get("RoleName") or ctx.physical_name(logical_id)
    role = iam.create_role(
        RoleName=name,
        Path=props.get("Path", "/"),
        AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        Tags=_tags(props),
    )["Role"]
    for policy in props.get("Policies", []):
        # SAM's policy templates omit "Version"; IAM accepts that, moto does not. Same statements.
        document = {"Version": "2012-10-17", **policy["PolicyDocument"]}
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=json.dumps(document))
    for managed_arn in props.get("ManagedPolicyArns", []):
        # moto does not load every AWS managed policy; the ARN stays in the template.
        with contextlib.suppress(iam.exceptions.NoSuchEntityException):
            iam.attach_role_policy(RoleName=name, PolicyArn=managed_arn)
    return Created(ref=name, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})


@creator("AWS::IAM::ManagedPolicy")
def _managed_policy(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    # Created so roles can attach it (Ref = the policy ARN); IAM is not enforced locally.
    name = props.get("ManagedPolicyName") or ctx.physical_name(logical_id, 128)
    arn = ctx.clients("iam").create_policy(
        PolicyName=name, Path=props.get("Path", "/"), PolicyDocument=json.dumps(props["PolicyDocument"])
    )["Policy"]["Arn"]
    return Created(ref=arn, attributes={"PolicyArn": arn})


def _placeholder_zip() -> bytes:
    """Code moto stores for a function; the real code runs in-process from the template's CodeUri."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Runs in-process from template.yaml's CodeUri (sentinel_dev.local).\n")
    return buffer.getvalue()


@creator("AWS::Lambda::LayerVersion")
def _layer(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("LayerName") or ctx.physical_name(logical_id)
    arn = ctx.clients("lambda").publish_layer_version(
        LayerName=name,
        Content={"ZipFile": _placeholder_zip()},
        CompatibleRuntimes=props.get("CompatibleRuntimes", []),
    )["LayerVersionArn"]
    return Created(ref=arn, attributes={"LayerVersionArn": arn})


@creator("AWS::Lambda::Function")
def _function(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("FunctionName") or ctx.physical_name(logical_id)
    environment = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
    arn = ctx.clients("lambda").create_function(
        FunctionName=name,
        Runtime=props.get("Runtime", "python3.12"),
        Role=props["Role"],
        Handler=props["Handler"],
        Code={"ZipFile": _placeholder_zip()},
        Timeout=int(props.get("Timeout", 3)),
        MemorySize=int(props.get("MemorySize", 128)),
        Environment={"Variables": environment},
    )["FunctionArn"]
    code_dir = ctx.source.code_dirs.get(logical_id)
    if code_dir is None:
        raise TemplateError(f"{logical_id}: CodeUri must be a local folder for the local cloud")
    ctx.functions.append(
        FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=props["Handler"],
            code_dir=code_dir,
            environment=environment,
            timeout=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )
    )
    return Created(ref=name, attributes={"Arn": arn})


@creator("Custom::FleetDiscovery")
def _fleet_discovery(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    # A CloudFormation Create request to the ServiceToken function, its reply PUT captured locally.
    from sentinel_dev.local.custom_resources import create

    return create(ctx, logical_id, "Custom::FleetDiscovery", props)


@creator("AWS::Lambda::Permission")
def _permission(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    # Resource policies are not enforced locally; recorded so the template's shape stays visible.
    return Created(ref=logical_id)


@creator("AWS::StepFunctions::StateMachine")
def _state_machine(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    definition = props.get("DefinitionString")
    if definition is None and "Definition" in props:
        definition = json.dumps(props["Definition"])
    if definition is None:
        raise TemplateError(f"{logical_id}: no Definition/DefinitionString")
    for key, value in (props.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    try:
        json.loads(definition)
    except ValueError as exc:
        raise TemplateError(f"{logical_id}: definition is not valid JSON after substitution: {exc}") from exc
    name = props.get("StateMachineName") or ctx.physical_name(logical_id, 80)
    arn = ctx.clients("stepfunctions").create_state_machine(
        name=name, definition=definition, roleArn=props["RoleArn"], type=props.get("StateMachineType", "STANDARD")
    )["stateMachineArn"]
    return Created(ref=arn, attributes={"Arn": arn, "Name": name})


_SSE_KEYS = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}  # CloudFormation -> API


@creator("AWS::S3::Bucket")
def _bucket(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    s3 = ctx.clients("s3")
    name = props.get("BucketName") or ctx.physical_name(logical_id, 63).lower()
    s3.create_bucket(Bucket=name)
    encryption = props.get("BucketEncryption")
    if encryption:  # CloudFormation's list is the API's "Rules"
        rules = [
            {_SSE_KEYS.get(k, k): v for k, v in r.items()} for r in encryption["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if props.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if props.get("VersioningConfiguration"):
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]}
        )
    lifecycle = [
        {
            "ID": rule.get("Id", f"rule{index}"),
            "Status": rule.get("Status", "Enabled"),
            "Filter": {"Prefix": rule.get("Prefix", "")},
            **({"Expiration": {"Days": int(rule["ExpirationInDays"])}} if "ExpirationInDays" in rule else {}),
            **({"Expiration": {"ExpiredObjectDeleteMarker": True}} if rule.get("ExpiredObjectDeleteMarker") else {}),
            **(
                {"NoncurrentVersionExpiration": {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}}
                if (noncurrent := rule.get("NoncurrentVersionExpiration"))
                else {}
            ),
            **(
                {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": int(abort["DaysAfterInitiation"])}}
                if (abort := rule.get("AbortIncompleteMultipartUpload"))
                else {}
            ),
        }
        for index, rule in enumerate(props.get("LifecycleConfiguration", {}).get("Rules", []))
    ]
    if lifecycle:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle})
    notification = props.get("NotificationConfiguration", {}).get("EventBridgeConfiguration")
    if notification is not None:
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    return Created(
        ref=name,
        attributes={
            "Arn": f"arn:{PARTITION}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        },
    )


@creator("AWS::DynamoDB::Table")
def _table(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    ddb = ctx.clients("dynamodb")
    name = props.get("TableName") or ctx.physical_name(logical_id, 255)
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        sse = props["SSESpecification"]
        args["SSESpecification"] = {
            "Enabled": True,
            "SSEType": sse.get("SSEType", "KMS"),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if sse.get("KMSMasterKeyId") else {}),
        }
    table = ddb.create_table(**args)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        ddb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return Created(ref=name, attributes={"Arn": table["TableArn"]})


@creator("AWS::S3::BucketPolicy")
def _bucket_policy(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    # Recorded, not applied: moto evaluates bucket policies, and the local server speaks plain HTTP,
    # which a TLS-only policy (aws:SecureTransport false -> Deny) refuses. IAM is not enforced locally either.
    json.dumps(props["PolicyDocument"])  # still must be a JSON document
    return Created(ref=logical_id)


@creator("AWS::Logs::LogStream")
def _log_stream(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("LogStreamName") or ctx.physical_name(logical_id)
    ctx.clients("logs").create_log_stream(logGroupName=props["LogGroupName"], logStreamName=name)
    return Created(ref=name)


_FIREHOSE_DESTINATIONS = ("ExtendedS3DestinationConfiguration", "S3DestinationConfiguration")


@creator("AWS::KinesisFirehose::DeliveryStream")
def _delivery_stream(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    """moto stores the stream and its destination; it never calls the processor (local/firehose.py does)."""
    name = props.get("DeliveryStreamName") or ctx.physical_name(logical_id, 64)
    args: dict[str, Any] = {
        "DeliveryStreamName": name,
        "DeliveryStreamType": props.get("DeliveryStreamType", "DirectPut"),
        **{key: props[key] for key in _FIREHOSE_DESTINATIONS if key in props},
    }
    if props.get("DeliveryStreamEncryptionConfigurationInput"):
        args["DeliveryStreamEncryptionConfigurationInput"] = props["DeliveryStreamEncryptionConfigurationInput"]
    arn = ctx.clients("firehose").create_delivery_stream(**args)["DeliveryStreamARN"]
    return Created(ref=name, attributes={"Arn": arn})


# ------------------------------------------------------------------ operations: dead letters, policies, dashboard


@creator("AWS::SQS::QueuePolicy")
def _queue_policy(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    # Stored on each queue (moto does not enforce queue policies; the document is kept for inspection).
    policy = json.dumps({"Version": "2012-10-17", **props["PolicyDocument"]})
    for url in props["Queues"]:
        ctx.clients("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    return Created(ref=logical_id)


@creator("AWS::Events::EventBusPolicy")
def _bus_policy(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    # Stored on the bus (moto does not evaluate bus policies: forged events are still delivered locally).
    statement = {"Sid": props["StatementId"], **props["Statement"]}
    ctx.clients("events").put_permission(
        EventBusName=props.get("EventBusName", "default"),
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    return Created(ref=props["StatementId"])


@creator("AWS::Lambda::EventInvokeConfig")
def _event_invoke_config(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    """Stored in moto, and the on-failure queue given to the local runtime (lambdas.py), which sends
    failed asynchronous (rule-delivered) invocations there as Lambda does."""
    name = props["FunctionName"]
    config: dict[str, Any] = {"FunctionName": name, "Qualifier": props.get("Qualifier", "$LATEST")}
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if key in props:
            config[key] = int(props[key])
    destinations = props.get("DestinationConfig") or {}
    if destinations:
        config["DestinationConfig"] = destinations
    ctx.clients("lambda").put_function_event_invoke_config(**config)
    on_failure = (destinations.get("OnFailure") or {}).get("Destination")
    for index, spec in enumerate(ctx.functions):
        if name in (spec.name, spec.arn):
            ctx.functions[index] = dataclasses.replace(spec, on_failure=on_failure)
            break
    else:
        raise TemplateError(f"{logical_id}: no function {name!r} in the local cloud")
    return Created(ref=logical_id)


@creator("AWS::CloudWatch::Dashboard")
def _dashboard(ctx: StackContext, logical_id: str, props: dict[str, Any]) -> Created:
    name = props.get("DashboardName") or ctx.physical_name(logical_id, 255)
    body = props["DashboardBody"]
    try:
        json.loads(body)
    except ValueError as exc:
        raise TemplateError(f"{logical_id}: DashboardBody is not JSON after substitution: {exc}") from exc
    ctx.clients("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
    return Created(ref=name)

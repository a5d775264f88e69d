"""template.yaml pins for an organisation-wide deployment (issue 11; docs/multi-account.md).

One StackSet puts the same template, under the same stack name, into many accounts and regions. That
works only if nothing in it is named globally (S3 bucket names are global, IAM names are global to the
account across regions), every other explicit name carries the stack name, nothing is hard-coded to
one account, region or partition, and no per-account step is forced on the operator (the e-mail
subscription is optional: one confirmation per account otherwise). Findings stay in each member
account's own Security Hub product, which the delegated administrator aggregates.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.template.test_template import RESOURCES, SOURCE, TEMPLATE, TRANSLATED

#: Explicit names that are global (S3) or shared by all regions of an account (IAM).
GLOBAL_NAMES = {"BucketName", "RoleName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName"}
#: Explicit regional names: unique per account and region only if they carry the stack name.
REGIONAL_NAMES = {
    "AliasName",
    "AlarmName",
    "DashboardName",
    "DeliveryStreamName",
    "LayerName",
    "LogGroupName",
    "Name",
    "QueueName",
    "StateMachineName",
    "TableName",
    "TopicName",
}
NAMED_TYPES_WITH_NAME = {"AWS::Events::EventBus", "AWS::Events::Rule"}


def _names(resources: dict[str, Any]) -> list[tuple[str, str, Any]]:
    out = []
    for lid, r in resources.items():
        for key, value in (r.get("Properties") or {}).items():
            if key in GLOBAL_NAMES or (key in REGIONAL_NAMES and (key != "Name" or r["Type"] in NAMED_TYPES_WITH_NAME)):
                out.append((lid, key, value))
    return out


@pytest.mark.parametrize("resources", [RESOURCES, TRANSLATED], ids=["source", "translated"])
def test_nothing_is_named_globally(resources: dict[str, Any]) -> None:
    assert [(lid, key) for lid, key, _ in _names(resources) if key in GLOBAL_NAMES] == []


def test_every_explicit_name_carries_the_stack_name() -> None:
    named = [(lid, key, v) for lid, key, v in _names(RESOURCES) if key in REGIONAL_NAMES]
    assert len(named) > 20  # the log groups, alarms, bus, topic, queues, machines, stream, layer, alias
    own = [(lid, key, v) for lid, key, v in named if not (isinstance(v, dict) and {"Ref", "Fn::GetAtt"} & set(v))]
    missing = [(lid, key) for lid, key, v in own if "${AWS::StackName}" not in json.dumps(v)]
    assert missing == []


def test_no_account_region_or_partition_is_hard_coded() -> None:
    text = TEMPLATE.read_text()
    assert not re.findall(r"\b\d{12}\b", text)
    assert not re.findall(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", text)
    assert "arn:aws:" not in text and "arn:aws-" not in text  # ${AWS::Partition} everywhere


def test_the_email_subscription_is_optional_and_off_by_default() -> None:
    """A StackSet with AlarmEmail set would send one confirmation per account and region."""
    assert SOURCE.parameters["AlarmEmail"]["Default"] == ""
    subscriptions = {lid: r for lid, r in RESOURCES.items() if r["Type"] == "AWS::SNS::Subscription"}
    assert subscriptions and all(r.get("Condition") == "HasAlarmEmail" for r in subscriptions.values())
    assert SOURCE.raw["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def test_findings_go_to_the_member_accounts_own_security_hub_product() -> None:
    """The delegated administrator aggregates member findings; no cross-account write is needed."""
    statements = RESOURCES["GovernanceReportAndRemediatePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (hub,) = [s for s in statements if "securityhub:BatchImportFindings" in json.dumps(s.get("Action", ""))]
    product = "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default"
    assert hub["Resource"] == {"Fn::Sub": product}
    securityhub = {
        a
        for r in TRANSLATED.values()
        for a in re.findall(r'"(securityhub:[A-Za-z]+)"', json.dumps(r.get("Properties", {})))
    }
    assert securityhub == {"securityhub:BatchImportFindings"}


def test_the_only_transform_is_sam() -> None:
    """StackSets with service-managed permissions reject templates that use macros: the SAM transform
    is expanded once (a change set's processed template, docs/multi-account.md); nothing else needs it."""
    assert SOURCE.raw["Transform"] == "AWS::Serverless-2016-10-31"
    assert "Fn::Transform" not in TEMPLATE.read_text() and "AWS::Include" not in TEMPLATE.read_text()
    assert "Transform" not in TRANSLATED and all(not t.startswith("AWS::Serverless") for t in _types())


def _types() -> set[str]:
    return {r["Type"] for r in TRANSLATED.values()}


#: AWS's length limits of the explicit names (characters).
NAME_LIMITS = {
    "QueueName": 80,
    "DeliveryStreamName": 64,
    "StateMachineName": 80,
    "LayerName": 140,
    "AliasName": 256,
    "AlarmName": 255,
    "DashboardName": 255,
    "LogGroupName": 512,
    "TopicName": 256,
    "Name": 256,
}
#: A StackSet names each stack instance StackSet-<stack set name>-<36-character id>.
STACKSET_STACK = "StackSet-sentinel-" + "0" * 8 + "-0000-0000-0000-" + "0" * 12
LONGEST_PARAMETER = "x" * 63  # EndpointName and VariantName (SageMaker's limit)


def _render(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        text = text[0] if isinstance(text, list) else text
    elif isinstance(value, str):
        text = value
    else:
        return None  # a Ref/GetAtt: the referenced resource's own name is checked
    text = text.replace("${AWS::StackName}", STACKSET_STACK)
    return re.sub(r"\$\{[^}]+\}", LONGEST_PARAMETER, text)


def test_every_name_fits_under_the_stack_name_a_stackset_generates() -> None:
    """docs/multi-account.md: a StackSet called `sentinel` (8 characters) must deploy as is."""
    assert len(STACKSET_STACK) == len("StackSet-sentinel-") + 36
    too_long = {}
    for lid, key, value in _names(RESOURCES):
        rendered = _render(value)
        if rendered is not None and len(rendered) > NAME_LIMITS[key]:
            too_long[f"{lid}.{key}"] = (len(rendered), NAME_LIMITS[key])
    assert too_long == {}

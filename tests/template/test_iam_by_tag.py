"""IAM by tag (issue 11): SageMaker and Application Auto Scaling writes reach only what this stack watches.

The fleet tracker tags every watched endpoint ``sentinel:stack=<stack name>`` (``STACK_TAG``) and removes
the tag on offboarding, so every statement that can change an endpoint or a variant's scalable target is
conditioned on ``aws:ResourceTag/sentinel:stack``; models and configs the stack creates carry the tag from
their creation (``aws:RequestTag``). The checker walks every policy of every role in the translated
template (SAM's generated function roles included), so a statement added later without the condition
fails here; a mutated copy of the template proves the checker can fail.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from llmops_sentinel.domain.fleet.policy import STACK_TAG
from tests.template.test_template import SOURCE, TRANSLATED, _statements

RESOURCE_TAG = f"aws:ResourceTag/{STACK_TAG}"
REQUEST_TAG = f"aws:RequestTag/{STACK_TAG}"
STACK = {"Ref": "AWS::StackName"}

#: Read-only statements allowed on every endpoint, each with its reason.
READ_EVERY_ENDPOINT = {
    "GovernanceReadPolicy": "governance evaluates every endpoint in the account (findings only; no write here)",
    "FleetTrackerFunctionRole": "discovery reads every endpoint and its tags to decide which ones are watched",
}
#: The one write allowed on endpoints (and their scalable targets) the stack does not watch yet: the fleet
#: tracker adding/removing the stack tag itself (aws:TagKeys limited to that key, and present), which is
#: what makes an endpoint watched and its targets registrable by the scale workflows.
STACK_TAG_ONLY = {
    "sagemaker:AddTags",
    "sagemaker:DeleteTags",
    "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource",
}
#: SageMaker actions that read; everything else on these services changes something.
READ_PREFIXES = ("Describe", "List", "Get", "Search")
CREATE_ACTIONS = {"sagemaker:CreateModel", "sagemaker:CreateEndpointConfig"}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _texts(resources: Any) -> list[str]:
    out = []
    for r in _list(resources):
        sub = r.get("Fn::Sub") if isinstance(r, dict) else r
        out.append(str(sub[0] if isinstance(sub, list) else sub))
    return out


def _writes(actions: list[str]) -> list[str]:
    return [
        a
        for a in actions
        if a.split(":")[0] in ("sagemaker", "application-autoscaling") and not a.split(":")[1].startswith(READ_PREFIXES)
    ]


def _plain(statements: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Statements with any Fn::If unwrapped (both branches checked)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for owner, s in statements:
        if isinstance(s, dict) and "Fn::If" in s:
            out.extend((owner, b) for b in s["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b)
        elif isinstance(s, dict):
            out.append((owner, s))
    return out


def violations(resources: dict[str, Any]) -> list[str]:
    """Every identity statement that lets SageMaker/autoscaling writes (or endpoint reads) escape the tag."""
    found = []
    for owner, s in _plain(_statements(resources)):
        if resources[owner]["Type"] == "AWS::KMS::Key" or s.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _list(s.get("Action", []))]
        texts = _texts(s.get("Resource", []))
        equals = s.get("Condition", {}).get("StringEquals", {})
        tagged = equals.get(RESOURCE_TAG) == STACK
        endpoints = [t for t in texts if ":endpoint/" in t]
        targets = [t for t in texts if ":scalable-target/" in t]
        sagemaker = [a for a in actions if a.startswith("sagemaker:")]
        writes = _writes(actions)
        name = f"{owner}/{s.get('Sid', '?')}"
        if writes and set(writes) <= STACK_TAG_ONLY and _only_the_stack_tag(s):
            writes = []  # the stack tag and nothing else (see STACK_TAG_ONLY)
        if "*" in texts and writes:
            found.append(f"{name}: {writes} on *")
        if endpoints and sagemaker and not tagged and owner not in READ_EVERY_ENDPOINT:
            found.append(f"{name}: {sagemaker} on {endpoints} without {RESOURCE_TAG}")
        if endpoints and writes and owner in READ_EVERY_ENDPOINT:
            found.append(f"{name}: the read-only exemption grants {writes}")
        if targets and writes and not tagged:
            found.append(f"{name}: {writes} on scalable targets without {RESOURCE_TAG}")
        if set(actions) & CREATE_ACTIONS and equals.get(REQUEST_TAG) != STACK:
            found.append(f"{name}: {sorted(set(actions) & CREATE_ACTIONS)} without {REQUEST_TAG}")
    return found


def _only_the_stack_tag(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {})
    keys = condition.get("ForAllValues:StringEquals", {}).get("aws:TagKeys")
    return _list(keys) == [STACK_TAG] and condition.get("Null", {}).get("aws:TagKeys") == "false"


def test_every_sagemaker_and_autoscaling_write_is_conditioned_on_the_stack_tag() -> None:
    assert violations(TRANSLATED) == []


def test_the_checker_walks_every_role_and_finds_what_it_must() -> None:
    """Without a statement of each kind the checker would pass vacuously."""
    statements = _plain(_statements(TRANSLATED))
    tagged = {o for o, s in statements if s.get("Condition", {}).get("StringEquals", {}).get(RESOURCE_TAG)}
    assert {
        "ScaleOutStateMachineRole",
        "ScaleDownStateMachineRole",
        "RollbackStateMachineRole",
        "DeployStateMachineRole",
        "DeploymentPlannerFunctionRole",
        "LatencyMonitorFunctionRole",
        "GovernanceReportAndRemediatePolicy",
    } <= tagged


def _with(statement: dict[str, Any], owner: str = "DeploymentPlannerFunctionRole") -> dict[str, Any]:
    mutated = copy.deepcopy(TRANSLATED)
    policies = mutated[owner]["Properties"]["Policies"]
    policies[0]["PolicyDocument"]["Statement"].append(statement)
    return mutated


ENDPOINTS = {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint/*"}
CONFIGS = {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:endpoint-config/*"}
TARGETS = {
    "Fn::Sub": "arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:scalable-target/*"
}


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "sagemaker:UpdateEndpoint", "Resource": ENDPOINTS},
        {"Effect": "Allow", "Action": ["sagemaker:DeleteEndpoint"], "Resource": [ENDPOINTS, CONFIGS]},
        {"Effect": "Allow", "Action": "sagemaker:DescribeEndpoint", "Resource": ENDPOINTS},
        {
            "Effect": "Allow",
            "Action": "sagemaker:UpdateEndpointWeightsAndCapacities",
            "Resource": ENDPOINTS,
            "Condition": {"StringEquals": {RESOURCE_TAG: "some-other-stack"}},
        },
        {"Effect": "Allow", "Action": "application-autoscaling:RegisterScalableTarget", "Resource": TARGETS},
        {"Effect": "Allow", "Action": "sagemaker:CreateEndpointConfig", "Resource": CONFIGS},
        {"Effect": "Allow", "Action": "sagemaker:UpdateEndpoint", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "sagemaker:AddTags",
            "Resource": ENDPOINTS,
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": [STACK_TAG, "sentinel:monitor"]}},
        },
        {
            "Effect": "Allow",
            "Action": "sagemaker:DeleteTags",
            "Resource": ENDPOINTS,
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": [STACK_TAG]}},  # no Null: empty passes
        },
    ],
    ids=[
        "update",
        "delete",
        "describe",
        "other-stack",
        "scalable-target",
        "untagged-create",
        "star",
        "tags-beyond-the-stack-tag",
        "tag-keys-not-required",
    ],
)
def test_an_unconditioned_write_added_to_any_role_fails_the_check(statement: dict[str, Any]) -> None:
    assert violations(_with(statement)), statement


def test_the_read_only_exemption_does_not_cover_writes() -> None:
    mutated = copy.deepcopy(TRANSLATED)
    document = mutated["GovernanceReadPolicy"]["Properties"]["PolicyDocument"]
    document["Statement"].append({"Effect": "Allow", "Action": "sagemaker:UpdateEndpoint", "Resource": ENDPOINTS})
    assert violations(mutated)


def test_no_iam_statement_names_the_endpoint_parameter() -> None:
    """One stack watches a fleet: nothing in IAM may be scoped to the EndpointName parameter any more."""
    leftovers = [
        f"{o}/{s.get('Sid', '?')}"
        for o, s in _statements(SOURCE.raw["Resources"])
        if "EndpointName}" in json.dumps(s) or '"Ref": "EndpointName"' in json.dumps(s)
    ]
    assert leftovers == []


def test_the_condition_key_is_the_tag_the_fleet_tracker_writes() -> None:
    keys = {
        k
        for _, s in _plain(_statements(TRANSLATED))
        for k in s.get("Condition", {}).get("StringEquals", {})
        if k.startswith(("aws:ResourceTag/sentinel:", "aws:RequestTag/sentinel:"))
    }
    assert keys == {RESOURCE_TAG, REQUEST_TAG, "aws:ResourceTag/sentinel:governed"}


def test_functions_that_create_tagged_resources_know_the_stack_name() -> None:
    """The create is allowed only with the request tag, so the code must be told the value to tag."""
    creators = {
        o.removesuffix("Role")
        for o, s in _plain(_statements(TRANSLATED))
        if set(_list(s.get("Action", []))) & CREATE_ACTIONS
    }
    functions = {lid: r for lid, r in SOURCE.raw["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    users = {
        lid
        for lid, f in functions.items()
        if {"Ref": "GovernanceReportAndRemediatePolicy"} in f["Properties"].get("Policies", [])
    }
    expected = (creators - {"GovernanceReportAndRemediatePolicy"}) | users
    assert "DeploymentPlannerFunction" in expected and "GovernanceFunction" in expected
    for lid in expected:
        env = functions[lid]["Properties"]["Environment"]["Variables"]
        assert env.get("SENTINEL_STACK_NAME") == STACK, lid

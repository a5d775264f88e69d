"""IAM wildcard semantics, evaluated the way IAM does."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from llmops_sentinel.domain.governance.iam import (
    GrantKind,
    PolicyDocumentError,
    action_matches,
    broad_grants,
    classify_action_pattern,
    is_allowed,
    is_public_statement,
    parse_policy_document,
    resource_matches,
)


def doc(*statements: dict[str, Any]) -> Any:
    return parse_policy_document({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("sagemaker:*", "sagemaker:CreateEndpoint", True),
        ("sagemaker:*", "sagemakergeospatial:ListRasterDataCollections", False),
        ("sagemaker:Create*", "sagemaker:CreateEndpoint", True),
        ("sagemaker:Create*", "sagemaker:DeleteEndpoint", False),
        ("sagemaker:Create*", "sagemaker:Create", True),  # '*' matches the empty string
        ("sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig", False),  # no implicit prefix
        ("sagemaker:CreateEndpoint*", "sagemaker:CreateEndpointConfig", True),
        ("SageMaker:createendpoint", "sagemaker:CreateEndpoint", True),  # service and name case-insensitive
        ("SAGEMAKER:*", "sagemaker:InvokeEndpoint", True),
        ("*", "iam:PassRole", True),
        ("*:*", "kms:Decrypt", True),
        ("kms:?ecrypt", "kms:Decrypt", True),
        ("kms:?ecrypt", "kms:ReEncrypt", False),  # '?' is exactly one character
        ("s3:Get*Acl", "s3:GetObjectAcl", True),
        ("s3:Get*Acl", "s3:GetObject", False),
        ("iam:Pass.Role", "iam:PassXRole", False),  # '.' is literal, not a regex
    ],
)
def test_action_matching(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_resource_matching_is_case_sensitive_glob() -> None:
    assert resource_matches("arn:aws:s3:::models/*", "arn:aws:s3:::models/llm/weights.bin")
    assert not resource_matches("arn:aws:s3:::models/*", "arn:aws:s3:::Models/llm")
    assert resource_matches("*", "arn:aws:kms:us-east-1:111122223333:key/abc")


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [
        ("*", GrantKind.FULL_ADMIN),
        ("*:*", GrantKind.FULL_ADMIN),
        ("sagemaker:*", GrantKind.SERVICE_ADMIN),
        ("iam:*", GrantKind.SERVICE_ADMIN),
        ("sagemaker:Create*", None),
        ("sagemaker:CreateEndpoint", None),
        ("sagemaker:*Endpoint", None),
    ],
)
def test_classify_action_pattern(pattern: str, kind: GrantKind | None) -> None:
    assert classify_action_pattern(pattern) is kind


def test_broad_grants_only_on_all_resources() -> None:
    scoped = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::models/*"})
    assert broad_grants(scoped) == []
    wide = doc({"Effect": "Allow", "Action": ["s3:GetObject", "sagemaker:*"], "Resource": ["*"]})
    assert [(g.kind, g.pattern) for g in broad_grants(wide)] == [(GrantKind.SERVICE_ADMIN, "sagemaker:*")]


def test_create_star_is_not_service_admin() -> None:
    assert broad_grants(doc({"Effect": "Allow", "Action": "sagemaker:Create*", "Resource": "*"})) == []


def test_not_action_with_allow_on_star_is_admin_equivalent() -> None:
    # AWS' PowerUserAccess shape: everything except IAM/Organizations.
    power_user = doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"})
    grants = broad_grants(power_user)
    assert [g.kind for g in grants] == [GrantKind.NOT_ACTION]
    assert is_allowed(power_user, "sagemaker:DeleteEndpoint")
    assert not is_allowed(power_user, "iam:CreateUser")
    assert not is_allowed(power_user, "IAM:createuser")  # NotAction matching is case-insensitive too


def test_not_action_on_a_scoped_resource_is_not_flagged() -> None:
    assert broad_grants(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::x/*"})) == []


def test_not_resource_counts_as_all_resources() -> None:
    grants = broad_grants(doc({"Effect": "Allow", "Action": "kms:*", "NotResource": "arn:aws:kms:*:*:key/x"}))
    assert [g.kind for g in grants] == [GrantKind.SERVICE_ADMIN]


def test_deny_is_not_a_grant_and_wins_in_is_allowed() -> None:
    document = doc(
        {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sagemaker:Delete*", "Resource": "*"},
    )
    assert is_allowed(document, "sagemaker:CreateEndpoint")
    assert not is_allowed(document, "sagemaker:DeleteEndpoint")
    assert len(broad_grants(document)) == 1  # Deny does not hide the broad Allow (documented)


def test_conditional_grants_are_flagged_unless_excluded() -> None:
    document = doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
    assert broad_grants(document)[0].conditional
    assert broad_grants(document, include_conditional=False) == []


def test_string_or_list_and_single_statement_object() -> None:
    single = parse_policy_document({"Statement": {"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}})
    assert single.statements[0].action == ("sagemaker:*",)
    assert single.statements[0].resource == ("*",)


@pytest.mark.parametrize(
    ("principal", "condition", "public"),
    [
        ("*", None, True),
        ({"AWS": "*"}, None, True),
        ({"AWS": ["arn:aws:iam::111122223333:root", "*"]}, None, True),
        ({"AWS": "arn:aws:iam::111122223333:root"}, None, False),
        ({"Service": "sagemaker.amazonaws.com"}, None, False),
        ({"AWS": "*"}, {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, False),
        ({"AWS": "*"}, {"StringEquals": {"kms:CallerAccount": "111122223333"}}, False),
        ({"AWS": "*"}, {"ArnLike": {"aws:SourceArn": "arn:aws:sagemaker:*:111122223333:*"}}, False),
        ({"AWS": "*"}, {"StringEquals": {"AWS:SourceAccount": "111122223333"}}, False),  # key case-insensitive
        ({"AWS": "*"}, {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}, True),  # negated
        ({"AWS": "*"}, {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}, True),  # IfExists
        ({"AWS": "*"}, {"StringLike": {"aws:PrincipalOrgID": "*"}}, True),  # wildcard value
        ({"AWS": "*"}, {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}, True),
    ],
)
def test_public_principal_rule(principal: Any, condition: dict[str, Any] | None, public: bool) -> None:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    assert is_public_statement(doc(statement).statements[0]) is public


def test_not_principal_allow_is_public() -> None:
    statement = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    assert is_public_statement(doc(statement).statements[0])


def test_deny_star_principal_is_not_public() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert not is_public_statement(doc(statement).statements[0])


RAW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}


@pytest.mark.parametrize(
    "encoded",
    [
        RAW,
        json.dumps(RAW),
        json.dumps(RAW, indent=2),
        urllib.parse.quote(json.dumps(RAW, indent=2), safe=""),  # AWS Config / IAM API
        urllib.parse.quote_plus(json.dumps(RAW)),  # '+' for spaces
    ],
)
def test_policy_documents_decode_from_every_shape(encoded: Any) -> None:
    assert parse_policy_document(encoded).statements[0].action == ("sagemaker:*",)


@pytest.mark.parametrize("bad", ["not json", "%7Bbroken", "[1, 2]", {"Statement": [{"Effect": "Maybe"}]}])
def test_bad_policy_documents_raise_typed_error(bad: Any) -> None:
    with pytest.raises(PolicyDocumentError):
        parse_policy_document(bad)

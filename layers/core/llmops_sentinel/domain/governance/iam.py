"""IAM policy documents and the parts of IAM's evaluation logic governance needs.

Pure: no AWS calls. What is evaluated the way IAM evaluates it:

* **Action matching** — ``service:Action`` patterns with ``*`` (any run of characters) and ``?`` (one
  character); service prefix and action name are both case-insensitive (``SageMaker:createendpoint``
  equals ``sagemaker:CreateEndpoint``). ``*`` alone matches every action.
* **Action vs NotAction** — ``NotAction`` with ``Allow`` grants every action *not* listed; on
  ``Resource: "*"`` that is admin-equivalent for everything else (AWS' own ``PowerUserAccess`` is built
  this way).
* **Resource vs NotResource** — glob match on ARNs (case-sensitive, like IAM); ``NotResource`` grants
  every resource not listed, so it counts as "all resources" for breadth checks.
* **String-or-list** — every element that may be a string or a list is normalised to a tuple.
* **Principals** — ``"*"``, ``{"AWS": "*"}`` (or a list containing ``"*"``) is *anyone*; service
  principals (``{"Service": "sagemaker.amazonaws.com"}``), account/role ARNs and federated principals are
  kept apart. ``NotPrincipal`` with ``Allow`` grants everyone except the listed principals.
* **Conditions** are recorded, not evaluated. One rule uses them: a statement granting ``*`` is **not
  public** when a *restricting* condition pins the caller to known accounts, organisations, ARNs or
  networks (see :data:`RESTRICTING_CONDITION_KEYS`) with a positive operator (``StringEquals``,
  ``StringLike``, ``ArnEquals``, ``ArnLike`` and their ``ForAnyValue:``/``ForAllValues:`` forms) and a
  value that is not itself a bare ``*``. Negated operators (``StringNotEquals``…) and ``…IfExists``
  forms do not restrict (a request without the key passes them), nor does ``kms:ViaService`` alone (any
  account can call through the service).

Not evaluated: explicit ``Deny`` subtracting from an ``Allow`` (breadth checks report the ``Allow`` and
say so), permissions boundaries, SCPs, session policies, variables such as ``${aws:username}``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llmops_sentinel.domain.validation import first_error
from llmops_sentinel.errors import BadInputError


class PolicyDocumentError(BadInputError):
    """A policy document cannot be decoded (not JSON, not URL-encoded JSON, wrong shape)."""


def _as_tuple(value: Any) -> tuple[str, ...]:
    """IAM's string-or-list: ``"a"`` → ``("a",)``, ``["a", "b"]`` → ``("a", "b")``, absent → ``()``."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"expected a string, got {type(item).__name__}")
            out.append(item)
        return tuple(out)
    raise ValueError(f"expected a string or a list of strings, got {type(value).__name__}")


class Principal(BaseModel):
    """A ``Principal``/``NotPrincipal`` element, normalised.

    ``anyone`` is true for ``"*"`` and for ``{"AWS": "*"}`` (or any list holding ``"*"``).
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    anyone: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> Principal:
        if raw == "*":
            return cls(anyone=True)
        if not isinstance(raw, Mapping):
            raise ValueError('Principal must be "*" or an object such as {"AWS": ...}')
        fields: dict[str, tuple[str, ...]] = {}
        for key, value in raw.items():
            norm = {"aws": "aws", "service": "service", "federated": "federated"}.get(key.lower())
            if key.lower() == "canonicaluser":
                norm = "canonical_user"
            if norm is None:
                raise ValueError(f"unknown principal type {key!r}")
            fields[norm] = _as_tuple(value)
        anyone = "*" in fields.get("aws", ())
        return cls(anyone=anyone, **fields)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(s.lower() for s in self.service)


class Statement(BaseModel):
    """One policy statement. String-or-list elements are tuples; names follow the JSON (aliases)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    sid: str | None = Field(default=None, alias="Sid")
    effect: str = Field(alias="Effect")
    action: tuple[str, ...] = Field(default=(), alias="Action")
    not_action: tuple[str, ...] = Field(default=(), alias="NotAction")
    resource: tuple[str, ...] = Field(default=(), alias="Resource")
    not_resource: tuple[str, ...] = Field(default=(), alias="NotResource")
    principal: Principal | None = Field(default=None, alias="Principal")
    not_principal: Principal | None = Field(default=None, alias="NotPrincipal")
    condition: dict[str, dict[str, Any]] = Field(default_factory=dict, alias="Condition")

    @field_validator("action", "not_action", "resource", "not_resource", mode="before")
    @classmethod
    def _string_or_list(cls, value: Any) -> tuple[str, ...]:
        return _as_tuple(value)

    @field_validator("principal", "not_principal", mode="before")
    @classmethod
    def _principal(cls, value: Any) -> Principal | None:
        return None if value is None else Principal.parse(value)

    @field_validator("effect")
    @classmethod
    def _effect(cls, value: str) -> str:
        if value not in ("Allow", "Deny"):
            raise ValueError(f'Effect must be "Allow" or "Deny", got {value!r}')
        return value

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def sid_or_index(self) -> str:
        return self.sid or "(no Sid)"


class PolicyDocument(BaseModel):
    """A decoded IAM policy document (identity, trust or resource policy)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", populate_by_name=True)

    version: str | None = Field(default=None, alias="Version")
    id: str | None = Field(default=None, alias="Id")
    statements: tuple[Statement, ...] = Field(default=(), alias="Statement")

    @field_validator("statements", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, Mapping) else value


def parse_policy_document(raw: str | Mapping[str, Any]) -> PolicyDocument:
    """Decode a policy document from any of the shapes AWS hands out.

    * a dict (boto3 decodes IAM documents for you);
    * a JSON string (CloudTrail ``requestParameters``, ``kms:GetKeyPolicy``);
    * a URL-encoded JSON string (AWS Config items, IAM's raw API, some CloudTrail
      ``responseElements``). ``+`` is tried as a space only if plain percent-decoding fails.
    """
    data: Any = raw
    if isinstance(raw, str):
        data = _decode_json_text(raw)
    if not isinstance(data, Mapping):
        raise PolicyDocumentError("a policy document must be a JSON object")
    try:
        return PolicyDocument.model_validate(dict(data))
    except ValidationError as exc:
        raise PolicyDocumentError(f"invalid policy document at {first_error(exc)}") from None


def _decode_json_text(text: str) -> Any:
    stripped = text.strip()
    candidates = [stripped]
    if "%" in stripped:
        candidates.append(urllib.parse.unquote(stripped))
        candidates.append(urllib.parse.unquote_plus(stripped))
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    raise PolicyDocumentError("policy document is neither JSON nor URL-encoded JSON")


# --------------------------------------------------------------------------------------------- matching


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE if ignore_case else 0)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM-style glob: ``*`` any run (including empty), ``?`` exactly one character."""
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Does the ``Action`` pattern cover ``action``? Case-insensitive, like IAM."""
    return glob_match(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str) -> bool:
    """Does the ``Resource`` pattern cover ``resource``? ARNs compare case-sensitively, like IAM."""
    return glob_match(pattern, resource)


def statement_covers_action(statement: Statement, action: str) -> bool:
    """Is ``action`` inside the statement's action set (``Action`` or the complement of ``NotAction``)?"""
    if statement.not_action:
        return not any(action_matches(p, action) for p in statement.not_action)
    return any(action_matches(p, action) for p in statement.action)


def statement_covers_resource(statement: Statement, resource: str) -> bool:
    if statement.not_resource:
        return not any(resource_matches(p, resource) for p in statement.not_resource)
    return any(resource_matches(p, resource) for p in statement.resource)


def is_allowed(document: PolicyDocument, action: str, resource: str = "*") -> bool:
    """Would this one document allow ``action`` on ``resource``? Explicit Deny wins; conditions ignored.

    A statement with a ``Condition`` is treated as applying (the worst case for a breadth check).
    """
    allowed = False
    for statement in document.statements:
        if not (statement_covers_action(statement, action) and statement_covers_resource(statement, resource)):
            continue
        if statement.effect == "Deny":
            return False
        allowed = True
    return allowed


def _all_wildcard(text: str) -> bool:
    return bool(text) and set(text) == {"*"}


def covers_all_resources(statement: Statement) -> bool:
    """``Resource: "*"`` (or only-``*`` patterns), or any ``NotResource`` (everything but a few)."""
    if statement.not_resource:
        return True
    return any(_all_wildcard(p) for p in statement.resource)


class GrantKind(StrEnum):
    """Why an ``Allow`` statement counts as over-broad."""

    FULL_ADMIN = "full-admin"  # "*" / "*:*" on "*"
    SERVICE_ADMIN = "service-admin"  # "<service>:*" on "*"
    NOT_ACTION = "not-action"  # Allow + NotAction on "*": everything except a list


class BroadGrant(BaseModel):
    """One over-broad grant found in a document."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    kind: GrantKind
    pattern: str
    sid: str | None
    conditional: bool

    def describe(self) -> str:
        cond = " (with a Condition)" if self.conditional else ""
        if self.kind is GrantKind.NOT_ACTION:
            return f"Allow NotAction {self.pattern} on *{cond}"
        return f"Allow {self.pattern} on *{cond}"


def classify_action_pattern(pattern: str) -> GrantKind | None:
    """``*``/``*:*`` → full admin; ``svc:*`` → service admin; anything narrower → None.

    ``sagemaker:Create*`` is narrower than ``sagemaker:*`` and is not flagged by this rule.
    """
    if ":" not in pattern:
        return GrantKind.FULL_ADMIN if _all_wildcard(pattern) else None
    service, _, name = pattern.partition(":")
    if not _all_wildcard(name):
        return None
    return GrantKind.FULL_ADMIN if _all_wildcard(service) else GrantKind.SERVICE_ADMIN


def broad_grants(document: PolicyDocument, *, include_conditional: bool = True) -> list[BroadGrant]:
    """Every ``Allow`` of ``*``, ``<service>:*`` or ``NotAction`` on all resources in ``document``."""
    found: list[BroadGrant] = []
    for statement in document.statements:
        if not statement.allows or not covers_all_resources(statement):
            continue
        conditional = bool(statement.condition)
        if conditional and not include_conditional:
            continue
        if statement.not_action:
            found.append(
                BroadGrant(
                    kind=GrantKind.NOT_ACTION,
                    pattern=",".join(statement.not_action),
                    sid=statement.sid,
                    conditional=conditional,
                )
            )
            continue
        for pattern in statement.action:
            kind = classify_action_pattern(pattern)
            if kind is not None:
                found.append(BroadGrant(kind=kind, pattern=pattern, sid=statement.sid, conditional=conditional))
    return found


# ------------------------------------------------------------------------------------------- principals

#: Condition keys that pin a ``*`` principal to known callers. Compared case-insensitively.
RESTRICTING_CONDITION_KEYS: frozenset[str] = frozenset(
    {
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:userid",
        "kms:calleraccount",
    }
)

_POSITIVE_OPERATORS: frozenset[str] = frozenset({"stringequals", "stringlike", "arnequals", "arnlike"})


def _operator_restricts(operator: str) -> bool:
    op = operator.lower()
    if op.endswith("ifexists"):
        return False
    for prefix in ("forallvalues:", "foranyvalue:"):
        if op.startswith(prefix):
            op = op[len(prefix) :]
    return op in _POSITIVE_OPERATORS


def restricting_condition_keys(statement: Statement) -> tuple[str, ...]:
    """The condition keys in ``statement`` that restrict who the caller can be (see module docs)."""
    keys: list[str] = []
    for operator, clauses in statement.condition.items():
        if not _operator_restricts(operator) or not isinstance(clauses, Mapping):
            continue
        for key, value in clauses.items():
            values = _as_tuple(value) if isinstance(value, str | list) else ()
            if key.lower() in RESTRICTING_CONDITION_KEYS and values and not any(_all_wildcard(v) for v in values):
                keys.append(key)
    return tuple(keys)


def is_public_statement(statement: Statement) -> bool:
    """An ``Allow`` to anyone (``*``, ``{"AWS": "*"}`` or ``NotPrincipal``) with no restricting condition."""
    if not statement.allows:
        return False
    anyone = (statement.principal is not None and statement.principal.anyone) or statement.not_principal is not None
    return anyone and not restricting_condition_keys(statement)


def trusts_anyone(statement: Statement) -> bool:
    """An ``Allow`` whose principal is ``*``/``{"AWS": "*"}``/``NotPrincipal``, conditions or not."""
    if not statement.allows:
        return False
    return (statement.principal is not None and statement.principal.anyone) or statement.not_principal is not None


def public_statements(document: PolicyDocument) -> list[Statement]:
    return [s for s in document.statements if is_public_statement(s)]

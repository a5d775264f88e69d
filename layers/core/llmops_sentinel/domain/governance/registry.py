"""Registries of checks and remediation actions: one class plus one decorator adds either.

A check or an action declares, as class attributes, its stable ``id``, its parameter schema (a
pydantic model, ``extra="forbid"``), the IAM permissions it needs (exact actions, never wildcards) and
what it applies to. Policy files pick them by ``id``; nothing else needs editing.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from llmops_sentinel.domain.governance.resources import ResourceBase, ResourceType
from llmops_sentinel.errors import SentinelError


class RegistryError(SentinelError):
    """A check or action was declared wrongly (duplicate id, wildcard permission, ...)."""


class Status(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


class Severity(StrEnum):
    """ASFF ``Severity.Label`` values."""

    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class CheckResult(BaseModel):
    """What a check says about one resource. ``insufficient_data`` qualifies NOT_APPLICABLE."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    status: Status
    reason: str
    insufficient_data: bool = False
    evidence: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @classmethod
    def compliant(cls, reason: str, **evidence: tuple[str, ...]) -> CheckResult:
        return cls(status=Status.COMPLIANT, reason=reason, evidence=evidence)

    @classmethod
    def non_compliant(cls, reason: str, **evidence: tuple[str, ...]) -> CheckResult:
        return cls(status=Status.NON_COMPLIANT, reason=reason, evidence=evidence)

    @classmethod
    def not_applicable(cls, reason: str) -> CheckResult:
        return cls(status=Status.NOT_APPLICABLE, reason=reason)

    @classmethod
    def insufficient(cls, reason: str, **evidence: tuple[str, ...]) -> CheckResult:
        return cls(status=Status.NOT_APPLICABLE, reason=reason, insufficient_data=True, evidence=evidence)

    def fingerprint(self) -> str:
        """Stable text of the status and evidence: the same violation gives the same fingerprint."""
        parts = [self.status.value] + [f"{k}={','.join(sorted(v))}" for k, v in sorted(self.evidence.items())]
        return "|".join(parts)


class Params(BaseModel):
    """Base of every check/action parameter schema."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")


class NoParams(Params):
    """For checks and actions that take no parameters."""


def _check_permissions(owner: str, permissions: tuple[str, ...]) -> None:
    for permission in permissions:
        service, _, action = permission.partition(":")
        if not service or not action or "*" in permission or "?" in permission:
            raise RegistryError(f"{owner}: permission {permission!r} must be an exact 'service:Action'")


# -------------------------------------------------------------------------------------------- checks

R = TypeVar("R", bound=ResourceBase)
P = TypeVar("P", bound=Params)


class Check(ABC, Generic[R, P]):
    """A governance check over one resource type.

    Subclass with ``Check[ResourceModel, ParamsModel]``, set the class attributes, implement
    :meth:`run`, decorate with :func:`register_check`.
    """

    id: ClassVar[str]
    resource_type: ClassVar[ResourceType]
    params_model: ClassVar[type[Params]] = NoParams
    permissions: ClassVar[tuple[str, ...]]
    description: ClassVar[str]
    asff_type: ClassVar[str] = "Software and Configuration Checks/AWS Security Best Practices"

    @abstractmethod
    def run(self, resource: R, params: P) -> CheckResult:
        """Judge ``resource``. Never COMPLIANT on fields the resource does not know."""

    def evaluate(self, resource: ResourceBase, params: Params) -> CheckResult:
        if resource.resource_type != self.resource_type:
            raise RegistryError(f"check {self.id} applies to {self.resource_type}, not {resource.resource_type}")
        if not isinstance(params, self.params_model):
            raise RegistryError(f"check {self.id} takes {self.params_model.__name__}")
        return self.run(cast(R, resource), cast(P, params))


CHECKS: dict[str, type[Check[Any, Any]]] = {}

_C = TypeVar("_C", bound=type[Check[Any, Any]])


def register_check(cls: _C) -> _C:
    """Class decorator: add a check to :data:`CHECKS` under its ``id``."""
    for attr in ("id", "resource_type", "permissions", "description"):
        if not hasattr(cls, attr):
            raise RegistryError(f"{cls.__name__} must define {attr}")
    if cls.id in CHECKS and CHECKS[cls.id] is not cls:
        raise RegistryError(f"duplicate check id {cls.id!r}")
    _check_permissions(f"check {cls.id}", cls.permissions)
    CHECKS[cls.id] = cls
    return cls


# ------------------------------------------------------------------------------------------- actions


class PlanTarget(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    resource_type: ResourceType
    resource_id: str
    name: str
    arn: str | None = None
    account_id: str | None = None
    region: str | None = None


PlanStatus = Literal["planned", "skipped-dry-run", "skipped"]


class RemediationPlan(BaseModel):
    """A pure description of a remediation; an adapter executes it (unless ``status`` says skipped).

    ``idempotency_key`` is derived from policy, resource and finding (status + evidence): the same
    violation always yields the same key (use it as the Step Functions execution name or the
    idempotency record key); a different violation on the same resource yields a new one. Safe as a
    Step Functions execution name (``[a-z0-9-]``, at most 80 characters).
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    action: str
    policy: str
    target: PlanTarget
    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    permissions: tuple[str, ...]
    idempotency_key: str
    dry_run: bool
    status: PlanStatus
    reason: str
    steps: tuple[str, ...] = ()


class PlanContext(BaseModel):
    """What an action sees when it plans: the policy, the resource and what the check found."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", arbitrary_types_allowed=True)

    policy: str
    check: str
    resource: ResourceBase
    result: CheckResult

    @property
    def digest(self) -> str:
        text = f"{self.policy}|{self.resource.identity}|{self.check}|{self.result.fingerprint()}"
        return hashlib.sha256(text.encode()).hexdigest()


class PlanDraft(BaseModel):
    """What an action's :meth:`Action.draft` returns; :meth:`Action.plan` adds the common fields."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    parameters: dict[str, JsonValue] = Field(default_factory=dict)
    steps: tuple[str, ...] = ()
    permissions: tuple[str, ...] | None = None  # None: the action's declared permissions
    skip_reason: str | None = None  # set when the action cannot act on this finding


class Action(ABC, Generic[P]):
    """A remediation action. Declares; never calls AWS."""

    id: ClassVar[str]
    params_model: ClassVar[type[Params]] = NoParams
    permissions: ClassVar[tuple[str, ...]]
    description: ClassVar[str]
    #: Resource types the action can act on; empty: any.
    resource_types: ClassVar[frozenset[ResourceType]] = frozenset()
    #: Checks whose findings the action can fix; empty: any.
    fixes_checks: ClassVar[frozenset[str]] = frozenset()

    def validate_for(self, check_id: str, params: P) -> str | None:
        """Policy-load-time check that these params can fix this check's findings; a reason if not."""
        return None

    @abstractmethod
    def draft(self, context: PlanContext, params: P) -> PlanDraft:
        """Describe what to do for this finding."""

    def plan(self, context: PlanContext, params: Params, *, dry_run: bool) -> RemediationPlan:
        if not isinstance(params, self.params_model):
            raise RegistryError(f"action {self.id} takes {self.params_model.__name__}")
        draft = self.draft(context, cast(P, params))
        resource = context.resource
        if draft.skip_reason is not None:
            status: PlanStatus = "skipped"
            reason = draft.skip_reason
        elif dry_run:
            status, reason = "skipped-dry-run", "dry run: planned, not executed"
        else:
            status, reason = "planned", "ready to execute"
        permissions = draft.permissions if draft.permissions is not None else self.permissions
        _check_permissions(f"action {self.id}", permissions)
        return RemediationPlan(
            action=self.id,
            policy=context.policy,
            target=PlanTarget(
                resource_type=resource.resource_type,
                resource_id=resource.resource_id,
                name=resource.name,
                arn=resource.arn,
                account_id=resource.account_id,
                region=resource.region,
            ),
            parameters=draft.parameters,
            permissions=permissions,
            idempotency_key=f"{self.id}-{context.digest[:40]}",
            dry_run=dry_run,
            status=status,
            reason=reason,
            steps=draft.steps,
        )


ACTIONS: dict[str, type[Action[Any]]] = {}

_A = TypeVar("_A", bound=type[Action[Any]])


def register_action(cls: _A) -> _A:
    """Class decorator: add an action to :data:`ACTIONS` under its ``id``."""
    for attr in ("id", "permissions", "description"):
        if not hasattr(cls, attr):
            raise RegistryError(f"{cls.__name__} must define {attr}")
    if cls.id in ACTIONS and ACTIONS[cls.id] is not cls:
        raise RegistryError(f"duplicate action id {cls.id!r}")
    _check_permissions(f"action {cls.id}", cls.permissions)
    ACTIONS[cls.id] = cls
    return cls

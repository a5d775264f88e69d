"""The decision policy: signal -> action, per endpoint, with cooldowns, limits, bounds, approval.

Loaded from YAML (``config/remediation.yaml``; the packaged default is
``llmops_sentinel/config/remediation.yaml``), validated with pydantic (``extra="forbid"``).
An endpoint's section is merged over ``defaults`` key by key, so an override names only what
differs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmops_sentinel.domain.remediation.deployment import DeploymentSettings
from llmops_sentinel.domain.remediation.registry import is_workflow, known_action, workflow_actions
from llmops_sentinel.domain.remediation.signals import SignalKind, SignalView
from llmops_sentinel.domain.validation import deep_merge, first_error, load_yaml
from llmops_sentinel.errors import ConfigError


def _known(action: str) -> str:
    if not known_action(action):
        names = ", ".join(sorted({*workflow_actions(), "notify", "none"}))
        raise ValueError(f"unknown action {action!r}; registered: {names}")
    return action


ActionName = Annotated[str, AfterValidator(_known)]
"""A registered workflow action (domain/remediation/actions/), ``notify`` or ``none``."""
BudgetName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^:\\]+$")]
"""AWS Budgets' own constraint on budget names (1-100 characters, no ``:`` or ``\\``)."""
DEFAULT_PRECEDENCE = ("rollback", "scale-out", "scale-down", "deploy", "retrain")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "config" / "remediation.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class ActionSettings(_Strict):
    cooldown_minutes: int = Field(default=30, ge=0)
    require_approval: bool = False
    approval_timeout_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    """No answer by then: the workflow ends without acting."""
    lease_minutes: int = Field(default=120, ge=1)
    """Longest this action's workflow may hold the endpoint lease (plus the approval timeout when
    approval is required). The lease is handed over as soon as the execution is no longer RUNNING;
    this expiry only frees an endpoint whose workflow could not be described."""

    def lease_seconds(self) -> int:
        return self.lease_minutes * 60 + (self.approval_timeout_seconds if self.require_approval else 0)


class RetrainSettings(_Strict):
    """What the retrain workflow runs: a SageMaker Pipeline, or one training job.

    The training job's execution role is the stack's ``TrainingRoleName`` parameter, not a policy
    setting: the workflow's ``iam:PassRole`` is scoped to exactly that role."""

    pipeline_name: str | None = None
    training_image: str | None = None
    training_input_s3_uri: str | None = None
    output_s3_uri: str | None = None
    instance_type: str = "ml.g4dn.xlarge"
    instance_count: int = Field(default=1, ge=1)
    max_runtime_seconds: int = Field(default=86_400, ge=60)
    use_spot: bool = False
    max_wait_seconds: int = Field(default=172_800, ge=60)
    checkpoint_s3_uri: str | None = None
    model_package_group: str | None = None
    objective_metric: str = "validation:loss"
    objective: Literal["minimize", "maximize"] = "minimize"
    min_improvement: float = 0.0
    auto_approve: bool = False

    @model_validator(mode="after")
    def _spot_needs_wait(self) -> Self:
        if self.use_spot and self.max_wait_seconds < self.max_runtime_seconds:
            raise ValueError("max_wait_seconds must be >= max_runtime_seconds for managed spot training")
        return self


class EndpointPolicy(_Strict):
    dry_run: bool = False
    max_actions_per_day: int = Field(default=6, ge=0)
    min_instances: int = Field(default=1, ge=1)
    max_instances: int = Field(default=4, ge=1)
    scale_step: int = Field(default=1, ge=1)
    idle_hours: float = Field(default=6.0, gt=0)
    actions: dict[ActionName, ActionSettings] = Field(default_factory=dict)
    retrain: RetrainSettings = Field(default_factory=RetrainSettings)
    deployment: DeploymentSettings = Field(default_factory=DeploymentSettings)
    """How an approved model package from ``retrain.model_package_group`` reaches traffic."""

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.max_instances < self.min_instances:
            raise ValueError(f"max_instances ({self.max_instances}) < min_instances ({self.min_instances})")
        return self

    def settings(self, action: str) -> ActionSettings:
        found = self.actions.get(action)
        return found if found is not None else ActionSettings()


class Rule(_Strict):
    signal: SignalKind
    when: dict[str, str | list[str]] = Field(default_factory=dict)
    action: ActionName

    def matches(self, signal: SignalView) -> bool:
        if signal.kind != self.signal:
            return False
        for key, wanted in self.when.items():
            value = signal.attributes.get(key)
            options = wanted if isinstance(wanted, list) else [wanted]
            if str(value) not in options:
                return False
        return True


class RemediationPolicy(_Strict):
    version: Literal[1] = 1
    defaults: EndpointPolicy = Field(default_factory=EndpointPolicy)
    endpoints: dict[str, dict[str, Any]] = Field(default_factory=dict)
    rules: list[Rule]
    precedence: tuple[ActionName, ...] = DEFAULT_PRECEDENCE
    """Workflow actions, strongest first. One endpoint runs one workflow at a time (the endpoint
    lease): a decision for a weaker or equal action than the running one is ``superseded``; a stronger
    one is ``queued`` (recorded on the lease and notified; it does not stop the running workflow).
    Registered actions not listed rank after the listed ones, by name."""
    budgets: dict[BudgetName, list[str] | Literal["watched"]] = Field(default_factory=dict)
    """AWS Budgets budget name -> the endpoints its ``budget-exceeded`` notification applies to (exact
    names), or ``watched``: every endpoint the stack watches. A budget not listed acts on nothing."""

    @model_validator(mode="after")
    def _endpoint_overrides_are_valid(self) -> Self:
        for name in self.endpoints:
            self.for_endpoint(name)
        return self

    @model_validator(mode="after")
    def _precedence_names_workflows_once(self) -> Self:
        for action in self.precedence:
            if not is_workflow(action):
                raise ValueError(f"precedence: {action!r} is not a workflow action")
        if len(set(self.precedence)) != len(self.precedence):
            raise ValueError("precedence: an action is listed twice")
        return self

    def rank(self, action: str) -> int:
        """0 is the strongest action; unlisted workflow actions rank after the listed ones."""
        if action in self.precedence:
            return self.precedence.index(action)
        unlisted = sorted(a for a in workflow_actions() if a not in self.precedence)
        return len(self.precedence) + (unlisted.index(action) if action in unlisted else len(unlisted))

    def for_endpoint(self, name: str | None) -> EndpointPolicy:
        override = self.endpoints.get(name or "", {})
        if not override:
            return self.defaults
        merged = deep_merge(self.defaults.model_dump(), override)
        try:
            return EndpointPolicy.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(f"endpoints.{name}: {first_error(exc)}") from exc

    def rule_for(self, signal: SignalView) -> tuple[int, Rule] | None:
        for index, rule in enumerate(self.rules):
            if rule.matches(signal):
                return index, rule
        return None


def load_policy(path: Path | None = None, text: str | None = None) -> RemediationPolicy:
    """Parse and validate a policy; errors name the file, the field and, when known, the line."""
    import yaml  # PyYAML on first parse, not at cold start

    where = str(path or DEFAULT_POLICY_PATH)
    try:
        raw_text = text if text is not None else (path or DEFAULT_POLICY_PATH).read_text()
        data = load_yaml(raw_text)
    except OSError as exc:
        raise ConfigError(f"cannot read remediation policy {where}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc
    try:
        return RemediationPolicy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {first_error(exc, text=raw_text)}") from exc


class Decision(BaseModel):
    """What the router will do with one signal, before guardrails."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    action: str
    reason: str
    endpoint_name: str | None
    variant_name: str | None
    decision_id: str
    execution_name: str | None
    settings: ActionSettings
    dry_run: bool
    max_actions_per_day: int
    rule: int | None = None


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def decision_id(signal: SignalView) -> str:
    return hashlib.sha256(f"{signal.kind}|{signal.source_id}".encode()).hexdigest()[:24]


def execution_name(action: str, signal: SignalView) -> str:
    """Same occurrence -> same name (Step Functions then starts it once); <= 80 safe characters."""
    digest = decision_id(signal)
    readable = _UNSAFE.sub("-", f"{action}-{signal.endpoint_name or 'fleet'}").strip("-")
    return f"{readable[: 80 - len(digest) - 1]}-{digest}"


def decide(signal: SignalView, policy: RemediationPolicy, rejection: str | None = None) -> Decision:
    """The policy's action for ``signal``; ``rejection`` (e.g. the latency detector did not confirm an
    alarm) makes it ``none`` with that reason."""
    endpoint = policy.for_endpoint(signal.endpoint_name)
    found = policy.rule_for(signal)
    ident = decision_id(signal)
    if rejection is not None:
        action, reason, rule = "none", rejection, None
    elif signal.state is not None and signal.state != "ALARM":
        action = "none"
        reason = f"{signal.summary}: only ALARM transitions act"
        rule = None
    elif found is None:
        action, reason, rule = "none", f"no rule for {signal.kind} signal", None
    else:
        rule, matched = found
        action = matched.action
        reason = f"rule {rule}: {signal.kind}" + (f" with {matched.when}" if matched.when else "") + f" -> {action}"
        if is_workflow(action) and not signal.endpoint_name:
            action, reason = "none", f"{reason}, but the signal names no endpoint"
    return Decision(
        action=action,
        reason=reason,
        endpoint_name=signal.endpoint_name,
        variant_name=signal.variant_name,
        decision_id=ident,
        execution_name=execution_name(action, signal) if is_workflow(action) else None,
        settings=endpoint.settings(action),
        dry_run=endpoint.dry_run,
        max_actions_per_day=endpoint.max_actions_per_day,
        rule=rule,
    )

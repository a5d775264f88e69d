"""Policy files: YAML, validated by pydantic, errors reported with the file's line numbers.

A file::

    version: 1
    extends: default            # optional: start from the packaged default policies
    exclude: [some-default]     # optional, with extends: drop default policies by name
    policies:
      - name: endpoint-config-kms
        resource: AWS::SageMaker::EndpointConfig
        check: {type: sagemaker-endpoint-config-kms}
        severity: HIGH
        remediation: {type: notify}
        tags: {include: {team: ml}, exclude: {sentinel: ignore}}
        dry_run: true

``check`` and ``remediation`` take ``type`` (a registered id) and that check's/action's parameters
inline. A policy of the same name as a default one replaces it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

from llmops_sentinel.domain.governance import actions as _actions  # noqa: F401  (registers actions)
from llmops_sentinel.domain.governance import checks as _checks  # noqa: F401  (registers checks)
from llmops_sentinel.domain.governance.registry import (
    ACTIONS,
    CHECKS,
    Action,
    Check,
    Params,
    Severity,
)
from llmops_sentinel.domain.governance.resources import ResourceType
from llmops_sentinel.domain.validation import compose_yaml
from llmops_sentinel.errors import ConfigError

if TYPE_CHECKING:
    from yaml.nodes import Node

DEFAULT_POLICIES_RESOURCE = "default_policies.yaml"

Loc = tuple[str | int, ...]


class PolicyFileError(ConfigError):
    """A policy file is invalid; the message names the file, the line and the reason."""


# --------------------------------------------------------------------------------------------- models


class _Spec(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class RefSpec(BaseModel):
    """``{type: <registered id>, <param>: <value>, ...}``."""

    model_config = ConfigDict(defer_build=True, extra="allow", frozen=True)

    type: str

    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


TagValues = str | list[str]


class TagScope(_Spec):
    """``include``: every key must match (a value, any of a list, or ``"*"`` for any value).
    ``exclude``: any matching key excludes the resource."""

    include: dict[str, TagValues] = Field(default_factory=dict)
    exclude: dict[str, TagValues] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.include and not self.exclude

    @staticmethod
    def _matches(tags: Mapping[str, str], key: str, wanted: TagValues) -> bool:
        if key not in tags:
            return False
        values = [wanted] if isinstance(wanted, str) else wanted
        return "*" in values or tags[key] in values

    def decide(self, tags: Mapping[str, str] | None) -> bool | None:
        """True: in scope; False: out of scope; None: tags unknown and the scope needs them."""
        if self.empty:
            return True
        if tags is None:
            return None
        if any(self._matches(tags, k, v) for k, v in self.exclude.items()):
            return False
        return all(self._matches(tags, k, v) for k, v in self.include.items())


class PolicySpec(_Spec):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    description: str = ""
    resource: ResourceType
    check: RefSpec
    severity: Severity
    remediation: RefSpec
    tags: TagScope = Field(default_factory=TagScope)
    dry_run: bool = True
    enabled: bool = True


class PolicyFileSpec(_Spec):
    version: Literal[1]
    extends: Literal["default"] | None = None
    exclude: list[str] = Field(default_factory=list)
    policies: list[PolicySpec] = Field(default_factory=list)


class Policy(BaseModel):
    """A validated policy with its check and action resolved from the registries."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    name: str
    description: str
    resource: ResourceType
    check_id: str
    check_params: SerializeAsAny[Params]
    severity: Severity
    action_id: str
    action_params: SerializeAsAny[Params]
    tags: TagScope
    dry_run: bool
    enabled: bool

    def check(self) -> Check[Any, Any]:
        return CHECKS[self.check_id]()

    def action(self) -> Action[Any]:
        return ACTIONS[self.action_id]()


class PolicySet(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    policies: tuple[Policy, ...]
    source: str

    def __iter__(self) -> Iterator[Policy]:  # type: ignore[override]
        return iter(self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def names(self) -> list[str]:
        return [p.name for p in self.policies]

    def for_resource(self, resource_type: ResourceType) -> list[Policy]:
        return [p for p in self.policies if p.enabled and p.resource == resource_type]


# ------------------------------------------------------------------------------------ YAML line marks


def _line_of(root: Node | None, loc: Loc) -> int | None:
    """1-based line of the deepest YAML node on ``loc`` (the key's line for mapping entries)."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if root is None:
        return None
    node: Node = root
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: Node | None) -> list[tuple[int, str]]:
    """PyYAML keeps the last of duplicate keys silently; a policy file must not."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    found: list[tuple[int, str]] = []
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                if key.value in seen:
                    found.append((key.start_mark.line + 1, f"duplicate key {key.value!r}"))
                seen.add(key.value)
            found.extend(_duplicate_keys(value))
    elif isinstance(node, SequenceNode):
        for item in node.value:
            found.extend(_duplicate_keys(item))
    return found


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


class _Errors:
    def __init__(self, source: str, root: Node | None) -> None:
        self.source, self.root, self.items = source, root, list[tuple[int, str]]()

    def add(self, loc: Loc, message: str) -> None:
        line = _line_of(self.root, loc) or 1
        self.items.append((line, f"{_dotted(loc)}: {message}"))

    def add_validation(self, prefix: Loc, exc: ValidationError) -> None:
        for error in exc.errors():
            loc = prefix + tuple(error["loc"])
            # Union members show up as extra loc parts (e.g. "str"); _line_of stops where YAML does.
            self.add(loc, error["msg"])

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda item: item[0])
            text = "; ".join(f"{self.source}:{line}: {msg}" for line, msg in self.items)
            raise PolicyFileError(text)


# ---------------------------------------------------------------------------------------------- load


def _resolve(spec: PolicySpec, index: int, errors: _Errors) -> Policy | None:
    where: Loc = ("policies", index)
    check_cls = CHECKS.get(spec.check.type)
    action_cls = ACTIONS.get(spec.remediation.type)
    ok = True
    check_params: Params | None = None
    action_params: Params | None = None
    if check_cls is None:
        errors.add((*where, "check", "type"), f"unknown check {spec.check.type!r}; known: {', '.join(sorted(CHECKS))}")
        ok = False
    else:
        if check_cls.resource_type != spec.resource:
            errors.add(
                (*where, "resource"),
                f"check {check_cls.id} applies to {check_cls.resource_type.value}, not {spec.resource.value}",
            )
            ok = False
        try:
            check_params = check_cls.params_model.model_validate(spec.check.params())
        except ValidationError as exc:
            errors.add_validation((*where, "check"), exc)
            ok = False
    if action_cls is None:
        errors.add(
            (*where, "remediation", "type"),
            f"unknown action {spec.remediation.type!r}; known: {', '.join(sorted(ACTIONS))}",
        )
        return None
    if action_cls.resource_types and spec.resource not in action_cls.resource_types:
        errors.add((*where, "remediation", "type"), f"action {action_cls.id} cannot act on {spec.resource.value}")
        ok = False
    if action_cls.fixes_checks and spec.check.type not in action_cls.fixes_checks:
        errors.add(
            (*where, "remediation", "type"),
            f"action {action_cls.id} fixes {', '.join(sorted(action_cls.fixes_checks))}, not {spec.check.type}",
        )
        ok = False
    try:
        action_params = action_cls.params_model.model_validate(spec.remediation.params())
    except ValidationError as exc:
        errors.add_validation((*where, "remediation"), exc)
        return None
    problem = action_cls().validate_for(spec.check.type, action_params)
    if problem:
        errors.add((*where, "remediation"), problem)
        ok = False
    if not ok or check_params is None:
        return None
    return Policy(
        name=spec.name,
        description=spec.description,
        resource=spec.resource,
        check_id=spec.check.type,
        check_params=check_params,
        severity=spec.severity,
        action_id=spec.remediation.type,
        action_params=action_params,
        tags=spec.tags,
        dry_run=spec.dry_run,
        enabled=spec.enabled,
    )


def parse_policies(text: str, source: str = "<policies>", *, _allow_extends: bool = True) -> PolicySet:
    """Parse and validate a policy file's text. Raises :class:`PolicyFileError` (a ConfigError)."""
    import yaml  # PyYAML on first parse, not at cold start

    try:
        root, data = compose_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyFileError(f"{source}{at}: invalid YAML: {problem}") from None
    errors = _Errors(source, root)
    errors.items.extend(_duplicate_keys(root))
    if not isinstance(data, Mapping):
        errors.add((), "a policy file is a mapping with 'version' and 'policies'")
        errors.raise_if_any()
    try:
        spec = PolicyFileSpec.model_validate(data)
    except ValidationError as exc:
        errors.add_validation((), exc)
        errors.raise_if_any()
        raise AssertionError("unreachable") from None
    errors.raise_if_any()

    base: list[Policy] = []
    if spec.extends == "default":
        if not _allow_extends:
            errors.add(("extends",), "the default policy file cannot extend itself")
        else:
            base = list(load_default_policies().policies)
    elif spec.exclude:
        errors.add(("exclude",), "exclude needs 'extends: default'")
    base_names = {p.name for p in base}
    for index, name in enumerate(spec.exclude):
        if name not in base_names:
            errors.add(("exclude", index), f"no default policy named {name!r}")

    own: list[Policy] = []
    seen: dict[str, int] = {}
    for index, policy_spec in enumerate(spec.policies):
        if policy_spec.name in seen:
            errors.add(("policies", index, "name"), f"duplicate policy name {policy_spec.name!r}")
        seen[policy_spec.name] = index
        policy = _resolve(policy_spec, index, errors)
        if policy is not None:
            own.append(policy)
    errors.raise_if_any()

    excluded = set(spec.exclude) | {p.name for p in own}
    merged = [p for p in base if p.name not in excluded] + own
    return PolicySet(policies=tuple(merged), source=source)


def load_policies(path: str | Path) -> PolicySet:
    """Read and validate a policy file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFileError(f"{file}: cannot read: {exc.strerror or exc}") from None
    return parse_policies(text, str(file))


def default_policies_text() -> str:
    return (
        importlib_resources.files("llmops_sentinel.domain.governance")
        .joinpath(DEFAULT_POLICIES_RESOURCE)
        .read_text(encoding="utf-8")
    )


def load_default_policies() -> PolicySet:
    """The packaged default policies (``default_policies.yaml`` inside this package)."""
    return parse_policies(default_policies_text(), f"<package>/{DEFAULT_POLICIES_RESOURCE}", _allow_extends=False)


def policies_from(policies: PolicySet | Sequence[Policy]) -> tuple[Policy, ...]:
    return policies.policies if isinstance(policies, PolicySet) else tuple(policies)

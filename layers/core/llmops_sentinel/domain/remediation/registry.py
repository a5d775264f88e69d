"""Workflow actions, registered by name: one module per action in ``domain/remediation/actions/``.

Each action declares, in one place, everything the router needs to run it::

    @register_action("rollback", env="SENTINEL_ROLLBACK_STATE_MACHINE_ARN")
    def rollback_input(request: ActionRequest, facts: Facts) -> dict[str, Any] | Unmet:
        ...

- ``name``: what policy rules and ``precedence`` in ``config/remediation.yaml`` refer to;
- ``env``: the environment variable holding its state machine ARN (template.yaml sets it);
- the decorated function: its **input builder and prerequisites**. It returns the state machine's
  input, or :class:`Unmet` with a reason when a prerequisite is missing (the router then notifies
  instead of starting anything). It reads facts it may need (the tracked endpoint-config history)
  through the :class:`Facts` port, never from the signal's claims.

The modules of ``actions/`` are imported on first use (:func:`workflow_actions`), so a new action is
one module there plus its template resources; no list of actions is kept anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from llmops_sentinel.domain.remediation.policy import ActionSettings, EndpointPolicy
    from llmops_sentinel.domain.remediation.signals import SignalView

NON_WORKFLOW_ACTIONS: frozenset[str] = frozenset({"notify", "none"})


class Facts(Protocol):
    """What an action may look up before it starts (backed by adapters in the service)."""

    def previous_config(self, endpoint_name: str) -> str | None:
        """The config the endpoint was InService with before its current one, from the tracked history."""
        ...


@dataclass(frozen=True)
class Unmet:
    """A prerequisite is missing: the router notifies with ``reason`` instead of starting."""

    reason: str


@dataclass(frozen=True)
class ActionRequest:
    """Everything an input builder may use: the decision, the signal, the endpoint's policy."""

    action: str
    endpoint_name: str
    variant_name: str
    decision_id: str
    signal: SignalView
    settings: ActionSettings
    endpoint: EndpointPolicy
    audit: Mapping[str, str]
    """Where the workflow records its outcome: ``table``, ``pk``, ``sk`` of the decision's audit item."""

    def base_input(self) -> dict[str, Any]:
        """The input every workflow takes (its own fields are added by its builder)."""
        return {
            "endpoint_name": self.endpoint_name,
            "variant_name": self.variant_name,
            "dry_run": False,
            "require_approval": self.settings.require_approval,
            "approval_timeout_seconds": self.settings.approval_timeout_seconds,
            "bounds": {
                "min_instances": self.endpoint.min_instances,
                "max_instances": self.endpoint.max_instances,
                "step": self.endpoint.scale_step,
            },
            "signal": {
                "kind": self.signal.kind,
                "source_id": self.signal.source_id,
                "occurred_at": self.signal.occurred_at,
                "summary": self.signal.summary,
            },
            "audit": dict(self.audit),
        }


InputBuilder = Callable[[ActionRequest, Facts], "dict[str, Any] | Unmet"]


@dataclass(frozen=True)
class WorkflowAction:
    name: str
    env: str
    """Environment variable with the state machine ARN."""
    build: InputBuilder


_ACTIONS: dict[str, WorkflowAction] = {}
_LOADED = False


def register_action(name: str, *, env: str) -> Callable[[InputBuilder], InputBuilder]:
    if name in NON_WORKFLOW_ACTIONS:
        raise ValueError(f"{name!r} is not a workflow action name")

    def register(build: InputBuilder) -> InputBuilder:
        existing = _ACTIONS.get(name)
        if existing is not None and existing.build is not build:
            raise ValueError(f"workflow action {name!r} is registered twice")
        _ACTIONS[name] = WorkflowAction(name=name, env=env, build=build)
        return build

    return register


def workflow_actions() -> Mapping[str, WorkflowAction]:
    """Every registered workflow action by name (imports ``actions/`` on first use)."""
    global _LOADED
    if not _LOADED:
        from llmops_sentinel.domain.remediation import actions

        for module in pkgutil.iter_modules(actions.__path__):
            importlib.import_module(f"{actions.__name__}.{module.name}")
        _LOADED = True
    return _ACTIONS


def is_workflow(action: str) -> bool:
    return action in workflow_actions()


def known_action(action: str) -> bool:
    return action in NON_WORKFLOW_ACTIONS or is_workflow(action)

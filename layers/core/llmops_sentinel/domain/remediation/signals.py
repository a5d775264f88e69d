"""What the decision policy reads of a signal: its kind and the facts a rule may match on.

The boundary model (:class:`llmops_sentinel.models.signals.Signal`, parsed from alarm, bus and SageMaker
events) satisfies :class:`SignalView`; the domain depends on this shape only, never on the event models,
so ``models`` may import the domain but not the other way round (an import-linter contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

SignalKind = Literal[
    "latency-alarm",
    "drift-alarm",
    "alarm",
    "latency-regression",
    "drift",
    "idle",
    "governance-finding",
    "model-approved",
    "budget-exceeded",
]
"""Everything that may lead to a remediation (the table in :mod:`llmops_sentinel.models.signals`)."""


class SignalView(Protocol):
    """One occurrence of a signal, as the policy and the action builders see it (read-only)."""

    @property
    def kind(self) -> SignalKind: ...

    @property
    def source_id(self) -> str:
        """Identifies the occurrence; decision ids and execution names derive from it."""
        ...

    @property
    def occurred_at(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def endpoint_name(self) -> str | None: ...

    @property
    def variant_name(self) -> str | None: ...

    @property
    def state(self) -> str | None:
        """For alarm signals: the new alarm state (only ALARM acts)."""
        ...

    @property
    def attributes(self) -> Mapping[str, Any]: ...

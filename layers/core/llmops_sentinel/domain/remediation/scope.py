"""Which endpoints the stack watches: the router acts on those only.

:class:`WatchedEndpoints` is the port; today :class:`ConfiguredEndpoints` backs it with the endpoint
name(s) the stack is deployed for (``SENTINEL_WATCHED_ENDPOINTS``, from the ``EndpointName``
parameter). A fleet deployment can back it by tags instead without touching the router.

Names are compared exactly as SageMaker stores them: ``Demo-LLM-Endpoint`` is not
``demo-llm-endpoint``. SageMaker resolves names case-insensitively in some APIs, so a case variant
could otherwise steer the watched endpoint from a signal that was never about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class WatchedEndpoints(Protocol):
    def watches(self, endpoint_name: str) -> bool: ...


@runtime_checkable
class ListedEndpoints(Protocol):
    """A scope that can also name every endpoint it watches (what a model package group maps over)."""

    def listed(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class ConfiguredEndpoints:
    names: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> ConfiguredEndpoints:
        """Comma-separated endpoint names (blank entries ignored)."""
        return cls(frozenset(name.strip() for name in text.split(",") if name.strip()))

    def watches(self, endpoint_name: str) -> bool:
        return endpoint_name in self.names

    def listed(self) -> frozenset[str]:
        return self.names

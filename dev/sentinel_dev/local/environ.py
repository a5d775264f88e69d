"""``os.environ`` whose whole-mapping reads are one atomic snapshot, for the local cloud's threads.

The local runtime applies each function's environment around its invocation and removes the keys it
added when the invocation returns (``LambdaRuntime._environment``): all functions share one process,
so this is how each sees only its own template environment. Other threads run meanwhile: moto's Step
Functions executions, which make HTTP calls through botocore. Every botocore request reads the proxy
settings with ``urllib.request.getproxies()``, which iterates ``os.environ.items()``; CPython's
``items()`` and ``copy()`` list the keys first and look each one up after, so a key removed by another
thread in between raises ``KeyError`` in the reader. In the local cloud that surfaced as an execution
failing a task with ``States.Runtime: 'SENTINEL_TABLE_NAME'`` while the router that started it was
returning (once, under heavy load; the next delivery then started a workflow that should have queued).

Here ``items()``, ``keys()``, ``values()``, ``copy()`` and iteration read ``os.environ``'s underlying
dict with one ``dict.copy()`` (atomic under the GIL) and work on that. Single-key reads, writes and
``KeyError`` for a missing key are unchanged. AWS gives each function its own process, so nothing here
exists in the layer.
"""

from __future__ import annotations

import os
from collections.abc import ItemsView, Iterator, KeysView, ValuesView


class SnapshotEnviron(os._Environ[str]):
    """``os._Environ`` with whole-mapping reads on an atomic snapshot (see the module docstring)."""

    def _snapshot(self) -> dict[str, str]:
        data = self._data.copy()  # type: ignore[attr-defined]  # one C-level copy: no other thread interleaves
        return {self.decodekey(k): self.decodevalue(v) for k, v in data.items()}  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._snapshot()))

    def keys(self) -> KeysView[str]:
        return self._snapshot().keys()

    def items(self) -> ItemsView[str, str]:
        return self._snapshot().items()

    def values(self) -> ValuesView[str]:
        return self._snapshot().values()

    def copy(self) -> dict[str, str]:
        return self._snapshot()


def install_snapshot_environ() -> None:
    """Make the process's ``os.environ`` a :class:`SnapshotEnviron` (idempotent; the same object, so
    every module holding a reference to it sees the change)."""
    if type(os.environ) is os._Environ:
        os.environ.__class__ = SnapshotEnviron

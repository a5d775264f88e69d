"""Snapshots of moto's in-process state: a provisioned stack restored in milliseconds instead of re-created.

Provisioning template.yaml is ~250 API calls through moto's server (seconds per cloud); a test suite starts
~150 clouds, most with the same parameters. :func:`take` pickles every moto backend that holds data
(``BackendDict._instances``: whatever provisioning created, in every service, account and region, alarms
and custom-resource side effects included) and :func:`restore` replaces moto's backends with a fresh
unpickled copy, as if the same provisioning had just run. Nothing here names a resource type.

What pickle cannot copy is handled generically, as ``copy.deepcopy`` would:
* the ``BackendDict`` objects themselves (module globals moto's code looks up) are kept by identity;
* functions defined inside functions (moto's ``defaultdict(lambda: ...)`` factories) and immutable key
  objects from ``cryptography`` (KMS key material) are shared by reference;
* locks are re-created; weak dictionaries are rebuilt from their current items.
A state holding anything else unpicklable raises :class:`SnapshotError` (the caller provisions instead).
"""

from __future__ import annotations

import io
import pickle
import threading
import types
import weakref
from dataclasses import dataclass
from typing import Any

from llmops_sentinel.errors import SentinelError

_LOCK_TYPES: tuple[type, ...] = (type(threading.Lock()), type(threading.RLock()))


class SnapshotError(SentinelError):
    """moto's state holds an object that cannot be snapshotted."""


@dataclass(frozen=True)
class Snapshot:
    data: bytes
    backend_dicts: tuple[Any, ...]
    shared: tuple[Any, ...]


def _shared_by_reference(obj: Any) -> bool:
    if isinstance(obj, types.FunctionType) and "<locals>" in obj.__qualname__:
        return True
    return type(obj).__module__.startswith("cryptography.")


class _Pickler(pickle.Pickler):
    def __init__(self, buffer: io.BytesIO, backend_dicts: list[Any]) -> None:
        super().__init__(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.backend_dicts = {id(b): index for index, b in enumerate(backend_dicts)}
        self.shared: list[Any] = []

    def persistent_id(self, obj: Any) -> Any:
        index = self.backend_dicts.get(id(obj))
        if index is not None:
            return ("backends", index)
        if _shared_by_reference(obj):
            self.shared.append(obj)
            return ("shared", len(self.shared) - 1)
        return None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (_new_lock(obj), ())
        if isinstance(obj, weakref.WeakValueDictionary):
            return (weakref.WeakValueDictionary, (dict(obj),))
        if isinstance(obj, weakref.WeakKeyDictionary):
            return (weakref.WeakKeyDictionary, (dict(obj),))
        return NotImplemented


def _new_lock(lock: Any) -> Any:
    return threading.RLock if isinstance(lock, type(threading.RLock())) else threading.Lock


class _Unpickler(pickle.Unpickler):
    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(io.BytesIO(snapshot.data))
        self.snapshot = snapshot

    def persistent_load(self, pid: Any) -> Any:
        kind, index = pid
        if kind == "backends":
            return self.snapshot.backend_dicts[index]
        return self.snapshot.shared[index]


def take() -> Snapshot:
    """Every moto backend holding data, as it is now (call with no request in flight)."""
    from moto.core.base_backend import BackendDict, backend_lock

    instances: list[Any] = BackendDict._instances  # type: ignore[misc]
    with backend_lock:
        backend_dicts = list(instances)
        buffer = io.BytesIO()
        pickler = _Pickler(buffer, backend_dicts)
        try:
            pickler.dump([dict(backends) for backends in backend_dicts])
        except Exception as exc:  # pickle raises TypeError, AttributeError, PicklingError ...
            raise SnapshotError(f"moto's state cannot be snapshotted: {exc}") from exc
    return Snapshot(data=buffer.getvalue(), backend_dicts=tuple(backend_dicts), shared=tuple(pickler.shared))


def restore(snapshot: Snapshot) -> None:
    """moto's backends replaced by a fresh copy of ``snapshot`` (what was not in it is reset)."""
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.core.model_instances import reset_model_data

    contents: list[dict[str, Any]] = _Unpickler(snapshot).load()
    instances: list[Any] = BackendDict._instances  # type: ignore[misc]
    with backend_lock:
        for backends in instances:
            backends.clear()
        instances.clear()
        reset_model_data()
        for backends, accounts in zip(snapshot.backend_dicts, contents, strict=True):
            backends.update(accounts)
            instances.append(backends)

"""The local cloud's os.environ: a key removed while another reader walks the environment.

The race (a Lambda's environment restored while a Step Functions thread builds a botocore request,
whose proxy lookup walks ``os.environ.items()``) is made deterministic here: the walk is paused after
its first item and the removal happens then.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from sentinel_dev.local.environ import SnapshotEnviron, install_snapshot_environ

KEY = "SENTINEL_SNAPSHOT_TEST_KEY"


@pytest.fixture
def plain_then_snapshot() -> Iterator[None]:
    """Run with the plain os._Environ class, put back whatever the process had afterwards."""
    before = type(os.environ)
    os.environ.__class__ = os._Environ
    try:
        yield
    finally:
        os.environ.__class__ = before
        os.environ.pop(KEY, None)


def _walk_removing_midway(walk: str) -> list[Any]:
    """Start ``os.environ.<walk>()`` (looked up now: the class may have changed), remove KEY after the
    walk's first element (KEY comes last: it is added last), go on."""
    os.environ[KEY] = "1"
    it = iter(getattr(os.environ, walk)())
    first = next(it)
    os.environ.pop(KEY)
    return [first, *it]


@pytest.mark.usefixtures("plain_then_snapshot")
@pytest.mark.parametrize("walk", ["items", "values"])
def test_the_plain_environ_raises_when_a_key_goes_during_a_walk(walk: str) -> None:
    with pytest.raises(KeyError, match=KEY):
        _walk_removing_midway(walk)


@pytest.mark.usefixtures("plain_then_snapshot")
@pytest.mark.parametrize("walk", ["items", "values"])
def test_the_snapshot_environ_walks_the_environment_as_it_was(walk: str) -> None:
    install_snapshot_environ()
    assert type(os.environ) is SnapshotEnviron
    got = _walk_removing_midway(walk)
    assert len(got) == len(os.environ) + 1  # the snapshot still holds KEY
    assert KEY not in os.environ


@pytest.mark.usefixtures("plain_then_snapshot")
def test_single_key_semantics_and_the_process_environment_are_unchanged() -> None:
    install_snapshot_environ()
    install_snapshot_environ()  # idempotent
    with pytest.raises(KeyError):
        os.environ[KEY]
    os.environ[KEY] = "v"
    assert os.environ[KEY] == "v" and os.getenv(KEY) == "v"
    assert os.environ.copy()[KEY] == "v" and dict(os.environ.items())[KEY] == "v"
    assert KEY in list(os.environ) and KEY in list(os.environ.keys())
    del os.environ[KEY]
    assert KEY not in os.environ and os.getenv(KEY) is None


@pytest.mark.usefixtures("plain_then_snapshot")
def test_proxy_lookups_survive_a_thread_that_adds_and_removes_keys() -> None:
    """What botocore does on every request (getproxies) while another thread restores environments."""
    install_snapshot_environ()
    stop = threading.Event()
    errors: list[BaseException] = []

    def churn() -> None:
        i = 0
        while not stop.is_set():
            key = f"{KEY}_{i % 64}"
            os.environ[key] = "x"
            os.environ.pop(key, None)
            i += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(3000):
            try:
                urllib.request.getproxies()
            except KeyError as exc:  # pragma: no cover - the failure this guards against
                errors.append(exc)
                break
    finally:
        stop.set()
        thread.join()
        for i in range(64):
            os.environ.pop(f"{KEY}_{i}", None)
    assert errors == []

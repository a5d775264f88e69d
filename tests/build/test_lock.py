"""One lock: the dev venv and the Lambda layer install the same versions, from one resolution (uv.lock).

requirements.lock (the dev venv) and layers/core/requirements.txt (the layer) are both exported from
uv.lock by `make lock`; these tests fail when either export is stale, when the layer would install a
version the venv does not run, or when the venv has drifted from the lock (re-run `make venv`).
"""

from __future__ import annotations

import importlib.metadata
import tomllib

import pytest

from tests.build.lockfile import (
    DEMO_LOCK,
    DEV_LOCK,
    LAMBDA_RUNTIME_SDK,
    LAYER_LOCK,
    REPO,
    canonical,
    read_pins,
    uv_lock_versions,
)

DEV = read_pins(DEV_LOCK)
LAYER = read_pins(LAYER_LOCK)
DEMO = read_pins(DEMO_LOCK)


def test_every_pin_is_hashed_and_comes_from_one_version_per_package() -> None:
    resolved = uv_lock_versions()
    forked = {name: sorted(v) for name, v in resolved.items() if len(v) > 1}
    assert not forked, f"uv.lock picked several versions (the venv and Lambda would differ): {forked}"
    for lock in (DEV, LAYER, DEMO):
        for pin in lock.values():
            assert pin.hashes, f"{pin.name} has no hash"
            assert {pin.version} == resolved.get(pin.name), f"{pin.name}: export is stale, run `make lock`"


def test_the_layer_pins_are_the_dev_pins() -> None:
    for name, pin in LAYER.items():
        dev = DEV.get(name)
        assert dev is not None, f"the layer installs {name}, which the dev venv does not"
        assert (pin.version, pin.hashes) == (dev.version, dev.hashes), name


def test_the_layer_gets_every_runtime_dependency_and_no_sdk_or_dev_package() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = {
        canonical(d.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip())
        for d in project["dependencies"]
    }
    assert runtime - {"boto3"} <= set(LAYER), "a runtime dependency is missing from the layer's pins"
    assert not set(LAYER) & LAMBDA_RUNTIME_SDK, "boto3/botocore and friends come from the Lambda runtime"
    for extra in project["optional-dependencies"].values():
        for dep in extra:
            name = canonical(dep.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip())
            if name != "llmops-sentinel":
                assert name not in LAYER or name in runtime, f"dev dependency {name} in the layer"


def test_the_venv_runs_the_locked_versions() -> None:
    drifted = {}
    for name, pin in DEV.items():
        if not pin.applies():
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            drifted[name] = (pin.version, None)
            continue
        if installed != pin.version:
            drifted[name] = (pin.version, installed)
    if drifted:
        pytest.fail(f"venv differs from requirements.lock (locked, installed); run `make venv`: {drifted}")


# What `make demo` must not install: the test, lint, type-check and SAM CLI toolchain (and the readers'
# and plots' heavy packages the demo never imports).
NOT_IN_DEMO = {
    "ruff",
    "mypy",
    "pytest",
    "hypothesis",
    "cfn-lint",
    "aws-sam-cli",
    "scipy",
    "uv",
    "import-linter",
    "pyarrow",
    "matplotlib",
    "boto3-stubs",
}


def test_the_demo_view_is_the_runtime_and_the_local_cloud_only() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = {"moto", "aws-sam-translator", "requests", "flask", "werkzeug"}  # the local cloud and moto's server
    runtime = {
        canonical(d.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip())
        for d in project["dependencies"]
    }
    assert runtime | needed <= set(DEMO), f"the demo venv lacks {sorted((runtime | needed) - set(DEMO))}"
    assert not set(DEMO) & NOT_IN_DEMO, f"dev tooling in the demo lock: {sorted(set(DEMO) & NOT_IN_DEMO)}"
    assert len(DEMO) < len(DEV) / 2


def test_the_demo_pins_are_the_dev_pins() -> None:
    for name, pin in DEMO.items():
        dev = DEV.get(name)
        assert dev is not None, f"the demo installs {name}, which the dev venv does not"
        assert (pin.version, pin.hashes) == (dev.version, dev.hashes), name

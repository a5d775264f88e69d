"""What each handler imports at cold start, pinned without timing (timing is bench/cold_start.py's job).

Each handler is imported in a fresh interpreter (this venv's, the handler's folder first on sys.path, as
Lambda loads it), which reports the modules it loaded and the pydantic models it built. The facts pinned
are the ones a cold-start regression comes from: numpy in the router and governance functions, the drift
stack in the latency monitor, the AWS SDK in a pure decision step, dev code anywhere, and models built at
import (the router and governance models are declared ``defer_build``: each is built when first used).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.build.lockfile import DEV_MODULES, REPO

HANDLERS = sorted(p.parent.name for p in (REPO / "functions").glob("*/handler.py"))
# The router and governance functions: their cold-start floor is `import boto3`, numpy never loads.
NO_NUMPY = ("alarm_router", "governance", "governance_scan", "governance_scan_worker")

PROBE = """
import json, sys
import handler
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

ours = {c for c in subclasses(BaseModel) if c.__module__.startswith("llmops_sentinel")}
built = sorted(f"{c.__module__}.{c.__qualname__}" for c in ours if c.__dict__.get("__pydantic_complete__"))
print(json.dumps({"modules": sorted(sys.modules), "built": built, "models": len(ours)}))
"""


@cache
def cold_import(folder: str) -> dict[str, Any]:
    """The modules a fresh interpreter holds after importing functions/<folder>/handler.py."""
    code_dir = REPO / "functions" / folder
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTINEL_", "PYTHON"))}
    env.update(AWS_DEFAULT_REGION="us-east-1", POWERTOOLS_SERVICE_NAME="cold-import-test")
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(code_dir)!r})\n{PROBE}"],
        capture_output=True,
        text=True,
        cwd=code_dir,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, f"{folder}: {out.stderr[-2000:]}"
    facts: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return facts


def loaded(folder: str, prefix: str) -> list[str]:
    return [m for m in cold_import(folder)["modules"] if m == prefix or m.startswith(prefix + ".")]


def test_the_probe_sees_what_a_handler_imports() -> None:
    # The probe must be able to fail: a numeric handler does load numpy and the runtime package.
    assert loaded("drift_detector", "numpy")
    assert loaded("drift_detector", "llmops_sentinel.services.drift")
    assert cold_import("drift_detector")["models"] > 10


@pytest.mark.parametrize("folder", NO_NUMPY)
def test_router_and_governance_handlers_import_no_numpy(folder: str) -> None:
    assert not loaded(folder, "numpy"), f"{folder} imports numpy at cold start"


@pytest.mark.parametrize("folder", NO_NUMPY)
def test_router_and_governance_handlers_build_no_model_at_import(folder: str) -> None:
    facts = cold_import(folder)
    assert facts["models"] > 0
    assert facts["built"] == [], f"{folder} builds pydantic models at import (declare them defer_build)"


@pytest.mark.parametrize("folder", HANDLERS)
def test_no_handler_imports_dev_code(folder: str) -> None:
    for module in DEV_MODULES:
        assert not loaded(folder, module), f"{folder} imports {module}"


def test_the_latency_monitor_imports_no_drift_code() -> None:
    # services/emf.py once imported services.drift for two annotations: ~0.4x the floor at every latency cold start.
    assert not loaded("latency_monitor", "llmops_sentinel.services.drift")
    assert not loaded("latency_monitor", "llmops_sentinel.domain.drift")
    assert not loaded("latency_monitor", "datasketches")


def test_the_scaling_planner_imports_no_aws_client_code() -> None:
    # A pure decision step: the workflow read the variants before it; botocore's exception types only.
    assert not loaded("scaling_planner", "boto3")
    assert not loaded("scaling_planner", "llmops_sentinel.adapters")


def test_the_handlers_are_those_of_the_template() -> None:
    template = (REPO / "template.yaml").read_text()
    assert len(HANDLERS) >= 10
    for folder in HANDLERS:
        assert f"functions/{folder}" in template, folder
    assert all(Path(REPO / "functions" / f).is_dir() for f in NO_NUMPY)

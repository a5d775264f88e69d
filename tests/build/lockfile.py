"""Parsing of the exported lock files (uv's requirements.txt format: name==version [; marker] + hashes)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker

REPO = Path(__file__).resolve().parents[2]
DEV_LOCK = REPO / "requirements.lock"
LAYER_LOCK = REPO / "layers" / "core" / "requirements.txt"
DEMO_LOCK = REPO / "requirements-demo.lock"
UV_LOCK = REPO / "uv.lock"
# Provided by the Lambda runtime, never in the layer (layers/core/Makefile, Makefile LAMBDA_RUNTIME_SDK).
LAMBDA_RUNTIME_SDK = frozenset({"boto3", "botocore", "s3transfer", "python-dateutil", "six", "urllib3"})
# Dev-only modules that must never reach the layer.
DEV_MODULES = ("sentinel_dev", "moto", "samtranslator", "scipy", "pytest", "hypothesis", "matplotlib")

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")
_HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Pin:
    name: str
    version: str
    marker: Marker | None
    hashes: set[str] = field(default_factory=set)

    def applies(self) -> bool:
        return self.marker is None or self.marker.evaluate()


def read_pins(path: Path) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        if match:
            name, version, marker = match.groups()
            current = Pin(canonical(name), version, Marker(marker) if marker else None)
            assert current.name not in pins, f"{path.name}: {name} pinned twice"
            pins[current.name] = current
            continue
        hashes = _HASH.findall(line)
        if hashes and current is not None:
            current.hashes.update(hashes)
            continue
        raise AssertionError(f"{path.name}: not an exact pin or a hash line: {raw!r}")
    return pins


def uv_lock_versions() -> dict[str, set[str]]:
    versions: dict[str, set[str]] = {}
    for package in tomllib.loads(UV_LOCK.read_text())["package"]:
        versions.setdefault(canonical(package["name"]), set()).add(package["version"])
    return versions

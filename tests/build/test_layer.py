"""The layer holds only what the handlers import: its recipe always, the built layer when one exists.

The recipe tests read layers/core/ and its Makefile (`make -n`), so they run everywhere. The built-layer
tests look at .aws-sam/build (arm64, `sam build`) and .aws-sam-x86/build (`make layer-report`) and skip
when neither has been built: building takes minutes and needs python3.12.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.build.lockfile import DEV_MODULES, LAMBDA_RUNTIME_SDK, LAYER_LOCK, REPO, canonical, read_pins

LAYER_SRC = REPO / "layers" / "core"
BUILDS = [REPO / ".aws-sam" / "build" / "CoreLayer", REPO / ".aws-sam-x86" / "build" / "CoreLayer"]
BUILT = [b for b in BUILDS if (b / "python").is_dir()]
SDK_MODULES = ("boto3", "botocore", "s3transfer", "dateutil", "urllib3", "six")


def handler_imports() -> dict[str, set[str]]:
    """Every module each functions/*/handler.py imports at module level (absolute imports only)."""
    imports: dict[str, set[str]] = {}
    for handler in sorted(REPO.glob("functions/*/handler.py")):
        found: set[str] = set()
        for node in ast.parse(handler.read_text()).body:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
                found.add(node.module)
        imports[handler.parent.name] = found
    return imports


def third_party(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] not in sys.stdlib_module_names


def test_there_are_handlers_and_they_import_the_runtime_package() -> None:
    imports = handler_imports()
    assert len(imports) >= 10
    assert all(any(m.startswith("llmops_sentinel") for m in found) for found in imports.values())


def test_the_layer_source_holds_only_the_runtime_package() -> None:
    # Build leftovers of an editable install (egg-info) never reach the layer: the recipe copies llmops_sentinel only.
    entries = {p.name for p in LAYER_SRC.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info")}
    assert entries == {"llmops_sentinel", "Makefile", "requirements.txt"}
    for module in DEV_MODULES:
        assert not list(LAYER_SRC.rglob(f"{module}/__init__.py")), module


def test_the_layer_recipe_copies_the_package_and_installs_only_the_locked_runtime_subset() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    recipe = subprocess.run(
        [make, "-n", "-C", str(LAYER_SRC), "build-CoreLayer", "ARTIFACTS_DIR=/tmp/layer"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    copies = [line for line in recipe.splitlines() if line.startswith("cp ")]
    assert copies == ['cp -R llmops_sentinel "/tmp/layer/python/llmops_sentinel"']
    assert "--require-hashes" in recipe and "-r requirements.txt" in recipe and "--no-deps" in recipe
    assert "compileall" in recipe and "sentinel_dev" not in recipe
    pins = read_pins(LAYER_LOCK)
    assert not set(pins) & LAMBDA_RUNTIME_SDK
    assert not set(pins) & {canonical(m) for m in (*DEV_MODULES, "aws-sam-translator", "aws-xray-sdk")}


def test_every_module_a_handler_imports_is_runtime_code() -> None:
    """What handlers import exists in the layer's sources or pins (or is stdlib, or the runtime's SDK)."""
    pinned = {canonical(name) for name in read_pins(LAYER_LOCK)}
    for handler, modules in handler_imports().items():
        for module in filter(third_party, modules):
            top = module.split(".")[0]
            if top == "llmops_sentinel":
                path = LAYER_SRC / Path(*module.split("."))
                assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (handler, module)
            elif top not in SDK_MODULES:
                spec = importlib.util.find_spec(top)
                assert spec is not None, (handler, module)
                dist = {"yaml": "pyyaml"}.get(top, top)
                assert canonical(dist) in pinned, f"{handler} imports {module}, which the layer does not pin"


@pytest.mark.skipif(not BUILT, reason="no built layer (sam build / make layer-report)")
@pytest.mark.parametrize("layer", BUILT, ids=lambda p: p.parents[1].name)
def test_the_built_layer_has_no_dev_code_no_sdk_no_tests_and_bytecode_for_everything(layer: Path) -> None:
    python = layer / "python"
    tops = {p.name.split(".")[0].split("-")[0] for p in python.iterdir()}
    assert not tops & set(DEV_MODULES), tops & set(DEV_MODULES)
    assert not tops & set(SDK_MODULES), tops & set(SDK_MODULES)
    assert "aws_xray_sdk" not in tops
    assert not [p for p in python.rglob("tests") if p.is_dir()]
    sources = [p for p in python.rglob("*.py")]
    assert len(sources) > 100
    missing = [p for p in sources if not (p.parent / "__pycache__" / f"{p.stem}.cpython-312.pyc").is_file()]
    assert not missing, missing[:5]
    pyc = (sources[0].parent / "__pycache__" / f"{sources[0].stem}.cpython-312.pyc").read_bytes()
    assert int.from_bytes(pyc[4:8], "little") == 0b01, "expected unchecked-hash pycs (flags = 1)"
    versions = {
        canonical(p.name.split("-")[0]): p.name.removesuffix(".dist-info").split("-")[1]
        for p in python.glob("*.dist-info")
    }
    assert versions == {name: pin.version for name, pin in read_pins(LAYER_LOCK).items()}


@pytest.mark.skipif(not BUILT, reason="no built layer (sam build / make layer-report)")
@pytest.mark.parametrize("layer", BUILT, ids=lambda p: p.parents[1].name)
def test_the_built_layer_has_every_module_the_handlers_import(layer: Path) -> None:
    python = layer / "python"
    for handler, modules in handler_imports().items():
        for module in filter(third_party, modules):
            if module.split(".")[0] in SDK_MODULES:
                continue
            path = python / Path(*module.split("."))
            found = path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
            assert found or list(path.parent.glob(f"{path.name}.*.so")), f"{handler} imports {module}: not in {layer}"

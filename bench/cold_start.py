"""Cold import time of every handler in template.yaml, against its floor measured in the same run.

Each measurement is a fresh interpreter timing only its import statement (the OS page cache is warm,
nothing else is), median of N runs. Two modes:

- the dev venv (default): ``.venv/bin/python bench/cold_start.py`` — where bytecode exists;
- a built layer (``make layer-report``): ``--python python3.12 --build .aws-sam-x86/build --sdk DIR``
  runs each handler from its built folder in a python3.12 started with ``-S -E -s`` (no site-packages,
  no PYTHONPATH) and sys.path = [handler folder, <build>/CoreLayer/python, <sdk>], the layout of a
  Lambda with the layer at /opt/python and the runtime's boto3. That is what a cold start imports.

Floors: ``import boto3, numpy, aws_lambda_powertools`` for the numeric handlers, ``import boto3`` for
the router and governance handlers, which must not import numpy at all. Targets: 1.3x the floor, and
an unzipped layer of at most 120 MB. ``python -X importtime`` in a handler folder shows where time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from sentinel_dev.local.template import find_template, load_template

NUMERIC_FLOOR = "boto3, numpy, aws_lambda_powertools"
SDK_FLOOR = "boto3"
# Handlers (code folder names) that must not import numpy: their floor is `import boto3`.
NO_NUMPY = frozenset({"alarm_router", "governance", "governance_scan", "governance_scan_worker"})
TARGET_RATIO = 1.3
TARGET_LAYER_MB = 120.0


class Interpreter:
    """A fresh interpreter per measurement, with only the given folders on sys.path (or the venv's)."""

    def __init__(self, python: str, paths: list[Path] | None) -> None:
        self.python = python
        self.paths = paths

    def run(self, code: str, cwd: Path | None) -> str:
        if self.paths is None:
            argv = [self.python, "-c", code]
        else:
            path = [str(cwd)] if cwd else []
            path += [str(p.resolve()) for p in self.paths]
            argv = [self.python, "-S", "-E", "-s", "-c", f"import sys; sys.path[:0] = {path!r}; {code}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYENV_VERSION"] = os.environ.get("PYENV_VERSION", "")
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        env["POWERTOOLS_SERVICE_NAME"] = "cold-start"
        out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, check=False)
        if out.returncode:
            raise SystemExit(f"{' '.join(argv[:2])} in {cwd}: {out.stderr.strip().splitlines()[-1:]}")
        return out.stdout

    def sample(self, modules: str, cwd: Path | None) -> tuple[float, bool]:
        """One fresh interpreter: seconds to import ``modules`` and whether numpy came along."""
        code = (
            "import time; t = time.perf_counter(); import " + modules + "; d = time.perf_counter() - t; "
            "print(d, 'numpy' in sys.modules)"
        )
        if self.paths is None:
            code = "import sys; " + code
        seconds, loaded = self.run(code, cwd).split()
        return float(seconds), loaded == "True"

    def paired(self, floor: str, module: str, cwd: Path, runs: int) -> tuple[float, float, bool]:
        """Medians of the floor and the handler, sampled alternately (a shared machine's load drifts)."""
        floors, handlers, numpy_loaded = [], [], False
        for _ in range(runs):
            floors.append(self.sample(floor, None)[0])
            seconds, numpy_loaded = self.sample(module, cwd)
            handlers.append(seconds)
        return statistics.median(floors), statistics.median(handlers), numpy_loaded


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure (python3.12 for a layer)")
    parser.add_argument("--build", type=Path, help="a sam build folder whose layer this python can load")
    parser.add_argument("--sdk", type=Path, help="folder with boto3/botocore, standing in for the Lambda runtime")
    parser.add_argument("--arm64-build", type=Path, help="the arm64 sam build folder, for its layer size")
    parser.add_argument(
        "--report-only",
        action="store_true",
        default=os.environ.get("LAYER_REPORT_ONLY", "") not in ("", "0"),
        help="print the table but exit 0 on a missed target (also LAYER_REPORT_ONLY=1)",
    )
    args = parser.parse_args()

    source = load_template(find_template(Path(__file__).parent))
    functions = {
        logical_id: resource["Properties"]["Handler"].rpartition(".")[0]
        for logical_id, resource in sorted(source.raw["Resources"].items())
        if resource["Type"] == "AWS::Serverless::Function"
    }
    layers = [lid for lid, r in source.raw["Resources"].items() if r["Type"] == "AWS::Serverless::LayerVersion"]
    misses: list[str] = []
    if args.build:
        paths = [args.build / layer / "python" for layer in layers] + ([args.sdk] if args.sdk else [])
        interpreter = Interpreter(args.python, paths)
        for label, build in (("arm64", args.arm64_build), ("x86_64", args.build)):
            if build is None:
                continue
            for layer in layers:
                size = tree_bytes(build / layer)
                ok = size / 1e6 <= TARGET_LAYER_MB
                misses += [] if ok else [f"{label} layer {size / 1e6:.0f} MB"]
                print(
                    f"layer {layer} ({label}): {size / 1e6:.1f} MB unzipped ({size / 2**20:.1f} MiB); "
                    f"target <= {TARGET_LAYER_MB:.0f} MB: {'ok' if ok else 'MISS'}"
                )

        def code_dir(logical_id: str) -> Path:
            return args.build / logical_id
    else:
        interpreter = Interpreter(args.python, None)

        def code_dir(logical_id: str) -> Path:
            return source.code_dirs[logical_id]

    print(f"python: {args.python}; median of {args.runs} fresh interpreters per row, each floor sampled")
    print("alternately with its handler. floors: numeric = `import boto3, numpy, aws_lambda_powertools`,")
    print("boto3 = `import boto3` (router and governance handlers, which must not import numpy)")
    print(f"{'function':30} {'import ms':>9} {'floor':>7} {'floor ms':>8} {'x floor':>7} {'numpy':>6}  verdict")
    for logical_id, module in functions.items():
        folder = source.code_dirs[logical_id].name
        floor = SDK_FLOOR if folder in NO_NUMPY else NUMERIC_FLOOR
        floor_s, seconds, numpy_loaded = interpreter.paired(floor, module, code_dir(logical_id), args.runs)
        ratio = seconds / floor_s
        problems = [f"{ratio:.2f}x > {TARGET_RATIO}x"] if ratio > TARGET_RATIO else []
        if folder in NO_NUMPY and numpy_loaded:
            problems.append("imports numpy")
        misses += [f"{logical_id}: {', '.join(problems)}"] if problems else []
        label = "boto3" if floor == SDK_FLOOR else "numeric"
        print(
            f"{logical_id:30} {seconds * 1000:9.0f} {label:>7} {floor_s * 1000:8.0f} {ratio:7.2f} "
            f"{'yes' if numpy_loaded else 'no':>6}  {'; '.join(problems) or 'ok'}"
        )
    if not misses:
        print("all targets met")
        return 0
    for miss in misses:
        print(f"TARGET MISSED: {miss}")
    if args.report_only:
        print("report only (--report-only / LAYER_REPORT_ONLY): exiting 0 despite the misses above")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())

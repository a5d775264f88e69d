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

``--invoke`` (``make layer-report`` sets it) also measures what a user waits for on a cold start: the
same fresh interpreter, after the import, calls the handler once with a sample event from ``events/``
(the first case of the function's folder that ``expected.json`` says succeeds) against the local cloud
(moto on 127.0.0.1, provisioned from template.yaml by ``sentinel_dev.local``; each function gets the
environment the template gives it). Work moved out of the import into the first invocation shows up
there: a change that improves the import column but worsens this one is not a win. The AWS calls of
that invocation go to moto in this process, so the column includes moto's time too (same for every
build measured).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentinel_dev.local.template import find_template, load_template

NUMERIC_FLOOR = "boto3, numpy, aws_lambda_powertools"
SDK_FLOOR = "boto3"
# Each floor plus the libraries every handler imports by design (Powertools' Logger, pydantic models at the
# boundaries; a model with a `Field` imports pydantic.fields, which pydantic.main alone does not): what a
# handler with no code of its own would cost. Printed for scale, not a target. The last row is the same
# router/governance floor with msgspec in pydantic's place: what msgspec models on those paths would start from.
LIBRARY_FLOORS: tuple[tuple[str, str], ...] = (
    (NUMERIC_FLOOR, NUMERIC_FLOOR + ", pydantic.main, pydantic.fields"),
    (SDK_FLOOR, SDK_FLOOR + ", aws_lambda_powertools, pydantic.main, pydantic.fields"),
    (SDK_FLOOR, SDK_FLOOR + ", aws_lambda_powertools, msgspec"),
)
# Handlers (code folder names) that must not import numpy: their floor is `import boto3`.
NO_NUMPY = frozenset({"alarm_router", "governance", "governance_scan", "governance_scan_worker"})
TARGET_RATIO = 1.3
TARGET_LAYER_MB = 120.0
EVENTS = Path(__file__).resolve().parents[1] / "events"
MARK = "COLD-START-SAMPLE "
# A LambdaContext stand-in with what Powertools' inject_lambda_context reads.
CONTEXT = (
    "class Context:\n"
    "    function_name = 'cold-start'; function_version = '$LATEST'; memory_limit_in_mb = 512\n"
    "    invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:cold-start'\n"
    "    aws_request_id = 'cold-start'; log_group_name = '/aws/lambda/cold-start'; log_stream_name = 'cold'\n"
    "    def get_remaining_time_in_millis(self): return 60000\n"
)


@dataclass(frozen=True)
class Invocation:
    """One sample invocation: the handler's attribute, the event file and the function's environment."""

    attribute: str
    event: Path
    environment: dict[str, str]


@dataclass(frozen=True)
class Sample:
    import_s: float
    import_cpu_s: float
    """CPU time of the import (this process only): steadier than wall time on a loaded machine."""
    numpy_at_import: bool
    invoke_s: float | None = None
    invoke_cpu_s: float | None = None
    """CPU time of the first invocation in the handler's process (moto's work runs in the bench's process)."""
    numpy_after_invoke: bool = False
    outcome: str = ""


def sample_event(folder: str) -> Path | None:
    """The case of events/<folder>/ that goes furthest, by what expected.json says: the first that
    succeeds (not rejected, not ignored), else the first not rejected, else the first that gets past
    validation (a typed error other than InvalidEventError)."""
    expected_file = EVENTS / folder / "expected.json"
    if not expected_file.is_file():
        return None
    expected: dict[str, Any] = json.loads(expected_file.read_text())

    def rank(case: str) -> int:
        result, error = expected[case].get("result"), expected[case].get("error")
        if isinstance(result, dict):
            return {"rejected": 9, "ignored": 1}.get(str(result.get("status")), 0)
        return 2 if error not in (None, "InvalidEventError") else 9

    cases = sorted((rank(case), case) for case in expected if (EVENTS / folder / case).is_file())
    return EVENTS / folder / cases[0][1] if cases and cases[0][0] < 9 else None


class Interpreter:
    """A fresh interpreter per measurement, with only the given folders on sys.path (or the venv's)."""

    def __init__(self, python: str, paths: list[Path] | None) -> None:
        self.python = python
        self.paths = paths

    def run(self, code: str, cwd: Path | None, extra_env: dict[str, str] | None = None) -> str:
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
        env.update(extra_env or {})
        out = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, check=False)
        if out.returncode:
            raise SystemExit(f"{' '.join(argv[:2])} in {cwd}: {out.stderr.strip().splitlines()[-1:]}")
        return out.stdout

    def sample(self, modules: str, cwd: Path | None, invocation: Invocation | None = None) -> Sample:
        """One fresh interpreter: seconds to import ``modules`` and whether numpy came along; with
        ``invocation``, then seconds of the first call of the handler on the sample event."""
        code = (
            "import time; t = time.perf_counter(); c = time.process_time(); import " + modules + "; "
            "d = time.perf_counter() - t; c = time.process_time() - c; n = 'numpy' in sys.modules; "
        )
        if invocation is None:
            code += f"import json; print({MARK!r} + json.dumps([d, c, n]))"
        else:
            code += (
                f"import json\n{CONTEXT}"
                f"event = json.loads(open({str(invocation.event)!r}).read())\n"
                "t = time.perf_counter(); ci = time.process_time()\n"
                "try:\n"
                f"    r = {modules}.{invocation.attribute}(event, Context())\n"
                "    o = 'ok' + (':' + str(r.get('status')) if isinstance(r, dict) and 'status' in r else '')\n"
                "except Exception as exc:\n"
                "    o = type(exc).__name__\n"
                "i = time.perf_counter() - t; ci = time.process_time() - ci\n"
                f"print({MARK!r} + json.dumps([d, c, n, i, ci, 'numpy' in sys.modules, o]))"
            )
        if self.paths is None:
            code = "import sys; " + code
        extra = invocation.environment if invocation else {}
        lines = [line for line in self.run(code, cwd, extra).splitlines() if line.startswith(MARK)]
        if not lines:
            raise SystemExit(f"no sample printed by the interpreter in {cwd}")
        return Sample(*json.loads(lines[-1][len(MARK) :]))

    def paired(
        self, floor: str, module: str, cwd: Path, runs: int, invocation: Invocation | None = None
    ) -> tuple[list[Sample], list[Sample]]:
        """The floor's and the handler's samples, taken alternately (a shared machine's load drifts)."""
        floors, samples = [], []
        for _ in range(runs):
            floors.append(self.sample(floor, None))
            samples.append(self.sample(module, cwd, invocation))
        return floors, samples


def table(
    args: argparse.Namespace,
    source: Any,
    functions: dict[str, str],
    interpreter: Interpreter,
    code_dir: Any,
    invocations: dict[str, Invocation],
) -> list[str]:
    """Print one row per function; return the missed targets."""
    misses: list[str] = []
    print(f"python: {args.python}; median of {args.runs} fresh interpreters per row, each floor sampled")
    print("alternately with its handler. floors: numeric = `import boto3, numpy, aws_lambda_powertools`,")
    print("boto3 = `import boto3` (router and governance handlers, which must not import numpy);")
    print("x cpu = the same ratio in CPU time of the import (steadier than wall time on a busy machine)")
    for floor, libraries in LIBRARY_FLOORS:
        floors, libs = interpreter.paired(floor, libraries, Path(tempfile.gettempdir()), args.runs)
        wall = [statistics.median(s.import_s for s in group) for group in (libs, floors)]
        cpu = [statistics.median(s.import_cpu_s for s in group) for group in (libs, floors)]
        print(
            f"library floor `import {libraries}`: {wall[0] * 1000:.0f} ms, {wall[0] / wall[1]:.2f}x "
            f"`import {floor}` ({cpu[0] / cpu[1]:.2f}x in CPU time)"
        )
    if invocations:
        print("+invoke = the import and then the first invocation on the sample event, in the same interpreter")
        print("(its x cpu: the handler process's CPU for both over the floor's import CPU; moto's work is not in it)")
    print(
        f"{'function':30} {'import ms':>9} {'floor':>7} {'floor ms':>8} {'x floor':>7} {'x cpu':>7} {'numpy':>6}"
        + (f" {'+invoke ms':>10} {'x floor':>7} {'x cpu':>7}  {'event -> outcome':40}" if invocations else "")
        + "  verdict"
    )
    for logical_id, module in functions.items():
        folder = source.code_dirs[logical_id].name
        floor = SDK_FLOOR if folder in NO_NUMPY else NUMERIC_FLOOR
        invocation = invocations.get(logical_id)
        floors, samples = interpreter.paired(floor, module, code_dir(logical_id), args.runs, invocation)
        floor_s = statistics.median(s.import_s for s in floors)
        seconds = statistics.median(s.import_s for s in samples)
        cpu = [statistics.median(s.import_cpu_s for s in group) for group in (samples, floors)]
        cpu_ratio = cpu[0] / cpu[1]
        numpy_loaded = any(s.numpy_at_import for s in samples)
        ratio = seconds / floor_s
        problems = [f"{ratio:.2f}x > {TARGET_RATIO}x"] if ratio > TARGET_RATIO else []
        if folder in NO_NUMPY and numpy_loaded:
            problems.append("imports numpy")
        misses += [f"{logical_id}: {', '.join(problems)}"] if problems else []
        label = "boto3" if floor == SDK_FLOOR else "numeric"
        row = (
            f"{logical_id:30} {seconds * 1000:9.0f} {label:>7} {floor_s * 1000:8.0f} {ratio:7.2f} "
            f"{cpu_ratio:7.2f} {'yes' if numpy_loaded else 'no':>6}"
        )
        if invocations:
            if invocation is None:
                row += f" {'-':>10} {'-':>7} {'-':>7}  {'(no sample event)':40}"
            else:
                total = statistics.median(s.import_s + (s.invoke_s or 0.0) for s in samples)
                total_cpu = statistics.median(s.import_cpu_s + (s.invoke_cpu_s or 0.0) for s in samples)
                outcome = f"{invocation.event.name} -> {samples[-1].outcome}"
                if folder in NO_NUMPY and any(s.numpy_after_invoke for s in samples):
                    outcome += " (numpy at invoke)"
                row += f" {total * 1000:10.0f} {total / floor_s:7.2f} {total_cpu / cpu[1]:7.2f}  {outcome:40}"
        print(row + f"  {'; '.join(problems) or 'ok'}")
    return misses


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
    parser.add_argument(
        "--invoke",
        action="store_true",
        help="also time the first invocation on a sample event, against the local cloud (see the docstring)",
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
            return Path(args.build) / logical_id
    else:
        interpreter = Interpreter(args.python, None)

        def code_dir(logical_id: str) -> Path:
            return source.code_dirs[logical_id]

    if args.invoke:
        from sentinel_dev.local.cloud import LocalCloud

        with LocalCloud() as cloud:
            base = cloud.function_environment()
            invocations = {}
            for logical_id in functions:
                spec = cloud.runtime.spec(logical_id)
                event = sample_event(source.code_dirs[logical_id].name)
                if event is not None:
                    env = {**base, **spec.environment, "AWS_LAMBDA_FUNCTION_NAME": spec.name}
                    invocations[logical_id] = Invocation(spec.handler.rpartition(".")[2], event, env)
            misses += table(args, source, functions, interpreter, code_dir, invocations)
    else:
        misses += table(args, source, functions, interpreter, code_dir, {})
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

"""Cold import time of every handler in template.yaml, against the unavoidable floor.

Each measurement is a fresh interpreter timing only its import statement (no warm caches beyond
the OS page cache), median of N runs; `python -X importtime -c "import handler"` in a function's
folder shows where the time goes. The floor is `import boto3, numpy,
aws_lambda_powertools` measured in the same run; the ratio is what a handler adds on top.

    .venv/bin/python bench/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from sentinel_dev.local.template import find_template, load_template

FLOOR = "boto3, numpy, aws_lambda_powertools"


def import_seconds(modules: str, cwd: Path | None = None, runs: int = 7) -> float:
    """Median time to import ``modules`` in a fresh interpreter (the handler's cold-start share)."""
    code = f"import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=True).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    source = load_template(find_template(Path(__file__).parent))
    floor = import_seconds(FLOOR, runs=args.runs)
    print(f"floor (import {FLOOR}): {floor * 1000:.0f} ms (median of {args.runs})")
    print(f"{'function':32} {'import ms':>10} {'x floor':>8}")
    for logical_id, resource in sorted(source.raw["Resources"].items()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        module = resource["Properties"]["Handler"].rpartition(".")[0]
        seconds = import_seconds(module, cwd=source.code_dirs[logical_id], runs=args.runs)
        print(f"{logical_id:32} {seconds * 1000:10.0f} {seconds / floor:8.2f}")


if __name__ == "__main__":
    main()

"""``sentinel demo``: the main job on the local cloud, end to end, with a timeline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="run the alarm-to-remediation loop on the local cloud (moto)",
        description="Run the latency, drift and governance scenes on the local cloud (template.yaml on moto).",
    )
    parser.add_argument("--json", action="store_true", help="print the timeline as JSON")
    parser.add_argument("--report", type=Path, default=None, metavar="HTML",
                        help="also write the HTML report of the local cloud there (see `sentinel report`)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sentinel_dev.cli.output import emit_json
    from sentinel_dev.local.demo import run_demo

    report = run_demo(echo=None if args.json else print, report_path=args.report)
    if args.json:
        emit_json(report)
    return 0 if report.ok else 1

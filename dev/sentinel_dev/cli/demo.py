"""``sentinel demo``: the main job on the local cloud, end to end, with a timeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXAMPLES = """examples:
  sentinel demo                                  # the full day of real traffic, every incident
  sentinel demo --scenario rollback --seed 3     # one loop only
  sentinel demo --json | jq .endpoints           # decisions and executions per endpoint
  sentinel demo --report build/report.html       # and the HTML report of the local cloud
  sentinel demo --scenario scenes                # the three synthetic scenes (latency, drift, governance)
"""


def register(sub: Any) -> None:
    from sentinel_dev.local.scenes.day import SCENARIOS

    parser = sub.add_parser(
        "demo",
        help="a simulated day of real LLM traffic on the local cloud (moto), with incidents and remediations",
        description=(
            "Replay the Azure LLM inference trace 2023 (real arrivals and token counts; CC-BY 4.0, Patel et "
            "al., Splitwise, ISCA 2024) through Firehose into two endpoints of a local cloud built from "
            "template.yaml, over a simulated day with scripted incidents: drift -> retrain, a regressing "
            "deployment -> rollback, a surge -> scale-out, a quiet night -> scale-down, a non-compliant "
            "config and an admin policy -> findings and remediation, a duplicate alarm -> nothing. "
            "Latencies are modelled from the token counts (docs/demo.md)."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        choices=[*SCENARIOS, "scenes"],
        default="full",
        help="full (default), one incident, or the older synthetic scenes",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the thinning, capture sample and noise")
    parser.add_argument(
        "--speed",
        type=float,
        default=0.0,
        metavar="X",
        help="simulated seconds per wall second, at most (0 = as fast as it runs)",
    )
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary instead")
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="HTML",
        help="also write the HTML report of the local cloud there (see `sentinel report`)",
    )
    parser.set_defaults(func=run)


class _Bar:
    """A plain progress bar over simulated time on stderr, only when stderr is a terminal."""

    WIDTH = 30

    def __init__(self) -> None:
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        filled = int(self.WIDTH * done / max(total, 1))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r  simulated {done // 60:02d}:{done % 60:02d} [{bar}] {100 * done // max(total, 1):3d}%\r")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * (self.WIDTH + 40) + "\r")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from sentinel_dev.cli.output import emit_json
    from sentinel_dev.local.demo import run_demo

    bar = _Bar()
    try:
        report = run_demo(
            echo=None if args.json else print,
            seed=args.seed,
            report_path=args.report,
            scenario=args.scenario,
            speed=args.speed,
            progress=bar,
        )
    finally:
        bar.close()
    if args.json:
        emit_json(report)
    return 0 if report.ok else 1

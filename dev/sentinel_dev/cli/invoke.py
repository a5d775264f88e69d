"""``sentinel invoke FUNCTION_LOGICAL_ID --event FILE``: ``sam local invoke`` without Docker.

The handler, its environment and its layer come from template.yaml; AWS calls go to the local
cloud (moto) started for the call. Logs go to stderr, the function's result to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from llmops_sentinel.errors import BadInputError

EPILOG = """\
examples:
  sentinel invoke AlarmRouterFunction -e events/alarm_router/p99_latency_alarm.json
  sentinel invoke GovernanceFunction -e events/governance/create_endpoint_config_no_kms.json --quiet
  # a fresh local cloud has no history: seed what the event needs first
  sentinel invoke LatencyMonitorFunction -e events/latency_monitor/confirm_alarm.json --seed-history
  sentinel invoke DriftDetectorFunction -e events/drift_detector/manual_one_endpoint.json --seed-history
  echo '{"at": "2026-11-26T10:15:00Z"}' | sentinel invoke DriftDetectorFunction -e -

--seed-history (LatencyMonitorFunction, DriftDetectorFunction) puts, for the event's endpoint and time,
what a deployed stack would have accumulated: LatencyMonitorFunction gets 150 min of ModelLatency, a
deployment and 6 min of x3 latency (-> confirmed, cause deployment); DriftDetectorFunction gets a
baseline and a window of drifted traffic through Firehose (-> drift, a report, a bus event).
Each sample event's expected result without seeding is in events/<function>/expected.json.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "invoke",
        help="run a function's handler on the local cloud, like sam local invoke",
        description="Run a function's handler (from template.yaml) in-process against the local cloud (moto).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", metavar="FUNCTION_LOGICAL_ID", help="logical id in template.yaml")
    parser.add_argument("--event", "-e", required=True, help="event JSON file ('-' for stdin)")
    parser.add_argument("--template", "-t", type=Path, default=None, help="template.yaml (default: nearest)")
    parser.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="template parameters")
    parser.add_argument("--quiet", "-q", action="store_true", help="do not print the function's logs")
    parser.add_argument(
        "--seed-history",
        action="store_true",
        help="first put the metrics/baseline/traffic the event needs (LatencyMonitorFunction, DriftDetectorFunction)",
    )
    parser.set_defaults(func=run)


def read_event(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise BadInputError(f"cannot read event file {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BadInputError(f"event file {path} is not JSON: {exc}") from exc


def parse_overrides(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"parameter override {item!r} must be KEY=VALUE")
        overrides[key] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from sentinel_dev.local.cloud import LocalCloud
    from sentinel_dev.local.seeds import SEEDERS

    event = read_event(args.event)
    if args.seed_history and args.function not in SEEDERS:
        raise BadInputError(f"--seed-history knows {', '.join(sorted(SEEDERS))}, not {args.function}")
    if args.seed_history and not isinstance(event, dict):
        raise BadInputError("--seed-history needs an event object")
    sys.stderr.write("starting the local cloud (template.yaml on moto)...\n")
    with LocalCloud(template=args.template, parameters=parse_overrides(args.parameter_overrides)) as cloud:
        cloud.stack.function(args.function)  # a clear error for an unknown logical id
        if args.seed_history:
            sys.stderr.write(f"seeding: {SEEDERS[args.function](cloud, event, np.random.default_rng(7))}\n")
        sys.stderr.write(f"invoking {args.function}...\n")
        record = cloud.invoke(args.function, event)
    if not args.quiet and record.logs:
        sys.stderr.write(record.logs if record.logs.endswith("\n") else record.logs + "\n")
    sys.stderr.write(f"REPORT {record.function} RequestId: {record.request_id} Duration: {record.duration_ms:.1f} ms\n")
    payload = record.result if record.ok else record.error_payload()
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    return 0 if record.ok else 1

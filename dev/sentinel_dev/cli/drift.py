"""``sentinel drift check --baseline B --current PATH... [--config monitor.yaml] [--json]``.

``B`` and every ``PATH`` (local or ``s3://``) may be a profile JSON, a Model Monitor ``statistics.json``
(baseline only makes sense) or raw data (JSONL, CSV, Parquet: streamed); several current files are merged
into one window. ``--progress`` (or a terminal on stderr) reports rows/s, elapsed and an ETA on stderr.
Exit 0 whatever was found; bad input (unreadable file, no usable record, invalid config) -> exit 2
with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from llmops_sentinel.domain.drift.baseline import config_from_constraints
from llmops_sentinel.domain.drift.stat_tests import DriftReport, check_drift
from llmops_sentinel.errors import BadInputError
from sentinel_dev.cli.baseline import add_progress_flag, load_sources, read_config, read_json_file, wants_progress
from sentinel_dev.cli.output import emit_json


def register(sub: Any) -> None:
    parser = sub.add_parser("drift", help="drift checks against a baseline")
    actions = parser.add_subparsers(dest="drift_command", required=True, parser_class=type(parser))
    check = actions.add_parser("check", help="compare current traffic with a baseline")
    check.add_argument("--baseline", "-b", required=True, help="baseline profile, statistics.json or data file")
    check.add_argument("--current", nargs="+", required=True, metavar="PATH", help="current data or profiles")
    check.add_argument("--config", "-c", type=Path, default=None, help="monitor config (YAML/JSON)")
    check.add_argument("--constraints", type=Path, default=None, help="Model Monitor constraints.json")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    add_progress_flag(check)
    check.set_defaults(func=run)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4f}"


def render(report: DriftReport) -> str:
    tested = len(report.features)
    head = "DRIFT" if report.drifted else "no drift"
    lines = [
        f"{head}: {len(report.drifted_features)}/{tested} features drifted "
        f"(share {report.share_drifted:.0%}, threshold {report.share_threshold:.0%}"
        + (f", critical: {', '.join(report.critical_drifted)}" if report.critical_drifted else "")
        + f"); current {report.records_current} records ({report.records_current_failed} failed)"
    ]
    lines.extend(f"  because {reason}" for reason in report.reasons)
    width = max([len(f.feature) for f in report.features] + [7])
    lines.append(
        f"{'feature':<{width}}  {'kind':<11}  {'method':<13}  {'statistic':>9}  {'p':>9}  {'p(BH)':>9}"
        f"  {'effect':>9}  {'severity':<10}  drifted"
    )
    for f in report.features:
        lines.append(
            f"{f.feature:<{width}}  {f.kind:<11}  {f.method:<13}  {_fmt(f.statistic):>9}  {_fmt(f.p_value):>9}"
            f"  {_fmt(f.p_value_adjusted):>9}  {_fmt(f.effect):>9}  {f.severity:<10}  {'YES' if f.drifted else 'no'}"
            + ("  (critical)" if f.critical else "")
        )
    for s in report.skipped:
        lines.append(f"skipped {s.feature}: {s.reason}")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    config = read_config(args.config)
    if args.constraints is not None:
        config = config_from_constraints(read_json_file(args.constraints), config)
    progress = wants_progress(args)
    baseline, _kinds, _errors = load_sources([args.baseline], config.features, config.endpoint, "baseline", progress)
    current, _ckinds, errors = load_sources(args.current, config.features, config.endpoint, "current", progress)
    if not set(baseline.features) & set(current.features):  # nothing to compare is bad input, not "no drift"
        raise BadInputError(
            f"the current data has none of the baseline's {len(baseline.features)} features "
            f"(baseline: {', '.join(sorted(baseline.features)[:5]) or '-'}; "
            f"current: {', '.join(sorted(current.features)[:5]) or '-'})"
        )
    report = check_drift(baseline, current, config)
    if args.json:
        emit_json(report.as_dict())  # model_dump(mode="json") without building pydantic's serializer
    else:
        sys.stdout.write(render(report))
        for err in errors[:5]:
            sys.stdout.write(f"failed record {err}\n")
    return 0

"""``sentinel baseline build --input PATH... --output baseline.json``: a reference profile from data.

Each input (a local path or ``s3://bucket/key``) is detected: raw inference data (data capture JSONL,
chat/TGI logs, JSON, CSV, Parquet), a profile JSON written by this tool, or a SageMaker Model Monitor
``statistics.json``; all are merged into one versioned profile. Data files are streamed in chunks into
the profile (``sentinel_dev.readers``): memory follows the profile, not the file. ``--progress`` (or a
terminal on stderr) shows rows, rows/s, elapsed time and an ETA on stderr.

Process start counts in every run, so this module imports what profiling needs and no more: the monitor
config models (pydantic) and YAML load only with ``--config``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from llmops_sentinel.domain.drift.profiles import EndpointProfile, merge_all, profile_to_json
from llmops_sentinel.domain.drift.records import RecordError
from llmops_sentinel.errors import BadInputError, ConfigError
from sentinel_dev.cli.output import emit_json
from sentinel_dev.readers import ProgressLine, open_source, profile_source

if TYPE_CHECKING:
    from llmops_sentinel.domain.drift.stat_tests import MonitorConfig


def register(sub: Any) -> None:
    parser = sub.add_parser("baseline", help="build a drift baseline profile")
    actions = parser.add_subparsers(dest="baseline_command", required=True, parser_class=type(parser))
    build = actions.add_parser("build", help="profile data files (or import statistics.json) into baseline.json")
    build.add_argument("--input", "-i", nargs="+", required=True, metavar="PATH", help="data, profile or stats files")
    build.add_argument("--output", "-o", required=True, type=Path, help="where to write the baseline profile JSON")
    build.add_argument("--config", "-c", type=Path, default=None, help="monitor config (YAML/JSON)")
    build.add_argument("--endpoint", default=None, help="endpoint name recorded in the profile")
    build.add_argument("--json", action="store_true", help="print a JSON summary")
    add_progress_flag(build)
    build.set_defaults(func=run)


def add_progress_flag(parser: Any) -> None:
    parser.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="progress on stderr (rows/s, elapsed, ETA); the default when stderr is a terminal",
    )


def wants_progress(args: argparse.Namespace) -> bool:
    flag = getattr(args, "progress", None)
    return bool(flag) if flag is not None else sys.stderr.isatty()


def read_config(path: Path | None) -> MonitorConfig:
    """A monitor config file (YAML or JSON) -> validated MonitorConfig; ConfigError otherwise."""
    from llmops_sentinel.domain.drift.stat_tests import default_monitor_config, load_monitor_config

    if path is None:
        return default_monitor_config()
    import yaml

    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML/JSON ({str(exc).splitlines()[0]})") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: a monitor config is a mapping")
    return load_monitor_config(data)


def read_json_file(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except orjson.JSONDecodeError as exc:
        raise BadInputError(f"{path}: not JSON ({exc})") from None


def load_sources(
    paths: list[str], features: list[str] | None, endpoint: str | None, role: str, progress: bool = False
) -> tuple[EndpointProfile, list[str], list[RecordError]]:
    """Files -> one merged profile, what each file was, and the first per-record errors (all counted)."""
    profiles: list[EndpointProfile] = []
    kinds: list[str] = []
    errors: list[RecordError] = []
    for path in paths:
        line = ProgressLine(f"{role} {path}", open_source(path).size) if progress else None
        read = profile_source(path, features=features, endpoint=endpoint, progress=line)
        profile, kind, errs = read.profile, read.kind, read.errors
        if line is not None:
            line.finish(profile.records_ok + profile.records_failed, line.total or 0)
        if kind == "data" and profile.records_ok == 0:
            first = f": {errs[0]}" if errs else ""
            raise BadInputError(f"{path}: no usable {role} record ({len(errs)} failed){first}")
        profiles.append(profile)
        kinds.append(kind)
        errors.extend(errs)
    return merge_all(profiles), kinds, errors


def run(args: argparse.Namespace) -> int:
    config = read_config(args.config) if args.config is not None else None
    profile, kinds, errors = load_sources(
        args.input,
        config.features if config else None,
        args.endpoint or (config.endpoint if config else None),
        "baseline",
        wants_progress(args),
    )
    try:
        args.output.write_bytes(profile_to_json(profile))
    except OSError as exc:
        raise BadInputError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
    summary = {
        "output": str(args.output),
        "inputs": dict(zip(args.input, kinds, strict=True)),
        "records_ok": profile.records_ok,
        "records_failed": profile.records_failed,
        "features": {name: kind for name, kind in sorted(profile.kinds.items())},
        "errors": [str(e) for e in errors[:20]],
    }
    if args.json:
        emit_json(summary)
    else:
        sys.stdout.write(
            f"{args.output}: {profile.records_ok} records ok, {profile.records_failed} failed, "
            f"{len(profile.features)} features ({', '.join(sorted(profile.features))})\n"
        )
        for err in errors[:5]:
            sys.stdout.write(f"  skipped {err}\n")
    return 0

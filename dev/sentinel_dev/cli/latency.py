"""``sentinel latency detect --input series.csv [--output scores.csv] [--mode regression|anomaly] [--json]``.

``--mode regression`` (default, latency): upward, sustained changes, a lone spike is held;
``--mode anomaly`` (other metrics): two-sided, spikes count, values may be zero or negative.

Input: CSV with a header holding ``timestamp`` and ``value`` (other columns are ignored); timestamps
are ISO-8601 (naive means UTC) or epoch seconds. A file is a complete record, so rows are ordered by
time (stably) before scoring, which then runs exactly as the online detector would; duplicate
timestamps keep the first row. Output CSV: ``timestamp,value,score,alarm`` in time order, timestamp
and value as written in the input. Exit 0 whatever was found; bad input -> exit 2, one line on stderr.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from llmops_sentinel.domain.latency import DetectionResult, LatencyParams, PointStatus, detect
from llmops_sentinel.errors import BadInputError
from sentinel_dev.cli.output import emit_json


class SeriesFileError(BadInputError):
    """The series CSV cannot be read as ``timestamp,value``."""


def register(sub: Any) -> None:
    parser = sub.add_parser("latency", help="latency-regression detection")
    actions = parser.add_subparsers(dest="latency_command", required=True, parser_class=type(parser))
    det = actions.add_parser("detect", help="score a timestamp,value series causally")
    det.add_argument("--input", "-i", type=Path, required=True, help="CSV with timestamp,value columns")
    det.add_argument("--output", "-o", type=Path, default=None, help="write timestamp,value,score,alarm")
    det.add_argument(
        "--interval", type=float, default=None, help="metric period in s (default: median spacing in the file)"
    )
    det.add_argument(
        "--mode",
        choices=["regression", "anomaly"],
        default="regression",
        help="regression: upward sustained changes (latency); anomaly: two-sided, spikes count",
    )
    det.add_argument("--json", action="store_true", help="print the summary as JSON")
    det.add_argument("--plot", type=Path, default=None, help="write a PNG: series, alarms, onsets and score")
    det.set_defaults(func=run)


def parse_timestamp(text: str) -> float:
    """Epoch seconds from ISO-8601 (naive = UTC) or a number of epoch seconds."""
    raw = text.strip()
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise SeriesFileError(f"unparsable timestamp {raw!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def read_series(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Raw timestamp and value strings plus their parsed arrays, in file order."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SeriesFileError(f"cannot read {path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if not fields:
        raise SeriesFileError(f"{path}: empty file (a header timestamp,value is required)")
    reader.fieldnames = fields
    missing = [c for c in ("timestamp", "value") if c not in fields]
    if missing:
        raise SeriesFileError(f"{path}: missing column(s) {', '.join(missing)} in header {','.join(fields)}")
    t_raw: list[str] = []
    v_raw: list[str] = []
    ts: list[float] = []
    vs: list[float] = []
    for line, row in enumerate(reader, start=2):
        t_txt, v_txt = row.get("timestamp"), row.get("value")
        if t_txt is None or v_txt is None:
            raise SeriesFileError(f"{path}:{line}: row has too few columns")
        try:
            ts.append(parse_timestamp(t_txt))
        except SeriesFileError as exc:
            raise SeriesFileError(f"{path}:{line}: {exc}") from exc
        try:
            vs.append(float(v_txt))
        except ValueError as exc:
            raise SeriesFileError(f"{path}:{line}: unparsable value {v_txt.strip()!r}") from exc
        t_raw.append(t_txt.strip())
        v_raw.append(v_txt.strip())
    if not ts:
        raise SeriesFileError(f"{path}: no data rows")
    values = np.asarray(vs, dtype=np.float64)
    if not (np.isfinite(values) & (values > 0)).any():  # NaN/inf points are skipped; none left is bad input
        raise SeriesFileError(f"{path}: none of the {len(vs)} values is a finite positive number")
    return t_raw, v_raw, np.asarray(ts, dtype=np.float64), values


def infer_interval(ts: np.ndarray) -> float:
    steps = np.diff(np.unique(ts[np.isfinite(ts)]))
    return float(np.median(steps)) if steps.size else 60.0


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def summary(result: DetectionResult, interval: float, mode: str = "regression") -> dict[str, Any]:
    return {
        "mode": mode,
        "points": int(result.timestamps.size),
        "accepted": result.counts[PointStatus.ACCEPTED.name.lower()],
        "duplicates": result.counts[PointStatus.DUPLICATE.name.lower()],
        "invalid": result.counts[PointStatus.INVALID.name.lower()],
        "interval_s": interval,
        "alarm_points": int(result.alarms.sum()),
        "warming_up_points": int(result.warming_up.sum()),
        "warming_up": bool(result.warming_up[-1]) if result.warming_up.size else True,
        "max_score": float(result.scores.max()) if result.scores.size else 0.0,
        "alarms": [
            {
                "onset": iso(a.onset),
                "detected_at": iso(a.detected_at),
                "magnitude": round(a.magnitude, 4),
                "score": round(a.score, 4),
                "statistic": a.statistic,
                "direction": a.direction,
                "baseline": round(a.baseline, 6),
            }
            for a in result.alarm_records
        ],
    }


def run(args: argparse.Namespace) -> int:
    t_raw, v_raw, ts, vs = read_series(args.input)
    order = np.argsort(ts, kind="stable")
    ts, vs = ts[order], vs[order]
    interval = args.interval if args.interval is not None else infer_interval(ts)
    if not interval > 0:
        raise SeriesFileError(f"interval must be positive, got {interval}")
    result = detect(ts, vs, LatencyParams.for_mode(args.mode, expected_interval_s=interval))
    if args.output is not None:
        with args.output.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["timestamp", "value", "score", "alarm"])
            for k, i in enumerate(order.tolist()):
                out.writerow([t_raw[i], v_raw[i], f"{result.scores[k]:.6f}", int(result.alarms[k])])
    info = summary(result, interval, args.mode)
    if args.plot is not None:
        from sentinel_dev.cli.plots import latency_figure

        latency_figure(
            ts,
            vs,
            result.scores,
            result.alarms,
            [a.onset for a in result.alarm_records],
            args.plot,
            title=f"{args.input.name}: {len(info['alarms'])} {args.mode} alarm(s)",
            warming_up=result.warming_up,
        )
    if args.json:
        emit_json(info)
        return 0
    what = "regression" if args.mode == "regression" else "anomaly"
    head = f"{len(info['alarms'])} {what} alarm(s)" if info["alarms"] else f"no {what}"
    warm = "still warming up" if info["warming_up"] else "warmed up"
    sys.stdout.write(
        f"{head}: {info['points']} points ({info['accepted']} scored, {info['duplicates']} duplicate, "
        f"{info['invalid']} invalid), interval {interval:g} s, max score {info['max_score']:.2f}, "
        f"{info['warming_up_points']} points warming up ({warm})\n"
    )
    for a in info["alarms"]:
        sys.stdout.write(
            f"  onset {a['onset']}  detected {a['detected_at']}  {a['magnitude']:+.0%}  "
            f"score {a['score']:.2f} ({a['statistic']}, {a['direction']})\n"
        )
    return 0

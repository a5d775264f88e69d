"""NAB benchmark: the latency detector on 31 real and artificial NAB series, numenta HTM beside it.

Run on demand from the project root (not in CI)::

    .venv/bin/python bench/nab.py                    # both modes, in-process scoring (about a minute)
    .venv/bin/python bench/nab.py --official         # plus ../shared/bench/nab/nab_score.py per mode
    .venv/bin/python bench/nab.py --mode anomaly --categories realKnownCause
    .venv/bin/python bench/nab.py --mode anomaly --breakdown   # where the points are lost, per series
    .venv/bin/python bench/nab.py --mode anomaly --halves      # also each half of the set (hash split)

Per mode (``regression``, ``anomaly``) it runs the detector with the package defaults on every series
(exactly what ``sentinel latency detect --mode M`` computes) and prints:

- the NAB scores (standard / low FP / low FN) of the ``score`` column, each detector with its best
  threshold on the set (NAB's own sweep: ``scorer/nab/sweeper.py`` next to the data, imported here),
  normalised so that 0 is NAB's null detector and 100 a perfect one; numenta HTM's published scores
  for the same series are scored in the same run;
- alarm episodes (rising edges of the ``alarm`` column) per 10,000 scored points that start outside
  every labelled window, on the real series (``real*`` categories) and on all of them.

``--halves`` also scores two halves of the set split by a hash of each series' name (first byte
of its SHA-256 even / odd: 13 and 18 series), each with its own best threshold: a change that gains
on one half only is the set's noise, not a method gain.

``--official`` also runs the shared ``nab_score.py`` (NAB's full runner, pandas in its own venv) for
each mode with ``--detect-args '--mode M'`` and prints its summary line: it is the reference, the
in-process sweep is there to make the run cheap. Nothing here is tuned to these files: they are a
development set, other real series are kept aside.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from llmops_sentinel.domain.latency import LatencyParams, PointStatus, detect

NAB = Path(os.environ.get("NAB_DIR", Path(__file__).resolve().parents[1] / ".." / "shared" / "bench" / "nab"))
PROFILES = {
    "standard": (1.0, 0.11, 1.0),  # tp, fp, fn weights (NAB config/profiles.json)
    "low_FP": (1.0, 0.22, 1.0),
    "low_FN": (1.0, 0.11, 2.0),
}
PROBATION = 0.15


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.strip()).timestamp()


def load() -> list[dict[str, Any]]:
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    series = []
    for cat in sorted(os.listdir(NAB / "data")):
        for name in sorted(os.listdir(NAB / "data" / cat)):
            key = f"{cat}/{name}"
            with (NAB / "data" / cat / name).open(newline="") as fh:
                rows = list(csv.DictReader(fh))
            ts = np.array([_ts(r["timestamp"]) for r in rows])
            vs = np.array([float(r["value"]) for r in rows])
            with (NAB / "results" / "numenta" / cat / f"numenta_{name}").open(newline="") as fh:
                numenta = np.array([float(r["anomaly_score"]) for r in csv.DictReader(fh)])
            wins = []
            for lo, hi in windows.get(key, []):
                a, b = _ts(lo), _ts(hi)
                inside = np.flatnonzero((ts >= a) & (ts <= b))
                if inside.size:
                    wins.append((int(inside[0]), int(inside[-1])))
            series.append({"key": key, "cat": cat, "ts": ts, "vs": vs, "numenta": numenta, "windows": wins})
    return series


def _sigmoid_scaled(x: float) -> float:
    return -1.0 if x > 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def sweep_points(n: int, windows: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: unweighted NAB score, window id (-1 outside, -2 probationary), tp flag (as NAB's sweeper)."""
    unweighted = np.empty(n)
    wid = np.full(n, -1)
    prev_right: int | None = None
    prev_width = 0.0
    win = {lo: (k, lo, hi) for k, (lo, hi) in enumerate(windows)}
    cur: tuple[int, int, int] | None = None
    for i in range(n):
        if cur is None and i in win:
            cur = win[i]
        if cur is not None:
            k, lo, hi = cur
            width = float(hi - lo + 1)
            unweighted[i] = _sigmoid_scaled(-(hi - i + 1) / width)
            wid[i] = k
            if i == hi:
                prev_right, prev_width, cur = hi, width, None
        elif prev_right is None:
            unweighted[i] = -1.0
        else:
            unweighted[i] = _sigmoid_scaled(abs(prev_right - i) / (prev_width - 1.0))
    probation = int(min(math.floor(PROBATION * n), PROBATION * 5000))
    wid[:probation] = -2
    return unweighted, wid, np.asarray([w >= 0 for w in wid])


def nab_scores(series: list[dict[str, Any]], column: str) -> dict[str, float]:
    """Normalised NAB score per profile, with the threshold optimised over the whole set."""
    max_tp = _sigmoid_scaled(-1.0)
    parts = []
    n_windows = 0
    for j, s in enumerate(series):
        unweighted, wid, _ = sweep_points(s["ts"].size, s["windows"])
        keep = wid != -2
        gid = np.where(wid >= 0, wid + n_windows, -1)
        n_windows += len(s["windows"])
        parts.append((s[column][keep], unweighted[keep], gid[keep], j))
    scores = np.concatenate([p[0] for p in parts])
    unweighted = np.concatenate([p[1] for p in parts])
    gid = np.concatenate([p[2] for p in parts])
    order = np.argsort(-scores, kind="stable")
    scores, unweighted, gid = scores[order], unweighted[order], gid[order]
    out = {}
    for prof, (tp_w, fp_w, fn_w) in PROFILES.items():
        total = -fn_w * n_windows
        best = total
        win_best = np.full(n_windows, -fn_w)
        i = 0
        m = scores.size
        while i < m:  # sweep thresholds from high to low, as NAB's calcScoreByThreshold
            j = i
            while j < m and scores[j] == scores[i]:
                g = gid[j]
                if g < 0:
                    total += unweighted[j] * fp_w
                else:
                    v = unweighted[j] * tp_w / max_tp
                    if v > win_best[g]:
                        total += v - win_best[g]
                        win_best[g] = v
                j += 1
            best = max(best, total)
            i = j
        null = -fn_w * n_windows  # the null detector's best: no detection at all
        out[prof] = 100.0 * (best - null) / (tp_w * n_windows - null)
    return out


def best_threshold(series: list[dict[str, Any]], column: str, profile: str = "standard") -> float:
    """The score threshold at which ``nab_scores`` reaches its best total (same sweep, same order)."""
    tp_w, fp_w, fn_w = PROFILES[profile]
    max_tp = _sigmoid_scaled(-1.0)
    parts, n_windows = [], 0
    for s in series:
        unweighted, wid, _ = sweep_points(s["ts"].size, s["windows"])
        keep = wid != -2
        parts.append((s[column][keep], unweighted[keep], np.where(wid >= 0, wid + n_windows, -1)[keep]))
        n_windows += len(s["windows"])
    scores = np.concatenate([p[0] for p in parts])
    unweighted = np.concatenate([p[1] for p in parts])
    gid = np.concatenate([p[2] for p in parts])
    order = np.argsort(-scores, kind="stable")
    scores, unweighted, gid = scores[order], unweighted[order], gid[order]
    total = best = -fn_w * n_windows
    best_thr = math.inf
    win_best = np.full(n_windows, -fn_w)
    i = 0
    while i < scores.size:
        j = i
        while j < scores.size and scores[j] == scores[i]:
            g = gid[j]
            if g < 0:
                total += unweighted[j] * fp_w
            elif (v := unweighted[j] * tp_w / max_tp) > win_best[g]:
                total += v - win_best[g]
                win_best[g] = v
            j += 1
        if total > best:
            best, best_thr = total, float(scores[i])
        i = j
    return best_thr


def breakdown(series: list[dict[str, Any]], column: str, profile: str = "standard") -> None:
    """Per series at the set's best threshold: raw NAB points, false-positive cost and count (onsets
    of alarm episodes vs later high points of an episode), and per window its TP value and the
    relative position of the first detection in it (0 = window start, 0.5 = the labelled point)."""
    thr = best_threshold(series, column, profile)
    tp_w, fp_w, fn_w = PROFILES[profile]
    max_tp = _sigmoid_scaled(-1.0)
    print(f"breakdown of {column!r} at its best {profile} threshold {thr:.6f} (raw points per series)")
    tot_fp = {"onset": 0, "later": 0}
    for s in series:
        unweighted, wid, _ = sweep_points(s["ts"].size, s["windows"])
        hit = (s[column] >= thr) & (wid != -2)
        onsets = s.get("onsets", set()) if column == "sentinel" else set()
        fps = np.flatnonzero(hit & (wid == -1))
        n_on = sum(1 for i in fps.tolist() if i in onsets)
        tot_fp["onset"] += n_on
        tot_fp["later"] += fps.size - n_on
        fp = float(unweighted[fps].sum() * fp_w)
        wins = []
        for k, (lo, hi) in enumerate(s["windows"]):
            first = np.flatnonzero(hit & (wid == k))
            wins.append(
                f"{unweighted[first[0]] * tp_w / max_tp:.2f}@{(first[0] - lo) / (hi - lo + 1):.2f}"
                if first.size
                else f"miss({-fn_w:.0f})"
            )
        total = fp + sum(float(w.split("@")[0]) if "@" in w else -fn_w for w in wins)
        kinds = f", {n_on} onsets" if column == "sentinel" else ""
        print(f"  {s['key']:<58} {total:6.2f}  fp {fp:6.2f} ({fps.size:3d}{kinds})  {' '.join(wins)}")
    if column == "sentinel":
        print(f"  false positives: {tot_fp['onset']} episode onsets, {tot_fp['later']} later high points")


def episodes_outside(alarm: np.ndarray, windows: list[tuple[int, int]]) -> tuple[int, int]:
    """(alarm episodes starting outside every labelled window, scored points) after the probation."""
    n = alarm.size
    probation = int(min(math.floor(PROBATION * n), PROBATION * 5000))
    rising = np.flatnonzero(alarm & ~np.concatenate(([False], alarm[:-1])))
    inside = np.zeros(n, dtype=bool)
    for lo, hi in windows:
        inside[lo : hi + 1] = True
    return int(np.count_nonzero(~inside[rising] & (rising >= probation))), n - probation


def run_mode(series: list[dict[str, Any]], mode: str, overrides: dict[str, Any] | None = None) -> None:
    for s in series:
        interval = float(np.median(np.diff(np.unique(s["ts"]))))
        params = LatencyParams.for_mode(mode, expected_interval_s=interval, **(overrides or {}))  # type: ignore[arg-type]
        res = detect(s["ts"], s["vs"], params)
        s["sentinel"] = res.scores
        s["alarm"] = res.alarms
        s["episodes"] = episodes_outside(res.alarms, s["windows"])
        # detected_index counts accepted points; duplicate or invalid rows shift the row index after them
        rows = np.flatnonzero(res.status == PointStatus.ACCEPTED)
        s["onsets"] = {int(rows[r.detected_index]) for r in res.alarm_records}


def half_of(key: str) -> int:
    """0 or 1: the first byte of the SHA-256 of the series' name, even or odd (a fixed, blind split)."""
    return hashlib.sha256(key.encode()).digest()[0] % 2


def report(series: list[dict[str, Any]], mode: str, verbose: bool, halves: bool = False) -> dict[str, Any]:
    ours, numenta = nab_scores(series, "sentinel"), nab_scores(series, "numenta")
    real = [s for s in series if s["cat"].startswith("real")]
    ep_real = sum(s["episodes"][0] for s in real), sum(s["episodes"][1] for s in real)
    ep_all = sum(s["episodes"][0] for s in series), sum(s["episodes"][1] for s in series)
    if verbose:
        for s in series:
            e, n = s["episodes"]
            print(f"  {s['key']:<62} episodes outside windows {e:3d} ({1e4 * e / max(n, 1):5.1f}/10k)")
    print(f"mode {mode}: {'':<30}{'standard':>9}{'low_FP':>9}{'low_FN':>9}   episodes/10k outside windows")
    print(
        f"  {'sentinel':<36}"
        + "".join(f"{ours[p]:>9.2f}" for p in PROFILES)
        + f"   real {1e4 * ep_real[0] / ep_real[1]:.2f} ({ep_real[0]} in {ep_real[1]} pts),"
        f" all {1e4 * ep_all[0] / ep_all[1]:.2f}"
    )
    print(f"  {'numenta HTM (published scores)':<36}" + "".join(f"{numenta[p]:>9.2f}" for p in PROFILES))
    if halves:
        for h in (0, 1):
            part = [s for s in series if half_of(s["key"]) == h]
            for col in ("sentinel", "numenta"):
                sc = nab_scores(part, col)
                print(f"  half {h} ({len(part)} series) {col:<20}" + "".join(f"{sc[p]:>9.2f}" for p in PROFILES))
    return {
        "mode": mode,
        "sentinel": ours,
        "numenta": numenta,
        "episodes_per_10k_real": 1e4 * ep_real[0] / ep_real[1],
        "episodes_per_10k_all": 1e4 * ep_all[0] / ep_all[1],
    }


def official(mode: str, categories: str) -> None:
    cmd = [
        sys.executable,
        str(NAB / "nab_score.py"),
        "--sentinel",
        str(Path(sys.executable).with_name("sentinel")),
        "--detect-args",
        f"--mode {mode}",
    ]
    if categories:
        cmd += ["--categories", categories]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    # pip's index warnings (stderr) may come after the summary: the summary is the last other line.
    lines = [ln for ln in (p.stdout + p.stderr).strip().splitlines() if not ln.startswith("WARNING:")]
    print(f"official nab_score.py --detect-args '--mode {mode}': {lines[-1] if lines else p.returncode}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["regression", "anomaly", "both"], default="both")
    ap.add_argument("--categories", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--official", action="store_true", help="also run the shared nab_score.py per mode")
    ap.add_argument("--verbose", "-v", action="store_true", help="episodes per series")
    ap.add_argument("--breakdown", action="store_true", help="per-series loss at the best threshold")
    ap.add_argument("--halves", action="store_true", help="also score the two hash halves of the set")
    ap.add_argument("--set", action="append", default=[], metavar="PARAM=JSON", help="override a LatencyParams default")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    series = load()
    if args.categories:
        series = [s for s in series if s["cat"] in args.categories.split(",")]
    modes = ["anomaly", "regression"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        run_mode(series, mode, {k: json.loads(v) for k, v in (a.split("=", 1) for a in args.set)})
        results.append(report(series, mode, args.verbose, args.halves))
        if args.breakdown:
            breakdown(series, "sentinel")
            breakdown(series, "numenta")
        if args.official:
            official(mode, args.categories)
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Our deterministic KLL against DataSketches' ``kll_doubles_sketch`` (on demand, not in CI): rank error
and update time on the same data in the same run, k = 200.

    .venv/bin/python bench/kll.py [--n 1000000] [--reps 5]

Rank error: the largest |true rank - rank asked| over 999 quantile queries. Layouts: one batch, merged
partials of 2,000 values (the Firehose case), many small updates.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from datasketches import kll_doubles_sketch

from llmops_sentinel.domain.drift.profiles import KLLSketch


def rank_error(values: np.ndarray, weights: np.ndarray, data_sorted: np.ndarray) -> float:
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    cum = np.cumsum(weights) / weights.sum()
    ranks = np.linspace(0.001, 0.999, 999)
    est = values[np.minimum(np.searchsorted(cum, ranks), values.size - 1)]
    return float(np.max(np.abs(np.searchsorted(data_sorted, est, side="right") / data_sorted.size - ranks)))


def ours_items(s: KLLSketch) -> tuple[np.ndarray, np.ndarray]:
    return s.weighted_items()


def ds_items(s: Any) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array(list(s), dtype=np.float64)
    return pairs[:, 0], pairs[:, 1]


def build(make: Callable[[], Any], parts: list[np.ndarray], merged: bool) -> Any:
    if not merged:
        s = make()
        for p in parts:
            s.update(p)
        return s
    sketches = []
    for p in parts:
        one = make()
        one.update(p)
        sketches.append(one)
    out = sketches[0]
    for one in sketches[1:]:
        out.merge(one)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    n = args.n
    layouts = {
        "one batch": (1, False),
        "merged partials of 2,000": (n // 2000, True),
        "updates of 50": (n // 50, False),
    }
    print(f"n = {n:,}, k = 200, {args.reps} data sets; bound (99 %): {KLLSketch.normalized_rank_error(200):.4f}")
    print(
        f"{'layout':<26} {'ours err max':>12} {'DS err max':>10} {'ours ms':>8} {'DS ms':>7} {'ratio':>6}"
        "  identical reruns"
    )
    for label, (pieces, merged) in layouts.items():
        errs: dict[str, list[float]] = {"ours": [], "ds": []}
        times: dict[str, list[float]] = {"ours": [], "ds": []}
        identical = True
        for _ in range(args.reps):
            data = rng.lognormal(0.0, 1.0, n)
            parts = np.array_split(data, pieces)
            srt = np.sort(data)
            for name, make, items in (
                ("ours", lambda: KLLSketch(200), ours_items),
                ("ds", lambda: kll_doubles_sketch(200), ds_items),
            ):
                t = time.perf_counter()
                s = build(make, parts, merged)
                times[name].append(time.perf_counter() - t)
                errs[name].append(rank_error(*items(s), srt))
                if name == "ours":
                    identical &= s.to_dict() == build(make, parts, merged).to_dict()
        to, td = np.median(times["ours"]) * 1000, np.median(times["ds"]) * 1000
        print(
            f"{label:<26} {max(errs['ours']):>12.4f} {max(errs['ds']):>10.4f} {to:>8.1f} {td:>7.1f} "
            f"{to / td:>5.1f}x  {identical}"
        )


if __name__ == "__main__":
    main()

"""The peers of ``bench/drift.py --only files``, one per process (run by it with the peers' interpreter).

    .venv-bench/bin/python bench/_peers.py TOOL REF CUR      # TOOL: evidently | whylogs | pandas

Each reads the two files itself (pandas ``read_csv``/``read_parquet``), checks every column for drift its
own way and prints one JSON line: {"tool", "drifted": {column: bool}, "dataset_drift"}. The time and peak
RSS are measured by the caller (process start included). Without arguments: usage, exit 0 (``make bench``
runs every script here).
"""

from __future__ import annotations

import json
import sys
from typing import Any


def read(path: str) -> Any:
    import pandas as pd

    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def evidently(ref: Any, cur: Any) -> dict[str, Any]:
    from evidently.metric_preset import DataDriftPreset
    from evidently.report import Report

    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=ref, current_data=cur)
    out = report.as_dict()
    cols = next(m["result"] for m in out["metrics"] if "drift_by_columns" in m["result"])
    dataset = next(m["result"]["dataset_drift"] for m in out["metrics"] if "dataset_drift" in m["result"])
    return {
        "drifted": {c: bool(v["drift_detected"]) for c, v in cols["drift_by_columns"].items()},
        "dataset_drift": bool(dataset),
    }


def whylogs(ref: Any, cur: Any) -> dict[str, Any]:
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    scores = calculate_drift_scores(
        target_view=why.log(cur).view(), reference_view=why.log(ref).view(), with_thresholds=True
    )
    drifted = {c: s is not None and s.get("drift_category") == "DRIFT" for c, s in scores.items()}
    return {"drifted": drifted, "dataset_drift": sum(drifted.values()) >= len(drifted) / 2}


def pandas_scipy(ref: Any, cur: Any) -> dict[str, Any]:
    """The plain script: KS for numbers, chi-square for categories, p < 0.05 per column."""
    import numpy as np
    from scipy import stats

    drifted = {}
    for col in ref.columns:
        a, b = ref[col].dropna(), cur[col].dropna()
        if a.dtype.kind in "fiu":
            p = stats.ks_2samp(a.to_numpy(), b.to_numpy()).pvalue
        else:
            ca, cb = a.value_counts(), b.value_counts()
            cats = ca.index.union(cb.index)
            table = np.array([ca.reindex(cats, fill_value=0), cb.reindex(cats, fill_value=0)])
            p = stats.chi2_contingency(table)[1]
        drifted[col] = bool(p < 0.05)
    return {"drifted": drifted, "dataset_drift": sum(drifted.values()) >= len(drifted) / 2}


TOOLS = {"evidently": evidently, "whylogs": whylogs, "pandas": pandas_scipy}


def main() -> int:
    if len(sys.argv) != 4 or sys.argv[1] not in TOOLS:
        print(__doc__)
        return 0
    tool, ref_path, cur_path = sys.argv[1:]
    result = TOOLS[tool](read(ref_path), read(cur_path))
    print(json.dumps({"tool": tool, **result}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

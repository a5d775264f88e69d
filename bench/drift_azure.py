"""Drift verdicts on real LLM traffic: the Azure LLM inference trace 2023 (on demand, not in CI).

    .venv/bin/python bench/drift_azure.py [--data DIR] [--splits 50] [--window-minutes 15]

Data: ``../shared/data/azure-llm-inference-2023`` -- two one-hour samples of production requests to
Azure LLM inference services (2023-11-16 18:15-19:15 UTC): the conversation service (19,366 requests)
and the code-completion service (8,818). AzurePublicDataset, CC-BY 4.0; Patel et al., "Splitwise:
Efficient generative LLM inference using phase splitting", ISCA 2024. Nothing derived from the rows is
stored in the project; this script reads them at run time.

Features per request: ``input_tokens`` (ContextTokens), ``output_tokens`` (GeneratedTokens) and
``interarrival_ms`` (gap to the previous request of the same service). Both sides are profiles
(sketches), as in AWS. Printed beside our verdict, in the same run: scipy's exact two-sample KS on the
raw values (the peer for the statistic) and the share-only rule the verdict had before (drift when
>= 25 % of the features drifted) -- so what the severity rule changes is visible.

Expectations (issue 10): conversation vs code is drift; random splits of one service are not
(<= 5 % of splits); consecutive windows report their effect sizes as they are (real traffic moves
within an hour: the README notes KS D ~0.08 between the halves of the conversation hour).
"""

from __future__ import annotations

import argparse
import csv
from datetime import datetime
from pathlib import Path

import numpy as np
from scipy import stats

from llmops_sentinel.domain.drift.profiles import EndpointProfile, NumericProfile
from llmops_sentinel.domain.drift.stat_tests import DriftReport, MonitorConfig, check_drift

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "azure-llm-inference-2023"
FEATURES = ("input_tokens", "output_tokens", "interarrival_ms")
OLD_SHARE = 0.25


def load(path: Path) -> dict[str, np.ndarray]:
    """One trace CSV -> columns (time in seconds from the first request, features)."""
    t, ctx, gen = [], [], []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            t.append(datetime.fromisoformat(row["TIMESTAMP"][:26]).timestamp())
            ctx.append(float(row["ContextTokens"]))
            gen.append(float(row["GeneratedTokens"]))
    times = np.array(t)
    order = np.argsort(times, kind="stable")
    times = times[order] - times[order][0]
    gaps = np.diff(times, prepend=np.nan) * 1000.0
    return {
        "t": times,
        "input_tokens": np.array(ctx)[order],
        "output_tokens": np.array(gen)[order],
        "interarrival_ms": gaps,
    }


def profile(cols: dict[str, np.ndarray], mask: np.ndarray) -> EndpointProfile:
    feats = {name: NumericProfile.from_values(cols[name][mask]) for name in FEATURES}
    return EndpointProfile(dict(feats), records_ok=int(mask.sum()))  # type: ignore[arg-type]


def scipy_d(a: dict[str, np.ndarray], ma: np.ndarray, b: dict[str, np.ndarray], mb: np.ndarray, name: str) -> float:
    x, y = a[name][ma], b[name][mb]
    return float(stats.ks_2samp(x[np.isfinite(x)], y[np.isfinite(y)]).statistic)


def row(label: str, report: DriftReport, peer: dict[str, float]) -> str:
    cells = []
    for name in FEATURES:
        f = next((f for f in report.features if f.feature == name), None)
        if f is None:
            cells.append(f"{'-':>27}")
            continue
        mark = "*" if f.drifted else " "
        cells.append(f"{f.statistic:.3f}/{peer[name]:.3f} {f.effect or 0:.3f} {f.severity[:3]:<3}{mark}")
    old = report.share_drifted >= OLD_SHARE
    return f"{label:<34} {'DRIFT' if report.drifted else 'no':<6} {'DRIFT' if old else 'no':<6} " + "  ".join(cells)


def header() -> str:
    cells = "  ".join(f"{n[:27]:>27}" for n in FEATURES)
    sub = "  ".join(f"{'D ours/scipy  TV  sev':>27}" for _ in FEATURES)
    return f"{'comparison':<34} {'ours':<6} {'share':<6} {cells}\n{'':<34} {'':<6} {'only':<6} {sub}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--splits", type=int, default=50, help="random splits per service")
    ap.add_argument("--window-minutes", type=int, default=15)
    ap.add_argument("--seed", type=int, default=2023)
    args = ap.parse_args()
    conv = load(args.data / "AzureLLMInferenceTrace_conv.csv")
    code = load(args.data / "AzureLLMInferenceTrace_code.csv")
    services = {"conv": conv, "code": code}
    cfg = MonitorConfig()
    rng = np.random.default_rng(args.seed)
    print(
        f"conversation {conv['t'].size} requests, code {code['t'].size}; verdict rule: endpoint_severity="
        f"{cfg.endpoint_severity}, share {cfg.share_threshold:.0%}, alpha {cfg.alpha} (BH)"
    )
    print("* = feature drifted (BH-significant and above the effect floor); sev = severity band")
    print(header())

    print("-- conversation vs code (different services: must be drift)")
    for (na, a), (nb, b) in (((("conv", conv)), ("code", code)), (("code", code), ("conv", conv))):
        ma, mb = np.ones(a["t"].size, bool), np.ones(b["t"].size, bool)
        rep = check_drift(profile(a, ma), profile(b, mb), cfg)
        print(row(f"{na} hour -> {nb} hour", rep, {n: scipy_d(a, ma, b, mb, n) for n in FEATURES}))
        first = a["t"] < args.window_minutes * 60
        wb = b["t"] < args.window_minutes * 60
        rep = check_drift(profile(a, first), profile(b, wb), cfg)
        print(
            row(
                f"{na} {args.window_minutes}min -> {nb} {args.window_minutes}min",
                rep,
                {n: scipy_d(a, first, b, wb, n) for n in FEATURES},
            )
        )

    print(f"-- random splits of one service ({args.splits} each, must not be drift)")
    for name, cols in services.items():
        n = cols["t"].size
        alarms = old_alarms = 0
        worst: DriftReport | None = None
        for _ in range(args.splits):
            mask = np.zeros(n, bool)
            mask[rng.permutation(n)[: n // 2]] = True
            rep = check_drift(profile(cols, mask), profile(cols, ~mask), cfg)
            alarms += rep.drifted
            old_alarms += rep.share_drifted >= OLD_SHARE
            top = max((f.effect or 0.0) for f in rep.features)
            if worst is None or top > max((f.effect or 0.0) for f in worst.features):
                worst = rep
        print(
            f"{name}: endpoint false alarms {alarms}/{args.splits} ({alarms / args.splits:.0%}), "
            f"share-only rule {old_alarms}/{args.splits}"
        )
        if worst is not None:
            print(row(f"{name} split with the largest effect", worst, dict.fromkeys(FEATURES, float("nan"))))

    print(f"-- consecutive {args.window_minutes}-min windows of one service (baseline: the first window)")
    for name, cols in services.items():
        edges = np.arange(0, cols["t"][-1] + 1, args.window_minutes * 60)
        base = (cols["t"] >= edges[0]) & (cols["t"] < edges[1])
        for i in range(1, len(edges)):
            cur = (cols["t"] >= edges[i]) & (cols["t"] < (edges[i + 1] if i + 1 < len(edges) else np.inf))
            if cur.sum() < 200:
                continue
            rep = check_drift(profile(cols, base), profile(cols, cur), cfg)
            print(
                row(
                    f"{name} w0 -> w{i} ({int(cur.sum())} req)",
                    rep,
                    {n: scipy_d(cols, base, cols, cur, n) for n in FEATURES},
                )
            )
        half = cols["t"] < cols["t"][-1] / 2
        rep = check_drift(profile(cols, half), profile(cols, ~half), cfg)
        print(row(f"{name} first half -> second half", rep, {n: scipy_d(cols, half, cols, ~half, n) for n in FEATURES}))
        for reason in rep.reasons:
            print(f"    because {reason}")


if __name__ == "__main__":
    main()

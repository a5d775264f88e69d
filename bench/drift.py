"""Drift benchmark (on demand, not in CI). Every ratio is measured within this one run.

    .venv/bin/python bench/drift.py                 # everything but Evidently
    .venv/bin/python bench/drift.py --quick         # smaller sizes, a few seconds
    # Evidently comparison: a separate venv, never the project's
    python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . -r bench/requirements-evidently.txt
    .venv-bench/bin/python bench/drift.py --only evidently
    # files: `sentinel baseline build` + `drift check` from CSV and Parquet, peers (Evidently, whylogs,
    # pandas/scipy) beside, each its own process (time and peak RSS with process start)
    .venv/bin/python bench/drift.py --only files --peers .venv-bench/bin/python --sizes 100000 1000000

Sections: files (end to end from files, peers in the same run), ingest (records/s per core vs the faster
bare parse, orjson or msgspec), check (25 features
from profiles vs from raw at 10k and 1M rows), evidently (DataDriftPreset at 100k rows per side), imports
(cold import vs the ``boto3, numpy, aws_lambda_powertools`` floor), calibration (false alarms, power).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import orjson

from llmops_sentinel.domain.drift.features import FeatureTable
from llmops_sentinel.domain.drift.ingest import profile_lines
from llmops_sentinel.domain.drift.profiles import (
    CategoricalProfile,
    EndpointProfile,
    FeatureProfile,
    NumericProfile,
    profile_batch,
    profile_from_json,
    profile_to_json,
)
from llmops_sentinel.domain.drift.records import parse_lines
from llmops_sentinel.domain.drift.stat_tests import check_drift
from sentinel_dev.local.traffic import WORDS as TRAFFIC_WORDS
from sentinel_dev.local.traffic import capture_record

WORDS = [*TRAFFIC_WORDS, "refund", "delivery", "warranty"]


def chat_capture_lines(n: int, rng: np.random.Generator) -> list[bytes]:
    """Realistic ~1.5 KB data-capture records of OpenAI-style chat completions (JSON-in-JSON)."""
    out = []
    for i in range(n):
        prompt = " ".join(rng.choice(WORDS, max(5, int(rng.normal(40, 10)))))
        answer = " ".join(rng.choice(WORDS, max(1, int(rng.normal(75, 20)))))
        if rng.random() < 0.03:
            answer = "I'm sorry, but I can't help with that request."
        request = {
            "model": "meta-llama-3-8b-instruct",
            "messages": [
                {"role": "system", "content": "You are a helpful customer-support assistant."},
                {"role": "user", "content": prompt},
            ],
            "max_tokens": 256,
            "temperature": 0.7,
        }
        response = {
            "id": f"chatcmpl-{i:08d}",
            "object": "chat.completion",
            "created": 1714557600 + i,
            "model": "meta-llama-3-8b-instruct",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer},
                    "finish_reason": "stop" if rng.random() < 0.9 else "length",
                }
            ],
            "usage": {
                "prompt_tokens": len(prompt) // 4 + 12,
                "completion_tokens": len(answer) // 4,
                "total_tokens": (len(prompt) + len(answer)) // 4 + 12,
            },
            "latency_ms": round(float(rng.lognormal(6.5, 0.3)), 3),
            "ttft_ms": round(float(rng.lognormal(4, 0.3)), 3),
        }
        metadata = {
            "eventId": f"{i:08d}-5e1c-4b8e-9d7a-3f0c2a1b4d6e",
            "inferenceId": f"inf-{i}",
            "inferenceTime": "2024-05-01T10:00:00Z",
        }
        out.append(orjson.dumps(capture_record(request, response, metadata, output_content_type="application/json")))
    return out


def bare_parse(lines: list[bytes], loads: Callable[[bytes | str], Any] = orjson.loads) -> int:
    """The ceiling: decode every record and both nested payload strings to builtins, nothing else."""
    n = 0
    for line in lines:
        obj = loads(line)
        cap = obj["captureData"]
        loads(cap["endpointInput"]["data"])
        loads(cap["endpointOutput"]["data"])
        n += 1
    return n


def ingest(lines: list[bytes]) -> EndpointProfile:
    """The ingest path of the Lambdas: columnar, no per-record objects."""
    return profile_lines(lines).profile


def ingest_general(lines: list[bytes]) -> EndpointProfile:
    """The record-object path (parse_lines -> InferenceRecord -> features -> profile), for comparison."""
    return profile_batch(parse_lines(lines))


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def section_ingest(n: int, reps: int) -> None:
    print(f"\n== ingest: {n} chat-completion data-capture records, {reps} interleaved repetitions")
    lines = chat_capture_lines(n, np.random.default_rng(0))
    size = sum(map(len, lines)) / n
    ms_loads = msgspec.json.Decoder().decode
    or_t, ms_t, bare_t, full_t, gen_t, ratios, gen_ratios = [], [], [], [], [], [], []
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        bare_parse(lines)  # orjson.loads
        t1 = time.perf_counter()
        bare_parse(lines, ms_loads)  # msgspec.json.decode to builtins
        t2 = time.perf_counter()
        profile = ingest(lines)
        t3 = time.perf_counter()
        general = ingest_general(lines)
        t4 = time.perf_counter()
        ceiling = min(t1 - t0, t2 - t1)  # the fastest generic decode the project ships, this repetition
        or_t.append(t1 - t0)
        ms_t.append(t2 - t1)
        bare_t.append(ceiling)
        full_t.append(t3 - t2)
        gen_t.append(t4 - t3)
        ratios.append(ceiling / (t3 - t2))
        gen_ratios.append(ceiling / (t4 - t3))
    assert profile.records_ok == n and profile.records_failed == 0
    assert general.records_ok == n and profile.features.keys() == general.features.keys()
    print(f"record size           {size:,.0f} B")
    print(f"bare orjson parse     {n / med(or_t):>10,.0f} rec/s  (median)")
    print(f"bare msgspec parse    {n / med(ms_t):>10,.0f} rec/s  (median; msgspec.json.decode to builtins)")
    print(f"ceiling (faster/rep)  {n / med(bare_t):>10,.0f} rec/s  (median)")
    print(f"parse+features+profile{n / med(full_t):>10,.0f} rec/s  (median)")
    print(
        f"ratio                 {med(ratios):.2f}x of the ceiling (target >= 0.70; per-rep {min(ratios):.2f}"
        f"..{max(ratios):.2f})"
    )
    print(f"record-object path    {n / med(gen_t):>10,.0f} rec/s  (median; ratio {med(gen_ratios):.2f}x)")


FEATURES = 25


def numeric_columns(n: int, rng: np.random.Generator, shift: float = 0.0) -> dict[str, np.ndarray]:
    cols = {}
    for j in range(FEATURES):
        if j % 3 == 0:
            cols[f"f{j:02d}"] = rng.lognormal(3 + shift * 0.5, 0.5, n)
        elif j % 3 == 1:
            cols[f"f{j:02d}"] = rng.normal(shift, 1.0, n)
        else:
            cols[f"f{j:02d}"] = rng.poisson(20, n).astype(np.float64) + shift * 4.5
    return cols


def profile_of(cols: dict[str, np.ndarray]) -> EndpointProfile:
    feats: dict[str, FeatureProfile] = {name: NumericProfile.from_values(v) for name, v in cols.items()}
    return EndpointProfile(feats, records_ok=len(next(iter(cols.values()))))


def table_of(cols: dict[str, np.ndarray]) -> FeatureTable:
    n = len(next(iter(cols.values())))
    return FeatureTable(kinds=dict.fromkeys(cols, "numeric"), values=dict(cols), n_records=n, n_rows=n)  # type: ignore[arg-type]


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return med(times), out


def section_check(sizes: list[int], reps: int) -> None:
    print(f"\n== drift check of {FEATURES} numeric features (median of {reps})")
    print(f"{'rows/side':>10}  {'profiles':>10}  {'load+check':>10}  {'from raw':>10}  {'raw/profile':>11}  drifted")
    for n in sizes:
        rng = np.random.default_rng(n)
        ref, cur = numeric_columns(n, rng), numeric_columns(n, rng, shift=0.1)
        pref, pcur = profile_of(ref), profile_of(cur)
        blob_ref, blob_cur = profile_to_json(pref), profile_to_json(pcur)
        t_prof, rep_p = timed(lambda: check_drift(pref, pcur), reps)  # noqa: B023
        t_load, _ = timed(lambda: check_drift(profile_from_json(blob_ref), profile_from_json(blob_cur)), reps)  # noqa: B023
        t_raw, rep_r = timed(lambda: check_drift(table_of(ref), table_of(cur)), max(1, reps // 2))  # noqa: B023
        print(
            f"{n:>10,}  {t_prof * 1e3:>8.1f}ms  {t_load * 1e3:>8.1f}ms  {t_raw * 1e3:>8.1f}ms  "
            f"{t_raw / t_prof:>10.1f}x  {rep_p.drifted}/{rep_r.drifted}"
        )
    print(f"(target: profiles <= 50 ms whatever the row count; profile JSON {len(blob_ref) / 1024:.0f} KiB/side)")


def section_evidently(n: int) -> None:
    print(f"\n== Evidently DataDriftPreset vs profiles, {n:,} rows per side, {FEATURES} features")
    try:
        import pandas as pd
        from evidently.metric_preset import DataDriftPreset
        from evidently.report import Report
    except ImportError:
        print(
            "evidently is not installed here (by design: it never goes into .venv). To run this section:\n"
            "  python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . -r bench/requirements-evidently.txt\n"
            "  .venv-bench/bin/python bench/drift.py --only evidently"
        )
        return
    rng = np.random.default_rng(42)
    results = {}
    for label, shift in (("no drift", 0.0), ("0.1 SD shift", 0.1)):
        ref, cur = numeric_columns(n, rng), numeric_columns(n, rng, shift)

        def ours(ref: dict[str, np.ndarray] = ref, cur: dict[str, np.ndarray] = cur) -> Any:
            return check_drift(profile_of(ref), profile_of(cur))

        def evid(ref: dict[str, np.ndarray] = ref, cur: dict[str, np.ndarray] = cur) -> Any:
            report = Report(metrics=[DataDriftPreset()])
            report.run(reference_data=pd.DataFrame(ref), current_data=pd.DataFrame(cur))
            return report.as_dict()

        pref, pcur = profile_of(ref), profile_of(cur)
        check_drift(pref, pcur)  # warm-up: the lazy scipy.special import is not part of a check
        for name, fn in (
            ("profiles (check only)", lambda a=pref, b=pcur: check_drift(a, b)),
            ("profiles (incl. profiling)", ours),
            ("evidently", evid),
        ):
            elapsed, out = timed(fn, 1 if name == "evidently" else 3)  # time without tracemalloc's overhead
            tracemalloc.start()
            fn()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            results[(label, name)] = (elapsed, peak, out)
        ours_rep = results[(label, "profiles (check only)")][2]
        ev = results[(label, "evidently")][2]
        ev_cols = next(m["result"] for m in ev["metrics"] if "drift_by_columns" in m["result"])
        ev_drift = {c: bool(v["drift_detected"]) for c, v in ev_cols["drift_by_columns"].items()}
        our_drift = {f.feature: f.drifted for f in ours_rep.features}
        agree = np.mean([ev_drift[c] == our_drift[c] for c in our_drift])
        ev_dataset = bool(next(m["result"]["dataset_drift"] for m in ev["metrics"] if "dataset_drift" in m["result"]))
        print(
            f"[{label}] feature verdict agreement {agree:.0%}; endpoint verdict ours={ours_rep.drifted} "
            f"evidently={ev_dataset}"
        )
        for name in ("profiles (check only)", "profiles (incl. profiling)", "evidently"):
            elapsed, peak, _ = results[(label, name)]
            print(f"   {name:<28} {elapsed * 1e3:>9.1f} ms  peak {peak / 2**20:>8.1f} MiB (tracemalloc)")
        ev_t = results[(label, "evidently")][0]
        print(
            f"   speed-up: {ev_t / results[(label, 'profiles (check only)')][0]:.0f}x (check), "
            f"{ev_t / results[(label, 'profiles (incl. profiling)')][0]:.1f}x (incl. profiling); target >= 20x"
        )


N_NUMERIC, N_CATEGORICAL = 20, 5
CATEGORIES = [f"cat_{i}" for i in range(12)]


def file_table(n: int, rng: np.random.Generator, shift: float) -> dict[str, Any]:
    """20 numeric columns (``numeric_columns``' generators), 5 categorical; ``shift`` moves half of each."""
    cols: dict[str, Any] = {}
    moved = numeric_columns(n, rng, shift)
    still = numeric_columns(n, rng, 0.0)
    for j in range(N_NUMERIC):
        cols[f"f{j:02d}"] = (moved if j % 2 == 0 else still)[f"f{j:02d}"]
    base = np.linspace(2.0, 1.0, len(CATEGORIES))
    for j in range(N_CATEGORICAL):
        w = base * (1 + shift * np.linspace(-1, 1, len(CATEGORIES))) if j % 2 == 0 else base
        cols[f"c{j}"] = np.asarray(CATEGORIES, dtype=object)[rng.choice(len(CATEGORIES), n, p=w / w.sum())]
    return cols


def write_tables(folder: Path, n: int) -> dict[str, tuple[Path, Path]]:
    """ref/cur of ``n`` rows each as CSV and Parquet (pyarrow writes both: the generator, not the bench)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(n)
    out = table_paths(folder, n)
    for side, shift in ((0, 0.0), (1, 0.02)):
        table = pa.table(file_table(n, rng, shift))
        pacsv.write_csv(table, out["csv"][side])
        pq.write_table(table, out["parquet"][side])
        del table
    return out


def table_paths(folder: Path, n: int) -> dict[str, tuple[Path, Path]]:
    return {
        "csv": (folder / f"ref_{n}.csv", folder / f"cur_{n}.csv"),
        "parquet": (folder / f"ref_{n}.parquet", folder / f"cur_{n}.parquet"),
    }


def run_measured(cmd: list[str]) -> tuple[float, int, str, float]:
    """(wall seconds, peak RSS in bytes, stdout, CPU seconds user+sys) of one process, its start included.

    CPU time is reported beside wall time: on a shared machine wall time follows the load, CPU time much less.
    """
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        out.seek(0)
        text = out.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}: {err[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024, text, usage.ru_utime + usage.ru_stime


Measured = tuple[float, int, dict[str, bool], float]  # wall s, peak RSS, verdicts, CPU s


def ours(ref: Path, cur: Path, folder: Path) -> Measured:
    """``sentinel baseline build`` then ``sentinel drift check --json``: two processes, as a user runs them."""
    cli = [sys.executable, "-m", "sentinel_dev.cli.main"]
    baseline = folder / f"baseline_{ref.stem}_{ref.suffix[1:]}.json"
    t1, m1, _, c1 = run_measured([*cli, "baseline", "build", "--input", str(ref), "--output", str(baseline)])
    t2, m2, text, c2 = run_measured(
        [*cli, "drift", "check", "--baseline", str(baseline), "--current", str(cur), "--json"]
    )
    report = orjson.loads(text)
    return t1 + t2, max(m1, m2), {f["feature"]: bool(f["drifted"]) for f in report["features"]}, c1 + c2


def ours_one(ref: Path, cur: Path) -> Measured:
    """``sentinel drift check --baseline ref --current cur``: the baseline profiled from data, one process."""
    cli = [sys.executable, "-m", "sentinel_dev.cli.main"]
    t, m, text, c = run_measured([*cli, "drift", "check", "--baseline", str(ref), "--current", str(cur), "--json"])
    return t, m, {f["feature"]: bool(f["drifted"]) for f in orjson.loads(text)["features"]}, c


def compile_project() -> None:
    """Byte-compile the project's packages, as an install does (the peers' site-packages are compiled by pip).

    Without it, under PYTHONDONTWRITEBYTECODE (or a read-only checkout) every measured process of ours would
    compile the changed modules again: process start as no user has it.
    """
    import llmops_sentinel
    import sentinel_dev

    dirs = [str(Path(p).parent) for p in (llmops_sentinel.__file__, sentinel_dev.__file__) if p]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *dirs],
        check=True,
        stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


PEER_TOOLS = ("evidently", "whylogs", "pandas")


def section_files(
    sizes: list[int],
    peers: str | None,
    folder: Path | None,
    peer_formats: tuple[str, ...] = ("csv", "parquet"),
    peer_tools: tuple[str, ...] = PEER_TOOLS,
) -> None:
    print(
        f"\n== from files: baseline build + drift check, {N_NUMERIC} numeric + {N_CATEGORICAL} categorical "
        f"columns; every run its own process (time and peak RSS include process start)"
    )
    if peers is None:
        print("(no --peers PYTHON: the peers' venv is not used; see bench/requirements-evidently.txt)")
    compile_project()
    script = str(Path(__file__).with_name("_peers.py"))
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        work = Path(tmp)
        rows: list[tuple[int, str, str, float, int, str, float]] = []
        for n in sizes:
            # in a child: the peak RSS the kernel reports for a process counts its parent's pages at fork time,
            # so this process stays small (the generated tables never live here)
            subprocess.run([sys.executable, __file__, "--write-tables", str(work), str(n)], check=True)
            files = table_paths(work, n)
            mb = files["csv"][0].stat().st_size / 2**20
            print(
                f"-- {n:,} rows per side (CSV {mb:,.0f} MiB, Parquet "
                f"{files['parquet'][0].stat().st_size / 2**20:,.0f} MiB per side)"
            )
            mine: dict[str, dict[str, bool]] = {}
            for fmt, (ref, cur) in files.items():
                for tool, run in (
                    ("sentinel", lambda r=ref, c=cur: ours(r, c, work)),
                    ("sentinel-1p", lambda r=ref, c=cur: ours_one(r, c)),
                ):
                    elapsed, peak, drifted, cpu = run()
                    mine.setdefault(fmt, drifted)
                    verdict = f"{sum(drifted.values())}/{len(drifted)} drifted"
                    rows.append((n, fmt, tool, elapsed, peak, verdict, cpu))
                    print(
                        f"   {fmt:<8} {tool:<12} {elapsed:6.2f} s  cpu {cpu:6.2f} s  RSS {peak / 2**20:6.0f} MiB  "
                        f"{verdict}",
                        flush=True,
                    )
            if peers is None:
                continue
            for fmt, (ref, cur) in files.items():
                if fmt not in peer_formats:
                    continue
                for tool in peer_tools:
                    try:
                        elapsed, peak, text, cpu = run_measured([peers, script, tool, str(ref), str(cur)])
                    except RuntimeError as exc:
                        print(f"   {fmt:<8} {tool:<12} failed: {str(exc)[-300:]}")
                        continue
                    theirs = orjson.loads(text.strip().splitlines()[-1])["drifted"]
                    agree = np.mean([theirs.get(c) == v for c, v in mine[fmt].items()])
                    verdict = f"{sum(theirs.values())}/{len(theirs)} drifted, agrees on {agree:.0%}"
                    rows.append((n, fmt, tool, elapsed, peak, verdict, cpu))
                    print(
                        f"   {fmt:<8} {tool:<12} {elapsed:6.2f} s  cpu {cpu:6.2f} s  RSS {peak / 2**20:6.0f} MiB  "
                        f"{verdict}",
                        flush=True,
                    )
    _files_summary(rows, sizes)


def _files_summary(rows: list[tuple[int, str, str, float, int, str, float]], sizes: list[int]) -> None:
    at = {(n, fmt, tool): (t, m, c) for n, fmt, tool, t, m, _v, c in rows}
    print(
        f"\n{'rows/side':>10}  {'format':<8} {'tool':<12} {'wall':>9} {'cpu':>9} {'peak RSS':>10}  "
        f"{'sentinel faster (wall / cpu)':>28}  verdict"
    )
    for n, fmt, tool, t, m, verdict, c in rows:
        ours_t, _m, ours_c = at[(n, fmt, "sentinel")]
        ratio = "" if tool.startswith("sentinel") else f"{t / ours_t:.1f}x / {c / ours_c:.1f}x"
        print(f"{n:>10,}  {fmt:<8} {tool:<12} {t:>8.2f}s {c:>8.2f}s {m / 2**20:>8.0f}MiB  {ratio:>28}  {verdict}")
    print(
        "(sentinel: baseline build + drift check, two processes; sentinel-1p: drift check straight from the "
        "two files, one process)"
    )
    print(
        "targets: >= 10x Evidently at every size and faster than pandas/scipy (CSV); peak RSS at the largest "
        "size <= 1.2x the smallest; Parquet at least as fast as CSV"
    )
    lo, hi = min(sizes), max(sizes)
    for fmt in ("csv", "parquet"):
        if (hi, fmt, "sentinel") in at and (lo, fmt, "sentinel") in at and hi != lo:
            print(
                f"   {fmt}: peak RSS {hi:,} / {lo:,} rows = "
                f"{at[(hi, fmt, 'sentinel')][1] / at[(lo, fmt, 'sentinel')][1]:.2f}x"
            )
    for n in sizes:
        if (n, "parquet", "sentinel") in at:
            print(
                f"   {n:,} rows: Parquet / CSV time = "
                f"{at[(n, 'parquet', 'sentinel')][0] / at[(n, 'csv', 'sentinel')][0]:.2f}x"
            )


def _import_time(code: str, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t)
    return med(times)


def section_imports(reps: int) -> None:
    print(f"\n== cold import in a fresh interpreter (median of {reps}, includes interpreter start)")
    core = (
        "import llmops_sentinel.domain.drift.records, llmops_sentinel.domain.drift.features, "
        "llmops_sentinel.domain.drift.profiles, llmops_sentinel.domain.drift.stat_tests, "
        "llmops_sentinel.domain.drift.baseline, llmops_sentinel.domain.drift.ingest"
    )
    check = core + "; import sys; assert 'scipy.stats' not in sys.modules and 'scipy.special' not in sys.modules"
    empty = _import_time("pass", reps)
    floor = _import_time("import boto3, numpy, aws_lambda_powertools", reps)
    alone = _import_time(check, reps)
    both = _import_time("import boto3, numpy, aws_lambda_powertools; " + check, reps)
    stats_t = _import_time("import scipy.stats", reps)
    print(f"python -c pass                                  {empty * 1e3:7.0f} ms")
    print(f"floor: boto3, numpy, aws_lambda_powertools      {floor * 1e3:7.0f} ms")
    print(f"drift core alone (scipy not loaded)             {alone * 1e3:7.0f} ms")
    print(
        f"floor + drift core (what a drift handler needs) {both * 1e3:7.0f} ms  -> {both / floor:.2f}x floor "
        f"(target <= 1.5x)"
    )
    print(f"for scale: import scipy.stats                   {stats_t * 1e3:7.0f} ms")


LLM_NUMERIC = {
    "prompt_chars": lambda r, n, s: r.lognormal(5.5 + s * 0.6, 0.6, n),
    "response_chars": lambda r, n, s: r.lognormal(6.0 + s * 0.5, 0.5, n),
    "input_tokens": lambda r, n, s: np.round(r.lognormal(4.1 + s * 0.6, 0.6, n)),
    "output_tokens": lambda r, n, s: np.round(r.lognormal(4.6 + s * 0.5, 0.5, n)),
    "latency_ms": lambda r, n, s: r.lognormal(6.5 + s * 0.3, 0.3, n),
    "ttft_ms": lambda r, n, s: r.lognormal(4.0 + s * 0.3, 0.3, n),
    "tokens_per_s": lambda r, n, s: r.normal(40 + s * 6, 6, n),
}


def llm_window(rng: np.random.Generator, n: int, shift: float, shifted: set[str] | None = None) -> EndpointProfile:
    """One window of the default LLM feature set (7 numeric, 2 boolean, 1 categorical), profiled.

    ``shift`` is in standard deviations of the feature (of log-feature for the log-normal ones).
    """
    feats: dict[str, FeatureProfile] = {}
    for name, draw in LLM_NUMERIC.items():
        s = shift if shifted is None or name in shifted else 0.0
        feats[name] = NumericProfile.from_values(draw(rng, n, s))
    feats["empty_response"] = CategoricalProfile.from_values(list(rng.random(n) < 0.01), kind="boolean")
    feats["refusal_like"] = CategoricalProfile.from_values(list(rng.random(n) < 0.03), kind="boolean")
    feats["finish_reason"] = CategoricalProfile.from_values(list(rng.choice(["stop", "length"], n, p=[0.9, 0.1])))
    return EndpointProfile(feats, records_ok=n)


def section_calibration(windows: int, n: int) -> None:
    print(f"\n== calibration: {windows} seeded windows of {n:,} rows against a 50,000-row baseline (10 LLM features)")
    baseline = llm_window(np.random.default_rng(12345), 50_000, 0.0)
    false_alarms, feature_fp, tested = 0, 0, 0
    hit_all, hit_one = 0, 0
    for w in range(windows):
        rng = np.random.default_rng(1_000 + w)
        rep = check_drift(baseline, llm_window(rng, n, 0.0))
        false_alarms += rep.drifted
        feature_fp += len(rep.drifted_features)
        tested += len(rep.features)
        shifted = check_drift(baseline, llm_window(rng, n, 0.2))
        hit_all += shifted.drifted
        one = check_drift(baseline, llm_window(rng, n, 0.2, {"latency_ms"}))
        hit_one += "latency_ms" in one.drifted_features
    print(
        f"no drift:  endpoint false-alarm rate {false_alarms / windows:.1%} (target <= 1%); "
        f"feature false-positive rate {feature_fp / tested:.2%}"
    )
    print(f"0.2 SD mean shift in every numeric feature: endpoint detected {hit_all / windows:.1%} (target >= 95%)")
    print(f"0.2 SD mean shift in latency_ms alone: that feature flagged {hit_one / windows:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--only", nargs="*", choices=["files", "ingest", "check", "evidently", "imports", "calibration"]
    )
    parser.add_argument("--sizes", nargs="*", type=int, default=None, help="rows per side of the files section")
    parser.add_argument(
        "--peers",
        default=None,
        metavar="PYTHON",
        help="the peers' interpreter for the files section (e.g. .venv-bench/bin/python)",
    )
    parser.add_argument("--tmp", type=Path, default=None, help="where the files section writes its tables")
    parser.add_argument(
        "--peer-formats",
        nargs="+",
        choices=["csv", "parquet"],
        default=["csv", "parquet"],
        help="the formats the peers read in the files section (the targets compare CSV)",
    )
    parser.add_argument(
        "--peer-tools",
        nargs="+",
        choices=list(PEER_TOOLS),
        default=list(PEER_TOOLS),
        help="the peers run in the files section (the targets name evidently and pandas)",
    )
    parser.add_argument("--write-tables", nargs=2, metavar=("DIR", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write_tables:
        write_tables(Path(args.write_tables[0]), int(args.write_tables[1]))
        return
    only = set(args.only or ["files", "ingest", "check", "evidently", "imports", "calibration"])
    q = args.quick
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, one process (per-core numbers)")
    if "files" in only:
        section_files(
            args.sizes or ([20_000] if q else [100_000, 1_000_000]),
            args.peers,
            args.tmp,
            tuple(args.peer_formats),
            tuple(args.peer_tools),
        )
    if "ingest" in only:
        section_ingest(5_000 if q else 20_000, 3 if q else 9)
    if "check" in only:
        section_check([10_000] if q else [10_000, 1_000_000], 3 if q else 5)
    if "evidently" in only:
        section_evidently(10_000 if q else 100_000)
    if "imports" in only:
        section_imports(3 if q else 5)
    if "calibration" in only:
        section_calibration(20 if q else 200, 10_000)


if __name__ == "__main__":
    main()

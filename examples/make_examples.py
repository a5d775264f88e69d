"""Regenerate the sample inputs in examples/ (synthetic, seeded; the files are committed).

    .venv/bin/python examples/make_examples.py

- latency/series.csv: three days of 5-minute ModelLatency p99 (microseconds) with a daily cycle
  (busier afternoons are slower) and log-normal noise; from 2026-11-25 18:00 UTC the level is x1.6
  (a regression the detector should flag within a few points). Header ``timestamp,value``.
- drift/week.jsonl: 400 SageMaker data-capture records of chat completions (normal traffic), a
  baseline; drift/today.jsonl: 200 records of drifted traffic (prompts twice as long, shorter
  answers, more refusals, slower). The record format is the one data capture writes (one JSON object
  a line: captureData.endpointInput/endpointOutput, eventMetadata).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from sentinel_dev.local import traffic

HERE = Path(__file__).resolve().parent
START = datetime(2026, 11, 23, tzinfo=UTC)
REGRESSION = datetime(2026, 11, 25, 18, tzinfo=UTC)


def latency_csv(rng: np.random.Generator) -> str:
    rows = ["timestamp,value"]
    for i in range(3 * 24 * 12):
        at = START + timedelta(minutes=5 * i)
        hour = at.hour + at.minute / 60
        level = 800_000 * (1 + 0.15 * math.sin((hour - 8) / 24 * 2 * math.pi)) * (1.6 if at >= REGRESSION else 1.0)
        rows.append(f"{at:%Y-%m-%dT%H:%M:%SZ},{level * rng.lognormal(0, 0.08):.1f}")
    return "\n".join(rows) + "\n"


def main() -> None:
    rng = np.random.default_rng(2026)
    (HERE / "latency" / "series.csv").write_text(latency_csv(rng))
    week = traffic.records(rng, 400, START)
    today = traffic.records(rng, 200, START + timedelta(days=7), traffic.DRIFTED)
    (HERE / "drift" / "week.jsonl").write_bytes(b"\n".join(week) + b"\n")
    (HERE / "drift" / "today.jsonl").write_bytes(b"\n".join(today) + b"\n")


if __name__ == "__main__":
    main()

"""The data-capture profiler's cost of quality sampling, without Comprehend's own latency (on demand).

    nice -n 5 .venv/bin/python bench/quality_capture.py [--lines 5000] [--rate 0.01] [--reps 7]

One synthetic data-capture file of OpenAI-style chat completions (event ids, ~500-character answers),
profiled three ways in the same run, interleaved, median of ``--reps``:

- ``off``: the columnar ingest alone (``profile_lines``), what the profiler does at rate 0;
- ``sampled``: the same plus ``score_capture_lines`` at ``--rate`` (read each line's event id, parse the
  sampled lines only, plan the calls) and ``add_quality_profiles``; Comprehend is a stand-in answering at
  once, so the time is ours alone;
- ``record path``: the peer it avoids, every line parsed into a record (``parse_lines``), then
  ``score_quality`` and ``profile_batch``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np
import orjson

from llmops_sentinel.domain.drift.features import QUALITY_GROUP
from llmops_sentinel.domain.drift.ingest import profile_lines
from llmops_sentinel.domain.drift.profiles import profile_batch
from llmops_sentinel.domain.drift.records import parse_lines
from llmops_sentinel.domain.quality import PiiEntity, QualityConfig, sample_key
from llmops_sentinel.services.quality import add_quality_profiles, new_budget, score_capture_lines, score_quality
from sentinel_dev.local.traffic import WORDS as TRAFFIC_WORDS

WORDS = TRAFFIC_WORDS[:13]  # the 13-word vocabulary this bench has always drawn from


class Instant:
    """Comprehend's answers, at once (the bench measures our work, not the API's)."""

    def toxicity(self, segments: Sequence[str], language: str) -> list[float]:
        return [0.1] * len(segments)

    def pii(self, text: str, language: str) -> list[PiiEntity]:
        return []


def capture_lines(n: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        prompt = " ".join(rng.choice(WORDS, 60))
        answer = " ".join(rng.choice(WORDS, max(1, int(rng.normal(80, 20)))))
        request = {"model": "m", "messages": [{"role": "user", "content": prompt}]}
        response = {
            "choices": [{"message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 90, "completion_tokens": len(answer) // 4},
            "latency_ms": 412.5,
        }
        out.append(
            orjson.dumps(
                {
                    "captureData": {
                        "endpointInput": {"data": orjson.dumps(request).decode(), "encoding": "JSON"},
                        "endpointOutput": {"data": orjson.dumps(response).decode(), "encoding": "JSON"},
                    },
                    "eventMetadata": {"eventId": f"evt-{seed}-{i}", "inferenceTime": "2026-12-04T03:00:00Z"},
                }
            )
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=0.01)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    lines = capture_lines(args.lines)
    config = QualityConfig(sample_rate=args.rate)
    source = "s3://bucket/datacapture/ep/AllTraffic/2026/12/04/03/file.jsonl"
    features = [QUALITY_GROUP, "llm"]

    def off() -> None:
        profile_lines(lines, features=features)

    def sampled() -> None:
        profile = profile_lines(lines, features=features).profile
        _outcome, scored = score_capture_lines(lines, source, config, new_budget(config), Instant())  # type: ignore[arg-type]
        add_quality_profiles(profile, scored)

    def record_path() -> None:
        result = parse_lines(lines)
        keys = [sample_key(r.ref, source) for r in result.records]
        score_quality(result.records, keys, config, new_budget(config), Instant())  # type: ignore[arg-type]
        profile_batch(result, features=features)

    runs: dict[str, Callable[[], None]] = {"off": off, "sampled": sampled, "record path": record_path}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.reps):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["off"])
    print(f"{args.lines} lines, rate {args.rate}, median of {args.reps}:")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:12s} {med * 1000:8.1f} ms  x{med / base:.2f} of off")


if __name__ == "__main__":
    main()

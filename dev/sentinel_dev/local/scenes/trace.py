"""The real LLM traffic the demo replays: the Azure LLM inference trace 2023 (CC-BY 4.0).

Two one-hour samples of production requests (2023-11-16 18:15-19:15 UTC): ``conv`` (a conversation
service) and ``code`` (code completion), each row an arrival time and its prompt and output token
counts. Vendored, unmodified and gzip-compressed, in ``sentinel_dev/local/data/azure-llm-inference-2023``
with its licence. Attribution: Patel et al., "Splitwise: Efficient generative LLM inference using phase
splitting", ISCA 2024; data from github.com/Azure/AzurePublicDataset.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "azure-llm-inference-2023"
ATTRIBUTION = (
    "traffic: Azure LLM inference trace 2023 (AzurePublicDataset, CC-BY 4.0; Patel et al., "
    '"Splitwise", ISCA 2024): real arrivals and token counts; latencies modelled from the tokens'
)
KINDS = ("conv", "code")


@dataclass(frozen=True)
class Trace:
    """One service's hour: arrival offsets (seconds from the first request) and token counts, by arrival."""

    kind: str
    offset_s: np.ndarray
    context_tokens: np.ndarray
    generated_tokens: np.ndarray

    def __len__(self) -> int:
        return int(self.offset_s.size)

    @property
    def minutes(self) -> int:
        return max(1, int(self.offset_s[-1] // 60))

    def minute(self, index: int) -> np.ndarray:
        """Row indices of the requests that arrived in minute ``index``, modulo the trace's whole minutes
        (58 of both samples: the replay repeats them back to back)."""
        start = (index % self.minutes) * 60.0
        lo, hi = np.searchsorted(self.offset_s, [start, start + 60.0])
        return np.arange(lo, hi)


def _parse(text: str, kind: str) -> Trace:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    if header != ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]:
        raise ValueError(f"unexpected trace header {header}")
    stamps = np.array([datetime.fromisoformat(r[0][:26]).timestamp() for r in body])
    order = np.argsort(stamps, kind="stable")
    stamps = stamps[order]
    return Trace(
        kind=kind,
        offset_s=stamps - stamps[0],
        context_tokens=np.array([int(r[1]) for r in body], dtype=np.int64)[order],
        generated_tokens=np.array([int(r[2]) for r in body], dtype=np.int64)[order],
    )


@cache
def load(kind: str, data: Path = DATA) -> Trace:
    """The ``conv`` or ``code`` hour (parsed once per process)."""
    if kind not in KINDS:
        raise ValueError(f"trace kind must be one of {KINDS}")
    path = data / f"AzureLLMInferenceTrace_{kind}.csv.gz"
    return _parse(gzip.decompress(path.read_bytes()).decode(), kind)

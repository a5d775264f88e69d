"""Sampled quality signals (Amazon Comprehend toxicity and PII): which records, in which calls, within
which budgets. Pure: the adapter (``adapters/comprehend.py``) makes the calls, the service runs the plan.

- **Sampling** is deterministic: a record is sampled when a hash of its stable key (its event id, else
  the Firehose record id and its line) falls under ``sample_rate``, so a redelivered batch samples the
  same records and a retry pays for nothing new. The default rate is 0: off, nothing is called.
- **DetectToxicContent** takes "a list of up to 10 text strings. Each string has a maximum size of 1 KB,
  and the maximum size of the list is 10 KB" and "Currently, English is the only supported language"
  (API reference, DetectToxicContent, TextSegments / LanguageCode; read 2026-12-03). A response longer
  than 1 KB is split on character boundaries into 1 KB segments, at most ``MAX_SEGMENTS_PER_RECORD`` of
  them (the rest is not scored and is counted); its toxicity is the maximum over its segments. The API
  "uses the order of strings in the list to determine context", so one call carries the segments of
  whole responses only, never part of a response in one call and the rest in another.
- **DetectPiiEntities** takes one text, "A UTF-8 text string. The maximum string size is 100 KB",
  ``LanguageCode`` ``en | es`` (API reference, DetectPiiEntities; read 2026-12-03): one call per sampled
  response, cut to 100 KB.
- **Budgets**: after ``max_failures`` failed calls, or one throttled call, nothing more is called for
  the rest of the batch (what was not called is counted as skipped); no call starts once the batch's
  time budget is spent. A Comprehend failure never fails the batch: its records keep ``None`` scores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TOXICITY_SEGMENTS = 10  # TextSegments per DetectToxicContent call
MAX_SEGMENT_BYTES = 1024  # "Each string has a maximum size of 1 KB"
MAX_TOXICITY_LIST_BYTES = 10 * 1024  # "the maximum size of the list is 10 KB"
MAX_SEGMENTS_PER_RECORD = MAX_TOXICITY_SEGMENTS  # a response's segments fit one call (the API reads them as context)
MAX_PII_BYTES = 100 * 1024  # DetectPiiEntities: "The maximum string size is 100 KB"
TOXICITY_LANGUAGES = frozenset({"en"})
PII_LANGUAGES = frozenset({"en", "es"})
# Comprehend bills text in units of 100 characters, at least 3 units per request (pricing page).
CHARS_PER_UNIT = 100
MIN_UNITS_PER_REQUEST = 3


class QualityConfig(BaseModel):
    """``quality:`` in the monitors file. ``sample_rate`` 0 (the default) turns the extractor off."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    toxicity: bool = True
    pii: bool = True
    language: Literal["en", "es"] = "en"  # toxicity: en only; PII: en or es
    toxic_threshold: float = Field(default=0.5, ge=0.0, le=1.0)  # `toxic` when the max Toxicity >= this
    pii_min_score: float = Field(default=0.5, ge=0.0, le=1.0)  # entities below this confidence are ignored
    max_failures: int = Field(default=3, ge=1)  # failed calls before the rest of the batch is skipped
    time_budget_s: float = Field(default=20.0, gt=0.0, le=600.0)  # Comprehend time per batch, all calls


@dataclass(frozen=True, slots=True)
class QualityScores:
    """A sampled record's scores; a field is None when its API was not called for the record."""

    toxicity: float | None = None  # max Toxicity over the response's segments, 0..1
    toxic: bool | None = None  # toxicity >= the configured threshold
    pii_types: tuple[str, ...] | None = None  # entity types at or above pii_min_score, by score; () = none

    @property
    def pii(self) -> bool | None:
        return None if self.pii_types is None else bool(self.pii_types)

    @property
    def pii_type(self) -> str | None:
        """The most confident entity type, ``none`` when the text has none (a categorical feature)."""
        if self.pii_types is None:
            return None
        return self.pii_types[0] if self.pii_types else "none"


def sample_key(ref: str, record_id: str = "") -> str:
    """A record's stable key: its own id, or (an index-only ref like ``#3``) the delivery's record id + it."""
    return ref if not ref.startswith("#") else f"{record_id}{ref}"


def is_sampled(key: str, rate: float) -> bool:
    """Deterministic Bernoulli(rate) on a key: the first 8 bytes of its BLAKE2b hash as a fraction of 2**64."""
    if rate <= 0.0:
        return False
    if rate >= 1.0:
        return True
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2.0**64


def units(text: str) -> int:
    """Billed units of one request of ``text`` (100 characters a unit, 3 units at least)."""
    return max(MIN_UNITS_PER_REQUEST, -(-len(text) // CHARS_PER_UNIT))


def utf8_chunks(text: str, limit: int) -> list[str]:
    """``text`` split into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8", "replace")  # a lone surrogate (not UTF-8) becomes "?"
    if len(data) <= limit:
        return [data.decode()]
    out: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte: back to a boundary
            end -= 1
        out.append(data[start:end].decode())
        start = end
    return out


@dataclass(frozen=True, slots=True)
class ToxicityCall:
    """One DetectToxicContent request: segments in order, ``owners[i]`` the record index of segment i."""

    segments: tuple[str, ...]
    owners: tuple[int, ...]

    @property
    def records(self) -> int:
        return len(set(self.owners))


@dataclass(frozen=True, slots=True)
class PiiCall:
    record: int
    text: str


@dataclass(slots=True)
class QualityPlan:
    toxicity: list[ToxicityCall] = field(default_factory=list)
    pii: list[PiiCall] = field(default_factory=list)
    cut: int = 0  # responses longer than a limit: only their head is scored
    blank: int = 0  # sampled responses with no text to score (empty or whitespace)


def plan_calls(texts: Sequence[tuple[int, str]], config: QualityConfig) -> QualityPlan:
    """(record index, response text) of the sampled records -> the calls, within the APIs' limits."""
    plan = QualityPlan()
    toxicity = config.toxicity and config.language in TOXICITY_LANGUAGES
    pii = config.pii and config.language in PII_LANGUAGES
    segments: list[str] = []
    owners: list[int] = []
    for index, text in texts:
        if not text or text.isspace():
            plan.blank += 1
            continue
        cut = False
        if toxicity:
            chunks = utf8_chunks(text, MAX_SEGMENT_BYTES)
            if len(chunks) > MAX_SEGMENTS_PER_RECORD:
                chunks, cut = chunks[:MAX_SEGMENTS_PER_RECORD], True
            if len(segments) + len(chunks) > MAX_TOXICITY_SEGMENTS:
                plan.toxicity.append(ToxicityCall(tuple(segments), tuple(owners)))
                segments, owners = [], []
            segments.extend(chunks)
            owners.extend([index] * len(chunks))
        if pii:
            head = utf8_chunks(text, MAX_PII_BYTES)
            cut = cut or len(head) > 1
            plan.pii.append(PiiCall(index, head[0]))
        plan.cut += cut
    if segments:
        plan.toxicity.append(ToxicityCall(tuple(segments), tuple(owners)))
    return plan


Clock = Callable[[], float]


@dataclass(slots=True)
class CallBudget:
    """The batch's error and time budget: ``allow()`` before each call, then ``ok()`` or ``failed()``."""

    max_failures: int
    deadline: float  # on ``clock``'s scale
    clock: Clock
    failures: int = 0
    throttled: bool = False
    stopped: str | None = None  # why calls stopped: "throttled", "failures", "time"

    def allow(self) -> bool:
        if self.stopped is None and self.clock() >= self.deadline:
            self.stopped = "time"
        return self.stopped is None

    def failed(self, throttled: bool) -> None:
        self.failures += 1
        if throttled:
            self.throttled = True
            self.stopped = "throttled"
        elif self.failures >= self.max_failures:
            self.stopped = "failures"


@dataclass(slots=True)
class QualityOutcome:
    """What the extractor did for one batch (logged and summed into the batch summary)."""

    sampled: int = 0
    scores: dict[int, QualityScores] = field(default_factory=dict)
    toxicity_calls: int = 0
    pii_calls: int = 0
    units: int = 0  # billed units of the calls made (list-price estimate)
    skipped_records: int = 0  # sampled records left unscored for a budget (error, throttle, time)
    failures: int = 0
    stopped: str | None = None
    cut: int = 0
    blank: int = 0


@dataclass(frozen=True, slots=True)
class ToxicityResult:
    toxicity: tuple[float, ...]  # one per segment, in order


@dataclass(frozen=True, slots=True)
class PiiEntity:
    type: str
    score: float


def merge_scores(
    toxicity: dict[int, float], pii: dict[int, list[PiiEntity]], config: QualityConfig
) -> dict[int, QualityScores]:
    """Per-record scores from the calls that answered (a record one API did not score keeps None there)."""
    out: dict[int, QualityScores] = {}
    for index in sorted({*toxicity, *pii}):
        tox = toxicity.get(index)
        entities = pii.get(index)
        types: tuple[str, ...] | None = None
        if entities is not None:
            best: dict[str, float] = {}
            for e in entities:
                if e.score >= config.pii_min_score and e.score > best.get(e.type, -1.0):
                    best[e.type] = e.score
            types = tuple(sorted(best, key=lambda t: (-best[t], t)))
        out[index] = QualityScores(
            toxicity=tox, toxic=None if tox is None else tox >= config.toxic_threshold, pii_types=types
        )
    return out

"""Run the sampled Comprehend quality extractor over a batch of records (``domain/quality.py`` plans it).

Sampled records get ``rec.quality`` (their ``toxicity``/``toxic``/``pii``/``pii_types`` features); every
other record keeps None, so profiles count them as missing and drift tests judge the sampled share only.
A Comprehend failure or throttle never fails the batch: it is counted, and the budget stops the calls.

Both ingest paths sample by the same key, so a record is scored (and paid for) the same way whichever
way it arrives: the Firehose processor over its parsed records (:func:`score_quality`), the data-capture
profiler over the lines of a file (:func:`score_capture_lines`), whose columnar ingest builds no record
objects: it reads each line's event id only, and parses the sampled lines alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import numpy as np

from llmops_sentinel.domain.drift.features import QUALITY_GROUP, registered_features
from llmops_sentinel.domain.drift.profiles import EndpointProfile, profile_column
from llmops_sentinel.domain.drift.records import InferenceRecord, parse_lines
from llmops_sentinel.domain.quality import (
    CallBudget,
    Clock,
    PiiEntity,
    QualityConfig,
    QualityOutcome,
    is_sampled,
    merge_scores,
    plan_calls,
    sample_key,
    units,
)
from llmops_sentinel.errors import QualityCallError, ThrottledError

if TYPE_CHECKING:  # the adapter (botocore) is imported only when the extractor is on
    from llmops_sentinel.adapters.comprehend import Comprehend


def new_budget(config: QualityConfig, clock: Clock = time.monotonic) -> CallBudget:
    """One budget per Lambda batch (shared by its endpoints): ``time_budget_s`` from now."""
    return CallBudget(config.max_failures, clock() + config.time_budget_s, clock)


def with_quality(selection: Sequence[str] | None) -> list[str] | None:
    """A feature selection that includes the quality features (None already selects everything)."""
    if selection is None or QUALITY_GROUP in selection:
        return None if selection is None else list(selection)
    return [*selection, QUALITY_GROUP]


def score_quality(
    records: Sequence[InferenceRecord],
    keys: Sequence[str],
    config: QualityConfig,
    budget: CallBudget,
    comprehend: Comprehend | None = None,
) -> QualityOutcome:
    """Sample ``records`` by ``keys`` (one stable key each), call Comprehend within ``budget``, set
    ``rec.quality`` on the records it scored. Returns what was done (calls, units, skipped)."""
    outcome = QualityOutcome()
    if config.sample_rate <= 0.0:
        return outcome
    failures_before, stopped_before = budget.failures, budget.stopped
    texts = [
        (i, rec.response)
        for i, (rec, key) in enumerate(zip(records, keys, strict=True))
        if rec.response is not None and is_sampled(key, config.sample_rate)
    ]
    outcome.sampled = len(texts)
    plan = plan_calls(texts, config)
    outcome.cut, outcome.blank = plan.cut, plan.blank
    if not plan.toxicity and not plan.pii:
        return outcome
    if comprehend is None:
        from llmops_sentinel.adapters.comprehend import Comprehend

        comprehend = Comprehend()
    toxicity: dict[int, float] = {}
    pii: dict[int, list[PiiEntity]] = {}
    for call, scores in _within_budget(
        plan.toxicity, budget, lambda c: comprehend.toxicity(c.segments, config.language)
    ):
        outcome.toxicity_calls += 1
        outcome.units += sum(units(s) for s in call.segments)  # upper bound: the minimum per segment
        for owner, score in zip(call.owners, scores, strict=True):
            toxicity[owner] = max(score, toxicity.get(owner, 0.0))
    for pcall, entities in _within_budget(plan.pii, budget, lambda c: comprehend.pii(c.text, config.language)):
        outcome.pii_calls += 1
        outcome.units += units(pcall.text)
        pii[pcall.record] = entities
    planned_tox = {owner for call in plan.toxicity for owner in call.owners}
    planned_pii = {pcall.record for pcall in plan.pii}
    outcome.skipped_records = len((planned_tox - toxicity.keys()) | (planned_pii - pii.keys()))
    # this batch's share of a budget its endpoints share (the summary adds them up)
    outcome.failures = budget.failures - failures_before
    if outcome.skipped_records or budget.stopped != stopped_before:
        outcome.stopped = budget.stopped
    outcome.scores = merge_scores(toxicity, pii, config)
    for index, scored in outcome.scores.items():
        records[index].quality = scored
    return outcome


class _KeyMeta(msgspec.Struct, gc=False, rename="camel"):
    event_id: str = ""


class _KeyLine(msgspec.Struct, gc=False, rename="camel"):
    capture_data: msgspec.Raw  # present: a data-capture record, whose ref is its event id (records.py)
    event_metadata: _KeyMeta


_KEY_LINE = msgspec.json.Decoder(_KeyLine).decode


def _line_ref(line: bytes | str, index: int) -> tuple[str | None, InferenceRecord | None]:
    """(the ref ``parse_lines`` gives the record of this line, the record when it had to be parsed).

    A data-capture line with a string event id is read for that id only (msgspec skips the rest); any
    other line is parsed, so the ref is the record path's own (None: the line is no record)."""
    try:
        event_id = _KEY_LINE(line).event_metadata.event_id
    except (msgspec.DecodeError, UnicodeError, RecursionError):
        event_id = ""
    if event_id:
        return event_id, None
    parsed = parse_lines((line,), index).records
    return (parsed[0].ref, parsed[0]) if parsed else (None, None)


def score_capture_lines(
    lines: Sequence[bytes | str],
    source: str,
    config: QualityConfig,
    budget: CallBudget,
    comprehend: Comprehend | None = None,
    start: int = 0,
) -> tuple[QualityOutcome, list[InferenceRecord]]:
    """The lines of a data-capture file: sample them by the record's key (``sample_key(ref, source)``:
    its event id, else ``source`` and its line), parse the sampled lines only, score them like
    :func:`score_quality`. Returns the outcome and the records it scored (``rec.quality`` set)."""
    picked: list[InferenceRecord] = []
    keys: list[str] = []
    if config.sample_rate > 0.0:
        for index, line in enumerate(lines, start):
            if not line or line.isspace():
                continue
            ref, rec = _line_ref(line, index)
            if ref is None or not is_sampled(key := sample_key(ref, source), config.sample_rate):
                continue
            if rec is None:
                parsed = parse_lines((line,), index).records
                if not parsed:  # the profile reports the line's error
                    continue
                rec = parsed[0]
            picked.append(rec)
            keys.append(key)
    outcome = score_quality(picked, keys, config, budget, comprehend)
    return outcome, [rec for rec in picked if rec.quality is not None]


def add_quality_profiles(
    profile: EndpointProfile, scored: Sequence[InferenceRecord], rng: np.random.Generator | None = None
) -> None:
    """The quality features of a profile built without records (the columnar ingest): the ``scored``
    records' values, every other record of the profile missing, as ``profile_batch`` counts them."""
    unscored = profile.records_ok - len(scored)
    for name, ex in registered_features().items():
        if ex.group != QUALITY_GROUP:
            continue
        p = profile_column(name, ex.kind, [*(ex.fn(rec) for rec in scored), *([None] * unscored)], rng=rng)
        if p is not None:
            profile.features[name] = p


def counters(outcome: QualityOutcome) -> dict[str, Any]:
    """One batch's counters (what the log line and the EMF metrics carry)."""
    return summary([outcome])


def summary(outcomes: Sequence[QualityOutcome]) -> dict[str, Any]:
    """The batch's quality counters, summed over its endpoints (for the batch log line)."""
    total: dict[str, Any] = {}
    for outcome in outcomes:
        for key, value in asdict(outcome).items():
            if key == "scores":
                total["scored"] = total.get("scored", 0) + len(value)
            elif key == "stopped":
                total[key] = total.get(key) or value
            else:
                total[key] = total.get(key, 0) + value
    return total


_Call = TypeVar("_Call")
_Answer = TypeVar("_Answer")


def _within_budget(
    calls: Sequence[_Call], budget: CallBudget, call: Callable[[_Call], _Answer]
) -> Iterator[tuple[_Call, _Answer]]:
    """Each planned call and its answer while the batch's error/throttle/time budget allows; a failed
    call is counted against the budget and skipped (never raised out of the batch)."""
    for planned in calls:
        if not budget.allow():
            return
        try:
            answer = call(planned)
        except (ThrottledError, QualityCallError) as exc:
            budget.failed(throttled=isinstance(exc, ThrottledError))
            continue
        yield planned, answer

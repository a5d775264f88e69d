"""Run the sampled Comprehend quality extractor over a batch of records (``domain/quality.py`` plans it).

Sampled records get ``rec.quality`` (their ``toxicity``/``toxic``/``pii``/``pii_types`` features); every
other record keeps None, so profiles count them as missing and drift tests judge the sampled share only.
A Comprehend failure or throttle never fails the batch: it is counted, and the budget stops the calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from llmops_sentinel.domain.drift.features import QUALITY_GROUP
from llmops_sentinel.domain.drift.records import InferenceRecord
from llmops_sentinel.domain.quality import (
    CallBudget,
    Clock,
    PiiEntity,
    QualityConfig,
    QualityOutcome,
    is_sampled,
    merge_scores,
    plan_calls,
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
    outcome.failures, outcome.stopped = budget.failures, budget.stopped
    outcome.scores = merge_scores(toxicity, pii, config)
    for index, scored in outcome.scores.items():
        records[index].quality = scored
    return outcome


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

"""Feature extractors, registered by name with a decorator; configuration selects them by name.

An extractor maps one :class:`InferenceRecord` to a value (``None`` = missing / not applicable):
``numeric`` -> float, ``categorical`` -> str, ``boolean`` -> bool, ``embedding`` -> list of floats.
Tabular input/output columns are not registered one by one: the ``columns`` group yields every column
the records carry, numeric or categorical by value type.

Groups: ``llm`` (every LLM feature below), ``columns`` (tabular), or any single feature name.
Token counts come from ``usage``/``details`` when the record has them; otherwise they are estimated from
characters (``ceil(chars / 4)``, the usual English rule of thumb for BPE tokenisers) and the boolean feature
``tokens_estimated`` says so, record by record (a shift in it is itself worth knowing about).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from llmops_sentinel.domain.drift.records import InferenceRecord
from llmops_sentinel.errors import ConfigError

FeatureKind = Literal["numeric", "categorical", "boolean", "embedding"]
FEATURE_KINDS: tuple[FeatureKind, ...] = ("numeric", "categorical", "boolean", "embedding")

CHARS_PER_TOKEN = 4
REFUSAL_WINDOW_CHARS = 80  # refusals open the answer; an anchored match on the head costs ~0.3 us

# Phrases a refusal opens with (matched case-insensitively at the start of the response, after
# whitespace and an optional quote). Anchoring is deliberate: an unanchored scan of the whole answer
# cost ~15 us a record (half the ingest budget) and flags answers that merely *quote* a refusal.
REFUSAL_PATTERNS: tuple[str, ...] = (  # ['\u2019] = straight or typographic apostrophe
    r"i(?:['\u2019]m| am) (?:so |very |truly )?sorry",
    r"sorry\b",
    r"i apologi[sz]e",
    r"i (?:cannot|can['\u2019]t|can not|won['\u2019]t|will not|must decline|must refuse)\b",
    r"i(?:['\u2019]m| am) (?:unable|not able) to\b",
    r"as an ai\b",
    r"unfortunately,? i (?:cannot|can['\u2019]t|am unable|['\u2019]m unable)",
)
_REFUSAL_RE = re.compile(r"\s*[\"'\u201c]?(?:" + "|".join(REFUSAL_PATTERNS) + ")", re.IGNORECASE)

# Every refusal pattern opens with a literal letter (a unit test checks it), so a match can only start
# with whitespace, an opening quote or one of those letters in either case. ASCII characters outside that
# set rule out both flags on the first character alone; anything else (including every non-ASCII head)
# goes to the regex. The columnar ingest uses this to run the regex on a minority of answers.
_REFUSAL_FIRST_RE = re.compile(r"[\s\"'\u201c]|" + "|".join(re.escape(p[0]) for p in REFUSAL_PATTERNS), re.IGNORECASE)
ASCII_NOT_REFUSAL_OR_EMPTY: frozenset[str] = frozenset(
    c for c in map(chr, range(128)) if not c.isspace() and _REFUSAL_FIRST_RE.match(c) is None
)


@dataclass(frozen=True, slots=True)
class FeatureExtractor:
    name: str
    kind: FeatureKind
    group: str
    fn: Callable[[InferenceRecord], Any]
    description: str


_REGISTRY: dict[str, FeatureExtractor] = {}
COLUMNS_GROUP = "columns"
ATTRIBUTES_GROUP = "attributes"
MAX_ATTRIBUTES = 16  # attribute fields profiled per batch (first seen first); the rest are counted, not profiled
ID_LIKE_MIN_DISTINCT = 20  # a string attribute with more distinct values than this and half of them unique


def feature(
    name: str, kind: FeatureKind, *, group: str = "llm", description: str = ""
) -> Callable[[Callable[[InferenceRecord], Any]], Callable[[InferenceRecord], Any]]:
    """Register ``fn`` as the extractor of feature ``name`` (one decorator, no central switch)."""

    def register(fn: Callable[[InferenceRecord], Any]) -> Callable[[InferenceRecord], Any]:
        if name in _REGISTRY or name == COLUMNS_GROUP:
            raise ValueError(f"feature {name!r} is already registered")
        _REGISTRY[name] = FeatureExtractor(name, kind, group, fn, description or (fn.__doc__ or "").strip())
        return fn

    return register


def registered_features() -> dict[str, FeatureExtractor]:
    return dict(_REGISTRY)


def resolve_features(selection: Sequence[str] | None) -> tuple[list[FeatureExtractor], bool]:
    """Names or groups -> (extractors, include tabular columns). ``None`` selects everything."""
    if selection is None:
        return list(_REGISTRY.values()), True
    chosen: dict[str, FeatureExtractor] = {}
    columns = False
    for item in selection:
        if item == COLUMNS_GROUP:
            columns = True
            continue
        if item == ATTRIBUTES_GROUP:
            continue
        group = [ex for ex in _REGISTRY.values() if ex.group == item]
        if group:
            chosen.update((ex.name, ex) for ex in group)
        elif item in _REGISTRY:
            chosen[item] = _REGISTRY[item]
        else:
            known = sorted({*_REGISTRY, *(ex.group for ex in _REGISTRY.values()), COLUMNS_GROUP, ATTRIBUTES_GROUP})
            raise ConfigError(f"unknown feature or group {item!r}; known: {', '.join(known)}")
    return list(chosen.values()), columns


def wants_attributes(selection: Sequence[str] | None) -> bool:
    """True when the selection names the ``attributes`` group (fields outside the feature list), or is
    None (everything): a config that names no features profiles the extra fields too, as the packaged
    monitors do, so the CLI's default and the Lambdas profile the same records the same way."""
    return selection is None or ATTRIBUTES_GROUP in selection


# ------------------------------------------------------------------------------------------ LLM features


def _estimate(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


@feature("prompt_chars", "numeric", description="characters in the prompt (all chat messages)")
def _prompt_chars(rec: InferenceRecord) -> float | None:
    return rec.prompt_chars


@feature("response_chars", "numeric", description="characters in the generated text")
def _response_chars(rec: InferenceRecord) -> float | None:
    return None if rec.response is None else len(rec.response)


@feature("input_tokens", "numeric", description="prompt tokens (usage, else estimated)")
def _input_tokens(rec: InferenceRecord) -> float | None:
    if rec.input_tokens is not None:
        return rec.input_tokens
    return None if rec.prompt_chars is None else _estimate(rec.prompt_chars)


@feature("output_tokens", "numeric", description="generated tokens (usage/details, else estimated)")
def _output_tokens(rec: InferenceRecord) -> float | None:
    if rec.output_tokens is not None:
        return rec.output_tokens
    return None if rec.response is None else _estimate(len(rec.response))


@feature("tokens_estimated", "boolean", description="true when a token count was estimated from chars")
def _tokens_estimated(rec: InferenceRecord) -> bool | None:
    if rec.prompt_chars is None and rec.response is None:
        return None
    return (rec.prompt_chars is not None and rec.input_tokens is None) or (
        rec.response is not None and rec.output_tokens is None
    )


@feature("latency_ms", "numeric", description="end-to-end model latency when the record carries it")
def _latency(rec: InferenceRecord) -> float | None:
    return rec.latency_ms


@feature("ttft_ms", "numeric", description="time to first token when the record carries it")
def _ttft(rec: InferenceRecord) -> float | None:
    return rec.ttft_ms


@feature("tokens_per_s", "numeric", description="stated, else output tokens / (latency - ttft)")
def _tokens_per_s(rec: InferenceRecord) -> float | None:
    if rec.tokens_per_s is not None:
        return rec.tokens_per_s
    if rec.output_tokens is not None and rec.latency_ms is not None:
        decode_ms = rec.latency_ms - (rec.ttft_ms or 0.0)
        if decode_ms > 0:
            return rec.output_tokens * 1000.0 / decode_ms
    return None


@feature("empty_response", "boolean", description="the response is empty or whitespace")
def _empty(rec: InferenceRecord) -> bool | None:
    text = rec.response
    return None if text is None else not text or text.isspace()  # isspace stops at the first letter


@feature("refusal_like", "boolean", description="the response head matches a refusal pattern")
def _refusal(rec: InferenceRecord) -> bool | None:
    text = rec.response
    if text is None:
        return None
    return _REFUSAL_RE.match(text, 0, REFUSAL_WINDOW_CHARS) is not None


@feature("finish_reason", "categorical", description="stop / length / ... when stated")
def _finish_reason(rec: InferenceRecord) -> str | None:
    return rec.finish_reason


# Finish reasons that mean "cut at the token limit": OpenAI / vLLM / TGI ``length``, Anthropic and Bedrock
# Converse ``max_tokens``, Amazon Titan ``LENGTH``, Gemini ``MAX_TOKENS`` (compared case-insensitively).
TRUNCATED_REASONS = frozenset({"length", "max_tokens", "max_length", "max_output_tokens", "model_length"})


def is_truncated(reason: str | None) -> bool | None:
    return None if reason is None else reason.lower() in TRUNCATED_REASONS


def is_invalid_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return True
    return False


@feature("truncated", "boolean", description="the model stopped at its token limit (finish reason length/max_tokens)")
def _truncated(rec: InferenceRecord) -> bool | None:
    return is_truncated(rec.finish_reason)


@feature("invalid_json", "boolean", description="JSON was asked for and the answer does not parse; else None")
def _invalid_json(rec: InferenceRecord) -> bool | None:
    text = rec.response
    return None if not rec.json_mode or text is None else is_invalid_json(text)


# ------------------------------------------------------------------- sampled quality (domain/quality.py)
# None on every record the Comprehend extractor did not sample (the default: all of them).


@feature("toxicity", "numeric", group="quality", description="max Comprehend Toxicity of the answer (sampled)")
def _toxicity(rec: InferenceRecord) -> float | None:
    return None if rec.quality is None else rec.quality.toxicity


@feature("toxic", "boolean", group="quality", description="toxicity at or above the threshold (sampled)")
def _toxic(rec: InferenceRecord) -> bool | None:
    return None if rec.quality is None else rec.quality.toxic


@feature("pii", "boolean", group="quality", description="Comprehend found PII in the answer (sampled)")
def _pii(rec: InferenceRecord) -> bool | None:
    return None if rec.quality is None else rec.quality.pii


@feature("pii_types", "categorical", group="quality", description="most confident PII type, or none (sampled)")
def _pii_types(rec: InferenceRecord) -> str | None:
    return None if rec.quality is None else rec.quality.pii_type


QUALITY_GROUP = "quality"


@feature("embedding", "embedding", group="embedding", description="the record's embedding vector")
def _embedding(rec: InferenceRecord) -> list[float] | None:
    return rec.embedding


def is_refusal_like(text: str) -> bool:
    return _REFUSAL_RE.match(text, 0, REFUSAL_WINDOW_CHARS) is not None


def _fused_llm_columns(records: Sequence[InferenceRecord], names: set[str]) -> dict[str, list[Any]]:
    """The built-in LLM extractors as inline comprehensions (same results, no per-record call).

    ``tests/unit/drift`` checks this against the registered extractors one by one.
    """
    cols: dict[str, list[Any]] = {}
    match = _REFUSAL_RE.match
    window = REFUSAL_WINDOW_CHARS
    if "prompt_chars" in names:
        cols["prompt_chars"] = [r.prompt_chars for r in records]
    if "response_chars" in names:
        cols["response_chars"] = [None if (t := r.response) is None else len(t) for r in records]
    if "input_tokens" in names:
        cols["input_tokens"] = [
            r.input_tokens
            if r.input_tokens is not None
            else None
            if (c := r.prompt_chars) is None
            else -(-c // CHARS_PER_TOKEN)
            for r in records
        ]
    if "output_tokens" in names:
        cols["output_tokens"] = [
            r.output_tokens
            if r.output_tokens is not None
            else None
            if (t := r.response) is None
            else -(-len(t) // CHARS_PER_TOKEN)
            for r in records
        ]
    if "tokens_estimated" in names:
        cols["tokens_estimated"] = [
            None
            if r.prompt_chars is None and r.response is None
            else (r.prompt_chars is not None and r.input_tokens is None)
            or (r.response is not None and r.output_tokens is None)
            for r in records
        ]
    if "latency_ms" in names:
        cols["latency_ms"] = [r.latency_ms for r in records]
    if "ttft_ms" in names:
        cols["ttft_ms"] = [r.ttft_ms for r in records]
    if "tokens_per_s" in names:
        cols["tokens_per_s"] = [
            r.tokens_per_s
            if r.tokens_per_s is not None
            else None
            if (lat := r.latency_ms) is None or (out := r.output_tokens) is None
            else out * 1000.0 / decode
            if (decode := lat - (r.ttft_ms or 0.0)) > 0
            else None
            for r in records
        ]
    if "empty_response" in names:
        cols["empty_response"] = [None if (t := r.response) is None else not t or t.isspace() for r in records]
    if "refusal_like" in names:
        cols["refusal_like"] = [None if (t := r.response) is None else match(t, 0, window) is not None for r in records]
    if "finish_reason" in names:
        cols["finish_reason"] = [r.finish_reason for r in records]
    if "truncated" in names:
        cols["truncated"] = [
            None if (f := r.finish_reason) is None else f.lower() in TRUNCATED_REASONS for r in records
        ]
    if "invalid_json" in names:
        cols["invalid_json"] = [
            None if not r.json_mode or (t := r.response) is None else is_invalid_json(t) for r in records
        ]
    return cols


# ----------------------------------------------------------------------------------- columnar extraction

_FUSED: dict[str, Callable[[InferenceRecord], Any]] = {
    name: ex.fn for name, ex in _REGISTRY.items() if ex.group == "llm"
}


_QUALITY: dict[str, Callable[[InferenceRecord], Any]] = {
    name: ex.fn for name, ex in _REGISTRY.items() if ex.group == QUALITY_GROUP
}


def is_builtin(ex: FeatureExtractor) -> bool:
    """True for the extractors defined here (the columnar ingest computes those without records; the
    quality ones are None on every record it reads: only the Comprehend extractor sets them)."""
    return (
        _FUSED.get(ex.name) is ex.fn
        or _QUALITY.get(ex.name) is ex.fn
        or (ex.name == "embedding" and ex.fn is _embedding)
    )


@dataclass(slots=True)
class FeatureTable:
    """Columnar features of a batch. ``values[name]`` has one entry per record (or per tabular row)."""

    kinds: dict[str, FeatureKind] = field(default_factory=dict)
    values: dict[str, list[Any]] = field(default_factory=dict)
    n_records: int = 0
    n_rows: int = 0
    attributes_not_profiled: list[str] = field(default_factory=list)  # over MAX_ATTRIBUTES, or id-like


def extract_features(
    records: Sequence[InferenceRecord], selection: Sequence[str] | None = None, *, attributes: bool | None = None
) -> FeatureTable:
    """Run the selected extractors over ``records`` (hot path: plain lists, no validation).

    ``attributes=False`` leaves the attribute columns out whatever the selection (a caller that builds
    them over more rows than ``records``, as the columnar ingest does, with :func:`attribute_columns`).
    """
    extractors, columns = resolve_features(selection)
    table = FeatureTable(n_records=len(records))
    fused = _fused_llm_columns(records, {ex.name for ex in extractors if _FUSED.get(ex.name) is ex.fn})
    for ex in extractors:
        col = fused.get(ex.name)
        if col is None:
            fn = ex.fn
            col = [fn(rec) for rec in records]
        table.kinds[ex.name] = ex.kind
        table.values[ex.name] = col
    if columns:
        _tabular_columns(records, table)
    if wants_attributes(selection) if attributes is None else attributes:
        kinds, values, dropped = attribute_columns([attribute_items(rec) for rec in records], set(table.values))
        table.kinds.update(kinds)
        table.values.update(values)
        table.attributes_not_profiled = dropped
    return table


AttributeItems = Sequence[tuple[str, Any]]


def attribute_items(rec: InferenceRecord) -> AttributeItems:
    """What a record brings to the attribute columns: ``model`` first, then its other scalar fields."""
    attrs = rec.attributes
    if rec.model is None:
        return tuple(attrs.items()) if attrs else ()
    return (("model", rec.model), *attrs.items()) if attrs else (("model", rec.model),)


def attribute_columns(
    per_record: Sequence[AttributeItems], taken: set[str]
) -> tuple[dict[str, FeatureKind], dict[str, list[Any]], list[str]]:
    """``model`` and each record's other scalar fields, one column per field (type inferred, capped).

    ``per_record`` holds one :func:`attribute_items` per record; ``taken`` the names other columns hold
    (an attribute of such a name becomes ``attribute.<name>``). Fields are kept first seen first, up to
    ``MAX_ATTRIBUTES``. A string field that looks like an identifier (more than ``ID_LIKE_MIN_DISTINCT``
    distinct values, at least half of its values unique) is not profiled: every window would bring new
    values. Returns (kinds, columns, fields not profiled).
    """
    n = len(per_record)
    cols: dict[str, list[Any]] = {}
    dropped: dict[str, None] = {}
    for i, items in enumerate(per_record):
        for key, value in items:
            col = cols.get(key)
            if col is None:
                if len(cols) >= MAX_ATTRIBUTES:
                    dropped[key] = None
                    continue
                col = cols[key] = [None] * n
            col[i] = value
    kinds: dict[str, FeatureKind] = {}
    out: dict[str, list[Any]] = {}
    for key, col in cols.items():
        present = [v for v in col if v is not None]
        if any(isinstance(v, str) for v in present):
            kind: FeatureKind = "categorical"
            values: list[Any] = [None if v is None else _category(v) for v in col]
            distinct = len(set(values)) - (None in values)
            if distinct > ID_LIKE_MIN_DISTINCT and distinct >= 0.5 * len(present):
                dropped[key] = None
                continue
        elif all(isinstance(v, bool) for v in present):
            kind, values = "boolean", col
        else:
            kind, values = "numeric", [None if isinstance(v, bool) else v for v in col]
        name = key if key not in taken and key not in out else f"attribute.{key}"
        kinds[name] = kind
        out[name] = values
    return kinds, out, list(dropped)


def _tabular_columns(records: Iterable[InferenceRecord], table: FeatureTable) -> None:
    cols: dict[str, list[Any]] = {}
    kinds: dict[str, FeatureKind] = {}
    n = 0
    for rec in records:
        for row in rec.rows:
            for key, value in row.items():
                col = cols.get(key)
                if col is None:
                    col = cols[key] = [None] * n
                col.append(value)
                if value is not None and key not in kinds:
                    kinds[key] = (
                        "boolean"
                        if isinstance(value, bool)
                        else "numeric"
                        if isinstance(value, float)
                        else "categorical"
                    )
            n += 1
            for col in cols.values():
                if len(col) < n:
                    col.append(None)
    for key, raw in cols.items():
        kind = kinds.get(key, "numeric")
        col = raw
        if kind == "numeric" and any(isinstance(v, str) for v in raw):
            kind = "categorical"  # mixed column: numbers and strings -> categories
            col = [None if v is None else _category(v) for v in raw]
        if kind == "numeric":
            col = [v if isinstance(v, float) else None for v in raw]  # stray bools become missing
        name = f"column.{key}" if key in table.values else key  # a column named like an LLM feature
        table.kinds[name] = kind
        table.values[name] = col
    table.n_rows = n


def _category(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

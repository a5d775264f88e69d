"""Columnar ingest: JSON lines -> an endpoint profile without building a record object per line.

``profile_lines(lines)`` gives the same profile as ``profile_batch(parse_lines(lines))`` (same counts and
categories, moments up to float summation order, KLL quantiles within the sketch's rank error) and the
same per-record errors, about twice as fast on chat-completion data capture. How:

- The common record -- a JSON data capture of an OpenAI-style chat completion -- is read by one tight
  loop that decodes the line and both payloads and keeps a tuple of the few values the LLM features
  need (prompt characters, response length, usage tokens, latency/TTFT/tokens-per-second, finish
  reason, inference time). No ``InferenceRecord``, no per-record function calls, and the response text
  is not kept: its length is, and the text itself only when its first character could open a refusal or
  an empty answer (``features.ASCII_NOT_REFUSAL_OR_EMPTY`` rules the rest out without the regex).
- Type checks that would cost a branch per record are done per column afterwards (``set(map(type,
  col))``, ``min``); a row that fails them goes back to the general path, like any line the loop does
  not recognise (other shapes, other encodings, alias keys, embeddings, malformed JSON). The general
  path is the one and only place that decides errors, so every bad line is reported with its
  reference, one by one, exactly as ``parse_lines`` reports it.
- Features are computed per column with numpy (tokens/s from latency and TTFT, NaN = missing) and the
  booleans and categories are counted, then each sketch gets one vectorised update.

Lines the fast loop takes and lines the general path takes are profiled together: the profile is of the
concatenation (fast rows first), which is the same multiset of values. Only embeddings and tabular
columns depend on order, and only general-path records carry them, in their original order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from llmops_sentinel.domain.drift.features import (
    _REFUSAL_RE,
    ASCII_NOT_REFUSAL_OR_EMPTY,
    REFUSAL_WINDOW_CHARS,
    FeatureExtractor,
    extract_features,
    is_builtin,
    resolve_features,
)
from llmops_sentinel.domain.drift.profiles import (
    DEFAULT_KLL_K,
    DEFAULT_RESERVOIR,
    EndpointProfile,
    FeatureProfile,
    FloatArray,
    profile_batch,
    profile_column,
)
from llmops_sentinel.domain.drift.records import (
    _ALIAS_EXTRAS,
    InferenceRecord,
    RecordError,
    parse_lines,
)

# keys that make the general path do more than the fast loop (alias names of latency & co., embeddings)
_NOT_FAST_KEYS = frozenset((*_ALIAS_EXTRAS, "embedding"))
_FLOAT_OR_NONE = frozenset((float, type(None)))
_INT = frozenset((int,))
_DECODE_ERRORS = (KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError)

# positions in a fast row
_PROMPT, _RESP, _PT, _CT, _LAT, _TTFT, _TPS, _REASON, _WHEN = range(9)
_Row = tuple[Any, ...]


@dataclass(slots=True)
class IngestResult:
    """The batch's profile and one error per line that is not a usable record (in line order)."""

    profile: EndpointProfile
    errors: list[RecordError]


def _scan(lines: Sequence[bytes | str], start: int) -> tuple[list[_Row], list[tuple[int, str]], list[int]]:
    """Fast rows, (row, text) of answers that might be empty or a refusal, and the general path's lines."""
    loads = orjson.loads
    rows: list[_Row] = []
    append = rows.append
    maybe: list[tuple[int, str]] = []
    slow: list[int] = []
    plain = _NOT_FAST_KEYS.isdisjoint
    never = ASCII_NOT_REFUSAL_OR_EMPTY
    slen = str.__len__  # TypeError on anything but a str: the general path decides
    content = itemgetter("content")
    for index, line in enumerate(lines, start):
        try:
            obj = loads(line)
            capture = obj["captureData"]
            ein = capture["endpointInput"]
            eout = capture["endpointOutput"]
            if ein["encoding"] != "JSON" or eout["encoding"] != "JSON":
                slow.append(index)
                continue
            pin = loads(ein["data"])
            pout = loads(eout["data"])
            first = pout["choices"][0]
            text = first["message"]["content"]
            usage = pout["usage"]
            get = pout.get
            if not plain(pout):
                slow.append(index)
                continue
            row = (
                sum(map(slen, map(content, pin["messages"]))),
                slen(text),
                usage["prompt_tokens"],
                usage["completion_tokens"],
                get("latency_ms"),
                get("ttft_ms"),
                get("tokens_per_s"),
                first.get("finish_reason"),
                obj["eventMetadata"].get("inferenceTime"),
            )
        except _DECODE_ERRORS:
            slow.append(index)
            continue
        if text[:1] not in never:
            maybe.append((len(rows), text))
        append(row)
    return rows, maybe, slow


def _bad_rows(cols: list[tuple[Any, ...]]) -> set[int]:
    """Rows whose values the general path would convert or reject (checked per column, fast when none)."""
    bad: set[int] = set()
    for c in (_PT, _CT):
        col = cols[c]
        if not set(map(type, col)) <= _INT or min(col) < 0:
            bad.update(i for i, v in enumerate(col) if type(v) is not int or v < 0)
    for c in (_LAT, _TTFT, _TPS):
        col = cols[c]
        if not set(map(type, col)) <= _FLOAT_OR_NONE:
            bad.update(i for i, v in enumerate(col) if v is not None and type(v) is not float)
    return bad


def _floats(col: tuple[Any, ...], none: float = np.nan) -> FloatArray:
    """Column of floats/None -> array (None -> ``none``)."""
    if math.isnan(none) or None not in col:  # numpy turns None into NaN itself
        return np.array(col, dtype=np.float64)
    return np.array([none if v is None else v for v in col], dtype=np.float64)


def _llm_columns(
    cols: list[tuple[Any, ...]], n: int, maybe: list[tuple[int, str]]
) -> dict[str, FloatArray | Counter[Any]]:
    """The built-in LLM features of the fast rows, per column (same values as ``features``' extractors)."""
    out: dict[str, FloatArray | Counter[Any]] = {}
    if n == 0:
        return out
    prompt = np.array(cols[_PROMPT], dtype=np.float64)
    out["prompt_chars"] = prompt
    out["response_chars"] = np.array(cols[_RESP], dtype=np.float64)
    out["input_tokens"] = np.array(cols[_PT], dtype=np.float64)  # stated in every fast row
    output = np.array(cols[_CT], dtype=np.float64)
    out["output_tokens"] = output
    out["tokens_estimated"] = Counter({False: n})
    latency = _floats(cols[_LAT])
    ttft = _floats(cols[_TTFT])
    out["latency_ms"] = latency
    out["ttft_ms"] = ttft
    stated = cols[_TPS]
    none = stated.count(None)
    if none:  # derived: output tokens / (latency - (ttft or 0)) when that is > 0
        decode = latency - _floats(cols[_TTFT], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            derived = np.where(decode > 0, output * 1000.0 / decode, np.nan)
        if none < n:
            is_none = np.fromiter((v is None for v in stated), dtype=bool, count=n)
            derived = np.where(is_none, derived, _floats(stated))
        out["tokens_per_s"] = derived
    else:
        out["tokens_per_s"] = _floats(stated)
    empty = refusal = 0
    match = _REFUSAL_RE.match
    for _row, text in maybe:
        empty += not text or text.isspace()
        refusal += match(text, 0, REFUSAL_WINDOW_CHARS) is not None
    out["empty_response"] = Counter({False: n - empty, True: empty})
    out["refusal_like"] = Counter({False: n - refusal, True: refusal})
    reasons = cols[_REASON]
    try:
        counted: Counter[Any] = Counter(reasons)
    except TypeError:  # an unhashable finish_reason
        counted = Counter(r if type(r) is str else None for r in reasons)
    for key in [key for key in counted if key is not None and type(key) is not str]:
        counted[None] += counted.pop(key)  # not a string: missing, as in the general path
    out["finish_reason"] = counted
    return out


def _times(whens: tuple[Any, ...]) -> list[str]:
    """Min and max inference times of the fast rows (records._time: a string opening with 0-9)."""
    try:
        lo, hi = min(whens), max(whens)
        if "0" <= lo[:1] <= "9" and "0" <= hi[:1] <= "9":  # valid extremes bound every valid value
            return [lo, hi]
    except (TypeError, ValueError):
        pass
    return [w for w in whens if type(w) is str and "0" <= w[:1] <= "9"]


def profile_lines(
    lines: Iterable[bytes | str],
    *,
    features: Sequence[str] | None = None,
    endpoint: str | None = None,
    rng: np.random.Generator | None = None,
    k: int = DEFAULT_KLL_K,
    start: int = 0,
) -> IngestResult:
    """JSON lines -> (profile, errors): ``profile_batch(parse_lines(lines))`` without per-record objects."""
    extractors, _columns = resolve_features(features)
    if not all(is_builtin(ex) for ex in extractors):  # a plug-in extractor needs the records
        result = parse_lines(lines, start)
        profile = profile_batch(result, features=features, endpoint=endpoint, rng=rng, k=k)
        return IngestResult(profile, result.errors)
    seq = lines if isinstance(lines, list | tuple) else list(lines)
    rows, maybe, slow = _scan(seq, start)
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(9)]
    bad = _bad_rows(cols) if rows else set()
    if bad:  # rare: send those rows' lines to the general path and drop them from the fast columns
        taken = set(slow)
        fast_index = [i for i in range(start, start + len(seq)) if i not in taken]
        slow = sorted([*slow, *(fast_index[r] for r in bad)])
        renumber = {old: new for new, old in enumerate(r for r in range(len(rows)) if r not in bad)}
        maybe = [(renumber[r], t) for r, t in maybe if r not in bad]
        rows = [row for r, row in enumerate(rows) if r not in bad]
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(9)]
    records: list[InferenceRecord] = []
    errors: list[RecordError] = []
    for index in slow:
        part = parse_lines((seq[index - start],), index)
        records.extend(part.records)
        errors.extend(part.errors)
    return IngestResult(
        _profile(rows, cols, maybe, records, extractors, features, endpoint, len(errors), rng, k), errors
    )


def _profile(
    rows: list[_Row],
    cols: list[tuple[Any, ...]],
    maybe: list[tuple[int, str]],
    records: list[InferenceRecord],
    extractors: list[FeatureExtractor],
    features: Sequence[str] | None,
    endpoint: str | None,
    failed: int,
    rng: np.random.Generator | None,
    k: int,
) -> EndpointProfile:
    n = len(rows)
    fast = _llm_columns(cols, n, maybe)
    general = extract_features(records, features)
    selected = {ex.name for ex in extractors}
    out: dict[str, FeatureProfile] = {}
    for name, kind in general.kinds.items():
        slow_col = general.values[name]
        part = fast.get(name)
        col: Any
        if part is None:  # embedding (every fast row misses it) or a tabular column (fast rows have none)
            col = [None] * n + slow_col if name in selected else slow_col
        elif isinstance(part, Counter):
            col = part.copy()
            col.update(slow_col)
        else:
            col = np.concatenate([part, np.array(slow_col, dtype=np.float64)]) if slow_col else part
        p = profile_column(name, kind, col, rng=rng, k=k, reservoir=DEFAULT_RESERVOIR)
        if p is not None:
            out[name] = p
    times = _times(cols[_WHEN]) + [r.inference_time for r in records if r.inference_time is not None]
    return EndpointProfile(
        out, endpoint, min(times) if times else None, max(times) if times else None, n + len(records), failed
    )

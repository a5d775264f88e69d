"""Columnar ingest: JSON lines -> an endpoint profile without building a record object per line.

``profile_lines(lines)`` gives the same profile as ``profile_batch(parse_lines(lines))`` (same counts and
categories, moments up to float summation order, KLL quantiles within the sketch's rank error) and the
same per-record errors, ~1.7x as fast on chat-completion data capture. How:

- The common record -- a JSON data capture of an OpenAI-style chat completion -- is read by one tight
  loop with typed decoding (msgspec ``Struct`` types for just the envelope fields and chat-payload fields
  the LLM features need). The decoder skips every other field without building it (no dicts, no unread
  strings) and validates the values it keeps: token counts non-negative ints, latency/TTFT/tokens-per-
  second float or null (a JSON integer becomes a float, as the general path converts it), finish reason
  and inference time str or null, encodings ``JSON``, no alias key of latency & co. nor ``embedding``
  (their fields are typed ``UnsetType``, which no value satisfies). The loop keeps a tuple of nine
  values per line; the response text only when its first character could open a refusal or an empty
  answer (``features.ASCII_NOT_REFUSAL_OR_EMPTY`` rules the rest out without the regex).
- Any line the typed decoders reject (other shapes, other encodings, alias keys, embeddings, values the
  general path would convert or reject, malformed JSON) goes to the general path, which is the one and
  only place that decides errors: every bad line is reported with its reference, one by one, exactly as
  ``parse_lines`` reports it. msgspec does not check UTF-8 inside fields it skips, so a bytes line that
  is not ASCII is checked first (``bytes.decode``). One known difference is left: a number beyond float
  range (``1e400``) in a field no feature reads fails orjson (the general path reports the line) but not
  the typed decoder, which profiles the record (its features are all valid); a unit test pins it.
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
from typing import Annotated, Any, Literal

import msgspec
import numpy as np

from llmops_sentinel.domain.drift.features import (
    _REFUSAL_RE,
    ASCII_NOT_REFUSAL_OR_EMPTY,
    ID_LIKE_MIN_DISTINCT,
    REFUSAL_WINDOW_CHARS,
    TRUNCATED_REASONS,
    AttributeItems,
    FeatureExtractor,
    attribute_columns,
    attribute_items,
    extract_features,
    is_builtin,
    is_invalid_json,
    resolve_features,
    wants_attributes,
)
from llmops_sentinel.domain.drift.profiles import (
    DEFAULT_KLL_K,
    DEFAULT_RESERVOIR,
    CategoricalProfile,
    EndpointProfile,
    FeatureProfile,
    FloatArray,
    NumericProfile,
    ProfileMismatchError,
    profile_batch,
    profile_column,
)
from llmops_sentinel.domain.drift.records import (
    _CANONICAL_EXTRAS,
    _TOP_KEYS_NOT_COLUMNS,
    JSON_FORMAT_TYPES,
    InferenceRecord,
    RecordError,
    parse_lines,
)

_NEVER = msgspec.UnsetType  # a field of this type fails decoding whenever its key is present
_Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]  # like records._int (larger: general path)


class _Side(msgspec.Struct, gc=False):
    data: str
    encoding: Literal["JSON"]  # CSV, BASE64 (and anything else): general path


class _Capture(msgspec.Struct, gc=False, rename="camel"):
    endpoint_input: _Side
    endpoint_output: _Side


class _Meta(msgspec.Struct, gc=False, rename="camel"):
    inference_time: str | None = None


class _Envelope(msgspec.Struct, gc=False, rename="camel"):
    capture_data: _Capture
    event_metadata: _Meta = msgspec.field(default_factory=_Meta)


class _Part(msgspec.Struct, gc=False):
    text: str | None = None


class _Message(msgspec.Struct, gc=False):
    content: str | list[_Part | str] | None = None


class _Format(msgspec.Struct, gc=False):
    type: str | None = None


class _Request(msgspec.Struct, gc=False):
    messages: list[_Message]
    model: str | None = None  # another type: general path (which ignores it)
    response_format: _Format | None = None  # {"type": "json_object" | "json_schema" | "json"}: JSON asked for
    guided_json: _NEVER = msgspec.UNSET  # vLLM's JSON mode and TGI-style parameters: general path
    parameters: _NEVER = msgspec.UNSET


class _Answer(msgspec.Struct, gc=False):
    content: str | None = None


class _Choice(msgspec.Struct, gc=False):
    message: _Answer
    finish_reason: str | None = None


class _Usage(msgspec.Struct, gc=False):
    prompt_tokens: _Count
    completion_tokens: _Count


def _never(name: str) -> Any:
    return msgspec.field(default=msgspec.UNSET, name=name)


class _Response(msgspec.Struct, gc=False):
    choices: list[_Choice]
    usage: _Usage
    model: str | None = None  # the record's model: the response's, else the request's (records._read_*)
    latency_ms: float | None = None  # a JSON integer decodes to float, as records._num converts it
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    # alias names of latency & co. and embeddings make the general path do more: present -> not typed
    latency_alias1: _NEVER = _never("latencyMs")
    latency_alias2: _NEVER = _never("model_latency_ms")
    latency_alias3: _NEVER = _never("ModelLatencyMs")
    ttft_alias1: _NEVER = _never("time_to_first_token_ms")
    ttft_alias2: _NEVER = _never("timeToFirstTokenMs")
    tps_alias1: _NEVER = _never("tokens_per_second")
    tps_alias2: _NEVER = _never("tokensPerSecond")
    embedding: _NEVER = msgspec.UNSET


_TYPED_ALIASES = frozenset(_Response.__struct_encode_fields__) - {"choices", "usage", "model", *_CANONICAL_EXTRAS}
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError, IndexError)

# positions in a fast row
_PROMPT, _RESP, _PT, _CT, _LAT, _TTFT, _TPS, _REASON, _WHEN, _MODEL = range(10)
_WIDTH = 10
_Row = tuple[Any, ...]


@dataclass(slots=True)
class IngestResult:
    """The batch's profile and one error per line that is not a usable record (in line order)."""

    profile: EndpointProfile
    errors: list[RecordError]


def _parts_chars(messages: list[_Message]) -> int:
    """Prompt characters when some content is not a plain string (records._content_chars)."""
    total = 0
    for msg in messages:
        content = msg.content
        if type(content) is str:
            total += len(content)
        elif content is not None:
            for part in content:
                text = part if type(part) is str else part.text  # type: ignore[union-attr]
                total += len(text) if text is not None else 0
    return total


def _scan(lines: Sequence[bytes | str], start: int) -> tuple[list[_Row], list[tuple[int, str]], list[int], list[str]]:
    """Fast rows, (row, text) of answers that might be empty or a refusal, the general path's lines and
    the answers of requests that asked for JSON.

    Typed decoding (msgspec) validates every value a row keeps -- token counts non-negative ints,
    latency & co. float or null, finish reason and time str or null -- and skips the fields no
    feature reads without building them. A line it rejects goes to the general path, which decides.
    """
    envelope = _ENVELOPE
    request = _REQUEST
    response = _RESPONSE
    rows: list[_Row] = []
    append = rows.append
    maybe: list[tuple[int, str]] = []
    slow: list[int] = []
    json_texts: list[str] = []
    json_types = JSON_FORMAT_TYPES
    never = ASCII_NOT_REFUSAL_OR_EMPTY
    slen = str.__len__  # TypeError on a list of parts or None: _parts_chars
    for index, line in enumerate(lines, start):
        try:
            if not line.isascii() and type(line) is bytes:
                line.decode()  # msgspec does not check UTF-8 in the fields it skips; orjson does
            env = envelope(line)
            capture = env.capture_data
            pin = request(capture.endpoint_input.data)
            pout = response(capture.endpoint_output.data)
            first = pout.choices[0]
        except _DECODE_ERRORS:
            slow.append(index)
            continue
        messages = pin.messages
        prompt = 0
        try:
            for msg in messages:  # faster than sum(map(...)) for the usual 1-3 messages
                prompt += slen(msg.content)  # type: ignore[arg-type]
        except TypeError:
            prompt = _parts_chars(messages)
        text = first.message.content
        if text is None:
            text = ""
        usage = pout.usage
        append(
            (
                prompt,
                slen(text),
                usage.prompt_tokens,
                usage.completion_tokens,
                pout.latency_ms,
                pout.ttft_ms,
                pout.tokens_per_s,
                first.finish_reason,
                env.event_metadata.inference_time,
                pin.model if pout.model is None else pout.model,
            )
        )
        if text[:1] not in never:
            maybe.append((len(rows) - 1, text))
        fmt = pin.response_format
        if fmt is not None and fmt.type in json_types:
            json_texts.append(text)
    return rows, maybe, slow, json_texts


_ENVELOPE = msgspec.json.Decoder(_Envelope).decode
_REQUEST = msgspec.json.Decoder(_Request).decode
_RESPONSE = msgspec.json.Decoder(_Response).decode


def _floats(col: tuple[Any, ...], none: float = np.nan) -> FloatArray:
    """Column of floats/None -> array (None -> ``none``)."""
    if math.isnan(none) or None not in col:  # numpy turns None into NaN itself
        return np.array(col, dtype=np.float64)
    return np.array([none if v is None else v for v in col], dtype=np.float64)


def _llm_columns(
    cols: list[tuple[Any, ...]], n: int, maybe: list[tuple[int, str]], json_texts: list[str]
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
    counted: Counter[Any] = Counter(cols[_REASON])  # str or None (typed)
    out["finish_reason"] = counted
    truncated: Counter[Any] = Counter()
    for reason, count in counted.items():
        truncated[None if reason is None else reason.lower() in TRUNCATED_REASONS] += count
    out["truncated"] = truncated
    invalid = sum(map(is_invalid_json, json_texts))
    checked: Counter[Any] = Counter({True: invalid, False: len(json_texts) - invalid}) if json_texts else Counter()
    checked[None] = n - len(json_texts)
    out["invalid_json"] = checked
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
    # a plug-in extractor needs the records
    if not all(is_builtin(ex) for ex in extractors):
        result = parse_lines(lines, start)
        profile = profile_batch(result, features=features, endpoint=endpoint, rng=rng, k=k)
        return IngestResult(profile, result.errors)
    seq = lines if isinstance(lines, list | tuple) else list(lines)
    rows, maybe, slow, json_texts = _scan(seq, start)
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in range(_WIDTH)]
    records: list[InferenceRecord] = []
    errors: list[RecordError] = []
    at: list[int] = []  # the line index of each general-path record
    for index in slow:
        part = parse_lines((seq[index - start],), index)
        records.extend(part.records)
        at.extend([index] * len(part.records))
        errors.extend(part.errors)
    profile, taken = _profile(
        rows, cols, maybe, json_texts, records, extractors, features, endpoint, len(errors), rng, k
    )
    if wants_attributes(features):
        _add_attributes(profile, taken, cols[_MODEL], records, at, slow, start, rng, k)
    return IngestResult(profile, errors)


def _add_attributes(
    profile: EndpointProfile,
    taken: set[str],
    models: tuple[Any, ...],
    records: list[InferenceRecord],
    at: list[int],
    slow: list[int],
    start: int,
    rng: np.random.Generator | None,
    k: int,
) -> None:
    """The attribute columns (``features.attribute_columns``) of fast rows and general-path records.

    A fast row (a chat data capture) brings its model only, as the record path reads it; the common
    batch (no general-path record with attributes) is counted at once. Otherwise the items go in line
    order, so the cap keeps the fields first seen in the batch, as ``extract_features`` does.
    """
    items = [attribute_items(rec) for rec in records]
    total = len(models) + len(records)
    if not any(items):
        counted: Counter[Any] = Counter(models)
        missing = counted.pop(None, 0) + len(records)
        distinct = len(counted)
        if not distinct or (distinct > ID_LIKE_MIN_DISTINCT and distinct >= 0.5 * (total - missing)):
            return
        counted[None] = missing
        name = "model" if "model" not in taken else "attribute.model"
        p = profile_column(name, "categorical", counted, rng=rng, k=k)
        if p is not None:
            profile.features[name] = p
        return
    per_record: list[AttributeItems] = []
    slow_set = set(slow)
    fast = iter(models)
    slow_items = iter(zip(at, items, strict=True))
    pending = next(slow_items, None)
    for index in range(start, start + len(models) + len(slow)):
        if index in slow_set:
            while pending is not None and pending[0] == index:
                per_record.append(pending[1])
                pending = next(slow_items, None)
        else:
            model = next(fast)
            per_record.append(() if model is None else (("model", model),))
    kinds, values, _dropped = attribute_columns(per_record, taken)
    for name, kind in kinds.items():
        p = profile_column(name, kind, values[name], rng=rng, k=k, reservoir=DEFAULT_RESERVOIR)
        if p is not None:
            profile.features[name] = p


def _profile(
    rows: list[_Row],
    cols: list[tuple[Any, ...]],
    maybe: list[tuple[int, str]],
    json_texts: list[str],
    records: list[InferenceRecord],
    extractors: list[FeatureExtractor],
    features: Sequence[str] | None,
    endpoint: str | None,
    failed: int,
    rng: np.random.Generator | None,
    k: int,
) -> tuple[EndpointProfile, set[str]]:
    """The profile without attribute columns, and the names the feature table holds."""
    n = len(rows)
    fast = _llm_columns(cols, n, maybe, json_texts)
    general = extract_features(records, features, attributes=False)
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
    profile = EndpointProfile(
        out, endpoint, min(times) if times else None, max(times) if times else None, n + len(records), failed
    )
    return profile, set(general.values)


# ------------------------------------------------------------------------------------------------ tables

#: keys a flat record (a CSV row, a JSON object of scalars) reads as more than a tabular column: a table
#: with such a column goes through the record path, which knows what each of them means.
RECORD_KEYS = frozenset(
    (
        *_TOP_KEYS_NOT_COLUMNS,
        "id",
        "request",
        "response",
        "messages",
        "choices",
        "inputs",
        "generated_text",
        "details",
        "outputs",
        "prompt",
        "completion",
    )
)


def is_plain_table(names: Iterable[str]) -> bool:
    """True when columns of these names are all tabular features (no LLM or record key among them)."""
    seen: set[str] = set()
    for name in names:
        if name in RECORD_KEYS or name in seen:
            return False
        seen.add(name)
    return True


class TableProfiler:
    """Fold a table chunk by chunk (column arrays, never rows) into one :class:`EndpointProfile`.

    Memory is the profile's (one KLL sketch and moments per numeric column, one frequent-items sketch per
    categorical one), whatever the number of rows. The profile is the one ``profile_batch`` gives for the
    same rows as flat records (``parse_csv`` / JSON objects of scalars): one record per row, a column of
    numbers numeric (NaN and +-inf missing), of strings categorical, a column never seen in a chunk missing
    there; a column named like a selected LLM feature is profiled as ``column.<name>``. Only plain tables
    (``is_plain_table``) are profiled here: the caller decides a column's kind over the whole table
    (numeric unless some cell is not a number) before its first chunk.
    """

    def __init__(
        self, *, features: Sequence[str] | None = None, endpoint: str | None = None, k: int = DEFAULT_KLL_K
    ) -> None:
        extractors, self._columns = resolve_features(features)
        self._reserved = {ex.name for ex in extractors}
        self._k = k
        self.endpoint = endpoint
        self.rows = 0
        self.failed = 0
        self._numeric: dict[str, NumericProfile] = {}
        self._categorical: dict[str, CategoricalProfile] = {}
        self._chunk_rows = 0
        self._touched: set[str] = set()

    def _name(self, column: str) -> str:
        return f"column.{column}" if column in self._reserved else column

    def begin(self, n_rows: int) -> None:
        """Start a chunk of ``n_rows`` records (every column added until the next ``begin`` has that many)."""
        self._close()
        self._chunk_rows = n_rows
        self.rows += n_rows

    def add_numeric(self, column: str, values: FloatArray) -> None:
        """One chunk of a numeric column (float64, NaN = missing), one value per record of the chunk."""
        if not self._columns:
            return
        name = self._name(column)
        if name in self._categorical:
            raise ProfileMismatchError(f"column {column}: numbers after strings (kinds are decided per table)")
        p = self._numeric.get(name)
        if p is None:
            p = self._numeric[name] = NumericProfile.empty(self._k)
            p.missing = self.rows - self._chunk_rows  # the records before this column first appeared
        arr = np.ascontiguousarray(values, dtype=np.float64)
        p.update(arr if arr.flags.writeable else arr.copy())  # the KLL binding takes writeable arrays only
        self._touched.add(name)

    def add_counts(
        self, column: str, counts: dict[str, int], missing: int, kind: Literal["categorical", "boolean"] = "categorical"
    ) -> None:
        """One chunk of a categorical column as label -> count (labels as ``profiles._label`` writes them)."""
        if not self._columns:
            return
        name = self._name(column)
        if name in self._numeric:
            raise ProfileMismatchError(f"column {column}: strings after numbers (kinds are decided per table)")
        p = self._categorical.get(name)
        if p is None:
            p = self._categorical[name] = CategoricalProfile.empty(kind)
            p.missing = self.rows - self._chunk_rows
        elif p.kind != kind:
            raise ProfileMismatchError(f"column {column}: {kind} after {p.kind}")
        p.update_counts(counts, missing)
        self._touched.add(name)

    def _close(self) -> None:
        """Columns the closing chunk did not carry are missing for its records."""
        if self._chunk_rows:
            for name, num in self._numeric.items():
                if name not in self._touched:
                    num.missing += self._chunk_rows
            for name, cat in self._categorical.items():
                if name not in self._touched:
                    cat.missing += self._chunk_rows
        self._touched = set()
        self._chunk_rows = 0

    def profile(self) -> EndpointProfile:
        self._close()
        out: dict[str, FeatureProfile] = {}
        for name, num in self._numeric.items():
            if num.count:
                out[name] = num
        for name, cat in self._categorical.items():
            if cat.count:
                out[name] = cat
        return EndpointProfile(out, self.endpoint, None, None, self.rows, self.failed)


def cell_label(text: str) -> tuple[bool, str | None]:
    """A CSV cell as the record path reads it: (is a number, label); an empty cell -> (True, None).

    ``records._scalar`` then ``features._category``: stripped, a number when ``float`` reads it (its label
    ``3`` for 3.0, else ``repr``-like ``str``), else the stripped text.
    """
    stripped = text.strip()
    if not stripped:
        return True, None
    try:
        value = float(stripped)
    except ValueError:
        return False, stripped
    return True, str(int(value)) if value.is_integer() else str(value)

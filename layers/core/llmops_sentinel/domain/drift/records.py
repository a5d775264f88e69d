"""Parse inference records of every supported shape into one typed record.

Shapes (detected per record, no configuration needed):

- SageMaker data capture (``captureData.endpointInput/endpointOutput`` with ``encoding`` JSON, CSV or
  BASE64, ``observedContentType`` possibly carrying ``; charset=...``, ``eventMetadata``). The payloads
  inside are interpreted with the rules below. Ground-truth records (``groundTruthData``) are read too.
- OpenAI-style chat/completions (``messages`` or ``prompt`` -> ``choices``, ``usage``).
- TGI / LMI (``inputs`` -> ``generated_text``, ``details.generated_tokens``/``tokens``/``prefill``).
- A ``{"request": ..., "response": ...}`` log wrapper around any of the above.
- Flat JSON objects of scalars and CSV rows: tabular columns.

Tabular naming follows SageMaker Model Monitor for header-less CSV: columns ``_c0``, ``_c1``, ... with the
output column(s) first and the input columns after them (so a Model Monitor ``statistics.json`` built on
a label-first training file lines up). JSON objects keep their keys.

Hot-path note: records are plain ``slots`` dataclasses built without validation; pydantic is for
configuration at the boundary, not for 30k records a second.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from llmops_sentinel.errors import BadInputError

if TYPE_CHECKING:  # an annotation only: parsing records imports neither the quality rules nor pydantic
    from llmops_sentinel.domain.quality import QualityScores

Scalar = float | str | bool | None
_loads = orjson.loads


class RecordError(BadInputError):
    """One inference record cannot be used. ``ref`` names it (``eventId`` or ``#index``)."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(f"record {ref}: {reason}")
        self.ref = ref
        self.reason = reason


class MalformedRecordError(RecordError):
    """The record has a known shape but broken content (bad JSON, bad base64, wrong types)."""


class UnknownRecordFormatError(RecordError):
    """The record matches none of the supported shapes."""


@dataclass(slots=True)
class InferenceRecord:
    """One request/response pair, whatever shape it came in.

    ``rows`` holds tabular columns (one dict per instance; a CSV payload may carry several rows).
    Token counts are ``None`` when the record does not state them (features estimate and say so).
    """

    ref: str
    source: str
    inference_time: str | None = None
    prompt_chars: int | None = None
    response: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    finish_reason: str | None = None
    model: str | None = None
    embedding: list[float] | None = None
    rows: Sequence[dict[str, Scalar]] = ()
    attributes: dict[str, Scalar] | None = None  # other top-level scalars of an LLM log record (region, ...)
    json_mode: bool = False  # the request asked for JSON (response_format json_*, TGI grammar json, guided_json)
    quality: QualityScores | None = None  # Comprehend scores, set for sampled records only (domain/quality.py)


@dataclass(slots=True)
class ParseResult:
    """Outcome of a batch: every input record is in exactly one of the two lists."""

    records: list[InferenceRecord]
    errors: list[RecordError]

    @property
    def total(self) -> int:
        return len(self.records) + len(self.errors)


# --------------------------------------------------------------------------------------------- helpers

_LATENCY_KEYS = ("latency_ms", "latencyMs", "model_latency_ms", "ModelLatencyMs")
_TTFT_KEYS = ("ttft_ms", "time_to_first_token_ms", "timeToFirstTokenMs")
_TPS_KEYS = ("tokens_per_s", "tokens_per_second", "tokensPerSecond")
_TOP_KEYS_NOT_COLUMNS = frozenset(
    (
        *_LATENCY_KEYS,
        *_TTFT_KEYS,
        *_TPS_KEYS,
        "embedding",
        "eventId",
        "event_id",
        "inferenceTime",
        "timestamp",
        "input_tokens",
        "output_tokens",
    )
)


def _num(value: Any, ref: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise MalformedRecordError(ref, f"{name} is not a number: {value!r:.40}")
    return float(value)


def _int(value: Any, ref: str, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise MalformedRecordError(ref, f"{name} is not a non-negative integer: {value!r:.40}")


def _content_chars(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):  # multi-part content: [{"type": "text", "text": ...}, ...]
        total = 0
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    total += len(text)
            elif isinstance(part, str):
                total += len(part)
        return total
    return 0


def _scalar(value: str) -> Scalar:
    """CSV cell -> float when it is one, else the stripped string (empty -> missing)."""
    text = value.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


def _csv_rows(text: str) -> list[list[Scalar]]:
    text = text.strip("\r\n")
    if not text:
        return []
    if '"' in text:
        return [[_scalar(c) for c in row] for row in csv.reader(io.StringIO(text)) if row]
    return [[_scalar(c) for c in line.split(",")] for line in text.splitlines() if line.strip()]


_EXTRA_FIELD: dict[str, str] = {
    **dict.fromkeys(_LATENCY_KEYS, "latency_ms"),
    **dict.fromkeys(_TTFT_KEYS, "ttft_ms"),
    **dict.fromkeys(_TPS_KEYS, "tokens_per_s"),
    "embedding": "embedding",
}
_EXTRA_KEYS = frozenset(_EXTRA_FIELD)


def _extras(obj: dict[str, Any], rec: InferenceRecord) -> None:
    """Latency, TTFT, tokens/s and an embedding, when the object states them."""
    if _EXTRA_KEYS.isdisjoint(obj):
        return
    for key in _EXTRA_KEYS.intersection(obj):
        name = _EXTRA_FIELD[key]
        value = obj[key]
        if name == "embedding":
            if value is None:
                continue
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            ):
                raise MalformedRecordError(rec.ref, "embedding is not a non-empty list of numbers")
            rec.embedding = value
        else:
            setattr(rec, name, value if type(value) is float else _num(value, rec.ref, key))


# ------------------------------------------------------------------------------ request/response shapes


JSON_FORMAT_TYPES = frozenset(("json_object", "json_schema", "json"))
_JSON_KEYS = frozenset(("response_format", "guided_json", "parameters"))


def _json_format(fmt: Any) -> bool:
    if not isinstance(fmt, dict):
        return False
    kind = fmt.get("type")
    return isinstance(kind, str) and kind in JSON_FORMAT_TYPES


def _asks_for_json(payload: dict[str, Any]) -> bool:
    """The request asked for a JSON answer: OpenAI ``response_format`` ``{"type": "json_object"|"json_schema"}``
    (TGI's Messages API also takes ``"json"``), TGI ``parameters.grammar`` ``{"type": "json"}``, or vLLM's
    ``guided_json`` (top level or in ``parameters``)."""
    if _json_format(payload.get("response_format")):
        return True
    if payload.get("guided_json") is not None:
        return True
    params = payload.get("parameters")
    if isinstance(params, dict):
        grammar = params.get("grammar")
        if isinstance(grammar, dict) and grammar.get("type") == "json":
            return True
        if _json_format(params.get("response_format")):
            return True
        if params.get("guided_json") is not None:
            return True
    return False


def _read_request(payload: Any, rec: InferenceRecord) -> bool:
    """Fill prompt fields from an LLM request; True when the payload was an LLM request."""
    if not isinstance(payload, dict):
        return False
    messages = payload.get("messages")
    if messages is not None:
        if not isinstance(messages, list):
            raise MalformedRecordError(rec.ref, "messages is not a list")
        total = 0
        for msg in messages:
            if not isinstance(msg, dict):
                raise MalformedRecordError(rec.ref, "a message is not an object")
            total += _content_chars(msg.get("content"))
        rec.prompt_chars = total
        model = payload.get("model")
        if isinstance(model, str):
            rec.model = model
        rec.json_mode = _asks_for_json(payload)
        return True
    for key in ("inputs", "prompt", "text_inputs"):
        value = payload.get(key)
        if isinstance(value, str):
            rec.prompt_chars = len(value)
            rec.json_mode = _asks_for_json(payload)
            return True
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            rec.prompt_chars = sum(len(v) for v in value)
            rec.json_mode = _asks_for_json(payload)
            return True
    return False


def _read_response(payload: Any, rec: InferenceRecord) -> bool:
    """Fill response fields from an LLM response; True when the payload was an LLM response."""
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) and ("generated_text" in payload[0]):
        payload = payload[0]  # TGI/LMI list form
    if not isinstance(payload, dict):
        return False
    ref = rec.ref
    choices = payload.get("choices")
    if choices is not None:
        if not isinstance(choices, list):
            raise MalformedRecordError(ref, "choices is not a list")
        if choices:
            first = choices[0]
            if not isinstance(first, dict):
                raise MalformedRecordError(ref, "choices[0] is not an object")
            message = first.get("message")
            if isinstance(message, dict):
                content = message.get("content")
                rec.response = content if isinstance(content, str) else ""
            else:
                text = first.get("text")
                rec.response = text if isinstance(text, str) else ""
            reason = first.get("finish_reason")
            if isinstance(reason, str):
                rec.finish_reason = reason
        else:
            rec.response = ""
        usage = payload.get("usage")
        if usage is not None:
            if not isinstance(usage, dict):
                raise MalformedRecordError(ref, "usage is not an object")
            pt, ct = usage.get("prompt_tokens"), usage.get("completion_tokens")
            rec.input_tokens = pt if type(pt) is int and pt >= 0 else _int(pt, ref, "usage.prompt_tokens")
            rec.output_tokens = ct if type(ct) is int and ct >= 0 else _int(ct, ref, "usage.completion_tokens")
        model = payload.get("model")
        if isinstance(model, str):
            rec.model = model
        _extras(payload, rec)
        return True
    if "generated_text" in payload:
        text = payload["generated_text"]
        if not isinstance(text, str):
            raise MalformedRecordError(ref, "generated_text is not a string")
        rec.response = text
        details = payload.get("details")
        if isinstance(details, dict):
            generated = details.get("generated_tokens")
            if generated is not None:
                rec.output_tokens = _int(generated, ref, "details.generated_tokens")
            elif isinstance(details.get("tokens"), list):
                rec.output_tokens = len(details["tokens"])
            prefill = details.get("prefill")
            if isinstance(prefill, list) and prefill:
                rec.input_tokens = len(prefill)
            reason = details.get("finish_reason")
            if isinstance(reason, str):
                rec.finish_reason = reason
        _extras(payload, rec)
        return True
    if _is_anthropic(payload):
        _read_anthropic(payload, rec)
        return True
    return False


def _is_anthropic(payload: dict[str, Any]) -> bool:
    """An Anthropic body as Bedrock InvokeModel returns it: Messages (``"type": "message"``, ``content``
    blocks) or the legacy Text Completions (``completion`` next to ``stop_reason``)."""
    if isinstance(payload.get("content"), list):
        return payload.get("type") == "message" or "stop_reason" in payload
    return isinstance(payload.get("completion"), str) and "stop_reason" in payload


def _read_anthropic(payload: dict[str, Any], rec: InferenceRecord) -> None:
    """Answer text (the text blocks, joined), ``stop_reason`` (``max_tokens`` = truncated), usage, model."""
    ref = rec.ref
    content = payload.get("content")
    if isinstance(content, list):
        rec.response = "".join(
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type", "text") == "text" and isinstance(b.get("text"), str)
        )
    else:
        rec.response = payload["completion"]
    reason = payload.get("stop_reason")
    if isinstance(reason, str):
        rec.finish_reason = reason
    usage = payload.get("usage")
    if usage is not None:
        if not isinstance(usage, dict):
            raise MalformedRecordError(ref, "usage is not an object")
        if "input_tokens" in usage:
            rec.input_tokens = _int(usage["input_tokens"], ref, "usage.input_tokens")
        if "output_tokens" in usage:
            rec.output_tokens = _int(usage["output_tokens"], ref, "usage.output_tokens")
    model = payload.get("model")
    if isinstance(model, str):
        rec.model = model
    _extras(payload, rec)


def _tabular(payload: Any, ref: str) -> list[list[Scalar]] | dict[str, Scalar] | None:
    """A tabular payload as positional rows or one named row; None when it is not tabular."""
    if isinstance(payload, bool) or payload is None:
        return None
    if isinstance(payload, int | float):
        return [[float(payload)]]
    if isinstance(payload, str):
        return [[_scalar(payload)]]
    if isinstance(payload, dict):
        for key in ("instances", "features", "predictions", "outputs", "scores", "data"):
            if key in payload and len(payload) <= 2:
                return _tabular(payload[key], ref)
        row: dict[str, Scalar] = {}
        for key, value in payload.items():
            if isinstance(value, bool):
                row[key] = value
            elif isinstance(value, int | float):
                row[key] = float(value)
            elif isinstance(value, str) or value is None:
                row[key] = value
        return row
    if isinstance(payload, list):
        if not payload:
            return []
        if all(isinstance(v, list) for v in payload):
            return [[_cell(v, ref) for v in r] for r in payload]
        return [[_cell(v, ref) for v in payload]]
    return None


def _cell(value: Any, ref: str) -> Scalar:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    raise MalformedRecordError(ref, f"tabular value is not a scalar: {value!r:.40}")


def _positional_rows(outputs: list[list[Scalar]], inputs: list[list[Scalar]]) -> list[dict[str, Scalar]]:
    """Model Monitor order: output columns first, then inputs, named ``_c0``..."""
    n = max(len(outputs), len(inputs))
    rows: list[dict[str, Scalar]] = []
    for i in range(n):
        cells = (outputs[i] if i < len(outputs) else []) + (inputs[i] if i < len(inputs) else [])
        rows.append({f"_c{j}": v for j, v in enumerate(cells)})
    return rows


def _set_tabular(rec: InferenceRecord, pin: Any, pout: Any) -> None:
    tin = _tabular(pin, rec.ref)
    tout = _tabular(pout, rec.ref)
    if isinstance(tin, dict) or isinstance(tout, dict):
        row: dict[str, Scalar] = {}
        if isinstance(tin, dict):
            row.update(tin)
        elif tin:
            row.update({f"input_{j}": v for j, v in enumerate(tin[0])})
        if isinstance(tout, dict):
            for key, value in tout.items():
                row[f"output.{key}" if key in row else key] = value
        elif tout:
            row.update({f"output_{j}": v for j, v in enumerate(tout[0])})
        rec.rows = [row]
    else:
        rec.rows = _positional_rows(tout or [], tin or [])


# ----------------------------------------------------------------------------------- capture payloads

_JSON, _CSV, _TEXT = 0, 1, 2


def _kind_of(content_type: Any) -> int:
    if not isinstance(content_type, str):
        return _JSON
    ct = content_type.partition(";")[0].strip().lower()
    if ct.endswith("json") or ct.endswith("jsonlines") or ct == "application/x-ndjson":
        return _JSON
    if ct.endswith("csv"):
        return _CSV
    return _TEXT


def _decode_capture_payload(part: Any, ref: str, side: str) -> Any:
    if part is None:
        return None
    if not isinstance(part, dict):
        raise MalformedRecordError(ref, f"{side} is not an object")
    data = part.get("data")
    encoding = part.get("encoding")
    if not isinstance(data, str):
        raise MalformedRecordError(ref, f"{side}.data is not a string")
    if encoding == "JSON":
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise MalformedRecordError(ref, f"{side}.data is not JSON ({exc})") from None
    if encoding == "CSV":
        return _capture_csv(data, ref, side)
    if encoding == "BASE64":
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRecordError(ref, f"{side}.data is not base64") from None
        kind = _kind_of(part.get("observedContentType"))
        if kind == _JSON:
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise MalformedRecordError(ref, f"{side}.data is not base64 JSON ({exc})") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None  # binary payload (image, audio...): no tabular/LLM features, still counted
        return _capture_csv(text, ref, side) if kind == _CSV else text
    raise MalformedRecordError(ref, f"{side}.encoding {encoding!r} is not JSON, CSV or BASE64")


def _capture_csv(text: str, ref: str, side: str) -> list[list[Scalar]]:
    try:
        return _csv_rows(text)
    except csv.Error as exc:  # e.g. a quoted field over the csv module's 128 KiB limit: this record only
        raise MalformedRecordError(ref, f"{side}.data is not CSV we can read ({exc})") from None


def _time(value: Any) -> str | None:
    # Real captures carry ISO-8601; the SDK's test fixture carries a literal "{%s}": not a time.
    # ASCII digit only (str.isdigit also takes e.g. Arabic-Indic digits; the fast paths check "0".."9")
    if isinstance(value, str) and "0" <= value[:1] <= "9":
        return value
    return None


def _parse_capture(obj: dict[str, Any], index: int) -> InferenceRecord:
    meta = obj.get("eventMetadata")
    event_id = meta.get("eventId") if isinstance(meta, dict) else None
    ref = str(event_id) if event_id else f"#{index}"
    rec = InferenceRecord(ref=ref, source="capture")
    if isinstance(meta, dict):
        rec.inference_time = _time(meta.get("inferenceTime"))
    capture = obj["captureData"]
    if not isinstance(capture, dict):
        raise MalformedRecordError(ref, "captureData is not an object")
    pin = _decode_capture_payload(capture.get("endpointInput"), ref, "endpointInput")
    pout = _decode_capture_payload(capture.get("endpointOutput"), ref, "endpointOutput")
    if pin is None and pout is None:
        raise MalformedRecordError(ref, "captureData has neither endpointInput nor endpointOutput")
    is_request = _read_request(pin, rec)
    if not (_read_response(pout, rec) or is_request):
        _set_tabular(rec, pin, pout)
    return rec


def _parse_ground_truth(obj: dict[str, Any], index: int) -> InferenceRecord:
    meta = obj.get("eventMetadata")
    event_id = meta.get("eventId") if isinstance(meta, dict) else None
    ref = str(event_id) if event_id else f"#{index}"
    rec = InferenceRecord(ref=ref, source="ground_truth")
    if isinstance(meta, dict):
        rec.inference_time = _time(meta.get("inferenceTime"))
    payload = _decode_capture_payload(obj["groundTruthData"], ref, "groundTruthData")
    table = _tabular(payload, ref)
    if isinstance(table, dict):
        rec.rows = [{f"ground_truth.{k}": v for k, v in table.items()}]
    elif table:
        rec.rows = [{"ground_truth": r[0] if r else None} for r in table]
    return rec


_NOT_ATTRIBUTES = _TOP_KEYS_NOT_COLUMNS | frozenset(
    (
        "messages",
        "choices",
        "prompt",
        "response",
        "completion",
        "inputs",
        "generated_text",
        "details",
        "outputs",
        "request",
        "usage",
        "model",
        "id",
        "object",
        "created",
        "system_fingerprint",
        "endpoint_name",
        "endpointName",
        "EndpointName",
        "finish_reason",
        "stop_reason",
        "parameters",
        "metadata",
    )
)


def _attributes(obj: dict[str, Any]) -> dict[str, Scalar] | None:
    """Top-level scalars of an LLM record that no field reads (and those of a ``metadata`` object)."""
    out: dict[str, Scalar] = {}
    meta = obj.get("metadata")
    items = [*obj.items(), *((f"metadata.{k}", v) for k, v in meta.items())] if isinstance(meta, dict) else obj.items()
    for key, value in items:
        if key in _NOT_ATTRIBUTES:
            continue
        if isinstance(value, bool | str):
            out[key] = value
        elif isinstance(value, int | float):
            out[key] = float(value)
    return out or None


def _parse_flat(obj: dict[str, Any], index: int) -> InferenceRecord:
    event_id = obj.get("eventId") or obj.get("event_id") or obj.get("id")
    ref = str(event_id) if isinstance(event_id, str | int) and event_id != "" else f"#{index}"
    rec = InferenceRecord(ref=ref, source="flat")
    ts = obj.get("inferenceTime") or obj.get("timestamp")
    rec.inference_time = _time(ts)
    if "request" in obj or isinstance(obj.get("response"), dict | list):
        rec.source = "log"
        is_llm = _read_request(obj.get("request"), rec) | _read_response(obj.get("response"), rec)
        if not is_llm:
            _set_tabular(rec, obj.get("request"), obj.get("response"))
    elif "messages" in obj or "choices" in obj:
        rec.source = "openai"
        _read_request(obj, rec)
        response = obj.get("response")
        if not _read_response(response if isinstance(response, dict) else obj, rec) and isinstance(response, str):
            rec.response = response
    elif "inputs" in obj and ("generated_text" in obj or "details" in obj or "outputs" in obj):
        rec.source = "tgi"
        _read_request(obj, rec)
        outputs = obj.get("outputs")
        _read_response(outputs if outputs is not None else obj, rec)
    elif isinstance(obj.get("prompt"), str) and isinstance(obj.get("response", obj.get("completion")), str):
        rec.source = "text"
        rec.prompt_chars = len(obj["prompt"])
        rec.response = obj.get("response", obj.get("completion"))
        rec.json_mode = _asks_for_json(obj)
    else:
        row: dict[str, Scalar] = {}
        for key, value in obj.items():
            if key in _TOP_KEYS_NOT_COLUMNS:
                continue
            if isinstance(value, bool) or value is None or isinstance(value, str):
                row[key] = value
            elif isinstance(value, int | float):
                row[key] = float(value)
            # nested objects/lists in a flat record are not columns
        if not row and not any(k in obj for k in _TOP_KEYS_NOT_COLUMNS):
            raise UnknownRecordFormatError(ref, "no known shape and no scalar columns")
        rec.rows = [row] if row else []
    if rec.source != "flat":
        rec.attributes = _attributes(obj)
        if rec.finish_reason is None:  # a log line's own stop flag (Bedrock/Anthropic spell it stop_reason)
            reason = obj.get("finish_reason", obj.get("stop_reason"))
            if isinstance(reason, str):
                rec.finish_reason = reason
    if "input_tokens" in obj:
        rec.input_tokens = _int(obj["input_tokens"], ref, "input_tokens")
    if "output_tokens" in obj:
        rec.output_tokens = _int(obj["output_tokens"], ref, "output_tokens")
    _extras(obj, rec)
    return rec


_CANONICAL_EXTRAS = ("latency_ms", "ttft_ms", "tokens_per_s")
_ALIAS_EXTRAS = tuple(k for k in _EXTRA_FIELD if k not in _CANONICAL_EXTRAS)


def _fast_chat_capture(obj: dict[str, Any], index: int) -> InferenceRecord | None:
    """The common case inline: a JSON data-capture record of a chat completion.

    Returns None on anything unusual so the general path (which has the error messages) decides.
    Kept equal to the general path by a unit test; it exists because the general path's function
    calls cost more than the JSON decoding itself.
    """
    try:
        capture = obj["captureData"]
        ein = capture["endpointInput"]
        eout = capture["endpointOutput"]
        if ein["encoding"] != "JSON" or eout["encoding"] != "JSON":
            return None
        pin = _loads(ein["data"])
        pout = _loads(eout["data"])
        total = 0
        for msg in pin["messages"]:
            content = msg["content"]
            if type(content) is not str:
                return None
            total += len(content)
        first = pout["choices"][0]
        text = first["message"]["content"]
        usage = pout["usage"]
        pt = usage["prompt_tokens"]
        ct = usage["completion_tokens"]
        if type(text) is not str or type(pt) is not int or type(ct) is not int or pt < 0 or ct < 0:
            return None
        meta = obj["eventMetadata"]
        event_id = meta["eventId"]
        if type(event_id) is not str or not event_id:
            return None
        when = meta.get("inferenceTime")
        reason = first.get("finish_reason")
        get = pout.get
        model = get("model")
        if type(model) is not str:
            model = pin.get("model")
        latency, ttft, tps = get("latency_ms"), get("ttft_ms"), get("tokens_per_s")
        if (
            (latency is not None and type(latency) is not float)
            or (ttft is not None and type(ttft) is not float)
            or (tps is not None and type(tps) is not float)
        ):
            return None  # ints, strings: the general path converts or names the error
        rec = InferenceRecord(
            event_id,
            "capture",
            when if type(when) is str and "0" <= when[:1] <= "9" else None,
            total,
            text,
            pt,
            ct,
            latency,
            ttft,
            tps,
            reason if type(reason) is str else None,
            model if type(model) is str else None,
        )
    except (KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError):
        return None
    if not _JSON_KEYS.isdisjoint(pin) and _asks_for_json(pin):
        rec.json_mode = True
    for key in _ALIAS_EXTRAS:
        if key in pout:
            _extras(pout, rec)
            break
    return rec


def parse_record(obj: Any, index: int = 0) -> InferenceRecord:
    """One decoded JSON object -> record. Raises a :class:`RecordError` naming the record."""
    if not isinstance(obj, dict):
        raise UnknownRecordFormatError(f"#{index}", f"not a JSON object but {type(obj).__name__}")
    try:
        if "captureData" in obj:
            return _parse_capture(obj, index)
        if "groundTruthData" in obj:
            return _parse_ground_truth(obj, index)
        return _parse_flat(obj, index)
    except RecordError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a shape we did not foresee
        raise MalformedRecordError(f"#{index}", f"{type(exc).__name__}: {exc}") from None


def parse_lines(lines: Iterable[bytes | str], start: int = 0) -> ParseResult:
    """JSON lines -> ok records and one error per bad record; blank lines are skipped, nothing else."""
    records: list[InferenceRecord] = []
    errors: list[RecordError] = []
    append = records.append
    loads = orjson.loads
    fast = _fast_chat_capture
    for index, line in enumerate(lines, start):
        if not line or line.isspace():
            continue
        try:
            try:
                obj = loads(line)
            except orjson.JSONDecodeError as exc:
                raise MalformedRecordError(f"#{index}", f"not JSON ({exc})") from None
            rec = fast(obj, index) if type(obj) is dict and "captureData" in obj else None
            append(rec if rec is not None else parse_record(obj, index))
        except RecordError as exc:
            errors.append(exc)
    return ParseResult(records, errors)


def parse_objects(objects: Iterable[Any], start: int = 0) -> ParseResult:
    """Already-decoded objects (e.g. a JSON array) -> ok records and per-record errors."""
    records: list[InferenceRecord] = []
    errors: list[RecordError] = []
    for index, obj in enumerate(objects, start):
        try:
            records.append(parse_record(obj, index))
        except RecordError as exc:
            errors.append(exc)
    return ParseResult(records, errors)


def _csv_is_headerless(first: list[str]) -> bool:
    for cell in first:
        try:
            float(cell)
        except ValueError:
            return False
    return True


def _csv_file_rows(text: str) -> list[Any]:
    """Non-empty rows; a row the csv module refuses (a quoted field over its 128 KiB limit, ...) becomes
    its ``csv.Error`` in place, and reading goes on with the next line."""
    reader = csv.reader(io.StringIO(text))
    rows: list[Any] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            rows.append(exc)
            continue
        if row:
            rows.append(row)


def parse_csv(text: str) -> ParseResult:
    """CSV with a header row (or header-less numeric CSV -> ``_c0``...) -> one tabular record per row."""
    rows = _csv_file_rows(text)
    if not rows:
        return ParseResult([], [])
    if isinstance(rows[0], csv.Error):
        raise BadInputError(f"the CSV header row cannot be read ({rows[0]})")
    if _csv_is_headerless(rows[0]):
        header = [f"_c{j}" for j in range(len(rows[0]))]
        body, offset = rows, 0
    else:
        header = [h.strip() for h in rows[0]]
        body, offset = rows[1:], 1
    errors: list[RecordError] = []
    width = len(header)
    records: list[InferenceRecord] = []
    for i, row in enumerate(body):
        index = i + offset
        if isinstance(row, csv.Error):
            errors.append(MalformedRecordError(f"#{index}", f"not CSV we can read ({row})"))
            continue
        if len(row) != width:
            errors.append(MalformedRecordError(f"#{index}", f"{len(row)} fields, header has {width}"))
            continue
        obj = {h: _scalar(v) for h, v in zip(header, row, strict=True)}
        try:
            rec = _parse_flat(obj, index)
            rec.source = "csv"
            records.append(rec)
        except RecordError as exc:
            errors.append(exc)
    return ParseResult(records, errors)


def parse_bytes(data: bytes) -> ParseResult:
    """A file's content: JSON lines, one JSON document (object or array), or CSV (detected)."""
    text_start = data.lstrip()[:1]
    if text_start in (b"{", b"["):
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            return parse_lines(data.splitlines())
        if isinstance(doc, list):
            return parse_objects(doc)
        return parse_objects([doc])
    if not text_start:
        return ParseResult([], [])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"not UTF-8 text ({exc})") from None
    return parse_csv(text)

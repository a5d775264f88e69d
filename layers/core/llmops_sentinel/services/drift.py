"""Drift use cases: traffic in -> partial profiles in S3; on a schedule, window vs baseline -> report, signal.

- :func:`ingest_firehose`: a Firehose transformation batch. Every record comes back with its recordId,
  ``Ok`` (data = the record's normalised feature rows, JSON lines) or ``ProcessingFailed`` (with a
  reason, logged); a bad record never fails the batch, whatever its fields (see "Firehose semantics").
  One partial profile per endpoint and batch.
- :func:`profile_data_capture`: one SageMaker data-capture file (S3 "Object Created") -> one partial
  profile.
- :func:`run_drift_checks`: for each monitored endpoint, merge the window's partial profiles, test them
  against the endpoint's baseline, write the report, and put ``Model Drift Detected`` on the bus when
  the endpoint drifted.

Which endpoint a Firehose record belongs to: the record's own ``endpoint_name`` (also ``endpointName``,
``EndpointName``) when it carries one, else the delivery stream's endpoint from
``SENTINEL_STREAM_ENDPOINTS`` (JSON object, stream name -> endpoint name; SageMaker data capture records
carry no endpoint name). A record with neither fails with that reason. Data-capture files carry the
endpoint in their key (``.../<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<HH>/<file>.jsonl``).

Firehose semantics (:func:`parse_firehose_event`, :func:`ingest_firehose`, :func:`firehose_response`):

- *Per-record answers.* ``data`` that is not a base64 string, or any content we cannot read, makes that
  record ``ProcessingFailed`` (its data echoed back when it is valid base64, else ``""``; Firehose
  writes its own copy of the original to ``processing-failed/``). A non-numeric or out-of-range
  ``approximateArrivalTimestamp`` is ignored (the record is still processed). A record without a usable
  ``recordId`` (missing, not a non-empty string of at most 512 characters) cannot be named in the answer:
  it is left out of the response, logged and counted (``FirehoseRecordsUnanswerable``), and the rest of
  the batch is answered. Firehose itself always sets record ids and treats a record missing from the
  answer as a transformation failure, so such a record only comes from a forged or broken caller.
  An event that is not a batch at all (not an object, ``records`` not a list) is rejected whole.
- *Bounded response.* Lambda refuses a response over 6 MiB (6,291,456 bytes), and a feature row can be
  larger than the record it came from (small records grow up to ~3x). The response is measured as it
  will be serialised; over :data:`FIREHOSE_RESPONSE_BUDGET`, the ``Ok`` records that grew most are
  answered ``ProcessingFailed`` with their original data (reason "response budget"; counted in
  ``failures["ResponseBudgetError"]``) until it fits. Their features stay in the partial profile (drift
  still sees the traffic) and Firehose delivers their raw record to ``processing-failed/``, so nothing
  is lost. A ``ProcessingFailed`` answer is never larger than the record's entry in the request, so a
  request Lambda accepts (<= 6 MiB) always has an answer that fits.
- *Retries do not double-count.* The partial profile's key is derived from the batch itself: the time
  is the newest ``approximateArrivalTimestamp``, the batch id a hash of the record ids (not the
  invocation id, which a retried invocation does not keep). A retried batch overwrites its own profile.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import os
import re
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field

from llmops_sentinel.adapters.events import SentinelBus
from llmops_sentinel.adapters.s3 import DriftStore, baseline_key
from llmops_sentinel.domain.drift.baseline import baseline_from_statistics, is_statistics_document
from llmops_sentinel.domain.drift.features import extract_features, registered_features
from llmops_sentinel.domain.drift.ingest import profile_lines
from llmops_sentinel.domain.drift.monitors import ENDPOINT_PATTERN, Monitor, MonitorsFile, load_monitors
from llmops_sentinel.domain.drift.profiles import (
    EndpointProfile,
    merge_all,
    profile_batch,
    profile_from_dict,
    profile_from_json,
    profile_table,
    profile_to_json,
)
from llmops_sentinel.domain.drift.records import (
    InferenceRecord,
    MalformedRecordError,
    ParseResult,
    RecordError,
    UnknownRecordFormatError,
    parse_bytes,
    parse_lines,
    parse_objects,
)
from llmops_sentinel.domain.drift.stat_tests import DriftReport, check_drift
from llmops_sentinel.domain.quality import QualityOutcome, sample_key
from llmops_sentinel.errors import BadInputError, ConfigError, InvalidEventError
from llmops_sentinel.models.bus_events import ModelDriftDetail
from llmops_sentinel.models.drift_events import parse_check_request, parse_object_created
from llmops_sentinel.services.quality import (
    add_quality_profiles,
    counters,
    new_budget,
    score_capture_lines,
    score_quality,
    with_quality,
)
from llmops_sentinel.services.quality import summary as quality_summary

if TYPE_CHECKING:  # botocore-backed adapter, imported by services.quality only when sampling is on
    from llmops_sentinel.adapters.comprehend import Comprehend

DRIFT_DETECTED = ModelDriftDetail.DETAIL_TYPE
DISTRIBUTION_FEATURES = ("latency_ms", "ttft_ms", "input_tokens", "output_tokens")
MAX_EMF_VALUES = 100  # values per metric in one EMF document
ENDPOINT_KEYS = ("endpoint_name", "endpointName", "EndpointName")
_ENDPOINT_NEEDLES = tuple(f'"{k}"'.encode() for k in ENDPOINT_KEYS)
_ENDPOINT_RE = re.compile(ENDPOINT_PATTERN)
_GZIP_MAGIC = b"\x1f\x8b"
_REGISTERED = frozenset(registered_features())
_LLM_FEATURES = frozenset(name for name, ex in registered_features().items() if ex.kind != "embedding")


# ------------------------------------------------------------------------------------------------ settings


class DriftSettings(BaseModel):
    """Read once per container from the environment template.yaml sets."""

    model_config = ConfigDict(defer_build=True)

    bucket: str
    kms_key_id: str
    bus_name: str = ""
    stream_endpoints: dict[str, str] = Field(default_factory=dict)
    monitors: MonitorsFile

    @classmethod
    def from_env(cls) -> DriftSettings:
        missing = [name for name in ("SENTINEL_DATA_BUCKET", "SENTINEL_KMS_KEY_ID") if not os.environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment: {', '.join(missing)}")
        raw_map = os.environ.get("SENTINEL_STREAM_ENDPOINTS", "").strip() or "{}"
        try:
            streams = json.loads(raw_map)
        except ValueError as exc:
            raise ConfigError(f"SENTINEL_STREAM_ENDPOINTS is not JSON: {exc}") from exc
        if not isinstance(streams, dict) or not all(
            isinstance(v, str) and _ENDPOINT_RE.match(v) for v in streams.values()
        ):
            raise ConfigError("SENTINEL_STREAM_ENDPOINTS must map delivery stream names to endpoint names")
        override = os.environ.get("SENTINEL_DRIFT_MONITORS", "").strip()
        monitors = load_monitors(text=override) if override else load_monitors()
        rate = os.environ.get("SENTINEL_QUALITY_SAMPLE_RATE", "").strip()
        if rate:  # the template parameter QualitySampleRate; the monitors file's quality.sample_rate otherwise
            try:
                value = float(rate)
            except ValueError:
                value = -1.0
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"SENTINEL_QUALITY_SAMPLE_RATE must be a number in [0, 1], not {rate!r}")
            monitors = monitors.model_copy(
                update={"quality": monitors.quality.model_copy(update={"sample_rate": value})}
            )
        return cls(
            bucket=os.environ["SENTINEL_DATA_BUCKET"],
            kms_key_id=os.environ["SENTINEL_KMS_KEY_ID"],
            bus_name=os.environ.get("SENTINEL_EVENT_BUS_NAME", ""),
            stream_endpoints={str(k): str(v) for k, v in streams.items()},
            monitors=monitors,
        )

    def store(self) -> DriftStore:
        return DriftStore(self.bucket, self.kms_key_id)


# ------------------------------------------------------------------------------------------------ results


FIREHOSE_RESPONSE_LIMIT = 6_291_456
"""Lambda's synchronous response limit (bytes), which Firehose invocations are subject to."""
FIREHOSE_RESPONSE_BUDGET = FIREHOSE_RESPONSE_LIMIT - 4_096
"""What the answer may use: the limit less a margin for the serialiser's envelope."""
MAX_RECORD_ID = 512
_MAX_ARRIVAL_MS = 4_102_444_800_000  # 2100-01-01: a larger "timestamp" is not one


@dataclass(frozen=True, slots=True)
class FirehoseRecordIn:
    record_id: str
    data: str
    arrival_ms: int | None = None
    problem: str | None = None
    """Why the record cannot be read at all (its ``data`` is not a string), None when it can."""


@dataclass(frozen=True, slots=True)
class FirehoseBatchIn:
    """A Firehose transformation event, field by field as far as each can be used."""

    records: list[FirehoseRecordIn]
    unanswerable: int
    """Records without a usable recordId: they cannot be named in the answer."""
    invocation_id: str | None = None
    delivery_stream_arn: str | None = None


@dataclass(slots=True)
class RecordOutcome:
    record_id: str
    result: Literal["Ok", "ProcessingFailed"]
    data: str
    """base64: the normalised feature rows (Ok) or the record's original data (ProcessingFailed)."""
    endpoint: str | None = None
    reason: str | None = None


class Distribution(BaseModel):
    """A batch's values of one feature, for EMF: all of them, or 100 evenly spaced quantiles."""

    model_config = ConfigDict(defer_build=True)

    count: int
    values: list[float]


class EndpointBatch(BaseModel):
    model_config = ConfigDict(defer_build=True)
    endpoint: str
    records_ok: int
    records_failed: int
    profile_key: str | None = None
    distributions: dict[str, Distribution] = Field(default_factory=dict)
    quality: dict[str, Any] = Field(default_factory=dict)
    """This endpoint's quality counters (``services.quality.counters``); empty when sampling is off."""


class IngestResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    batch_id: str
    records: list[Any]  # RecordOutcome, kept as dataclasses (hundreds per batch)
    endpoints: list[EndpointBatch]
    failures: dict[str, int] = Field(default_factory=dict)
    """Failed records by reason class (e.g. ``MalformedRecordError``)."""
    unanswerable: int = 0
    """Records of the batch without a usable recordId (not in ``records``: they cannot be answered)."""
    invocation_id: str | None = None
    quality: dict[str, Any] = Field(default_factory=dict)
    """The sampled Comprehend extractor's counters (``services.quality.summary``); empty when it is off."""

    @property
    def ok(self) -> int:
        return sum(1 for r in self.records if r.result == "Ok")

    @property
    def failed(self) -> int:
        return len(self.records) - self.ok

    def summary(self, samples: int = 20) -> dict[str, Any]:
        """What to log about the batch: counts, failure classes, profiles and the first failures."""
        failed = [{"record_id": r.record_id, "reason": r.reason} for r in self.records if r.result != "Ok"]
        return {
            "batch_id": self.batch_id,
            "invocation_id": self.invocation_id,
            "ok": self.ok,
            "failed": self.failed,
            "unanswerable": self.unanswerable,
            "failures": self.failures,
            "profiles": [b.profile_key for b in self.endpoints],
            "failed_records": failed[:samples],
            **({"quality": self.quality} if self.quality else {}),
        }


# ------------------------------------------------------------------------------------------------ ingest


def _arrival(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not (0 < value < _MAX_ARRIVAL_MS):  # also NaN
        return None
    return int(value)


def parse_firehose_event(event: Any) -> FirehoseBatchIn:
    """A Firehose transformation event -> its records, each as far as it can be used (module docstring)."""
    if not isinstance(event, dict) or not isinstance(event.get("records"), list):
        raise InvalidEventError("not a Firehose transformation batch: no 'records' list")
    records: list[FirehoseRecordIn] = []
    unanswerable = 0
    for raw in event["records"]:
        record_id = raw.get("recordId") if isinstance(raw, dict) else None
        if not isinstance(record_id, str) or not record_id or len(record_id) > MAX_RECORD_ID:
            unanswerable += 1
            continue
        data = raw.get("data")
        problem = None if isinstance(data, str) else f"data is a JSON {type(data).__name__}, not a base64 string"
        records.append(
            FirehoseRecordIn(
                record_id,
                data if isinstance(data, str) else "",
                _arrival(raw.get("approximateArrivalTimestamp")),
                problem,
            )
        )
    invocation = event.get("invocationId")
    stream = event.get("deliveryStreamArn")
    return FirehoseBatchIn(
        records,
        unanswerable,
        invocation if isinstance(invocation, str) else None,
        stream if isinstance(stream, str) else None,
    )


def stream_name(delivery_stream_arn: str | None) -> str | None:
    if not delivery_stream_arn or ":deliverystream/" not in delivery_stream_arn:
        return None
    return delivery_stream_arn.rsplit("/", 1)[-1]


def _lines(raw: bytes) -> list[bytes]:
    """A Firehose record's payload -> JSON/CSV lines. gzip is opened; a CloudWatch Logs subscription
    payload yields its log messages (a control message has none)."""
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise MalformedRecordError("#0", f"gzip data cannot be decompressed ({exc})") from None
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw.splitlines()
        if isinstance(doc, dict) and "logEvents" in doc and "messageType" in doc:
            if doc["messageType"] != "DATA_MESSAGE":
                raise UnknownRecordFormatError(
                    "#0", f"CloudWatch Logs {doc['messageType']} from {doc.get('owner')!r}: no inference records"
                )
            events = doc["logEvents"] if isinstance(doc["logEvents"], list) else []
            return [str(e.get("message", "")).encode() for e in events if isinstance(e, dict)]
        return raw.splitlines()
    return raw.splitlines()


def _parse_firehose_record(raw: bytes, default_endpoint: str | None) -> tuple[str | None, list[InferenceRecord]]:
    lines = [line for line in _lines(raw) if line.strip()]
    if not lines:
        raise MalformedRecordError("#0", "empty record")
    endpoint = default_endpoint
    result: ParseResult
    if any(needle in line for line in lines for needle in _ENDPOINT_NEEDLES):
        objects: list[Any] = []
        named: set[str] = set()
        for index, line in enumerate(lines):
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise MalformedRecordError(f"#{index}", f"not JSON ({exc})") from None
            if isinstance(obj, dict):
                for key in ENDPOINT_KEYS:
                    value = obj.pop(key, None)
                    if isinstance(value, str) and value:
                        if not _ENDPOINT_RE.match(value):
                            raise MalformedRecordError(f"#{index}", f"{key} {value!r} is not an endpoint name")
                        named.add(value)
            objects.append(obj)
        if len(named) > 1:
            raise MalformedRecordError("#0", f"lines name different endpoints: {', '.join(sorted(named))}")
        endpoint = next(iter(named), endpoint)
        result = parse_objects(objects)
    else:
        result = parse_lines(lines)
    if result.errors:
        raise result.errors[0]
    return endpoint, result.records


def _distribution(values: list[Any]) -> Distribution | None:
    arr = np.array([v for v in values if v is not None], dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    count = int(arr.size)
    if count == 0:
        return None
    if count > MAX_EMF_VALUES:
        arr = np.quantile(arr, (np.arange(MAX_EMF_VALUES) + 0.5) / MAX_EMF_VALUES)
    return Distribution(count=count, values=[round(float(v), 3) for v in arr])


def _feature_rows(records: Sequence[InferenceRecord], endpoint: str, values: dict[str, list[Any]]) -> list[bytes]:
    """One JSON line per record: its LLM features and its tabular rows (what Firehose delivers to S3)."""
    llm = [name for name in values if name in _LLM_FEATURES]
    tabular = [name for name in values if name not in _REGISTERED]
    out: list[bytes] = []
    row = 0
    for i, rec in enumerate(records):
        doc: dict[str, Any] = {
            "endpoint": endpoint,
            "ref": rec.ref,
            "time": rec.inference_time,
            "features": {name: values[name][i] for name in llm if values[name][i] is not None},
        }
        if rec.rows:
            doc["rows"] = [
                {name: values[name][j] for name in tabular if values[name][j] is not None}
                for j in range(row, row + len(rec.rows))
            ]
            row += len(rec.rows)
        out.append(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
    return out


def _batch_id(record_ids: Sequence[str]) -> str:
    """The same for a retried batch (same records), unlike the invocation id."""
    return hashlib.sha256("\n".join(sorted(record_ids)).encode()).hexdigest()[:32]


_ENTRY_OVERHEAD = {
    result: len(json.dumps({"recordId": "", "result": result, "data": ""})) for result in ("Ok", "ProcessingFailed")
}


def _entry_size(outcome: RecordOutcome) -> int:
    """Bytes of the record's answer as serialised (ASCII escapes: an upper bound for any JSON encoder)."""
    return _ENTRY_OVERHEAD[outcome.result] + len(json.dumps(outcome.record_id)) - 2 + len(outcome.data)


def _fit_budget(outcomes: list[RecordOutcome], originals: Sequence[str], budget: int) -> int:
    """Answer the Ok records that grew most ProcessingFailed (original data) until the response fits.
    Returns how many were changed."""
    sizes = [_entry_size(o) for o in outcomes]
    total = len('{"records": []}') + sum(sizes) + 2 * max(len(outcomes) - 1, 0)
    if total <= budget:
        return 0
    fallback = [
        _ENTRY_OVERHEAD["ProcessingFailed"] + size - _ENTRY_OVERHEAD[o.result] - len(o.data) + len(orig)
        for o, size, orig in zip(outcomes, sizes, originals, strict=True)
    ]
    growth = sorted(
        (i for i, o in enumerate(outcomes) if o.result == "Ok"), key=lambda i: sizes[i] - fallback[i], reverse=True
    )
    changed = 0
    for i in growth:
        if total <= budget or sizes[i] <= fallback[i]:
            break
        total -= sizes[i] - fallback[i]
        outcome = outcomes[i]
        outcome.result, outcome.data, outcome.reason = (
            "ProcessingFailed",
            originals[i],
            ("ResponseBudgetError: the feature rows would take the answer over Lambda's 6 MiB response limit"),
        )
        changed += 1
    for i in sorted(range(len(outcomes)), key=lambda i: len(outcomes[i].data), reverse=True):
        if total <= budget:  # only for requests Firehose never sends (no arrival stamps, > 6 MiB)
            break
        total -= len(outcomes[i].data)
        outcomes[i].data = ""
    return changed


def _rng_for(batch_id: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(batch_id.encode()).digest()[:8], "big"))


def ingest_firehose(
    records: Sequence[FirehoseRecordIn],
    settings: DriftSettings,
    *,
    invocation_id: str | None = None,
    delivery_stream_arn: str | None = None,
    store: DriftStore | None = None,
    now: datetime | None = None,
    rng: np.random.Generator | None = None,
    budget: int = FIREHOSE_RESPONSE_BUDGET,
    unanswerable: int = 0,
    comprehend: Comprehend | None = None,
) -> IngestResult:
    stream = stream_name(delivery_stream_arn)
    default_endpoint = settings.stream_endpoints.get(stream or "")
    batch_id = _batch_id([r.record_id for r in records])
    gen = rng if rng is not None else _rng_for(batch_id)
    outcomes: list[RecordOutcome] = []
    by_endpoint: dict[str, list[tuple[int, list[InferenceRecord]]]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    failures: dict[str, int] = defaultdict(int)

    def fail(record: FirehoseRecordIn, reason: str, kind: str, endpoint: str | None, echo: bool = True) -> None:
        data = record.data if echo else ""  # only valid base64 goes back to Firehose
        outcomes.append(RecordOutcome(record.record_id, "ProcessingFailed", data, endpoint, reason))
        failures[kind] += 1
        if endpoint:
            failed[endpoint] += 1

    for record in records:
        if record.problem is not None:
            fail(record, record.problem, "MalformedRecordError", default_endpoint)
            continue
        try:
            raw = base64.b64decode(record.data, validate=True)
        except (binascii.Error, ValueError):
            fail(record, "data is not base64", "MalformedRecordError", default_endpoint, echo=False)
            continue
        try:
            endpoint, parsed = _parse_firehose_record(raw, default_endpoint)
        except RecordError as exc:
            fail(record, f"{type(exc).__name__}: {exc}", type(exc).__name__, default_endpoint)
            continue
        if endpoint is None:
            fail(
                record,
                f"no endpoint: the record names none and stream {stream!r} is not in SENTINEL_STREAM_ENDPOINTS",
                "UnknownEndpointError",
                None,
            )
            continue
        by_endpoint[endpoint].append((len(outcomes), parsed))
        outcomes.append(RecordOutcome(record.record_id, "Ok", "", endpoint))

    arrivals = [r.arrival_ms for r in records if r.arrival_ms]
    at = datetime.fromtimestamp(max(arrivals) / 1000, UTC) if arrivals else (now or datetime.now(UTC))
    store = store or settings.store()
    batches: list[EndpointBatch] = []
    quality = settings.monitors.quality
    calls = new_budget(quality) if quality.sample_rate > 0 else None
    scored: list[QualityOutcome] = []
    for endpoint in sorted({*by_endpoint, *failed}):
        groups = by_endpoint.get(endpoint, [])
        flat = [rec for _, recs in groups for rec in recs]
        monitor = settings.monitors.monitor_for(endpoint)
        selection = monitor.config.features
        endpoint_quality: dict[str, Any] = {}
        if calls is not None:  # sampled by a stable key: a redelivered batch samples the same records
            keys = [sample_key(rec.ref, outcomes[pos].record_id) for pos, recs in groups for rec in recs]
            scored.append(score_quality(flat, keys, quality, calls, comprehend))
            endpoint_quality = counters(scored[-1])
            selection = with_quality(selection)
        table = extract_features(flat, selection)
        first = first_row = 0
        for position, recs in groups:
            n_rows = sum(len(r.rows) for r in recs)
            columns = {
                name: col[first : first + len(recs)] if name in _REGISTERED else col[first_row : first_row + n_rows]
                for name, col in table.values.items()
            }
            rows = _feature_rows(recs, endpoint, columns)
            first, first_row = first + len(recs), first_row + n_rows
            outcomes[position].data = base64.b64encode(b"".join(rows)).decode()
        times = [r.inference_time for r in flat if r.inference_time is not None]
        profile = EndpointProfile(
            profile_table(table, rng=gen),
            endpoint,
            min(times) if times else None,
            max(times) if times else None,
            len(flat),
            failed.get(endpoint, 0),
        )
        key = store.put_profile(endpoint, at, batch_id, profile_to_json(profile))
        dists = {
            name: d
            for name in DISTRIBUTION_FEATURES
            if name in table.values and (d := _distribution(table.values[name])) is not None
        }
        batches.append(
            EndpointBatch(
                endpoint=endpoint,
                records_ok=len(flat),
                records_failed=failed.get(endpoint, 0),
                profile_key=key,
                distributions=dists,
                quality=endpoint_quality,
            )
        )
    over = _fit_budget(outcomes, [r.data for r in records], budget)
    if over:
        failures["ResponseBudgetError"] += over
    return IngestResult(
        batch_id=batch_id,
        records=outcomes,
        endpoints=batches,
        failures=dict(failures),
        unanswerable=unanswerable,
        invocation_id=invocation_id,
        quality=quality_summary(scored) if scored else {},
    )


def ingest_firehose_event(
    event: Any, settings: DriftSettings, store: DriftStore | None = None, comprehend: Comprehend | None = None
) -> IngestResult:
    """A Firehose transformation event as Lambda receives it -> :func:`ingest_firehose`."""
    batch = parse_firehose_event(event)
    return ingest_firehose(
        batch.records,
        settings,
        invocation_id=batch.invocation_id,
        delivery_stream_arn=batch.delivery_stream_arn,
        store=store,
        unanswerable=batch.unanswerable,
        comprehend=comprehend,
    )


def firehose_response(result: IngestResult) -> dict[str, Any]:
    """The answer Firehose expects: every answerable record, in order, with its recordId."""
    return {"records": [{"recordId": r.record_id, "result": r.result, "data": r.data} for r in result.records]}


# ------------------------------------------------------------------------------------------------ data capture


class CaptureResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    status: Literal["profiled", "ignored"]
    bucket: str
    key: str
    endpoint: str | None = None
    variant: str | None = None
    records_ok: int = 0
    records_failed: int = 0
    profile_key: str | None = None
    reason: str | None = None
    errors: list[str] = Field(default_factory=list)
    quality: dict[str, Any] = Field(default_factory=dict)
    """The sampled Comprehend extractor's counters (``services.quality.counters``); empty when it is off."""


def capture_location(key: str) -> tuple[str, str] | None:
    """(endpoint, variant) from a SageMaker data-capture key, or None for any other key."""
    parts = key.split("/")
    if len(parts) < 7 or not parts[-1].endswith(".jsonl"):
        return None
    endpoint, variant, *stamp = parts[-7:-1]
    if not all(p.isdigit() for p in stamp) or not _ENDPOINT_RE.match(endpoint):
        return None
    return endpoint, variant


def profile_data_capture(
    event: Any,
    settings: DriftSettings,
    store: DriftStore | None = None,
    rng: np.random.Generator | None = None,
    comprehend: Comprehend | None = None,
) -> CaptureResult:
    """One data-capture file -> one partial profile. With quality sampling on, the file's records are
    sampled, scored and profiled as the Firehose processor does it (``services/quality.py``): the same
    key (the record's event id; a record without one: the file's ``s3://`` URL and its line), the same
    budget per invocation, the same features."""
    created = parse_object_created(event)
    located = capture_location(created.key)
    base = {"bucket": created.bucket, "key": created.key}
    if located is None:
        return CaptureResult(
            status="ignored", reason="not a data-capture file (<endpoint>/<variant>/yyyy/mm/dd/HH/*.jsonl)", **base
        )
    endpoint, variant = located
    store = store or settings.store()
    data = store.get(created.key, bucket=created.bucket)
    batch_id = hashlib.sha256(f"{created.bucket}/{created.key}#{created.etag}".encode()).hexdigest()[:32]
    monitor = settings.monitors.monitor_for(endpoint)
    rng = rng if rng is not None else _rng_for(batch_id)
    quality = settings.monitors.quality
    sampling = quality.sample_rate > 0
    features = with_quality(monitor.config.features) if sampling else monitor.config.features
    source = f"s3://{created.bucket}/{created.key}"
    outcome: QualityOutcome | None = None
    if data.lstrip()[:1] == b"{" and b"\n" in data.strip():  # JSON lines, what data capture writes
        lines = data.splitlines()
        ingested = profile_lines(lines, features=features, endpoint=endpoint, rng=rng)
        profile, errors = ingested.profile, ingested.errors
        if sampling:
            outcome, scored = score_capture_lines(lines, source, quality, new_budget(quality), comprehend)
            add_quality_profiles(profile, scored, rng)
    else:  # one JSON document or CSV: the general path
        result = parse_bytes(data)
        if sampling:
            keys = [sample_key(rec.ref, source) for rec in result.records]
            outcome = score_quality(result.records, keys, quality, new_budget(quality), comprehend)
        profile = profile_batch(result, features=features, endpoint=endpoint, rng=rng)
        errors = result.errors
    if not profile.records_ok and not errors:
        return CaptureResult(status="ignored", endpoint=endpoint, variant=variant, reason="empty file", **base)
    key = store.put_profile(endpoint, created.created_at, batch_id, profile_to_json(profile))
    return CaptureResult(
        status="profiled",
        endpoint=endpoint,
        variant=variant,
        records_ok=profile.records_ok,
        records_failed=len(errors),
        profile_key=key,
        errors=[str(e) for e in errors[:5]],
        quality=counters(outcome) if outcome is not None else {},
        **base,
    )


# ------------------------------------------------------------------------------------------------ detector

CheckStatus = Literal["drift", "no-drift", "no-data", "insufficient-data", "no-baseline", "bad-input", "error"]
"""``bad-input``: the endpoint's baseline or profiles cannot be used; ``error``: its check failed for any
other reason (an AWS error, a bug). Both publish DriftCheckErrors; the run goes on with the next endpoint."""


class EndpointCheck(BaseModel):
    model_config = ConfigDict(defer_build=True)
    endpoint: str
    status: CheckStatus
    window_start: str
    window_end: str
    profiles: int = 0
    records: int = 0
    records_failed: int = 0
    share_drifted: float | None = None
    drifted_features: list[str] = Field(default_factory=list)
    feature_scores: dict[str, float] = Field(default_factory=dict)
    """Effect size per tested feature (KS D, Cohen's w, ...): the per-feature DriftScore metric."""
    report_id: str | None = None
    report_key: str | None = None
    event_id: str | None = None
    reason: str | None = None

    @property
    def drifted(self) -> bool | None:
        return {"drift": True, "no-drift": False}.get(self.status)


class CheckResult(BaseModel):
    model_config = ConfigDict(defer_build=True)
    at: str
    checks: list[EndpointCheck]

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.at.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_baseline(blob: bytes, endpoint: str) -> EndpointProfile:
    try:
        doc = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise BadInputError(f"{baseline_key(endpoint)} is not JSON ({exc})") from None
    if is_statistics_document(doc):
        return baseline_from_statistics(doc, endpoint)
    return profile_from_dict(doc)


def summary_of(report: DriftReport, monitor: Monitor, window_end: datetime) -> str:
    tested = len(report.features)
    names = report.drifted_features
    listed = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    return (
        f"{len(names)} of {tested} features drifted ({listed}) on {monitor.endpoint} in the "
        f"{monitor.window_minutes}-min window ending {window_end:%H:%MZ}"
        + (f"; critical: {', '.join(report.critical_drifted)}" if report.critical_drifted else "")
        + (f"; largest effect {report.severity}" if report.drifted_features else "")
    )


def check_endpoint(
    monitor: Monitor, at: datetime, store: DriftStore, bus: SentinelBus | None, rng: np.random.Generator
) -> EndpointCheck:
    start, end = monitor.window(at)
    base = {"endpoint": monitor.endpoint, "window_start": _iso(start), "window_end": _iso(end)}
    keys = store.profile_keys(monitor.endpoint, start, end)
    if not keys:
        return EndpointCheck(status="no-data", reason="no partial profiles in the window", **base)
    try:
        current = merge_all([profile_from_json(store.get(key)) for key in keys], rng)
        blob = store.baseline(monitor.endpoint)
        if blob is None:
            return EndpointCheck(
                status="no-baseline",
                profiles=len(keys),
                records=current.records_ok,
                records_failed=current.records_failed,
                reason=f"no {store.uri(baseline_key(monitor.endpoint))}",
                **base,
            )
        baseline = _load_baseline(blob, monitor.endpoint)
    except BadInputError as exc:
        return EndpointCheck(status="bad-input", profiles=len(keys), reason=str(exc), **base)
    counts = {"profiles": len(keys), "records": current.records_ok, "records_failed": current.records_failed}
    if current.records_ok < monitor.min_records:
        return EndpointCheck(
            status="insufficient-data",
            reason=f"{current.records_ok} records < min_records {monitor.min_records}",
            **counts,
            **base,
        )
    if not set(baseline.features) & set(current.features):  # nothing to compare: not a "no-drift" verdict
        return EndpointCheck(
            status="bad-input",
            reason=f"the window has none of the baseline's {len(baseline.features)} features",
            **counts,
            **base,
        )
    report = check_drift(baseline, current, monitor.config, rng)
    report_id = f"{end:%Y%m%dT%H%MZ}"
    document = {
        "version": 1,
        "type": "drift_report",
        "report_id": report_id,
        "endpoint": monitor.endpoint,
        "checked_at": _iso(at),
        "window_start": _iso(start),
        "window_end": _iso(end),
        "window_minutes": monitor.window_minutes,
        "profiles": keys,
        "baseline": store.uri(baseline_key(monitor.endpoint)),
        "report": report.model_dump(mode="json"),
    }
    report_key = store.put_report(monitor.endpoint, end, orjson.dumps(document))
    event_id = None
    if report.drifted:
        if bus is None:
            raise ConfigError("a drifted endpoint needs SENTINEL_EVENT_BUS_NAME to signal it")
        event_id = bus.put_detail(
            ModelDriftDetail(
                endpoint_name=monitor.endpoint,
                report_id=report_id,
                report_uri=store.uri(report_key),
                share_drifted=report.share_drifted,
                share_threshold=report.share_threshold,
                drifted_features=list(report.drifted_features),
                critical_drifted=list(report.critical_drifted),
                severity=report.severity,
                reasons=list(report.reasons),
                window_start=_iso(start),
                window_end=_iso(end),
                records_current=report.records_current,
                summary=summary_of(report, monitor, end),
            )
        )
    return EndpointCheck(
        status="drift" if report.drifted else "no-drift",
        share_drifted=report.share_drifted,
        drifted_features=report.drifted_features,
        feature_scores={f.feature: round(f.effect_size, 6) for f in report.features},
        report_id=report_id,
        report_key=report_key,
        event_id=event_id,
        **counts,
        **base,
    )


def run_drift_checks(
    event: Any,
    settings: DriftSettings,
    store: DriftStore | None = None,
    bus: SentinelBus | None = None,
    rng: np.random.Generator | None = None,
) -> CheckResult:
    request = parse_check_request(event)
    monitors = settings.monitors.resolved()
    if request.endpoints is not None:
        known = {m.endpoint for m in monitors}
        unknown = sorted(set(request.endpoints) - known)
        if unknown:
            raise InvalidEventError(f"no monitor for {', '.join(unknown)} in the monitors file")
        monitors = [m for m in monitors if m.endpoint in request.endpoints]
    store = store or settings.store()
    bus = bus or (SentinelBus(settings.bus_name) if settings.bus_name else None)
    at = request.moment
    checks = [
        isolated_check(m, at, store, bus, rng if rng is not None else np.random.default_rng(m.config.seed))
        for m in monitors
    ]
    return CheckResult(at=_iso(at), checks=checks)


def isolated_check(
    monitor: Monitor,
    at: datetime,
    store: DriftStore,
    bus: SentinelBus | None,
    rng: np.random.Generator,
    reraise: tuple[type[Exception], ...] = (),
) -> EndpointCheck:
    """:func:`check_endpoint`, but whatever goes wrong with one endpoint is that endpoint's result
    (``bad-input`` for a typed bad-input error, ``error`` with the exception's class otherwise), so one
    bad baseline or unreadable profile never stops the others being checked. ``reraise``: errors left to
    the caller (the fan-out's per-item check re-raises throttling for the Map's Retry)."""
    try:
        return check_endpoint(monitor, at, store, bus, rng)
    except reraise:
        raise
    except Exception as exc:  # isolation is the point: the error is this endpoint's result
        start, end = monitor.window(at)
        status: CheckStatus = "bad-input" if isinstance(exc, BadInputError) else "error"
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        return EndpointCheck(
            endpoint=monitor.endpoint, status=status, window_start=_iso(start), window_end=_iso(end), reason=reason
        )

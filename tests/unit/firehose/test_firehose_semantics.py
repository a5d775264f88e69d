"""Firehose semantics: every record answered whatever its fields, a bounded response, idempotent retries.

The worst case for the response size is the largest request with the smallest records that still
parse (a feature row is bigger than a tiny record). The limits are AWS's: Lambda refuses a synchronous
response (and request) over 6 MiB; Firehose buffers at most BufferSizeInMBs of raw data per invocation
(template.yaml: 1 MiB) and sends each record base64-encoded with a 56-digit recordId and a 13-digit
approximateArrivalTimestamp. The answer is measured as Lambda's Python runtime serialises it (json.dumps).
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from llmops_sentinel.adapters.s3 import profile_key
from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.domain.drift.profiles import merge_all, profile_from_json
from llmops_sentinel.services.drift import (
    FIREHOSE_RESPONSE_LIMIT,
    DriftSettings,
    firehose_response,
    ingest_firehose,
    ingest_firehose_event,
    parse_firehose_event,
)
from tests.conftest import REPO, load_json

STREAM = "arn:aws:firehose:us-east-1:123456789012:deliverystream/sentinel-inference"
ENDPOINT = "demo-llm-endpoint"
SMALLEST = {  # the smallest records that parse into an Ok feature row (measured: they grow 6-12x)
    "llm": b'{"prompt":"a","completion":"b"}',
    "tabular": b'{"i":1}',
}


class MemoryStore:
    """The S3 store's put_profile, in memory, with the real key layout (what a retry overwrites)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_profile(self, endpoint: str, at: datetime, batch_id: str, body: bytes) -> str:
        key = profile_key(endpoint, at, batch_id)
        self.objects[key] = body
        return key


def settings() -> DriftSettings:
    return DriftSettings(
        bucket="b", kms_key_id="k", stream_endpoints={"sentinel-inference": ENDPOINT}, monitors=load_monitors()
    )


def batch(records: list[dict[str, Any]], invocation: str = "inv-1") -> dict[str, Any]:
    return {"invocationId": invocation, "deliveryStreamArn": STREAM, "region": "us-east-1", "records": records}


def record(i: int, raw: bytes, arrival: Any = None) -> dict[str, Any]:
    return {
        "recordId": f"{49546986683135544286507457936321625675700192471156785154 + i}",
        "approximateArrivalTimestamp": 1795687500000 + i if arrival is None else arrival,
        "data": base64.b64encode(raw).decode(),
    }


def buffer_hint_bytes() -> int:
    """The Firehose processor's BufferSizeInMBs in template.yaml, in bytes."""
    text = (REPO / "template.yaml").read_text()
    match = re.search(r"ParameterName: BufferSizeInMBs\s+ParameterValue: \"?([0-9.]+)", text)
    assert match, "template.yaml: the Firehose processor has no BufferSizeInMBs"
    return int(float(match.group(1)) * (1 << 20))


def largest_request(raw: bytes, limit: int, raw_buffer: int | None = None) -> dict[str, Any]:
    """As many copies of ``raw`` as fit a request of ``limit`` bytes (json.dumps, as Lambda reads it) and,
    when given, a raw buffer of ``raw_buffer`` bytes (what Firehose buffers before it invokes)."""
    one = len(json.dumps(record(0, raw))) + 2
    n = (limit - len(json.dumps(batch([])))) // one
    if raw_buffer is not None:
        n = min(n, raw_buffer // len(raw))
    event = batch([record(i, raw) for i in range(n)])
    assert len(json.dumps(event)) <= limit
    return event


def response_bytes(answer: dict[str, Any]) -> int:
    return len(json.dumps(answer).encode())


def test_every_record_is_answered_whatever_its_fields() -> None:
    good = load_json(REPO / "events" / "firehose_processor" / "capture_batch_with_bad_records.json")["records"][1]
    records: list[Any] = [
        {**good, "recordId": "a"},
        {**good, "recordId": "b", "data": None},
        {**good, "recordId": "c", "approximateArrivalTimestamp": "yesterday"},
        {**good, "recordId": "d", "approximateArrivalTimestamp": 1e300},
        {**good, "recordId": "e", "data": ["not", "a", "string"]},
        {**good, "recordId": "f", "data": {"prompt": "x"}},
        {**good, "recordId": "g", "data": "%%% not base64 %%%"},
        {**good, "recordId": 7},  # no usable id: cannot be answered
        {"data": good["data"]},
        "not a record",
        None,
    ]
    result = ingest_firehose_event(batch(records), settings(), store=MemoryStore())  # type: ignore[arg-type]
    answer = firehose_response(result)["records"]
    assert [(r["recordId"], r["result"]) for r in answer] == [
        ("a", "Ok"),
        ("b", "ProcessingFailed"),
        ("c", "Ok"),
        ("d", "Ok"),
        ("e", "ProcessingFailed"),
        ("f", "ProcessingFailed"),
        ("g", "ProcessingFailed"),
    ]
    assert result.unanswerable == 4
    for out in answer:
        base64.b64decode(out["data"], validate=True)
    assert answer[6]["data"] == ""  # only valid base64 is echoed back
    assert answer[1]["data"] == answer[4]["data"] == ""


@pytest.mark.parametrize("kind", sorted(SMALLEST))
@pytest.mark.parametrize("bounded_by", ["buffer-hint", "request-limit"])
def test_worst_case_response_stays_under_lambdas_limit(kind: str, bounded_by: str) -> None:
    """The template's raw buffer of the smallest records that parse (base64 and framing make the
    request ~5.6x the raw bytes; capped at what Lambda accepts), and the largest request Lambda accepts."""
    buffer = buffer_hint_bytes() if bounded_by == "buffer-hint" else None
    event = largest_request(SMALLEST[kind], FIREHOSE_RESPONSE_LIMIT, buffer)
    result = ingest_firehose_event(event, settings(), store=MemoryStore())  # type: ignore[arg-type]
    answer = firehose_response(result)
    size = response_bytes(answer)
    assert size <= FIREHOSE_RESPONSE_LIMIT, f"{size} bytes for {len(event['records'])} records"
    assert [r["recordId"] for r in answer["records"]] == [r["recordId"] for r in event["records"]]
    over = result.failures.get("ResponseBudgetError", 0)
    assert result.ok + over == len(event["records"])  # only the budget failed any
    assert result.endpoints[0].records_ok == len(event["records"])  # the profile still has them all
    print(
        f"{kind} {bounded_by}: request {len(json.dumps(event))} B, {len(event['records'])} records, "
        f"response {size} B, {over} over budget"
    )


def test_without_the_budget_the_worst_case_would_exceed_the_limit() -> None:
    """The test above can fail: unbounded, the same batch answers with more than 6 MiB."""
    event = largest_request(SMALLEST["llm"], FIREHOSE_RESPONSE_LIMIT)
    parsed = parse_firehose_event(event)
    free = ingest_firehose(
        parsed.records,
        settings(),
        delivery_stream_arn=STREAM,
        store=MemoryStore(),  # type: ignore[arg-type]
        budget=10**12,
    )
    assert "ResponseBudgetError" not in free.failures
    assert response_bytes(firehose_response(free)) > 2 * FIREHOSE_RESPONSE_LIMIT


@pytest.mark.parametrize(
    "raw",
    [
        b'{"prompt":"What is the refund policy?","completion":"Refunds take 5 days.","latency_ms":412.5}',
        base64.b64decode(
            load_json(REPO / "events" / "firehose_processor" / "capture_batch_with_bad_records.json")["records"][0][
                "data"
            ]
        ),
    ],
    ids=["short-94B", "capture-1.7KB"],
)
def test_at_the_buffer_hint_ordinary_records_never_touch_the_budget(raw: bytes) -> None:
    """What the buffer hint is for: a full buffer of records of ordinary size (a 94-byte prompt/completion
    pair up) answers every record Ok, within the limit (with BufferSizeInMBs=3 the 94-byte batch was an
    8.7 MB request: Lambda refuses it before the function runs)."""
    event = largest_request(raw, FIREHOSE_RESPONSE_LIMIT, buffer_hint_bytes())
    assert len(event["records"]) == buffer_hint_bytes() // len(raw)  # the buffer, not the request, bounds it
    result = ingest_firehose_event(event, settings(), store=MemoryStore())  # type: ignore[arg-type]
    assert result.ok == len(event["records"]) and "ResponseBudgetError" not in result.failures
    assert response_bytes(firehose_response(result)) <= FIREHOSE_RESPONSE_LIMIT


def test_a_retried_batch_overwrites_its_own_partial_profile() -> None:
    """Firehose retries a failed invocation with the same records under a new invocation id."""
    good = load_json(REPO / "events" / "firehose_processor" / "capture_batch_with_bad_records.json")["records"]
    store = MemoryStore()
    first = ingest_firehose_event(batch(good, "inv-1"), settings(), store=store)  # type: ignore[arg-type]
    retry = ingest_firehose_event(batch(good, "inv-2-retry"), settings(), store=store)  # type: ignore[arg-type]
    assert [b.profile_key for b in first.endpoints] == [b.profile_key for b in retry.endpoints]
    assert len(store.objects) == 1
    window = merge_all([profile_from_json(body) for body in store.objects.values()])
    assert window.records_ok == first.endpoints[0].records_ok == 2  # counted once, not twice
    other = ingest_firehose_event(batch(good[:2], "inv-3"), settings(), store=store)  # type: ignore[arg-type]
    assert other.endpoints[0].profile_key not in {b.profile_key for b in first.endpoints}  # another batch adds
    hour = datetime.fromtimestamp(1795687500, UTC)  # the batch's newest arrival, not the time of the retry
    assert first.endpoints[0].profile_key.startswith(f"profiles/{ENDPOINT}/{hour:%Y/%m/%d/%H}/")

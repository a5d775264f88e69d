"""The real published Firehose transformation events through the processor: every record comes back
once, in order, with its recordId, as ``Ok`` or ``ProcessingFailed``; the batch never fails whole.

Fixtures (../shared/fixtures/aws-events): direct put (Powertools, SAM CLI), Kinesis stream as source
(Powertools, aws-lambda-go), and the gzip CloudWatch Logs subscription batch (SAM CLI: a control
message and three data messages of UUIDs, none of them inference records). The processor runs as the
local cloud runs it (handler, template environment); then through the service with the fixtures'
streams mapped to an endpoint, to check the reasons of the failures and the Ok data.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.services.drift import DriftSettings, FirehoseRecordIn, ingest_firehose
from sentinel_dev.local import traffic
from sentinel_dev.local.cloud import LocalCloud
from tests.conftest import aws_event

EVENTS = [
    "firehose_transformation_direct_put__powertools.json",
    "firehose_transformation_direct_put__samcli.json",
    "firehose_transformation_kinesis_source__powertools.json",
    "firehose_transformation_kinesis_source__lambdago.json",
    "firehose_transformation_cloudwatch_logs_gzip__samcli.json",
]


class MemoryStore:
    """The S3 store's interface, in memory (what the service writes)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_profile(self, endpoint: str, at: datetime, batch_id: str, body: bytes) -> str:
        key = f"profiles/{endpoint}/{at:%Y%m%dT%H%M%SZ}-{batch_id}.json"
        self.objects[key] = body
        return key


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as running:
        yield running


def _settings(streams: dict[str, str]) -> DriftSettings:
    return DriftSettings(bucket="b", kms_key_id="k", stream_endpoints=streams, monitors=load_monitors())


def _ingest(event: dict[str, Any], endpoint: str | None = "demo-llm-endpoint") -> Any:
    stream = str(event.get("deliveryStreamArn", "")).rsplit("/", 1)[-1]
    records = [
        FirehoseRecordIn(r["recordId"], r["data"], r.get("approximateArrivalTimestamp")) for r in event["records"]
    ]
    store = MemoryStore()
    result = ingest_firehose(
        records,
        _settings({stream: endpoint} if endpoint else {}),
        invocation_id=event.get("invocationId"),
        delivery_stream_arn=event.get("deliveryStreamArn"),
        store=store,  # type: ignore[arg-type]
    )
    return result, store


@pytest.mark.parametrize("name", EVENTS)
def test_every_record_comes_back_once_as_ok_or_processing_failed(cloud: LocalCloud, name: str) -> None:
    event = aws_event(name)
    invocation = cloud.invoke("FirehoseProcessorFunction", event)
    assert invocation.ok, f"{invocation.error_type}: {invocation.error_message}\n{invocation.logs}"
    answered = invocation.result["records"]
    assert [r["recordId"] for r in answered] == [r["recordId"] for r in event["records"]]
    for record in answered:
        assert record["result"] in {"Ok", "ProcessingFailed"}
        assert set(record) <= {"recordId", "result", "data", "metadata"}
        base64.b64decode(record["data"], validate=True)


def test_our_answer_uses_the_published_response_shape() -> None:
    published = aws_event("firehose_transformation_RESPONSE__lambdago.json")["records"]
    event = aws_event("firehose_transformation_direct_put__powertools.json")
    result, _ = _ingest(event)
    keys = {key for record in published for key in record}
    for out in result.records:
        assert {"recordId", "result", "data"} <= keys
        assert out.result in {"Ok", "ProcessingFailed"}  # the published enum values, not TRANSFORMED_STATE_OK


def test_gzip_cloudwatch_logs_records_fail_one_by_one_with_a_reason() -> None:
    event = aws_event("firehose_transformation_cloudwatch_logs_gzip__samcli.json")
    result, store = _ingest(event)
    assert [r.result for r in result.records] == ["ProcessingFailed"] * len(event["records"])
    control, *data = result.records
    assert "CloudWatch Logs CONTROL_MESSAGE" in (control.reason or "")
    for record in data:
        assert "MalformedRecordError" in (record.reason or "") and "not JSON" in (record.reason or "")
    for out, sent in zip(result.records, event["records"], strict=True):
        assert out.data == sent["data"]  # failed records keep their original data (Firehose's error output)
    assert result.failures == {"UnknownRecordFormatError": 1, "MalformedRecordError": len(data)}
    assert result.endpoints[0].records_failed == len(event["records"]) and result.endpoints[0].records_ok == 0
    assert len(store.objects) == 1  # the failures are still counted in the window's profile


def test_cloudwatch_logs_data_message_of_inference_records_is_ok() -> None:
    rng = np.random.default_rng(5)
    lines = traffic.records(rng, 3, datetime(2026, 11, 26, 10, tzinfo=UTC))
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/llm/inference",
        "logStream": "s",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": str(i), "timestamp": 0, "message": line.decode()} for i, line in enumerate(lines)],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    event = {
        "invocationId": "i",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/s",
        "region": "us-east-1",
        "records": [{"recordId": "r1", "approximateArrivalTimestamp": 1, "data": data}],
    }
    result, _ = _ingest(event)
    assert result.records[0].result == "Ok"
    rows = [json.loads(line) for line in base64.b64decode(result.records[0].data).splitlines()]
    assert [row["ref"] for row in rows] == ["evt-0", "evt-1", "evt-2"]
    assert {"prompt_chars", "output_tokens", "latency_ms"} <= set(rows[0]["features"])


def test_direct_put_without_an_endpoint_fails_with_that_reason() -> None:
    event = aws_event("firehose_transformation_direct_put__powertools.json")
    result, store = _ingest(event, endpoint=None)
    hello, flat = result.records
    assert hello.result == "ProcessingFailed" and "not JSON" in (hello.reason or "")
    # {"Hello": "World"} is a valid flat record, but nothing says which endpoint it belongs to.
    assert flat.result == "ProcessingFailed" and "no endpoint" in (flat.reason or "")
    assert store.objects == {}


def test_mapped_stream_turns_a_flat_record_into_a_feature_row() -> None:
    event = aws_event("firehose_transformation_kinesis_source__powertools.json")
    result, store = _ingest(event)
    assert [r.result for r in result.records] == ["ProcessingFailed", "Ok"]
    row = json.loads(base64.b64decode(result.records[1].data))
    assert row["endpoint"] == "demo-llm-endpoint" and row["rows"] == [{"Hello": "World"}]
    (key,) = store.objects
    assert key.startswith("profiles/demo-llm-endpoint/20220924T141340Z-")  # newest arrival of the batch

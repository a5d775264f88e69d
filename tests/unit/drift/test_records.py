"""Parsing: every shared SageMaker fixture, every supported shape, and malformed records by name."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from llmops_sentinel.domain.drift.records import (
    MalformedRecordError,
    UnknownRecordFormatError,
    parse_bytes,
    parse_lines,
    parse_record,
)
from llmops_sentinel.errors import BadInputError


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("relpath", "source"),
    [
        ("sdk_tests_monitor/captured-data.jsonl", "capture"),
        ("sdk_tests_monitor/capture.jsonl", "capture"),
        ("sdk_tests_monitor/actuals.jsonl", "ground_truth"),
        ("awsdocs/data_capture_realtime_csv_sample.jsonl", "capture"),
    ],
)
def test_every_jsonl_fixture_parses_one_record_per_line(sagemaker_fixtures: Path, relpath: str, source: str) -> None:
    path = sagemaker_fixtures / relpath
    result = parse_lines(_lines(path))
    assert result.errors == []
    assert len(result.records) == len(_lines(path))
    assert {r.source for r in result.records} == {source}
    ids = [orjson.loads(line)["eventMetadata"]["eventId"] for line in _lines(path)]
    assert [r.ref for r in result.records] == ids


def test_capture_csv_columns_follow_model_monitor_order(sagemaker_fixtures: Path) -> None:
    line = _lines(sagemaker_fixtures / "sdk_tests_monitor/capture.jsonl")[0]
    capture = orjson.loads(line)["captureData"]
    inputs = [float(v) for v in capture["endpointInput"]["data"].split(",")]
    output = float(capture["endpointOutput"]["data"])
    rec = parse_record(orjson.loads(line))
    assert rec.rows[0] == {f"_c{j}": v for j, v in enumerate([output, *inputs])}
    assert rec.inference_time is None  # the SDK fixture's literal "{%s}" is not a time


def test_awsdocs_sample_trailing_newline_and_charset(sagemaker_fixtures: Path) -> None:
    lines = _lines(sagemaker_fixtures / "awsdocs/data_capture_realtime_csv_sample.jsonl")
    for line in lines:
        obj = orjson.loads(line)
        rec = parse_record(obj)
        n_inputs = len(obj["captureData"]["endpointInput"]["data"].strip().split(","))
        assert len(rec.rows) == 1
        assert len(rec.rows[0]) == n_inputs + 1
        assert rec.rows[0]["_c0"] == float(obj["captureData"]["endpointOutput"]["data"])
        assert rec.inference_time == obj["eventMetadata"]["inferenceTime"]


def test_headerless_baseline_csv_fixture(sagemaker_fixtures: Path) -> None:
    path = sagemaker_fixtures / "sdk_tests_monitor/baseline_dataset.csv"
    rows = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
    result = parse_bytes(path.read_bytes())
    assert result.errors == []
    assert len(result.records) == len(rows)
    assert result.records[3].rows[0] == {f"_c{j}": float(v) for j, v in enumerate(rows[3])}


def _capture(data: str, encoding: str, content_type: str, out: str = '{"predictions": [1]}') -> dict[str, object]:
    return {
        "captureData": {
            "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": out,
                "encoding": "JSON",
            },
        },
        "eventMetadata": {"eventId": "e-42", "inferenceTime": "2024-01-01T00:00:00Z"},
    }


def test_base64_json_payload_is_decoded() -> None:
    request = {"inputs": "Hello there, how are you?", "parameters": {"max_new_tokens": 20}}
    data = base64.b64encode(orjson.dumps(request)).decode()
    out = orjson.dumps([{"generated_text": "Fine.", "details": {"generated_tokens": 3, "finish_reason": "eos_token"}}])
    rec = parse_record(_capture(data, "BASE64", "application/json; charset=utf-8", out.decode()))
    assert rec.prompt_chars == len(request["inputs"])
    assert rec.response == "Fine."
    assert rec.output_tokens == 3
    assert rec.finish_reason == "eos_token"


def test_base64_csv_payload_is_decoded() -> None:
    data = base64.b64encode(b"1.5,2.5\n").decode()
    rec = parse_record(_capture(data, "BASE64", "text/csv", "0.25"))
    assert rec.rows == [{"_c0": 0.25, "_c1": 1.5, "_c2": 2.5}]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_capture("{not json", "JSON", "application/json"), "not JSON"),
        (_capture("%%%", "BASE64", "application/json"), "base64"),
        (_capture("1,2", "UTF-16", "text/csv"), "encoding"),
        (
            {"captureData": {"endpointInput": {"data": 7, "encoding": "JSON"}}, "eventMetadata": {"eventId": "e-42"}},
            "not a string",
        ),
        ({"captureData": {}, "eventMetadata": {"eventId": "e-42"}}, "neither"),
        ({"messages": "hi", "eventId": "e-42"}, "messages"),
        (
            {
                "messages": [],
                "choices": [{"message": {"content": "x"}}],
                "usage": {"prompt_tokens": -3},
                "eventId": "e-42",
            },
            "prompt_tokens",
        ),
        ({"latency_ms": "fast", "x": 1, "eventId": "e-42"}, "latency_ms"),
        ({"embedding": ["a"], "x": 1, "eventId": "e-42"}, "embedding"),
    ],
)
def test_malformed_records_raise_a_typed_error_naming_the_record(record: dict[str, object], reason: str) -> None:
    with pytest.raises(MalformedRecordError) as info:
        parse_record(record, index=9)
    assert info.value.ref == "e-42"
    assert "e-42" in str(info.value)
    assert reason in str(info.value)
    assert isinstance(info.value, BadInputError)


def test_unknown_shapes_raise_with_index() -> None:
    with pytest.raises(UnknownRecordFormatError, match="#7"):
        parse_record([1, 2], index=7)
    with pytest.raises(UnknownRecordFormatError, match="#3"):
        parse_record({"nested": {"a": 1}}, index=3)


def test_batch_keeps_good_records_and_reports_each_bad_one(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    good = chat_lines(5, 1)
    lines = [good[0], b"{broken", good[1], b'{"nested": {"x": 1}}', b"", good[2]]
    result = parse_lines(lines)
    assert [r.ref for r in result.records] == ["evt-0", "evt-1", "evt-2"]
    assert [e.ref for e in result.errors] == ["#1", "#3"]
    assert result.total == 5  # the blank line is not a record


def test_fast_path_equals_general_path(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    lines = chat_lines(300, 3)
    fast = parse_lines(lines).records
    general = [parse_record(orjson.loads(line), i) for i, line in enumerate(lines)]
    assert fast == general
    assert fast[0].latency_ms is not None
    assert (
        fast[0].input_tokens
        == orjson.loads(orjson.loads(lines[0])["captureData"]["endpointOutput"]["data"])["usage"]["prompt_tokens"]
    )


def test_flat_shapes() -> None:
    chat = parse_record(
        {
            "messages": [{"role": "user", "content": [{"type": "text", "text": "abcd"}]}],
            "choices": [{"message": {"content": "xy"}, "finish_reason": "length"}],
            "ttft_ms": 12,
        }
    )
    assert (chat.source, chat.prompt_chars, chat.response, chat.ttft_ms, chat.finish_reason) == (
        "openai",
        4,
        "xy",
        12.0,
        "length",
    )
    tgi = parse_record({"inputs": "abc", "generated_text": "de", "details": {"tokens": [1, 2, 3]}})
    assert (tgi.source, tgi.prompt_chars, tgi.response, tgi.output_tokens) == ("tgi", 3, "de", 3)
    log = parse_record(
        {
            "request": {"prompt": "hello"},
            "response": {"choices": [{"text": "hi"}]},
            "latency_ms": 5,
            "embedding": [0.1, 0.2],
        }
    )
    assert (log.source, log.prompt_chars, log.response, log.latency_ms, log.embedding) == (
        "log",
        5,
        "hi",
        5.0,
        [0.1, 0.2],
    )
    flat = parse_record({"age": 3, "country": "FR", "ok": True, "latency_ms": 2.5})
    assert flat.rows == [{"age": 3.0, "country": "FR", "ok": True}]
    assert flat.latency_ms == 2.5


def test_csv_with_header_and_ragged_row() -> None:
    result = parse_bytes(b"age,country,latency_ms\n3,FR,10\n4,DE\n5,IT,12\n")
    assert [r.rows[0]["country"] for r in result.records] == ["FR", "IT"]
    assert [r.latency_ms for r in result.records] == [10.0, 12.0]
    assert [e.ref for e in result.errors] == ["#2"]


_HUGE_QUOTED = '"' + "x" * 140_000 + '",1'  # one quoted field over the csv module's 131,072-character limit


def _csv_capture(event_id: str, data: str) -> bytes:
    return orjson.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": data, "encoding": "CSV"}
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": "2024-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


def test_capture_csv_field_over_the_csv_limit_fails_that_record_only() -> None:
    result = parse_lines([_csv_capture("big", _HUGE_QUOTED), _csv_capture("ok", "1,2")])
    assert [r.ref for r in result.records] == ["ok"]
    assert len(result.errors) == 1 and isinstance(result.errors[0], MalformedRecordError)
    assert "big" in str(result.errors[0]) and "field larger than field limit" in str(result.errors[0])


def test_csv_file_row_over_the_csv_limit_fails_that_row_and_reading_goes_on() -> None:
    result = parse_bytes(f"a,b\n{_HUGE_QUOTED}\n1,2\n3,4\n".encode())
    assert [dict(r.rows[0]) for r in result.records] == [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]
    assert [e.ref for e in result.errors] == ["#1"]


def test_csv_file_whose_header_cannot_be_read_is_a_bad_input() -> None:
    with pytest.raises(BadInputError, match="header row"):
        parse_bytes(f"{_HUGE_QUOTED}\n1,2\n".encode())

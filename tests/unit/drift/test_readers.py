"""The streaming file readers (sentinel_dev.readers) profile a file as the record path profiles it whole.

Every comparison is against the record path (``parse_csv`` / ``parse_objects`` / ``parse_lines`` ->
``profile_batch``) on the same bytes: counts, categories and missing exactly, moments to float summation
order, KLL quantiles within the sketches' rank error. Blocks and chunks are made small so that every
file here spans many of them (kinds decided in a later block, quoted newlines across a block's end).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import orjson
import pytest
from botocore.stub import Stubber

from llmops_sentinel.adapters.comprehend import Comprehend
from llmops_sentinel.domain.drift.ingest import TableProfiler
from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.domain.drift.profiles import (
    CategoricalProfile,
    EndpointProfile,
    NumericProfile,
    profile_batch,
    profile_from_json,
)
from llmops_sentinel.domain.drift.records import parse_csv, parse_lines, parse_objects
from llmops_sentinel.domain.quality import is_sampled
from llmops_sentinel.errors import BadInputError
from llmops_sentinel.services.drift import DriftSettings, FirehoseRecordIn, ingest_firehose, profile_data_capture
from sentinel_dev import readers
from sentinel_dev.cli.main import main
from sentinel_dev.readers import FileFormatError, ProgressLine, profile_source

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")


def assert_same(got: EndpointProfile, want: EndpointProfile) -> None:
    assert (got.records_ok, got.records_failed) == (want.records_ok, want.records_failed)
    assert got.kinds == want.kinds
    for name, w in want.features.items():
        g = got.features[name]
        if isinstance(w, NumericProfile):
            assert isinstance(g, NumericProfile)
            assert (g.count, g.missing, g.min, g.max) == (w.count, w.missing, w.min, w.max), name
            assert g.mean == pytest.approx(w.mean, rel=1e-9, abs=1e-12), name
            assert g.m2 == pytest.approx(w.m2, rel=1e-9, abs=1e-9), name
            eps = max(g.rank_error, w.rank_error)
            for q in (0.05, 0.25, 0.5, 0.75, 0.95):
                v = g.sketch.get_quantile(q)
                lo, hi = w.sketch.get_rank(v, False), w.sketch.get_rank(v, True)
                assert lo - 2 * eps - 1e-9 <= q <= hi + 2 * eps + 1e-9, (name, q)
        else:
            assert isinstance(g, CategoricalProfile) and isinstance(w, CategoricalProfile)
            assert (g.counts(), g.missing) == (w.counts(), w.missing), name


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 2048)
    monkeypatch.setattr(readers, "CSV_PARSE_BYTES", 256)  # every block parsed in pieces on Arrow's threads
    monkeypatch.setattr(readers, "JSONL_CHUNK_LINES", 37)
    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 41)


def _csv_text(n: int, rng: np.random.Generator) -> str:
    lines = ["x, y ,label,late_text,sparse,quoted"]
    for i in range(n):
        late = "n/a" if i == n - 5 else str(int(rng.integers(0, 9)))  # a string only near the end
        sparse = "" if i % 3 else f"{rng.normal():.6g}"
        quoted = '"two\nlines"' if i % 17 == 0 else f'"a, {i % 4}"'
        lines.append(
            f"{rng.normal(3, 2):.9g}, {rng.lognormal():.6g} ,{rng.choice(['a', ' b', 'c '])},{late},{sparse},{quoted}"
        )
    return "\n".join(lines) + "\n"


def test_csv_blocks_equal_the_record_path(tmp_path: Path, small_blocks: None) -> None:
    text = _csv_text(600, np.random.default_rng(1))
    path = tmp_path / "t.csv"
    path.write_text(text)
    got = profile_source(path)
    want = profile_batch(parse_csv(text))
    assert got.format == "csv" and got.kind == "data"
    assert want.kinds["late_text"] == "categorical" and want.kinds["x"] == "numeric"  # the file has both
    assert_same(got.profile, want)


def test_csv_numbers_only_python_reads_and_bad_rows(tmp_path: Path, small_blocks: None) -> None:
    rows = ["a,b"] + [f"{'1_000' if i % 50 == 0 else i},{i % 3}" for i in range(300)]
    rows.insert(100, "1,2,3")  # three fields: a failed record, the rest is read
    text = "\n".join(rows) + "\n"
    path = tmp_path / "t.csv"
    path.write_text(text)
    got = profile_source(path)
    want = profile_batch(parse_csv(text))
    assert got.profile.kinds["a"] == "numeric"  # float("1_000") == 1000.0: a number, as the record path reads it
    assert got.profile.records_failed == 1 and got.errors and "3 fields" in str(got.errors[0])
    assert got.errors[0].ref == "#99"  # its row number, though its block was first parsed in pieces
    assert_same(got.profile, want)


def test_csv_row_longer_than_a_parallel_piece_is_read(tmp_path: Path, small_blocks: None) -> None:
    rows = ["x,text"] + [f"{i},{'w' * (700 if i == 40 else i % 7)}" for i in range(200)]  # row 40 > 256 B
    text = "\n".join(rows) + "\n"
    path = tmp_path / "t.csv"
    path.write_text(text)
    got = profile_source(path)
    assert got.profile.records_ok == 200 and not got.errors
    assert_same(got.profile, profile_batch(parse_csv(text)))


def test_headerless_numeric_csv_names_columns_like_model_monitor(tmp_path: Path) -> None:
    text = "".join(f"{i % 2},{i * 0.5},{i % 7}\n" for i in range(200))
    path = tmp_path / "h.csv"
    path.write_text(text)
    got = profile_source(path)
    assert set(got.profile.features) == {"_c0", "_c1", "_c2"}
    assert_same(got.profile, profile_batch(parse_csv(text)))


def test_csv_with_llm_columns_goes_through_the_record_path(tmp_path: Path, small_blocks: None) -> None:
    rng = np.random.default_rng(2)
    lines = ["prompt,response,latency_ms,tier"] + [
        f"{'q' * int(rng.integers(1, 40))},{'a' * int(rng.integers(1, 60))},{rng.lognormal(5):.4f},"
        f"{rng.choice(['free', 'pro'])}"
        for _ in range(300)
    ]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "llm.csv"
    path.write_text(text)
    got = profile_source(path)
    want = profile_batch(parse_csv(text))
    assert {"prompt_chars", "response_chars", "latency_ms", "refusal_like"} <= set(want.features)
    assert_same(got.profile, want)


def test_jsonl_chunks_equal_one_pass(
    tmp_path: Path, small_blocks: None, chat_lines: Callable[[int, int], list[bytes]]
) -> None:
    lines = chat_lines(250, 3)
    lines.insert(40, b"{not json")
    path = tmp_path / "capture.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    got = profile_source(path)
    want = profile_batch(parse_lines(lines))
    assert got.format == "jsonl" and got.profile.records_failed == 1
    assert (got.profile.window_start, got.profile.window_end) == (want.window_start, want.window_end)
    assert_same(got.profile, want)


def _table(n: int, rng: np.random.Generator) -> Any:
    nums = rng.normal(0, 1, n)
    nums[::11] = np.nan
    return pa.table(
        {
            "x": pa.array(nums, mask=np.isnan(nums)),
            "k": pa.array(rng.integers(0, 50, n)),
            "flag": pa.array(rng.random(n) < 0.3),
            "tier": pa.array(rng.choice(["free", "pro", "team"], n)).dictionary_encode(),
            "nested": pa.array([[1, 2]] * n),
        }
    )


def test_parquet_equals_the_same_rows_as_json_objects(tmp_path: Path, small_blocks: None) -> None:
    table = _table(500, np.random.default_rng(4))
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=120)
    got = profile_source(path)
    rows = table.to_pylist()
    want = profile_batch(parse_objects(rows))
    assert got.format == "parquet"
    assert got.profile.kinds == {"x": "numeric", "k": "numeric", "flag": "boolean", "tier": "categorical"}
    assert_same(got.profile, want)


def test_s3_parquet_and_csv_read_like_local_files(tmp_path: Path, small_blocks: None) -> None:
    import boto3
    from moto import mock_aws

    table = _table(300, np.random.default_rng(5)).drop(["nested"])
    local = tmp_path / "t.parquet"
    pq.write_table(table, local, row_group_size=70)
    text = _csv_text(200, np.random.default_rng(6))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="train")
        s3.put_object(Bucket="train", Key="sets/t.parquet", Body=local.read_bytes())
        s3.put_object(Bucket="train", Key="sets/t.csv", Body=text.encode())
        remote = profile_source("s3://train/sets/t.parquet", s3=s3)
        remote_csv = profile_source("s3://train/sets/t.csv", s3=s3)
        with pytest.raises(FileFormatError, match="cannot read"):
            profile_source("s3://train/missing.parquet", s3=s3)
    assert_same(remote.profile, profile_source(local).profile)
    assert_same(remote_csv.profile, profile_batch(parse_csv(text)))


CAPTURE_FILE_CREATED = {  # EventBridge's S3 "Object Created" for one data-capture file of endpoint "ep"
    "id": "e",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "time": "2024-05-01T10:00:00Z",
    "detail": {"bucket": {"name": "cap"}, "object": {"key": "c/ep/AllTraffic/2024/05/01/10/x.jsonl"}},
}


class _BlobStore:
    """The data bucket as the drift services use it: every object is ``blob``; profiles are kept by key."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.objects: dict[str, bytes] = {}

    def get(self, key: str, bucket: str | None = None) -> bytes:
        return self.blob

    def put_profile(self, endpoint: str, at: datetime, batch_id: str, body: bytes) -> str:
        self.objects[f"{endpoint}/{batch_id}"] = body
        return f"{endpoint}/{batch_id}"


def test_one_file_profiles_the_same_through_firehose_data_capture_and_the_cli(
    tmp_path: Path, small_blocks: None, chat_lines: Callable[[int, int], list[bytes]]
) -> None:
    lines = chat_lines(300, 7)
    blob = b"\n".join(lines) + b"\n"
    path = tmp_path / "capture.jsonl"
    path.write_bytes(blob)

    settings = DriftSettings(bucket="b", kms_key_id="k", monitors=load_monitors())
    firehose_store = _BlobStore(blob)
    records = [
        FirehoseRecordIn(f"r{i}", base64.b64encode(line).decode(), 1714557600000) for i, line in enumerate(lines)
    ]
    ingest_firehose(
        records,
        settings.model_copy(update={"stream_endpoints": {"s": "ep"}}),
        delivery_stream_arn="arn:aws:firehose:us-east-1:1:deliverystream/s",
        store=firehose_store,
    )  # type: ignore[arg-type]
    capture_store = _BlobStore(blob)
    profile_data_capture(CAPTURE_FILE_CREATED, settings, store=capture_store)  # type: ignore[arg-type]
    (firehose_blob,) = firehose_store.objects.values()
    (capture_blob,) = capture_store.objects.values()
    cli = profile_source(path).profile
    firehose, capture = profile_from_json(firehose_blob), profile_from_json(capture_blob)
    assert cli.records_ok == 300 and set(cli.features) >= {"prompt_chars", "latency_ms", "finish_reason"}
    assert_same(cli, capture)
    assert_same(cli, firehose)


def _stub_comprehend(answers: list[str], stub: Stubber) -> None:
    """Queue the calls the documented limits imply for these sampled answers, in order: DetectToxicContent
    with whole answers' 1 KB segments, at most 10 a call (ASCII text: 1 KB = 1024 characters); then one
    DetectPiiEntities per answer. Scores vary by answer, so the profiles have something to compare."""
    calls: list[list[str]] = [[]]
    for answer in answers:
        segments = [answer[i : i + 1024] for i in range(0, len(answer), 1024)]
        if len(calls[-1]) + len(segments) > 10:
            calls.append([])
        calls[-1].extend(segments)
    for segments in calls:
        scores = [round(0.1 + 0.8 * ((len(t) * 7919) % 100) / 100, 4) for t in segments]
        stub.add_response(
            "detect_toxic_content",
            {"ResultList": [{"Toxicity": v, "Labels": []} for v in scores]},
            {"TextSegments": [{"Text": t} for t in segments], "LanguageCode": "en"},
        )
    for n, answer in enumerate(answers):
        entities = [{"Type": ("EMAIL", "NAME", "PHONE")[n % 3], "Score": 0.9, "BeginOffset": 0, "EndOffset": 1}]
        stub.add_response(
            "detect_pii_entities", {"Entities": entities if n % 2 else []}, {"Text": answer, "LanguageCode": "en"}
        )


def test_sampled_quality_features_profile_the_same_through_firehose_and_data_capture(
    chat_lines: Callable[[int, int], list[bytes]],
) -> None:
    """The Comprehend features of a file: the same records sampled (by event id), the same calls, the same
    profile, whichever path the file takes. moto lacks DetectToxicContent: a botocore Stubber answers."""
    rate = 0.05
    lines = chat_lines(300, 11)
    blob = b"\n".join(lines) + b"\n"
    answers = [
        orjson.loads(orjson.loads(line)["captureData"]["endpointOutput"]["data"])["choices"][0]["message"]["content"]
        for i, line in enumerate(lines)
        if is_sampled(f"evt-{i}", rate)
    ]
    assert 10 < len(answers) < 25  # ~15 of 300: more than one DetectToxicContent call

    monitors = load_monitors()
    monitors = monitors.model_copy(update={"quality": monitors.quality.model_copy(update={"sample_rate": rate})})
    settings = DriftSettings(bucket="b", kms_key_id="k", monitors=monitors, stream_endpoints={"s": "ep"})
    client = boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    firehose_store, capture_store = _BlobStore(blob), _BlobStore(blob)
    with Stubber(client) as stub:
        _stub_comprehend(answers, stub)
        records = [
            FirehoseRecordIn(f"r{i}", base64.b64encode(line).decode(), 1714557600000) for i, line in enumerate(lines)
        ]
        via_firehose = ingest_firehose(
            records,
            settings,
            delivery_stream_arn="arn:aws:firehose:us-east-1:1:deliverystream/s",
            store=firehose_store,
            comprehend=Comprehend(client),  # type: ignore[arg-type]
        )
        stub.assert_no_pending_responses()
        _stub_comprehend(answers, stub)
        via_capture = profile_data_capture(
            CAPTURE_FILE_CREATED, settings, store=capture_store, comprehend=Comprehend(client)
        )  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    (firehose_blob,) = firehose_store.objects.values()
    (capture_blob,) = capture_store.objects.values()
    firehose, capture = profile_from_json(firehose_blob), profile_from_json(capture_blob)
    assert via_capture.quality == via_firehose.endpoints[0].quality == via_firehose.quality
    assert via_capture.quality["scored"] == len(answers) and via_capture.quality["skipped_records"] == 0
    toxicity, pii = capture.features["toxicity"], capture.features["pii"]
    assert isinstance(toxicity, NumericProfile) and isinstance(pii, CategoricalProfile)
    assert (toxicity.count, toxicity.missing) == (len(answers), 300 - len(answers))
    assert pii.counts() == {"true": float(len(answers) // 2), "false": float(len(answers) - len(answers) // 2)}
    assert {"toxicity", "toxic", "pii", "pii_types"} <= set(capture.features)
    assert_same(capture, firehose)


def test_data_capture_samples_a_line_by_the_key_the_record_path_gives_it() -> None:
    """Lines without an event id, with another id field, or not records at all: the data-capture path picks
    exactly the records whose ``sample_key(ref, file)`` is sampled, ref as ``parse_lines`` reads it."""
    from llmops_sentinel.domain.quality import QualityConfig, sample_key
    from llmops_sentinel.services.quality import new_budget, score_capture_lines

    capture = {
        "captureData": {
            "endpointOutput": {"data": '{"generated_text": "hi"}', "encoding": "JSON"},
            "endpointInput": {"data": '{"inputs": "q"}', "encoding": "JSON"},
        }
    }
    lines: list[bytes] = []
    for i in range(400):
        kind = i % 5
        if kind == 0:
            doc: Any = {**capture, "eventMetadata": {"eventId": f"evt-{i}"}}
        elif kind == 1:
            doc = {**capture, "eventMetadata": {"inferenceTime": "2024-05-01T10:00:00Z"}}  # no event id
        elif kind == 2:
            doc = {"id": i, "prompt": "q", "response": f"answer {i}"}  # a flat record, an int id
        elif kind == 3:
            doc = {**capture, "eventMetadata": {"eventId": ""}}
        else:
            lines.append(b"{not json" if i % 2 else b"")
            continue
        lines.append(orjson.dumps(doc))
    source = "s3://cap/c/ep/AllTraffic/2024/05/01/10/x.jsonl"
    rate = 0.3
    want = [r.ref for r in parse_lines(lines).records if is_sampled(sample_key(r.ref, source), rate)]
    assert len(want) > 50 and any(ref.startswith("#") for ref in want)

    picked: list[str] = []

    class Recorder:  # stands in for the adapter: the test asserts on what the sampler hands over
        def toxicity(self, segments: list[str], language: str) -> list[float]:
            return [0.0] * len(segments)

        def pii(self, text: str, language: str) -> list[Any]:
            return []

    config = QualityConfig(sample_rate=rate, toxicity=False)
    outcome, scored = score_capture_lines(lines, source, config, new_budget(config), Recorder())  # type: ignore[arg-type]
    picked = [rec.ref for rec in scored]
    assert picked == want and outcome.pii_calls == len(want)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("naïve,b\n".encode() + b"caf\xe9,1\n" * 50, "UTF-8"),
        (b"\xff\xfeh\x00i\x00", "binary"),  # UTF-16
        (b"a,b\n" + b"x" * (200 * 1024) + b",1\n", "KiB"),
        (b"PAR1 not really parquet", "Parquet"),
        (b'{"type": "endpoint_profile", "version": 1, "features": []}\n', "features"),
    ],
)
def test_unreadable_files_raise_typed_errors(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=what):
        profile_source(path)


def test_missing_file_and_directory_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="cannot read"):
        profile_source(tmp_path / "nope.csv")
    with pytest.raises(FileFormatError, match="cannot read"):
        profile_source(tmp_path)


def test_header_only_csv_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a,b,c\n")
    assert profile_source(path).profile.records_ok == 0


def test_table_profiler_counts_a_late_column_as_missing_before_it() -> None:
    t = TableProfiler()
    t.begin(3)
    t.add_numeric("a", np.array([1.0, 2.0, np.nan]))
    t.begin(2)
    t.add_numeric("a", np.array([3.0, 4.0]))
    t.add_counts("b", {"x": 2}, 0)
    t.begin(1)
    p = t.profile()
    a, b = p.features["a"], p.features["b"]
    assert isinstance(a, NumericProfile) and isinstance(b, CategoricalProfile)
    assert (p.records_ok, a.count, a.missing, a.mean) == (6, 4, 2, 2.5)
    assert (b.counts(), b.missing) == ({"x": 2.0}, 4)


def test_progress_line_reports_rate_and_eta() -> None:
    out = io.StringIO()
    line = ProgressLine("baseline f.csv", 1000, stream=out, every=0.0)
    line.start -= 2.0
    line(500, 250)
    text = out.getvalue()
    assert "500 rows" in text and "rows/s" in text and "25%" in text and "ETA" in text
    eta = float(text.split("ETA ")[1].split(" s")[0])
    assert 5.0 <= eta <= 7.0  # a quarter of the bytes in ~2 s: ~6 s to go
    line.finish(1000, 1000)
    assert out.getvalue().endswith("\n")


def test_cli_progress_goes_to_stderr_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], chat_lines: Callable[[int, int], list[bytes]]
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_bytes(b"\n".join(chat_lines(60, 1)) + b"\n")
    out = tmp_path / "b.json"
    assert main(["baseline", "build", "-i", str(data), "-o", str(out), "--json", "--progress"]) == 0
    captured = capsys.readouterr()
    assert orjson.loads(captured.out)["records_ok"] == 60  # stdout: the JSON alone
    assert "60 rows" in captured.err and "rows/s" in captured.err
    assert main(["drift", "check", "-b", str(out), "--current", str(data), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # stderr is not a terminal here and --progress was not given
    assert orjson.loads(captured.out)["drifted"] is False


def test_cli_builds_from_parquet_and_checks_csv_of_the_same_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    table = pa.table({"x": rng.normal(0, 1, 3000), "tier": rng.choice(["a", "b"], 3000)})
    pq.write_table(table, tmp_path / "ref.parquet")
    pacsv.write_csv(table, tmp_path / "same.csv")
    base = tmp_path / "b.json"
    assert main(["baseline", "build", "-i", str(tmp_path / "ref.parquet"), "-o", str(base)]) == 0
    report = tmp_path / "r.json"
    with report.open("w") as f, pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.stdout", f)
        assert main(["drift", "check", "-b", str(base), "--current", str(tmp_path / "same.csv"), "--json"]) == 0
    checked = orjson.loads(report.read_bytes())
    assert checked["drifted"] is False and {f["feature"] for f in checked["features"]} == {"x", "tier"}
    assert all(not f["drifted"] for f in checked["features"])


@pytest.mark.parametrize("column", ["label", "late"])  # text from the head on / text found in a later block
def test_csv_field_over_the_limit_is_a_format_error(
    tmp_path: Path, small_blocks: None, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    monkeypatch.setattr(readers, "MAX_FIELD_BYTES", 1024)
    rows = ["x,label,late"] + [f"{i},{'ab'[i % 2]},{i}" for i in range(300)]
    rows[250] = "1,a,n/a"  # late: numbers up to here, text from this block on
    at = 1 if column == "label" else 2
    cells = rows[260].split(",")
    cells[at] = "w" * 2048
    rows[260] = ",".join(cells)
    path = tmp_path / "t.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(FileFormatError, match=f"column {column}: a field of 2 KiB"):
        profile_source(path)


def _reference_blocks(data: bytes, has_header: bool, size: int) -> list[bytes]:
    """The blocks as the reader cut them before its buffer was reused: ``carry + read(size)`` each time."""
    out: list[bytes] = []
    carry, first, pos = b"", True, 0
    while True:
        chunk, pos = data[pos : pos + size], pos + size
        if first:
            first = False
            chunk = (chunk[3:] if chunk.startswith(b"\xef\xbb\xbf") else chunk).lstrip(b"\r\n")
            if has_header:
                end = readers._first_record_end(chunk)
                if end < 0:
                    return out
                chunk = chunk[end + 1 :]
        if not chunk:
            return [*out, carry] if carry.strip() else out
        buf = carry + chunk
        end = readers._record_end(buf)
        if end < 0:
            carry = buf
            continue
        out.append(buf[: end + 1])
        carry = buf[end + 1 :]


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf", b"\r\n\n"])
def test_csv_blocks_from_the_reused_buffer_are_the_file_cut_at_record_ends(prefix: bytes, small_blocks: None) -> None:
    rng = np.random.default_rng(5)
    rows = [b'x,"text"']
    for i in range(400):
        width = 5000 if i in (50, 51, 300) else int(rng.integers(0, 40))  # rows longer than a 2 KiB block
        text = b'"' + b"q\n" * (i % 3) + b'""' * (i % 2) + b"w" * width + b'"' if i % 4 else b"plain"
        rows.append(b"%d,%s" % (i, text))
    data = prefix + b"\n".join(rows) + b"\n"
    for has_header in (True, False):
        got = [bytes(b) for b in readers._csv_blocks(io.BytesIO(data), has_header, "t.csv")]
        want = _reference_blocks(data, has_header, readers.CSV_BLOCK_BYTES)
        assert got == want
        assert len(got) > 5 and max(map(len, got)) > 5000
        # every block ends a record: its quotes are even and it ends with a newline
        assert all(b.count(b'"') % 2 == 0 and b.endswith(b"\n") for b in got)


def test_arrow_copies_what_it_parses_so_the_block_buffer_can_be_reused() -> None:
    # the CSV reader hands Arrow views of one buffer it then overwrites: the tables must not point into it
    import pyarrow as pa
    from pyarrow import csv as pacsv

    buf = bytearray(b"".join(b'%d,"cat_%d",%d.5\n' % (i, i % 5, i) for i in range(2000)))
    convert = pacsv.ConvertOptions(column_types={"a": pa.string(), "b": pa.string(), "c": pa.float64()})
    table = pacsv.read_csv(
        pa.py_buffer(memoryview(buf)),
        convert_options=convert,
        read_options=pacsv.ReadOptions(column_names=["a", "b", "c"], use_threads=False),
    )
    before = table.to_pydict()
    buf[:] = b"#" * len(buf)
    assert table.to_pydict() == before

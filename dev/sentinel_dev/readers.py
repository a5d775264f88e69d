"""Streaming, columnar readers for data files (CLI side): CSV, JSON Lines and Parquet, local or ``s3://``.

Every reader folds a file chunk by chunk into the same mergeable :class:`EndpointProfile` the Firehose
processor and the data-capture profiler write, so memory is bounded by the chunk and the profile, not by
the file:

- CSV (pyarrow's streaming reader, every cell read as text, then cast per column): a plain table -- no
  column the record path reads as more than a column (``ingest.is_plain_table``) -- goes to
  :class:`~llmops_sentinel.domain.drift.ingest.TableProfiler` as column arrays. A column is numeric when
  every cell is a number (what ``float`` reads), else categorical; if a later chunk shows a numeric
  column to be categorical, the file is read again with that column categorical (kinds are decided per
  file, as the record path decides them). Other CSVs (LLM logs with ``prompt``/``latency_ms``... columns)
  go through the record path one chunk of rows at a time.
- JSON Lines (data capture, chat/TGI logs, flat objects): chunks of lines through
  :func:`~llmops_sentinel.domain.drift.ingest.profile_lines` (the Lambdas' columnar ingest), merged.
- Parquet (row group batches): numeric columns as float arrays, strings categorical, booleans boolean;
  tables with record keys go through the record path batch by batch.

A profile JSON, a Model Monitor ``statistics.json`` or a single JSON document (object or array) is read
whole, as before. Unreadable or malformed files raise :class:`FileFormatError` (a ``BadInputError``:
CLI exit 2), never a pyarrow or decoding error.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from llmops_sentinel.domain.drift.baseline import baseline_from_statistics, build_baseline, is_statistics_document
from llmops_sentinel.domain.drift.ingest import TableProfiler, cell_label, is_plain_table, profile_lines
from llmops_sentinel.domain.drift.profiles import (
    EndpointProfile,
    ProfileMismatchError,
    is_profile_document,
    merge_profiles,
    profile_batch,
    profile_from_dict,
)
from llmops_sentinel.domain.drift.records import MalformedRecordError, RecordError, parse_objects
from llmops_sentinel.errors import BadInputError

MAX_FIELD_BYTES = 128 * 1024  # a CSV field (or JSON line, x 128) larger than this is not inference data
MAX_LINE_BYTES = 128 * MAX_FIELD_BYTES
CSV_BLOCK_BYTES = 4 << 20  # pyarrow's CSV block: the unit of memory and of progress
CSV_PARSE_BYTES = 1 << 20  # the pieces of a block Arrow parses in parallel
JSONL_CHUNK_LINES = 20_000
PARQUET_BATCH_ROWS = 65_536
MAX_ERRORS_KEPT = 100  # per-record errors kept for the report; every one is counted
HEAD_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"


class FileFormatError(BadInputError):
    """A data file cannot be read as CSV, JSON Lines or Parquet (binary, not UTF-8, empty, malformed)."""


Progress = Callable[[int, int], None]  # (rows so far, bytes read so far)


class _Compute:
    """The Arrow compute kernels the readers call, by name through ``call_function``.

    ``pyarrow.compute`` generates a Python wrapper with a parsed docstring for each of its ~280 kernels
    when imported: ~80 ms of CPU in every ``sentinel`` process, as much as parsing 30k CSV rows. The
    wrappers call ``pyarrow._compute.call_function`` with the kernel's default options, as this does.
    """

    def __init__(self) -> None:
        import pyarrow as pa
        from pyarrow import _compute

        self._pa = pa
        self._call = _compute.call_function
        self._cast_options = _compute.CastOptions

    def cast(self, values: Any, target: Any) -> Any:
        return self._call("cast", [values], self._cast_options.safe(target))

    def fill_null(self, values: Any, fill: Any) -> Any:
        return self._call("coalesce", [values, self._pa.scalar(fill, type=values.type)])

    def equal(self, values: Any, other: Any) -> Any:
        return self._call("equal", [values, self._pa.scalar(other, type=values.type)])

    def if_else(self, cond: Any, left: Any, right: Any) -> Any:
        return self._call("if_else", [cond, left, right])

    def __getattr__(self, kernel: str) -> Callable[..., Any]:
        """One-argument kernels with default options: ``max``, ``sum``, ``unique``, ``value_counts``..."""
        call = self._call
        return lambda values: call(kernel, [values])


# ------------------------------------------------------------------------------------------------ sources


@dataclass
class Source:
    """A local file or an ``s3://bucket/key`` object, opened as often as a reader needs."""

    name: str
    size: int | None
    _open: Callable[[], IO[bytes]]
    _random_access: Callable[[], Any]

    def open(self) -> IO[bytes]:
        return self._open()

    def random_access(self) -> Any:
        return self._random_access()

    def head(self, n: int = HEAD_BYTES) -> bytes:
        with self.open() as f:
            return f.read(n)


class _S3RangeFile(io.RawIOBase):
    """A seekable read-only view of an S3 object by ranged GETs (what Parquet's footer-first reads need)."""

    def __init__(self, s3: Any, bucket: str, key: str, size: int) -> None:
        self._s3, self._bucket, self._key, self._size, self._pos = s3, bucket, key, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = min(len(view), self._size - self._pos)
        if n <= 0:
            return 0
        body = self._s3.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-{self._pos + n - 1}")
        data = body["Body"].read()
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"))


def open_source(path: str | Path, s3: Any | None = None) -> Source:
    """``path`` (a local path or ``s3://bucket/key``) -> a :class:`Source`; FileFormatError when unreadable."""
    text = str(path)
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        if not bucket or not key:
            raise FileFormatError(f"{text}: an S3 location is s3://bucket/key")
        client = s3 or _s3_client()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            size = int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
        except (ClientError, BotoCoreError) as exc:
            raise FileFormatError(f"{text}: cannot read ({exc})") from None

        def open_s3() -> IO[bytes]:
            body: IO[bytes] = client.get_object(Bucket=bucket, Key=key)["Body"]
            return body

        return Source(text, size, open_s3, lambda: _S3RangeFile(client, bucket, key, size))
    p = Path(text)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise IsADirectoryError(21, "not a file")
        with p.open("rb"):
            pass
    except OSError as exc:
        raise FileFormatError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return Source(text, size, lambda: p.open("rb"), lambda: str(p))


class _Counting(io.RawIOBase):
    """Counts the bytes read through it (progress: bytes read / file size)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """The inner stream's bytes as they are (no copy through a buffer: CSV blocks are 4 MiB)."""
        data = self._inner.read(size)
        self.count += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        """Into ``buffer``: straight from the inner stream when it can (a local file), else read and copy."""
        into = getattr(self._inner, "readinto", None)
        if into is not None:
            n = into(buffer) or 0
        else:
            data = self._inner.read(len(buffer))
            n = len(data)
            memoryview(buffer).cast("B")[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


# ------------------------------------------------------------------------------------------------ result


@dataclass
class FileProfile:
    """What one file gave: its profile, what it was, and the first per-record errors (all are counted)."""

    profile: EndpointProfile
    kind: str  # "profile" | "statistics" | "data"
    format: str  # "csv" | "jsonl" | "json" | "parquet" | "profile" | "statistics"
    errors: list[RecordError] = field(default_factory=list)


def _keep(errors: list[RecordError], more: list[RecordError]) -> None:
    room = MAX_ERRORS_KEPT - len(errors)
    if room > 0:
        errors.extend(more[:room])


def detect_format(source: Source, head: bytes) -> str:
    if source.name.lower().endswith((".parquet", ".pq")) or head[:4] == PARQUET_MAGIC:
        return "parquet"
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if not body.strip():
        raise FileFormatError(f"{source.name}: empty file (no usable record)")
    if b"\x00" in body:
        raise FileFormatError(f"{source.name}: binary data, not CSV, JSON Lines or Parquet")
    return "json" if body.lstrip()[:1] in (b"{", b"[") else "csv"


def profile_source(
    path: str | Path,
    *,
    features: list[str] | None = None,
    endpoint: str | None = None,
    progress: Progress | None = None,
    s3: Any | None = None,
) -> FileProfile:
    """One file (local or ``s3://``) -> its profile, streamed in chunks."""
    source = open_source(path, s3)
    head = source.head()
    fmt = detect_format(source, head)
    try:
        if fmt == "parquet":
            return _parquet(source, features, endpoint, progress)
        if fmt == "json":
            return _json(source, head, features, endpoint, progress)
        return _csv(source, head, features, endpoint, progress)
    except ProfileMismatchError as exc:
        raise FileFormatError(f"{source.name}: {exc}") from None
    except RecursionError:
        raise FileFormatError(f"{source.name}: nested too deep") from None


# ------------------------------------------------------------------------------------------------ JSON


def _lines(stream: IO[bytes], name: str) -> Iterator[bytes]:
    for line in stream:
        if len(line) > MAX_LINE_BYTES:
            raise FileFormatError(f"{name}: a line is over {MAX_LINE_BYTES >> 20} MiB")
        yield line


def _json(
    source: Source, head: bytes, features: list[str] | None, endpoint: str | None, progress: Progress | None
) -> FileProfile:
    first = head.split(b"\n", 1)[0]
    try:
        doc = orjson.loads(first)
    except orjson.JSONDecodeError:
        doc = None
    multi_line_doc = doc is None or not isinstance(doc, dict) or is_statistics_document(doc)
    if is_profile_document(doc) and b"\n" not in head.strip():
        return FileProfile(profile_from_dict(_read_all(source)), "profile", "profile")
    if multi_line_doc:
        whole = _read_all_bytes(source)
        try:
            full = orjson.loads(whole)
        except orjson.JSONDecodeError:
            full = None
        if full is not None:
            if is_profile_document(full):
                return FileProfile(profile_from_dict(full), "profile", "profile")
            if is_statistics_document(full):
                return FileProfile(baseline_from_statistics(full, endpoint), "statistics", "statistics")
            doc_profile, doc_errors = build_baseline([whole], features=features, endpoint=endpoint)
            return FileProfile(doc_profile, "data", "json", doc_errors[:MAX_ERRORS_KEPT])
    # JSON lines: chunks through the Lambdas' columnar ingest
    profile = EndpointProfile(endpoint=endpoint)
    errors: list[RecordError] = []
    with source.open() as raw:
        stream = _Counting(raw)
        buffered = io.BufferedReader(stream, 1 << 20)
        chunk: list[bytes] = []
        start = 0
        for line in _lines(buffered, source.name):
            chunk.append(line)
            if len(chunk) >= JSONL_CHUNK_LINES:
                profile = _fold_lines(profile, chunk, start, features, endpoint, errors)
                start += len(chunk)
                chunk = []
                if progress:
                    progress(profile.records_ok + profile.records_failed, stream.count)
        if chunk:
            profile = _fold_lines(profile, chunk, start, features, endpoint, errors)
    if progress:
        progress(profile.records_ok + profile.records_failed, stream.count)
    return FileProfile(profile, "data", "jsonl", errors)


def _fold_lines(
    profile: EndpointProfile,
    chunk: list[bytes],
    start: int,
    features: list[str] | None,
    endpoint: str | None,
    errors: list[RecordError],
) -> EndpointProfile:
    result = profile_lines(chunk, features=features, endpoint=endpoint, start=start)
    _keep(errors, result.errors)
    return merge_profiles(profile, result.profile) if profile.records_ok or profile.records_failed else result.profile


def _read_all_bytes(source: Source) -> bytes:
    with source.open() as f:
        return f.read()


def _read_all(source: Source) -> Any:
    try:
        return orjson.loads(_read_all_bytes(source))
    except orjson.JSONDecodeError as exc:
        raise FileFormatError(f"{source.name}: not JSON ({exc})") from None


# ------------------------------------------------------------------------------------------------ CSV


def _header(source: Source, head: bytes) -> tuple[list[str], bool]:
    """(column names, whether the first row is a header): ``records.parse_csv``'s rules."""
    import csv

    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    body = body.lstrip(b"\r\n")
    end = body.find(b"\n")
    if end < 0 and len(head) >= HEAD_BYTES:
        raise FileFormatError(f"{source.name}: the first line is over {HEAD_BYTES >> 10} KiB: not a CSV header")
    line = body if end < 0 else body[:end]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{source.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        cells = next(csv.reader([text.rstrip("\r")]), [])
    except csv.Error as exc:
        raise FileFormatError(f"{source.name}: bad CSV header ({exc})") from None
    if not cells:
        raise FileFormatError(f"{source.name}: empty file (no usable record)")
    numbers = True
    for cell in cells:
        try:
            float(cell)
        except ValueError:
            numbers = False
            break
    if numbers:
        return [f"_c{j}" for j in range(len(cells))], False
    return [c.strip() for c in cells], True


def _arrow_error(source: Source, exc: Exception) -> FileFormatError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "UTF8" in text or "utf8" in text.lower():
        return FileFormatError(f"{source.name}: not UTF-8 text ({text})")
    if "straddling" in text or "block size" in text.lower():
        return FileFormatError(f"{source.name}: a row is over {CSV_BLOCK_BYTES >> 20} MiB")
    return FileFormatError(f"{source.name}: malformed CSV ({text})")


def _csv(
    source: Source, head: bytes, features: list[str] | None, endpoint: str | None, progress: Progress | None
) -> FileProfile:
    names, has_header = _header(source, head)
    categorical: set[str] = set()
    while True:
        try:
            return _csv_pass(source, head, names, has_header, categorical, features, endpoint, progress)
        except _Recategorise as again:
            categorical |= again.columns


class _Recategorise(Exception):  # noqa: N818 -- control flow inside this module, never raised out of it
    def __init__(self, columns: set[str]) -> None:
        self.columns = columns


def _csv_pass(
    source: Source,
    head: bytes,
    names: list[str],
    has_header: bool,
    categorical: set[str],
    features: list[str] | None,
    endpoint: str | None,
    progress: Progress | None,
) -> FileProfile:
    import pyarrow as pa
    from pyarrow import csv as pacsv

    pc = _Compute()

    width = len(names)
    bad: list[RecordError] = []
    failed = [0]
    pending: list[Any] = []  # rows of the block being read that have the wrong number of fields

    def invalid(row: Any) -> str:
        pending.append((row.number, row.actual_columns))
        return "skip"

    def commit(offset: int) -> None:
        for number, fields in pending:
            failed[0] += 1
            if len(bad) < MAX_ERRORS_KEPT:
                where = offset + (number - 1 if number is not None else 0)
                bad.append(MalformedRecordError(f"#{where}", f"{fields} fields, header has {width}"))
        pending.clear()

    plain = is_plain_table(names)
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=invalid)
    as_text = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )

    def read_block(block: bytes | memoryview, convert: Any) -> Any:
        pending.clear()
        data = pa.py_buffer(block)
        if len(block) >= 2 * CSV_PARSE_BYTES:
            # Arrow parses the block's 1 MiB pieces on its threads; the table is the same as one piece's.
            # A row rejected there may come without its row number, and a row over 1 MiB does not fit a
            # piece: the block is then read again in one piece (exact row numbers, the same errors).
            options = pacsv.ReadOptions(column_names=names, block_size=CSV_PARSE_BYTES, use_threads=True)
            try:
                table = pacsv.read_csv(data, read_options=options, parse_options=parse, convert_options=convert)
            except pa.ArrowInvalid:
                table = None
            if table is not None and not pending:
                return table
            pending.clear()
        options = pacsv.ReadOptions(column_names=names, block_size=len(block) + 1, use_threads=False)
        return pacsv.read_csv(data, read_options=options, parse_options=parse, convert_options=convert)

    table = TableProfiler(features=features, endpoint=endpoint)
    record_profile = EndpointProfile(endpoint=endpoint)
    errors: list[RecordError] = []
    # column -> numeric so far; the columns the file's head already shows to be text start as text, so the
    # first block is parsed once (not as numbers, failing, then again as text)
    kinds: dict[str, bool] = _text_columns(head, names, has_header, as_text, pa, pc) if plain else {}
    with source.open() as raw:
        stream = _Counting(raw)
        try:
            for block in _csv_blocks(stream, has_header, source.name):
                batch = None
                if plain:  # columns numeric so far are read as numbers by Arrow; any cell it rejects: as text
                    numbers = [n for n in names if n not in categorical and kinds.get(n) is not False]
                    if numbers:
                        typed = pacsv.ConvertOptions(
                            column_types={n: pa.float64() if n in numbers else pa.string() for n in names},
                            strings_can_be_null=False,
                            quoted_strings_can_be_null=False,
                            null_values=[""],
                        )
                        try:
                            batch = read_block(block, typed)
                        except pa.ArrowInvalid:
                            batch = None
                if batch is None:
                    batch = read_block(block, as_text)
                commit(table.rows + failed[0])
                if plain:
                    _fold_csv_batch(batch, names, categorical, kinds, table, pa, pc)
                else:
                    record_profile = _fold_records(
                        record_profile, _csv_objects(batch, names, pc), table.rows, features, endpoint, errors
                    )
                    table.rows += batch.num_rows
                del batch, block
                if progress:
                    progress(table.rows, stream.count)
        except (pa.ArrowException, OSError) as exc:
            raise _arrow_error(source, exc) from None
    if progress:
        progress(table.rows, stream.count)
    errors = bad + errors
    if plain:
        table.failed = failed[0]
        return FileProfile(table.profile(), "data", "csv", errors[:MAX_ERRORS_KEPT])
    record_profile.records_failed += failed[0]
    return FileProfile(record_profile, "data", "csv", errors[:MAX_ERRORS_KEPT])


def _text_columns(head: bytes, names: list[str], has_header: bool, as_text: Any, pa: Any, pc: Any) -> dict[str, bool]:
    """``{column: False}`` for each column with a cell in the head's complete rows that is not a number.

    The head is a prefix of the first block (its rows are the block's first rows), and one cell that
    is not a number makes the whole column categorical, so this decides nothing the block would not:
    it only spares the typed read of the first block that would fail on those columns. A head that
    does not parse is left to the block reader (and its error).
    """
    from pyarrow import csv as pacsv

    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    body = body.lstrip(b"\r\n")
    if has_header:
        first = _first_record_end(body)
        body = body[first + 1 :] if first >= 0 else b""
    end = _record_end(body)
    if end < 0:
        return {}
    sample = body[: end + 1]
    options = pacsv.ReadOptions(column_names=names, block_size=len(sample) + 1, use_threads=False)
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda _row: "skip")
    try:
        batch = pacsv.read_csv(pa.py_buffer(sample), read_options=options, parse_options=parse, convert_options=as_text)
    except pa.ArrowException:
        return {}
    return {
        name: False
        for j, name in enumerate(names)
        if _as_numbers(pc.utf8_trim_whitespace(batch.column(j)), pa, pc) is None
    }


def _csv_blocks(stream: IO[bytes] | _Counting, has_header: bool, name: str) -> Iterator[bytes | memoryview]:
    """The file in blocks of about ``CSV_BLOCK_BYTES`` that end on a record boundary (not in a quoted field).

    A newline ends a record when the quotes before it are even in number (``""`` inside a quoted field
    is two). The header line, when there is one, is dropped; a UTF-8 BOM too. Each block is parsed on its
    own, so memory holds one block and its columns, whatever the file size.

    Each block is read into one reused buffer, after the unfinished record the previous block left
    (moved to the front), and handed out as a view of it: no allocation or copy per block (two fresh
    4 MiB ``bytes`` a block cost ~15 ms of page faults and copies per 31 MiB file). The caller is done
    with a view before asking for the next one (Arrow copies what it parses: tested).
    """
    size = CSV_BLOCK_BYTES
    buf = bytearray(size)
    carry = 0  # bytes at the front of ``buf``: the record the previous block left unfinished
    first = True
    while True:
        if len(buf) < carry + size:  # a record longer than a block: room for it and one block more
            grown = bytearray(carry + size)
            grown[:carry] = memoryview(buf)[:carry]
            buf = grown
        got = _fill(stream, memoryview(buf)[carry : carry + size])
        valid = carry + got
        start = 0  # where this round's records start in ``buf``
        if first:
            first = False
            start = 3 if buf.startswith(b"\xef\xbb\xbf", 0, valid) else 0
            start = _LEADING_NEWLINES.match(buf, start, valid).end()  # type: ignore[union-attr]
            if has_header:
                end = _first_record_end(buf, start, valid)
                if end < 0:
                    if valid - start >= size:
                        raise FileFormatError(f"{name}: the header is not a CSV line")
                    return  # a header and no row
                start = end + 1
        if valid == max(carry, start):  # nothing new: the end of the file
            if bytes(buf[:carry]).strip():
                tail = bytes(buf[:carry])
                yield tail
            return
        end = _record_end(buf, start, valid)
        if end < 0:
            if valid - start > MAX_LINE_BYTES:
                raise FileFormatError(f"{name}: a row is over {MAX_LINE_BYTES >> 20} MiB")
            buf[: valid - start] = buf[start:valid]
            carry = valid - start
            continue
        yield memoryview(buf)[start : end + 1]  # a view: no copy of the block (Arrow reads it in place)
        carry = valid - end - 1
        buf[:carry] = buf[end + 1 : valid]  # the unfinished record to the front (same size: no resize)


_LEADING_NEWLINES = re.compile(rb"[\r\n]*")


def _quotes(buf: bytes | bytearray, start: int, end: int) -> int:
    """``buf.count(b'"', start, end)``; numpy's compare-and-count for a block (~7x faster on 4 MiB)."""
    if end - start < 1 << 16:
        return buf.count(b'"', start, end)
    return int(np.count_nonzero(np.frombuffer(buf, np.uint8, count=end - start, offset=start) == ord('"')))


def _fill(stream: IO[bytes] | _Counting, view: memoryview) -> int:
    """Read into ``view`` until it is full or the stream ends (as ``read(len(view))`` would); bytes read."""
    done = 0
    while done < len(view):
        n = stream.readinto(view[done:])  # type: ignore[union-attr]
        if not n:
            break
        done += n
    return done


def _first_record_end(buf: bytes | bytearray, start: int = 0, stop: int | None = None) -> int:
    """Index of the first newline outside quotes in ``buf[start:stop]`` (-1 if none)."""
    stop = len(buf) if stop is None else stop
    end = buf.find(b"\n", start, stop)
    while end >= 0 and buf.count(b'"', start, end) % 2:
        end = buf.find(b"\n", end + 1, stop)
    return end


def _record_end(buf: bytes | bytearray, start: int = 0, stop: int | None = None) -> int:
    """Index of the last newline in ``buf[start:stop]`` outside quotes (-1 if none): quotes before it even."""
    stop = len(buf) if stop is None else stop
    end = buf.rfind(b"\n", start, stop)
    quotes = _quotes(buf, start, end) if end >= 0 else 0
    while end >= 0 and quotes % 2:
        prev = buf.rfind(b"\n", start, end)
        quotes -= buf.count(b'"', prev + 1 if prev >= 0 else start, end)
        end = prev
    return end


def _check_width(column: Any, name: str, pc: Any) -> None:
    longest = pc.max(pc.binary_length(column)).as_py()
    if longest is not None and longest > MAX_FIELD_BYTES:
        raise FileFormatError(
            f"column {name}: a field of {longest >> 10} KiB (the limit is {MAX_FIELD_BYTES >> 10} KiB)"
        )


def _fold_csv_batch(
    batch: Any, names: list[str], categorical: set[str], kinds: dict[str, bool], table: TableProfiler, pa: Any, pc: Any
) -> None:
    """One block of text columns -> numbers or label counts per column, then into the profiler."""
    n = batch.num_rows
    if n == 0:
        return
    numeric: dict[str, np.ndarray] = {}
    counted: dict[str, tuple[dict[str, int], int]] = {}
    switched: set[str] = set()
    for j, name in enumerate(names):
        column = batch.column(j)
        if pa.types.is_floating(column.type):  # Arrow read every cell as a number ("" -> null)
            numeric[name] = np.asarray(pc.fill_null(column, np.nan).to_numpy(), dtype=np.float64)
            kinds[name] = True
            continue
        if name in categorical or kinds.get(name) is False:  # text: counted by distinct value, not per cell
            counted[name] = _label_counts(column, name, pc)
            continue
        _check_width(column, name, pc)
        values = _as_numbers(pc.utf8_trim_whitespace(column), pa, pc)
        if values is not None:
            numeric[name] = values
            kinds[name] = True
            continue
        if kinds.get(name):  # numbers in an earlier block: the whole column is categorical
            switched.add(name)
            continue
        kinds[name] = False
        counted[name] = _label_counts(column, name, pc)
    if switched:
        raise _Recategorise(switched | {n for n, numeric_so_far in kinds.items() if not numeric_so_far})
    table.begin(n)
    for name, values in numeric.items():
        table.add_numeric(name, values)
    for name, (counts, missing) in counted.items():
        table.add_counts(name, counts, missing)


def _as_numbers(trimmed: Any, pa: Any, pc: Any) -> np.ndarray | None:
    """Trimmed text -> float64 (empty -> NaN) when every cell is a number ``float`` reads, else None."""
    empty = pc.equal(trimmed, "")
    nulled = pc.if_else(empty, pa.scalar(None, pa.string()), trimmed)
    try:
        values = pc.cast(nulled, pa.float64())
    except pa.ArrowInvalid:
        return _python_numbers(nulled, pc)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _python_numbers(nulled: Any, pc: Any) -> np.ndarray | None:
    """Cells Arrow does not read as numbers: ``float``'s reading decides (``1_000``, ``infinity``...)."""
    distinct = pc.unique(nulled).to_pylist()
    table: dict[str, float] = {}
    for text in distinct:
        if text is None:
            continue
        try:
            table[text] = float(text)
        except ValueError:
            return None
    return np.array([np.nan if t is None else table[t] for t in nulled.to_pylist()], dtype=np.float64)


def _label_counts(column: Any, name: str, pc: Any) -> tuple[dict[str, int], int]:
    """Label counts of a text column: its distinct cells counted, then each trimmed and labelled once.

    The same counts, in the same first-seen order, as trimming every cell first (a label is first seen
    where the first cell that trims to it is), for a dozen kernel calls on distinct values instead of
    one pass over the block's strings per step.
    """
    counts: dict[str, int] = {}
    missing = 0
    vc = pc.value_counts(column)
    distinct = vc.field(0)
    _check_width(distinct, name, pc)  # the longest distinct cell is the longest cell
    for text, count in zip(pc.utf8_trim_whitespace(distinct).to_pylist(), vc.field(1).to_pylist(), strict=True):
        _is_number, label = cell_label(text)
        if label is None:
            missing += count
        else:
            counts[label] = counts.get(label, 0) + count
    return counts, missing


def _csv_objects(batch: Any, names: list[str], pc: Any) -> list[dict[str, Any]]:
    """A block of a CSV with record keys -> flat objects as ``records.parse_csv`` builds them."""
    from llmops_sentinel.domain.drift.records import _scalar

    columns = [batch.column(j).to_pylist() for j in range(len(names))]
    for j, name in enumerate(names):
        _check_width(batch.column(j), name, pc)
    return [{h: _scalar(v) for h, v in zip(names, row, strict=True)} for row in zip(*columns, strict=True)]


def _fold_records(
    profile: EndpointProfile,
    objects: list[dict[str, Any]],
    start: int,
    features: list[str] | None,
    endpoint: str | None,
    errors: list[RecordError],
) -> EndpointProfile:
    result = parse_objects(objects, start)
    for rec in result.records:
        rec.source = "csv" if rec.source == "flat" else rec.source
    _keep(errors, result.errors)
    part = profile_batch(result, features=features, endpoint=endpoint)
    return merge_profiles(profile, part) if profile.records_ok or profile.records_failed else part


# ------------------------------------------------------------------------------------------------ Parquet


def _parquet(
    source: Source, features: list[str] | None, endpoint: str | None, progress: Progress | None
) -> FileProfile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pc = _Compute()

    try:
        # buffered column reads, no pre-buffering: memory holds a batch, not a row group (often the whole file)
        pf = pq.ParquetFile(source.random_access(), buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise FileFormatError(f"{source.name}: not a Parquet file ({str(exc).splitlines()[0]})") from None
    names = list(pf.schema_arrow.names)
    plain = is_plain_table(names)
    table = TableProfiler(features=features, endpoint=endpoint)
    profile = EndpointProfile(endpoint=endpoint)
    errors: list[RecordError] = []
    total_rows = pf.metadata.num_rows
    try:
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=False):
            if plain:
                _fold_parquet_batch(batch, table, pa, pc)
            else:
                profile = _fold_records(profile, batch.to_pylist(), table.rows, features, endpoint, errors)
                table.rows += batch.num_rows
            if progress:
                done = table.rows
                progress(done, int((source.size or 0) * done / total_rows) if total_rows else 0)
    except (pa.ArrowException, OSError) as exc:
        raise FileFormatError(f"{source.name}: unreadable Parquet ({str(exc).splitlines()[0]})") from None
    if plain:
        return FileProfile(table.profile(), "data", "parquet", [])
    return FileProfile(profile, "data", "parquet", errors)


def _fold_parquet_batch(batch: Any, table: TableProfiler, pa: Any, pc: Any) -> None:
    """Typed columns: numbers numeric, booleans boolean, text (and dates, times) categorical; nested: skipped."""
    table.begin(batch.num_rows)
    types = pa.types
    for name, raw in zip(batch.schema.names, batch.columns, strict=True):
        column = raw.dictionary_decode() if types.is_dictionary(raw.type) else raw
        kind = column.type
        if types.is_integer(kind) or types.is_floating(kind) or types.is_decimal(kind):
            values = pc.fill_null(pc.cast(column, pa.float64()), np.nan)
            table.add_numeric(name, np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64))
        elif types.is_boolean(kind):
            true = int(pc.sum(column).as_py() or 0)
            nulls = column.null_count
            flags = {"true": true, "false": len(column) - nulls - true}
            table.add_counts(name, {k: v for k, v in flags.items() if v}, nulls, kind="boolean")
        elif types.is_nested(kind) or types.is_binary(kind) or types.is_large_binary(kind):
            continue  # not a column of a flat record
        else:
            text = column if types.is_string(kind) or types.is_large_string(kind) else pc.cast(column, pa.string())
            _check_width(text, name, pc)
            vc = pc.value_counts(text)
            counts: dict[str, int] = {}
            missing = 0
            for value, count in zip(vc.field(0).to_pylist(), vc.field(1).to_pylist(), strict=True):
                if value is None:
                    missing += count
                else:
                    counts[value] = counts.get(value, 0) + count
            table.add_counts(name, counts, missing)


# ------------------------------------------------------------------------------------------------ progress


class ProgressLine:
    """``rows, rows/s, elapsed, ETA`` on stderr, redrawn at most every ``every`` seconds (a TTY's line)."""

    def __init__(self, label: str, total_bytes: int | None, stream: IO[str] | None = None, every: float = 0.5) -> None:
        self.label = label
        self.total = total_bytes
        self.stream = stream or sys.stderr
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self._drawn = False
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty())  # a terminal: one line redrawn; a log: one line per update

    def __call__(self, rows: int, done_bytes: int) -> None:
        now = time.monotonic()
        if now - self._last < self.every:
            return
        self._last = now
        text = self.text(rows, done_bytes, now)
        self.stream.write(f"\r{text}\x1b[K" if self._tty else f"{text}\n")
        self.stream.flush()
        self._drawn = self._tty

    def text(self, rows: int, done_bytes: int, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self.start, 1e-9)
        line = f"{self.label}: {rows:,} rows, {rows / elapsed:,.0f} rows/s, {elapsed:.1f} s"
        if self.total and 0 < done_bytes <= self.total:
            eta = elapsed * (self.total - done_bytes) / done_bytes
            line += f", {done_bytes / self.total:.0%}, ETA {eta:.0f} s"
        return line

    def finish(self, rows: int, done_bytes: int) -> None:
        """The final line (always written: progress was asked for)."""
        prefix = "\r" if self._drawn else ""
        self.stream.write(prefix + self.text(rows, done_bytes) + ("\x1b[K" if self._drawn else "") + "\n")
        self.stream.flush()

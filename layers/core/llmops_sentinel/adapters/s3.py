"""S3: the drift data bucket (KMS-encrypted): partial profiles, baselines, reports, data-capture files.

Key layout (all JSON documents carry ``"version"`` and ``"type"``):

| what | key |
| --- | --- |
| partial profile (per batch or capture file) | ``profiles/<endpoint>/<yyyy>/<mm>/<dd>/<HH>/<stamp>-<batch>.json`` |
| baseline profile (or a Model Monitor ``statistics.json``) | ``baselines/<endpoint>.json`` |
| drift report of one check | ``reports/<endpoint>/<yyyymmddTHHMMZ>.json`` (window end) |
| Firehose output: normalised feature rows (gzip) | ``firehose/<yyyy>/<MM>/<dd>/<HH>/...`` (named by Firehose) |
| Firehose records the processor failed | ``firehose-errors/processing-failed/<yyyy>/<MM>/<dd>/<HH>/...`` |
| SageMaker data capture | ``datacapture/<endpoint>/<variant>/<yyyy>/<mm>/<dd>/<HH>/<file>.jsonl`` |

``<stamp>`` is ``yyyymmddTHHMMSSZ``; ``<batch>`` the Firehose invocation id (or a hash of the record ids,
or of the capture object's key and ETag, so a redelivered capture event overwrites its own profile).

A profile's time is when its records reached the stack (Firehose arrival, or the data-capture object's
creation), written into its key, so a window's profiles are found by listing the hour prefixes it spans:
no object is read to decide whether it belongs to a window. Every ``PutObject`` asks for SSE-KMS with
the stack's key (the bucket default is the same key; asking explicitly fails loudly if it ever is not).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from llmops_sentinel.adapters.clients import LazyClient, raise_if_throttled

PROFILES = "profiles"
BASELINES = "baselines"
REPORTS = "reports"
_PROFILE_NAME = re.compile(r"^(\d{8}T\d{6}Z)-[A-Za-z0-9_.-]+\.json$")


def profile_key(endpoint: str, at: datetime, batch_id: str) -> str:
    at = at.astimezone(UTC)
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", batch_id)[:80]
    return f"{PROFILES}/{endpoint}/{at:%Y/%m/%d/%H}/{at:%Y%m%dT%H%M%SZ}-{safe}.json"


def profile_time(key: str) -> datetime | None:
    """The time written into a profile key (None for keys of another shape)."""
    match = _PROFILE_NAME.match(key.rsplit("/", 1)[-1])
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def hour_prefixes(endpoint: str, start: datetime, end: datetime) -> list[str]:
    """The hour prefixes of ``profiles/<endpoint>/`` that [start, end) touches."""
    hour = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    prefixes = []
    while hour < end:
        prefixes.append(f"{PROFILES}/{endpoint}/{hour:%Y/%m/%d/%H}/")
        hour += timedelta(hours=1)
    return prefixes


def baseline_key(endpoint: str) -> str:
    return f"{BASELINES}/{endpoint}.json"


def report_key(endpoint: str, window_end: datetime) -> str:
    return f"{REPORTS}/{endpoint}/{window_end.astimezone(UTC):%Y%m%dT%H%MZ}.json"


class DriftStore:
    """The data bucket, with SSE-KMS (the given key) on every write."""

    def __init__(self, bucket: str, kms_key_id: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self._s3 = s3

    s3 = LazyClient("s3")

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> str:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.kms_key_id,
        )
        return key

    def get(self, key: str, bucket: str | None = None) -> bytes:
        try:
            body: bytes = self.s3.get_object(Bucket=bucket or self.bucket, Key=key)["Body"].read()
        except ClientError as exc:  # SlowDown (503, per prefix) -> ThrottledError: the caller retries
            raise_if_throttled(exc, "S3")
            raise
        return body

    def get_optional(self, key: str) -> bytes | None:
        try:
            return self.get(key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise

    def put_profile(self, endpoint: str, at: datetime, batch_id: str, body: bytes) -> str:
        return self.put(profile_key(endpoint, at, batch_id), body)

    def profile_keys(self, endpoint: str, start: datetime, end: datetime) -> list[str]:
        """Keys of ``endpoint``'s partial profiles whose time is in [start, end), oldest first."""
        found: list[tuple[datetime, str]] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for prefix in hour_prefixes(endpoint, start, end):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    at = profile_time(item["Key"])
                    if at is not None and start <= at < end:
                        found.append((at, item["Key"]))
        return [key for _, key in sorted(found)]

    def baseline(self, endpoint: str) -> bytes | None:
        return self.get_optional(baseline_key(endpoint))

    def baseline_endpoints(self) -> set[str]:
        """Endpoints with a baseline (one ListObjectsV2 page per 1,000 baselines)."""
        found: set[str] = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{BASELINES}/"):
            for item in page.get("Contents", []):
                name = str(item["Key"])[len(BASELINES) + 1 :]
                if name.endswith(".json") and "/" not in name:
                    found.add(name[: -len(".json")])
        return found

    def put_baseline(self, endpoint: str, body: bytes) -> str:
        return self.put(baseline_key(endpoint), body)

    def put_report(self, endpoint: str, window_end: datetime, body: bytes) -> str:
        return self.put(report_key(endpoint, window_end), body)

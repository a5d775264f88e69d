"""Firehose delivery with a transformation Lambda, which moto's Firehose does not do (it never calls
its processor; it writes what it gets straight to S3).

:func:`put_records` plays one Firehose buffer flush of a delivery stream defined in template.yaml:

1. reads the stream's extended S3 destination from moto (``DescribeDeliveryStream``): bucket, ``Prefix``,
   ``ErrorOutputPrefix``, ``CompressionFormat``, KMS key, and the ``ProcessingConfiguration``'s Lambda ARN;
2. builds the transformation event as Firehose sends it (``invocationId``, ``deliveryStreamArn``,
   ``region``, ``records[{recordId, approximateArrivalTimestamp, data}]``, data base64);
3. invokes the processor through the local runtime (the real handler, its template environment; its
   EMF output becomes metrics like any local invocation);
4. checks the answer as Firehose does: every recordId back exactly once with ``Ok``, ``Dropped`` or
   ``ProcessingFailed`` (otherwise, or on a function error, the whole batch is failed:
   ``Lambda.FunctionError`` / ``Lambda.InvalidOutput``);
5. writes the ``Ok`` data, concatenated, as one object under ``Prefix`` (gzip when the stream says so),
   and each failed record as one JSON line under ``ErrorOutputPrefix`` with
   ``!{firehose:error-output-type}`` = ``processing-failed``, in Firehose's error-record shape
   (``attemptsMade``, ``arrivalTimestamp``, ``errorCode``, ``errorMessage``, ``attemptEndingTimestamp``,
   ``rawData``, ``lambdaArn``). Objects are written with SSE-KMS and the stream's key.

Not emulated: buffering by size/interval (one call = one processor invocation = one object), retries
(``NumberOfRetries``), record and response size limits, dynamic partitioning, Kinesis-stream sources.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from llmops_sentinel.errors import TemplateError

if TYPE_CHECKING:
    from sentinel_dev.local.cloud import LocalCloud
    from sentinel_dev.local.lambdas import Invocation

_JAVA_TOKENS = (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"))


@dataclass
class FirehoseDelivery:
    invocation: Invocation
    response: list[dict[str, Any]] = field(default_factory=list)
    ok: int = 0
    dropped: int = 0
    failed: int = 0
    ok_key: str | None = None
    error_key: str | None = None
    batch_error: str | None = None


def expand_prefix(prefix: str, at: datetime, error_type: str = "") -> str:
    """Firehose's custom-prefix expressions: ``!{timestamp:<java pattern>}``, ``!{firehose:...}``."""

    def timestamp(match: re.Match[str]) -> str:
        pattern = match.group(1)
        for java, strf in _JAVA_TOKENS:
            pattern = pattern.replace(java, strf)
        return at.strftime(pattern)

    out = re.sub(r"!\{timestamp:([^}]*)\}", timestamp, prefix)
    out = out.replace("!{firehose:error-output-type}", error_type)
    return out.replace("!{firehose:random-string}", uuid.uuid4().hex[:11])


def _destination(cloud: LocalCloud, stream: str) -> tuple[str, dict[str, Any]]:
    firehose = cloud.client("firehose")
    described = firehose.describe_delivery_stream(DeliveryStreamName=stream)["DeliveryStreamDescription"]
    for destination in described["Destinations"]:
        config = destination.get("ExtendedS3DestinationDescription")
        if config is not None:
            return str(described["DeliveryStreamARN"]), config
    raise TemplateError(f"delivery stream {stream} has no extended S3 destination")


def _processor_arn(config: dict[str, Any]) -> str:
    processing = config.get("ProcessingConfiguration") or {}
    if processing.get("Enabled") in (True, "true"):
        for processor in processing.get("Processors", []):
            if processor.get("Type") == "Lambda":
                for parameter in processor.get("Parameters", []):
                    if parameter.get("ParameterName") == "LambdaArn":
                        return str(parameter["ParameterValue"])
    raise TemplateError("the delivery stream has no Lambda processor")


def put_records(
    cloud: LocalCloud, stream_logical_id: str, records: Sequence[bytes | str], at: datetime | None = None
) -> FirehoseDelivery:
    """Deliver ``records`` (raw record data) through the stream's processor to its S3 destination."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    stream = cloud.stack.ref(stream_logical_id)
    stream_arn, config = _destination(cloud, stream)
    lambda_arn = _processor_arn(config)
    arrival = int(at.timestamp() * 1000)
    raw = [r.encode() if isinstance(r, str) else bytes(r) for r in records]
    sent: list[dict[str, Any]] = [
        {
            "recordId": f"{arrival}{i:06d}{uuid.uuid4().hex[:12]}",
            "approximateArrivalTimestamp": arrival,
            "data": base64.b64encode(data).decode(),
        }
        for i, data in enumerate(raw)
    ]
    event = {
        "invocationId": str(uuid.uuid4()),
        "deliveryStreamArn": stream_arn,
        "region": cloud.region,
        "records": sent,
    }
    invocation = cloud.runtime.invoke(lambda_arn, event, source=f"firehose:{stream}")
    delivery = FirehoseDelivery(invocation=invocation)
    by_id: dict[str, dict[str, Any]] = {str(r["recordId"]): r for r in sent}
    answered = (invocation.result or {}).get("records") if isinstance(invocation.result, dict) else None
    if not invocation.ok:
        delivery.batch_error = "Lambda.FunctionError"
    elif (
        not isinstance(answered, list)
        or sorted(str(r.get("recordId")) for r in answered) != sorted(by_id)
        or any(r.get("result") not in ("Ok", "Dropped", "ProcessingFailed") for r in answered)
    ):
        delivery.batch_error = "Lambda.InvalidOutput"
    delivery.response = answered if isinstance(answered, list) else []
    bucket = config["BucketARN"].split(":::", 1)[-1]
    kms = (config.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig", {}).get("AWSKMSKeyARN")
    errors: list[tuple[dict[str, Any], str, str]] = []
    ok_data = b""
    if delivery.batch_error:
        errors = [(r, delivery.batch_error, "The Lambda function failed or answered an invalid batch.") for r in sent]
    else:
        for answer in delivery.response:
            if answer["result"] == "Ok":
                delivery.ok += 1
                ok_data += base64.b64decode(answer.get("data", ""))
            elif answer["result"] == "Dropped":
                delivery.dropped += 1
            else:
                errors.append(
                    (
                        by_id[answer["recordId"]],
                        "Lambda.ProcessingFailed",
                        "The record was marked as failed by the Lambda function.",
                    )
                )
    delivery.failed = len(errors)
    name = f"{stream}-1-{at:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}"
    if ok_data:
        body = gzip.compress(ok_data) if config.get("CompressionFormat") == "GZIP" else ok_data
        suffix = ".gz" if config.get("CompressionFormat") == "GZIP" else ""
        key = expand_prefix(config.get("Prefix", ""), at) + name + suffix
        _put(cloud, bucket, key, body, kms)
        delivery.ok_key = key
    if errors:
        lines = [
            json.dumps(
                {
                    "attemptsMade": 1,
                    "arrivalTimestamp": record["approximateArrivalTimestamp"],
                    "errorCode": code,
                    "errorMessage": message,
                    "attemptEndingTimestamp": arrival,
                    "rawData": record["data"],
                    "lambdaArn": lambda_arn,
                }
            )
            for record, code, message in errors
        ]
        error_type = "processing-failed"
        key = expand_prefix(config.get("ErrorOutputPrefix") or config.get("Prefix", ""), at, error_type) + name
        _put(cloud, bucket, key, ("\n".join(lines) + "\n").encode(), kms)
        delivery.error_key = key
    return delivery


def _put(cloud: LocalCloud, bucket: str, key: str, body: bytes, kms_key: str | None) -> None:
    extra: dict[str, Any] = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
    cloud.client("s3").put_object(Bucket=bucket, Key=key, Body=body, **extra)

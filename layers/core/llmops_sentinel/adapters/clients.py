"""boto3 clients, created once per container and per endpoint.

The cache key includes ``AWS_ENDPOINT_URL`` so that code run against the local cloud never
reuses a client aimed elsewhere. Retries use botocore's standard mode; ``AWS_MAX_ATTEMPTS``
overrides the attempt count (the local cloud sets 1).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config


@cache
def _client(service: str, endpoint_url: str | None, region: str | None, attempts: int) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def client(service: str) -> Any:
    return _client(
        service,
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        int(os.environ.get("AWS_MAX_ATTEMPTS", "3")),
    )

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
from botocore.exceptions import ClientError

from llmops_sentinel.errors import ThrottledError


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


class LazyClient:
    """An adapter's boto3 client: the one injected at construction, else the cached one for the service.

    ``sm = LazyClient("sagemaker")`` on a class whose ``__init__`` sets ``self._sm`` (a client or None)
    replaces the hand-written ``@property`` each adapter used to repeat. The shared client is looked up
    on each access, so it follows ``AWS_ENDPOINT_URL``/region changes like :func:`client` does.
    """

    def __init__(self, service: str, attribute: str | None = None) -> None:
        self.service = service
        self.attribute = attribute

    def __set_name__(self, owner: type, name: str) -> None:
        if self.attribute is None:
            self.attribute = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        injected = getattr(instance, self.attribute or "", None)
        return injected if injected is not None else client(self.service)


#: Error codes AWS services use for throttling (each service spells it its own way).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    }
)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' when the response has none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def raise_if_throttled(exc: ClientError, what: str) -> None:
    """Re-raise a throttling ``ClientError`` as :class:`ThrottledError` (state machines retry on it)."""
    if error_code(exc) in THROTTLING_CODES:
        raise ThrottledError(f"{what} throttled: {exc}") from exc

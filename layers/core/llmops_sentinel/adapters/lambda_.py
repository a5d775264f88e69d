"""Lambda: synchronous invocation of another function of the stack (RequestResponse)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from llmops_sentinel.adapters.clients import LazyClient
from llmops_sentinel.errors import SentinelError


class InvocationFailedError(SentinelError):
    """The invoked function raised, timed out, or could not be reached."""


class FunctionInvoker:
    def __init__(self, lambda_client: Any | None = None) -> None:
        self._lambda = lambda_client

    lam = LazyClient("lambda", "_lambda")

    def call(self, function: str, payload: dict[str, Any]) -> Any:
        """Invoke ``function`` and return its decoded result; a function error raises."""
        try:
            response = self.lam.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
            )
        except (ClientError, BotoCoreError) as exc:
            raise InvocationFailedError(f"cannot invoke {function}: {exc}") from exc
        body = response["Payload"].read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError as exc:
            raise InvocationFailedError(f"{function} returned non-JSON: {body[:200]!r}") from exc
        if response.get("FunctionError"):
            kind = decoded.get("errorType", "?") if isinstance(decoded, dict) else "?"
            message = decoded.get("errorMessage", "") if isinstance(decoded, dict) else str(decoded)
            raise InvocationFailedError(f"{function} failed: {kind}: {message}")
        return decoded

"""Synchronous ``lambda:Invoke`` from inside a local Lambda runs in the caller's thread.

The router invokes the latency monitor with ``InvocationType=RequestResponse`` and waits for its
answer. Through moto's server the request would be served on another thread, where the runtime's
lock (held by the waiting caller, to keep ``os.environ`` per function) could never be taken: a
deadlock. AWS would run the callee in its own sandbox while the caller blocks; the closest in-process
equivalent is to run it inline, in the blocked caller's thread, which the runtime's re-entrant lock
allows and whose environment it saves and restores around the nested call.

This is a botocore ``before-call.lambda.Invoke`` handler on boto3's default session (every client
the handlers create through ``boto3.client``): for a function of the local stack and a
RequestResponse call it returns the handler's result in Lambda's response shape (``FunctionError:
Unhandled`` and ``{"errorType", "errorMessage"}`` for an error) without an HTTP request; anything
else continues to moto unchanged.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.response import StreamingBody

from sentinel_dev.local.lambdas import LambdaRuntime

INLINE_INVOKE_EVENT = "before-call.lambda.Invoke"


class _Http:
    status_code = 200
    headers: dict[str, str] = {}


class InlineInvoke:
    def __init__(self, runtime: LambdaRuntime) -> None:
        self._runtime: LambdaRuntime | None = runtime
        self._id = f"sentinel-inline-invoke-{uuid.uuid4()}"

    def install(self) -> None:
        handler: Any = self  # botocore types handlers as returning None; before-call ones may answer
        boto3._get_default_session().events.register(INLINE_INVOKE_EVENT, handler, unique_id=self._id)

    def uninstall(self) -> None:
        self._runtime = None  # clients created earlier keep a copy of the handler: make it inert
        boto3._get_default_session().events.unregister(INLINE_INVOKE_EVENT, unique_id=self._id)

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        runtime = self._runtime
        if runtime is None:
            return None
        headers = params.get("headers") or {}
        if headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            return None
        parts = str(params.get("url_path", "")).split("/")
        name = unquote(parts[3]) if len(parts) > 4 and parts[2] == "functions" else ""
        if not name or not runtime.has(name):
            return None
        body = params.get("body") or b"{}"
        raw = body.decode() if isinstance(body, bytes) else str(body)
        record = runtime.invoke(name, json.loads(raw) if raw.strip() else {}, source="lambda:Invoke (inline)")
        parsed: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        payload = json.dumps(record.result if record.ok else record.error_payload()).encode()
        if not record.ok:
            parsed["FunctionError"] = "Unhandled"
        parsed["Payload"] = StreamingBody(io.BytesIO(payload), len(payload))
        return _Http(), parsed

"""Run Lambda handlers in-process, the way template.yaml defines them.

A handler module is loaded from the function's ``CodeUri`` folder under a private module name
(one "container" per function and cloud, so module-level clients and caches behave like a warm
Lambda), with the function's environment applied around both the import and each call. The core
layer is the installed ``llmops_sentinel`` package, built from the same folder the layer's
``ContentUri`` names (checked by the template tests).

Output the handler prints (Powertools logs and EMF metrics) is kept per invocation, like a
CloudWatch log stream, instead of interleaving with the caller's output.

A failed asynchronous invocation (delivered by an EventBridge rule, ``source="rule:..."``) of a
function whose EventInvokeConfig names an on-failure SQS destination is sent there in Lambda's
on-failure record shape, so dead letters and ``sentinel redrive`` are exercised for real. Lambda's
own retries (MaximumRetryAttempts) are not repeated locally: one attempt, then the destination.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TextIO

from llmops_sentinel.errors import TemplateError
from sentinel_dev.local.environ import install_snapshot_environ
from sentinel_dev.local.provision import FunctionSpec


@dataclass
class LambdaContext:
    """The attributes Powertools and handlers read from the real context object."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    function: str
    request_id: str
    event: Any
    result: Any = None
    error_type: str | None = None
    error_message: str | None = None
    logs: str = ""
    duration_ms: float = 0.0
    source: str = "direct"

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def error_payload(self) -> dict[str, Any]:
        """The body Lambda returns for a function error (what Step Functions reads)."""
        return {"errorType": self.error_type, "errorMessage": self.error_message}


_INVOCATION = threading.local()
"""The running invocation's log buffer, per thread, shared by every runtime in the process: a logging
handler keeps the ``sys.stdout`` it saw first (Powertools' Logger is configured once per process), so a
later local cloud's invocations must still reach their own log through an earlier cloud's stream."""


class _ThreadRoutedStream(io.TextIOBase):
    """Stands in for ``sys.stdout``: writes from a thread inside an invocation go to its log."""

    def __init__(self, fallback: TextIO, local: threading.local) -> None:
        self._fallback = fallback
        self._local = local

    def write(self, text: str) -> int:
        buffer: io.StringIO | None = getattr(self._local, "buffer", None)
        if buffer is not None:
            return buffer.write(text)
        return self._fallback.write(text)

    def flush(self) -> None:
        if getattr(self._local, "buffer", None) is None:
            self._fallback.flush()


class LambdaRuntime:
    """Finds a function by name or ARN and runs its real handler."""

    def __init__(self, functions: dict[str, FunctionSpec], base_environment: dict[str, str]) -> None:
        self._functions = functions
        self._by_key: dict[str, FunctionSpec] = {}
        for spec in functions.values():
            for key in (spec.logical_id, spec.name, spec.arn):
                self._by_key[key] = spec
        self._base_env = base_environment
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        self._local = _INVOCATION
        self.invocations: list[Invocation] = []
        self._listeners: list[Callable[[Invocation], None]] = []
        self._stdout: TextIO | None = None
        install_snapshot_environ()  # other threads read the environment this runtime edits

    # -------------------------------------------------------------- lifecycle
    def install_output_capture(self) -> None:
        self._stdout = sys.stdout
        sys.stdout = _ThreadRoutedStream(sys.stdout, self._local)

    def remove_output_capture(self) -> None:
        if self._stdout is not None:
            sys.stdout = self._stdout
            self._stdout = None

    def on_invocation(self, listener: Callable[[Invocation], None]) -> None:
        self._listeners.append(listener)

    # -------------------------------------------------------------- lookup
    def spec(self, name_or_arn: str) -> FunctionSpec:
        key = name_or_arn
        if key.startswith("arn:") and key.count(":") > 6:  # qualified ARN: drop the alias/version
            key = ":".join(key.split(":")[:7])
        try:
            return self._by_key[key]
        except KeyError:
            raise TemplateError(f"no function {name_or_arn!r} in template.yaml") from None

    def has(self, name_or_arn: str) -> bool:
        try:
            self.spec(name_or_arn)
        except TemplateError:
            return False
        return True

    def update_environment(self, name_or_arn: str, values: dict[str, str]) -> None:
        """As ``UpdateFunctionConfiguration``: new environment values; the next invoke is a cold start."""
        spec = self.spec(name_or_arn)
        spec.environment.update(values)
        self._modules.pop(spec.logical_id, None)

    # -------------------------------------------------------------- invoke
    def invoke(self, name_or_arn: str, event: Any, *, source: str = "direct") -> Invocation:
        spec = self.spec(name_or_arn)
        context = LambdaContext(
            function_name=spec.name,
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_mb,
            timeout_s=spec.timeout,
            log_group_name=f"/aws/lambda/{spec.name}",
        )
        record = Invocation(function=spec.logical_id, request_id=context.aws_request_id, event=event, source=source)
        buffer = io.StringIO()
        if self._stdout is not None and not isinstance(sys.stdout, _ThreadRoutedStream):
            sys.stdout = _ThreadRoutedStream(sys.stdout, self._local)  # someone swapped stdout since (pytest)
        with self._lock, self._environment(spec), self._capture(buffer):
            started = time.perf_counter()
            context._deadline = time.monotonic() + spec.timeout
            try:
                handler = self._handler(spec)
                with warnings.catch_warnings(record=True) as caught:  # Lambda sends these to its log
                    warnings.simplefilter("default")
                    record.result = handler(_roundtrip(event), context)
                for item in caught:
                    buffer.write(f"{item.category.__name__}: {item.message}\n")
                _roundtrip(record.result)  # Lambda must serialise the result: fail the same way
            except Exception as exc:
                record.error_type = type(exc).__name__
                record.error_message = str(exc)
                buffer.write(traceback.format_exc())
            record.duration_ms = (time.perf_counter() - started) * 1000
        record.logs = buffer.getvalue()
        if not record.ok and source.startswith("rule:") and spec.on_failure:
            _send_on_failure(spec, record)
        self.invocations.append(record)
        for listener in self._listeners:
            listener(record)
        return record

    def _handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        module_path, _, attribute = spec.handler.rpartition(".")
        if not module_path:
            raise TemplateError(f"{spec.logical_id}: Handler {spec.handler!r} must be module.function")
        module = self._modules.get(spec.logical_id)
        if module is None:
            file = spec.code_dir.joinpath(*module_path.split(".")).with_suffix(".py")
            if not file.is_file():
                raise TemplateError(f"{spec.logical_id}: handler file {file} does not exist")
            name = f"_sentinel_local_{spec.logical_id}_{id(self):x}"
            module_spec = importlib.util.spec_from_file_location(name, file)
            if module_spec is None or module_spec.loader is None:
                raise TemplateError(f"{spec.logical_id}: cannot load {file}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module  # as an import would: pydantic resolves annotations through it
            module_spec.loader.exec_module(module)
            self._modules[spec.logical_id] = module
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise TemplateError(f"{spec.logical_id}: {spec.handler} is not a function")
        return handler  # type: ignore[no-any-return]

    @contextmanager
    def _environment(self, spec: FunctionSpec) -> Iterator[None]:
        wanted = {
            **self._base_env,
            **spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
        }
        # Removing the added keys afterwards is safe for other threads' whole-environment reads only
        # because os.environ is a SnapshotEnviron (sentinel_dev.local.environ).
        saved = {key: os.environ.get(key) for key in wanted}
        os.environ.update(wanted)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    @contextmanager
    def _capture(self, buffer: io.StringIO) -> Iterator[None]:
        previous = getattr(self._local, "buffer", None)
        self._local.buffer = buffer
        try:
            yield
        finally:
            self._local.buffer = previous


def local_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What every local Lambda sees besides its template environment (as ``sam local`` sets)."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_SAM_LOCAL": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _send_on_failure(spec: FunctionSpec, record: Invocation) -> None:
    """What Lambda puts on an on-failure SQS destination once an asynchronous invocation gave up."""
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, queue = str(spec.on_failure).split(":", 5)
    body = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": record.request_id,
            "functionArn": f"{spec.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1,
        },
        "requestPayload": record.event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": record.error_payload(),
    }
    sqs_backends[account][region].send_message(queue, json.dumps(body))


def _roundtrip(value: Any) -> Any:
    """What crossing the Lambda boundary does to a payload: JSON in, JSON out."""
    return json.loads(json.dumps(value))

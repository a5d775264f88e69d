"""LocalCloud: moto's server + template.yaml's resources + the adapters moto lacks.

with LocalCloud(parameters={"VerifyWaitSeconds": "1"}) as cloud:
    cloud.client("sagemaker").create_endpoint(...)
    cloud.alarms.evaluate(at=now)          # alarm -> EventBridge -> router -> state machine
    cloud.wait_for_execution(arn)

One moto server serves the process: a cloud that stops resets moto's (process-global) backends and its
config but leaves the server running for the next cloud (a test suite starts ~150 clouds; a server start
and stop is ~0.6 s of each).

Provisioning runs once per template, parameters, stack name and region in a process: the moto state it
created is snapshotted (``snapshot.py``: every backend, whatever the template holds) and the next cloud
with the same key restores a fresh copy of it (~10 ms instead of ~250 API calls). Every start is still a
stack as just provisioned, with no data from an earlier cloud. What ``_start`` does after ``provision``
runs on every start, restored or not. The parsed template and the boto3 clients on the server's
port are kept between clouds too.
"""

from __future__ import annotations

import atexit
import copy
import json
import logging
import os
import socket
import sys
import threading
import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import requests
from botocore.config import Config

from llmops_sentinel.errors import SentinelError, TemplateError
from sentinel_dev.local import autoscaling as local_autoscaling
from sentinel_dev.local import cloudwatch as local_cloudwatch
from sentinel_dev.local import events as event_delivery
from sentinel_dev.local import kms as local_kms
from sentinel_dev.local import sagemaker as local_sagemaker
from sentinel_dev.local import snapshot as moto_snapshot
from sentinel_dev.local import stepfunctions as local_stepfunctions
from sentinel_dev.local.alarms import AlarmEvaluator
from sentinel_dev.local.clock import SimulatedClock, stamp_entries
from sentinel_dev.local.emf import EmfExtractor
from sentinel_dev.local.invoke import INLINE_INVOKE_EVENT, InlineInvoke
from sentinel_dev.local.lambdas import Invocation, LambdaRuntime, local_environment
from sentinel_dev.local.provision import Stack, StackContext, provision
from sentinel_dev.local.template import SourceTemplate, find_template, load_template, translate_cached

DEFAULT_STACK = "sentinel"
SDK_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS")
"""Function environment keys botocore reads at client creation (see ``_start``)."""
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
_ONE_CLOUD = threading.Lock()
_SHARED: dict[str, Any] = {}  # the process's moto server and its port, kept between clouds
_TEMPLATES: dict[tuple[Path, int, int], SourceTemplate] = {}  # parsed template.yaml by path, mtime, size
_PROVISIONED: dict[tuple[Any, ...], tuple[Stack, moto_snapshot.Snapshot]] = {}  # see the module docstring
_CLIENTS: dict[tuple[str, str, str], Any] = {}  # boto3 clients on the shared server, by service, URL, region


def _source(path: Path) -> SourceTemplate:
    """template.yaml parsed once per content on disk (parsing is ~0.5 s; an edit changes mtime or size)."""
    stat = path.resolve().stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = load_template(path)
    return _TEMPLATES[key]


def _shared_server() -> tuple[Any, int]:
    """The process's moto server, started on first use and stopped at interpreter exit."""
    from moto.server import ThreadedMotoServer

    if "server" not in _SHARED:
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        _SHARED.update(server=server, port=port)
        atexit.register(_stop_shared_server)
    return _SHARED["server"], int(_SHARED["port"])


def _stop_shared_server() -> None:
    server = _SHARED.pop("server", None)
    _SHARED.pop("port", None)
    if server is not None:
        server.stop()


@dataclass
class Delivered:
    rule: str
    target: str
    detail_type: str
    outcome: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCloud:
    """One moto server with one stack from template.yaml. One at a time per process."""

    def __init__(
        self,
        template: Path | None = None,
        parameters: dict[str, str] | None = None,
        stack_name: str = DEFAULT_STACK,
        region: str = DEFAULT_REGION,
        capture_output: bool = True,
    ) -> None:
        self.template_path = template or find_template()
        self.parameters = dict(parameters or {})
        self.stack_name = stack_name
        self.region = region
        self.account_id = ACCOUNT_ID
        self._capture_output = capture_output
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._clients: dict[str, Any] = {}
        self.deliveries: list[Delivered] = []
        self._pending: list[tuple[str, dict[str, Any], str]] = []
        self.port = 0
        self._stack: Stack | None = None
        self._runtime: LambdaRuntime | None = None
        self._alarms: AlarmEvaluator | None = None
        self._inline: InlineInvoke | None = None
        self._patches = ExitStack()  # what this cloud changed in moto for its lifetime, undone at stop
        self.clock = SimulatedClock()
        """``with cloud.clock.at(moment):`` bus events put without a Time carry simulated time (clock.py)."""

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not _ONE_CLOUD.acquire(blocking=False):
            raise SentinelError("a LocalCloud is already running in this process")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        source = _source(self.template_path)
        self._server, self.port = _shared_server()
        _install_process_hooks()  # before any client is made: a client copies the session's hooks when made
        self._patches.enter_context(local_sagemaker.api_instance_types())
        sdk = local_environment(self.endpoint_url, self.region)
        self._set_env(
            {
                "MOTO_PORT": str(self.port),  # moto's Step Functions interpreter calls back on this port
                "AWS_DEFAULT_REGION": self.region,
                # What botocore reads when any thread makes a client, set for the cloud's life: a key the
                # runtime set only around an invocation was deleted at its end, and botocore's
                # EnvironmentProvider (`if name in env: return env[name]`) then raised KeyError in a
                # client being made at that moment on another thread (moto's ASL interpreter: a task
                # failed with States.Runtime, cause 'AWS_ENDPOINT_URL', under load).
                **{key: sdk[key] for key in SDK_ENVIRONMENT},
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per API call otherwise
        # moto's ASL interpreter logs every failed execution with its parse tree; the execution
        # history (get_execution_history) carries the same facts in AWS's shape.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        response = requests.post(
            f"{self.endpoint_url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}},
            timeout=60,  # a bound for a hung server, not a speed expectation (the machine may be loaded)
        )
        response.raise_for_status()
        context = StackContext(
            stack_name=self.stack_name,
            region=self.region,
            account_id=self.account_id,
            clients=self.client,
            source=source,
        )
        local_stepfunctions.install()  # before the state machines are created: parse cache
        local_kms.install()  # before provisioning: symmetric keys make their unused RSA key on first use
        local_autoscaling.install()  # before provisioning: the deploy-time fleet sync tags scalable targets
        self._stack = self._provision(source, context)
        self._runtime = LambdaRuntime(self._stack.functions, self.function_environment())
        if self._capture_output:
            self._runtime.install_output_capture()
        self._runtime.on_invocation(EmfExtractor(self.client("cloudwatch")))
        self._runtime.on_invocation(self._deliver_pending)
        self._marker: str | None = _mark_calls(self._runtime)
        self._patch_lambda_invoke(self._runtime)
        local_sagemaker.install()
        local_cloudwatch.install()
        self._inline = InlineInvoke(self._runtime)
        _RUNNING["inline"] = self._inline  # called by the process hook (see _install_process_hooks)
        _RUNNING["cloud"] = self
        event_delivery.install(self._deliver)
        alarm_names = [
            self._stack.ref(lid) for lid, kind in self._stack.resource_types.items() if kind == "AWS::CloudWatch::Alarm"
        ]
        self._alarms = AlarmEvaluator(
            cloudwatch=self.client("cloudwatch"),
            events=self.client("events"),
            datapoints=self._metric_datapoints,
            alarm_names=alarm_names,
            managed_prefix=f"{self.stack_name}-",  # the fleet tracker's alarms, listed at evaluate time
            region=self.region,
            account_id=self.account_id,
        )

    def _provision(self, source: SourceTemplate, context: StackContext) -> Stack:
        """The stack from template.yaml: restored from this process's snapshot of the same provisioning,
        else provisioned (and snapshotted when moto's state allows it)."""
        key = (
            json.dumps(source.raw, sort_keys=True, default=str),
            tuple(sorted(self.parameters.items())),
            self.stack_name,
            self.region,
            self.account_id,
        )
        cached = _PROVISIONED.get(key)
        if cached is not None:
            stack, state = cached
            moto_snapshot.restore(state)
            return copy.deepcopy(stack)
        stack = provision(translate_cached(source, self.region), context, self.parameters)
        try:
            _PROVISIONED[key] = (copy.deepcopy(stack), moto_snapshot.take())
        except moto_snapshot.SnapshotError as exc:
            warnings.warn(f"local cloud: provisioning is not cached ({exc})", RuntimeWarning, stacklevel=2)
        return stack

    def stop(self) -> None:
        if self._server is not None:
            # First let this cloud's executions end while its runtime, hooks and routing still serve them:
            # an execution thread outliving the cloud would make its next call into the next cloud.
            self._stop_running_executions()
            self._join_execution_threads()
            self._wait_for_invocations()
        if _RUNNING.get("cloud") is self:
            _RUNNING.pop("cloud")
        event_delivery.uninstall()
        if getattr(self, "_marker", None) is not None:
            _RUNNING.pop("lock", None)
            self._marker = None
        if self._inline is not None:
            _RUNNING.pop("inline", None)
            self._inline = None
        self._unpatch_lambda_invoke()
        self._patches.close()
        if self._runtime is not None:
            self._runtime.remove_output_capture()
        if self._server is not None:
            # moto's backends and config are process-global: leave none of this cloud behind.
            for path, body in (
                ("/moto-api/reset", None),
                (
                    "/moto-api/config",
                    {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": True}},
                ),
            ):
                requests.post(f"{self.endpoint_url}{path}", json=body, timeout=60)
            self._server = None  # the server stays up for the next cloud (see the module docstring)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._clients.clear()
        if _ONE_CLOUD.locked():
            _ONE_CLOUD.release()

    def _stop_running_executions(self) -> None:
        """Executions still running would go on calling the next cloud on this server: stop them first."""
        if self._stack is None:
            return
        sfn = self.client("stepfunctions")
        for lid, kind in self._stack.resource_types.items():
            if kind != "AWS::StepFunctions::StateMachine":
                continue
            try:
                running = sfn.list_executions(stateMachineArn=self._stack.ref(lid), statusFilter="RUNNING")
                for execution in running["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="local cloud stopped")
            except Exception:  # best effort on the way down: the reset follows anyway
                continue

    def _join_execution_threads(self, timeout_s: float = 120.0) -> None:
        """A stopped execution finishes the task it is in (a Lambda, an SDK call through the server) and
        only then sees that it was stopped. Its thread is joined, not timed: under load the task can take
        any time, and a late call would land in the next cloud (same server, same resource names), e.g.
        an audit write or a Lambda invoke. ``timeout_s`` only bounds a thread that hangs (then warned).
        moto keeps every interpreter thread in ``TMP_THREADS``; a ``waitForTaskToken`` listener is left
        alone: it makes no call, and it waits for its token's timeout (the execution has ended anyway)."""
        from moto.stepfunctions.parser.utils import TMP_THREADS

        _interrupt_task_token_waits(TMP_THREADS)
        deadline = time.monotonic() + timeout_s
        for thread in list(TMP_THREADS):
            if thread is threading.current_thread() or thread.name.startswith("WaitForTaskToken"):
                continue
            thread.join(max(0.0, deadline - time.monotonic()))
        TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        hung = [t.name for t in TMP_THREADS if not t.name.startswith("WaitForTaskToken")]

        if hung:
            warnings.warn(f"local cloud: execution threads still running at stop: {hung}", RuntimeWarning, stacklevel=3)

    def _wait_for_invocations(self, timeout_s: float = 10.0) -> None:
        """A Lambda still running on one of moto's threads (not an execution's: invoked through the server)
        would write into the next cloud's backends (same server, same names). Wait for it (bounded)."""
        if self._runtime is None:
            return
        lock: Any = self._runtime._lock
        if lock.acquire(timeout=timeout_s):
            lock.release()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    # ----------------------------------------------------------------- access
    @property
    def stack(self) -> Stack:
        if self._stack is None:
            raise SentinelError("the local cloud is not started")
        return self._stack

    @property
    def runtime(self) -> LambdaRuntime:
        if self._runtime is None:
            raise SentinelError("the local cloud is not started")
        return self._runtime

    @property
    def alarms(self) -> AlarmEvaluator:
        if self._alarms is None:
            raise SentinelError("the local cloud is not started")
        return self._alarms

    def client(self, service: str) -> Any:
        """A boto3 client on the local cloud (one attempt: a moto 500 should fail fast, not retry)."""
        if service not in self._clients:
            key = (service, self.endpoint_url, self.region)
            if key not in _CLIENTS:  # made once per server: a client holds no state of a cloud
                _CLIENTS[key] = self.new_client(service)
            self._clients[service] = _CLIENTS[key]
        return self._clients[service]

    def new_client(self, service: str) -> Any:
        """An uncached client on the local cloud (a client copies the session's event hooks when it is
        made, so a hook installed later, e.g. a call counter, sees only clients made after it)."""
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def backend(self, service: str) -> Any:
        """moto's backend of ``service`` for this cloud's account (and region; IAM's is per partition).

        The moto server runs in this process, so a test that needs many resources can create them here
        (~0.1 ms each) instead of with one API call each (~40 ms on a loaded 2-core machine). Only for
        seeding a fleet: what the code under test reads and writes still goes through the API."""
        if self._stack is None:
            raise SentinelError("the local cloud is not started")
        from moto.backends import get_backend

        return get_backend(service)[self.account_id]["aws" if service == "iam" else self.region]  # type: ignore[call-overload]

    def function_environment(self) -> dict[str, str]:
        """What every local Lambda sees besides its template environment (as ``sam local`` sets)."""
        return local_environment(self.endpoint_url, self.region)

    # ----------------------------------------------------------------- actions
    def invoke(self, function: str, event: Any) -> Invocation:
        """Run a function's handler (by logical id, name or ARN) like ``sam local invoke``."""
        return self.runtime.invoke(function, event)

    def put_event(
        self,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        bus: str = "default",
        resources: list[str] | None = None,
    ) -> None:
        response = self.client("events").put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": bus,
                    "Resources": resources or [],
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise SentinelError(f"PutEvents failed: {response['Entries']}")

    def firehose_put(self, stream_logical_id: str, records: list[bytes | str], at: Any = None) -> Any:
        """One Firehose flush through the stream's processor to S3 (moto's Firehose skips the processor)."""
        from sentinel_dev.local.firehose import put_records

        return put_records(self, stream_logical_id, records, at)

    def wait_for_execution(self, execution_arn: str, timeout_s: float = 60.0) -> dict[str, Any]:
        """The execution once it is no longer RUNNING. Polls with a growing interval (50 ms to 0.5 s): a
        poll is an HTTP call into the same process, and polling a long execution every 50 ms took CPU
        and the GIL from the interpreter threads it waits for (a third of a 1,000-resource scan)."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout_s
        interval = 0.05
        while True:
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise SentinelError(
                    f"execution {execution_arn} still RUNNING after {timeout_s:.0f} s; its last events:\n"
                    + self.describe_history(execution_arn)
                )
            time.sleep(interval)
            interval = min(interval * 1.5, 0.5)

    def describe_history(self, execution_arn: str, last: int = 12) -> str:
        """The last events of an execution, one line each (state, type, error and cause, output): what a
        failed test prints so that a CI failure can be read without re-running it."""
        events = self.execution_history(execution_arn)
        failures = [e for e in events[:-last] if e["type"].endswith(("Failed", "TimedOut", "Aborted"))]
        lines = []
        for event in failures[-3:] + events[-last:]:  # the error that sent it to a Catch, then the end
            details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
            facts = {k: details[k] for k in ("name", "resource", "error", "cause", "output") if k in details}
            text = " ".join(f"{k}={str(v)[: 1000 if k == 'cause' else 200]}" for k, v in facts.items())
            lines.append(f"  #{event['id']} {event['type']} {text}".rstrip())
        return "\n".join(lines)

    def failure_report(self, last: int = 12) -> str:
        """Every execution of the stack's state machines that did not succeed, with its last events."""
        sfn = self.client("stepfunctions")
        parts = []
        for lid, kind in self.stack.resource_types.items():
            if kind != "AWS::StepFunctions::StateMachine":
                continue
            for execution in sfn.list_executions(stateMachineArn=self.stack.ref(lid))["executions"]:
                if execution["status"] == "SUCCEEDED":
                    continue
                arn = execution["executionArn"]
                parts.append(f"{lid} {execution['status']} {arn}\n{self.describe_history(arn, last)}")
        return "\n".join(parts)

    def executions(self, state_machine_logical_id: str) -> list[dict[str, Any]]:
        arn = self.stack.ref(state_machine_logical_id)
        listed: list[dict[str, Any]] = self.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]
        return listed

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        history: list[dict[str, Any]] = self.client("stepfunctions").get_execution_history(executionArn=execution_arn)[
            "events"
        ]
        return history

    def sns_messages(self, topic_arn: str) -> list[str]:
        from moto.sns.models import sns_backends

        topic = sns_backends[self.account_id][self.region].topics.get(topic_arn)
        if topic is None:
            raise TemplateError(f"no topic {topic_arn}")
        return [str(entry[1]) for entry in topic.sent_notifications]

    # ----------------------------------------------------------------- internals
    def _metric_datapoints(self) -> list[Any]:
        from moto.cloudwatch.models import cloudwatch_backends

        points: list[Any] = cloudwatch_backends[self.account_id][self.region].get_all_metrics()
        return points

    def _deliver(self, target_arn: str, event: dict[str, Any], rule: str) -> str:
        """Deliver now, or -- when the API call that caused this event (PutEvents, or an S3 write that
        notifies EventBridge) came from a running local function, which holds the runtime while it
        waits -- right after that invocation returns, as AWS delivers: asynchronously. Delivering now
        would deadlock on the runtime's lock. Such calls carry ``MARK_HEADER`` (see ``_mark_calls``)."""
        if _from_invocation():
            self._pending.append((target_arn, event, rule))
            return "queued"
        return self._deliver_now(target_arn, event, rule)

    def _deliver_pending(self, _invocation: Invocation) -> None:
        while self._pending:
            self._deliver_now(*self._pending.pop(0))

    def _deliver_now(self, target_arn: str, event: dict[str, Any], rule: str) -> str:
        detail_type = str(event.get("detail-type", "")) if isinstance(event, dict) else ""
        if ":lambda:" in target_arn:
            record = self.runtime.invoke(target_arn, event, source=f"rule:{rule}")
            outcome = "ok" if record.ok else f"{record.error_type}: {record.error_message}"
        else:
            started = self.client("stepfunctions").start_execution(stateMachineArn=target_arn, input=json.dumps(event))
            outcome = started["executionArn"]
        self.deliveries.append(Delivered(rule=rule, target=target_arn, detail_type=detail_type, outcome=outcome))
        return outcome

    def _patch_lambda_invoke(self, runtime: LambdaRuntime) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        original = LambdaSimpleBackend.invoke

        def invoke(
            backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
        ) -> str | bytes | None:
            if not runtime.has(function_name):
                return original(backend, function_name, qualifier, body, headers, response_headers)
            raw = body.decode() if isinstance(body, bytes) else body
            record = runtime.invoke(function_name, json.loads(raw) if raw else {}, source="lambda:Invoke")
            if not record.ok:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(record.error_payload()).encode()
            return json.dumps(record.result).encode()

        self._original_invoke: Any = original
        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]

    def _unpatch_lambda_invoke(self) -> None:
        original = getattr(self, "_original_invoke", None)
        if original is not None:
            from moto.awslambda_simple.models import LambdaSimpleBackend

            LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]
            self._original_invoke = None


MARK_HEADER = "X-Sentinel-Local-Invocation"
_HOOK_ID = "sentinel-local-cloud"
_RUNNING: dict[str, Any] = {}  # the running "cloud", its "lock" (its runtime's) and "inline" (its InlineInvoke)


def running_cloud() -> LocalCloud | None:
    """The process's running local cloud, if any (the test suite reports its executions on a failure)."""
    cloud: LocalCloud | None = _RUNNING.get("cloud")
    return cloud


def _mark(params: dict[str, Any], **_: Any) -> None:
    lock = _RUNNING.get("lock")
    if lock is not None and lock._is_owned():
        params.setdefault("headers", {})[MARK_HEADER] = "1"


def _inline_invoke(params: dict[str, Any], **kwargs: Any) -> Any:
    inline = _RUNNING.get("inline")
    return None if inline is None else inline(params, **kwargs)


def _stamp_put_events(params: dict[str, Any], **_: Any) -> None:
    cloud: LocalCloud | None = _RUNNING.get("cloud")
    stamp_entries(params, cloud.clock if cloud is not None else None)


def _install_process_hooks() -> None:
    """The local cloud's botocore hooks, registered once on boto3's default session for every cloud.

    A client copies the session's hooks when it is made, and clients outlive clouds (``_CLIENTS`` here,
    ``llmops_sentinel.adapters.clients`` in the handlers): a hook registered per cloud would stay, inert,
    in the clients made during the first cloud, and the next cloud's synchronous ``lambda:Invoke`` from a
    handler would go through moto's server to a runtime whose lock the caller holds (a deadlock until
    botocore's read timeout). So each hook looks up the running cloud when it is called.
    """
    events = boto3._get_default_session().events
    events.register("before-call", _mark, unique_id=f"{_HOOK_ID}-mark")
    events.register(INLINE_INVOKE_EVENT, _inline_invoke, unique_id=f"{_HOOK_ID}-inline-invoke")
    events.register(
        "before-parameter-build.eventbridge.PutEvents", _stamp_put_events, unique_id=f"{_HOOK_ID}-event-time"
    )


def _mark_calls(runtime: LambdaRuntime) -> str:
    """Tag every AWS call a running local function makes (its thread holds the runtime's lock)."""
    _RUNNING["lock"] = runtime._lock
    return f"{_HOOK_ID}-mark"


def _from_invocation() -> bool:
    """Inside moto's server: does the request being served come from a running local function?"""
    from flask import has_request_context, request

    return bool(has_request_context() and request.headers.get(MARK_HEADER))


def _interrupt_task_token_waits(threads: list[threading.Thread]) -> None:
    """A stopped execution parked on a ``waitForTaskToken`` task (an approval) would sit out the token's
    timeout (minutes) before it noticed the stop. moto's own ``CallbackEndpoint.interrupt_all`` wakes it:
    the wait returns no outcome, the stopped execution ends without another call. Found through the
    waiting threads' frames (moto keeps no index of the endpoints an execution waits on)."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint

    frames = sys._current_frames()
    for thread in threads:
        frame = frames.get(thread.ident) if thread.ident is not None else None
        while frame is not None:
            endpoint = frame.f_locals.get("self") if frame.f_code.co_name == "wait" else None
            if isinstance(endpoint, CallbackEndpoint):
                endpoint.interrupt_all()
                break
            frame = frame.f_back

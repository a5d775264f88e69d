"""CloudFormation custom resources at provision: the request CloudFormation sends, the reply it waits for.

For a ``Custom::*`` resource CloudFormation invokes the ``ServiceToken`` function with a Create request
(``RequestType``, ``ResponseURL``, ``StackId``, ``RequestId``, ``ResourceType``, ``LogicalResourceId``,
``ResourceProperties``) and waits for the function to PUT its response to the presigned ``ResponseURL``;
a ``FAILED`` reply fails the stack. Locally the ``ResponseURL`` is a one-request HTTP server on
127.0.0.1 (the tracker accepts a local host only when ``AWS_SAM_LOCAL=true``), the function runs in its
own in-process runtime with the same environment the cloud's runtime gives it, and a ``FAILED`` reply,
no reply or a function error is a :class:`TemplateError`: provisioning fails, as the stack would.

This runs inside :func:`~sentinel_dev.local.provision.provision`, so whatever the resource creates
(alarms, tags, registry items) is part of the stack as provisioned.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llmops_sentinel.errors import TemplateError
from sentinel_dev.local.provision import Created, StackContext


class _Replies:
    """PUT bodies received (the function replies before it returns: urlopen waits for the response)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []


def _server(replies: _Replies) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                replies.bodies.append(json.loads(raw))
                self.send_response(200)
            except ValueError:
                replies.bodies.append({"Status": "FAILED", "Reason": f"reply is not JSON: {raw[:200]!r}"})
                self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def create(ctx: StackContext, logical_id: str, resource_type: str, props: dict[str, Any]) -> Created:
    """Send the Create request to the resource's ServiceToken function; its reply decides."""
    from sentinel_dev.local.lambdas import LambdaRuntime, local_environment

    token = str(props.get("ServiceToken", ""))
    spec = next((f for f in ctx.functions if f.arn == token), None)
    if spec is None:
        raise TemplateError(f"{logical_id}: ServiceToken {token!r} is not a function of this template")
    replies = _Replies()
    server = _server(replies)
    thread = threading.Thread(target=server.serve_forever, name=f"cfn-response-{logical_id}", daemon=True)
    thread.start()
    request_id = str(uuid.uuid4())
    try:
        port = server.server_address[1]
        request = {
            "RequestType": "Create",
            "ServiceToken": token,
            "ResponseURL": f"http://127.0.0.1:{port}/cloudformation-response/{request_id}?X-Amz-Signature=local",
            "StackId": ctx.arn("cloudformation", f"stack/{ctx.stack_name}/local"),
            "RequestId": request_id,
            "ResourceType": resource_type,
            "LogicalResourceId": logical_id,
            "ResourceProperties": props,
        }
        endpoint_url = str(ctx.clients("lambda").meta.endpoint_url)
        runtime = LambdaRuntime({spec.logical_id: spec}, local_environment(endpoint_url, ctx.region))
        runtime.install_output_capture()  # the function's log stays in its Invocation, as in CloudWatch Logs
        try:
            invocation = runtime.invoke(spec.arn, request, source="cloudformation")
        finally:
            runtime.remove_output_capture()
    finally:
        server.shutdown()
        server.server_close()
    if not replies.bodies:
        why = f"{invocation.error_type}: {invocation.error_message}" if not invocation.ok else "no reply"
        raise TemplateError(f"{logical_id} ({resource_type}): {why}; CloudFormation would fail the stack")
    reply = replies.bodies[-1]
    if reply.get("Status") != "SUCCESS" or reply.get("RequestId") != request_id:
        raise TemplateError(f"{logical_id} ({resource_type}) replied {reply.get('Status')}: {reply.get('Reason')}")
    data = reply.get("Data") or {}
    return Created(
        ref=str(reply.get("PhysicalResourceId") or logical_id),
        attributes={str(k): v for k, v in data.items()} if isinstance(data, dict) else {},
    )

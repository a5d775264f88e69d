"""``sentinel redrive --queue QUEUE [--dry-run]``: replay dead letters to the target they missed.

Two kinds of dead letter reach the stack's queues (docs/OPERATIONS.md):

* EventBridge rule-target dead letters (``EventDeliveryDeadLetterQueue``): the body is the event,
  the ``TARGET_ARN`` message attribute names the target (a Lambda function or a state machine).
* Lambda on-failure records (``AsyncInvokeFailureQueue``): the body carries
  ``requestContext.functionArn`` and the original ``requestPayload``.

Each message is replayed to its target (Lambda: a synchronous ``Invoke``, so the outcome is known;
Step Functions: ``StartExecution``) and deleted only when the replay succeeded. A message that fails
again, or that names no target this command can replay, stays in the queue (visible again at once).
``--dry-run`` lists what would be replayed and changes nothing. Exit 0 when every message was
replayed (or would be), 1 when some stayed, 2 on bad input (no such queue, no credentials).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from llmops_sentinel.errors import BadInputError

_RECEIVE_BATCH = 10
_HIDE_SECONDS = 120  # long enough to replay one batch; every message we keep is made visible again


@dataclass(frozen=True)
class DeadLetter:
    """One queue message, classified: which target it missed and what to send it."""

    message_id: str
    receipt: str
    kind: str  # "rule-target" | "lambda-on-failure" | "unknown"
    target_arn: str | None
    payload: Any
    why: str = ""


def register(sub: Any) -> None:
    parser = sub.add_parser("redrive", help="replay dead letters (rule targets, Lambda on-failure) to their target")
    parser.add_argument("--queue", required=True, help="dead-letter queue URL, ARN or name")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed; change nothing")
    parser.add_argument("--max", type=int, default=100, help="replay at most this many messages (default 100)")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    parser.set_defaults(func=run)


def classify(message: dict[str, Any]) -> DeadLetter:
    """What an SQS message from one of the stack's dead-letter queues asks to replay, and where."""
    message_id, receipt = str(message.get("MessageId", "")), str(message.get("ReceiptHandle", ""))
    attributes = message.get("MessageAttributes") or {}
    try:
        body: Any = json.loads(message.get("Body") or "")
    except ValueError:
        return DeadLetter(message_id, receipt, "unknown", None, None, "body is not JSON")
    target = (attributes.get("TARGET_ARN") or {}).get("StringValue")
    if target:
        return DeadLetter(message_id, receipt, "rule-target", str(target), body)
    context = body.get("requestContext") if isinstance(body, dict) else None
    if isinstance(context, dict) and context.get("functionArn") and "requestPayload" in body:
        return DeadLetter(message_id, receipt, "lambda-on-failure", str(context["functionArn"]), body["requestPayload"])
    return DeadLetter(
        message_id, receipt, "unknown", None, body, "neither a TARGET_ARN attribute nor an on-failure record"
    )


def replay(letter: DeadLetter, clients: Any) -> str | None:
    """Send the payload to its target; None on success, else why it failed."""
    arn = letter.target_arn or ""
    parts = arn.split(":")
    service = parts[2] if len(parts) > 5 else ""
    try:
        if service == "lambda" and parts[5] == "function":
            args: dict[str, Any] = {"FunctionName": ":".join(parts[:7]), "Payload": json.dumps(letter.payload).encode()}
            if len(parts) > 7:
                args["Qualifier"] = parts[7]
            response = clients("lambda").invoke(InvocationType="RequestResponse", **args)
            if response.get("FunctionError"):
                detail = response["Payload"].read().decode("utf-8", "replace")[:300]
                return f"function error again: {detail}"
            return None
        if service == "states" and parts[5] == "stateMachine":
            clients("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps(letter.payload))
            return None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'ClientError')}: {error.get('Message', exc)}"
    return f"cannot replay to {arn or 'an unknown target'} (Lambda functions and state machines only)"


def queue_url(queue: str, clients: Any) -> str:
    if queue.startswith(("https://", "http://")):
        return queue
    args: dict[str, str] = {"QueueName": queue}
    if queue.startswith("arn:"):
        parts = queue.split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            raise BadInputError(f"--queue {queue!r} is not an SQS queue ARN")
        args = {"QueueName": parts[5], "QueueOwnerAWSAccountId": parts[4]}
    return str(clients("sqs").get_queue_url(**args)["QueueUrl"])


def run(args: argparse.Namespace) -> int:
    from llmops_sentinel.adapters.clients import client
    from sentinel_dev.cli.output import emit_json

    if args.max < 1:
        raise BadInputError("--max must be at least 1")
    try:
        results = _redrive(args.queue, args.dry_run, args.max, client)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise BadInputError(f"queue {args.queue!r}: {error.get('Code')}: {error.get('Message', exc)}") from exc
    except BotoCoreError as exc:
        raise BadInputError(f"queue {args.queue!r}: {exc}") from exc
    kept = [r for r in results if r["outcome"] in ("failed", "skipped")]
    if args.json:
        emit_json({"queue": args.queue, "dry_run": args.dry_run, "messages": results, "kept": len(kept)})
    else:
        for r in results:
            line = f"{r['outcome']:13} {r['kind']:17} {r['target'] or '-'}  ({r['message_id']})"
            sys.stdout.write(line + (f": {r['why']}" if r["why"] else "") + "\n")
        done = len(results) - len(kept)
        verb = "would replay" if args.dry_run else "replayed"
        sys.stdout.write(f"{verb} {done} of {len(results)} dead letters; {len(kept)} kept in the queue\n")
    return 1 if kept else 0


def _redrive(queue: str, dry_run: bool, limit: int, clients: Any) -> list[dict[str, Any]]:
    sqs = clients("sqs")
    url = queue_url(queue, clients)
    results: list[dict[str, Any]] = []
    keep: list[str] = []
    seen: set[str] = set()
    try:
        while len(results) < limit:
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(_RECEIVE_BATCH, limit - len(results)),
                MessageAttributeNames=["All"],
                VisibilityTimeout=_HIDE_SECONDS,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [m for m in batch if m.get("MessageId") not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(str(message.get("MessageId")))
                letter = classify(message)
                why = letter.why
                if letter.kind == "unknown":
                    outcome = "skipped"
                elif dry_run:
                    outcome = "would-replay"
                else:
                    why = replay(letter, clients) or ""
                    outcome = "failed" if why else "replayed"
                if outcome == "replayed":
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt)
                else:
                    keep.append(letter.receipt)
                results.append(
                    {
                        "message_id": letter.message_id,
                        "kind": letter.kind,
                        "target": letter.target_arn,
                        "outcome": outcome,
                        "why": why,
                    }
                )
    finally:
        for receipt in keep:  # what stays is visible again now, not after the hiding timeout
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return results

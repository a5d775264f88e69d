"""``sentinel history --endpoint NAME``: the audit trail of remediation decisions for an endpoint.

Reads the stack's Sentinel table (``--table``, else ``$SENTINEL_TABLE_NAME``, else the
``SentinelTableName`` output of ``--stack``) with the caller's AWS credentials.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from llmops_sentinel.errors import BadInputError


def register(sub: Any) -> None:
    parser = sub.add_parser("history", help="remediation decisions for an endpoint, newest first")
    parser.add_argument("--endpoint", required=True, help="SageMaker endpoint name")
    parser.add_argument("--table", help="Sentinel DynamoDB table (default: $SENTINEL_TABLE_NAME or --stack output)")
    parser.add_argument("--stack", default="sentinel", help="stack whose SentinelTableName output to use")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def table_name(args: argparse.Namespace) -> str:
    if args.table:
        return str(args.table)
    if os.environ.get("SENTINEL_TABLE_NAME"):
        return os.environ["SENTINEL_TABLE_NAME"]
    from llmops_sentinel.adapters.clients import client

    try:
        stacks = client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise BadInputError(f"no --table given and stack {args.stack!r} cannot be read: {exc}") from exc
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "SentinelTableName":
            return str(output["OutputValue"])
    raise BadInputError(f"stack {args.stack!r} has no SentinelTableName output")


def run(args: argparse.Namespace) -> int:
    from llmops_sentinel.adapters.dynamodb import SentinelTable
    from sentinel_dev.cli.output import emit_json

    if args.limit < 1:
        raise BadInputError("--limit must be at least 1")
    name = table_name(args)
    try:
        records = SentinelTable(name).history(args.endpoint, limit=args.limit)
    except ClientError as exc:
        raise BadInputError(f"cannot read table {name!r}: {exc.response.get('Error', {}).get('Message', exc)}") from exc
    if args.json:
        emit_json([r.model_dump(mode="json", exclude_none=True) for r in records])
        return 0
    if not records:
        sys.stdout.write(f"no remediation decisions recorded for {args.endpoint}\n")
        return 0
    sys.stdout.write(f"{'occurred (UTC)':24} {'signal':19} {'action':11} {'outcome':12} {'workflow':19} reason\n")
    for r in records:
        status = r.status or ("-" if not r.execution_arn else "RUNNING")
        deliveries = f" (x{r.deliveries})" if r.deliveries > 1 else ""
        sys.stdout.write(
            f"{r.occurred_at[:23]:24} {r.signal:19} {r.action:11} {r.outcome + deliveries:12} {status:19} {r.reason}\n"
        )
    return 0

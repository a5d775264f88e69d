"""``sentinel report``: one self-contained HTML page (charts, cost, findings, audit trail)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from llmops_sentinel.errors import BadInputError

EPILOG = """\
examples:
  # the demo on the local cloud, then its report (no AWS account needed)
  sentinel report --demo --output build/report.html

  # a deployed stack: the last 24 hours of every endpoint (your AWS credentials)
  sentinel report --stack sentinel --output report.html

  # one endpoint, a week, your own prices; the model as JSON instead of HTML
  sentinel report --stack sentinel --endpoint my-llm --hours 168 --prices my-prices.yaml --json

The page needs no network to open: inline SVG, CSS and a few lines of JavaScript.
Check it in a real browser: python -m sentinel_dev.report.browser report.html --screenshot report.png
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="write one self-contained HTML report (drift, latency, instances, cost, findings, audit trail)",
        description="Write one self-contained HTML report of what the stack saw, decided and did.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--demo", action="store_true", help="run the demo on the local cloud and report on it")
    where.add_argument("--stack", help="a deployed stack: its SentinelTableName and DataBucketName outputs")
    parser.add_argument("--table", help="Sentinel table (instead of the stack's output)")
    parser.add_argument("--bucket", help="data bucket (instead of the stack's output)")
    parser.add_argument("--endpoint", action="append", default=None, help="endpoint to show (repeat; default: all)")
    parser.add_argument("--hours", type=float, default=24.0, help="period ending now (default: 24)")
    parser.add_argument("--prices", type=Path, default=None, help="price book YAML (default: packaged prices.yaml)")
    parser.add_argument("--output", "-o", type=Path, default=Path("sentinel-report.html"), help="HTML file to write")
    parser.add_argument("--json", action="store_true", help="print the report's content as JSON (no HTML)")
    parser.set_defaults(func=run)


def _stack_outputs(stack: str) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    from llmops_sentinel.adapters.clients import client

    try:
        described = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except (ClientError, BotoCoreError) as exc:
        raise BadInputError(f"stack {stack!r} cannot be read: {exc}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def run(args: argparse.Namespace) -> int:
    from llmops_sentinel.domain.cost import load_price_book
    from sentinel_dev.cli.output import emit_json

    if args.hours <= 0:
        raise BadInputError("--hours must be positive")
    book = load_price_book(args.prices)
    if args.demo:
        from sentinel_dev.local.demo import run_demo

        sys.stderr.write("running the demo on the local cloud (about 10-20 s)...\n")
        demo = run_demo(echo=None, report_path=None if args.json else args.output, prices=book, keep_model=args.json)
        if args.json:
            emit_json(demo.report_model or {})
        else:
            sys.stdout.write(f"report: {demo.report_path}\n")
        return 0 if demo.ok else 1
    from sentinel_dev.report.gather import Clients, Deployment, gather
    from sentinel_dev.report.local import write_report

    if not args.stack and not (args.table and args.bucket):
        raise BadInputError("say where to read: --demo, --stack NAME, or --table and --bucket")

    outputs = _stack_outputs(args.stack) if not (args.table and args.bucket) else {}
    table = args.table or outputs.get("SentinelTableName")
    bucket = args.bucket or outputs.get("DataBucketName")
    if not table or not bucket:
        raise BadInputError(
            f"stack {args.stack!r} has no SentinelTableName/DataBucketName output; pass --table and --bucket"
        )
    import boto3

    region = boto3.session.Session().region_name or "us-east-1"
    now = time.time()
    model = gather(
        Deployment(table=table, bucket=bucket, region=region, source=f"stack {args.stack or table} in {region}"),
        Clients.default(),
        now - args.hours * 3600,
        now,
        endpoints=args.endpoint,
        book=book,
        now=now,
    )
    if args.json:
        emit_json(model)
        return 0
    sys.stdout.write(f"report: {write_report(model, args.output)}\n")
    return 0

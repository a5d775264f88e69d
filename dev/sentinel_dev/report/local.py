"""The report of a running local cloud (what ``sentinel demo --report`` and ``sentinel report --demo`` write)."""

from __future__ import annotations

from pathlib import Path

from llmops_sentinel.domain.cost import PriceBook
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.report.gather import Clients, Deployment, gather
from sentinel_dev.report.model import ReportModel
from sentinel_dev.report.render import render_html


def cloud_report(
    cloud: LocalCloud, start: float, end: float, book: PriceBook | None, now: float | None = None
) -> ReportModel:
    """The report of ``cloud`` over [start, end]; ``now``: the run's present (a simulated run's end; default
    the wall clock), which dates the current instance counts that no recorded change explains."""
    deployment = Deployment(
        table=cloud.stack.ref("SentinelTable"),
        bucket=cloud.stack.ref("DataBucket"),
        region=cloud.region,
        source=f"local cloud (moto), stack {cloud.stack.name} in {cloud.region}",
    )
    names = ("s3", "dynamodb", "cloudwatch", "sagemaker", "securityhub", "stepfunctions")
    clients = Clients(*(cloud.client(name) for name in names))
    return gather(
        deployment,
        clients,
        start,
        end,
        book=book,
        now=now,
        notes=["Demo data: simulated traffic on a local cloud; nothing here ran on AWS."],
    )


def write_report(report: ReportModel, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path

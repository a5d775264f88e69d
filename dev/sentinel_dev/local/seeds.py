"""History a sample event needs before its function can show what it does (``sentinel invoke --seed-history``).

A fresh local cloud has no metrics, no baseline and no traffic, so the latency monitor's confirm answers
``insufficient-history`` and the drift detector ``no-data``. A seeder puts, for the event's endpoint and
time, what a deployed stack would have accumulated: the same helpers the demo scenes use.

- ``LatencyMonitorFunction``: 150 min of ModelLatency/Invocations (~0.8 s), a deployment (new endpoint
  config, InService), then latency x3 until the event's ``state_timestamp`` -> ``confirmed``, cause
  ``deployment``;
- ``DriftDetectorFunction``: a baseline (2,000 normal records) and one Firehose flush of drifted traffic
  (longer prompts, shorter answers, more refusals) inside the window that ends at the event's ``at``
  -> ``drift``, a report in S3 and ``Model Drift Detected`` on the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from llmops_sentinel.errors import BadInputError
from sentinel_dev.local.cloud import LocalCloud

Seeder = Callable[[LocalCloud, dict[str, Any], np.random.Generator], str]


def _time(value: Any, field: str) -> datetime:
    try:
        text = str(value).replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 -> +00:00
            text = f"{text[:-2]}:{text[-2:]}"
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInputError(f"--seed-history: the event's {field} {value!r} is not an ISO time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def seed_latency(cloud: LocalCloud, event: dict[str, Any], rng: np.random.Generator) -> str:
    from sentinel_dev.local.demo import create_endpoint
    from sentinel_dev.local.scenes.latency import deploy, endpoint_in_service, minute_start, publish_traffic

    endpoint = str(event.get("endpoint_name") or "demo-llm-endpoint")
    variant = str(event.get("variant_name") or "AllTraffic")
    until = minute_start(_time(event.get("state_timestamp"), "state_timestamp"))
    regression, baseline = 6, 150
    onset = until - timedelta(minutes=regression)
    start = onset - timedelta(minutes=baseline)
    create_endpoint(cloud, endpoint)
    v1, v2 = f"{endpoint}-config-v1", f"{endpoint}-config-v2"
    endpoint_in_service(cloud, v1, start - timedelta(days=1), endpoint=endpoint)
    publish_traffic(cloud, start, baseline, rng, endpoint=endpoint, variant=variant)
    deploy(cloud, v2, endpoint=endpoint)
    endpoint_in_service(cloud, v2, onset - timedelta(minutes=2), endpoint=endpoint)
    publish_traffic(cloud, onset, regression, rng, latency_factor=3.0, endpoint=endpoint, variant=variant)
    return (
        f"{endpoint}/{variant}: {baseline} min of ModelLatency ~0.8 s from {start:%H:%M}, {v2} InService at "
        f"{onset - timedelta(minutes=2):%H:%M}, then {regression} min at x3 until {until:%H:%M}"
    )


def seed_drift(cloud: LocalCloud, event: dict[str, Any], rng: np.random.Generator) -> str:
    from llmops_sentinel.domain.drift.baseline import build_baseline
    from llmops_sentinel.domain.drift.profiles import profile_to_json
    from sentinel_dev.local import traffic

    at = _time(event.get("at") or event.get("time"), "at")
    endpoints = event.get("endpoints") or [cloud.parameters.get("EndpointName", "demo-llm-endpoint")]
    bucket = cloud.stack.ref("DataBucket")
    for endpoint in endpoints:
        baseline, _ = build_baseline(
            [b"\n".join(traffic.records(rng, 2000, at - timedelta(days=7)))],
            endpoint=str(endpoint),
            features=["llm", "columns"],
            rng=rng,
        )
        cloud.client("s3").put_object(Bucket=bucket, Key=f"baselines/{endpoint}.json", Body=profile_to_json(baseline))
    delivered = cloud.firehose_put(
        "InferenceDeliveryStream",
        list(traffic.records(rng, 400, at - timedelta(minutes=9), traffic.DRIFTED)),
        at=at - timedelta(minutes=9),
    )
    return (
        f"baseline of {', '.join(map(str, endpoints))} (2,000 normal records) in s3://{bucket}/baselines/; "
        f"{delivered.ok} drifted records through Firehose at {at - timedelta(minutes=9):%H:%M}"
    )


SEEDERS: dict[str, Seeder] = {
    "LatencyMonitorFunction": seed_latency,
    "DriftDetectorFunction": seed_drift,
}

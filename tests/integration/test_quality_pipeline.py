"""Quality sampling end to end in the local cloud, deployed from template.yaml with QualitySampleRate 1: a
data-capture file landing in S3 -> the data-capture profiler (its rate from the template) -> Comprehend
calls -> the PII features in the partial profile, the quality counters in its answer and as EMF metrics
with the endpoint dimension; the conditional budget alarm exists.

moto 5.2 answers DetectPiiEntities but not DetectToxicContent (HTTP 500, NotImplementedError): each
toxicity call fails, is counted against the error budget, and the records still profile (the unit tests
drive DetectToxicContent through a botocore Stubber).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from llmops_sentinel.domain.drift.profiles import CategoricalProfile, profile_from_json
from sentinel_dev.local import traffic
from sentinel_dev.local.cloud import LocalCloud

ENDPOINT = "demo-llm-endpoint"


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"EndpointName": ENDPOINT, "QualitySampleRate": "1"}) as running:
        yield running


def test_a_capture_file_is_scored_profiled_and_counted_in_metrics(cloud: LocalCloud) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    assert "QualityBudgetExhaustedAlarm" in cloud.stack.resources  # its condition holds at rate 1
    now = datetime.now(UTC)
    lines = traffic.records(np.random.default_rng(3), 12, now)
    key = f"datacapture/{ENDPOINT}/AllTraffic/{now:%Y/%m/%d/%H}/{now:%M-%S}-000-capture.jsonl"
    seen = len(cloud.runtime.invocations)
    cloud.client("s3").put_object(Bucket=cloud.stack.ref("DataBucket"), Key=key, Body=b"\n".join(lines) + b"\n")
    (run,) = cloud.runtime.invocations[seen:]
    assert run.function == "DataCaptureProfilerFunction" and run.ok, run.logs
    quality = run.result["quality"]
    assert (quality["sampled"], quality["pii_calls"], quality["scored"]) == (12, 12, 12)
    assert quality["toxicity_calls"] + quality["failures"] == 2  # 12 short answers: 10 + 2 segments
    partial = profile_from_json(
        cloud.client("s3")
        .get_object(Bucket=cloud.stack.ref("DataBucket"), Key=run.result["profile_key"])["Body"]
        .read()
    )
    pii = partial.features["pii"]
    assert isinstance(pii, CategoricalProfile) and sum(pii.counts().values()) == 12 and pii.missing == 0
    published = {
        point.name: float(point.value)
        for point in cloudwatch_backends[cloud.account_id][cloud.region].get_all_metrics()
        if point.namespace == "LLMOpsSentinel"
        and point.name.startswith("Quality")
        and [(d.name, d.value) for d in point.dimensions] == [("EndpointName", ENDPOINT)]
    }
    assert published["QualityPiiCalls"] == 12 and published["QualitySampledRecords"] == 12
    assert published["QualityCallFailures"] == quality["failures"]
    assert published["QualityBudgetExhausted"] == int(quality["stopped"] is not None)

"""Gathering a report through the adapters with injected clients (moto in-process, no server)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import numpy as np
import orjson
import pytest
from moto import mock_aws

from llmops_sentinel.adapters.dynamodb import AuditRecord, SentinelTable
from llmops_sentinel.adapters.s3 import profile_key, report_key
from llmops_sentinel.domain.cost import parse_price_book
from llmops_sentinel.domain.drift.baseline import build_baseline
from llmops_sentinel.domain.drift.profiles import profile_to_json
from sentinel_dev.local import traffic
from sentinel_dev.report.gather import Clients, Deployment, gather

REGION = "us-east-1"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
START = NOW - timedelta(hours=6)
BOOK = parse_price_book(
    "prices: [{region: us-east-1, instance_type: ml.g4dn.2xlarge, usd_per_hour: 1.0, source: t, checked: 2026-01-01}]",
    "t",
)


@pytest.fixture
def clients() -> Iterator[Clients]:
    with mock_aws():
        yield Clients(
            *(
                boto3.client(s, region_name=REGION)  # type: ignore[call-overload]
                for s in ("s3", "dynamodb", "cloudwatch", "sagemaker", "securityhub")
            )
        )


def _setup(c: Clients) -> None:
    c.dynamodb.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
    )
    c.s3.create_bucket(Bucket="data-bucket")
    c.sagemaker.create_model(
        ModelName="m",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )
    c.sagemaker.create_endpoint_config(
        EndpointConfigName="ep-v1",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "m",
                "InitialInstanceCount": 2,
                "InstanceType": "ml.g4dn.2xlarge",
            }
        ],
    )
    c.sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="ep-v1")
    table = SentinelTable("t", ddb=c.dynamodb)
    table.record_config("ep", "ep-v1", (START - timedelta(days=1)).isoformat())
    table.record(
        AuditRecord(
            endpoint="ep",
            decided_at=NOW.isoformat(),
            occurred_at=(NOW - timedelta(hours=1)).isoformat(),
            decision_id="d1",
            signal="drift",
            summary="7 features",
            action="retrain",
            outcome="started",
            reason="rule 4",
            execution_name="retrain-ep-1",
            execution_arn="arn:x",
            status="SUCCEEDED",
        )
    )
    rng = np.random.default_rng(3)
    profile, _ = build_baseline(
        [b"\n".join(traffic.records(rng, 300, NOW - timedelta(hours=2)))], endpoint="ep", features=["llm"], rng=rng
    )
    key = profile_key("ep", NOW - timedelta(hours=2), "batch1")
    c.s3.put_object(Bucket="data-bucket", Key=key, Body=profile_to_json(profile))
    for hours, drifted in ((3, False), (1, True)):
        end = NOW - timedelta(hours=hours)
        doc = {
            "window_end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "report": {
                "drifted": drifted,
                "share_drifted": 0.5 if drifted else 0.0,
                "share_threshold": 0.25,
                "features": [
                    {
                        "feature": "input_tokens",
                        "method": "ks",
                        "statistic": 0.6,
                        "p_value": 1e-9,
                        "effect_size": 0.6,
                        "effect_floor": 0.05,
                        "threshold": 0.05,
                        "drifted": drifted,
                        "critical": False,
                    },
                    {
                        "feature": "refusal_like",
                        "method": "chisquare",
                        "statistic": 9.0,
                        "p_value": None,
                        "effect_size": 0.2,
                        "effect_floor": None,
                        "threshold": 3.8,
                        "drifted": drifted,
                        "critical": True,
                    },
                ],
            },
        }
        c.s3.put_object(Bucket="data-bucket", Key=report_key("ep", end), Body=orjson.dumps(doc))
    c.s3.put_object(
        Bucket="data-bucket",
        Key=report_key("ep", NOW - timedelta(days=3)),
        Body=orjson.dumps({"window_end": "2026-11-23T12:00:00Z", "report": {"drifted": True, "features": []}}),
    )  # outside the period
    ours = {"llmops-sentinel/Check": "endpoint-config-kms"}
    c.securityhub.batch_import_findings(
        Findings=[
            _finding("f1", "HIGH", "FAILED", ours),
            _finding("f2", "LOW", "PASSED", ours),
            _finding("other", "CRITICAL", "FAILED", {"vendor/x": "y"}),
        ]
    )


def _finding(fid: str, severity: str, status: str, fields: dict[str, str]) -> dict[str, object]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": fid,
        "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
        "GeneratorId": "endpoint-config-kms",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-26T10:00:00Z",
        "UpdatedAt": "2026-11-26T10:00:00Z",
        "Severity": {"Label": severity},
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "Other", "Id": f"arn:{fid}"}],
        "Compliance": {"Status": status},
        "ProductFields": fields,
    }


def test_gather_reads_audit_drift_tokens_capacity_and_our_findings(clients: Clients) -> None:
    _setup(clients)
    model = gather(
        Deployment(table="t", bucket="data-bucket", region=REGION, source="test"),
        clients,
        START.timestamp(),
        NOW.timestamp(),
        book=BOOK,
        now=NOW.timestamp(),
    )
    (ep,) = model.endpoints
    assert [a.anchor for a in ep.audit] == ["decision-ep-d1"] and ep.audit[0].status == "SUCCEEDED"
    assert [(p.drifted, p.effect) for p in ep.drift_share] == [(False, 0.0), (True, 0.5)]
    by_name = {s.feature: s for s in ep.drift}
    # p-value tests plot the effect size against its floor, threshold tests the statistic against the threshold
    assert [(p.effect, p.threshold) for p in by_name["input_tokens"].points] == [(0.6, 0.05)] * 2
    assert [(p.effect, p.threshold) for p in by_name["refusal_like"].points] == [(9.0, 3.8)] * 2
    assert by_name["refusal_like"].critical
    # 2 instances all period (config seen a day before): 12 instance-hours at $1; no invocations -> all idle
    (inst,) = ep.instances
    assert inst.instance_type == "ml.g4dn.2xlarge" and [p.v for p in inst.steps] == [2.0]
    (cost,) = ep.costs
    assert cost.instance_hours == pytest.approx(12.0) and cost.cost_usd == pytest.approx(12.0)
    assert cost.idle_instance_hours == pytest.approx(12.0)
    assert ep.latency == []  # nothing published
    # tokens: the exact totals of the profile in the period (count x mean of its numeric features)
    records = [orjson.loads(r) for r in traffic.records(np.random.default_rng(3), 300, NOW - timedelta(hours=2))]
    usage = [orjson.loads(r["captureData"]["endpointOutput"]["data"])["usage"] for r in records]
    assert cost.input_tokens == pytest.approx(sum(u["prompt_tokens"] for u in usage))
    assert cost.output_tokens == pytest.approx(sum(u["completion_tokens"] for u in usage))
    assert {f.resource: f.compliant for f in model.findings} == {"arn:f1": False, "arn:f2": True}


def test_gather_rejects_an_empty_period(clients: Clients) -> None:
    from llmops_sentinel.errors import BadInputError

    with pytest.raises(BadInputError, match="period"):
        gather(Deployment(table="t", bucket="data-bucket", region=REGION, source="x"), clients, 10.0, 10.0)


class _Executions:
    """Step Functions' DescribeExecution for a few finished scaling workflows (an in-memory fake of AWS)."""

    def __init__(self, outputs: dict[str, dict[str, object]]) -> None:
        self._outputs = outputs

    def describe_execution(self, executionArn: str) -> dict[str, object]:  # noqa: N803 (boto3's name)
        from botocore.exceptions import ClientError

        if executionArn not in self._outputs:
            error = {"Error": {"Code": "ExecutionDoesNotExist", "Message": executionArn}}
            raise ClientError(error, "DescribeExecution")  # type: ignore[arg-type]
        output = orjson.dumps(self._outputs[executionArn]).decode()
        return {"executionArn": executionArn, "status": "SUCCEEDED", "output": output}


def test_the_instance_steps_follow_the_counts_the_scaling_workflows_set(clients: Clients) -> None:
    _setup(clients)
    table = SentinelTable("t", ddb=clients.dynamodb)
    for i, (hours, action) in enumerate(((4, "scale-down"), (2, "scale-out"), (1, "scale-out"))):
        table.record(
            AuditRecord(
                endpoint="ep",
                decided_at=NOW.isoformat(),
                occurred_at=(NOW - timedelta(hours=hours)).isoformat(),
                decision_id=f"s{i}",
                signal="idle",
                summary="s",
                action=action,
                outcome="started",
                reason="r",
                execution_arn=f"arn:scale-{i}",
                status="SUCCEEDED",
            )
        )
    outputs: dict[str, dict[str, object]] = {
        f"arn:scale-{i}": {"outcome": "scaled", "variant_name": "AllTraffic", "previous_instances": 2, "instances": n}
        for i, n in ((0, 1), (1, 2))
    }  # the third workflow cannot be read (gone): it adds no step
    clients.stepfunctions = _Executions(outputs)
    model = gather(
        Deployment(table="t", bucket="data-bucket", region=REGION, source="test"),
        clients,
        START.timestamp(),
        NOW.timestamp(),
        book=BOOK,
        now=NOW.timestamp(),
    )
    (ep,) = model.endpoints
    (inst,) = ep.instances
    hours_ago = [(NOW - timedelta(hours=h)).timestamp() for h in (4, 2)]
    assert [(p.t, p.v) for p in inst.steps] == [(START.timestamp(), 2.0), (hours_ago[0], 1.0), (hours_ago[1], 2.0)]
    (cost,) = ep.costs  # 2 h x 2 + 2 h x 1 + 2 h x 2 at $1 (the endpoint is on 2 instances now, as the last step)
    assert cost.instance_hours == pytest.approx(10.0) and cost.cost_usd == pytest.approx(10.0)

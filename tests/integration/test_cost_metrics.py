"""Hourly cost metrics on the local cloud: the latency monitor's cost rule ({"meter": "cost"}) meters an hour.

Usage is put into (moto's) CloudWatch as SageMaker and the Firehose processor publish it: Invocations per
variant and minute, InputTokens/OutputTokens per endpoint. The expected numbers are computed here by hand
from those inputs and the price, not by the code under test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llmops_sentinel.adapters.cloudwatch import MetricsReader
from llmops_sentinel.adapters.endpoint_capacity import CapacityReader
from llmops_sentinel.domain.cost import load_price_book, parse_price_book
from llmops_sentinel.services.cost import CostSettings, meter_costs
from sentinel_dev.local.cloud import LocalCloud
from sentinel_dev.local.demo import ENDPOINT, INSTANCE_TYPE, VARIANT, create_endpoint
from tests.conftest import EVENTS, load_json

HOUR_END = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
HOUR_START = HOUR_END - timedelta(hours=1)
BUSY_MINUTES = 12  # minutes of the hour with invocations; the other 48 are idle
TOKENS_IN, TOKENS_OUT = 30_000.0, 6_000.0
PRICE = 0.94  # a test price for the demo's ml.g5.2xlarge, not a published one
BOOK = parse_price_book(
    "prices:\n - {region: us-east-1, instance_type: ml.g5.2xlarge, usd_per_hour: 0.94, source: 'https://example.test',"
    " checked: 2026-12-03}\n",
    "test-prices.yaml",
)


@pytest.fixture
def cloud(request: pytest.FixtureRequest) -> Iterator[LocalCloud]:
    """The demo endpoint on 2 instances (of the demo's type, or the one a test parametrizes) and an hour of usage."""
    with LocalCloud(parameters={"EndpointName": ENDPOINT}) as running:
        create_endpoint(running, instances=2, instance_type=getattr(request, "param", INSTANCE_TYPE))
        cw = running.client("cloudwatch")
        dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}]
        cw.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": dims,
                    "Timestamp": HOUR_START + timedelta(minutes=m),
                    "Value": 5.0,
                }
                for m in range(BUSY_MINUTES)
            ],
        )
        own = [{"Name": "EndpointName", "Value": ENDPOINT}]
        cw.put_metric_data(
            Namespace="LLMOpsSentinel",
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": own,
                    "Timestamp": HOUR_START + timedelta(minutes=m),
                    "Value": total / 4,
                }
                for name, total in (("InputTokens", TOKENS_IN), ("OutputTokens", TOKENS_OUT))
                for m in (1, 2, 3, 4)
            ],
        )
        yield running


def cost_request(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = load_json(EVENTS / "latency_monitor" / "cost_hour.json")
    return {**event, "hour_end": HOUR_END.isoformat(), **extra}


def test_a_priced_variant_gets_instance_idle_and_per_token_cost(cloud: LocalCloud) -> None:
    settings = CostSettings(region="us-east-1")
    run = meter_costs(
        [ENDPOINT],
        settings.window(0.0, HOUR_END.timestamp() + 59),  # truncated to the hour
        settings,
        metrics=MetricsReader(cloud.client("cloudwatch")),
        capacity=CapacityReader(cloud.client("sagemaker")),
        book=BOOK,
    )
    assert run.metered and run.window_start == HOUR_START.isoformat() and run.calls == 1
    (row,) = run.rows
    assert (row.status, row.instance_type, row.instance_count) == ("priced", "ml.g5.2xlarge", 2)
    cost = row.cost
    assert cost is not None
    assert cost.instance_hours == pytest.approx(2.0)
    assert cost.idle_instance_hours == pytest.approx(2.0 * (60 - BUSY_MINUTES) / 60)
    assert cost.cost_usd == pytest.approx(2.0 * PRICE)
    assert cost.idle_cost_usd == pytest.approx(2.0 * PRICE * 48 / 60)
    per_input = 1000 * 2.0 * PRICE / (TOKENS_IN + 4.0 * TOKENS_OUT)  # output token = 4 input tokens (prices.yaml)
    assert cost.usd_per_1k_input_tokens == pytest.approx(per_input)
    assert cost.usd_per_1k_output_tokens == pytest.approx(4.0 * per_input)


def test_the_window_is_the_last_hour_that_ended_settle_s_ago() -> None:
    settings = CostSettings(settle_s=600)
    quarter_past = HOUR_END.timestamp() + 15 * 60
    assert settings.window(quarter_past) == (HOUR_START.timestamp(), HOUR_END.timestamp())
    assert settings.window(HOUR_END.timestamp() + 5 * 60)[1] == HOUR_START.timestamp()  # not settled yet


def _hour_total(cloud: LocalCloud, name: str) -> float:
    cw = cloud.client("cloudwatch")
    dims = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}]
    points = cw.get_metric_statistics(
        Namespace="LLMOpsSentinel", MetricName=name, Dimensions=dims, StartTime=HOUR_START,
        EndTime=HOUR_END, Period=3600, Statistics=["Sum"],
    )["Datapoints"]  # fmt: skip
    return float(sum(p["Sum"] for p in points))


def test_the_cost_rule_prices_the_demo_type_from_the_packaged_price_book(cloud: LocalCloud) -> None:
    """The demo's ml.g5.2xlarge has a sourced price in config/prices.yaml: CostUsd = 2 instance-hours x it."""
    price = load_price_book().price("us-east-1", INSTANCE_TYPE)
    assert price is not None
    record = cloud.invoke("LatencyMonitorFunction", cost_request())
    assert record.ok, record.logs
    (row,) = record.result["rows"]
    assert row["status"] == "priced" and row["cost"]["usd_per_1k_input_tokens"] > 0
    assert _hour_total(cloud, "CostUsd") == pytest.approx(2.0 * price.usd_per_hour)
    assert _hour_total(cloud, "IdleCostUsd") == pytest.approx(2.0 * price.usd_per_hour * 48 / 60)
    assert _hour_total(cloud, "CostUnpriced") == 0.0


@pytest.mark.parametrize("cloud", ["ml.g4dn.2xlarge"], indirect=True)
def test_the_cost_rule_publishes_cost_metrics_and_an_unpriced_type_gets_no_cost(cloud: LocalCloud) -> None:
    """The packaged price book has no ml.g4dn.2xlarge: instance-hours and CostUnpriced, no CostUsd."""
    record = cloud.invoke("LatencyMonitorFunction", cost_request())
    assert record.ok, record.logs
    assert record.result["window_start"] == HOUR_START.isoformat()
    (row,) = record.result["rows"]
    assert row["status"] == "unpriced" and "no price for ml.g4dn.2xlarge in us-east-1" in row["reason"]
    assert row["cost"]["cost_usd"] is None and row["cost"]["usd_per_1k_input_tokens"] is None

    def total(name: str) -> float:
        return _hour_total(cloud, name)

    assert total("InstanceHours") == pytest.approx(2.0)
    assert total("CostUnpriced") == 1.0
    assert total("CostUsd") == 0.0  # never a wrong number
    assert total("IdleInstanceHours") == pytest.approx(2.0 * 48 / 60)

    # The rule's retry, a manual re-run: the first run's datapoints stand, a second adds none (a Sum of
    # InstanceHours over the hour would otherwise double); the next hour is its own.
    assert [r["published"] for r in record.result["rows"]] == [True]
    again = cloud.invoke("LatencyMonitorFunction", cost_request())
    assert again.ok, again.logs
    (row,) = again.result["rows"]
    assert row["published"] is False and "an earlier run published this hour" in row["reason"]
    assert total("InstanceHours") == pytest.approx(2.0) and total("CostUnpriced") == 1.0
    later = cost_request(hour_end=(HOUR_END + timedelta(hours=1)).isoformat())
    assert cloud.invoke("LatencyMonitorFunction", later).result["rows"][0]["published"] is True


def test_a_malformed_cost_request_is_a_typed_rejection(cloud: LocalCloud) -> None:
    record = cloud.invoke("LatencyMonitorFunction", cost_request(hour_end="yesterday"))
    assert record.result["status"] == "rejected" and "not a cost request" in record.result["reason"], record.result

"""The fleet cost model against hand-computed months (published price x count), and the price file."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmops_sentinel.errors import ConfigError
from sentinel_dev.fleet_cost import (
    PRICE_KEYS,
    FleetUsage,
    RunUsage,
    Standing,
    Traffic,
    dynamodb_units,
    load_service_prices,
    monthly_cost,
    parse_service_prices,
)

PRICES_FILE = Path(__file__).resolve().parents[3] / "bench" / "_fleet_prices.yaml"
NO_TRAFFIC = Traffic(capture_records_per_s=0.0, remediations_per_month=0.0)


@pytest.fixture(scope="module")
def prices():  # type: ignore[no-untyped-def]
    return load_service_prices(PRICES_FILE)


def one_run(**kwargs: object) -> RunUsage:
    base: dict[str, object] = {"name": "latency", "every_minutes": 5, "invocations": 1, "gb_s": 1.0}
    return RunUsage.model_validate({**base, **kwargs})


def test_price_file_is_complete_and_names_its_pages(prices) -> None:  # type: ignore[no-untyped-def]
    assert prices.region == "us-east-1"
    assert prices.status == "as published, verify"
    assert set(PRICE_KEYS) <= set(prices.prices)
    assert all(p.source.startswith("https://aws.amazon.com/") for p in prices.prices.values())


def test_a_small_month_by_hand(prices) -> None:  # type: ignore[no-untyped-def]
    # One run every 5 minutes: 730 h x 12 = 8,760 runs. Each: 1 invocation of 1 GB-s, 10 metrics
    # requested by GetMetricData, 1 PutMetricData, 2 S3 GETs and 1 PUT, 2 read and 1 write units.
    run = one_run(
        get_metric_data_metrics=10,
        api_calls={
            "cloudwatch": {"GetMetricData": 1, "PutMetricData": 1, "DescribeAlarms": 3},
            "s3": {"GetObject": 2, "PutObject": 1},
            "kms": {"Decrypt": 1},
        },
        dynamodb_read_units=2.0,
        dynamodb_write_units=1.0,
        log_bytes=1000,
    )
    usage = FleetUsage(
        endpoints=2,
        runs=[run],
        standing=Standing(alarm_metrics=5, custom_metrics=4, kms_keys=1),
        traffic=NO_TRAFFIC,
        s3_retention_months=0,
    )
    cost = monthly_cost(usage, prices)
    expected = {
        "lambda_requests": 8760 * 0.20 / 1e6,  # 0.001752
        "lambda_compute": 8760 * 1.0 * 0.0000133334,  # 0.11680058
        "cloudwatch_get_metric_data": 87_600 * 0.01 / 1000,  # 0.876
        "cloudwatch_requests": 8760 * 0.01 / 1000,  # PutMetricData only; DescribeAlarms is not billed
        "cloudwatch_alarms": 0.50,
        "cloudwatch_custom_metrics": 1.20,
        "cloudwatch_logs": 8_760_000 / 1024**3 * 0.50,  # 0.00407925
        "firehose_ingest": 0.0,
        "s3_requests": 8760 * 0.005 / 1000 + 17_520 * 0.0004 / 1000,  # 0.0438 + 0.007008
        "s3_storage": 0.0,
        "dynamodb": 17_520 * 0.125 / 1e6 + 8760 * 0.625 / 1e6,  # 0.00219 + 0.005475
        "stepfunctions": 0.0,
        "eventbridge": 0.0,
        "kms": 1.00 + 8760 * 0.03 / 10_000,  # key + 0.02628
        "xray": 8760 * 5.0 / 1e6,  # 0.0438
    }
    assert cost.items == pytest.approx(expected, rel=1e-9)
    assert cost.total_usd == pytest.approx(3.9148, abs=5e-4)  # the sum of the above, by hand
    assert cost.per_endpoint_usd == pytest.approx(cost.total_usd / 2)
    assert cost.per_endpoint["kms"] == pytest.approx(0.51314)


def test_traffic_assumptions_by_hand(prices) -> None:  # type: ignore[no-untyped-def]
    # 1 record/s of 2 KB, billed as 5 KB: 2,628,000 records x 5,120 B = 12.531 GB -> $0.3634.
    # A flush a minute: 43,800 processor runs of 1 GB x 0.2 s and 43,800 profile PUTs of 16 KB.
    # One remediation of 12 transitions and 3 events.
    usage = FleetUsage(endpoints=1, runs=[], standing=Standing(alarm_metrics=0, custom_metrics=0, kms_keys=0))
    cost = monthly_cost(usage, prices).items
    assert cost["firehose_ingest"] == pytest.approx(2_628_000 * 5120 / 1024**3 * 0.029)
    assert cost["firehose_ingest"] == pytest.approx(0.36341, abs=1e-5)
    assert cost["lambda_compute"] == pytest.approx(43_800 * 0.2 * 0.0000133334)
    assert cost["s3_requests"] == pytest.approx(43_800 * 0.005 / 1000)
    assert cost["s3_storage"] == pytest.approx(43_800 * 16 / 1024**2 * 0.023)
    assert cost["stepfunctions"] == pytest.approx(12 * 0.025 / 1000)
    assert cost["eventbridge"] == pytest.approx(3 / 1e6)


def test_fixed_costs_spread_over_the_fleet(prices) -> None:  # type: ignore[no-untyped-def]
    def at(n: int) -> float:
        run = one_run(get_metric_data_metrics=8 * n, gb_s=0.5 + 0.01 * n)  # one invocation, work grows with n
        standing = Standing(alarm_metrics=10 + 5 * n, custom_metrics=6 + 2 * n, kms_keys=1)
        return monthly_cost(FleetUsage(endpoints=n, runs=[run], standing=standing), prices).per_endpoint_usd

    assert at(10) > at(100) > at(500)


def test_dynamodb_units() -> None:
    assert dynamodb_units("PutItem", 100) == 1.0
    assert dynamodb_units("PutItem", 2049) == 3.0
    assert dynamodb_units("GetItem", 5000, consistent=True) == 2.0
    assert dynamodb_units("Query", 100) == 0.5


def test_a_price_file_without_a_price_is_refused() -> None:
    text = PRICES_FILE.read_text(encoding="utf-8").replace("  xray_trace:", "  xray_other:")
    with pytest.raises(ConfigError, match="no price for xray_trace"):
        parse_service_prices(text, "test.yaml")


def test_a_runs_state_transitions_by_hand(prices) -> None:  # type: ignore[no-untyped-def]
    # A drift run every 15 minutes (2,920 a month) through a state machine entering 23 states.
    run = one_run(name="drift", every_minutes=15, invocations=0, gb_s=0.0, state_transitions=23)
    usage = FleetUsage(endpoints=10, runs=[run], standing=Standing(alarm_metrics=0, custom_metrics=0, kms_keys=0),
                       traffic=NO_TRAFFIC, s3_retention_months=0)  # fmt: skip
    cost = monthly_cost(usage, prices)
    assert cost.items["stepfunctions"] == pytest.approx(2920 * 23 * 0.025 / 1000)  # 1.679


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices: [", "not YAML"),
        ("- 1", "expected a mapping"),
        ("prices: {lambda_request: 1}", "svc.yaml: region: Field required"),
    ],
)
def test_service_and_instance_price_files_report_errors_the_same_way(text: str, message: str) -> None:
    """One YAML-then-validate helper for both price files: the same message shape from both parsers."""
    from llmops_sentinel.domain.cost import parse_price_book

    with pytest.raises(ConfigError, match=message) as service:
        parse_service_prices(text, "svc.yaml")
    assert str(service.value).startswith("svc.yaml: ")
    if not message.startswith("svc.yaml"):
        with pytest.raises(ConfigError) as instance:
            parse_price_book(text, "svc.yaml")
        assert str(instance.value) == str(service.value)

"""Cost arithmetic: instance-hours of a step function, idle hours, per-1k-token split, price book checks."""

from __future__ import annotations

import math

import pytest

from llmops_sentinel.domain.cost import (
    PriceBook,
    VariantUsage,
    cost_emf,
    idle_instance_hours,
    instance_hours,
    load_price_book,
    parse_price_book,
    variant_cost,
)
from llmops_sentinel.errors import ConfigError

BOOK = parse_price_book(
    """
output_token_weight: 3
prices:
  - {region: us-east-1, instance_type: ml.g5.2xlarge, usd_per_hour: 2.0, source: test page, checked: 2026-01-02}
""",
    "test",
)


def test_instance_hours_integrates_the_steps_inside_the_period() -> None:
    # 1 instance for 30 min, then 3 for 60 min; the period cuts the first 15 min and the last 30 min.
    steps = [(0.0, 1), (1800.0, 3)]
    assert instance_hours(steps, 900.0, 1800.0 + 1800.0) == pytest.approx(0.25 + 1.5)
    assert instance_hours(steps, 0.0, 0.0) == 0.0
    assert instance_hours([], 0.0, 3600.0) == 0.0
    # steps before the period only set the count at its start
    assert instance_hours([(-7200.0, 2)], 0.0, 3600.0) == pytest.approx(2.0)


def test_instance_hours_rejects_steps_out_of_order_or_negative() -> None:
    with pytest.raises(ValueError, match="order"):
        instance_hours([(10.0, 1), (5.0, 2)], 0.0, 20.0)
    with pytest.raises(ValueError, match="negative"):
        instance_hours([(0.0, -1)], 0.0, 20.0)


def test_idle_hours_are_the_periods_without_invocations() -> None:
    steps = [(0.0, 2)]
    # 4 one-hour periods, traffic in two of them (one listed twice): 2 idle hours x 2 instances
    assert idle_instance_hours(steps, [0.0, 7200.0, 7200.0], 3600.0, 0.0, 4 * 3600.0) == pytest.approx(4.0)
    assert idle_instance_hours(steps, [], 3600.0, 0.0, 3600.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="period_s"):
        idle_instance_hours(steps, [], 0.0, 0.0, 1.0)


def test_cost_per_1k_tokens_splits_the_instance_cost_by_the_output_weight() -> None:
    usage = VariantUsage(
        endpoint="e",
        variant="v",
        region="us-east-1",
        instance_type="ml.g5.2xlarge",
        instance_hours=5.0,
        idle_instance_hours=1.0,
        input_tokens=400_000,
        output_tokens=200_000,
    )
    cost = variant_cost(usage, BOOK)
    assert cost.priced
    assert cost.cost_usd == pytest.approx(10.0)
    assert cost.idle_cost_usd == pytest.approx(2.0)
    # 400k + 3 x 200k = 1M weighted input tokens for $10 -> $0.01 per 1k input, $0.03 per 1k output
    assert cost.usd_per_1k_input_tokens == pytest.approx(0.01)
    assert cost.usd_per_1k_output_tokens == pytest.approx(0.03)
    # the split adds back up to the whole cost
    assert cost.usd_per_1k_input_tokens * 400 + cost.usd_per_1k_output_tokens * 200 == pytest.approx(10.0)
    assert cost.usd_per_1k_tokens == pytest.approx(10.0 / 600)
    assert cost.price_source is not None and "2026-01-02" in cost.price_source


def test_unpriced_or_tokenless_variants_have_no_per_token_cost() -> None:
    unpriced = variant_cost(
        VariantUsage(endpoint="e", variant="v", region="eu-west-1", instance_type="ml.g5.2xlarge", instance_hours=1),
        BOOK,
    )
    assert not unpriced.priced and unpriced.cost_usd is None and unpriced.usd_per_1k_tokens is None
    idle = variant_cost(
        VariantUsage(
            endpoint="e",
            variant="v",
            region="us-east-1",
            instance_type="ml.g5.2xlarge",
            instance_hours=3,
            idle_instance_hours=3,
        ),
        BOOK,
    )
    assert idle.cost_usd == pytest.approx(6.0) and idle.idle_cost_usd == pytest.approx(6.0)
    assert idle.usd_per_1k_input_tokens is None and idle.usd_per_1k_tokens is None


def test_idle_cannot_exceed_the_instance_hours() -> None:
    with pytest.raises(ValueError, match="idle"):
        VariantUsage(
            endpoint="e", variant="v", region="r", instance_type="ml.g5.xlarge", instance_hours=1, idle_instance_hours=2
        )


def test_emf_document_names_only_known_metrics() -> None:
    usage = VariantUsage(
        endpoint="e",
        variant="v",
        region="us-east-1",
        instance_type="ml.g5.2xlarge",
        instance_hours=1,
        input_tokens=1000,
        output_tokens=0,
    )
    doc = cost_emf(variant_cost(usage, BOOK), 1_700_000_000_000)
    names = [m["Name"] for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["CostUsd", "IdleCostUsd", "CostPer1kInputTokensUsd", "CostPer1kOutputTokensUsd"]
    assert all(name in doc for name in names)
    assert doc["CostPer1kInputTokensUsd"] == pytest.approx(2.0)
    unpriced = cost_emf(variant_cost(usage.model_copy(update={"region": "x"}), BOOK), 0)
    assert unpriced["_aws"]["CloudWatchMetrics"][0]["Metrics"] == []


def test_packaged_price_book_is_valid_and_sourced() -> None:
    book = load_price_book()
    assert book.prices, "the packaged price book lists prices"
    for price in book.prices:
        assert price.source.startswith("https://"), price
        assert math.isfinite(price.usd_per_hour)
    assert book.price("us-east-1", "ml.g5.2xlarge") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices: [", "not YAML"),
        ("- 1", "mapping"),
        ("prices: [{region: r, instance_type: g5, usd_per_hour: 1, source: s, checked: 2026-01-01}]", "instance_type"),
        (
            "prices: [{region: r, instance_type: ml.g5.xlarge, usd_per_hour: 0, source: s, checked: 2026-01-01}]",
            "usd_per_hour",
        ),
        (
            "prices:\n - {region: r, instance_type: ml.g5.xlarge, usd_per_hour: 1, source: s, checked: 2026-01-01}\n"
            " - {region: r, instance_type: ml.g5.xlarge, usd_per_hour: 2, source: s, checked: 2026-01-01}",
            "two prices",
        ),
    ],
)
def test_bad_price_books_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_price_book(text, "prices.yaml")


def test_missing_price_file_is_a_config_error(tmp_path: object) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_price_book("/nonexistent/prices.yaml")
    assert isinstance(BOOK, PriceBook)

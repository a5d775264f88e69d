"""What an endpoint costs: instance-hours, idle instance-hours, cost per 1k input and output tokens.

Pure arithmetic over typed inputs; the prices come from ``config/prices.yaml`` (region x instance
type, each with the page it was read from and when). An endpoint variant is billed per instance-hour
whatever it serves, so a token's cost is the variant's instance cost divided over the tokens it
served in the same period. Input and output tokens are not equally expensive (decoding is
sequential); the split is a convention of the price book: one output token counts as
``output_token_weight`` input tokens.

Instance counts are a step function: ``[(t0, n0), (t1, n1), ...]`` means ``n0`` instances from ``t0``
until ``t1``, and so on; the last count holds until the end of the period. Times are epoch seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops_sentinel.domain.validation import parse_yaml_mapping
from llmops_sentinel.errors import ConfigError

DEFAULT_PRICES_PATH = Path(__file__).resolve().parents[1] / "config" / "prices.yaml"
HOUR_S = 3600.0


class InstancePrice(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    region: str = Field(min_length=1)
    instance_type: str = Field(pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9-]+$")
    usd_per_hour: float = Field(gt=0)
    source: str = Field(min_length=1, description="the page the price was read from")
    checked: date = Field(description="when it was read")


class PriceBook(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    version: int = 1
    currency: str = "USD"
    output_token_weight: float = Field(4.0, gt=0)
    prices: tuple[InstancePrice, ...]
    source: str = "<inline>"

    @model_validator(mode="after")
    def _unique(self) -> PriceBook:
        seen: set[tuple[str, str]] = set()
        for p in self.prices:
            key = (p.region, p.instance_type)
            if key in seen:
                raise ValueError(f"two prices for {p.instance_type} in {p.region}")
            seen.add(key)
        return self

    def price(self, region: str, instance_type: str) -> InstancePrice | None:
        return next((p for p in self.prices if p.region == region and p.instance_type == instance_type), None)


def parse_price_book(text: str, source: str) -> PriceBook:
    return parse_yaml_mapping(PriceBook, text, source, "a mapping with 'prices'")


def load_price_book(path: str | Path | None = None) -> PriceBook:
    """The given price file, else the packaged ``config/prices.yaml``."""
    if path is None:
        path = DEFAULT_PRICES_PATH
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    return parse_price_book(text, str(file))


Steps = Sequence[tuple[float, int]]


def _check_steps(steps: Steps) -> None:
    for (t0, _), (t1, _) in itertools.pairwise(steps):
        if t1 < t0:
            raise ValueError("instance-count steps must be in time order")
    if any(n < 0 for _, n in steps):
        raise ValueError("an instance count cannot be negative")


def instance_hours(steps: Steps, start: float, end: float) -> float:
    """Integral of the instance-count step function over [start, end), in instance-hours."""
    _check_steps(steps)
    if end <= start or not steps:
        return 0.0
    total = 0.0
    for index, (t, n) in enumerate(steps):
        t_next = steps[index + 1][0] if index + 1 < len(steps) else end
        lo, hi = max(t, start), min(t_next, end)
        if hi > lo:
            total += n * (hi - lo)
    return total / HOUR_S


def idle_instance_hours(steps: Steps, busy: Sequence[float], period_s: float, start: float, end: float) -> float:
    """Instance-hours in [start, end) spent in periods with no invocations.

    ``busy``: start times of the ``period_s``-long periods that had at least one invocation (CloudWatch
    publishes no ``Invocations`` datapoint for a period without traffic, so "absent" means idle).
    """
    if period_s <= 0:
        raise ValueError("period_s must be positive")
    busy_hours = sum(instance_hours(steps, max(b, start), min(b + period_s, end)) for b in sorted(set(busy)))
    return max(0.0, instance_hours(steps, start, end) - busy_hours)


class VariantUsage(BaseModel):
    """What one endpoint variant ran and served over a period."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    endpoint: str
    variant: str
    region: str
    instance_type: str
    instance_hours: float = Field(ge=0)
    idle_instance_hours: float = Field(0.0, ge=0)
    input_tokens: float = Field(0.0, ge=0)
    output_tokens: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _idle_within(self) -> VariantUsage:
        if self.idle_instance_hours > self.instance_hours + 1e-9:
            raise ValueError("idle instance-hours exceed instance-hours")
        return self


class VariantCost(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    endpoint: str
    variant: str
    instance_type: str
    region: str
    priced: bool
    usd_per_hour: float | None
    price_source: str | None
    instance_hours: float
    idle_instance_hours: float
    cost_usd: float | None
    idle_cost_usd: float | None
    input_tokens: float
    output_tokens: float
    usd_per_1k_input_tokens: float | None
    usd_per_1k_output_tokens: float | None
    usd_per_1k_tokens: float | None
    """Blended: cost over all tokens, each counted once."""


def variant_cost(usage: VariantUsage, book: PriceBook) -> VariantCost:
    """Instance and idle cost of a variant, and its cost per 1k tokens (None when unpriced or no tokens)."""
    price = book.price(usage.region, usage.instance_type)
    base = {
        "endpoint": usage.endpoint,
        "variant": usage.variant,
        "instance_type": usage.instance_type,
        "region": usage.region,
        "instance_hours": usage.instance_hours,
        "idle_instance_hours": usage.idle_instance_hours,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    }
    if price is None:
        return VariantCost(
            priced=False,
            usd_per_hour=None,
            price_source=None,
            cost_usd=None,
            idle_cost_usd=None,
            usd_per_1k_input_tokens=None,
            usd_per_1k_output_tokens=None,
            usd_per_1k_tokens=None,
            **base,
        )
    cost = usage.instance_hours * price.usd_per_hour
    weighted = usage.input_tokens + book.output_token_weight * usage.output_tokens
    tokens = usage.input_tokens + usage.output_tokens
    per_input = 1000.0 * cost / weighted if weighted > 0 else None
    return VariantCost(
        priced=True,
        usd_per_hour=price.usd_per_hour,
        price_source=f"{price.source} (checked {price.checked.isoformat()})",
        cost_usd=cost,
        idle_cost_usd=usage.idle_instance_hours * price.usd_per_hour,
        usd_per_1k_input_tokens=per_input,
        usd_per_1k_output_tokens=per_input * book.output_token_weight if per_input is not None else None,
        usd_per_1k_tokens=1000.0 * cost / tokens if tokens > 0 else None,
        **base,
    )


COST_NAMESPACE = "LLMOpsSentinel"


def cost_emf(cost: VariantCost, timestamp_ms: int, namespace: str = COST_NAMESPACE) -> dict[str, Any]:
    """One CloudWatch Embedded Metric Format document for a variant's cost (print it as one log line).

    Metrics: ``CostUsd``, ``IdleCostUsd``, ``CostPer1kInputTokensUsd``, ``CostPer1kOutputTokensUsd``
    (only those known), dimensions EndpointName and VariantName.
    """
    values = {
        "CostUsd": cost.cost_usd,
        "IdleCostUsd": cost.idle_cost_usd,
        "CostPer1kInputTokensUsd": cost.usd_per_1k_input_tokens,
        "CostPer1kOutputTokensUsd": cost.usd_per_1k_output_tokens,
    }
    known = {name: round(value, 8) for name, value in values.items() if value is not None}
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [["EndpointName", "VariantName"]],
                    "Metrics": [{"Name": name, "Unit": "None"} for name in known],
                }
            ],
        },
        "EndpointName": cost.endpoint,
        "VariantName": cost.variant,
        "InstanceType": cost.instance_type,
        **known,
    }

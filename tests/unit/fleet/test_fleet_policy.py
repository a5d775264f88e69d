"""Fleet policy: onboarding by tag or config, per-endpoint overrides merged over the defaults."""

from __future__ import annotations

import pytest

from llmops_sentinel.domain.fleet.membership import membership
from llmops_sentinel.domain.fleet.policy import DEFAULT_FLEET_PATH, load_fleet_policy, parse_fleet_policy
from llmops_sentinel.errors import ConfigError


def test_packaged_policy_loads_with_the_documented_defaults() -> None:
    policy = load_fleet_policy()
    assert DEFAULT_FLEET_PATH.name == "fleet.yaml"
    assert policy.onboarding.tag_key == "sentinel:monitor"
    assert policy.defaults.latency.p99_threshold_ms == 2000


def test_override_names_only_what_differs() -> None:
    policy = parse_fleet_policy("endpoints:\n  big: {latency: {p99_threshold_ms: 9000}}\n  quiet: {watch: false}\n")
    big = policy.settings("big")
    assert big.latency.p99_threshold_ms == 9000
    assert big.latency.evaluation_periods == policy.defaults.latency.evaluation_periods
    assert policy.settings("other") == policy.defaults
    assert not policy.settings("quiet").watch


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("endpoints:\n  x: {latency: {p99_threshold_ms: -1}}\n", "endpoints.x"),
        ("endpoints:\n  x: {latency: {evaluation_periods: 2, datapoints_to_alarm: 3}}\n", "endpoints.x"),
        ("onboarding: {tag_key: ''}\n", "tag_key"),
        ("surprise: 1\n", "surprise"),
        ("[1, 2]\n", "mapping"),
        ("a: [\n", "not YAML"),
    ],
)
def test_invalid_policies_are_config_errors_that_say_where(text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        parse_fleet_policy(text)


def test_membership_by_tag_config_and_opt_out() -> None:
    policy = parse_fleet_policy(
        "onboarding: {tag_key: team:watch, tag_value: 'yes', endpoints: [listed]}\n"
        "endpoints:\n  opted-out: {watch: false}\n"
    )
    assert membership("tagged", {"team:watch": "yes"}, policy).source == "tag"
    assert membership("listed", {}, policy).source == "config"
    assert not membership("tagged", {"team:watch": "YES"}, policy).watched  # values compare exactly
    assert not membership("untagged", {"other": "yes"}, policy).watched
    assert not membership("opted-out", {"team:watch": "yes"}, policy).watched

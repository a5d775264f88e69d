"""The decision policy: rules, per-endpoint overrides, validation errors with lines, names."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from llmops_sentinel.domain.remediation.policy import decide, execution_name, load_policy
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.models.signals import parse_signal
from tests.conftest import EVENTS, REPO, load_json

POLICY = load_policy()


def event(name: str) -> Any:
    return load_json(EVENTS / "alarm_router" / name)


def test_repo_config_is_the_packaged_policy() -> None:
    linked = REPO / "config" / "remediation.yaml"
    assert linked.resolve() == (REPO / "layers/core/llmops_sentinel/config/remediation.yaml").resolve()
    assert load_policy(linked) == POLICY


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("p99_latency_alarm.json", "scale-out"),
        ("p99_latency_alarm_action.json", "scale-out"),
        ("p99_latency_recovered.json", "none"),
        ("drift_detected.json", "retrain"),
        ("latency_regression_load.json", "scale-out"),
        ("latency_regression_deployment_no_history.json", "rollback"),
        ("latency_regression_unknown.json", "notify"),
        ("endpoint_idle.json", "scale-down"),
        ("governance_finding.json", "notify"),
    ],
)
def test_each_signal_maps_to_its_action(name: str, action: str) -> None:
    assert decide(parse_signal(event(name)), POLICY).action == action


def test_endpoint_overrides_merge_over_defaults() -> None:
    demo = POLICY.for_endpoint("demo-llm-endpoint")
    other = POLICY.for_endpoint("some-other-endpoint")
    assert demo.max_actions_per_day == 10
    assert other.max_actions_per_day == POLICY.defaults.max_actions_per_day
    assert demo.settings("retrain").require_approval is False
    assert other.settings("retrain").require_approval is True
    assert demo.settings("scale-out").cooldown_minutes == 15  # inherited, not overridden
    assert demo.retrain.use_spot is True


def test_decision_carries_guardrail_settings() -> None:
    decision = decide(parse_signal(event("p99_latency_alarm.json")), POLICY)
    assert decision.settings.cooldown_minutes == 15
    assert decision.max_actions_per_day == 10
    assert decision.dry_run is False
    assert decision.execution_name is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", decision.execution_name)


def test_both_deliveries_of_one_transition_share_the_execution_name() -> None:
    bridge = parse_signal(event("p99_latency_alarm.json"))
    action = parse_signal(event("p99_latency_alarm_action.json"))
    assert execution_name("scale-out", bridge) == execution_name("scale-out", action)
    later = event("p99_latency_alarm.json")
    later["detail"]["state"]["timestamp"] = "2026-11-26T11:00:00.000+0000"
    assert execution_name("scale-out", parse_signal(later)) != execution_name("scale-out", bridge)


def test_workflow_action_without_endpoint_becomes_none() -> None:
    alarm = event("p99_latency_alarm.json")
    alarm["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {}
    decision = decide(parse_signal(alarm), POLICY)
    assert decision.action == "none"
    assert "names no endpoint" in decision.reason


BAD_POLICIES = [
    ("version: 1\nrules:\n  - {signal: drift, action: explode}\n", r"rules\.0\.action \(line 3\)"),
    ("version: 1\nrules: []\ndefaults:\n  max_instances: 1\n  min_instances: 3\n", r"defaults \(line 3\)"),
    ("version: 1\nrules: []\ndefaults:\n  surprise: true\n", r"defaults\.surprise \(line 4\)"),
    ("version: 1\nrules: []\nendpoints:\n  ep: {max_instances: 0}\n", r"endpoints"),
    ("rules: [\n", r"not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_POLICIES)
def test_bad_policy_files_fail_with_field_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_policy(text=text)


def test_missing_policy_file_is_a_config_error(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_policy(tmp_path / "absent.yaml")


def test_precedence_is_configurable_and_validated() -> None:
    rules = [rule.model_dump() for rule in load_policy().rules]
    default = load_policy()
    order = ("rollback", "scale-out", "scale-down", "deploy", "retrain")
    assert [default.rank(a) for a in order] == [0, 1, 2, 3, 4]
    custom = load_policy(text=json.dumps({"version": 1, "rules": rules, "precedence": ["retrain", "rollback"]}))
    assert custom.rank("retrain") < custom.rank("rollback") < custom.rank("scale-down") < custom.rank("scale-out")
    cases = ((["rollback", "rollback"], "twice"), (["notify"], "not a workflow"), (["reboot"], "unknown"))
    for bad, complaint in cases:
        with pytest.raises(ConfigError, match=complaint):
            load_policy(text=json.dumps({"version": 1, "rules": rules, "precedence": bad}))


def test_workflow_actions_are_registered_by_name_with_their_state_machine_variable() -> None:
    from llmops_sentinel.domain.remediation.registry import workflow_actions

    actions = workflow_actions()
    assert {name: a.env for name, a in actions.items()} == {
        "scale-out": "SENTINEL_SCALE_OUT_STATE_MACHINE_ARN",
        "scale-down": "SENTINEL_SCALE_DOWN_STATE_MACHINE_ARN",
        "rollback": "SENTINEL_ROLLBACK_STATE_MACHINE_ARN",
        "retrain": "SENTINEL_RETRAIN_STATE_MACHINE_ARN",
        "deploy": "SENTINEL_DEPLOY_STATE_MACHINE_ARN",
    }


def test_a_rule_naming_an_unregistered_action_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown action 'reboot'"):
        load_policy(text=json.dumps({"version": 1, "rules": [{"signal": "idle", "action": "reboot"}]}))

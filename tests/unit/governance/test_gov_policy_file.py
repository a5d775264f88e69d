"""Policy files: the packaged default, config/policies.yaml, and errors that name line and reason."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from llmops_sentinel.domain.governance import PolicyFileError, load_default_policies, load_policies, parse_policies
from llmops_sentinel.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]

GOOD = """\
version: 1
policies:
  - name: rotation
    resource: AWS::KMS::Key
    check: {type: kms-key-rotation-enabled}
    severity: MEDIUM
    remediation: {type: enable-key-rotation, rotation_period_days: 180}
    tags:
      include: {team: [ml, platform]}
      exclude: {sentinel: ignore}
    dry_run: false
"""


def test_packaged_defaults_cover_every_check() -> None:
    from llmops_sentinel.domain.governance import CHECKS

    policies = load_default_policies()
    assert {p.check_id for p in policies} == set(CHECKS)
    assert all(p.dry_run for p in policies), "defaults start in dry-run"


def test_config_policies_yaml_is_the_default_without_drift() -> None:
    assert load_policies(REPO / "config" / "policies.yaml").policies == load_default_policies().policies


def test_good_file_parses_with_params_and_scope() -> None:
    (policy,) = parse_policies(GOOD).policies
    assert policy.action_params.model_dump() == {"rotation_period_days": 180}
    assert policy.dry_run is False
    assert policy.tags.decide({"team": "ml"}) is True
    assert policy.tags.decide({"team": "ml", "sentinel": "ignore"}) is False
    assert policy.tags.decide({"team": "web"}) is False
    assert policy.tags.decide(None) is None


def test_extends_default_replaces_and_excludes() -> None:
    text = dedent(
        """\
        version: 1
        extends: default
        exclude: [model-vpc]
        policies:
          - name: kms-key-rotation
            resource: AWS::KMS::Key
            check: {type: kms-key-rotation-enabled}
            severity: HIGH
            remediation: {type: notify}
        """
    )
    policies = parse_policies(text)
    names = policies.names()
    assert "model-vpc" not in names and names.count("kms-key-rotation") == 1
    assert next(p for p in policies if p.name == "kms-key-rotation").severity.value == "HIGH"


BAD_CASES = [
    # (text, line, fragment of the reason)
    (GOOD.replace("severity: MEDIUM", "severity: urgent"), 6, "severity: Input should be"),
    (GOOD.replace("kms-key-rotation-enabled}", "kms-key-rotation}"), 5, "unknown check 'kms-key-rotation'"),
    (GOOD.replace("rotation_period_days: 180", "rotation_period_days: 7"), 7,
     "remediation.rotation_period_days: Input should be greater than or equal to 90"),
    (GOOD.replace("    dry_run: false\n", "    dry_run: false\n    dryrun: true\n"), 12,
     "dryrun: Extra inputs are not permitted"),
    (GOOD.replace("check: {type: kms-key-rotation-enabled}", "check: {type: kms-key-rotation-enabled, x: 1}"), 5,
     "check.x: Extra inputs are not permitted"),
    (GOOD.replace("resource: AWS::KMS::Key", "resource: AWS::SageMaker::Model"), 4,
     "applies to AWS::KMS::Key, not AWS::SageMaker::Model"),
    (GOOD.replace("{type: enable-key-rotation, rotation_period_days: 180}", "{type: detach-policy}"), 7,
     "cannot act on AWS::KMS::Key"),
    (GOOD.replace("    dry_run: false\n", "    dry_run: false\n    dry_run: true\n"), 12, "duplicate key 'dry_run'"),
    (GOOD + GOOD.split("policies:\n", 1)[1], 12, "duplicate policy name 'rotation'"),
    (GOOD.replace("    severity: MEDIUM\n", ""), 3, "severity: Field required"),
    (GOOD.replace("name: rotation", "name: Rotation Policy"), 3, "name: String should match pattern"),
    (GOOD.replace("version: 1", "version: 2"), 1, "version: Input should be 1"),
    (GOOD.replace("    check: {type: kms-key-rotation-enabled}", "    check: [oops"), 6, "invalid YAML"),
    ("- just\n- a list\n", 1, "a policy file is a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "reason"), BAD_CASES)
def test_bad_files_name_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        parse_policies(text, "policies.yaml")
    message = str(caught.value)
    assert f"policies.yaml:{line}:" in message, message
    assert reason in message, message
    assert isinstance(caught.value, ConfigError)  # the CLI's exit-2 family


def test_replace_endpoint_config_needs_the_fix_it_applies() -> None:
    text = dedent(
        """\
        version: 1
        policies:
          - name: kms
            resource: AWS::SageMaker::EndpointConfig
            check: {type: sagemaker-endpoint-config-kms}
            severity: HIGH
            remediation:
              type: replace-endpoint-config
              name_suffix: -fixed
        """
    )
    with pytest.raises(PolicyFileError, match=r"<policies>:7: policies\[0\].remediation: .*needs kms_key_id"):
        parse_policies(text)


def test_exclude_without_extends_and_unknown_default() -> None:
    with pytest.raises(PolicyFileError, match="exclude needs 'extends: default'"):
        parse_policies("version: 1\nexclude: [x]\npolicies: []\n")
    with pytest.raises(PolicyFileError, match=r":3: exclude\[0\]: no default policy named 'nope'"):
        parse_policies("version: 1\nextends: default\nexclude: [nope]\npolicies: []\n")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_policies(tmp_path / "absent.yaml")

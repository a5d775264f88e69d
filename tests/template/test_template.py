"""template.yaml: lint, validate, handlers import, substitutions resolve, least privilege, KMS."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import llmops_sentinel
from sentinel_dev.local.template import load_template, translate
from tests.conftest import REPO

TEMPLATE = REPO / "template.yaml"
BIN = Path(sys.executable).parent
SOURCE = load_template(TEMPLATE)
RESOURCES: dict[str, Any] = SOURCE.raw["Resources"]
TRANSLATED: dict[str, Any] = translate(SOURCE, "us-east-1")["Resources"]


def of_type(kind: str, resources: dict[str, Any] = RESOURCES) -> dict[str, Any]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False)


def test_cfn_lint_is_clean() -> None:
    result = run(str(BIN / "cfn-lint"), str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_is_clean() -> None:
    result = run(str(BIN / "sam"), "validate", "--lint", "--template-file", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


@pytest.mark.parametrize("logical_id", sorted(of_type("AWS::Serverless::Function")))
def test_every_handler_imports_from_its_code_uri(logical_id: str) -> None:
    handler = RESOURCES[logical_id]["Properties"]["Handler"]
    module_name, _, attribute = handler.rpartition(".")
    file = SOURCE.code_dirs[logical_id].joinpath(*module_name.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(f"_template_test_{logical_id}", file)
    assert spec is not None and spec.loader is not None, f"{logical_id}: no module at {file}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert callable(getattr(module, attribute, None)), f"{logical_id}: {handler} is not callable"


@pytest.mark.parametrize("logical_id", sorted(of_type("AWS::StepFunctions::StateMachine")))
def test_every_asl_placeholder_has_a_substitution_and_none_is_unused(logical_id: str) -> None:
    props = RESOURCES[logical_id]["Properties"]
    text = (REPO / props["DefinitionS3Location"]).read_text()
    json.loads(text)  # the file itself stays valid JSON (numbers go through States.StringToJson)
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
    given = set(props.get("DefinitionSubstitutions", {}))
    assert used - given == set(), f"placeholders without substitution: {used - given}"
    assert given - used == set(), f"substitutions never used: {given - used}"


@pytest.mark.parametrize("logical_id", sorted(of_type("AWS::StepFunctions::StateMachine")))
def test_state_machines_log_and_trace(logical_id: str) -> None:
    props = RESOURCES[logical_id]["Properties"]
    assert props["TracingConfiguration"]["Enabled"] is True
    assert props["LoggingConfiguration"]["Destinations"], "no log destination"


def test_there_are_seven_state_machines_and_no_sam_ones() -> None:
    # AWS::Serverless::StateMachine cannot carry EncryptionConfiguration (aws/serverless-application-model#3925).
    assert len(of_type("AWS::StepFunctions::StateMachine")) == 7
    assert not of_type("AWS::Serverless::StateMachine")


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(owner: str, node: Any) -> None:
        if isinstance(node, dict):
            if "Statement" in node and isinstance(node["Statement"], list):
                found.extend((owner, s) for s in node["Statement"])
            for value in node.values():
                walk(owner, value)
        elif isinstance(node, list):
            for item in node:
                walk(owner, item)

    for logical_id, resource in resources.items():
        walk(logical_id, resource.get("Properties", {}))
    return found


def test_policies_exist_to_be_checked() -> None:
    owners = {owner for owner, _ in _statements(TRANSLATED)}
    assert {"SentinelKey", "AlarmRouterFunctionRole", "ScaleOutStateMachineRole"} <= owners


@pytest.mark.parametrize(("owner", "statement"), _statements(TRANSLATED), ids=lambda v: v if isinstance(v, str) else "")
def test_no_wildcard_or_negated_actions(owner: str, statement: dict[str, Any]) -> None:
    assert "NotAction" not in statement, f"{owner}: NotAction grants everything else"
    actions = statement.get("Action", [])
    for action in [actions] if isinstance(actions, str) else actions:
        assert "*" not in str(action), f"{owner}: wildcard action {action}"


def test_functions_log_to_kms_encrypted_groups_of_this_stack() -> None:
    groups = of_type("AWS::Logs::LogGroup")
    for logical_id, function in of_type("AWS::Serverless::Function").items():
        target = function["Properties"].get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
        assert target in groups, f"{logical_id}: LoggingConfig.LogGroup must Ref a template LogGroup"
    for logical_id, group in groups.items():
        assert "KmsKeyId" in group["Properties"], f"{logical_id} is not KMS-encrypted"
        assert "RetentionInDays" in group["Properties"], f"{logical_id} keeps logs forever"


def test_everything_that_stores_data_uses_kms() -> None:
    for logical_id, topic in of_type("AWS::SNS::Topic").items():
        assert topic["Properties"].get("KmsMasterKeyId"), f"{logical_id}: topic without KMS"
    for logical_id, queue in of_type("AWS::SQS::Queue").items():
        assert queue["Properties"].get("KmsMasterKeyId"), f"{logical_id}: queue without KMS"
    for logical_id, bucket in of_type("AWS::S3::Bucket").items():
        rules = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", logical_id
    for logical_id, table in of_type("AWS::DynamoDB::Table").items():
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse.get("KMSMasterKeyId"), logical_id
    for logical_id, key in of_type("AWS::KMS::Key").items():
        assert key["Properties"]["EnableKeyRotation"] is True, f"{logical_id}: rotation off"


def test_the_layer_is_the_package_the_venv_imports() -> None:
    layer = next(iter(of_type("AWS::Serverless::LayerVersion")))
    assert SOURCE.code_dirs[layer] == Path(llmops_sentinel.__file__).resolve().parent.parent

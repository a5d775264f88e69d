"""Dead letters in the local cloud, and `sentinel redrive` replaying them to the target they missed.

A failed asynchronous invocation really lands on the stack's AsyncInvokeFailureQueue (the local
runtime sends it there as Lambda's on-failure destination does); a rule-target dead letter is put on
EventDeliveryDeadLetterQueue in EventBridge's shape (body = the event, TARGET_ARN attribute).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from llmops_sentinel.adapters.dynamodb import SentinelTable
from sentinel_dev.cli.main import main
from sentinel_dev.local.cloud import LocalCloud
from tests.conftest import EVENTS, load_json

IN_SERVICE = load_json(EVENTS / "endpoint_tracker" / "endpoint_in_service.json")
ENDPOINT = IN_SERVICE["detail"]["EndpointName"]


@pytest.fixture(scope="module")
def module_cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as cloud:
        yield cloud


@pytest.fixture
def cloud(module_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalCloud]:
    """The shared cloud, with the CLI's AWS calls aimed at it and both dead-letter queues emptied after."""
    for key, value in module_cloud.function_environment().items():
        monkeypatch.setenv(key, value)
    yield module_cloud
    sqs = module_cloud.client("sqs")
    for output in ("AsyncInvokeFailureQueueUrl", "EventDeliveryDeadLetterQueueUrl"):
        url = module_cloud.stack.outputs[output]
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _visible(cloud: LocalCloud, output: str) -> int:
    attributes = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.stack.outputs[output], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _in_service(config: str) -> dict[str, Any]:
    event = copy.deepcopy(IN_SERVICE)
    event["detail"]["EndpointConfigName"] = config
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def _configs(cloud: LocalCloud) -> list[str]:
    return [name for _, name in SentinelTable(cloud.stack.ref("SentinelTable")).config_history(ENDPOINT)]


def _break_tracker(cloud: LocalCloud) -> None:
    cloud.runtime.update_environment("EndpointTrackerFunction", {"SENTINEL_TABLE_NAME": "no-such-table"})


def _mend_tracker(cloud: LocalCloud) -> None:
    cloud.runtime.update_environment(
        "EndpointTrackerFunction", {"SENTINEL_TABLE_NAME": cloud.stack.ref("SentinelTable")}
    )


def _deliver_while_broken(cloud: LocalCloud, config: str) -> None:
    _break_tracker(cloud)
    try:
        event = _in_service(config)
        cloud.put_event(event["source"], event["detail-type"], event["detail"], resources=event["resources"])
    finally:
        _mend_tracker(cloud)


def test_a_failed_async_invocation_is_dead_lettered_and_redrive_replays_it(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    queue = cloud.stack.outputs["AsyncInvokeFailureQueueUrl"]
    _deliver_while_broken(cloud, "config-lost-then-replayed")
    assert _visible(cloud, "AsyncInvokeFailureQueueUrl") == 1
    assert "config-lost-then-replayed" not in _configs(cloud)

    assert main(["redrive", "--queue", queue, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would-replay" in out and "lambda-on-failure" in out and "EndpointTrackerFunction" in out
    assert _visible(cloud, "AsyncInvokeFailureQueueUrl") == 1, "a dry run must leave the message"
    assert "config-lost-then-replayed" not in _configs(cloud)

    assert main(["redrive", "--queue", queue]) == 0
    assert "replayed 1 of 1 dead letters; 0 kept" in capsys.readouterr().out
    assert "config-lost-then-replayed" in _configs(cloud)
    assert _visible(cloud, "AsyncInvokeFailureQueueUrl") == 0


def test_a_replay_that_fails_again_stays_in_the_queue_with_exit_1(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    _deliver_while_broken(cloud, "config-still-broken")
    _break_tracker(cloud)
    try:
        code = main(["redrive", "--queue", "sentinel-async-invoke-failures", "--json"])
    finally:
        _mend_tracker(cloud)
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [m["outcome"] for m in report["messages"]] == ["failed"]
    assert "ResourceNotFoundException" in report["messages"][0]["why"]
    assert _visible(cloud, "AsyncInvokeFailureQueueUrl") == 1, "kept, and visible again at once"


def test_a_rule_target_dead_letter_is_replayed_to_its_target(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker = cloud.stack.function("EndpointTrackerFunction").arn
    queue = cloud.stack.outputs["EventDeliveryDeadLetterQueueUrl"]
    arn = cloud.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    cloud.client("sqs").send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(_in_service("config-from-a-rule-dead-letter")),
        MessageAttributes={
            "RULE_ARN": {
                "DataType": "String",
                "StringValue": cloud.stack.attribute("EndpointTrackerFunctionEndpointInService", "Arn"),
            },
            "TARGET_ARN": {"DataType": "String", "StringValue": tracker},
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
        },
    )
    assert main(["redrive", "--queue", arn]) == 0
    assert "rule-target" in capsys.readouterr().out
    assert "config-from-a-rule-dead-letter" in _configs(cloud)
    assert _visible(cloud, "EventDeliveryDeadLetterQueueUrl") == 0


def test_a_message_naming_no_target_is_kept_and_reported(cloud: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    queue = cloud.stack.outputs["EventDeliveryDeadLetterQueueUrl"]
    cloud.client("sqs").send_message(QueueUrl=queue, MessageBody="not json at all")
    assert main(["redrive", "--queue", queue]) == 1
    out = capsys.readouterr().out
    assert "skipped" in out and "body is not JSON" in out and "1 kept" in out
    assert _visible(cloud, "EventDeliveryDeadLetterQueueUrl") == 1


def test_an_unknown_queue_is_bad_input_in_one_line(cloud: LocalCloud, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redrive", "--queue", "no-such-queue"]) == 2
    err = capsys.readouterr().err
    assert "no-such-queue" in err and len(err.strip().splitlines()) == 1

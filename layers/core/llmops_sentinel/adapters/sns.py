"""SNS: notifications to the stack's (KMS-encrypted) topic."""

from __future__ import annotations

from typing import Any

from llmops_sentinel.adapters.clients import client


class Notifier:
    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self.topic_arn = topic_arn
        self._sns = sns

    def publish(self, subject: str, message: str) -> str:
        sns = self._sns or client("sns")
        # SNS subjects: ASCII, no line breaks, at most 100 characters.
        safe = subject.encode("ascii", "replace").decode().replace("\n", " ")[:100]
        response: dict[str, Any] = sns.publish(TopicArn=self.topic_arn, Subject=safe, Message=message)
        return str(response["MessageId"])

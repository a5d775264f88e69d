"""EventBridge delivery to Lambda and Step Functions targets, which moto's rules cannot do.

moto matches events against rule patterns correctly but its ``Rule.send_to_targets`` raises for
Lambda and Step Functions targets (HTTP 500 from ``PutEvents``). We wrap that method: moto's own
matcher and input transformer decide whether and what to deliver; this module delivers to the two
missing target kinds and leaves every other target kind to moto.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moto.events.models import Rule
from moto.events.utils import EventTemplateParser

Deliver = Callable[[str, dict[str, Any], str], str]
"""(target ARN, event, rule name) -> outcome text."""

_ORIGINAL_SEND = Rule.send_to_targets
_deliver: Deliver | None = None


def _is_ours(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) > 5 and (
        (parts[2] == "lambda" and parts[5] == "function") or (parts[2] == "states" and parts[5] == "stateMachine")
    )


def _as_aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """moto keeps ``time`` as epoch seconds and adds ``ingestion-time``; AWS sends ISO-8601."""
    shaped = {k: v for k, v in event.items() if k != "ingestion-time"}
    stamp = shaped.get("time")
    if isinstance(stamp, int | float):
        shaped["time"] = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(stamp, datetime):
        shaped["time"] = stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def _target_input(target: dict[str, Any], event: Any) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        node: Any = event
        for part in str(target["InputPath"]).removeprefix("$").strip(".").split("."):
            if part:
                node = node[part]
        return node
    transformer = target.get("InputTransformer")
    if transformer:
        rendered = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,
        )
        return rendered
    return event


def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    if self.scheduled_expression and not self.event_pattern.dump():
        # A schedule rule matches no event (AWS); moto's empty pattern matches every event, and its S3
        # notifications offer each event to every rule, so a PutObject would run every scheduled function.
        return
    ours = [t for t in self.targets if _is_ours(t["Arn"])]
    if ours and _deliver is not None and self.event_pattern.matches_event(original_event):
        event = _as_aws_event(original_event)
        for target in ours:
            _deliver(target["Arn"], _target_input(target, event), self.name)
    rest = [t for t in self.targets if not _is_ours(t["Arn"])]
    if rest:
        clone = copy.copy(self)
        clone.targets = rest
        _ORIGINAL_SEND(clone, original_event, transform_input)


def install(deliver: Deliver) -> None:
    """Route Lambda/Step Functions rule targets to ``deliver`` (one local cloud at a time)."""
    global _deliver
    _deliver = deliver
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign,assignment]


def uninstall() -> None:
    global _deliver
    _deliver = None
    Rule.send_to_targets = _ORIGINAL_SEND  # type: ignore[method-assign]

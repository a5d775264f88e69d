"""Cheap local quality signals: ``truncated`` and ``invalid_json``, per record shape and on both ingest paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from llmops_sentinel.domain.drift.features import extract_features, registered_features
from llmops_sentinel.domain.drift.ingest import profile_lines
from llmops_sentinel.domain.drift.profiles import CategoricalProfile, profile_batch
from llmops_sentinel.domain.drift.records import parse_lines, parse_record


def _capture(request: Any, response: Any, event_id: str = "e1") -> dict[str, Any]:
    return {
        "captureData": {
            "endpointInput": {"data": orjson.dumps(request).decode(), "encoding": "JSON"},
            "endpointOutput": {"data": orjson.dumps(response).decode(), "encoding": "JSON"},
        },
        "eventMetadata": {"eventId": event_id, "inferenceTime": "2024-05-01T10:00:00Z"},
    }


def _openai(answer: str = "ok", reason: str | None = "stop", **request: Any) -> dict[str, Any]:
    choice: dict[str, Any] = {"message": {"role": "assistant", "content": answer}}
    if reason is not None:
        choice["finish_reason"] = reason
    return _capture(
        {"messages": [{"role": "user", "content": "q"}], **request},
        {"choices": [choice], "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
    )


def _tgi(answer: str = "ok", reason: str | None = "eos_token", **parameters: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"inputs": "q"}
    if parameters:
        request["parameters"] = parameters
    details: dict[str, Any] = {"generated_tokens": 3}
    if reason is not None:
        details["finish_reason"] = reason
    return _capture(request, [{"generated_text": answer, "details": details}])


def _anthropic(answer: str = "ok", reason: str | None = "end_turn") -> dict[str, Any]:
    """A Bedrock InvokeModel capture of an Anthropic Messages body (request and response as the API has them)."""
    request = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "q?"}]}],
    }
    response: dict[str, Any] = {
        "id": "msg_bdrk_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-haiku-20240307",
        "content": [{"type": "text", "text": answer}],
        "stop_reason": reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 64},
    }
    return _capture(request, response)


def _anthropic_body(reason: str) -> Any:
    return orjson.loads(_anthropic(reason=reason)["captureData"]["endpointOutput"]["data"])


def _features(obj: dict[str, Any]) -> dict[str, Any]:
    rec = parse_record(obj)
    table = extract_features([rec], ["truncated", "invalid_json"])
    return {name: col[0] for name, col in table.values.items()}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_openai(reason="length"), True),  # OpenAI / vLLM: cut at max_tokens
        (_openai(reason="stop"), False),
        (_openai(reason="content_filter"), False),
        (_openai(reason=None), None),  # nothing stated: unknown, not "not truncated"
        (_tgi(reason="length"), True),  # TGI details.finish_reason
        (_tgi(reason="eos_token"), False),
        (_tgi(reason="stop_sequence"), False),
        (_tgi(reason=None), None),
        # a log line with the Bedrock / Anthropic stop flag next to the prompt and the answer
        ({"prompt": "q", "response": "a", "stop_reason": "max_tokens"}, True),
        ({"prompt": "q", "response": "a", "stop_reason": "end_turn"}, False),
        ({"prompt": "q", "response": "a", "finish_reason": "LENGTH"}, True),  # Titan spells it in capitals
        ({"prompt": "q", "response": "a"}, None),
        # Bedrock InvokeModel, Anthropic Messages body: stop_reason inside the body
        (_anthropic(reason="max_tokens"), True),
        (_anthropic(reason="end_turn"), False),
        (_anthropic(reason="stop_sequence"), False),
        (_anthropic(reason=None), None),
        # the same body in a log line's response, and the legacy Text Completions body
        ({"request": {"prompt": "q"}, "response": _anthropic_body("max_tokens")}, True),
        (_capture({"prompt": "\n\nHuman: q\n\nAssistant:"}, {"completion": " a", "stop_reason": "max_tokens"}), True),
    ],
)
def test_truncated_per_shape(obj: dict[str, Any], expected: bool | None) -> None:
    assert _features(obj)["truncated"] is expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_openai('{"a": 1}', response_format={"type": "json_object"}), False),
        (_openai('{"a": 1', response_format={"type": "json_object"}), True),  # cut mid-object
        (_openai('```json\n{"a": 1}\n```', response_format={"type": "json_schema", "json_schema": {}}), True),
        (_openai("", response_format={"type": "json_object"}), True),  # asked for JSON, got nothing
        (_openai("not json"), None),  # JSON not asked for: no verdict
        (_openai("not json", response_format={"type": "text"}), None),
        (_openai("not json", response_format={"type": ["odd"]}), None),  # odd value: not JSON mode, no error
        (_openai("not json", response_format="json_object"), None),
        (_tgi('{"x": [1, 2]}', grammar={"type": "json", "value": {}}), False),  # TGI guidance grammar
        (_tgi("{x: 1}", grammar={"type": "json", "value": {}}), True),
        (_tgi("{x: 1}", grammar={"type": "regex", "value": "x"}), None),
        (_openai("[1, 2, 3]", guided_json={"type": "array"}), False),  # vLLM guided decoding
        (_openai("[1, 2", guided_json={"type": "array"}), True),
        ({"prompt": "q", "response": "{}", "response_format": {"type": "json_object"}}, False),
    ],
)
def test_invalid_json_only_when_json_was_asked_for(obj: dict[str, Any], expected: bool | None) -> None:
    assert _features(obj)["invalid_json"] is expected


def test_anthropic_body_gives_answer_tokens_and_model() -> None:
    """The answer is the text blocks (a tool_use block is not text), usage and model are read."""
    obj = _anthropic("Hello", "max_tokens")
    body = orjson.loads(obj["captureData"]["endpointOutput"]["data"])
    body["content"] = [
        {"type": "text", "text": "I'm sorry, "},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
        {"type": "text", "text": "no."},
    ]
    obj["captureData"]["endpointOutput"]["data"] = orjson.dumps(body).decode()
    rec = parse_record(obj)
    assert (rec.response, rec.finish_reason, rec.input_tokens, rec.output_tokens, rec.model) == (
        "I'm sorry, no.",
        "max_tokens",
        12,
        64,
        "claude-3-haiku-20240307",
    )
    assert rec.prompt_chars == 2
    table = extract_features([rec], ["truncated", "refusal_like", "tokens_estimated"])
    assert {name: col[0] for name, col in table.values.items()} == {
        "truncated": True,
        "refusal_like": True,
        "tokens_estimated": False,
    }


def test_registered_as_boolean_llm_features() -> None:
    registry = registered_features()
    for name in ("truncated", "invalid_json"):
        assert (registry[name].kind, registry[name].group) == ("boolean", "llm")


def _counts(profile: Any, name: str) -> tuple[dict[str, float], int]:
    p = profile.features[name]
    assert isinstance(p, CategoricalProfile)
    return p.counts(), p.missing


def test_both_ingest_paths_give_the_same_rates(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    """The columnar fast path (typed decoding) and the record path agree on every shape and odd value."""
    odd = [
        _openai(reason="length"),
        _openai(reason="LENGTH"),
        _openai(reason="max_tokens"),
        _openai(reason=None),
        _openai('{"a": 1}', response_format={"type": "json_object"}),
        _openai('{"a": ', response_format={"type": "json_object"}),
        _openai("", response_format={"type": "json_schema"}),
        _openai("x", response_format={"type": None}),
        _openai("x", response_format={"type": 3}),
        _openai("x", response_format=None),
        _openai("x", response_format="json"),
        _openai("x", response_format={"type": "json_object", "extra": [1]}),
        _openai("[1]", guided_json={}),
        _openai("[1", parameters={"guided_json": {}}),
        _tgi("{}", grammar={"type": "json"}),
        _tgi("{", grammar={"type": "json"}),
        _tgi(reason="length"),
        _anthropic(reason="max_tokens"),
        _anthropic(reason="end_turn"),
    ]
    lines = chat_lines(300, 4)
    for i, obj in enumerate(odd):
        obj["eventMetadata"]["eventId"] = f"odd-{i}"
        lines.insert(i * 7, orjson.dumps(obj))
    general = profile_batch(parse_lines(lines), rng=np.random.default_rng(1))
    fast = profile_lines(lines, rng=np.random.default_rng(1)).profile
    assert fast.kinds == general.kinds
    for name in ("truncated", "invalid_json", "finish_reason"):
        assert _counts(fast, name) == _counts(general, name), name
    # length, LENGTH, max_tokens, TGI length, Anthropic max_tokens
    assert _counts(general, "truncated")[0]["true"] == 5
    assert _counts(general, "invalid_json") == ({"true": 5.0, "false": 3.0}, 300 + len(odd) - 8)


def test_no_json_mode_no_invalid_json_feature(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    """Traffic that never asks for JSON has no invalid_json profile on either path (all None)."""
    lines = chat_lines(50, 2)
    assert "invalid_json" not in profile_lines(lines).profile.features
    assert "invalid_json" not in profile_batch(parse_lines(lines)).features

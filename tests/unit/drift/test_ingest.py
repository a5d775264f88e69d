"""The columnar ingest (profile_lines) equals the record-object path (profile_batch(parse_lines))."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pytest

from llmops_sentinel.domain.drift import features as features_module
from llmops_sentinel.domain.drift import ingest
from llmops_sentinel.domain.drift.features import (
    _REFUSAL_RE,
    ASCII_NOT_REFUSAL_OR_EMPTY,
    REFUSAL_PATTERNS,
    FeatureExtractor,
)
from llmops_sentinel.domain.drift.ingest import profile_lines
from llmops_sentinel.domain.drift.profiles import (
    CategoricalProfile,
    EmbeddingProfile,
    EndpointProfile,
    NumericProfile,
    profile_batch,
)
from llmops_sentinel.domain.drift.records import _ALIAS_EXTRAS, parse_lines


def assert_same_profile(fast: EndpointProfile, general: EndpointProfile) -> None:
    assert (fast.records_ok, fast.records_failed) == (general.records_ok, general.records_failed)
    assert (fast.window_start, fast.window_end) == (general.window_start, general.window_end)
    assert fast.kinds == general.kinds
    for name, g in general.features.items():
        f = fast.features[name]
        if isinstance(g, NumericProfile):
            assert isinstance(f, NumericProfile)
            assert (f.count, f.missing, f.min, f.max) == (g.count, g.missing, g.min, g.max), name
            assert f.mean == pytest.approx(g.mean, rel=1e-9, abs=1e-12), name
            assert f.m2 == pytest.approx(g.m2, rel=1e-9, abs=1e-9), name
            eps = max(f.rank_error, g.rank_error)
            for q in (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
                if eps == 0:
                    assert f.sketch.get_quantile(q) == g.sketch.get_quantile(q), name
                else:  # the fast sketch's quantile sits at the right rank of the general one (ties: a range)
                    v = f.sketch.get_quantile(q)
                    lo, hi = g.sketch.get_rank(v, False), g.sketch.get_rank(v, True)
                    assert lo - 2 * eps - 1e-9 <= q <= hi + 2 * eps + 1e-9, name
        elif isinstance(g, CategoricalProfile):
            assert isinstance(f, CategoricalProfile)
            assert (f.counts(), f.missing) == (g.counts(), g.missing), name
        else:
            assert isinstance(f, EmbeddingProfile) and isinstance(g, EmbeddingProfile)
            assert (f.count, f.missing) == (g.count, g.missing)
            np.testing.assert_array_equal(f.total, g.total)
            np.testing.assert_array_equal(f.reservoir, g.reservoir)  # same order, same rng draws


def check(lines: list[bytes], features: list[str] | None = None) -> None:
    result = parse_lines(lines)
    general = profile_batch(result, features=features, rng=np.random.default_rng(7))
    fast = profile_lines(lines, features=features, rng=np.random.default_rng(7))
    assert [(type(e), e.ref, e.reason) for e in fast.errors] == [(type(e), e.ref, e.reason) for e in result.errors]
    assert_same_profile(fast.profile, general)


def _capture(
    pin: object, pout: object, event_id: str = "e", when: object = "2024-05-01T10:00:00Z", encoding: str = "JSON"
) -> bytes:
    data_in = pin if isinstance(pin, str) else orjson.dumps(pin).decode()
    data_out = pout if isinstance(pout, str) else orjson.dumps(pout).decode()
    return orjson.dumps(
        {
            "captureData": {
                "endpointInput": {"data": data_in, "encoding": encoding},
                "endpointOutput": {"data": data_out, "encoding": encoding},
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": when},
        }
    )


def _chat(content: object = "hi", answer: object = "hello", usage: object = None, **extra: object) -> bytes:
    out = {
        "choices": [{"message": {"content": answer}, "finish_reason": extra.pop("reason", "stop")}],
        "usage": usage if usage is not None else {"prompt_tokens": 3, "completion_tokens": 2},
        **extra,
    }
    return _capture(
        {"messages": [{"role": "user", "content": content}]},
        out,
        **{k: extra.pop(k) for k in ("event_id", "when", "encoding") if k in extra},
    )


_REQ = '{"messages":[{"role":"user","content":"hi"}]}'
_RESP = (
    '{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],'
    '"usage":{"completion_tokens":1,"prompt_tokens":2}}'
)


def mixed_batch(chat_lines: Callable[[int, int], list[bytes]]) -> list[bytes]:
    good = chat_lines(400, 11)
    odd = [
        b"{broken",
        b"",
        b"   ",
        b"[1, 2]",
        b'{"nested": {"x": 1}}',
        b'"just a string"',
        _chat(usage={"prompt_tokens": True, "completion_tokens": 2}),  # bool token count: error
        _chat(usage={"prompt_tokens": -1, "completion_tokens": 2}),  # negative: error
        _chat(usage={"prompt_tokens": 2.0, "completion_tokens": 2}),  # float: error
        _chat(latency_ms=120),  # int latency: converted by the general path
        _chat(latency_ms="130.5"),  # numeric string: converted
        _chat(latency_ms="fast"),  # not a number: error
        _chat(latency_ms=True),  # bool: error
        _chat(latencyMs=99.0, ttft_ms=9.0),  # alias key
        _chat(tokens_per_s=55.5, latency_ms=300.0),  # stated tokens/s
        _chat(latency_ms=300.0, ttft_ms=300.0),  # decode time 0: no tokens/s
        _chat(embedding=[0.1, 0.2, 0.3]),
        _chat(embedding=[0.3, 0.2, 0.1]),
        _chat(embedding="nope"),  # error
        _chat(content=[{"type": "text", "text": "multi"}, {"type": "image"}]),
        _chat(content=None),
        _chat(answer=None),
        _chat(answer=""),
        _chat(answer="  \n "),
        _chat(answer="\u201cI cannot do that"),
        _chat(answer="I am sorry"),
        _chat(answer="Sorry!"),
        _chat(answer="\u0131'm sorry"),
        _chat(answer="ask me"),
        _chat(answer="As an AI model"),
        _chat(reason={"odd": 1}),
        _chat(reason=["x"]),
        _chat(reason=None),
        _chat(reason=3),
        _chat(when="{%s}"),
        _chat(when=None),
        _chat(when="2023-01-01T00:00:00Z"),
        _chat(when="\u0663x"),
        _chat(event_id=""),
        _chat(encoding="CSV"),
        _capture("not json", {"choices": []}),
        _capture({"messages": "x"}, {"choices": [1]}),
        _capture({"inputs": "abc"}, {"generated_text": "de", "details": {"generated_tokens": 2}}),
        _capture({"messages": []}, {"choices": []}),
        _capture({"messages": [{"content": "q"}]}, {"choices": [{"message": {"content": "a"}}]}),  # no usage
        _capture({"messages": [{"content": "q"}]}, {"choices": [{"message": {"content": "a"}}], "usage": [1]}),
        orjson.dumps(
            {
                "captureData": {
                    "endpointInput": {
                        "data": base64.b64encode(b"1,2,3").decode(),
                        "encoding": "BASE64",
                        "observedContentType": "text/csv",
                    },
                    "endpointOutput": {"data": "0.7", "encoding": "CSV"},
                },
                "eventMetadata": {"eventId": "csv-1"},
            }
        ),
        orjson.dumps(
            {
                "captureData": {"endpointInput": {"data": "%%%", "encoding": "BASE64"}},
                "eventMetadata": {"eventId": "b64-bad"},
            }
        ),
        orjson.dumps({"captureData": {"endpointInput": {"data": "1,2", "encoding": "XML"}}}),
        orjson.dumps({"age": 3, "country": "FR", "latency_ms": 2.5}),
        orjson.dumps({"prompt": "hello", "response": "I'm sorry", "input_tokens": 2}),
        # typed decoding (msgspec) vs the general path (orjson): each of these must end the same way
        _chat(content="h\u00e9llo w\u00f6rld \u2713", answer="r\u00e9ponse \U0001f600"),  # non-ASCII, valid
        _chat().replace(b'"eventId":"e"', b'"eventId":"\xffe"'),  # bad UTF-8 in a field no feature reads
        _chat().replace(b'\\"stop\\"', b'\\"st\xc0\xafp\\"'),  # overlong UTF-8 in a payload string
        _chat(usage={"prompt_tokens": 2**63, "completion_tokens": 2}),  # int, beyond int64: general path
        _chat(usage={"prompt_tokens": 2**64 - 1, "completion_tokens": 2}),
        _chat(usage={"prompt_tokens": 3}),  # no completion_tokens
        _chat(usage={"prompt_tokens": None, "completion_tokens": 2}),
        _chat(latency_ms=2**64 - 1, ttft_ms=-0.0),  # int beyond int64 as a float, negative zero
        _chat(latency_ms=None, ttft_ms=None, tokens_per_s=None),
        _chat(tokens_per_second=12.0),
        _chat(time_to_first_token_ms=None),
        _chat(embedding=None),
        _chat(content=["a", {"type": "text", "text": "bc"}, {"text": None}, {"type": "image_url"}]),
        _chat(content=[{"text": 5}]),
        _chat(content=[3]),
        _chat(content={"text": "x"}),
        _chat(answer=["a"]),
        _chat(when=5),
        _chat(reason=""),
        _capture({"messages": [{"content": "q"}, "not an object"]}, {"choices": []}),
        _capture(
            {"messages": [{"content": "q"}]},
            {
                "choices": [{"message": {"content": "a"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1},
            },
        ).replace(b'"eventMetadata":{"eventId":"e","inferenceTime":"2024-05-01T10:00:00Z"}', b'"eventMetadata":null'),
        orjson.dumps({"captureData": orjson.loads(_chat())["captureData"]}),  # no eventMetadata
        _chat().replace(b'{"captureData"', b'{"captureData":{},"captureData"', 1),  # duplicate key: last wins
        _capture(_REQ, _RESP.replace('"usage":{', '"usage":{"prompt_tokens":-5,')),  # duplicate, first bad
        _capture(_REQ, _RESP.replace('"usage":{', '"usage":{"prompt_tokens":"x",')),
        _capture(_REQ, _RESP.replace('"finish_reason":"stop"', '"finish_reason":"stop","finish_reason":"length"')),
        _capture(_REQ, _RESP.replace('"choices":', '"choices":[],"choices":')),
        _chat().replace(b'"hello', b'"\\ud800hello'),  # lone surrogate escape in a payload
        _chat(deep=orjson.loads("[" * 40 + "1" + "]" * 40)),  # nested unread field
        # nesting orjson takes (<= 1024) and msgspec does not (~1000): general path
        _chat().replace(b'"eventId":"e"', b'"eventId":"e","deep":' + b"[" * 1010 + b"]" * 1010),
    ]
    out = []
    for i, line in enumerate(good):  # spread the odd ones through the batch
        out.append(line)
        if i % 8 == 0 and odd:
            out.append(odd.pop())
    return out + odd


def test_fast_equals_general_on_chat_traffic(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    check(chat_lines(1500, 3))


def test_fast_equals_general_with_malformed_and_other_shapes(
    chat_lines: Callable[[int, int], list[bytes]],
) -> None:
    lines = mixed_batch(chat_lines)
    check(lines)
    check(lines, ["llm"])
    check(lines, ["prompt_chars", "tokens_per_s", "finish_reason", "columns", "embedding"])
    result = profile_lines(iter(lines))  # any iterable
    assert len(result.errors) == len(parse_lines(lines).errors) > 5
    assert all(e.ref for e in result.errors)


def test_fast_equals_general_on_shared_fixtures(sagemaker_fixtures: Path) -> None:
    files = sorted(sagemaker_fixtures.rglob("*.jsonl"))
    assert files
    for path in files:
        check(path.read_bytes().splitlines())


def test_str_lines_equal_bytes_lines(chat_lines: Callable[[int, int], list[bytes]]) -> None:
    # str input, lone surrogates included (what decode(errors="surrogateescape") gives for bad UTF-8)
    check([line.decode("utf-8", "surrogateescape") for line in mixed_batch(chat_lines)])  # type: ignore[misc]


def test_typed_decoding_sends_every_alias_key_to_the_general_path() -> None:
    assert {*_ALIAS_EXTRAS, "embedding"} == ingest._TYPED_ALIASES
    for key in sorted(ingest._TYPED_ALIASES):
        line = _chat(**{key: 1.0})
        assert ingest._scan([line], 0)[2] == [0], key
        check([line, _chat()])


def test_known_difference_number_beyond_float_range_in_an_unread_field() -> None:
    # The one place typed decoding is more lenient than orjson: it skips fields no feature reads without
    # converting their numbers, so 1e400 there does not fail it; orjson (the general path) rejects the
    # line. The record's features are all valid, so the fast path profiles it. The typed path also reads
    # the attributes group (a capture's model), so the default selection shows the same difference.
    llm_only = ["llm"]
    line = _chat().replace(b'"eventId":"e"', b'"eventId":"e","n":1e400')
    assert [type(e).__name__ for e in parse_lines([line]).errors] == ["MalformedRecordError"]
    result = profile_lines([line], features=llm_only)
    assert (result.profile.records_ok, result.errors) == (1, [])
    assert profile_lines([line]).profile.records_ok == 1  # default selection (attributes): typed path too
    inside = _capture(_REQ, _RESP.replace('"usage":{', '"usage":{"total_tokens":1e400,'))  # in a payload
    assert len(parse_lines([inside]).errors) == 1
    assert profile_lines([inside], features=llm_only).profile.records_ok == 1


def test_empty_and_all_bad_batches() -> None:
    check([])
    check([b"", b"{x", b"[]"])


def test_plugin_extractor_takes_the_record_path(
    chat_lines: Callable[[int, int], list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "test_ingest_plugin"
    plugin = FeatureExtractor(name, "numeric", "test_ingest", lambda rec: 1.0, "")
    monkeypatch.setitem(features_module._REGISTRY, name, plugin)  # undone after the test
    check(chat_lines(50, 1), ["llm", name])
    assert name in profile_lines(chat_lines(5, 1), features=[name]).profile.features


def test_refusal_prefilter_is_sound() -> None:
    # every pattern opens with a literal letter, so the first character of a match is known
    for pattern in REFUSAL_PATTERNS:
        assert pattern[0].isalpha() and pattern[1] not in "*+?{|", pattern
    for c in ASCII_NOT_REFUSAL_OR_EMPTY:
        assert not c.isspace()
        for pattern in REFUSAL_PATTERNS:
            assert re.match(pattern, c + "x", re.IGNORECASE) is None
        assert _REFUSAL_RE.match(c + "'m sorry") is None
    for text in ("I'm sorry", " sorry", '"I cannot', "As an AI", "Unfortunately, I cannot", ""):
        assert text[:1] not in ASCII_NOT_REFUSAL_OR_EMPTY

"""Sampled Comprehend quality signals: deterministic sampling, batching within the documented API limits,
the error/time budget, and the Firehose path end to end.

moto 5.2 implements Comprehend's DetectPiiEntities but not DetectToxicContent, so every Comprehend call
here goes through a real boto3 client wired to a botocore ``Stubber``: the Stubber checks each request's
parameters against the service model and against the exact parameters we expect, and fails on any call
nobody planned for. botocore's model carries no maximum for TextSegments or Text, so the documented
limits (10 segments of at most 1 KB, 10 KB a list; 100 KB a PII text) are checked on the requests sent.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import orjson
import pytest
from botocore.stub import Stubber

from llmops_sentinel.adapters.comprehend import Comprehend
from llmops_sentinel.adapters.s3 import profile_key
from llmops_sentinel.domain.drift.monitors import load_monitors
from llmops_sentinel.domain.drift.profiles import CategoricalProfile, NumericProfile, profile_from_json
from llmops_sentinel.domain.drift.records import InferenceRecord
from llmops_sentinel.domain.quality import (
    MAX_PII_BYTES,
    MAX_SEGMENT_BYTES,
    MAX_TOXICITY_LIST_BYTES,
    MAX_TOXICITY_SEGMENTS,
    CallBudget,
    QualityConfig,
    is_sampled,
    plan_calls,
    sample_key,
    utf8_chunks,
)
from llmops_sentinel.errors import ConfigError
from llmops_sentinel.services.drift import DriftSettings, ingest_firehose_event
from llmops_sentinel.services.quality import new_budget, score_quality, summary

ENDPOINT = "demo-llm-endpoint"
STREAM = "arn:aws:firehose:us-east-1:123456789012:deliverystream/sentinel-inference"


@pytest.fixture
def stubbed() -> Iterator[tuple[Comprehend, Stubber]]:
    client = boto3.client(
        "comprehend", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stub:
        yield Comprehend(client), stub
        stub.assert_no_pending_responses()


def _tox(n: int, score: float = 0.1) -> dict[str, Any]:
    return {"ResultList": [{"Toxicity": score, "Labels": [{"Name": "PROFANITY", "Score": score}]} for _ in range(n)]}


def _segments(texts: list[str]) -> dict[str, Any]:
    return {"TextSegments": [{"Text": t} for t in texts], "LanguageCode": "en"}


# ---------------------------------------------------------------------------------------------- sampling


def test_sampling_is_deterministic_and_at_the_rate() -> None:
    keys = [f"evt-{i}" for i in range(100_000)]
    picked = [k for k in keys if is_sampled(k, 0.01)]
    # Binomial(100000, 0.01): mean 1000, sd 31.5; 5 sd either side
    assert 842 < len(picked) < 1158
    assert picked == [k for k in keys if is_sampled(k, 0.01)]  # a redelivery samples the same records
    assert set(picked) <= {k for k in keys if is_sampled(k, 0.05)}  # a higher rate keeps the lower one's
    assert not any(is_sampled(k, 0.0) for k in keys[:1000])
    assert all(is_sampled(k, 1.0) for k in keys[:1000])


def test_sample_key_uses_the_event_id_else_the_delivery_record() -> None:
    assert sample_key("evt-1", "rec-9") == "evt-1"
    assert sample_key("#3", "rec-9") == "rec-9#3"


# ---------------------------------------------------------------------------------------------- planning


def test_toxicity_calls_hold_at_most_ten_segments_of_one_kb() -> None:
    texts = [(i, f"answer {i}") for i in range(25)]
    plan = plan_calls(texts, QualityConfig(sample_rate=1.0))
    assert [len(c.segments) for c in plan.toxicity] == [10, 10, 5]
    assert [p.record for p in plan.pii] == list(range(25))  # one DetectPiiEntities call per text


def test_long_and_multibyte_answers_split_on_character_boundaries_within_one_call() -> None:
    long = "é" * 1500 + "x" * 10  # 3010 UTF-8 bytes: 3 segments
    huge = "ü" * 6000  # 12000 bytes: 12 segments, cut to 10
    plan = plan_calls([(0, "short"), (1, long), (2, huge), (3, "  "), (4, "")], QualityConfig(sample_rate=1.0))
    assert plan.blank == 2 and plan.cut == 1
    for call in plan.toxicity:
        assert len(call.segments) <= MAX_TOXICITY_SEGMENTS
        assert all(0 < len(s.encode()) <= MAX_SEGMENT_BYTES for s in call.segments)
        assert sum(len(s.encode()) for s in call.segments) <= MAX_TOXICITY_LIST_BYTES
    owners = [c.owners for c in plan.toxicity]
    assert owners == [(0, 1, 1, 1), (2,) * 10]  # a response never spans two calls (segments are context)
    assert "".join(plan.toxicity[0].segments[1:]) == long  # no character lost or broken
    assert utf8_chunks("€" * 400, 1024) == ["€" * 341, "€" * 59]  # 3-byte characters: 1023 bytes, then the rest


def test_pii_text_is_cut_to_100_kb_and_languages_follow_the_apis() -> None:
    big = "a" * (MAX_PII_BYTES + 10)
    plan = plan_calls([(0, big)], QualityConfig(sample_rate=1.0, toxicity=False))
    assert plan.toxicity == [] and len(plan.pii[0].text.encode()) == MAX_PII_BYTES and plan.cut == 1
    spanish = plan_calls([(0, "hola")], QualityConfig(sample_rate=1.0, language="es"))
    assert spanish.toxicity == [] and len(spanish.pii) == 1  # DetectToxicContent: English only


# ------------------------------------------------------------------------------------- calls and budgets


def _records(n: int, text: str = "hello there") -> tuple[list[InferenceRecord], list[str]]:
    recs = [InferenceRecord(ref=f"e{i}", source="text", response=text) for i in range(n)]
    return recs, [r.ref for r in recs]


def test_scores_land_on_the_sampled_records(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, stub = stubbed
    recs, keys = _records(3)
    cfg = QualityConfig(sample_rate=1.0, toxic_threshold=0.5, pii_min_score=0.6)
    stub.add_response(
        "detect_toxic_content",
        {
            "ResultList": [
                {"Toxicity": 0.2, "Labels": []},
                {"Toxicity": 0.9, "Labels": []},
                {"Toxicity": 0.5, "Labels": []},
            ]
        },
        _segments(["hello there"] * 3),
    )
    stub.add_response("detect_pii_entities", {"Entities": []}, {"Text": "hello there", "LanguageCode": "en"})
    stub.add_response(
        "detect_pii_entities",
        {
            "Entities": [
                {"Type": "NAME", "Score": 0.7, "BeginOffset": 0, "EndOffset": 1},
                {"Type": "EMAIL", "Score": 0.95, "BeginOffset": 2, "EndOffset": 3},
                {"Type": "SSN", "Score": 0.3, "BeginOffset": 4, "EndOffset": 5},
            ]
        },
        {"Text": "hello there", "LanguageCode": "en"},
    )
    stub.add_response("detect_pii_entities", {"Entities": []}, {"Text": "hello there", "LanguageCode": "en"})
    out = score_quality(recs, keys, cfg, new_budget(cfg), comprehend)
    assert (out.toxicity_calls, out.pii_calls, out.skipped_records) == (1, 3, 0)
    assert out.units == 3 * 3 + 3 * 3  # every text under 300 characters: the 3-unit minimum
    q = [r.quality for r in recs]
    assert [s.toxicity for s in q if s] == [0.2, 0.9, 0.5]
    assert [s.toxic for s in q if s] == [False, True, True]
    assert [s.pii_types for s in q if s] == [(), ("EMAIL", "NAME"), ()]  # SSN under pii_min_score
    assert [s.pii_type for s in q if s] == ["none", "EMAIL", "none"]


def test_a_throttle_stops_the_calls_for_the_rest_of_the_batch(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, stub = stubbed
    recs, keys = _records(30)
    cfg = QualityConfig(sample_rate=1.0, pii=False)
    stub.add_response("detect_toxic_content", _tox(10), _segments(["hello there"] * 10))
    stub.add_client_error("detect_toxic_content", "ThrottlingException", http_status_code=400)
    out = score_quality(recs, keys, cfg, new_budget(cfg), comprehend)  # a third call: a second failure
    assert (out.toxicity_calls, out.stopped, out.failures, out.skipped_records) == (1, "throttled", 1, 20)
    assert sum(r.quality is not None for r in recs) == 10


def test_after_max_failures_nothing_more_is_called(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, stub = stubbed
    recs, keys = _records(5)
    cfg = QualityConfig(sample_rate=1.0, toxicity=False, max_failures=2)
    for _ in range(2):
        stub.add_client_error("detect_pii_entities", "InternalServerException", http_status_code=500)
    out = score_quality(recs, keys, cfg, new_budget(cfg), comprehend)
    assert (out.pii_calls, out.failures, out.stopped, out.skipped_records) == (0, 2, "failures", 5)
    assert all(r.quality is None for r in recs)


def test_the_time_budget_stops_before_the_next_call(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, stub = stubbed
    recs, keys = _records(4)
    cfg = QualityConfig(sample_rate=1.0, toxicity=False, time_budget_s=2.0)
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0  # each look at the clock: one second later
        return now[0]

    budget = CallBudget(cfg.max_failures, deadline=3.5, clock=clock)
    for _ in range(2):
        stub.add_response("detect_pii_entities", {"Entities": []})
    out = score_quality(recs, keys, cfg, budget, comprehend)
    assert (out.pii_calls, out.stopped, out.skipped_records) == (2, "time", 2)


def test_endpoints_sharing_a_budget_count_their_own_failures(stubbed: tuple[Comprehend, Stubber]) -> None:
    """One budget per Lambda batch, one outcome per endpoint: the batch summary adds each failure once,
    and an endpoint whose calls all ran is not reported as stopped."""
    comprehend, stub = stubbed
    cfg = QualityConfig(sample_rate=1.0, toxicity=False, max_failures=2)
    budget = new_budget(cfg)
    stub.add_response("detect_pii_entities", {"Entities": []})
    stub.add_client_error("detect_pii_entities", "InternalServerException", http_status_code=500)
    first = score_quality(*_records(2), cfg, budget, comprehend)
    stub.add_client_error("detect_pii_entities", "InternalServerException", http_status_code=500)
    second = score_quality(*_records(3), cfg, budget, comprehend)
    third = score_quality(*_records(0), cfg, budget, comprehend)
    assert (first.failures, first.stopped, first.skipped_records) == (1, None, 1)
    assert (second.failures, second.stopped, second.skipped_records) == (1, "failures", 3)
    assert (third.failures, third.stopped) == (0, None)
    total = summary([first, second, third])
    assert (total["failures"], total["stopped"], total["skipped_records"], total["pii_calls"]) == (2, "failures", 4, 1)


def test_off_by_default_calls_nothing(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, _stub = stubbed  # no responses queued: any call would fail the test
    recs, keys = _records(50)
    cfg = QualityConfig()
    assert cfg.sample_rate == 0.0
    out = score_quality(recs, keys, cfg, new_budget(cfg), comprehend)
    assert out.sampled == 0 and all(r.quality is None for r in recs)


# ------------------------------------------------------------------------------------------ Firehose path


class MemoryStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_profile(self, endpoint: str, at: datetime, batch_id: str, body: bytes) -> str:
        key = profile_key(endpoint, at, batch_id)
        self.objects[key] = body
        return key


def _event(n: int) -> dict[str, Any]:
    records = []
    for i in range(n):
        line = {"eventId": f"evt-{i}", "prompt": "q", "response": f"answer number {i}", "finish_reason": "stop"}
        records.append(
            {
                "recordId": f"{4954698668313554428650745793632162567570019247115678 + i}",
                "approximateArrivalTimestamp": 1795687500000 + i,
                "data": base64.b64encode(orjson.dumps(line)).decode(),
            }
        )
    return {"invocationId": "inv", "deliveryStreamArn": STREAM, "region": "us-east-1", "records": records}


def _settings(rate: float) -> DriftSettings:
    monitors = load_monitors()
    monitors = monitors.model_copy(update={"quality": QualityConfig(sample_rate=rate, pii=False)})
    return DriftSettings(
        bucket="b", kms_key_id="k", stream_endpoints={"sentinel-inference": ENDPOINT}, monitors=monitors
    )


def test_firehose_batch_profiles_the_sampled_share(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, stub = stubbed
    rate = 0.2
    event = _event(40)
    expected = [f"answer number {i}" for i in range(40) if is_sampled(f"evt-{i}", rate)]
    assert 0 < len(expected) <= 10  # one call for this seed-free, hash-chosen sample
    stub.add_response("detect_toxic_content", _tox(len(expected), 0.8), _segments(expected))
    store = MemoryStore()
    result = ingest_firehose_event(event, _settings(rate), store=store, comprehend=comprehend)  # type: ignore[arg-type]
    assert result.ok == 40 and result.quality["toxicity_calls"] == 1
    assert result.quality["scored"] == len(expected)
    (body,) = store.objects.values()
    profile = profile_from_json(body)
    tox = profile.features["toxicity"]
    toxic = profile.features["toxic"]
    assert isinstance(tox, NumericProfile) and isinstance(toxic, CategoricalProfile)
    assert (tox.count, tox.missing) == (len(expected), 40 - len(expected))  # unsampled records: missing
    assert toxic.counts() == {"true": float(len(expected))}
    assert "pii" not in profile.features  # PII off: no values, no profile
    rows = [orjson.loads(base64.b64decode(r.data)) for r in result.records]
    assert sum("toxicity" in row["features"] for row in rows) == len(expected)


def test_firehose_batch_never_fails_for_comprehend(stubbed: tuple[Comprehend, Stubber]) -> None:
    comprehend, stub = stubbed
    stub.add_client_error("detect_toxic_content", "ThrottlingException", http_status_code=400)
    result = ingest_firehose_event(_event(30), _settings(1.0), store=MemoryStore(), comprehend=comprehend)  # type: ignore[arg-type]
    assert result.ok == 30 and result.failed == 0
    assert result.quality["stopped"] == "throttled" and result.quality["skipped_records"] == 30
    assert result.summary()["quality"]["toxicity_calls"] == 0


# ------------------------------------------------------------------------------------------------ config


def test_packaged_monitors_file_has_quality_off() -> None:
    assert load_monitors().quality.sample_rate == 0.0


def test_sample_rate_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL_DATA_BUCKET", "b")
    monkeypatch.setenv("SENTINEL_KMS_KEY_ID", "k")
    monkeypatch.setenv("SENTINEL_QUALITY_SAMPLE_RATE", "0.01")
    assert DriftSettings.from_env().monitors.quality.sample_rate == 0.01
    for bad in ("2", "-0.1", "often"):
        monkeypatch.setenv("SENTINEL_QUALITY_SAMPLE_RATE", bad)
        with pytest.raises(ConfigError, match="SENTINEL_QUALITY_SAMPLE_RATE"):
            DriftSettings.from_env()


def test_quality_section_is_validated() -> None:
    assert load_monitors(text="quality: {sample_rate: 0.25}").quality.sample_rate == 0.25
    with pytest.raises(ConfigError, match="sample_rate"):
        load_monitors(text="quality: {sample_rate: 1.5}")
    with pytest.raises(ConfigError, match="toxicty"):
        load_monitors(text="quality: {toxicty: true}")

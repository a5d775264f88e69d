"""Cause classification: each rule, the decision order, and evidence reported for every rule."""

from __future__ import annotations

import numpy as np
import pytest

from llmops_sentinel.domain.latency import (
    CauseEvidence,
    CauseParams,
    EndpointChange,
    InsufficientEvidenceError,
    MetricSeries,
    classify_cause,
)

ONSET = 1_700_010_000.0
DETECTED = ONSET + 240.0


def flat(rng: np.random.Generator, level: float, after: float | None = None, noise: float = 0.03) -> MetricSeries:
    """Two hours of 60 s points around ONSET; ``after`` replaces the level from ONSET on."""
    ts = ONSET - 3600.0 + 60.0 * np.arange(120)
    vals = np.full(ts.size, level)
    if after is not None:
        vals[ts >= ONSET] = after
    vals = vals * np.exp(noise * rng.standard_normal(ts.size))
    return MetricSeries(timestamps=ts.tolist(), values=vals.tolist())


def evidence(**kw: object) -> CauseEvidence:
    return CauseEvidence(onset=ONSET, detected_at=DETECTED, magnitude=0.4, **kw)


def test_deployment_when_endpoint_updated_shortly_before_onset(rng: np.random.Generator) -> None:
    change = EndpointChange(timestamp=ONSET - 600, kind="endpoint_config", endpoint_config="cfg-v12")
    r = classify_cause(evidence(changes=[change], invocations=flat(rng, 100)))
    assert r.cause == "deployment"
    dep = next(f for f in r.findings if f.rule == "deployment")
    assert dep.met and dep.change_event == change and dep.change == pytest.approx(600)


def test_old_deployment_outside_the_window_is_not_the_cause(rng: np.random.Generator) -> None:
    change = EndpointChange(timestamp=ONSET - 7200)
    r = classify_cause(evidence(changes=[change], invocations=flat(rng, 100)))
    assert r.cause == "unknown"
    assert classify_cause(evidence(changes=[change]), CauseParams(deployment_window_s=8000)).cause == "deployment"


def test_load_when_invocations_rose_with_the_regression(rng: np.random.Generator) -> None:
    r = classify_cause(evidence(invocations=flat(rng, 100, after=150)))
    assert r.cause == "load"
    load = next(f for f in r.findings if f.rule == "load")
    assert load.change == pytest.approx(0.5, abs=0.05)
    assert classify_cause(evidence(invocations=flat(rng, 100, after=115))).cause == "unknown"


def test_deployment_wins_over_load_but_load_evidence_is_kept(rng: np.random.Generator) -> None:
    r = classify_cause(evidence(changes=[EndpointChange(timestamp=ONSET - 60)], invocations=flat(rng, 100, 200)))
    assert r.cause == "deployment"
    assert next(f for f in r.findings if f.rule == "load").met


def test_instance_when_errors_rose(rng: np.random.Generator) -> None:
    r = classify_cause(
        evidence(invocations=flat(rng, 100), errors_5xx=flat(rng, 0.5, after=8.0, noise=0.0), errors_4xx=flat(rng, 0))
    )
    assert r.cause == "instance"
    assert next(f for f in r.findings if f.rule == "errors").after == pytest.approx(8.0)


def test_instance_when_only_one_variant_regressed(rng: np.random.Generator) -> None:
    variants = {"blue": flat(rng, 200, after=300), "green": flat(rng, 210)}
    r = classify_cause(evidence(variant_latency=variants, invocations=flat(rng, 100)))
    assert r.cause == "instance"
    assert next(f for f in r.findings if f.rule == "variant").variant == "blue"
    both = {"blue": flat(rng, 200, after=300), "green": flat(rng, 210, after=300)}
    assert classify_cause(evidence(variant_latency=both)).cause == "unknown"


def test_unknown_without_evidence_reports_why_each_rule_failed() -> None:
    r = classify_cause(evidence())
    assert r.cause == "unknown"
    assert [f.rule for f in r.findings] == ["deployment", "load", "errors", "variant"]
    assert not any(f.met for f in r.findings)


def test_too_few_points_do_not_count_as_load(rng: np.random.Generator) -> None:
    sparse = MetricSeries(timestamps=[ONSET - 60, ONSET + 60], values=[10, 100])
    r = classify_cause(evidence(invocations=sparse))
    assert r.cause == "unknown" and "too few" in r.findings[1].reason


def test_malformed_series_is_rejected() -> None:
    with pytest.raises(InsufficientEvidenceError):
        MetricSeries(timestamps=[2.0, 1.0], values=[1.0, 2.0])
    with pytest.raises(InsufficientEvidenceError):
        MetricSeries(timestamps=[1.0], values=[1.0, 2.0])

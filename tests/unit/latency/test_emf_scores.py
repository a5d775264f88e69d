"""The latency monitor's EMF documents: what each endpoint status publishes."""

from __future__ import annotations

import json

import pytest

from llmops_sentinel.models.latency import EndpointRun, ScheduledResult
from llmops_sentinel.services.emf import publish_latency_scores


def _run(name: str, status: str, max_score: float = 0.0) -> EndpointRun:
    return EndpointRun.model_validate(
        {
            "endpoint_name": name,
            "variant_name": "AllTraffic",
            "points": 0 if status == "deferred" else 60,
            "accepted": 0 if status == "deferred" else 60,
            "score": max_score,
            "max_score": max_score,
            "alarm": False,
            "warming_up": status == "deferred",
            "status": status,
        }
    )


def _documents(out: str) -> dict[str, set[str]]:
    """EndpointName -> metric names, from the EMF JSON lines printed."""
    found: dict[str, set[str]] = {}
    for line in out.splitlines():
        doc = json.loads(line)
        names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
        found.setdefault(doc["EndpointName"], set()).update(names)
    return found


def test_a_deferred_endpoint_publishes_nothing_and_the_others_publish_their_metrics(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LLMOpsSentinel")
    result = ScheduledResult(
        at="2026-12-03T10:00:00Z",
        endpoints=[_run("served", "ok", 0.7), _run("waiting", "deferred"), _run("broken", "error")],
    )
    publish_latency_scores(result)
    docs = _documents(capsys.readouterr().out)
    assert "waiting" not in docs
    assert docs["served"] == {"LatencyRegressionScore", "LatencyDetectorWarmingUp"}
    assert docs["broken"] == {"LatencyCheckErrors"}


def test_the_dashboard_plots_the_score_with_the_dimensions_it_is_published_with(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CloudWatch line matches one exact dimension set: a dimension the document lacks (the Powertools
    ``service`` the EMF helper does not add) leaves the widget empty in a real deployment."""
    from tests.template.test_operations import dashboard_lines

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LLMOpsSentinel")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "llmops-sentinel")  # as the template's Globals set it
    publish_latency_scores(ScheduledResult(at="2026-12-03T10:00:00Z", endpoints=[_run("served", "ok", 0.7)]))
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (published,) = [set(dims) for d in doc["_aws"]["CloudWatchMetrics"] for dims in d["Dimensions"]]
    score = ("LLMOpsSentinel", "LatencyRegressionScore")
    lines = [line for line in dashboard_lines() if (line.namespace, line.name) == score]
    assert lines
    for line in lines:
        assert line.dimensions == published, f"dashboard line {line} vs published dimensions {published}"

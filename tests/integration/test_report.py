"""``sentinel report`` on the demo's local cloud: what the page holds, and a real browser renders it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sentinel_dev.local.demo import run_demo
from sentinel_dev.report.browser import check_report, find_chromium


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("report") / "report.html"
    result = run_demo(echo=None, report_path=path, keep_model=True)
    assert result.ok, [s.summary for s in result.scenes if not s.ok]
    assert result.report_path == str(path) and result.report_model is not None
    return path, result.report_model


def _endpoint(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in model["endpoints"] if e["name"] == name)


def test_report_holds_what_the_demo_did(demo: tuple[Path, dict[str, Any]]) -> None:
    _, model = demo
    ep = _endpoint(model, "demo-llm-endpoint")
    # latency: the regression is in the p99 series, above the guard alarm's threshold
    series = ep["latency"][0]
    assert series["threshold_ms"] == pytest.approx(2000.0)
    assert max(p["v"] for p in series["p99_ms"]) > 2000.0 > min(p["v"] for p in series["p99_ms"])
    assert series["score"], "the detector scored the series"
    # audit trail: the rollback succeeded (its duplicate delivery counted on the same row), a retrain started
    rows = {(a["signal"], a["action"], a["decision"]): a for a in ep["audit"]}
    rollback = rows[("latency-regression", "rollback", "started")]
    assert rollback["status"] == "SUCCEEDED" and rollback["deliveries"] == 2
    assert ("drift", "retrain", "started") in rows
    links = {m["link"] for m in series["markers"] if m["kind"] == "action"}
    assert {a["anchor"] for a in ep["audit"]} <= links
    # drift: the normal window did not drift, the drifted one did, over its share threshold
    share = ep["drift_share"]
    assert [p["drifted"] for p in share] == [False, True]
    assert share[1]["effect"] > share[1]["threshold"]
    drifted = {f["feature"] for f in ep["drift"] if f["points"][-1]["drifted"]}
    assert {"input_tokens", "output_tokens"} <= drifted
    # instances and cost: v2 (ml.g5.xlarge) ran only from the deployment to the rollback
    hours = {c["instance_type"]: c for c in ep["costs"]}
    assert 0 < hours["ml.g5.xlarge"]["instance_hours"] < 0.5 < hours["ml.g5.2xlarge"]["instance_hours"]
    assert sum(c["input_tokens"] for c in ep["costs"]) > 0
    # findings: the governance scene's non-compliant resources
    assert any(not f["compliant"] and f["severity"] in {"HIGH", "CRITICAL"} for f in model["findings"])


def test_report_renders_in_a_real_browser(demo: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium); `make report-check` runs this")
    path, _ = demo
    shot = tmp_path / "report.png"
    result = check_report(path, screenshot=shot, chromium=chromium)
    assert result.errors == []
    assert result.console == []
    assert result.charts_total >= 10
    assert result.charts_drawn + result.charts_empty == result.charts_total
    assert result.charts_drawn >= result.charts_total - 2
    assert shot.stat().st_size > 10_000

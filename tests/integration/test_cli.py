"""`sentinel invoke` and `sentinel demo` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentinel_dev.cli.main import main
from tests.conftest import EVENTS


def test_invoke_runs_the_handler_named_in_the_template(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["invoke", "ScalingPlannerFunction", "--event", str(EVENTS / "scaling_planner" / "scale_out.json")])
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out) == {"action": "scale", "current": 1, "target": 2, "reason": json.loads(out)["reason"]}
    assert "REPORT ScalingPlannerFunction" in err


def test_invoke_reports_a_function_error_with_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    event = json.loads((EVENTS / "scaling_planner" / "scale_out.json").read_text())
    event["variant_name"] = "Blue"
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    code = main(["invoke", "ScalingPlannerFunction", "--event", str(path), "--quiet"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["errorType"] == "VariantNotFoundError"


@pytest.mark.parametrize(
    ("argv_tail", "message"),
    [
        (["--event", "does-not-exist.json"], "cannot read event file"),
        (["--event", str(Path(__file__))], "is not JSON"),
    ],
)
def test_invoke_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv_tail: list[str], message: str
) -> None:
    code = main(["invoke", "AlarmRouterFunction", *argv_tail])
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_invoke_unknown_function_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["invoke", "NoSuchFunction", "--event", str(EVENTS / "alarm_router" / "p99_latency_alarm.json")])
    _, err = capsys.readouterr()
    assert code == 1
    assert "no function 'NoSuchFunction'" in err
    assert "AlarmRouterFunction" in err


def test_demo_runs_every_scene_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--scenario", "scenes", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["ok"] is True, [scene for scene in report["scenes"] if scene.get("ok") is not True]
    assert report["seconds"] > 0  # its wall time is measured by hand, not pinned on a shared machine
    assert {scene["name"] for scene in report["scenes"]} >= {"latency"}

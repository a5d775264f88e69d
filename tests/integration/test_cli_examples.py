"""The README's "Try it" commands, run as written (in a scratch copy of the checkout's layout).

``make demo`` is skipped here (tests/integration/test_report.py runs the demo); every other line runs
through the same console-script entry point, from a directory holding links to the repository's
files, so outputs (scores.csv, baseline.json, build/report.html) land in the scratch directory.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINKED = ("template.yaml", "functions", "layers", "statemachines", "config", "events", "examples", "tests")


def try_it_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "README's Try it section has a bash block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


Done = subprocess.CompletedProcess[str]


def _after(commands: list[list[str]]) -> list[set[int]]:
    """For each command, the earlier commands it must wait for: those whose ``--output`` it names."""
    outputs = [{argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--output"} for argv in commands]
    return [{i for i in range(j) if outputs[i] & set(argv)} for j, argv in enumerate(commands)]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Every command in its own process (each ``invoke`` starts its own moto server on a free port), two at
    a time: a command waits only for the earlier ones whose output file it reads (drift check <- baseline)."""
    work = tmp_path_factory.mktemp("try-it")
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    commands = [command for command in try_it_commands() if command != "make demo"]
    argvs = [shlex.split(command) for command in commands]
    for command, argv in zip(commands, argvs, strict=True):
        assert argv[0] == ".venv/bin/sentinel", command

    def run(argv: list[str], earlier: list[Future[Done]]) -> Done:
        for needed in earlier:  # submitted before this one, so already running or done: no deadlock
            needed.result()
        return subprocess.run(
            [sys.executable, "-m", "sentinel_dev.cli.main", *argv[1:]],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    futures: list[Future[Done]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for argv, waits_for in zip(argvs, _after(argvs), strict=True):
            futures.append(pool.submit(run, argv, [futures[i] for i in waits_for]))
        return {command: (future.result(), work) for command, future in zip(commands, futures, strict=True)}


def _one(
    outcomes: dict[str, tuple[subprocess.CompletedProcess[str], Path]], needle: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    matches = [v for k, v in outcomes.items() if needle in k]
    assert len(matches) == 1, needle
    return matches[0]


def test_every_try_it_command_runs(outcomes: dict[str, tuple[subprocess.CompletedProcess[str], Path]]) -> None:
    assert len(outcomes) >= 9
    failed = {cmd: done.stderr[-600:] for cmd, (done, _) in outcomes.items() if done.returncode != 0}
    assert failed == {}


def test_seeded_sample_events_show_the_functions_doing_their_job(
    outcomes: dict[str, tuple[subprocess.CompletedProcess[str], Path]],
) -> None:
    latency, _ = _one(outcomes, "LatencyMonitorFunction")
    answer = json.loads(latency.stdout)
    assert answer["confirmed"] is True and answer["cause"] == "deployment"
    drift, _ = _one(outcomes, "DriftDetectorFunction")
    checked = json.loads(drift.stdout)
    assert checked["drifted"] == ["demo-llm-endpoint"] and checked["checks"][0]["report_key"]


def test_offline_commands_read_the_examples(outcomes: dict[str, tuple[subprocess.CompletedProcess[str], Path]]) -> None:
    detect, work = _one(outcomes, "latency detect")
    summary = json.loads(detect.stdout)
    assert summary["alarms"], summary
    assert (work / "scores.csv").read_text().startswith("timestamp,value,score,alarm")
    check, _ = _one(outcomes, "drift check")
    assert json.loads(check.stdout)["drifted"] is True
    report, work = _one(outcomes, "sentinel report")
    assert "report: build/report.html" in report.stdout
    html = (work / "build" / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "svg" in html

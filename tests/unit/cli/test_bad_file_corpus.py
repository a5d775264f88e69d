"""A corpus of bad files through every ``sentinel`` command: never a traceback; exit 2 and one line on
stderr (``sentinel: <reason>``). In-process (``main()``), plus real subprocesses for a closed stdout.

Every (command, bad file) pair is one case; the corpus is the cross product below (its size is printed by
``test_corpus_size``).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sentinel_dev.cli.main import COMMANDS, main
from tests.conftest import REPO, SHARED_FIXTURES

SHARED = SHARED_FIXTURES
DQ_STATS = SHARED / "sagemaker/sdk_tests_pipeline_quality_check/data_quality/statistics.json"
CHAT = b'{"prompt":"What is the refund policy?","completion":"Refunds take 5 days.","latency_ms":412.5}'


def _statistics_without_lower_bound() -> bytes:
    doc = json.loads(DQ_STATS.read_text())
    kll = doc["features"][0]["numerical_statistics"]["distribution"]["kll"]
    kll["sketch"]["data"] = []
    del kll["buckets"][0]["lower_bound"]
    return json.dumps(doc).encode()


def _statistics_huge_count() -> bytes:
    doc = json.loads(DQ_STATS.read_text())
    kll = doc["features"][0]["numerical_statistics"]["distribution"]["kll"]
    kll["sketch"]["data"] = []
    kll["buckets"][0]["count"] = "lots"
    return json.dumps(doc).encode()


BAD_FILES: dict[str, Callable[[], bytes]] = {
    "binary": lambda: bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
    "nul-bytes": lambda: b"\x00" * 1000,
    "non-utf8": lambda: "timestamp,value\ncaf\xe9,1\n".encode("latin-1") + b"\xff\xfe\n",
    "utf16": lambda: "timestamp,value\n2024-01-01T00:00:00Z,1\n".encode("utf-16"),
    "empty": lambda: b"",
    "whitespace": lambda: b"  \n\n\t\n",
    "headerless-csv": lambda: b"1.5,2\n3.5,4\n5.5,6\n" * 50,
    "header-only-csv": lambda: b"timestamp,value\n",
    "huge-line": lambda: b'{"prompt":"' + b"a" * (1 << 20) + b'"}\n',
    "huge-csv-field": lambda: b"timestamp,value,prompt\n2024-01-01T00:00:00Z,1," + b"x" * (200 << 10) + b"\n",
    "json-list": lambda: b"[1, 2, 3]",
    "json-string": lambda: b'"just a string"',
    "json-null": lambda: b"null",
    "json-wrong-types": lambda: b'{"timestamp": [1], "value": {"a": 1}, "resourceType": 7, "configuration": "x"}',
    "nan-inf-csv": lambda: (
        b"timestamp,value\n"
        + b"".join(
            f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z,{v}\n".encode()
            for i, v in enumerate(["nan", "inf", "-inf", "1e999"] * 25)
        )
    ),
    "nan-json": lambda: b'{"prompt": NaN, "completion": Infinity, "latency_ms": -Infinity}\n' * 50,
    "truncated-json": lambda: CHAT[:40],
    "statistics-no-lower-bound": _statistics_without_lower_bound,
    "statistics-bad-count": _statistics_huge_count,
    "yaml-bomb-ish": lambda: b"a: &a [" + b"*a, " * 10 + b"]\n",
}
SPECIAL = ("directory", "missing")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpus")
    made = {}
    for name, make in BAD_FILES.items():
        made[name] = root / f"{name}.dat"
        made[name].write_bytes(make())
    made["directory"] = root / "a-directory"
    made["directory"].mkdir()
    made["missing"] = root / "does-not-exist.csv"
    good = root / "good.jsonl"
    good.write_bytes(b"\n".join([CHAT] * 200) + b"\n")
    made["good"] = good
    series = root / "series.csv"
    series.write_text("timestamp,value\n" + "".join(f"{i * 60},{100 + i % 7}\n" for i in range(300)))
    made["series"] = series
    event = root / "event.json"
    event.write_text(json.dumps({"phase": "list"}))
    made["event"] = event
    return made


def commands(f: Path, good: dict[str, Path], out: Path) -> dict[str, list[str]]:
    """Every command and file-taking option of the CLI, fed the bad file ``f``."""
    g, s = str(good["good"]), str(good["series"])
    return {
        "baseline-build-input": ["baseline", "build", "--input", str(f), "--output", str(out)],
        "baseline-build-config": ["baseline", "build", "--input", g, "--output", str(out), "--config", str(f)],
        "drift-check-current": ["drift", "check", "--baseline", g, "--current", str(f), "--json"],
        "drift-check-baseline": ["drift", "check", "--baseline", str(f), "--current", g],
        "drift-check-config": ["drift", "check", "--baseline", g, "--current", g, "--config", str(f)],
        "drift-check-constraints": ["drift", "check", "--baseline", g, "--current", g, "--constraints", str(f)],
        "latency-detect-input": ["latency", "detect", "--input", str(f), "--json"],
        "govern-evaluate-input": ["govern", "evaluate", "--input", str(f), "--json"],
        "govern-evaluate-policies": ["govern", "evaluate", "--input", str(good["event"]), "--policies", str(f)],
        "invoke-event": ["invoke", "GovernanceScanFunction", "--event", str(f), "--quiet"],
        "latency-series-ok-check": ["latency", "detect", "--input", s, "--json"] if f == good["series"] else [],
    }


ACCEPTED = {  # (option, file) pairs that are not bad input for that option: exit 0 is right
    ("baseline-build-config", "empty"),
    ("baseline-build-config", "json-null"),  # no config = the defaults
    ("drift-check-config", "empty"),
    ("drift-check-config", "json-null"),
    ("baseline-build-input", "huge-line"),  # a 1 MiB prompt is data (but no feature of the chat baseline)
    # A headerless CSV, an object of odd columns or NaN/inf rows is a tabular baseline of its own columns:
    # it is only an error against data that shares none of them (drift-check-current/baseline below).
    ("baseline-build-input", "headerless-csv"),
    ("baseline-build-input", "json-wrong-types"),
    ("baseline-build-input", "nan-inf-csv"),
    # A statistics.json has the "features" list a constraints file has; its other keys are not read.
    ("drift-check-constraints", "statistics-no-lower-bound"),
    ("drift-check-constraints", "statistics-bad-count"),
    # invoke's contract is the function's answer: a handler that rejects the event ran fine.
    *(
        ("invoke-event", b)
        for b in (
            "huge-line",
            "json-list",
            "json-string",
            "json-null",
            "json-wrong-types",
            "statistics-no-lower-bound",
            "statistics-bad-count",
        )
    ),
}
CASES = [
    (c, b)
    for c in commands(Path("x"), {"good": Path(), "series": Path(), "event": Path()}, Path())
    if c != "latency-series-ok-check"
    for b in [*BAD_FILES, *SPECIAL]
]
OUTPUTS = {  # an --output / --plot that cannot be written
    "baseline-build-output": lambda f, d: ["baseline", "build", "--input", str(f["good"]), "--output", d],
    "latency-detect-output": lambda f, d: ["latency", "detect", "--input", str(f["series"]), "--output", d],
    "latency-detect-plot": lambda f, d: ["latency", "detect", "--input", str(f["series"]), "--plot", d],
}


@pytest.fixture(autouse=True)
def _handler_logs_to_this_tests_stdout() -> None:
    """Test hygiene for in-process ``invoke``: Powertools keeps the first stream its logger was given,
    which in one pytest process is an earlier test's (closed) capture; point it at this test's."""
    for logger in [logging.getLogger(), *(logging.getLogger(n) for n in logging.Logger.manager.loggerDict)]:
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler and type(handler.stream).__name__ == "_ThreadRoutedStream":
                handler.stream = sys.stdout  # not setStream: it flushes the closed one


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


def _assert_one_line_exit_2(code: int, err: str) -> None:
    assert "Traceback" not in err
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sentinel: "), err


def test_corpus_size() -> None:
    total = len(CASES) + 2 * len(OUTPUTS) + len(HISTORY) + len(CLOSED)
    print(
        f"CLI bad-input corpus: {total} cases ({len(CASES)} file x option, {2 * len(OUTPUTS)} unwritable outputs, "
        f"{len(HISTORY)} AWS environment, {len(CLOSED)} closed stdout); {len(ACCEPTED)} pairs accepted by design"
    )
    covered = {c.split("-")[0] for c, _ in CASES} | {argv[0] for argv, _ in HISTORY.values()}
    # demo reads no file; report reads AWS or runs the demo before its --prices file: not in the corpus yet
    assert covered == set(COMMANDS) - {"demo", "report"}


@pytest.mark.parametrize(("command", "bad"), CASES, ids=[f"{c}:{b}" for c, b in CASES])
def test_bad_file_exits_2_with_one_line(
    command: str, bad: str, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = commands(files[bad], files, tmp_path / "out.json")[command]
    code, err = _run(argv, capsys)
    if (command, bad) in ACCEPTED:
        assert code == 0 and "Traceback" not in err, err
        return
    _assert_one_line_exit_2(code, err)


@pytest.mark.parametrize("where", ["missing-dir", "is-a-directory"])
@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_unwritable_output_exits_2_with_one_line(
    command: str, where: str, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no" / "such" / "dir" / "out.png"
    if where == "is-a-directory":
        target = tmp_path / "out.png"
        target.mkdir()
    code, err = _run(OUTPUTS[command](files, str(target)), capsys)
    _assert_one_line_exit_2(code, err)


def test_a_file_with_none_of_the_baselines_features_is_an_error(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Not "no drift: 0/0 features" with exit 0."""
    code, err = _run(
        ["drift", "check", "--baseline", str(files["good"]), "--current", str(files["headerless-csv"])], capsys
    )
    _assert_one_line_exit_2(code, err)
    assert "none of the baseline's" in err


# ---------------------------------------------------------------------------------------- real processes


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SENTINEL_", "MOTO_"))}
    env.update(
        {
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        }
    )  # if anything were sent, it stays on this machine
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


SENTINEL = [sys.executable, "-m", "sentinel_dev.cli.main"]
HISTORY = {
    "no-region": (
        ["history", "--endpoint", "demo-llm-endpoint", "--table", "t"],
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    ),
    "no-region-stack": (
        ["history", "--endpoint", "demo-llm-endpoint"],
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    ),
    "no-credentials": (
        ["history", "--endpoint", "demo-llm-endpoint", "--table", "t"],
        {"AWS_DEFAULT_REGION": "us-east-1"},
    ),
    "no-credentials-stack": (["history", "--endpoint", "demo-llm-endpoint"], {"AWS_DEFAULT_REGION": "us-east-1"}),
    "redrive-no-region": (
        ["redrive", "--queue", "sentinel-dlq", "--dry-run"],
        {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"},
    ),
    "redrive-no-credentials": (
        ["redrive", "--queue", "sentinel-dlq", "--dry-run"],
        {"AWS_DEFAULT_REGION": "us-east-1"},
    ),
}


@pytest.mark.parametrize("case", sorted(HISTORY))
def test_history_without_region_or_credentials_exits_2_with_one_line(case: str) -> None:
    argv, env = HISTORY[case]
    done = subprocess.run([*SENTINEL, *argv], env=_env(**env), capture_output=True, text=True, timeout=60, check=False)
    _assert_one_line_exit_2(done.returncode, done.stderr)


CLOSED = {
    "drift-check-json": lambda f: [
        "drift",
        "check",
        "--baseline",
        str(f["good"]),
        "--current",
        str(f["good"]),
        "--json",
    ],
    "latency-detect-json": lambda f: ["latency", "detect", "--input", str(f["series"]), "--json"],
    "govern-evaluate-json": lambda f: [
        "govern",
        "evaluate",
        "--input",
        str(REPO / "events/governance" / "create_endpoint_config_no_kms.json"),
        "--json",
    ],
}


@pytest.mark.parametrize("case", sorted(CLOSED))
def test_closed_stdout_ends_quietly(case: str, files: dict[str, Path]) -> None:
    """``sentinel ... --json | head -c0``: the reader is gone before the first write. The Python docs'
    way: no traceback, nothing on stderr, exit 1 (EPIPE)."""
    with subprocess.Popen(
        [*SENTINEL, *CLOSED[case](files)], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert code == 1 and err == "", err


def test_pipe_into_head_like_a_shell(files: dict[str, Path]) -> None:
    argv = " ".join(SENTINEL + CLOSED["drift-check-json"](files))
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{argv} | head -c1"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout == "{" and "Traceback" not in done.stderr and done.stderr == ""

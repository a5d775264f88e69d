"""CLI contract: exit 0 with the JSON shape of the brief, exit 2 with one line on bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from llmops_sentinel.domain.drift.profiles import PROFILE_VERSION
from sentinel_dev.cli.main import main


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_baseline_build_then_drift_check_json(
    tmp_path: Path, chat_lines: Callable[[int, int], list[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _write(tmp_path / "ref.jsonl", chat_lines(400, 1))
    cur = _write(tmp_path / "cur.jsonl", [*chat_lines(300, 2), b"{broken"])
    out = tmp_path / "baseline.json"
    assert main(["baseline", "build", "--input", str(ref), "--output", str(out)]) == 0
    assert orjson.loads(out.read_bytes())["version"] == PROFILE_VERSION == 2
    capsys.readouterr()
    assert main(["drift", "check", "--baseline", str(out), "--current", str(cur), "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert isinstance(report["drifted"], bool)
    assert 0.0 <= report["share_drifted"] <= 1.0
    assert report["records_current"] == 300 and report["records_current_failed"] == 1
    assert report["features"]
    for f in report["features"]:
        assert {"feature", "kind", "method", "statistic", "p_value", "threshold", "drifted"} <= set(f)


def test_drift_check_human_output_and_raw_baseline(
    tmp_path: Path, chat_lines: Callable[[int, int], list[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _write(tmp_path / "ref.jsonl", chat_lines(200, 3))
    assert main(["drift", "check", "--baseline", str(ref), "--current", str(ref)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("no drift: 0/")
    assert "prompt_chars" in text


def test_drift_check_with_statistics_baseline(sagemaker_fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dq = sagemaker_fixtures / "sdk_tests_pipeline_quality_check/data_quality"
    code = main(
        [
            "drift",
            "check",
            "--baseline",
            str(dq / "statistics.json"),
            "--constraints",
            str(dq / "good_cases/constraints.json"),
            "--current",
            str(sagemaker_fixtures / "sdk_tests_monitor/baseline_dataset.csv"),
            "--json",
        ]
    )
    assert code == 0
    report = orjson.loads(capsys.readouterr().out)
    assert {f["feature"] for f in report["features"]} == {f"_c{i}" for i in range(6)}


@pytest.mark.parametrize(
    ("content", "what"),
    [(None, "cannot read"), (b"{not json\n{also not\n", "no usable"), (b"", "no usable")],
)
def test_bad_current_file_exits_2(
    tmp_path: Path,
    chat_lines: Callable[[int, int], list[bytes]],
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    what: str,
) -> None:
    ref = _write(tmp_path / "ref.jsonl", chat_lines(50, 4))
    bad = tmp_path / "bad.jsonl"
    if content is not None:
        bad.write_bytes(content)
    assert main(["drift", "check", "--baseline", str(ref), "--current", str(bad)]) == 2
    err = capsys.readouterr().err
    assert what in err
    assert err.count("\n") == 1


def test_bad_config_exits_2(
    tmp_path: Path, chat_lines: Callable[[int, int], list[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _write(tmp_path / "ref.jsonl", chat_lines(50, 5))
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text("alpha: 2\n")
    assert main(["drift", "check", "--baseline", str(ref), "--current", str(ref), "--config", str(cfg)]) == 2
    assert "alpha" in capsys.readouterr().err


def test_config_file_selects_tests(
    tmp_path: Path, chat_lines: Callable[[int, int], list[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = _write(tmp_path / "ref.jsonl", chat_lines(200, 6))
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "features: [prompt_chars, refusal_like]\noverrides:\n  - name: prompt_chars\n"
        "    test: {type: wasserstein, threshold: 0.2}\n"
    )
    assert main(["drift", "check", "--baseline", str(ref), "--current", str(ref), "--config", str(cfg), "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert {f["feature"]: f["method"] for f in report["features"]} == {
        "prompt_chars": "wasserstein",
        "refusal_like": "chisquare",
    }


def test_drift_check_text_names_severity_and_reasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    rng = np.random.default_rng(5)
    ref, cur = tmp_path / "ref.jsonl", tmp_path / "cur.jsonl"
    ref.write_bytes(
        b"\n".join(
            orjson.dumps({"x": float(v), "y": float(w)})
            for v, w in zip(rng.normal(0, 1, 2000), rng.normal(0, 1, 2000), strict=True)
        )
    )
    cur.write_bytes(
        b"\n".join(
            orjson.dumps({"x": float(v), "y": float(w)})
            for v, w in zip(rng.normal(1.2, 1, 2000), rng.normal(0, 1, 2000), strict=True)
        )
    )
    assert main(["drift", "check", "--baseline", str(ref), "--current", str(cur)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DRIFT: 1/2 features drifted")
    assert "  because x: large effect (tv" in out
    lines = out.splitlines()
    assert "severity" in next(line for line in lines if line.startswith("feature"))
    assert " large " in next(line for line in lines if line.startswith("x "))

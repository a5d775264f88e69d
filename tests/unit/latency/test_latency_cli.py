"""``sentinel latency detect``: CSV in, CSV and JSON out, exit 2 with one line on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import orjson
import pytest

from sentinel_dev.cli.main import main
from tests.unit.latency.latency_series import series, with_step


def write(path: Path, rows: list[tuple[str, str]], header: str = "timestamp,value") -> Path:
    path.write_text(header + "\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return path


@pytest.fixture
def step_csv(tmp_path: Path, rng: np.random.Generator) -> Path:
    ts, vs = series(rng, 1500)
    vs = with_step(vs, 1200, 0.5)
    return write(tmp_path / "series.csv", [(f"{t:.0f}", f"{v:.4f}") for t, v in zip(ts, vs, strict=True)])


def test_round_trip_csv_and_json(step_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scores.csv"
    assert main(["latency", "detect", "--input", str(step_csv), "--output", str(out), "--json"]) == 0
    summary = orjson.loads(capsys.readouterr().out)
    assert summary["points"] == 1500
    assert summary["alarms"] and summary["alarms"][0]["magnitude"] > 0.3
    assert summary["alarms"][0]["onset"].endswith("Z")
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["timestamp", "value", "score", "alarm"]
    assert len(rows) == 1500
    assert rows[0]["timestamp"] == step_csv.read_text().splitlines()[1].split(",")[0]
    scores = np.array([float(r["score"]) for r in rows])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert {r["alarm"] for r in rows} == {"0", "1"}
    assert all(r["alarm"] == "0" for r in rows[:1200])


def test_human_output_and_iso_timestamps_unsorted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(f"2024-05-01T00:{m:02d}:00Z", "100") for m in range(50)]
    path = write(tmp_path / "iso.csv", [*rows[::-1], rows[3]])  # newest first (as GetMetricData) + a duplicate
    assert main(["latency", "detect", "--input", str(path)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("no regression: 51 points (50 scored, 1 duplicate, 0 invalid), interval 60 s")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty file"),
        ("timestamp,latency\n1,2\n", "missing column(s) value"),
        ("timestamp,value\n", "no data rows"),
        ("timestamp,value\n1700000000,abc\n", "unparsable value 'abc'"),
        ("timestamp,value\nyesterday,1\n", "unparsable timestamp 'yesterday'"),
        ("timestamp,value\n1700000000\n", "too few columns"),
    ],
)
def test_bad_csv_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["latency", "detect", "--input", str(path)]) == 2
    err = capsys.readouterr().err
    assert reason in err and err.count("\n") == 1


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["latency", "detect", "--input", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_mode_anomaly_sees_a_drop_and_warming_up_is_reported(
    tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    ts, vs = series(rng, 1500)
    path = write(
        tmp_path / "drop.csv", [(f"{t:.0f}", f"{v:.4f}") for t, v in zip(ts, with_step(vs, 1200, -0.5), strict=True)]
    )
    assert main(["latency", "detect", "--input", str(path), "--json"]) == 0
    regression = orjson.loads(capsys.readouterr().out)
    assert regression["mode"] == "regression" and not regression["alarms"]
    assert regression["warming_up"] is True  # 1500 points: no daily profile yet
    assert regression["warming_up_points"] == 1500
    assert main(["latency", "detect", "--input", str(path), "--mode", "anomaly", "--json"]) == 0
    anomaly = orjson.loads(capsys.readouterr().out)
    assert anomaly["alarms"][0]["direction"] == "down"
    assert main(["latency", "detect", "--input", str(path), "--mode", "anomaly"]) == 0
    assert "anomaly alarm(s)" in capsys.readouterr().out

"""`sentinel latency detect --plot` writes a real PNG of the series, alarms and score."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from sentinel_dev.cli.main import main


def write_series(path: Path, rng: np.random.Generator) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["timestamp", "value"])
        for i in range(600):
            level = 1.5 if i >= 400 else 1.0
            out.writerow([1_795_000_000 + 60 * i, round(800 * level * float(np.exp(rng.normal(0, 0.05))), 3)])


def test_plot_is_a_png_and_the_summary_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    series = tmp_path / "s.csv"
    write_series(series, np.random.default_rng(5))
    assert main(["latency", "detect", "--input", str(series), "--json"]) == 0
    plain = capsys.readouterr().out
    png = tmp_path / "s.png"
    assert main(["latency", "detect", "--input", str(series), "--json", "--plot", str(png)]) == 0
    assert capsys.readouterr().out == plain
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_unwritable_plot_path_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    series = tmp_path / "s.csv"
    write_series(series, np.random.default_rng(6))
    code = main(["latency", "detect", "--input", str(series), "--plot", str(tmp_path / "no" / "dir" / "x.png")])
    assert code == 2
    assert "cannot write" in capsys.readouterr().err

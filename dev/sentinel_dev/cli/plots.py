"""Figures for people who would rather look than read (matplotlib, the ``local`` extra; never in Lambda)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from llmops_sentinel.errors import BadInputError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - the dev venv has it
        raise BadInputError("--plot needs matplotlib: pip install 'llmops-sentinel[local]'") from exc
    return plt


def latency_figure(
    timestamps: np.ndarray,
    values: np.ndarray,
    scores: np.ndarray,
    alarms: np.ndarray,
    onsets: list[float],
    path: Path,
    title: str = "latency",
    warming_up: np.ndarray | None = None,
) -> Path:
    """Series with alarm points and onsets on top, the causal score below (grey: warming up); a PNG."""
    plt = _pyplot()
    when = [datetime.fromtimestamp(float(t), UTC) for t in timestamps]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, height_ratios=(3, 1))
    top.plot(when, values, lw=0.8, color="#4c72b0", label="value")
    alarm_idx = np.flatnonzero(alarms)
    if alarm_idx.size:
        top.scatter([when[i] for i in alarm_idx], values[alarm_idx], s=8, color="#c44e52", label="alarm", zorder=3)
    for k, onset in enumerate(onsets):
        top.axvline(
            datetime.fromtimestamp(onset, UTC), color="#dd8452", ls="--", lw=1, label="onset" if k == 0 else None
        )
    top.set_ylabel("value")
    top.set_title(title)
    top.legend(loc="upper left", fontsize=8)
    bottom.plot(when, scores, lw=0.8, color="#55a868")
    bottom.axhline(0.5, color="#c44e52", lw=0.6, ls=":")  # score >= 0.5 exactly where it alarms
    if warming_up is not None and warming_up.any():
        bottom.fill_between(when, 0, 1.02, where=warming_up, color="0.85", step="post", label="warming up")
        bottom.legend(loc="upper left", fontsize=8)
    bottom.set_ylim(0, 1.02)
    bottom.set_ylabel("score")
    bottom.set_xlabel("time (UTC)")
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise BadInputError(f"cannot write {path}: {exc.strerror}") from exc
    finally:
        plt.close(fig)
    return path

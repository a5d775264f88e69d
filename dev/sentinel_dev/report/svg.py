"""Inline SVG charts (pure string building; no plotting library, nothing fetched when the page opens).

Every chart is an ``<svg class="chart" data-chart=ID>`` whose content the page's check script and the
browser test count: at least one mark (a path, a circle or a rect of class ``mark``) per chart that has
data, and a ``<text class="empty">`` instead when it has none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from sentinel_dev.report.model import Marker

PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626")
MARKER_COLOURS = {"onset": "#dc2626", "detected": "#f97316", "action": "#059669", "deploy": "#6b7280"}
_TIME_STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


@dataclass
class Line:
    name: str
    points: Sequence[tuple[float, float]]
    colour: str = PALETTE[0]
    step: bool = False
    dots: bool = False
    highlight: Sequence[bool] = field(default_factory=tuple)
    """Per point: drawn as a red dot (e.g. drifted)."""


@dataclass
class HLine:
    value: float
    label: str
    colour: str = "#dc2626"


def _nice(span: float) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    exp = math.floor(math.log10(span))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * 10**exp
        if span / step <= 5:
            return float(step)
    return float(10 ** (exp + 1))


LABEL_ROW_H = 11
LABEL_CHAR_W = 6.0  # px per character of a 10 px marker label (an estimate: no font metrics in the page)


def _label_rows(xs: Sequence[float], labels: Sequence[str], flip_x: float) -> list[int]:
    """A row per marker label (in time order) so that no two labels in a row overlap: each goes to the
    first row whose labels end before it begins. Labels right of ``flip_x`` end at their marker."""
    ends: list[list[tuple[float, float]]] = []
    rows = []
    for x, label in zip(xs, labels, strict=True):
        w = LABEL_CHAR_W * len(label) + 6
        span = (x - 3 - w, x - 3) if x > flip_x else (x + 3, x + 3 + w)
        row = next((i for i, taken in enumerate(ends) if all(span[1] < a or span[0] > b for a, b in taken)), None)
        if row is None:
            ends.append([])
            row = len(ends) - 1
        ends[row].append(span)
        rows.append(row)
    return rows


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def time_label(t: float, with_day: bool = False) -> str:
    moment = datetime.fromtimestamp(t, UTC)
    return moment.strftime("%m-%d %H:%M") if with_day else moment.strftime("%H:%M")


def _empty(chart_id: str, title: str, width: int, height: int, message: str) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" width="100%"><rect x="0" y="0" width="{width}" height="{height}" '
        f'fill="#f9fafb"/><text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle" '
        f'fill="#6b7280">{escape(message)}</text></svg>'
    )


def line_chart(
    chart_id: str,
    title: str,
    lines: Sequence[Line],
    t0: float,
    t1: float,
    y_label: str = "",
    hlines: Sequence[HLine] = (),
    markers: Sequence[Marker] = (),
    y_range: tuple[float, float] | None = None,
    width: int = 920,
    height: int = 220,
    empty: str = "no data in this period",
) -> str:
    """A time-series chart: lines (optionally stepped), dashed thresholds, and labelled vertical markers."""
    values = [v for line in lines for _, v in line.points if math.isfinite(v)]
    if not values or t1 <= t0:
        return _empty(chart_id, title, width, height, empty)
    left, right, bottom = 58, 16, 28
    plot_w = width - left - right
    shown = [m for m in sorted(markers, key=lambda m: m.t) if t0 <= m.t <= t1]
    rows = _label_rows(
        [left + (m.t - t0) / (t1 - t0) * plot_w for m in shown], [m.label for m in shown], left + plot_w * 0.6
    )
    n_rows = max(rows, default=-1) + 1
    height += max(0, n_rows - 3) * LABEL_ROW_H  # more label rows make the chart taller, not the plot smaller
    top = 22 + (LABEL_ROW_H * max(n_rows, 3) - 7 if shown else 0)
    plot_h = height - top - bottom
    if y_range is not None:
        y0, y1 = y_range
    else:
        bounds = [*values, *(h.value for h in hlines)]
        y0, y1 = min(0.0, *bounds), max(bounds)
        y1 = y1 + (y1 - y0) * 0.08 if y1 > y0 else y0 + 1.0

    def x(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return top + plot_h - (min(max(v, y0), y1) - y0) / (y1 - y0) * plot_h

    out = [
        f'<svg class="chart" data-chart="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" width="100%">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#ffffff" stroke="#e5e7eb"/>',
    ]
    step = _nice(y1 - y0)
    tick = math.ceil(y0 / step) * step
    while tick <= y1 + 1e-12:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#f3f4f6"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">{_fmt(tick)}</text>'
        )
        tick += step
    max_ticks = max(3, min(8, plot_w // 90))  # a 300 px chart has room for 3 time labels, a wide one for 8
    t_step = next((s for s in _TIME_STEPS if (t1 - t0) / s <= max_ticks), _TIME_STEPS[-1])
    with_day = (t1 - t0) > 86_400
    tt = math.ceil(t0 / t_step) * t_step
    while tt <= t1:
        out.append(
            f'<line x1="{x(tt):.1f}" x2="{x(tt):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#9ca3af"/>'
            f'<text x="{x(tt):.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{time_label(tt, with_day)}</text>"
        )
        tt += t_step
    if y_label:
        out.append(
            f'<text x="12" y="{top + plot_h / 2:.1f}" transform="rotate(-90 12 {top + plot_h / 2:.1f})" '
            f'text-anchor="middle" class="axis">{escape(y_label)}</text>'
        )
    for h in hlines:
        out.append(
            f'<line class="threshold" x1="{left}" x2="{left + plot_w}" y1="{y(h.value):.1f}" y2="{y(h.value):.1f}" '
            f'stroke="{h.colour}" stroke-dasharray="6 4"><title>{escape(h.label)}</title></line>'
            f'<text x="{left + plot_w - 4}" y="{y(h.value) - 4:.1f}" text-anchor="end" class="tick" '
            f'fill="{h.colour}">{escape(h.label)}</text>'
        )
    for line in lines:
        pts = [(t, v) for t, v in line.points if math.isfinite(v) and t0 <= t <= t1]
        if not pts:
            continue
        cmds = [f"M{x(pts[0][0]):.1f},{y(pts[0][1]):.1f}"]
        for t, v in pts[1:]:
            cmds.append(f"H{x(t):.1f}V{y(v):.1f}" if line.step else f"L{x(t):.1f},{y(v):.1f}")
        if line.step:
            cmds.append(f"H{x(t1):.1f}")
        out.append(
            f'<path class="mark" d="{" ".join(cmds)}" fill="none" stroke="{line.colour}" stroke-width="1.6">'
            f"<title>{escape(line.name)}</title></path>"
        )
        if line.dots or line.highlight or len(pts) == 1:
            flags = list(line.highlight) + [False] * len(line.points)
            for index, (t, v) in enumerate(pts):
                red = flags[index]
                out.append(
                    f'<circle class="mark" cx="{x(t):.1f}" cy="{y(v):.1f}" r="{4 if red else 3}" '
                    f'fill="{"#dc2626" if red else line.colour}"><title>{escape(line.name)} '
                    f"{time_label(t, True)}: {_fmt(v)}{' (drifted)' if red else ''}</title></circle>"
                )
    for m, row in zip(shown, rows, strict=True):
        colour = MARKER_COLOURS[m.kind]
        label_y = 11 + row * LABEL_ROW_H
        right_half = x(m.t) > left + plot_w * 0.6
        label_x, anchor = (x(m.t) - 3, "end") if right_half else (x(m.t) + 3, "start")
        body = (
            f'<line class="marker" x1="{x(m.t):.1f}" x2="{x(m.t):.1f}" y1="{top}" y2="{top + plot_h}" '
            f'stroke="{colour}" stroke-width="1.2" stroke-dasharray="2 2"/>'
            f'<text x="{label_x:.1f}" y="{label_y}" text-anchor="{anchor}" class="mlabel" fill="{colour}">'
            f"{escape(m.label)}</text>"
            f"<title>{escape(m.kind)} {time_label(m.t, True)}: {escape(m.label)}</title>"
        )
        out.append(f'<a href="#{escape(m.link)}">{body}</a>' if m.link else f"<g>{body}</g>")
    legend_x = left + 6
    for line in lines:
        out.append(
            f'<rect x="{legend_x}" y="{top + 6}" width="10" height="3" fill="{line.colour}"/>'
            f'<text x="{legend_x + 14}" y="{top + 11}" class="legend">{escape(line.name)}</text>'
        )
        legend_x += 24 + 7 * len(line.name)
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, Sequence[tuple[str, float, str]]]],
    width: int = 920,
    bar_h: int = 22,
    unit: str = "",
    empty: str = "nothing to show",
) -> str:
    """Horizontal stacked bars: ``[(label, [(part name, value, colour), ...]), ...]``."""
    total = max((sum(v for _, v, _ in parts) for _, parts in bars), default=0.0)
    height = 30 + bar_h * max(1, len(bars)) + 8 * len(bars)
    if not bars or total <= 0:
        return _empty(chart_id, title, width, 80, empty)
    left, right = max(160, 16 + 7 * max(len(label) for label, _ in bars)), 260  # room for the longest label
    plot_w = width - left - right
    out = [
        f'<svg class="chart" data-chart="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" width="100%">'
    ]
    for row, (label, parts) in enumerate(bars):
        y0 = 10 + row * (bar_h + 8)
        out.append(
            f'<text x="{left - 8}" y="{y0 + bar_h * 0.7:.1f}" text-anchor="end" class="blabel">{escape(label)}</text>'
        )
        x0 = float(left)
        for name, value, colour in parts:
            if value <= 0:
                continue
            w = value / total * plot_w
            out.append(
                f'<rect class="mark" x="{x0:.1f}" y="{y0}" width="{max(w, 1.5):.1f}" height="{bar_h}" '
                f'fill="{colour}"><title>{escape(label)}: {escape(name)} {_fmt(value)}{escape(unit)}</title></rect>'
            )
            x0 += w
        summary = ", ".join(f"{_fmt(v)}{unit} {name}" for name, v, _ in parts if v > 0) or "0"
        out.append(f'<text x="{x0 + 6:.1f}" y="{y0 + bar_h * 0.7:.1f}" class="tick">{escape(summary)}</text>')
    out.append("</svg>")
    return "".join(out)

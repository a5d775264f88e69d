"""``ReportModel -> HTML``: one self-contained page (inline CSS, SVG and a few lines of JS; no network).

Pure: the same model renders the same page. Sections per endpoint: latency p99 with the detector's
score, onsets and actions; drift per feature against its threshold; instance counts; cost per 1k
tokens; the audit trail (signal -> decision -> action, each chart marker links to its row). Then the
governance findings by severity.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from llmops_sentinel.domain.cost import VariantCost
from sentinel_dev.report.model import EndpointView, FeatureDriftSeries, FindingRow, ReportModel
from sentinel_dev.report.svg import PALETTE, HLine, Line, bar_chart, line_chart

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f3f4f6;color:#111827}
header{background:#111827;color:#f9fafb;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#d1d5db}main{padding:16px 28px;max-width:1280px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px 18px;margin:14px 0}
h2{margin:0 0 8px;font-size:18px}h3{margin:14px 0 4px;font-size:15px;color:#374151}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;
padding:10px 14px;min-width:150px}.card b{display:block;font-size:22px}.card span{color:#6b7280}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:8px}
.grid figure{margin:0;border:1px solid #f3f4f6;border-radius:6px;padding:4px}
figcaption{font-size:12px;color:#374151}figcaption.drifted{color:#b91c1c;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 6px;
border-bottom:1px solid #f3f4f6;vertical-align:top}th{background:#f9fafb}tr:target{background:#fef3c7}
.tick{font-size:10px;fill:#6b7280}.axis,.legend{font-size:11px;fill:#374151}.mlabel{font-size:10px}
.blabel{font-size:12px;fill:#111827}.empty{font-size:13px}.note{color:#6b7280;font-size:12px}
.ok{color:#047857}.bad{color:#b91c1c}.pill{display:inline-block;padding:0 6px;border-radius:9px;
background:#e5e7eb;font-size:12px}input[type=search]{padding:4px 8px;width:280px;margin:4px 0 8px}
footer{color:#6b7280;font-size:12px;padding:8px 28px 24px}
"""

# Counts the charts that drew something (the browser check reads data-charts-*), filters the audit trail.
SCRIPT = """
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var drawn = 0, empty = 0;
  charts.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && svg.querySelector('.mark')) { drawn++; }
    else if (svg.querySelector('text.empty')) { empty++; }
  });
  document.body.setAttribute('data-charts-total', String(charts.length));
  document.body.setAttribute('data-charts-drawn', String(drawn));
  document.body.setAttribute('data-charts-empty', String(empty));
  var status = document.getElementById('chart-status');
  if (status) { status.textContent = drawn + ' of ' + charts.length + ' charts drawn, ' + empty + ' without data'; }
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    input.addEventListener('input', function () {
      var needle = input.value.toLowerCase();
      document.querySelectorAll('#' + input.getAttribute('data-filter') + ' tbody tr').forEach(function (row) {
        row.style.display = row.textContent.toLowerCase().indexOf(needle) >= 0 ? '' : 'none';
      });
    });
  });
})();
"""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _money(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"${value:,.{digits}f}"


def _per_1k(value: float | None) -> str:
    return "-" if value is None else f"${value:.5f}"


def _drift_rank(series: FeatureDriftSeries) -> tuple[int, float]:
    ratio = max((p.effect / p.threshold for p in series.points if p.threshold > 0), default=0.0)
    return (0 if any(p.drifted for p in series.points) else 1, -ratio)


def _latency(view: EndpointView, report: ReportModel) -> str:
    if not view.latency:
        return "<h3>Latency</h3><p class='note'>no ModelLatency datapoints in this period</p>"
    parts = ["<h3>Latency: ModelLatency p99 and the detector's score</h3>"]
    for index, series in enumerate(view.latency):
        hlines = [HLine(series.threshold_ms, f"p99 alarm {series.threshold_ms:,.0f} ms")] if series.threshold_ms else []
        parts.append(
            line_chart(
                f"latency-{view.name}-{series.variant}",
                f"{view.name}/{series.variant} ModelLatency p99",
                [Line(f"p99 ms ({series.variant})", [(p.t, p.v) for p in series.p99_ms], PALETTE[index % 8])],
                report.start,
                report.end,
                y_label="p99 (ms)",
                hlines=hlines,
                markers=series.markers,
            )
        )
        parts.append(
            line_chart(
                f"score-{view.name}-{series.variant}",
                f"{view.name}/{series.variant} detector score",
                [Line("detector score", [(p.t, p.v) for p in series.score], "#7c3aed")],
                report.start,
                report.end,
                y_label="score",
                y_range=(0.0, 1.0),
                markers=series.markers,
                height=150,
                empty="the detector accepted no points (too little history)",
            )
        )
    parts.append(
        "<p class='note'>Markers: <span style='color:#dc2626'>onset</span> (CUSUM estimate), "
        "<span style='color:#f97316'>detected</span>, <span style='color:#059669'>action</span> "
        "(click: its audit row), <span style='color:#6b7280'>config InService</span>. The score is the "
        "scheduled latency detector re-run on the plotted p99 series; an alarm's confirmation look uses "
        "lowered thresholds (confirm_threshold_ratio), so a confirmed regression can be acted on before "
        "this score peaks.</p>"
    )
    return "".join(parts)


def _drift(view: EndpointView, report: ReportModel) -> str:
    if not view.drift:
        return "<h3>Drift</h3><p class='note'>no drift reports in this period</p>"
    parts = ["<h3>Drift: share of drifted features per check</h3>"]
    share = view.drift_share
    parts.append(
        line_chart(
            f"drift-share-{view.name}",
            f"{view.name} share of drifted features",
            [
                Line(
                    "share drifted",
                    [(p.t, p.effect) for p in share],
                    PALETTE[0],
                    dots=True,
                    highlight=[p.drifted for p in share],
                )
            ],
            report.start,
            report.end,
            y_label="share",
            y_range=(0.0, 1.0),
            hlines=[HLine(share[-1].threshold, f"threshold {share[-1].threshold:.0%}")] if share else [],
            height=160,
        )
    )
    parts.append("<h3>Drift per feature: effect size against its floor (dashed); red = drifted</h3><div class='grid'>")
    for series in sorted(view.drift, key=_drift_rank):
        drifted = any(p.drifted for p in series.points)
        last = series.points[-1]
        caption = (
            f"{escape(series.feature)} <span class='pill'>{escape(series.method)}</span>"
            f"{' critical' if series.critical else ''} - last {last.effect:.3g} vs {last.threshold:.3g}"
        )
        chart = line_chart(
            f"drift-{view.name}-{series.feature}",
            f"{series.feature} drift",
            [
                Line(
                    series.feature,
                    [(p.t, p.effect) for p in series.points],
                    PALETTE[2],
                    dots=True,
                    highlight=[p.drifted for p in series.points],
                )
            ],
            report.start,
            report.end,
            hlines=[HLine(last.threshold, "")],
            width=300,
            height=120,
        )
        parts.append(
            f"<figure><figcaption class='{'drifted' if drifted else ''}'>{caption}</figcaption>{chart}</figure>"
        )
    parts.append("</div>")
    return "".join(parts)


def _instances(view: EndpointView, report: ReportModel) -> str:
    if not view.instances:
        return ""
    lines = [
        Line(f"{s.variant} ({s.instance_type or '?'})", [(p.t, p.v) for p in s.steps], PALETTE[i % 8], step=True)
        for i, s in enumerate(view.instances)
    ]
    markers = [m for s in view.latency for m in s.markers if m.kind in {"action", "deploy"}]
    return "<h3>Instances per variant</h3>" + line_chart(
        f"instances-{view.name}",
        f"{view.name} instance count",
        lines,
        report.start,
        report.end,
        y_label="instances",
        markers=markers,
        height=150,
    )


def _cost_chart(view: EndpointView) -> str:
    """Cost per 1k input/output tokens when tokens were counted; else, for a priced endpoint, its cost split
    into in-use and idle (an endpoint without data capture has no token counts, so no per-1k cost, but it
    still burns money); no chart when nothing is priced (the table and the note say why)."""
    shared = {c.variant for c in view.costs if sum(o.variant == c.variant for o in view.costs) > 1}

    def label(c: VariantCost) -> str:  # a variant that ran on two instance types has a bar for each
        return f"{c.variant} on {c.instance_type.removeprefix('ml.')}" if c.variant in shared else c.variant

    if any(c.usd_per_1k_input_tokens or c.usd_per_1k_output_tokens for c in view.costs):
        bars = [
            (
                label(c),
                [
                    ("per 1k input", c.usd_per_1k_input_tokens or 0.0, PALETTE[0]),
                    ("per 1k output", c.usd_per_1k_output_tokens or 0.0, PALETTE[1]),
                ],
            )
            for c in view.costs
        ]
        return bar_chart(
            f"cost-{view.name}",
            f"{view.name} cost per 1k tokens",
            bars,
            unit=" $",
            empty="no tokens served or no price: no cost per 1k tokens",
        )
    priced = [c for c in view.costs if c.priced and c.cost_usd is not None]
    if not priced:
        return ""
    bars = [
        (
            label(c),
            [
                ("in use", max(0.0, (c.cost_usd or 0.0) - (c.idle_cost_usd or 0.0)), PALETTE[0]),
                ("idle", c.idle_cost_usd or 0.0, PALETTE[7]),
            ],
        )
        for c in priced
    ]
    return (
        "<p class='note'>No token counts for this endpoint in this period (no captured requests reached the "
        "Firehose processor): no cost per 1k tokens; the instance cost, in use and idle:</p>"
        + bar_chart(
            f"cost-{view.name}",
            f"{view.name} instance cost, in use and idle",
            bars,
            unit=" $",
            empty="no instance-hours in this period",
        )
    )


def _costs(view: EndpointView) -> str:
    if not view.costs:
        return ""
    rows = "".join(
        f"<tr><td>{escape(c.variant)}</td><td>{escape(c.instance_type)}</td><td>{_money(c.usd_per_hour, 3)}</td>"
        f"<td>{c.instance_hours:.2f}</td><td>{_money(c.cost_usd)}</td><td>{c.idle_instance_hours:.2f} "
        f"({_money(c.idle_cost_usd)})</td><td>{c.input_tokens:,.0f} / {c.output_tokens:,.0f}</td>"
        f"<td>{_per_1k(c.usd_per_1k_input_tokens)}</td><td>{_per_1k(c.usd_per_1k_output_tokens)}</td>"
        f"<td>{_per_1k(c.usd_per_1k_tokens)}</td></tr>"
        for c in view.costs
    )
    chart = _cost_chart(view)
    unpriced = [c for c in view.costs if not c.priced]
    note = (
        f"<p class='note'>No price for {', '.join(sorted({c.instance_type + ' in ' + c.region for c in unpriced}))}"
        " in the price book.</p>"
        if unpriced
        else ""
    )
    sources = sorted({c.price_source for c in view.costs if c.price_source})
    return (
        "<h3>Cost in this period</h3><table><thead><tr><th>variant</th><th>instance</th><th>$/h</th>"
        "<th>instance-h</th><th>cost</th><th>idle instance-h (cost)</th><th>tokens in / out</th>"
        "<th>$/1k in</th><th>$/1k out</th><th>$/1k blended</th></tr></thead><tbody>"
        f"{rows}</tbody></table>" + chart + note + "".join(f"<p class='note'>price: {escape(s)}</p>" for s in sources)
    )


def _audit(view: EndpointView) -> str:
    if not view.audit:
        return "<h3>Audit trail</h3><p class='note'>no remediation decisions recorded</p>"
    table_id = f"audit-{view.name}"
    rows = []
    for a in view.audit:
        twice = f" <span class='pill'>x{a.deliveries} delivered</span>" if a.deliveries > 1 else ""
        status_cls = "ok" if a.status == "SUCCEEDED" else ("bad" if a.status in {"FAILED", "TIMED_OUT"} else "")
        rows.append(
            f"<tr id='{escape(a.anchor)}'><td>{escape(a.occurred_at[:19].replace('T', ' '))}</td>"
            f"<td><b>{escape(a.signal)}</b><br><span class='note'>{escape(a.summary)}</span></td>"
            f"<td>{escape(a.decision)}{twice}<br><span class='note'>{escape(a.reason)}</span></td>"
            f"<td>{escape(a.action)}<br><span class='note'>{escape(a.workflow or '-')}</span></td>"
            f"<td class='{status_cls}'>{escape(a.status or '-')}</td></tr>"
        )
    return (
        f"<h3>Audit trail: signal &rarr; decision &rarr; action</h3>"
        f"<input type='search' placeholder='filter the audit trail' data-filter='{escape(table_id)}'>"
        f"<table id='{escape(table_id)}'><thead><tr><th>occurred (UTC)</th><th>signal</th><th>decision</th>"
        f"<th>action</th><th>workflow status</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _findings(findings: list[FindingRow]) -> str:
    bars = []
    for severity in SEVERITIES:
        failed = sum(1 for f in findings if f.severity == severity and not f.compliant)
        passed = sum(1 for f in findings if f.severity == severity and f.compliant)
        if failed or passed:
            parts = [("non-compliant", float(failed), "#dc2626"), ("compliant", float(passed), "#10b981")]
            bars.append((severity, parts))
    rows = "".join(
        f"<tr><td>{escape(f.severity)}</td><td class='{'ok' if f.compliant else 'bad'}'>"
        f"{'compliant' if f.compliant else 'NON-COMPLIANT'}</td><td>{escape(f.policy)}</td>"
        f"<td>{escape(f.resource)}</td><td>{escape(f.remediation or '-')}</td></tr>"
        for f in sorted(
            findings,
            key=lambda f: (f.compliant, SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 9, f.policy),
        )
    )
    table = (
        "<input type='search' placeholder='filter findings' data-filter='findings'><table id='findings'><thead>"
        "<tr><th>severity</th><th>result</th><th>policy</th><th>resource</th><th>remediation</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if findings
        else ""
    )
    return (
        "<section><h2>Governance findings by severity</h2>"
        + bar_chart("findings", "findings by severity", bars, empty="no governance findings in Security Hub")
        + table
        + "</section>"
    )


def render_html(report: ReportModel) -> str:
    decisions = sum(len(e.audit) for e in report.endpoints)
    started = sum(1 for e in report.endpoints for a in e.audit if a.workflow)
    checks = sum(len(e.drift_share) for e in report.endpoints)
    failed = sum(1 for f in report.findings if not f.compliant)
    costs = [c.cost_usd for e in report.endpoints for c in e.costs if c.cost_usd is not None]
    cards = [
        (str(len(report.endpoints)), "endpoints"),
        (str(checks), "drift checks"),
        (str(decisions), "remediation decisions"),
        (str(started), "workflows started"),
        (str(failed), "non-compliant findings"),
        (_money(sum(costs)) if costs else "-", "instance cost"),
    ]
    body = [
        f"<header><h1>{escape(report.title)}</h1><p>{escape(report.source)} &middot; {_iso(report.start)} &ndash; "
        f"{_iso(report.end)} &middot; generated {_iso(report.generated_at)}</p></header><main>",
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{escape(v)}</b><span>{escape(k)}</span></div>" for v, k in cards)
        + "</div>",
    ]
    if report.notes:
        body.append(
            "<section><h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul></section>"
        )
    for view in report.endpoints:
        body.append(
            f"<section id='endpoint-{escape(view.name)}'><h2>Endpoint {escape(view.name)}</h2>"
            + _latency(view, report)
            + _instances(view, report)
            + _drift(view, report)
            + _costs(view)
            + _audit(view)
            + "</section>"
        )
    body.append(_findings(report.findings))
    if report.price_book:
        body.append(f"<p class='note'>Price book: {escape(report.price_book)}</p>")
    body.append(
        "</main><footer><span id='chart-status'>charts not checked (JavaScript off)</span> &middot; "
        "LLMOps Sentinel &middot; self-contained page: nothing is fetched when it opens</footer>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head><body>"
        + "".join(body)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )

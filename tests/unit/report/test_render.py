"""The report page's structure (always runs; the browser check is tests/integration/test_report.py)."""

from __future__ import annotations

from html.parser import HTMLParser

from llmops_sentinel.domain.cost import VariantUsage, parse_price_book, variant_cost
from sentinel_dev.report.model import (
    AuditRow,
    DriftPoint,
    EndpointView,
    FeatureDriftSeries,
    FindingRow,
    InstanceSeries,
    LatencySeries,
    Marker,
    Point,
    ReportModel,
)
from sentinel_dev.report.render import render_html

T0 = 1_764_720_000.0
BOOK = parse_price_book(
    "prices: [{region: us-east-1, instance_type: ml.g5.2xlarge, usd_per_hour: 1.5, source: p, checked: 2026-01-01}]",
    "t",
)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.charts: list[dict[str, object]] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "svg" and "chart" in (a.get("class") or ""):
            self.charts.append({"id": a.get("data-chart"), "marks": 0, "empty": False})
        elif self.charts and tag in {"path", "circle", "rect"} and a.get("class") == "mark":
            self.charts[-1]["marks"] = int(self.charts[-1]["marks"]) + 1  # type: ignore[call-overload]
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value and not value.startswith("#"):
                self.external.append(f"{tag} {key}={value}")
        if tag == "link":
            self.external.append(f"link {a}")
        if tag == "script":
            self.scripts += 1
        if tag == "text" and a.get("class") == "empty" and self.charts:
            self.charts[-1]["empty"] = True


def _model(with_data: bool = True) -> ReportModel:
    minutes = range(120)
    audit = AuditRow(
        anchor="decision-ep-1",
        occurred_at="2025-12-03T00:50:00Z",
        signal="latency-regression",
        summary="p99 +200%",
        decision="started",
        reason="rule 0",
        action="rollback",
        workflow="rollback-ep-1",
        status="SUCCEEDED",
        deliveries=2,
    )
    cost = variant_cost(
        VariantUsage(
            endpoint="ep",
            variant="AllTraffic",
            region="us-east-1",
            instance_type="ml.g5.2xlarge",
            instance_hours=2,
            idle_instance_hours=0.5,
            input_tokens=10_000,
            output_tokens=5_000,
        ),
        BOOK,
    )
    view = EndpointView(
        name="ep",
        latency=[
            LatencySeries(
                variant="AllTraffic",
                p99_ms=[Point(t=T0 + 60 * m, v=1000 + (2000 if m > 100 else 0)) for m in minutes],
                score=[Point(t=T0 + 60 * m, v=min(1.0, max(0, m - 100) / 5)) for m in minutes],
                threshold_ms=2000,
                markers=[
                    Marker(t=T0 + 6000, label="onset +200%", kind="onset"),
                    Marker(t=T0 + 6600, label="rollback started", kind="action", link="decision-ep-1"),
                ],
            )
        ]
        if with_data
        else [],
        instances=[
            InstanceSeries(
                variant="AllTraffic", instance_type="ml.g5.2xlarge", steps=[Point(t=T0, v=1), Point(t=T0 + 3000, v=2)]
            )
        ],
        drift=[
            FeatureDriftSeries(
                feature="input_tokens",
                method="ks",
                points=[
                    DriftPoint(t=T0 + 1800, effect=0.01, threshold=0.05, drifted=False),
                    DriftPoint(t=T0 + 5400, effect=0.4, threshold=0.05, drifted=True),
                ],
            )
        ]
        if with_data
        else [],
        drift_share=[DriftPoint(t=T0 + 5400, effect=0.6, threshold=0.25, drifted=True)] if with_data else [],
        costs=[cost],
        audit=[audit],
    )
    return ReportModel(
        source="test <b>escaped</b>",
        generated_at=T0 + 7200,
        start=T0,
        end=T0 + 7200,
        endpoints=[view],
        findings=[
            FindingRow(severity="HIGH", policy="endpoint-kms", resource="arn:x", compliant=False),
            FindingRow(severity="LOW", policy="tags", resource="arn:y", compliant=True),
        ],
    )


def test_every_chart_draws_marks_or_says_it_has_no_data() -> None:
    page = _Page()
    page.feed(render_html(_model()))
    ids = [c["id"] for c in page.charts]
    for expected in (
        "latency-ep-AllTraffic",
        "score-ep-AllTraffic",
        "instances-ep",
        "drift-share-ep",
        "drift-ep-input_tokens",
        "cost-ep",
        "findings",
    ):
        assert expected in ids, ids
    assert len(set(ids)) == len(ids), "chart ids are unique"
    for chart in page.charts:
        assert chart["marks"] or chart["empty"], chart
    assert all(c["marks"] for c in page.charts), "this model has data for every chart"


def test_page_is_self_contained_and_markers_link_to_audit_rows() -> None:
    html = render_html(_model())
    page = _Page()
    page.feed(html)
    assert page.external == [], "nothing is fetched when the page opens"
    assert page.scripts == 1
    assert "default-src 'none'" in html
    assert "<b>escaped</b>" not in html and "&lt;b&gt;escaped&lt;/b&gt;" in html
    assert "#decision-ep-1" in page.links and "decision-ep-1" in page.ids
    assert all(link[1:] in page.ids for link in page.links), "every in-page link has its target"


def test_empty_sections_say_so_instead_of_drawing_nothing() -> None:
    html = render_html(_model(with_data=False))
    page = _Page()
    page.feed(html)
    assert "no ModelLatency datapoints" in html and "no drift reports" in html
    assert all(c["marks"] or c["empty"] for c in page.charts)


def test_cost_table_shows_the_per_1k_split_and_the_price_source() -> None:
    html = render_html(_model())
    # $3 over 10k input + 4 x 5k output = 30k weighted tokens -> $0.0001/token = $0.1 per 1k input
    assert "$0.10000" in html and "$0.40000" in html
    assert "price: p (checked 2026-01-01)" in html


def _idle_view(instance_type: str) -> ReportModel:
    """An endpoint that served no captured tokens (e.g. no data capture): 2 instance-hours, 1.5 of them idle."""
    cost = variant_cost(
        VariantUsage(
            endpoint="quiet",
            variant="AllTraffic",
            region="us-east-1",
            instance_type=instance_type,
            instance_hours=2,
            idle_instance_hours=1.5,
        ),
        BOOK,
    )
    view = EndpointView(name="quiet", costs=[cost])
    return ReportModel(source="t", generated_at=T0 + 7200, start=T0, end=T0 + 7200, endpoints=[view])


def test_without_tokens_a_priced_endpoint_charts_its_in_use_and_idle_cost() -> None:
    html = render_html(_idle_view("ml.g5.2xlarge"))
    page = _Page()
    page.feed(html)
    cost = [c for c in page.charts if c["id"] == "cost-quiet"]
    assert len(cost) == 1 and cost[0]["marks"] == 2 and not cost[0]["empty"]
    # $1.5/h: 0.5 h in use -> $0.75, 1.5 h idle -> $2.25 (the bars' summary, 2 significant digits)
    assert "0.75 $ in use, 2.2 $ idle" in html
    assert "no cost per 1k tokens" in html


def test_without_tokens_or_price_no_cost_chart_is_drawn_and_the_note_says_why() -> None:
    html = render_html(_idle_view("ml.g4dn.2xlarge"))
    page = _Page()
    page.feed(html)
    assert [c["id"] for c in page.charts if str(c["id"]).startswith("cost-")] == []
    assert "No price for ml.g4dn.2xlarge in us-east-1" in html


def test_a_variant_that_ran_on_two_instance_types_has_a_labelled_cost_bar_for_each() -> None:
    costs = [
        variant_cost(
            VariantUsage(
                endpoint="ep",
                variant="AllTraffic",
                region="us-east-1",
                instance_type=kind,
                instance_hours=1,
                input_tokens=1000,
                output_tokens=100,
            ),
            BOOK,
        )
        for kind in ("ml.g5.2xlarge", "ml.g5.xlarge")
    ]
    html = render_html(
        ReportModel(
            source="t",
            generated_at=T0 + 3600,
            start=T0,
            end=T0 + 3600,
            endpoints=[EndpointView(name="ep", costs=costs)],
        )
    )
    assert "AllTraffic on g5.2xlarge</text>" in html and "AllTraffic on g5.xlarge</text>" in html


def test_marker_labels_close_in_time_get_rows_of_their_own_and_far_ones_share_a_row() -> None:
    from sentinel_dev.report.svg import LABEL_CHAR_W, _label_rows

    # five labels within 10 px (an incident: onset, deploy, detection, action, alarm back to OK), one far away
    xs = [100.0, 102.0, 104.0, 106.0, 110.0, 600.0]
    labels = ["onset +40%", "config-v2", "detected", "rollback", "ok", "x"]
    rows = _label_rows(xs, labels, flip_x=10_000)
    assert rows[:5] == [0, 1, 2, 3, 4] and rows[5] == 0
    # a label that starts after the previous one ended (its width estimated per character) reuses the row
    first_end = 100.0 + 3 + LABEL_CHAR_W * len("abc") + 6
    assert _label_rows([100.0, first_end + 1], ["abc", "d"], flip_x=10_000) == [0, 0]

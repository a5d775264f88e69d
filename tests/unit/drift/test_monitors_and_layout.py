"""Drift monitors file (validation with lines, merge, windows), S3 key layout, data-capture keys, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from llmops_sentinel.adapters.s3 import baseline_key, hour_prefixes, profile_key, profile_time, report_key
from llmops_sentinel.domain.drift.monitors import DEFAULT_MONITORS_PATH, load_monitors
from llmops_sentinel.errors import ConfigError, InvalidEventError
from llmops_sentinel.models.drift_events import parse_check_request, parse_time
from llmops_sentinel.services.drift import capture_location, stream_name
from sentinel_dev.local.template import load_template
from tests.conftest import REPO


def test_packaged_monitors_load_and_config_links_to_them() -> None:
    monitors = load_monitors()
    (demo,) = monitors.resolved()
    assert demo.endpoint == "demo-llm-endpoint" and demo.config.endpoint == "demo-llm-endpoint"
    assert demo.config.override("refusal_like") is not None
    assert (REPO / "config" / "monitors.yaml").resolve() == DEFAULT_MONITORS_PATH.resolve()


def test_default_window_equals_the_templates_default_schedule() -> None:
    schedule = load_template(REPO / "template.yaml").raw["Parameters"]["DriftCheckSchedule"]["Default"]
    minutes = int(re.fullmatch(r"rate\((\d+) minutes?\)", schedule).group(1))  # type: ignore[union-attr]
    assert load_monitors().defaults.window_minutes == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nmonitors:\n  - endpoint: a\n    window_minutes: 0\n", "monitors.0.window_minutes (line 4)"),
        ("version: 1\nmonitors:\n  - endpoint: a\n    monitor:\n      alpha: 3\n", "monitors.0.monitor.alpha (line 5)"),
        ("version: 1\nmonitors:\n  - endpoint: a\n    colour: red\n", "monitors.0.colour (line 4)"),
        ("version: 1\nmonitors:\n  - endpoint: a\n  - endpoint: a\n", "listed twice"),
        ("version: 1\ndefaults:\n  monitor:\n    features: [llm, vibes]\n", "unknown feature or group 'vibes'"),
        ("version: 2\n", "version (line 1)"),
        ("monitors: [\n", "not valid YAML"),
    ],
)
def test_invalid_monitors_are_reported_with_their_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_monitors(text=text)


def test_an_entry_replaces_only_the_keys_it_names() -> None:
    monitors = load_monitors(
        text=(
            "version: 1\ndefaults:\n  window_minutes: 30\n  monitor: {alpha: 0.01, share_threshold: 0.5}\n"
            "monitors:\n  - endpoint: a\n    settle_minutes: 0\n    monitor: {share_threshold: 0.3}\n"
            "  - endpoint: b\n    enabled: false\n"
        )
    )
    (a,) = monitors.resolved()
    assert (a.window_minutes, a.settle_minutes) == (30, 0)
    assert (a.config.alpha, a.config.share_threshold) == (0.01, 0.3)
    assert monitors.monitor_for("unlisted").config.share_threshold == 0.5


def test_window_ends_settle_minutes_before_the_check_floored_to_the_minute() -> None:
    (monitor,) = load_monitors().resolved()
    start, end = monitor.window(datetime(2026, 11, 26, 10, 15, 42, 7, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 11, 26, 9, 58, tzinfo=UTC), datetime(2026, 11, 26, 10, 13, tzinfo=UTC))


def test_profile_keys_carry_their_time_and_windows_list_the_hours_they_touch() -> None:
    at = datetime(2026, 11, 26, 9, 59, 30, tzinfo=UTC)
    key = profile_key("llm-prod", at, "2b4d1ad9/../x")
    assert key == "profiles/llm-prod/2026/11/26/09/20261126T095930Z-2b4d1ad9-..-x.json"
    assert profile_time(key) == at and profile_time("profiles/llm-prod/readme.txt") is None
    assert hour_prefixes(
        "llm-prod", datetime(2026, 11, 26, 9, 58, tzinfo=UTC), datetime(2026, 11, 26, 10, 13, tzinfo=UTC)
    ) == ["profiles/llm-prod/2026/11/26/09/", "profiles/llm-prod/2026/11/26/10/"]
    assert baseline_key("llm-prod") == "baselines/llm-prod.json"
    assert report_key("llm-prod", datetime(2026, 11, 26, 10, 13, tzinfo=UTC)) == "reports/llm-prod/20261126T1013Z.json"


def test_data_capture_keys_name_endpoint_and_variant() -> None:
    assert capture_location("datacapture/llm-prod/AllTraffic/2026/11/26/10/05-123-abc.jsonl") == (
        "llm-prod",
        "AllTraffic",
    )
    assert capture_location("IMG_m7fzo3.jpg") is None
    assert capture_location("datacapture/llm-prod/AllTraffic/2026/11/xx/10/a.jsonl") is None
    assert stream_name("arn:aws:firehose:us-east-2:123456789012:deliverystream/delivery-stream-name") == (
        "delivery-stream-name"
    )
    assert stream_name("arn:aws:kinesis:EXAMPLE") is None and stream_name(None) is None


def test_times_from_events() -> None:
    iso = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)
    assert parse_time("2026-11-26T10:15:00Z") == iso
    assert parse_time(iso.timestamp()) == iso  # moto's S3 notification: epoch seconds
    assert parse_time(str(int(iso.timestamp() * 1000))) == iso  # epoch ms as text
    assert parse_check_request({"detail-type": "Scheduled Event", "time": "2026-11-26T10:15:00Z"}).moment == iso
    with pytest.raises(InvalidEventError):
        parse_check_request({"detail-type": "Object Created", "time": "2026-11-26T10:15:00Z"})
    with pytest.raises(InvalidEventError):
        parse_check_request([])

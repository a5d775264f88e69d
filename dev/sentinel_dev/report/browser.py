"""Open a written report in headless Chromium and check it: every chart drawn, no console errors.

``python -m sentinel_dev.report.browser report.html [--screenshot report.png]`` (exit 0 when it passes).
Chromium runs with no network access to anything (the page's CSP allows only inline content and
``--disable-background-networking`` etc. keep Chromium itself quiet); a throw-away profile directory.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from llmops_sentinel.errors import BadInputError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--virtual-time-budget=3000",
)
_CONSOLE = re.compile(r'CONSOLE\(\d+\)\] "(?P<message>.*)", source: (?P<source>\S*)|:CONSOLE:\d+\] "(?P<m2>.*)"')
_BODY = re.compile(r"<body([^>]*)>")


def find_chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@dataclass
class BrowserCheck:
    charts_total: int
    charts_drawn: int
    charts_empty: int
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _run(chromium: str, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="sentinel-chromium-") as profile:
        return subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def check_report(
    path: Path, screenshot: Path | None = None, chromium: str | None = None, timeout: float = 90.0
) -> BrowserCheck:
    """Load ``path`` in Chromium: the DOM after scripts ran (the page's own chart count) and the console."""
    exe = chromium or find_chromium()
    if exe is None:
        raise BadInputError("no Chromium found (apt-get install chromium)")
    url = path.resolve().as_uri()
    dom = _run(exe, ["--enable-logging=stderr", "--v=0", "--dump-dom", url], timeout)
    attrs = dict(re.findall(r'data-charts-(total|drawn|empty)="(\d+)"', (_BODY.search(dom.stdout) or [""])[0]))
    console = [m.group("message") or m.group("m2") or "" for m in _CONSOLE.finditer(dom.stderr)]
    result = BrowserCheck(
        charts_total=int(attrs.get("total", -1)),
        charts_drawn=int(attrs.get("drawn", -1)),
        charts_empty=int(attrs.get("empty", -1)),
        console=console,
    )
    if dom.returncode != 0:
        result.errors.append(f"chromium exited {dom.returncode}: {dom.stderr.strip()[-400:]}")
    if result.charts_total < 0:
        result.errors.append("the page's check script did not run (no data-charts-* on <body>)")
    elif result.charts_drawn + result.charts_empty != result.charts_total:
        result.errors.append(
            f"{result.charts_total - result.charts_drawn - result.charts_empty} of {result.charts_total} charts "
            "neither drew a mark nor said they had no data"
        )
    result.errors.extend(f"console: {line}" for line in console)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        shot = _run(exe, [f"--screenshot={screenshot.resolve()}", "--window-size=1280,2400", url], timeout)
        if shot.returncode != 0 or not screenshot.exists() or screenshot.stat().st_size == 0:
            result.errors.append(f"no screenshot written: {shot.stderr.strip()[-400:]}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sentinel_dev.report.browser", description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--min-drawn", type=int, default=1, help="fail if fewer charts drew something")
    args = parser.parse_args(argv)
    result = check_report(args.report, args.screenshot)
    if result.charts_drawn < args.min_drawn:
        result.errors.append(f"only {result.charts_drawn} charts drew something (expected >= {args.min_drawn})")
    print(
        f"{args.report}: {result.charts_drawn} of {result.charts_total} charts drawn, "
        f"{result.charts_empty} without data, {len(result.console)} console messages"
    )
    for error in result.errors:
        print(f"  FAIL {error}", file=sys.stderr)
    if args.screenshot and args.screenshot.exists():
        print(f"screenshot: {args.screenshot}")
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Every command's --help has examples, and every file an example names exists; govern's table is whole."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from llmops_sentinel.domain.governance import evaluate, load_default_policies
from sentinel_dev.cli.govern import load_resources, plural, render
from sentinel_dev.cli.main import _subcommands, build_parser

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests/unit/governance/fixtures/config_role_sagemaker_star.json"


def _all() -> list[tuple[str, argparse.ArgumentParser]]:
    return [("", build_parser()), *_subcommands(build_parser())]


@pytest.mark.parametrize(("path", "parser"), _all(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_command_help_shows_examples(path: str, parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    assert "examples:" in text, f"`sentinel {path} --help` has no examples"
    assert "Entry point of the" not in text
    # each example line runs this very command (or, at the top level, some command)
    lines = [ln.strip() for ln in text.split("examples:", 1)[1].splitlines() if ln.strip().startswith("sentinel ")]
    assert lines, text
    assert all(ln.startswith(f"sentinel {path}".rstrip()) for ln in lines), lines


def test_files_named_in_examples_exist() -> None:
    named: set[str] = set()
    for _, parser in _all():
        for token in re.findall(r"(?:examples|events|tests|config)/[\w./-]+", parser.epilog or ""):
            named.add(token)
    assert named
    missing = [p for p in sorted(named) if not (ROOT / p).exists()]
    assert missing == []


def test_govern_table_keeps_whole_resource_names_and_counts_in_words() -> None:
    resources = load_resources([FIXTURE])
    findings = evaluate(resources, load_default_policies())
    text = render(findings, len(resources))
    assert text.splitlines()[0].startswith(f"{plural(len(findings), 'finding')} on 1 resource:")
    for finding in findings:
        assert finding.resource_id in text
    assert plural(1, "resource") == "1 resource" and plural(0, "finding") == "0 findings"

"""Config YAML is parsed once, by libyaml's C parser when PyYAML has it, with PyYAML's own errors.

The reference is PyYAML's pure-Python safe loader (``yaml.safe_load`` / ``yaml.compose`` with
``SafeLoader``): same data, same node tree and line marks, and for a text either parser rejects, the
pure-Python parser's error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops_sentinel.domain import validation
from llmops_sentinel.domain.governance.policy import default_policies_text
from llmops_sentinel.domain.validation import compose_yaml, load_yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILES = sorted((ROOT / "config").glob("*.yaml")) + sorted(
    (ROOT / "layers/core/llmops_sentinel/config").glob("*.yaml")
)
# Scalars the YAML 1.1 resolver types (booleans, octal/sexagesimal ints, floats, nulls, timestamps),
# anchors and merges, block and flow styles, quoting, multi-line strings, a comment-only document.
TRICKY = [
    "a: yes\nb: off\nc: 0o17\nd: 017\ne: 1:30\nf: .5\ng: 1e3\nh: ~\ni: 2026-12-04\nj: 2026-12-04T10:00:00Z\n",
    "base: &b {x: 1, y: [1, 2]}\nderived:\n  <<: *b\n  y: 3\n",
    "s: 'it''s'\nd: \"tab\\tand \\u00e9\"\nfolded: >\n  one\n  two\nliteral: |\n  keep\n   indent\n",
    "- 1\n- - nested\n  - list\n- {k: v}\n",
    "# only a comment\n",
    "",
    "key: value # trailing comment\nempty:\nlist: []\nmap: {}\n",
    "\ufeffbom: true\n",
]
BAD = [
    "a: b: c\n",
    "key: [unclosed\n",
    "a:\n  - 1\n - 2\n",
    "a: 'open\n",
    "&x a: *y\n",
    "a: 1\n---\nb: 2\n",  # two documents where one is expected
    "\tkey: tab\n",
]


def _tree(node: Any) -> Any:
    """A node tree as nested tuples: tag, value, and the start line/column of every node."""
    if node is None:
        return None
    mark = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        return (node.tag, mark, [(_tree(k), _tree(v)) for k, v in node.value])
    if isinstance(node, yaml.SequenceNode):
        return (node.tag, mark, [_tree(item) for item in node.value])
    return (node.tag, mark, node.value)


def _texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in CONFIG_FILES] + [default_policies_text(), *TRICKY]


def test_the_fast_parser_is_present_where_the_layer_runs() -> None:
    # PyYAML's manylinux wheels (the lock's, for the layer and the venv) carry libyaml: without it the
    # fallback below is all there is, and this test says so rather than the speed silently going.
    assert hasattr(yaml, "CSafeLoader")


@pytest.mark.parametrize("text", _texts())
def test_data_and_node_tree_equal_the_pure_python_loaders(text: str) -> None:
    node, data = compose_yaml(text)
    assert data == yaml.safe_load(text)
    assert load_yaml(text) == data
    assert _tree(node) == _tree(yaml.compose(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("text", BAD)
def test_a_rejected_text_raises_the_pure_python_parsers_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        load_yaml(text)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("text", _texts()[-len(TRICKY) :] + BAD)
def test_without_libyaml_the_pure_python_parser_gives_the_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = compose_yaml
    try:
        expected: Any = ("ok", _tree(fast(text)[0]), fast(text)[1])
    except yaml.YAMLError as exc:
        expected = ("error", str(exc))
    monkeypatch.delattr(yaml, "CSafeLoader")
    try:
        got: Any = ("ok", _tree(validation.compose_yaml(text)[0]), validation.load_yaml(text))
    except yaml.YAMLError as exc:
        got = ("error", str(exc))
    assert got == expected

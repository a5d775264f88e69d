"""Config and input validation helpers shared by the domain and the boundary models.

One way to say what pydantic rejected (``where: what``, with the YAML line when the text is known) and
one way to lay a per-endpoint override over the defaults. The domain's config loaders (remediation,
fleet, monitors, prices, governance) and ``models/validation.py`` use these, so messages read the same
everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from llmops_sentinel.errors import ConfigError

if TYPE_CHECKING:
    from yaml.nodes import Node

_M = TypeVar("_M", bound=BaseModel)


def describe(error: ErrorDetails, top: str = "<root>", text: str | None = None) -> str:
    """``a.0.b: msg`` for one pydantic error (``top`` when it is about the whole input).

    With ``text`` (the YAML/JSON the data came from) the line is added when it can be found:
    ``a.0.b (line 4): msg``.
    """
    where = ".".join(str(part) for part in error["loc"]) or top
    line = yaml_line(text, error["loc"]) if text is not None else None
    at = f" (line {line})" if line else ""
    return f"{where}{at}: {error['msg']}"


def first_error(exc: ValidationError, top: str = "<root>", text: str | None = None) -> str:
    """:func:`describe` of the first error pydantic reports."""
    return describe(exc.errors()[0], top, text)


def all_errors(exc: ValidationError, top: str = "<root>") -> str:
    """Every error, :func:`describe`-d, on one line separated by ``; ``."""
    return "; ".join(describe(error, top) for error in exc.errors())


def compose_yaml(text: str) -> tuple[Node | None, Any]:
    """A YAML document's node tree (with line marks) and the data ``yaml.safe_load`` gives.

    Parsed by libyaml's C parser when PyYAML has it (its wheels do, the layer's included): about 8x
    faster than the pure-Python one on the config files a cold start reads. The resolver and
    constructor are PyYAML's safe ones either way, so the data are the same. A text the C parser
    rejects is read again by the pure-Python parser, so a :class:`yaml.YAMLError` (its message and
    mark) is PyYAML's whichever parser is present. The tree and the data come from two parses:
    constructing merge keys (``<<``) rewrites the tree it reads. Raises ``yaml.YAMLError``.
    """
    import yaml  # PyYAML on first parse, not at cold start

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast), yaml.load(text, Loader=fast)  # CSafeLoader: the safe constructor
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)`` on the C parser when present, with PyYAML's errors (see :func:`compose_yaml`)."""
    import yaml  # PyYAML on first parse, not at cold start

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # CSafeLoader: the safe constructor
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def parse_yaml_mapping(model: type[_M], text: str, source: str, expected: str) -> _M:
    """``text`` (YAML, a mapping) validated as ``model`` with ``source`` added, or :class:`ConfigError`.

    Messages: ``<source>: not YAML: ...``, ``<source>: expected <expected>`` (not a mapping), else
    ``<source>: `` + :func:`first_error`. The price files (``domain/cost.py``, ``fleet_cost.py``) share it.
    """
    import yaml  # PyYAML on first parse, not at cold start

    try:
        data: Any = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected {expected}")
    try:
        return model.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ConfigError(f"{source}: {first_error(exc)}") from None


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` laid over it key by key; nested mappings merge, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def yaml_line(text: str, loc: Sequence[Any]) -> int | None:
    """Best-effort 1-based line of the YAML node at ``loc`` (keys and list indexes); None if unknown."""
    import yaml  # error path only: PyYAML is not imported at cold start

    try:
        node: Any = compose_yaml(text)[0]
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line

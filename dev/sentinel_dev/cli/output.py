"""Shared output helpers for subcommands: JSON with ``--json``, human text otherwise."""

from __future__ import annotations

import sys
from typing import Any

import orjson
from pydantic import BaseModel


def emit_json(payload: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Write ``payload`` as one JSON document on stdout."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())
    sys.stdout.write("\n")

"""Shared output helpers for subcommands: JSON with ``--json``, human text otherwise; and the one place
that turns an exception into an exit code and a one-line reason on stderr (:func:`classify`).

Bad input (exit 2): :class:`BadInputError` and its subclasses; a file that is not UTF-8 text; a CSV
field over the csv module's limit (128 KiB) or another CSV error; a file that cannot be read or an
``--output`` that cannot be written (any ``OSError`` that is not a closed pipe); a pydantic validation
error; a YAML error; botocore's missing region, credentials or profile (``history`` against AWS).
Other :class:`SentinelError`, AWS service errors and connection errors: exit 1 with one line.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import csv
import os
import sys
from typing import Any

import orjson
import yaml
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from pydantic import BaseModel, ValidationError

from llmops_sentinel.errors import BadInputError, SentinelError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
MAX_LINE = 400


def emit_json(payload: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Write ``payload`` as one JSON document on stdout."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())
    sys.stdout.write("\n")


def one_line(text: str) -> str:
    """``text`` on one line of at most :data:`MAX_LINE` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 3] + "..."


def fail(code: int, reason: str) -> int:
    """Write ``sentinel: <reason>`` as one line on stderr; return ``code``."""
    sys.stderr.write(f"sentinel: {one_line(reason)}\n")
    sys.stderr.flush()
    return code


def _os_reason(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def classify(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one-line reason) for an exception the CLI answers without a traceback, else None."""
    if isinstance(exc, BadInputError):
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, UnicodeError):
        return EXIT_BAD_INPUT, f"input is not UTF-8 text ({exc})"
    if isinstance(exc, csv.Error):
        limit = csv.field_size_limit()
        detail = f" (the limit is {limit // 1024} KiB)" if "field limit" in str(exc) else ""
        return EXIT_BAD_INPUT, f"CSV cannot be read: {exc}{detail}"
    if isinstance(exc, (NoRegionError, NoCredentialsError, PartialCredentialsError, ProfileNotFound)):
        return EXIT_BAD_INPUT, f"AWS: {exc} (set AWS_REGION / AWS_PROFILE or credentials)"
    if isinstance(exc, ConnectionError):
        return EXIT_ERROR, _os_reason(exc)
    if isinstance(exc, OSError):
        return EXIT_BAD_INPUT, _os_reason(exc)
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[:1]
        where = ".".join(str(p) for p in first[0]["loc"]) if first else ""
        return EXIT_BAD_INPUT, f"invalid {exc.title}: {where}: {first[0]['msg'] if first else exc}"
    if isinstance(exc, yaml.YAMLError):
        return EXIT_BAD_INPUT, f"not YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if isinstance(exc, RecursionError):
        return EXIT_BAD_INPUT, "input is nested too deeply"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return EXIT_ERROR, f"AWS {exc.operation_name}: {error.get('Code', '?')}: {error.get('Message', exc)}"
    if isinstance(exc, (BotoCoreError, SentinelError)):
        return EXIT_ERROR, f"{type(exc).__name__}: {exc}"
    return None


def closed_stdout() -> int:
    """The reader of stdout went away: stop quietly (Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout at exit: let that go nowhere
    except (OSError, ValueError):  # stdout is not a file (captured in-process): nothing to redirect
        pass
    return EXIT_ERROR

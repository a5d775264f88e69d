"""Shared output helpers for subcommands: JSON with ``--json``, human text otherwise; and the one place
that turns an exception into an exit code and a one-line reason on stderr (:func:`classify`).

Bad input (exit 2): :class:`BadInputError` and its subclasses; a file that is not UTF-8 text; a CSV
field over the csv module's limit (128 KiB) or another CSV error; a file that cannot be read or an
``--output`` that cannot be written (any ``OSError`` that is not a closed pipe); a pydantic validation
error; a YAML error; botocore's missing region, credentials or profile (``history`` against AWS).
Other :class:`SentinelError`, AWS service errors and connection errors: exit 1 with one line.
Anything else is a bug and keeps its traceback.

botocore, pydantic and yaml are not imported here: an exception of theirs can only exist once its module
is loaded, so :func:`classify` looks for their types in ``sys.modules`` (a ``drift check`` does not pay
for botocore, a ``baseline build`` not for pydantic either).
"""

from __future__ import annotations

import csv
import os
import sys
from typing import TYPE_CHECKING, Any

import orjson

from llmops_sentinel.errors import BadInputError, SentinelError

if TYPE_CHECKING:
    from pydantic import BaseModel

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
MAX_LINE = 400


def emit_json(payload: BaseModel | dict[str, Any] | list[Any]) -> None:
    """Write ``payload`` as one JSON document on stdout."""
    pydantic = sys.modules.get("pydantic")
    is_model = pydantic is not None and isinstance(payload, pydantic.BaseModel)
    data = payload.model_dump(mode="json") if is_model else payload  # type: ignore[union-attr]
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


def _loaded(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """Those exception types of ``module`` if it is loaded, else none (nothing can be an instance of them)."""
    mod = sys.modules.get(module)
    return tuple(getattr(mod, name) for name in names) if mod is not None else ()


def classify(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one-line reason) for an exception the CLI answers without a traceback, else None."""
    boto = "botocore.exceptions"
    if isinstance(exc, BadInputError):
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, UnicodeError):
        return EXIT_BAD_INPUT, f"input is not UTF-8 text ({exc})"
    if isinstance(exc, csv.Error):
        limit = csv.field_size_limit()
        detail = f" (the limit is {limit // 1024} KiB)" if "field limit" in str(exc) else ""
        return EXIT_BAD_INPUT, f"CSV cannot be read: {exc}{detail}"
    if isinstance(
        exc, _loaded(boto, "NoRegionError", "NoCredentialsError", "PartialCredentialsError", "ProfileNotFound")
    ):
        return EXIT_BAD_INPUT, f"AWS: {exc} (set AWS_REGION / AWS_PROFILE or credentials)"
    if isinstance(exc, ConnectionError):
        return EXIT_ERROR, _os_reason(exc)
    if isinstance(exc, OSError):
        return EXIT_BAD_INPUT, _os_reason(exc)
    if isinstance(exc, _loaded("pydantic", "ValidationError")):
        first = exc.errors(include_url=False)[:1]  # type: ignore[attr-defined]
        where = ".".join(str(p) for p in first[0]["loc"]) if first else ""
        title = getattr(exc, "title", "input")
        return EXIT_BAD_INPUT, f"invalid {title}: {where}: {first[0]['msg'] if first else exc}"
    if isinstance(exc, _loaded("yaml", "YAMLError")):
        return EXIT_BAD_INPUT, f"not YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    if isinstance(exc, RecursionError):
        return EXIT_BAD_INPUT, "input is nested too deeply"
    if isinstance(exc, _loaded(boto, "ClientError")):
        error = exc.response.get("Error", {})  # type: ignore[attr-defined]
        operation = getattr(exc, "operation_name", "?")
        return EXIT_ERROR, f"AWS {operation}: {error.get('Code', '?')}: {error.get('Message', exc)}"
    if isinstance(exc, (*_loaded(boto, "BotoCoreError"), SentinelError)):
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

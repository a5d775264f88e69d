"""Entry point of the ``sentinel`` console script.

Subcommands live in one module each under ``sentinel_dev.cli`` and expose
``register(subparsers)``; adding one is one module plus one name in ``COMMANDS``.
Exit codes: 0 ran fine (whatever it found), 2 bad input (one-line reason on stderr), 1 a failure that
is not the input's fault (one line too). What counts as bad input is decided here, in one place
(:func:`sentinel_dev.cli.output.classify`), so subcommands just raise. A closed stdout (``sentinel ...
--json | head -c1``) ends quietly with exit 1, as the Python documentation advises for SIGPIPE.

The console script is :func:`run`: ``main`` and then, for the data commands (``baseline``, ``drift``),
an exit that skips the interpreter's teardown (:func:`exit_now`).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import NoReturn

from llmops_sentinel import __version__
from sentinel_dev.cli.output import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, classify, closed_stdout, fail

COMMANDS: tuple[str, ...] = ("invoke", "demo", "baseline", "drift", "govern", "latency", "history", "report", "redrive")
# commands whose process may end without the interpreter's teardown (they start no thread, hold no open
# file once done, and leave nothing to finalise but memory)
FAST_EXIT: frozenset[str] = frozenset({"baseline", "drift"})
__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_ERROR",
    "EXIT_OK",
    "FAST_EXIT",
    "build_parser",
    "exit_now",
    "main",
    "run",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SystemExit(fail(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')"))


def _subcommands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                child_path = f"{path} {name}".strip()
                yield child_path, child
                yield from _subcommands(child, child_path)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``only`` registers just that subcommand (a run imports only the module it needs)."""
    from sentinel_dev.cli.examples import DESCRIPTION, EXAMPLES, MAIN

    parser = _Parser(
        prog="sentinel", description=DESCRIPTION, epilog=MAIN, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"sentinel_dev.cli.{name}")
        module.register(sub)
    for path, child in _subcommands(parser):
        if path in EXAMPLES and not child.epilog:
            child.epilog = EXAMPLES[path]
            child.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    first = words[0] if words else None
    try:
        args = build_parser(first if first in COMMANDS else None).parse_args(words)
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe surfaces here, inside the handler below
    except BrokenPipeError:
        return closed_stdout()
    except Exception as exc:
        mapped = classify(exc)
        if mapped is None:
            raise  # a bug: keep its traceback
        return fail(*mapped)
    return code


def exit_now(code: int) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, minus tearing the interpreter down.

    A normal exit runs the ``atexit`` handlers and then frees every module and object one by one: with
    numpy, pyarrow and a profile loaded that is ~0.035 s of CPU per process (measured: docs/drift.md), 10 %
    of a ``baseline build`` of 100k rows, for memory the OS takes back anyway. This flushes stdout and
    stderr, runs the ``atexit`` handlers, and ends with ``os._exit``. With a second thread still running
    it exits normally instead (a normal exit would wait for it).
    """
    import threading

    if threading.active_count() > 1:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = closed_stdout()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def run() -> NoReturn:
    """The ``sentinel`` console script: :func:`main`, then :func:`exit_now` for the ``FAST_EXIT`` commands.

    Those commands also run without the cyclic garbage collector: importing numpy, pyarrow and pydantic
    allocates enough containers to trigger ~0.02 s of collections that find nothing to free, and the data
    work allocates arrays, not cycles (reference counting frees them; peak RSS at 1M rows unchanged:
    docs/drift.md). The process ends right after, so nothing is left for a later collection.
    """
    fast = bool(sys.argv[1:2]) and sys.argv[1] in FAST_EXIT
    if fast:
        gc.disable()
    code = main()
    if fast:
        exit_now(code)
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    run()

"""Entry point of the ``sentinel`` console script.

Subcommands live in one module each under ``sentinel_dev.cli`` and expose
``register(subparsers)``; adding one is one module plus one name in ``COMMANDS``.
Exit codes: 0 ran fine (whatever it found), 2 bad input (one-line reason on stderr), 1 a failure that
is not the input's fault (one line too). What counts as bad input is decided here, in one place
(:func:`sentinel_dev.cli.output.classify`), so subcommands just raise. A closed stdout (``sentinel ...
--json | head -c1``) ends quietly with exit 1, as the Python documentation advises for SIGPIPE.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence

from llmops_sentinel import __version__
from sentinel_dev.cli.output import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, classify, closed_stdout, fail

COMMANDS: tuple[str, ...] = ("invoke", "demo", "baseline", "drift", "govern", "latency", "history", "report", "redrive")
__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_ERROR", "EXIT_OK", "build_parser", "main"]


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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Entry point of the ``sentinel`` console script.

Subcommands live in one module each under ``sentinel_dev.cli`` and expose
``register(subparsers)``; adding one is one module plus one name in ``COMMANDS``.
Exit codes: 0 ran fine (whatever it found), 2 bad input (one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterator, Sequence

from llmops_sentinel import __version__
from llmops_sentinel.errors import BadInputError, SentinelError

COMMANDS: tuple[str, ...] = ("invoke", "demo", "baseline", "drift", "govern", "latency", "history", "report", "redrive")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"sentinel: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


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
    parser = build_parser(first if first in COMMANDS else None)
    args = parser.parse_args(words)
    try:
        code: int = args.func(args)
    except BadInputError as exc:
        sys.stderr.write(f"sentinel: {exc}\n")
        return EXIT_BAD_INPUT
    except SentinelError as exc:
        sys.stderr.write(f"sentinel: {type(exc).__name__}: {exc}\n")
        return EXIT_ERROR
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

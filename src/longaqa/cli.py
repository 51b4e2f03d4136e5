"""The ``longaqa`` command line: wiring only.

Each subcommand lives in ``longaqa/commands/<name>.py`` and exposes ``register(subparsers)``, which
adds its parser and sets ``func``. Commands import heavy dependencies inside ``func``.
A :class:`LongAQAError` is printed as one line with exit code 2 (``--debug`` shows its traceback);
any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from longaqa import __version__, commands
from longaqa.errors import LongAQAError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="longaqa", description="Interpretable long-term action quality assessment."
    )
    parser.add_argument("--version", action="version", version=f"longaqa {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for user errors too")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"longaqa.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except LongAQAError as exc:
        if args.debug:
            raise
        print(f"longaqa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"longaqa: interrupted{': ' + str(exc) if str(exc) else ''}", file=sys.stderr)
        return 130
    return int(result or 0)

"""Entry point: parse, dispatch to one command module, turn errors into exit codes.

Each module in ``scopecheck.commands`` defines ``register(subparsers)`` which adds its
sub-command(s) and sets ``func`` (``args -> exit status``). Modules only parse, call the library
and render. Exit statuses follow ``cmp``: 0 same/found, 1 different/not found, 2 trouble,
130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from scopecheck.compare.errors import ScopecheckError

from . import __version__

# Command modules, in the order their commands appear in --help.
COMMAND_MODULES = ("compare", "hash", "strip", "capture", "controls", "calibrate", "record", "preview", "devices",
                   "index")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other bad input
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scopecheck", description="Repeatable microscope shots and a trustworthy "
                     "answer to 'are these two captures the same?'")
    parser.add_argument("--version", action="version", version=f"scopecheck {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"scopecheck.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"scopecheck.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except ScopecheckError as e:
        if args.debug:
            raise
        print(f"scopecheck {args.command}: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"scopecheck {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 2
    except MemoryError:
        print(f"scopecheck {args.command}: out of memory", file=sys.stderr)
        return 2

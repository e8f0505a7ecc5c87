"""Entry point: parse, dispatch to one command module, turn errors into exit codes.

Each module in ``scopecheck.commands`` defines ``register(subparsers)`` which adds its
sub-command(s) and sets ``func`` (``args -> exit status``). Modules only parse, call the library
and render. Exit statuses follow ``cmp``: 0 same/found, 1 different/not found, 2 trouble,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

The edge, once for every command:

* only the module of the command being run is imported (``compare`` never loads SQLite or the
  worker pool); ``--help`` without a command imports them all;
* options may come anywhere, before or after the positional arguments (intermixed parsing);
* a :class:`ScopecheckError` becomes one line on stderr (and, with ``--json``, a JSON object
  ``{"error": ..., "exit": ...}`` on stdout); tracebacks only with ``--debug``;
* SIGTERM unwinds like Ctrl-C, so half-written temporary files are removed;
* a reader that goes away (``| head -1``, ``| grep -q``) ends the output quietly: the exit status
  stays the command's answer, as for ``cmp`` and ``grep``;
* file names that are not valid UTF-8 are printed as their original bytes, never a crash.
"""
from __future__ import annotations

import argparse
import codecs
import importlib
import os
import signal
import sys
import threading

from scopecheck.compare.errors import ScopecheckError

# Command modules, in the order their commands appear in --help.
COMMAND_MODULES = ("compare", "hash", "strip", "capture", "controls", "calibrate", "record", "preview", "devices",
                   "index", "serve")
# command -> module, so that a run imports only its own module (others fall back to importing all)
COMMANDS = {
    "compare": "compare", "hash": "hash", "strip": "strip",
    "capture": "capture", "controls": "controls", "calibrate": "calibrate", "record": "record",
    "preview": "preview", "devices": "devices",
    "index": "index", "search": "search", "dedupe": "index", "serve": "serve",
}
TOP_OPTIONS = {"-h", "--help", "--version", "--debug"}


def _columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, its width found as argparse finds it but without importing
    shutil (argparse makes a formatter on every add_argument, and shutil loads the compression
    modules: a few ms of every run)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    json_errors = False  # set by main() when the command line asks for --json

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2, like every other bad input
        if _Parser.json_errors:
            _print_json_error(f"{self.prog}: {message}", 2)
        self.exit(2, f"{self.prog}: error: {message}\n")


class _CommandParser(_Parser):
    """A sub-command parser that takes options anywhere: ``compare A --json B``."""

    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        # parse_known_intermixed_args calls back here; and it loses "--" (names starting with "-"
        # after it would be taken for options), so such command lines are parsed the classic way
        if self._inside or (args is not None and "--" in args):
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def _command_of(argv: list[str]) -> str | None:
    for a in argv:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a
        if a not in TOP_OPTIONS:
            return None
    return None


class _Version(argparse.Action):
    """``--version``, reading the installed version only when asked (importlib.metadata is slow)."""

    def __call__(self, parser, namespace, values, option_string=None):
        import scopecheck

        print(f"scopecheck {scopecheck.__version__}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or with ``command`` one holding only the module that defines it."""
    parser = _Parser(prog="scopecheck", description="Repeatable microscope shots and a trustworthy "
                     "answer to 'are these two captures the same?'")
    parser.add_argument("--version", action=_Version, nargs=0, help="show program's version number and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(f"scopecheck.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"scopecheck.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def _print_json_error(message: str, code: int) -> None:
    from .commands.common import json_text

    try:
        sys.stdout.write(json_text({"error": message, "exit": code}, lines=True) + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


# ------------------------------------------------------------------ stdout that cannot crash

def _names_errors(e: UnicodeError):
    """Encoding error handler for stdout: file-name bytes that are not UTF-8 (surrogate escapes)
    go out as the original bytes, like ``ls`` prints them; other unencodable text as ``\\N``."""
    if not isinstance(e, UnicodeEncodeError):
        raise e
    chunk = e.object[e.start:e.end]
    if all("\udc80" <= c <= "\udcff" for c in chunk):
        return bytes(ord(c) - 0xDC00 for c in chunk), e.end
    return codecs.backslashreplace_errors(e)


codecs.register_error("scopecheck-names", _names_errors)


class _QuietStdout:
    """Wraps stdout: when the reader has gone (EPIPE), the rest of the output goes to /dev/null
    (as the Python documentation on SIGPIPE suggests) and the command finishes normally."""

    def __init__(self, stream):
        self._stream = stream
        self.reader_gone = False

    def _gone(self):
        self.reader_gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, s):
        if not self.reader_gone:
            try:
                return self._stream.write(s)
            except BrokenPipeError:
                self._gone()
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if not self.reader_gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup (temporary files) runs as for Ctrl-C."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def entry() -> None:
    """The ``scopecheck`` command (console script, ``python -m scopecheck``): :func:`main` as a
    process of its own. What Python and this module imported before it lives until the process
    ends, so it is moved out of the cycle collector's way first (``gc.freeze``): the collections
    during the run and the one at exit no longer traverse it (5 % of the instructions of a warm
    search, callgrind), and nothing collectable is kept (newer objects are collected as before)."""
    import gc

    gc.freeze()
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    head = argv[:argv.index("--")] if "--" in argv else argv
    _Parser.json_errors = "--json" in head
    stdout = sys.stdout
    if getattr(stdout, "errors", None) == "strict" and hasattr(stdout, "reconfigure"):
        try:
            stdout.reconfigure(errors="scopecheck-names")
        except (ValueError, OSError):
            pass
    sys.stdout = _QuietStdout(stdout)
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run(argv)
    except KeyboardInterrupt:  # before the command started (parsing, imports) or after it ended
        print("scopecheck: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("scopecheck: terminated", file=sys.stderr)
        return 143
    finally:
        try:
            sys.stdout.flush()
        finally:
            sys.stdout = stdout
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)


#: The archive commands hash on one BLAS thread per process (``compare.batch`` limits it with
#: threadpoolctl). OpenBLAS sets up every helper thread's buffers when numpy loads, before any
#: limit applies: told so first, each process loads numpy in about half the time (0.06 of a 0.74 s
#: two-core search of 515 JPEGs, measured with and without, interleaved). A user's own value stands.
ONE_BLAS_THREAD = frozenset({"hash", "index", "search", "dedupe"})


def _run(argv: list[str]) -> int:
    command = _command_of(argv)
    if command in ONE_BLAS_THREAD and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    want_json = bool(getattr(args, "json", False))

    def fail(message: str, code: int) -> int:
        from .commands.common import one_line

        print(f"scopecheck {args.command}: {one_line(message)}", file=sys.stderr)
        if want_json:
            _print_json_error(message, code)
        return code

    try:
        return int(args.func(args))
    except ScopecheckError as e:
        if args.debug:
            raise
        return fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except _Terminated:
        return fail("terminated", 143)
    except BrokenPipeError:  # a write that bypassed the wrapper (binary output): the answer is unknown
        if isinstance(sys.stdout, _QuietStdout):
            sys.stdout._gone()
        return fail("the reader of stdout went away before the output was complete", 2)
    except MemoryError:
        return fail("out of memory", 2)
    except Exception as e:  # a bug: still one line, the traceback with --debug
        if args.debug:
            raise
        return fail(f"internal error: {type(e).__name__}: {e} (run with --debug for the traceback "
                    "and please report it)", 2)

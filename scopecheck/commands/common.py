"""Options and rendering shared by several commands (defined once)."""
from __future__ import annotations

import argparse
import os
import re
import sys
import time

from scopecheck.compare.containers.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from scopecheck.compare.errors import InputError, OutputExistsError
from scopecheck.compare.hashing import DEFAULT_HASH_SIZE, check_hash_size


def add_json(p):
    p.add_argument("--json", action="store_true", help="print one JSON document (JSON lines for batches)")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _hash_size(text: str) -> int:
    try:
        return check_hash_size(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("--hash-size ")) from None


def add_max_pixels(p):
    """Input limits: --max-pixels and --max-bytes (checked before any file is read or decoded)."""
    p.add_argument("--max-pixels", type=_positive, default=DEFAULT_MAX_PIXELS, metavar="N",
                   help=f"refuse images declaring more pixels than this (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--max-bytes", type=_positive, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"refuse files larger than N bytes, before reading them (default {DEFAULT_MAX_BYTES:,} = 1 GiB)")


def add_hash_size(p):
    p.add_argument("--hash-size", type=_hash_size, default=DEFAULT_HASH_SIZE, metavar="N",
                   help=f"dHash size N: N*N bits, 2..64 (default {DEFAULT_HASH_SIZE})")


def add_overwrite(p, what: str = "an existing output file"):
    p.add_argument("--overwrite", action="store_true",
                   help=f"replace {what} (never an input: that is always refused)")


# lone surrogates (undecodable file names) and the characters str.splitlines() breaks on; compiled
# on first use (re caches it), and only for text that is not all ASCII: compiling this class takes
# 4.3 M instructions (callgrind), 2 % of a warm search that never prints JSON
_ESCAPE = "[\ud800-\udfff\x85\u2028\u2029]"


def json_text(obj, *, lines: bool = False) -> str:
    r"""``obj`` as JSON text that any UTF-8 reader accepts.

    File names that are not valid UTF-8 reach Python as lone surrogates; they are written as
    ``\udcXX`` escapes (``json.loads`` gives the same ``str`` back, ``os.fsencode`` the bytes).
    U+0085, U+2028 and U+2029 are escaped too, so that every JSON line is one line for any reader.

    >>> json_text({"path": "caf\udce9.png"}, lines=True)
    '{"path":"caf\\udce9.png"}'
    """
    import json  # loaded when JSON is printed

    def dump(o) -> str:
        return json.dumps(o, sort_keys=False, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":") if lines else None, indent=None if lines else 2)

    try:
        text = dump(obj)
    except ValueError:  # NaN or an infinity: no JSON number; null, as every strict reader needs
        text = dump(_finite(obj))
    if text.isascii():
        return text
    return re.sub(_ESCAPE, lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(obj):
    """``obj`` with every NaN and infinity (in dicts, lists and tuples) made None."""
    if isinstance(obj, float):
        return obj if obj - obj == 0 else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def print_json(obj, *, lines: bool = False):
    sys.stdout.write(json_text(obj, lines=lines) + "\n")
    sys.stdout.flush()


def reader_gone() -> bool:
    """True once stdout's reader has gone (``| head -1``): a batch stops working for nobody."""
    return bool(getattr(sys.stdout, "reader_gone", False))


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 frame``, ``2 frames``.

    >>> plural(1, "frame"), plural(0, "frame"), plural(2, "entry", "entries")
    ('1 frame', '0 frames', '2 entries')
    """
    return f"{n} {word if n == 1 else (many or word + 's')}"


def same_file(a: str, b: str) -> bool:
    """``a`` and ``b`` name one file (hard links, symlinks, ``./x`` and ``x`` alike)."""
    try:
        return os.path.samefile(a, b)  # hard links and symlinks too
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_inputs(outputs, inputs) -> None:
    """Refuse before any work when an output ``(option, path)`` names an input ``(option, path)``;
    an input is never overwritten, not even with ``--overwrite``."""
    for o_opt, o in outputs:
        for i_opt, i in inputs:
            if o and i and "\0" not in o + i and same_file(o, i):
                raise InputError(f"{o_opt} names the {i_opt} input; choose another file (an input is never "
                                 "overwritten, not even with --overwrite)", path=o)


def check_output(path: str, *, option: str, inputs=(), overwrite: bool) -> None:
    """Refuse an output path before any work: empty, a folder, one of the ``inputs`` (even with
    ``--overwrite``), or an existing file without ``--overwrite``. The write itself goes through
    :func:`compare.atomic.write_atomic`, which checks again at the last moment."""
    if not path or not path.strip():
        raise InputError(f"{option} needs a file name")
    if "\0" in path:
        raise InputError(f"{option}: the file name contains a NUL byte")
    for i in inputs:
        if i and "\0" not in i and same_file(path, i):
            raise InputError(f"{option} names an input; choose another file "
                             "(an input is never overwritten, not even with --overwrite)", path=path)
    if os.path.isdir(path):
        raise InputError(f"{option}: is a folder; give a file name", path=path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{option}: folder {folder} does not exist; create it first (mkdir -p)", path=path)
    if os.path.lexists(path) and not overwrite:
        raise OutputExistsError(f"already exists; pass --overwrite to replace it ({option})", path=path)


def save_output(path: str, write, *, option: str):
    """Call ``write()`` (a :func:`write_atomic` user) and word a lost race like :func:`check_output`."""
    try:
        return write()
    except OutputExistsError:
        raise OutputExistsError(f"already exists; pass --overwrite to replace it ({option})", path=path) from None


_LINE_BREAKS = str.maketrans({"\n": "\\n", "\r": "\\r", "\x0b": "\\x0b", "\x0c": "\\x0c", "\x1c": "\\x1c",
                              "\x1d": "\\x1d", "\x1e": "\\x1e", "\x85": "\\x85", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def one_line(message: str) -> str:
    """An error is one line on stderr even when it quotes a file name that holds a line break."""
    return message.translate(_LINE_BREAKS)


def err(command: str, message: str):
    print(f"scopecheck {command}: {one_line(message)}", file=sys.stderr)


class Progress:
    """A one-line progress display on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream=None, unit: str = "files", enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.label = label
        self.unit = unit
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.t0 = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, errors):
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and done != total:
            return
        self.last = now
        rate = done / max(now - self.t0, 1e-9)
        width = 30
        fill = int(width * done / total) if total else width
        extra = f", {errors} errors" if errors else ""
        self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total} {self.unit}"
                          f"{extra}, {rate:.0f}/s ")
        self.stream.flush()
        self.shown = True

    def close(self):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()

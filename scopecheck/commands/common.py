"""Options and rendering shared by several commands (defined once)."""
from __future__ import annotations

import argparse
import json
import sys
import time

from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import DEFAULT_HASH_SIZE, check_hash_size
from scopecheck.compare.load import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS


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


def print_json(obj, *, lines: bool = False):
    text = json.dumps(obj, sort_keys=False, ensure_ascii=False, separators=(",", ":") if lines else None,
                      indent=None if lines else 2)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def err(command: str, message: str):
    print(f"scopecheck {command}: {message}", file=sys.stderr)


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

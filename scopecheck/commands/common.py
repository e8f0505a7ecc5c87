"""Options and rendering shared by several commands (defined once)."""
from __future__ import annotations

import json
import sys

from compare.hashing import DEFAULT_HASH_SIZE
from compare.load import DEFAULT_MAX_PIXELS


def add_json(p):
    p.add_argument("--json", action="store_true", help="print one JSON document (JSON lines for batches)")


def add_max_pixels(p):
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, metavar="N",
                   help=f"refuse images declaring more pixels than this (default {DEFAULT_MAX_PIXELS:,})")


def add_hash_size(p):
    p.add_argument("--hash-size", type=int, default=DEFAULT_HASH_SIZE, metavar="N",
                   help=f"dHash size N: N*N bits (default {DEFAULT_HASH_SIZE})")


def print_json(obj, *, lines: bool = False):
    text = json.dumps(obj, sort_keys=False, ensure_ascii=False, separators=(",", ":") if lines else None,
                      indent=None if lines else 2)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def err(command: str, message: str):
    print(f"scopecheck {command}: {message}", file=sys.stderr)

"""`scopecheck hash`: dHash, SHA-256 and pixel SHA-256 for image files and folders."""
from __future__ import annotations

import os
import sys

from compare.errors import InputError, ScopecheckError
from compare.hashing import DEFAULT_HASH_SIZE
from compare.load import sniff_format
from compare.record import hash_file

from .common import add_max_pixels, print_json


def register(sub):
    p = sub.add_parser("hash", help="print dHash, SHA-256 and pixel SHA-256 per image",
                       description="Hash image files; folders are walked recursively (image files "
                       "chosen by content). Exit 0 when every file hashed, 2 when any failed.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR")
    p.add_argument("--json", action="store_true", help="one JSON object a line, one line per file "
                   "(failures as {path, error})")
    p.add_argument("--hash-size", type=int, default=DEFAULT_HASH_SIZE, metavar="N",
                   help=f"dHash size N (default {DEFAULT_HASH_SIZE})")
    add_max_pixels(p)
    p.set_defaults(func=run)


def _is_image(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return sniff_format(f.read(16)) is not None
    except OSError:
        return True  # let hash_file report the problem


def _expand(paths):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):  # os.walk does not follow symlinked dirs
                dirs.sort()
                for name in sorted(files):
                    full = os.path.join(root, name)
                    if os.path.isfile(full) and _is_image(full):
                        yield full
        else:
            yield p


def run(args) -> int:
    if args.hash_size < 2:
        raise InputError(f"--hash-size must be at least 2, got {args.hash_size}")
    worst = 0
    seen = 0
    for path in _expand(args.paths):
        seen += 1
        try:
            rec = hash_file(path, hash_size=args.hash_size, max_pixels=args.max_pixels).to_json()
        except ScopecheckError as e:
            worst = max(worst, e.exit_code)
            rec = {"path": path, "error": str(e)}
            print(f"scopecheck hash: {e}", file=sys.stderr)
        if args.json:
            print_json(rec, lines=True)
        elif "error" not in rec:
            flat = "  flat" if rec["flat"] else ""
            sys.stdout.write(f"{rec['dhash']}  {rec['sha256']}  {rec['pixel_sha256']}  {path}{flat}\n")
    if seen == 0:
        raise InputError(f"no image files found in {', '.join(args.paths)}")
    return worst

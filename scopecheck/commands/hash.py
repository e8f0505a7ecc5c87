"""`scopecheck hash`: dHash, SHA-256 and pixel SHA-256 for image files and folders."""
from __future__ import annotations

import sys

from scopecheck.compare.errors import InputError, ScopecheckError
from scopecheck.compare.record import hash_file
from scopecheck.compare.walk import walk_images

from .common import add_hash_size, add_max_pixels, one_line, print_json, reader_gone

COLUMNS = ("dhash", "sha256", "pixel_sha256", "flat", "path")


def register(sub):
    p = sub.add_parser("hash", help="print dHash, SHA-256 (and with --pixels the pixel SHA-256) per image",
                       description="Hash image files; folders are walked recursively (image files "
                       "chosen by extension or content, symlink loops skipped). Prints a header line and one "
                       "line per file: " + " ".join(COLUMNS) + " (flat: 'flat' for a blank frame whose "
                       "dHash matches nothing, else '-'; the path comes last and may hold spaces). "
                       "Exit 0 when every file hashed, 2 when any failed.")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="image files, or folders to walk")
    p.add_argument("--json", action="store_true", help="one JSON object a line, one line per file "
                   "(failures as {path, error}); without it a header line names the columns")
    p.add_argument("--pixels", action="store_true",
                   help="also compute the pixel SHA-256 (a full decode: slower for large JPEGs, whose dHash "
                        "comes from a reduced decode); without it the column shows '-' and the JSON null")
    add_hash_size(p)
    add_max_pixels(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.hash_size < 2:
        raise InputError(f"--hash-size must be at least 2, got {args.hash_size}")
    walk = walk_images(args.paths)
    worst = 2 if walk.errors else 0
    for e in walk.errors:
        print(f"scopecheck hash: {one_line(f'{e.path}: {e.error}')}", file=sys.stderr)
    seen = 0
    header_done = False
    for entry in walk.files:
        if reader_gone():
            break  # nobody reads the rest (| head)
        path = entry.path
        seen += 1
        try:
            rec = hash_file(path, hash_size=args.hash_size, max_pixels=args.max_pixels,
                            max_bytes=args.max_bytes, pixels=args.pixels).to_json()
        except ScopecheckError as e:
            worst = max(worst, e.exit_code)
            rec = {"path": path, "error": str(e)}
            print(f"scopecheck hash: {one_line(str(e))}", file=sys.stderr)
        if args.json:
            print_json(rec, lines=True)
        elif "error" not in rec:
            if not header_done:
                sys.stdout.write("  ".join(COLUMNS) + "\n")
                header_done = True
            flat = "flat" if rec["flat"] else "-"
            sys.stdout.write(f"{rec['dhash']}  {rec['sha256']}  {rec['pixel_sha256'] or '-'}  {flat}  {path}\n")
    if seen == 0:
        raise InputError(f"no image files found in {', '.join(args.paths)}")
    return worst

"""``search``: parse, call :mod:`compare.indexed` and :mod:`compare.search`, render.

Exit statuses (like ``grep``): 0 when every needle image has a match in the haystack (nothing new),
1 when at least one needle image has none (its folder is listed; ``unmatched_folders`` lists the
folders with no match at all), 2 on trouble, including a needle file that could not be read (the
answer for it is unknown). Unreadable haystack files are listed in ``errors`` but cannot change the
answer.

A module of its own (registered with ``index`` and ``dedupe`` by :mod:`.index`, so ``--help``
lists them together): a search of fresh indexes imports neither numpy nor OpenCV, the
worker pool nor the dedupe code, and so answers in about the time Python takes to start.
"""
from __future__ import annotations

import sys

from scopecheck.compare.batch import default_jobs, shared_pool
from scopecheck.compare.errors import InputError
from scopecheck.compare.haystack import DEFAULT_MAX_DISTANCE
from scopecheck.compare.indexed import haystack_from, needles_from

from .common import Progress, add_max_pixels, one_line, plural, print_json


def _hashing(p, *, refresh: bool = True):
    """--no-refresh (search, dedupe), --jobs and the input limits: how files are read and hashed."""
    if refresh:
        p.add_argument("--no-refresh", action="store_true",
                       help="read an index (a DB, or the one inside a folder) as it is, without hashing the files "
                            "changed since; the number changed is reported on stderr")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help=f"worker processes for hashing (default: all cores, here {default_jobs()})")
    add_max_pixels(p)


def _warn(message: str):
    print(f"scopecheck: warning: {one_line(message)}", file=sys.stderr)


def _distance(p, what: str):
    p.add_argument("--max-distance", type=int, default=DEFAULT_MAX_DISTANCE, metavar="D",
                   help=f"largest dHash distance (bits of 64) counted as {what} (default {DEFAULT_MAX_DISTANCE}, "
                        "chosen from measurements: see README)")


def register(sub):
    p = sub.add_parser("search", help="which needle images and folders are already in a haystack",
                       description="For each needle image, its copies in the haystack (same bytes, same "
                       "pixels, or dHash within --max-distance); per needle folder how many matched; and "
                       "the folders with no image in the haystack. Exit 0: every needle found; 1: some "
                       "needle not found; 2: trouble (including an unreadable needle).")
    p.add_argument("--haystack", required=True, metavar="DIR|DB",
                   help="folder (read through the index inside it, if `scopecheck index DIR` made one; else "
                        "hashed now), or an index file built by `scopecheck index`; indexes are refreshed first")
    p.add_argument("--needles", required=True, action="append", metavar="DIR",
                   help="folder (or image) to look for, read through its index like --haystack; repeat for several")
    _distance(p, "a match")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON document")
    out.add_argument("--csv", action="store_true",
                     help="print CSV: one row per needle and match (a needle with no match has an empty match)")
    _hashing(p)
    p.set_defaults(func=run_search)


def hashed_folder(label: str, build, path, args, **options):
    """``build`` (:func:`haystack_from` or :func:`needles_from`) over ``path`` with the command's
    limits and index refresh, a progress bar named ``label`` on a TTY."""
    bar = Progress(label)
    try:
        return build(path, jobs=args.jobs, max_pixels=args.max_pixels, max_bytes=args.max_bytes,
                     progress=bar, refresh_index=not args.no_refresh, notice=_warn, **options)
    finally:
        bar.close()


def _search_inputs(args):
    hay = hashed_folder("haystack", haystack_from, args.haystack, args, lean=True)
    needles = hashed_folder("needles", needles_from, args.needles, args)
    return hay, needles


def run_search(args) -> int:
    from scopecheck.compare.search import match_needles

    with shared_pool():  # the haystack and the needles hashed by one worker pool
        hay, needles = _search_inputs(args)
    if not needles.entries and not needles.errors:
        raise InputError(f"no image files under --needles {' '.join(args.needles)}")
    res = match_needles(needles.entries, hay, max_distance=args.max_distance, needle_errors=needles.errors,
                        needle_digests=needles.digests, pixel_equal=args.json or args.csv)  # text shows folders
    if not len(hay):
        print(f"scopecheck search: warning: the haystack {args.haystack} holds no readable image",
              file=sys.stderr)
    if args.json:
        print_json(res.to_json())
    elif args.csv:
        import csv

        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["needle", "folder", "match", "distance", "file_equal", "pixel_equal", "flat"])
        for n in res.needles:
            if not n.matches:
                w.writerow([n.path, n.folder, "", "", "", "", int(n.flat)])
            for m in n.matches:
                w.writerow([n.path, n.folder, m.path, m.distance, int(m.file_equal), int(m.pixel_equal),
                            int(n.flat)])
    else:
        found = sum(1 for n in res.needles if n.matches)
        print(f"haystack {res.haystack}: {plural(res.haystack_size, 'image')}; needles: {found} of {len(res.needles)} "
              f"found within {res.max_distance} bits")
        for f in res.folders:
            state = "found" if f.images and f.matched == f.images else ("MISSING" if not f.matched else "partly")
            extra = f", {f.errors} unreadable" if f.errors else ""
            print(f"  {state:8s} {f.matched}/{f.images} {f.folder}{extra}")
        if res.unmatched_folders:
            print("folders with no image in the haystack:")
            for f in res.unmatched_folders:
                print(f"  {f}")
        flat = [n.path for n in res.needles if n.flat]
        if flat:
            print(f"flat (blank) needles, matched only by identical bytes or pixels: {len(flat)}")
        for e in res.needle_errors:
            print(f"  unreadable needle: {e.path}: {e.error}")
        if res.haystack_errors:
            print(f"  {plural(len(res.haystack_errors), 'unreadable haystack file')} (see --json)")
    if res.needle_errors:
        return 2
    return 0 if res.all_found else 1

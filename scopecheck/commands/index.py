"""``index`` and ``dedupe`` (and, from :mod:`.search`, ``search``): parse, call the library, render.

Exit statuses (like ``grep``):

* ``index``: 0 when the index is up to date (unreadable images are recorded and listed, they do
  not fail the run), 2 on trouble (bad folder, index built with other parameters).
* ``search``: 0 when every needle image has a match in the haystack (nothing new), 1 when at least
  one needle image has none (its folder is listed; ``unmatched_folders`` lists the folders with no
  match at all), 2 on trouble, including a needle file that could not be read (the answer for it is
  unknown). Unreadable haystack files are listed in ``errors`` but cannot change the answer.
* ``dedupe``: 0 when at least one duplicate group was found, 1 when none, 2 on trouble.
"""
from __future__ import annotations

import os

from scopecheck.compare.atomic import write_atomic
from scopecheck.compare.dedupe import find_duplicates
from scopecheck.compare.errors import InputError
from scopecheck.compare.hamming import MULTI_INDEX_MIN_SIZE
from scopecheck.compare.index import DEFAULT_DB_NAME, build_index
from scopecheck.compare.indexed import haystack_from, load_haystack
from scopecheck.compare.multiindex import refresh_sidecar, sidecar_path
from scopecheck.compare.thumbs import DEFAULT_MIN_CORRELATION

from .common import Progress, add_json, add_overwrite, check_output, plural, print_json, save_output
from .search import _distance, _hashing, hashed_folder, register as register_search


def register(sub):
    p = sub.add_parser("index", help="hash the images under folders into an SQLite index (incremental)",
                       description="Walk folders recursively and store each image's dHash, file SHA-256, "
                       "pixel SHA-256, size and mtime in an SQLite index. Unchanged files are not re-read; "
                       "an interrupted run resumes where it stopped.")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="folders to index (recursively)")
    p.add_argument("--db", metavar="PATH", help=f"index file (default: DIR/{DEFAULT_DB_NAME} for a single DIR)")
    p.add_argument("--rebuild", action="store_true",
                   help="drop everything stored and hash again (needed after a hash-parameter change)")
    p.add_argument("--batch", type=int, default=256, metavar="N",
                   help="files per transaction (default 256); a killed run loses at most this many")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="hash on a Dask cluster: tcp://HOST:8786 (a running scheduler; every worker must see the "
                        "same paths) or local:N (N local worker processes); needs scopecheck[dask]")
    _hashing(p, refresh=False)
    add_json(p)
    p.set_defaults(func=run_index)

    register_search(sub)  # its own module: a search imports only what it needs

    p = sub.add_parser("dedupe", help="groups of exact, same-pixel and near-duplicate images",
                       description="Group exact copies (same SHA-256), same-pixel copies (same pixel SHA-256) "
                       "and near-duplicates: a representative and the files whose dHash is within --max-distance "
                       "of it and whose 32x32 thumbnail correlates with it (at --min-correlation or more, over crops "
                       "of up to 9 %% a side); never chains. "
                       "Flat frames are listed apart. Exit 0: duplicates found; 1: none; 2: trouble.")
    p.add_argument("source", metavar="DIR|DB", help="folder (through the index inside it, if any; else hashed now) "
                   "or an index file; indexes are refreshed first")
    _distance(p, "near-duplicate")
    p.add_argument("--min-correlation", type=float, default=DEFAULT_MIN_CORRELATION, metavar="R",
                   help="lowest thumbnail correlation (-1..1) that confirms a near-duplicate link "
                        f"(default {DEFAULT_MIN_CORRELATION}, measured: see README)")
    p.add_argument("--sheet", metavar="OUT.html", help="write an HTML contact sheet of the groups for review")
    add_overwrite(p, "an existing --sheet file")
    _hashing(p)
    add_json(p)
    p.set_defaults(func=run_dedupe)


# --------------------------------------------------------------------------- index

def run_index(args) -> int:
    db = args.db
    if db is None:
        if len(args.dirs) == 1 and not os.path.exists(args.dirs[0]):
            raise InputError("no such file or folder", path=args.dirs[0])
        if len(args.dirs) != 1 or not os.path.isdir(args.dirs[0]):
            raise InputError("--db is required when indexing more than one folder (or a file)")
        db = os.path.join(args.dirs[0], DEFAULT_DB_NAME)
    bar = Progress("index")
    try:
        res = build_index(args.dirs, db=db, jobs=args.jobs, scheduler=args.scheduler, max_pixels=args.max_pixels,
                          max_bytes=args.max_bytes,
                          rebuild=args.rebuild, batch=args.batch, progress=bar)
    finally:
        bar.close()
    if res.files >= MULTI_INDEX_MIN_SIZE or os.path.exists(sidecar_path(res.db)):
        refresh_sidecar(res.db, load_haystack(res.db).hashes)  # <db>.mih: search memory-maps it
    if args.json:
        print_json(res.to_json())
    else:
        print(f"{res.db}: {plural(res.files, 'image')} ({res.hashed} hashed, {res.unchanged} unchanged, "
              f"{res.removed} removed, {res.flat} flat, {len(res.errors)} unreadable) in {res.seconds:.1f} s")
        for e in res.errors:
            print(f"  unreadable: {e.path}: {e.error}")
    return 0


# --------------------------------------------------------------------------- dedupe

def run_dedupe(args) -> int:
    from scopecheck.compare.pictures import HTML_EXTENSIONS, dedupe_sheet_html  # OpenCV: only dedupe draws

    if args.sheet is not None:  # refuse before the (long) hashing
        if not args.sheet.strip():
            raise InputError("--sheet needs a file name, e.g. --sheet groups.html")
        check_output(args.sheet, option="--sheet", inputs=(args.source,), overwrite=args.overwrite)
        if not args.sheet.lower().endswith(HTML_EXTENSIONS):
            raise InputError("--sheet writes an HTML page; name it .html (e.g. --sheet groups.html)",
                             path=args.sheet)
    hay = hashed_folder("dedupe", haystack_from, args.source, args)
    res = find_duplicates(hay, max_distance=args.max_distance, min_correlation=args.min_correlation)
    if args.sheet:
        page = dedupe_sheet_html(res, max_pixels=args.max_pixels).encode("utf-8", "surrogateescape")
        save_output(args.sheet, lambda: write_atomic(args.sheet, page, overwrite=args.overwrite),
                    option="--sheet")
    if args.json:
        print_json(res.to_json())
    else:
        counts = res.to_json()["counts"]
        print(f"{res.source}: {plural(res.files, 'image')}; {plural(counts['exact'], 'exact-copy group')}, "
              f"{plural(counts['pixels'], 'same-pixel group')}, {plural(counts['near'], 'near-duplicate group')} "
              f"(within {res.max_distance} bits of "
              f"a representative, thumbnails correlated at {res.min_correlation:g} or more); "
              f"{len(res.flat)} flat; {len(res.errors)} unreadable")
        for g in res.groups:
            print(f"{g.kind}: {plural(len(g.members), 'file')} within {g.radius} bits of the representative (first)")
            print("  bits/64  bits/256  correlation  file")
            for m in g.members:
                d256 = "-" if m.distance256 is None else str(m.distance256)
                r = "-" if m.correlation is None else f"{m.correlation:.3f}"
                print(f"  {m.distance:7d}  {d256:>8}  {r:>11}  {m.path}")
        if args.sheet:
            print(f"contact sheet: {args.sheet}")
    return 0 if res.groups else 1

"""An index read as a haystack: kept fresh, pixel digests filled in when first needed.

* **Used, not redone.** A folder that holds an index (``DIR/.scopecheck-index.sqlite``, what
  ``scopecheck index DIR`` writes) is read through it by ``search`` and ``dedupe`` -- haystack and
  needle folders alike -- instead of being hashed again.
* **Fresh.** Before reading, the folders the index records are walked (``stat`` only) and compared
  with the stored ``(size, mtime_ns)``. New, changed or removed files are hashed into the index
  first (``refresh=True``, the default); with ``refresh=False`` the index is read as it is and the
  number of changed files is reported. A file that failed before and has not changed does not count.
* **Read-only when nothing changed.** The index is then opened ``mode=ro``; it is at rest in
  rollback-journal mode (:func:`compare.index.close_index`), so no ``-wal``/``-shm`` file appears.
* **Small and lean.** Read for a search (``lean=True``), an index of fewer than
  :data:`compare.hamming.MULTI_INDEX_MIN_SIZE` files becomes a :class:`compare.haystack.HashList`
  of Python lists: a fresh index is then searched without loading numpy (or OpenCV) at all.
* **Lazy pixel digests.** The index stores no pixel SHA-256 until a search or dedupe needs one (a
  candidate within the radius whose bytes differ); it is computed then and written back, if the index
  is writable and the file is still the one indexed.
"""
from __future__ import annotations

import os
import sqlite3

from .batch import hash_tree
from .containers.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .errors import InputError
from .frozen import dataclass
from .hamming import MULTI_INDEX_MIN_SIZE
from .hashing import DEFAULT_HASH_SIZE, FINE_HASH_SIZE, DHash
from .haystack import Entry, HashList, Haystack
from .index import (
    DEFAULT_DB_NAME,
    _unkey,
    build_index,
    close_index,
    damaged_index,
    damaged_rows,
    is_sqlite,
    open_index,
    read_only_uri,
    store_pixel_digests,
    stored_state,
)
from .thumbs import THUMB_BYTES
from .walk import FileError, walk_images

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Freshness:
    """How an index compares with the folders it records."""

    db: str
    roots: tuple[str, ...]
    new: int
    changed: int
    removed: int
    refreshed: bool = False  # the index was brought up to date before reading

    @property
    def stale(self) -> int:
        return self.new + self.changed + self.removed

    def to_json(self) -> dict:
        return {"db": self.db, "roots": list(self.roots), "new": self.new, "changed": self.changed,
                "removed": self.removed, "refreshed": self.refreshed}


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def freshness(db: str | os.PathLike) -> Freshness:
    """Walk the folders an index records and count files new, changed or removed since."""
    db = os.fspath(db)
    conn = open_index(db)
    try:
        files, failed, roots = stored_state(conn)
    except sqlite3.DatabaseError as e:
        raise damaged_index(e, db) from None
    finally:
        close_index(conn)
    present = [r for r in roots if os.path.exists(r)]
    walk = walk_images(present) if present else None
    own = {os.path.abspath(db + sfx) for sfx in ("", "-wal", "-shm", "-journal")}
    seen = {f.path: (f.size, f.mtime_ns) for f in (walk.files if walk else ()) if f.path not in own}
    new = changed = 0
    for path, state in seen.items():
        old = files.get(path, failed.get(path))
        if old is None:
            new += 1
        elif old != state:
            changed += 1
    # folders we could not list, and recorded roots that are gone (an unmounted drive): not "removed"
    blind = ([e.path for e in walk.errors] if walk else []) + [r for r in roots if r not in present]
    removed = sum(1 for p in list(files) + list(failed)
                  if p not in seen and any(_under(p, r) for r in roots) and not any(_under(p, b) for b in blind))
    return Freshness(db=db, roots=roots, new=new, changed=changed, removed=removed)


_MASK64 = (1 << 64) - 1


def load_haystack(db: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                  max_bytes: int = DEFAULT_MAX_BYTES, lean: bool = False) -> Haystack | HashList:
    """Read an index as a :class:`compare.haystack.Haystack`: the hash and digest-key columns as
    arrays (about 1 s per million files); paths are read later, only for the files a search or a
    group needs, and so are pixel digests (computed then, and cached in the index). ``lean``: a
    small index (under :data:`compare.hamming.MULTI_INDEX_MIN_SIZE` files) as a
    :class:`compare.haystack.HashList` instead, without numpy."""
    db = os.fspath(db)
    conn = open_index(db)
    try:
        top = conn.execute("SELECT MAX(rowid) FROM files").fetchone()[0] or 0  # O(log n): at least the count
        rows = conn.execute("SELECT rowid, h, flat, sha_key, COALESCE(pix_key, -1) FROM files "
                            "ORDER BY rowid").fetchall()
        # at most 33 bytes a row: a damaged row's blob cannot fill the memory before its length is checked
        fine = b"".join(b for (b,) in conn.execute("SELECT COALESCE(substr(dhash256, 1, 33), x'') FROM files ORDER BY rowid"))
        errs = [FileError(_unkey(p), e) for p, e in conn.execute("SELECT path, error FROM errors ORDER BY path")]
    except sqlite3.DatabaseError as e:
        raise damaged_index(e, db) from None
    finally:
        close_index(conn)
    lean = lean and top < MULTI_INDEX_MIN_SIZE
    if len(fine) != 32 * len(rows):
        raise damaged_rows(f"{len(fine)} bytes of 256-bit dHashes for {len(rows)} files (32 each)", db)
    rowids: list[int] | np.ndarray
    if lean:
        rowids = [r[0] for r in rows]
    else:
        import numpy as np

        try:
            cols = np.array(rows, dtype=np.int64).reshape(-1, 5)
        except (TypeError, ValueError, OverflowError):
            raise damaged_rows("a hash, flag or key that is not a 64-bit integer", db) from None
        del rows
        rowids = cols[:, 0].copy()
    uri = read_only_uri(db)

    def select(positions, columns):
        wanted = [int(rowids[k]) for k in positions]
        found = {}
        try:
            c = sqlite3.connect(uri, uri=True, timeout=30)
            try:
                for start in range(0, len(wanted), 500):
                    part = wanted[start:start + 500]
                    q = f"SELECT rowid, {columns} FROM files WHERE rowid IN ({','.join('?' * len(part))})"
                    for row in c.execute(q, part):
                        found[row[0]] = row[1:]
            finally:
                c.close()
        except sqlite3.DatabaseError as e:
            raise damaged_index(e, db) from None
        missing = [r for r in wanted if r not in found]
        if missing:
            raise InputError(f"index changed while it was being read ({len(missing)} rows gone); run the "
                             "command again", path=db)
        return [found[r] for r in wanted]

    def fetch(positions):
        out = []
        # the 64-bit dHash from the `h` column (a signed integer), not the text column parsed again
        for p, h64, f, sh, ps, w, h, fmt, d256, th in select(positions, "path, h, flat, sha256, pixel_sha256, "
                                                             "width, height, format, dhash256, substr(thumb, 1, 1025)"):
            if not (isinstance(sh, str) and isinstance(w, int) and isinstance(h, int) and isinstance(fmt, str)
                    and isinstance(th, bytes) and len(th) <= THUMB_BYTES and (ps is None or isinstance(ps, str))):
                raise damaged_rows(f"the row of {_unkey(p)} does not hold a file record", db)
            out.append(Entry(path=_unkey(p), dhash=DHash(DEFAULT_HASH_SIZE, h64 & _MASK64, flat=bool(f)), flat=bool(f),
                             sha256=sh, pixel_sha256=ps, width=w, height=h, format=fmt,
                             dhash256=DHash(FINE_HASH_SIZE, int.from_bytes(d256, "big")), thumb=th))
        return out

    computed: dict[int, str | None] = {}

    def digests(positions):
        todo = [k for k in dict.fromkeys(positions) if k not in computed]
        if todo:
            state = select(todo, "path, size, mtime_ns, pixel_sha256")
            lazy = [(k, _unkey(p), s, m) for k, (p, s, m, d) in zip(todo, state) if d is None]
            computed.update((k, d) for k, (_, _, _, d) in zip(todo, state) if d is not None)
            from .record import pixel_digests

            made = pixel_digests([p for _, p, _, _ in lazy], max_pixels=max_pixels, max_bytes=max_bytes)
            computed.update((k, d) for (k, _, _, _), d in zip(lazy, made))
            store_pixel_digests(db, [(p, s, m, d) for (_, p, s, m), d in zip(lazy, made) if d is not None])
        return [computed[k] for k in positions]

    if lean:
        try:  # a hash that is no integer raises in its mask: no extra pass over the rows
            hashes = [r[1] & _MASK64 for r in rows]
        except TypeError:
            raise damaged_rows("a hash that is not an integer", db) from None
        return HashList(hashes=hashes, flat=[bool(r[2]) for r in rows], sha_key=[r[3] for r in rows],
                        pix_key=[r[4] for r in rows], fetch=fetch, errors=tuple(errs), source=db, dhash256=fine,
                        digests=digests)
    return Haystack(hashes=np.ascontiguousarray(cols[:, 1]).view(np.uint64), flat=cols[:, 2].astype(bool),
                    sha_key=np.ascontiguousarray(cols[:, 3]), pix_key=np.ascontiguousarray(cols[:, 4]),
                    fetch=fetch, errors=tuple(errs), source=db,
                    dhash256=np.frombuffer(fine, dtype=">u8").reshape(-1, 4).astype(np.uint64), digests=digests)


def folder_index(folder: str) -> str | None:
    """The index kept inside ``folder`` (``scopecheck index DIR``'s default), if there is one."""
    db = os.path.join(folder, DEFAULT_DB_NAME)
    return db if os.path.isfile(db) else None


def refresh(db: str, *, refresh: bool = True, jobs: int | None = None, scheduler: str | None = None,
            max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES, progress=None,
            notice=None) -> Freshness:
    """Bring an index up to date with the folders it records (or only count, ``refresh=False``).

    ``notice(message)`` receives one line when the index is read out of date.
    """
    fresh = freshness(db)
    if not fresh.stale:
        return fresh
    what = f"{fresh.new} new, {fresh.changed} changed, {fresh.removed} removed since it was indexed"
    writable = os.access(db, os.W_OK) and os.access(os.path.dirname(os.path.abspath(db)), os.W_OK)
    present = [r for r in fresh.roots if os.path.exists(r)]
    if refresh and writable and present:
        build_index(present, db=db, jobs=jobs,
                    scheduler=scheduler, max_pixels=max_pixels, max_bytes=max_bytes, progress=progress)
        return Freshness(db=db, roots=fresh.roots, new=fresh.new, changed=fresh.changed, removed=fresh.removed,
                         refreshed=True)
    if notice:
        why = "--no-refresh" if not refresh else "the index is read-only"
        notice(f"index {db} is out of date ({what}); read as it is ({why}); update it with "
               f"`scopecheck index {' '.join(fresh.roots)} --db {db}`")
    return fresh


def haystack_from(path: str | os.PathLike, *, jobs: int | None = None, scheduler: str | None = None,
                  max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
                  refresh_index: bool = True, progress=None, notice=None, lean: bool = False) -> Haystack | HashList:
    """A haystack from an index file, a folder holding an index (both refreshed first, see
    :func:`refresh`), or a folder without one (walked and hashed now, in memory). ``lean``: see
    :func:`load_haystack`."""
    p = os.fspath(path)
    if os.path.isfile(p) and is_sqlite(p):
        db = p
    elif os.path.isdir(p) and folder_index(p):
        db = folder_index(p)
    elif not os.path.exists(p):
        raise InputError("no such folder or index file", path=p)
    elif os.path.isfile(p):
        raise InputError("is a file but not a scopecheck index; pass a folder or an index built by "
                         "`scopecheck index`", path=p)
    else:
        records, errors = hash_tree([p], jobs=jobs, scheduler=scheduler, max_pixels=max_pixels, max_bytes=max_bytes,
                                    progress=progress)
        return Haystack.of([Entry.of(r) for r in records], errors=errors, source=p)
    refresh(db, refresh=refresh_index, jobs=jobs, scheduler=scheduler, max_pixels=max_pixels, max_bytes=max_bytes,
            progress=progress, notice=notice)
    return load_haystack(db, max_pixels=max_pixels, max_bytes=max_bytes, lean=lean)


@dataclass(frozen=True)
class Needles:
    entries: list        # Entry per needle image, in path order
    errors: list         # walk and per-file errors
    digests: object      # callable(paths) -> pixel SHA-256 per path (cached by the needles' own index)


def needles_from(roots, *, jobs: int | None = None, scheduler: str | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
                 refresh_index: bool = True, progress=None, notice=None) -> Needles:
    """Needle entries and errors for folders (or files): through the index a folder holds, if any
    (refreshed like a haystack, and caching the needles' pixel digests), else hashed now."""
    entries: list[Entry] = []
    errors: list = []
    plain = []
    where: dict[str, tuple[Haystack | HashList, int]] = {}
    for r in roots:
        r = os.fspath(r)
        db = folder_index(r) if os.path.isdir(r) else None
        if db is None:
            plain.append(r)
            continue
        hay = haystack_from(r, jobs=jobs, scheduler=scheduler, max_pixels=max_pixels, max_bytes=max_bytes,
                            refresh_index=refresh_index, progress=progress, notice=notice, lean=True)
        root = os.path.abspath(r)
        for k, e in enumerate(hay.entries_at(range(len(hay)))):
            if _under(e.path, root):
                entries.append(e)
                where[e.path] = (hay, k)
        errors.extend(e for e in hay.errors if _under(e.path, root))
    if plain:
        records, errs = hash_tree(plain, jobs=jobs, scheduler=scheduler, max_pixels=max_pixels, max_bytes=max_bytes,
                                  progress=progress)
        entries.extend(Entry.of(r) for r in records)
        errors.extend(errs)
    entries.sort(key=lambda e: e.path)

    def digests(paths):
        paths = list(paths)
        out: dict[str, str | None] = {}
        groups: dict[int, tuple[Haystack | HashList, list[str]]] = {}
        for p in paths:
            if p in where:
                groups.setdefault(id(where[p][0]), (where[p][0], []))[1].append(p)
        for hay, ps in groups.values():
            out.update(zip(ps, hay.pixel_digests([where[p][1] for p in ps])))
        rest = [p for p in paths if p not in out]
        if rest:
            from .record import pixel_digests

            out.update(zip(rest, pixel_digests(rest, max_pixels=max_pixels, max_bytes=max_bytes)))
        return [out[p] for p in paths]

    return Needles(entries=entries, errors=errors, digests=digests)

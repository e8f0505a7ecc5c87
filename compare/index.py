"""A persistent, incremental, resumable SQLite index of the hashes of image files.

* **One definition of a file's hashes.** Rows are :func:`compare.record.hash_file` records, mapped
  over the files by :mod:`compare.batch` (a process pool or a Dask cluster); the index never
  computes a hash any other way, so a file gets the same dHash from ``scopecheck index``, ``hash``
  and ``compare``. The pixel SHA-256 is not computed while indexing (it needs the full decode); it
  is filled in when a search or dedupe first needs it (:mod:`compare.indexed`) and kept.
* **Self-describing.** The ``meta`` table records the schema version, the hash algorithm and size,
  the flatness definition, the pixel-digest version and the decoder (OpenCV) version. Opening an
  index built with other values raises :class:`IndexMismatchError` telling the user to re-index
  (``--rebuild``); it never mixes hashes made under different definitions.
* **Incremental.** A file whose ``(size, mtime_ns)`` is unchanged since it was indexed is not read
  again; files that could not be read are tried again on every run (they are few, and the cause
  may be gone); files that vanished from an indexed folder are removed.
* **Resumable and intact after a kill.** WAL journal while writing, and rows are committed in
  batches (every ``batch`` files or two seconds): a run killed with SIGKILL loses at most the
  uncommitted batch, the database passes ``PRAGMA integrity_check``, and the next run hashes only
  what is missing. A writer that finishes switches the file back to a rollback journal, so readers
  (``mode=ro``) leave no ``-wal``/``-shm`` files behind.
"""
from __future__ import annotations

import functools
import os
import sqlite3
import time

from .batch import check_jobs, check_scheduler, iter_hashes
from .containers.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .digest import PIXEL_DIGEST_RULE
from .errors import IndexMismatchError, InputError, ScopecheckError
from .frozen import dataclass
from .hashing import DEFAULT_HASH_SIZE, FLATNESS
from .haystack import digest_key
from .walk import FileError, walk_images

TYPE_CHECKING = False
if TYPE_CHECKING:  # records arrive from compare.batch; the module loads when a file is hashed
    from .record import HashRecord

SCHEMA_VERSION = 3  # 3: the 32x32 thumbnail dedupe correlates (compare.thumbs)
ALGORITHM = "dhash/luma-bt601/exact-area-average/jpeg-dct-reduced-4px-per-cell/row-major-msb-first"
DEFAULT_DB_NAME = ".scopecheck-index.sqlite"  # an index inside the folder it describes
DHASH256_BYTES = 32  # the 16x16 dHash, stored big-endian (first bit = most significant)
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    dtype TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pixel_sha256 TEXT,           -- NULL until needed (computed lazily, then cached)
    dhash TEXT NOT NULL,
    h INTEGER NOT NULL,          -- the 64-bit dHash as a signed integer, for fast loading
    dhash256 BLOB NOT NULL,      -- the 16x16 dHash, 32 bytes big-endian
    flat INTEGER NOT NULL,
    sha_key INTEGER NOT NULL,    -- first 63 bits of sha256 / pixel_sha256: vectorised candidate
    pix_key INTEGER,             -- filters, the full digests decide (NULL with pixel_sha256)
    thumb BLOB NOT NULL          -- 32x32 uint8 normalised luma thumbnail (compare.thumbs), 1024 bytes
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE INDEX IF NOT EXISTS files_pixel_sha256 ON files (pixel_sha256);
CREATE TABLE IF NOT EXISTS errors (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS roots (path TEXT PRIMARY KEY, indexed_ns INTEGER NOT NULL);
"""


@functools.lru_cache(maxsize=1)
def opencv_version() -> str:
    """``cv2.__version__`` without loading OpenCV when it is not loaded yet: a fresh index is read,
    never decoded, so checking it should not cost the decoder's start-up. The opencv-python wheels
    record it in ``cv2/version.py`` (``opencv_version = "5.0.0.93"``: the first three parts)."""
    import sys

    if "cv2" not in sys.modules:
        import importlib.util
        import re

        try:
            spec = importlib.util.find_spec("cv2")
            if spec is not None and spec.origin:
                with open(os.path.join(os.path.dirname(spec.origin), "version.py"), encoding="utf-8") as f:
                    text = f.read(4096)
                m = re.search(r"^opencv_version\s*=\s*[\"'](\d+\.\d+\.\d+)", text, re.M)
                if m:
                    return m.group(1)
        except (OSError, ImportError, ValueError):
            pass
    import cv2

    return cv2.__version__


def hash_parameters(*, hash_size: int = DEFAULT_HASH_SIZE) -> dict[str, str]:
    """The values that define the stored hashes; all must match for an index to be reused."""
    return {
        "schema_version": str(SCHEMA_VERSION),
        "algorithm": ALGORITHM,
        "hash_size": str(hash_size),
        "flatness": FLATNESS,
        "pixel_digest": PIXEL_DIGEST_RULE,
        "decoder": f"opencv {opencv_version()}",
    }


def _recorded_versions() -> dict[str, str]:
    """Recorded for the record, not checked (they do not change the hashes)."""
    import numpy as np

    from scopecheck.compare import __version__

    return {"scopecheck": __version__, "numpy": np.__version__}


# --------------------------------------------------------------------------- paths in SQLite

def _key(path: str):
    """A path as stored: text, or bytes for names that are not valid UTF-8 (kept exactly)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def _unkey(value) -> str:
    if isinstance(value, bytes):
        return os.fsdecode(value)
    if not isinstance(value, str):
        raise InputError("damaged index: a row without a path; delete the index and re-index the folder "
                         "(`scopecheck index DIR... --rebuild`)")
    return value


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class IndexResult:
    db: str
    roots: tuple[str, ...]
    files: int       # image files found by the walk
    hashed: int      # read and hashed in this run (new or changed)
    unchanged: int   # skipped: same size and mtime as already indexed (unreadable files are retried)
    removed: int     # rows dropped because the file is gone
    flat: int        # flat/blank frames among the indexed files
    errors: tuple[FileError, ...]  # every walked file (and folder) that could not be used
    seconds: float

    def to_json(self) -> dict:
        return {"db": self.db, "roots": list(self.roots), "files": self.files, "hashed": self.hashed,
                "unchanged": self.unchanged, "removed": self.removed, "flat": self.flat,
                "errors": [e.to_json() for e in self.errors], "seconds": round(self.seconds, 3)}


# --------------------------------------------------------------------------- the database

def is_sqlite(path: str) -> bool:
    """Whether ``path`` starts like an SQLite database (its 16-byte header)."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _check_meta(conn: sqlite3.Connection, db: str, expected: dict[str, str]):
    try:
        stored = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.DatabaseError:
        raise InputError("is an SQLite database but not a scopecheck index (no meta table); "
                         "choose another --db path", path=db) from None
    for key, want in expected.items():
        have = stored.get(key)
        if have != want:
            raise IndexMismatchError(
                f"index built with {key} = {have!r}, this scopecheck uses {want!r}; re-index: "
                f"run `scopecheck index DIR... --db {db} --rebuild`", path=db)


_OWN = {("table", "meta"), ("table", "files"), ("table", "errors"), ("table", "roots"),
        ("index", "files_sha256"), ("index", "files_pixel_sha256")}


def _check_schema(conn: sqlite3.Connection, db: str) -> bool:
    """True for a database with nothing in it (a new index), False for one that holds exactly an
    index's tables and indexes (SQLite's own automatic indexes aside); anything else is refused. Read before anything is written, so that a database of another program is never
    changed (a table added, the journal mode switched) and an index given views or triggers is
    refused: a ``files`` view over an endless recursive query made ``search`` read without end, and
    a trigger filled the disk from ``index``."""
    objects = {(t, n) for t, n in conn.execute("SELECT type, name FROM sqlite_master")
               if not str(n).startswith("sqlite_autoindex_")}
    if not objects:
        return True
    if ("table", "meta") not in objects:
        raise InputError("is an SQLite database but not a scopecheck index (no meta table); "
                         "choose another --db path", path=db)
    alien = sorted(objects - _OWN)
    if alien:
        names = ", ".join(f"{t} {n}" for t, n in alien[:3]) + (" ..." if len(alien) > 3 else "")
        raise InputError(f"holds what no scopecheck index holds ({names}); delete it and re-index: "
                         f"`scopecheck index DIR... --db {db}`", path=db)
    return False


def damaged_index(e: sqlite3.Error, db: str) -> InputError:
    """One line for an index SQLite cannot read (truncated, overwritten, from a crash): re-index."""
    if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
        return InputError(f"index is locked by another program ({e}); try again when it has finished", path=db)
    return InputError(f"damaged or not an index (SQLite: {e}); delete it and re-index: "
                      f"`scopecheck index DIR... --db {db}`", path=db)


def damaged_rows(what: str, db: str) -> InputError:
    """One line for an index whose rows SQLite reads but that no index of ours holds (edited by hand,
    or written by something else): re-index."""
    return InputError(f"damaged index: {what}; delete it and re-index: `scopecheck index DIR... --db {db}`", path=db)


def read_only_uri(db: str | os.PathLike) -> str:
    """SQLite's ``file:`` URI opening ``db`` read-only: ``%``, ``?``, ``#`` and the bytes outside
    ASCII percent-encoded, which SQLite decodes to the exact bytes of the name (not-UTF-8 names too).
    Not ``urllib.parse.quote``: importing it adds 10 M instructions, 5 % of an installed warm search.

    >>> read_only_uri("/data/a?b#c 100%.sqlite")
    'file:/data/a%3Fb%23c 100%25.sqlite?mode=ro'
    """
    raw = os.fsencode(os.path.abspath(db))
    return "file:" + "".join(chr(b) if b < 0x80 and b not in b"%?#" else f"%{b:02X}" for b in raw) + "?mode=ro"


def open_index(db: str | os.PathLike, *, create: bool = False, rebuild: bool = False,
               hash_size: int = DEFAULT_HASH_SIZE) -> sqlite3.Connection:
    """Open (or create) an index, checking its schema and hash parameters.

    Raises :class:`InputError` for a missing file (when not creating) or a file that is not an
    index, and :class:`IndexMismatchError` for an index built with other parameters.
    """
    db = os.fspath(db)
    exists = os.path.exists(db)
    if exists and not os.path.isfile(db):
        raise InputError("is not a file; --db takes the path of an index file", path=db)
    if exists and os.path.getsize(db) > 0 and not is_sqlite(db):
        raise InputError("exists and is not a scopecheck index (not SQLite); choose another --db path", path=db)
    if not exists and not create:
        raise InputError("no such index; build it with `scopecheck index DIR --db PATH`", path=db)
    parent = os.path.dirname(os.path.abspath(db))
    if not os.path.isdir(parent):
        raise InputError(f"folder {parent} does not exist; create it or choose another --db path", path=db)
    made = create and not exists  # a file this call creates: removed again if it cannot become an index

    def failed(e: sqlite3.Error) -> InputError:
        if not made:
            return damaged_index(e, db)
        for leftover in (db, db + "-wal", db + "-shm", db + "-journal"):
            try:
                os.unlink(leftover)
            except OSError:
                pass
        return InputError(f"cannot create the index (SQLite: {e})", path=db)

    conn = None
    try:
        if create:
            conn = sqlite3.connect(db, timeout=30, isolation_level=None)
        else:
            conn = sqlite3.connect(read_only_uri(db), uri=True, timeout=30,
                                   isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 30000")
        empty = _check_schema(conn, db)  # before anything is written
        if create:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as e:
        if conn is not None:
            conn.close()
        raise failed(e) from None
    except ScopecheckError:
        if conn is not None:
            conn.close()
        raise
    expected = hash_parameters(hash_size=hash_size)
    try:
        fresh = empty
        if create and (fresh or rebuild):
            conn.execute("BEGIN IMMEDIATE")
            if rebuild:
                for table in ("meta", "files", "errors", "roots"):
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             list(expected.items()) + list(_recorded_versions().items()) +
                             [("created_ns", str(time.time_ns()))])
            conn.execute("COMMIT")
        elif fresh:
            raise InputError("is an SQLite database but not a scopecheck index (no meta table); "
                             "choose another --db path", path=db)
        _check_meta(conn, db, expected)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise failed(e) from None
    except ScopecheckError:
        conn.close()
        raise
    return conn


def close_index(conn: sqlite3.Connection, *, wrote: bool = False) -> None:
    """Close; after writing, leave WAL mode (checkpoint, drop ``-wal``/``-shm``) when no one else
    has the file open, so that read-only users never need the WAL files."""
    if wrote:
        try:
            conn.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.Error:
            pass  # another connection is reading or writing: it stays WAL until the last writer ends
    conn.close()


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def build_index(roots, *, db: str | os.PathLike, jobs: int | None = None, scheduler: str | None = None,
                max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES, rebuild: bool = False,
                batch: int = 256, progress=None) -> IndexResult:
    """Walk ``roots`` and bring the index at ``db`` up to date.

    Parameters
    ----------
    roots : list of folders (or files)
    db : path of the index file, created if missing
    jobs : worker processes (default: all cores available to this process)
    scheduler : hash on a Dask cluster instead: ``tcp://HOST:PORT`` or ``local:N`` (compare.batch)
    rebuild : drop everything stored and start again (the fix for a parameter mismatch)
    batch : files per transaction; a kill loses at most one batch
    progress : optional ``callable(done, total, errors)`` called after each file

    >>> r = build_index(["archive"], db="archive.sqlite")   # doctest: +SKIP
    >>> r.hashed, r.unchanged, len(r.errors)                 # doctest: +SKIP
    (1200, 0, 3)
    """
    t0 = time.perf_counter()
    jobs = check_jobs(jobs)
    scheduler = check_scheduler(scheduler)
    if batch < 1:
        raise InputError(f"--batch must be >= 1, got {batch}")
    if max_pixels < 1:
        raise InputError(f"--max-pixels must be >= 1, got {max_pixels}")
    db = os.fspath(db)
    roots = [os.fspath(r) for r in roots]
    walk = walk_images(roots)  # validates roots before the index is created
    conn = open_index(db, create=True, rebuild=rebuild)
    try:
        return _update(conn, db, roots, walk, jobs=jobs, scheduler=scheduler, max_pixels=max_pixels, batch=batch,
                       progress=progress, t0=t0, max_bytes=max_bytes)
    except sqlite3.Error as e:
        raise InputError(f"cannot write the index: {e} (is another `scopecheck index` writing to it?)",
                         path=db) from None
    finally:
        close_index(conn, wrote=True)


def _update(conn, db, roots, walk, *, jobs, scheduler, max_pixels, batch, progress, t0,
            max_bytes=DEFAULT_MAX_BYTES) -> IndexResult:
    """The body of :func:`build_index`, on an open connection."""
    from .record import HashRecord  # hashing starts here: the module is needed now

    abs_roots = tuple(os.path.abspath(r) for r in roots)
    db_files = {os.path.abspath(db + sfx) for sfx in ("", "-wal", "-shm", "-journal")}
    files = [f for f in walk.files if f.path not in db_files]
    seen = {f.path for f in files}
    # Files that failed before are always tried again: the failure may have been a limit
    # (--max-pixels) or a file being written at the time. Good files are keyed on the
    # (size, mtime_ns) the walk saw, so a file changed while it was hashed is hashed again.
    known = {_unkey(p): (size, mtime) for p, size, mtime in conn.execute("SELECT path, size, mtime_ns FROM files")}
    failed = {_unkey(p) for (p,) in conn.execute("SELECT path FROM errors")}
    todo = [f for f in files if known.get(f.path) != (f.size, f.mtime_ns)]
    walked = {f.path: f for f in todo}
    unchanged = len(files) - len(todo)
    # Files gone from the walked folders (but not from folders we could not list).
    blind = [e.path for e in walk.errors]
    gone = [p for p in set(known) | failed if p not in seen and any(_under(p, r) for r in abs_roots)
            and not any(_under(p, b) for b in blind)]
    conn.execute("BEGIN IMMEDIATE")
    for p in gone:
        conn.execute("DELETE FROM files WHERE path = ?", (_key(p),))
        conn.execute("DELETE FROM errors WHERE path = ?", (_key(p),))
    for r in abs_roots:
        conn.execute("INSERT OR REPLACE INTO roots VALUES (?, ?)", (_key(r), time.time_ns()))
    conn.execute("COMMIT")
    hashed = 0
    pending = 0
    last = time.monotonic()
    conn.execute("BEGIN IMMEDIATE")
    try:
        for n, out in enumerate(iter_hashes(todo, jobs=jobs, scheduler=scheduler, max_pixels=max_pixels,
                                                max_bytes=max_bytes), 1):
            if isinstance(out, HashRecord):
                f = walked[out.path]
                _store(conn, out, size=f.size, mtime_ns=f.mtime_ns)
            else:
                err, size, mtime = out
                conn.execute("DELETE FROM files WHERE path = ?", (_key(err.path),))
                conn.execute("INSERT OR REPLACE INTO errors VALUES (?, ?, ?, ?)",
                             (_key(err.path), size, mtime, err.error))
            hashed += 1
            pending += 1
            now = time.monotonic()
            if pending >= batch or now - last >= 2.0:
                conn.execute("COMMIT")
                conn.execute("BEGIN IMMEDIATE")
                pending, last = 0, now
            if progress:
                progress(n, len(todo), None)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("COMMIT")  # keep what is done: the next run resumes from here
        raise
    errors = list(walk.errors)
    flat = 0
    for p, e in conn.execute("SELECT path, error FROM errors"):
        if _unkey(p) in seen:
            errors.append(FileError(_unkey(p), e))
    for (p,) in conn.execute("SELECT path FROM files WHERE flat = 1"):
        flat += _unkey(p) in seen
    errors.sort(key=lambda e: e.path)
    return IndexResult(db=db, roots=abs_roots, files=len(files), hashed=hashed, unchanged=unchanged,
                       removed=len(gone), flat=flat, errors=tuple(errors), seconds=time.perf_counter() - t0)


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _store(conn: sqlite3.Connection, r: HashRecord, *, size: int, mtime_ns: int):
    conn.execute("DELETE FROM errors WHERE path = ?", (_key(r.path),))
    conn.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (_key(r.path), size, mtime_ns, r.format, r.width, r.height, r.channels, r.dtype,
                  r.sha256, r.pixel_sha256, str(r.dhash), _signed(r.dhash.value),
                  r.dhash256.value.to_bytes(DHASH256_BYTES, "big"), int(r.flat), digest_key(r.sha256),
                  None if r.pixel_sha256 is None else digest_key(r.pixel_sha256), r.thumb))


def store_pixel_digests(db: str | os.PathLike, found) -> int:
    """Cache lazily computed pixel digests: ``found`` is ``(path, size, mtime_ns, pixel_sha256)``;
    a row is updated only while the file is the one indexed (same size and mtime). Returns the rows
    updated; 0 when the index cannot be written (read-only file or folder: the digests are simply
    computed again next time)."""
    db = os.fspath(db)
    if not found or not os.access(db, os.W_OK) or not os.access(os.path.dirname(os.path.abspath(db)), os.W_OK):
        return 0
    try:
        conn = sqlite3.connect(db, timeout=5, isolation_level=None)
    except sqlite3.Error:
        return 0
    done = 0
    try:
        conn.execute("BEGIN IMMEDIATE")
        for path, size, mtime_ns, digest in found:
            cur = conn.execute("UPDATE files SET pixel_sha256 = ?, pix_key = ? WHERE path = ? AND size = ? "
                               "AND mtime_ns = ?", (digest, digest_key(digest), _key(path), size, mtime_ns))
            done += cur.rowcount
        conn.execute("COMMIT")
    except sqlite3.Error:
        return 0  # busy or locked: a cache, not a result
    finally:
        close_index(conn, wrote=True)
    return done


def stored_state(conn: sqlite3.Connection) -> tuple[dict, dict, tuple[str, ...]]:
    """``({path: (size, mtime_ns)} of indexed files, same for failed files, recorded roots)``."""
    files = {_unkey(p): (s, m) for p, s, m in conn.execute("SELECT path, size, mtime_ns FROM files")}
    failed = {_unkey(p): (s, m) for p, s, m in conn.execute("SELECT path, size, mtime_ns FROM errors")}
    roots = tuple(_unkey(p) for (p,) in conn.execute("SELECT path FROM roots ORDER BY path"))
    return files, failed, roots


__all__ = ["DEFAULT_DB_NAME", "SCHEMA_VERSION", "IndexResult", "build_index", "close_index", "hash_parameters",
           "open_index", "store_pixel_digests", "stored_state"]

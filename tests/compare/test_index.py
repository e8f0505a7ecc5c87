"""compare.index and compare.walk: incremental, self-describing, resumable after SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from scopecheck.compare.errors import IndexMismatchError, InputError
from scopecheck.compare.index import build_index, hash_parameters, open_index
from scopecheck.compare.indexed import load_haystack
from scopecheck.compare.record import hash_file
from scopecheck.compare.walk import walk_images

ROOT = Path(__file__).resolve().parents[2]


def picture(seed: int, h=120, w=160) -> np.ndarray:
    """A smooth random scene: different seeds give unrelated dHashes."""
    r = np.random.default_rng(seed)
    small = r.uniform(0, 255, (h // 16, w // 16, 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


def write(path: Path, img: np.ndarray, params=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix or ".png", img, params or [])
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def rows(db) -> dict[str, tuple]:
    with sqlite3.connect(db) as c:
        return {p: (d, s) for p, d, s in c.execute("SELECT path, dhash, sha256 FROM files")}


@pytest.fixture
def tree(tmp_path):
    d = tmp_path / "archive"
    write(d / "a.png", picture(1))
    write(d / "sub dir" / "b.jpg", picture(2))
    write(d / "sub dir" / "ünï cødé ☃.png", picture(3))
    write(d / "deep" / "er" / "c.png", picture(4))
    (d / "deep" / "no_extension").write_bytes((d / "a.png").read_bytes())  # found by content
    (d / "notes.txt").write_text("not an image")                           # skipped silently
    (d / "broken.jpg").write_bytes((d / "sub dir" / "b.jpg").read_bytes()[:300])  # truncated
    (d / "empty.png").write_bytes(b"")
    return d


def test_walk_lists_phone_and_microscope_files_it_cannot_read(tree, tmp_path):
    """A HEIC photo or a CZI file in an archive is listed as unreadable, by its format's name, not passed
    over in silence (a .txt stays out)."""
    (tree / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64))
    (tree / "sub dir" / "scan.czi").write_bytes(b"ZISRAWFILE" + bytes(64))
    r = build_index([tree], db=tmp_path / "idx.sqlite", jobs=1)
    errors = {os.path.basename(e.path): e.error for e in r.errors}
    assert sorted(errors) == ["IMG_0001.HEIC", "broken.jpg", "empty.png", "scan.czi"]
    assert errors["IMG_0001.HEIC"].startswith("not an image format read here: HEIF/HEIC (")
    assert errors["scan.czi"].startswith("not an image format read here: Zeiss CZI (")


def test_walk_finds_images_by_name_or_content_and_survives_loops(tree):
    os.symlink(tree, tree / "deep" / "loop")       # a link back to the top
    os.symlink(tree / "missing", tree / "dangling")
    found = sorted(os.path.relpath(f.path, tree) for f in walk_images([tree]).files)
    assert found == ["a.png", "broken.jpg", "deep/er/c.png", "deep/no_extension", "empty.png",
                     "sub dir/b.jpg", "sub dir/ünï cødé ☃.png"]
    with pytest.raises(InputError, match="no such file or folder"):
        walk_images([tree / "nope"])


def test_index_stores_the_hash_file_definition_and_is_incremental(tree, tmp_path):
    db = tmp_path / "idx.sqlite"
    r1 = build_index([tree], db=db, jobs=2)
    assert (r1.files, r1.hashed, r1.unchanged, r1.removed) == (7, 7, 0, 0)
    assert sorted(os.path.basename(e.path) for e in r1.errors) == ["broken.jpg", "empty.png"]
    stored = rows(db)
    assert len(stored) == 5
    for path, (dh, sha) in stored.items():  # the same definition as `scopecheck hash` / compare
        rec = hash_file(path)
        assert (dh, sha) == (str(rec.dhash), rec.sha256), path
    with sqlite3.connect(db) as c:
        # WAL while writing; at rest a rollback journal, so read-only users leave no -wal/-shm
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        meta = dict(c.execute("SELECT key, value FROM meta"))
    assert {k: meta[k] for k in hash_parameters()} == hash_parameters()
    assert meta["schema_version"] == "3" and meta["hash_size"] == "8"

    r2 = build_index([tree], db=db, jobs=1)  # nothing changed: only the two broken files are tried again
    assert (r2.hashed, r2.unchanged, len(r2.errors)) == (2, 5, 2)

    a = tree / "a.png"
    write(a, picture(10))
    os.utime(a, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    (tree / "deep" / "er" / "c.png").unlink()
    write(tree / "broken.jpg", picture(11))  # repaired
    r3 = build_index([tree], db=db, jobs=1)
    assert (r3.hashed, r3.unchanged, r3.removed, len(r3.errors)) == (3, 3, 1, 1)
    assert rows(db)[str(a)][0] == str(hash_file(a).dhash)
    hay = load_haystack(db)
    assert len(hay) == 5 and hay.hashes.dtype == np.uint64
    fetched = hay.entries_at(range(5))
    assert sorted(e.path for e in fetched) == sorted(rows(db))
    for k, e in enumerate(fetched):
        assert e.dhash.value == int(hay.hashes[k]) and e.flat == hay.flat[k]
        # both dHashes as DHash values on the entry (the 64-bit one from the `h` column, not text
        # parsed again), the 256-bit one also as 4 words in the array
        rec = hash_file(e.path)
        assert e.dhash == rec.dhash and e.dhash.flat == rec.flat
        assert e.dhash256 == rec.dhash256 and e.dhash256.size == 16
        words = [int(w) for w in hay.dhash256[k]]
        assert sum(w << (64 * (3 - i)) for i, w in enumerate(words)) == rec.dhash256.value
        assert e.thumb == rec.thumb and len(e.thumb) == 1024  # dedupe's second test, stored as computed
    assert [e.path for e in hay.errors] == [str(tree / "empty.png")]


def test_refused_files_are_retried_with_a_higher_limit(tree, tmp_path):
    db = tmp_path / "idx.sqlite"
    r = build_index([tree / "sub dir"], db=db, jobs=1, max_pixels=100)
    assert len(r.errors) == 2 and all("--max-pixels" in e.error for e in r.errors)
    r = build_index([tree / "sub dir"], db=db, jobs=1)
    assert (r.hashed, len(r.errors), len(rows(db))) == (2, 0, 2)


def test_mismatched_parameters_say_reindex(tree, tmp_path):
    db = tmp_path / "idx.sqlite"
    build_index([tree / "sub dir"], db=db, jobs=1)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value = '16' WHERE key = 'hash_size'")
    with pytest.raises(IndexMismatchError, match=r"hash_size = '16'.*re-index.*--rebuild"):
        load_haystack(db)
    with pytest.raises(IndexMismatchError):
        build_index([tree / "sub dir"], db=db, jobs=1)
    r = build_index([tree / "sub dir"], db=db, jobs=1, rebuild=True)
    assert r.hashed == 2
    open_index(db).close()
    # an index from a previous schema (2: no thumbnail column) is refused the same way
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    with pytest.raises(IndexMismatchError, match=r"schema_version = '2'.*re-index"):
        load_haystack(db)


def test_bad_db_and_options(tree, tmp_path):
    not_db = tmp_path / "photo.png"
    write(not_db, picture(5))
    with pytest.raises(InputError, match="not a scopecheck index"):
        build_index([tree], db=not_db)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    with pytest.raises(InputError, match="not a scopecheck index"):
        load_haystack(other)
    with pytest.raises(InputError, match="no such index"):
        load_haystack(tmp_path / "missing.sqlite")
    with pytest.raises(InputError, match="--jobs must be"):
        build_index([tree], db=tmp_path / "x.sqlite", jobs=0)
    with pytest.raises(InputError, match="does not exist"):
        build_index([tree], db=tmp_path / "no" / "x.sqlite")


def count_rows(db: Path) -> int:
    """Committed rows, read without holding any lock afterwards (0 while the schema is being made)."""
    if not db.exists():
        return 0
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
    try:
        return c.execute("SELECT count(*) FROM files").fetchall()[0][0]
    except sqlite3.OperationalError:
        return 0
    finally:
        c.close()


def test_killed_index_resumes_without_rehashing(tmp_path):
    """SIGKILL mid-build: the database is intact, committed files are not hashed again."""
    d = tmp_path / "many"
    base = picture(42, 480, 640)
    total = 240
    for k in range(total):
        write(d / f"f{k // 60}" / f"img {k:04d}.png", np.roll(base, k * 3, axis=1), params=[cv2.IMWRITE_PNG_COMPRESSION, 1])
    db = tmp_path / "idx.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "scopecheck", "index", str(d), "--db", str(db), "--jobs", "1", "--batch", "5"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    committed = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            committed = count_rows(db)
            if committed >= 30:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"index finished before it could be killed: {proc.returncode}"
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        before = {p: s for p, s in c.execute("SELECT path, sha256 FROM files")}
    assert 30 <= len(before) < total
    r = build_index([d], db=db, jobs=2)
    assert r.unchanged == len(before) and r.hashed == total - len(before) and not r.errors
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = {p: s for p, s in c.execute("SELECT path, sha256 FROM files")}
    assert len(after) == total and all(after[p] == s for p, s in before.items())


def _children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return {int(x) for x in f.read().split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
def test_workers_die_with_a_killed_index(tmp_path):
    """SIGKILL of ``index --jobs 2``: its worker process goes too, at once. Before, a forked worker held
    its own copy of the parent's end of its pipe, never read the pipe as closed, and waited for ever
    with the index's files and the caller's stderr pipe open (a caller reading that pipe hung)."""
    d = tmp_path / "many"
    base = picture(43, 480, 640)
    for k in range(240):
        write(d / f"img {k:04d}.png", np.roll(base, k * 3, axis=1), params=[cv2.IMWRITE_PNG_COMPRESSION, 1])
    db = tmp_path / "idx.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "scopecheck", "index", str(d), "--db", str(db), "--jobs", "2", "--batch", "5"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            workers |= _children(proc.pid)
            if workers and count_rows(db) >= 10:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and workers, f"index ended on its own ({proc.returncode}) or had no worker"
    end = time.monotonic() + 5
    while time.monotonic() < end and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)
    fd = proc.stderr.fileno()  # the caller's pipe reaches its end: no process holds it open any more
    os.set_blocking(fd, False)
    end, eof = time.monotonic() + 5, False
    while not eof and time.monotonic() < end:
        try:
            eof = os.read(fd, 65536) == b""
        except BlockingIOError:
            time.sleep(0.05)
    assert eof


# --------------------------------------------------------------------------- part 3: used, fresh, lazy

def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_folder_index_is_used_refreshed_and_read_only_leaves_no_wal(tmp_path):
    from scopecheck.compare.index import DEFAULT_DB_NAME
    from scopecheck.compare.indexed import freshness, haystack_from, needles_from
    from scopecheck.compare.search import match_needles

    hay = tmp_path / "hay"
    for k in range(4):
        write(hay / f"h{k}.png", picture(20 + k))
    needles = tmp_path / "needles"
    write(needles / "new.png", picture(99))
    (needles / "copy.png").write_bytes((hay / "h1.png").read_bytes())
    db = hay / DEFAULT_DB_NAME
    build_index([hay], db=db, jobs=1)
    assert _files(hay) == {"h0.png", "h1.png", "h2.png", "h3.png", DEFAULT_DB_NAME}  # no -wal/-shm at rest
    assert freshness(db).stale == 0

    # read-only use of a fresh index: no hashing, no -wal/-shm left behind
    h = haystack_from(hay)
    nd = needles_from([needles])
    res = match_needles(nd.entries, h, needle_digests=nd.digests)
    assert h.source == str(db) and len(h) == 4
    assert [n.matches[0].path if n.matches else None for n in res.needles] == [str(hay / "h1.png"), None]
    assert _files(hay) == {"h0.png", "h1.png", "h2.png", "h3.png", DEFAULT_DB_NAME}

    # a changed folder: reported with --no-refresh (and read as it is) ...
    write(hay / "h4.png", picture(30))
    (hay / "h0.png").unlink()
    write(hay / "h2.png", picture(31))
    os.utime(hay / "h2.png", ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    f = freshness(db)
    assert (f.new, f.changed, f.removed) == (1, 1, 1)
    said = []
    h = haystack_from(hay, refresh_index=False, notice=said.append)
    assert len(h) == 4 and len(said) == 1 and "1 new, 1 changed, 1 removed" in said[0] and "--no-refresh" in said[0]
    # ... and refreshed by default: only the changes are hashed
    h = haystack_from(hay)
    assert len(h) == 4 and freshness(db).stale == 0
    assert sorted(os.path.basename(e.path) for e in h.entries_at(range(4))) == ["h1.png", "h2.png", "h3.png", "h4.png"]
    assert {p: d for p, (d, _) in rows(db).items()}[str(hay / "h2.png")] == str(hash_file(hay / "h2.png").dhash)
    assert _files(hay) == {"h1.png", "h2.png", "h3.png", "h4.png", DEFAULT_DB_NAME}


def test_pixel_digests_are_lazy_and_cached(tmp_path):
    from scopecheck.compare.dedupe import find_duplicates
    from scopecheck.compare.digest import pixel_sha256
    from scopecheck.compare.indexed import haystack_from
    from scopecheck.compare.load import load
    from scopecheck.compare.search import match_needles

    hay = tmp_path / "hay"
    for k in range(6):
        write(hay / f"h{k}.png", picture(40 + k))
    # the same pixels in other bytes: a PNG at another compression level, and a TIFF
    write(hay / "h0-again.png", load(hay / "h0.png").pixels, params=[cv2.IMWRITE_PNG_COMPRESSION, 9])
    write(hay / "h0.tif", load(hay / "h0.png").pixels)
    db = tmp_path / "i.sqlite"
    build_index([hay], db=db, jobs=1)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM files WHERE pixel_sha256 IS NULL").fetchone()[0] == 8

    needle = tmp_path / "needles" / "n.png"
    write(needle, load(hay / "h3.png").pixels, params=[cv2.IMWRITE_PNG_COMPRESSION, 0])
    rec = hash_file(needle)
    assert rec.pixel_sha256 is None
    # the folder answer alone (text output) needs no pixel digest for a non-flat near match
    (m,) = match_needles([rec], haystack_from(db), pixel_equal=False).needles[0].matches
    assert m.path == str(hay / "h3.png") and m.pixel_equal is None and m.distance == 0
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM files WHERE pixel_sha256 IS NOT NULL").fetchone()[0] == 0
    res = match_needles([rec], haystack_from(db))
    (m,) = res.needles[0].matches
    assert m.path == str(hay / "h3.png") and m.pixel_equal and not m.file_equal and m.distance == 0
    with sqlite3.connect(db) as c:  # only the candidate's digest was computed, and it was kept
        cached = dict(c.execute("SELECT path, pixel_sha256 FROM files WHERE pixel_sha256 IS NOT NULL"))
    assert cached == {str(hay / "h3.png"): pixel_sha256(load(hay / "h3.png").pixels)}

    groups = find_duplicates(haystack_from(db)).groups
    pixels = [g for g in groups if g.kind == "pixels"]
    assert len(pixels) == 1
    assert sorted(os.path.basename(m.path) for m in pixels[0].members) == ["h0-again.png", "h0.png", "h0.tif"]
    with sqlite3.connect(db) as c:
        n_cached = c.execute("SELECT count(*) FROM files WHERE pixel_sha256 IS NOT NULL").fetchone()[0]
    assert n_cached == 4  # h3 from the search, the three h0 copies from dedupe: nothing else decoded


def test_cli_search_no_refresh_says_how_many_changed(tmp_path):
    from scopecheck.compare.index import DEFAULT_DB_NAME

    hay = tmp_path / "hay"
    write(hay / "a.png", picture(1))
    needles = tmp_path / "needles"
    (needles).mkdir()
    (needles / "a.png").write_bytes((hay / "a.png").read_bytes())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = lambda *a: subprocess.run([sys.executable, "-m", "scopecheck", *map(str, a)], env=env,  # noqa: E731
                                    capture_output=True, text=True)
    assert run("index", hay).returncode == 0 and (hay / DEFAULT_DB_NAME).exists()
    write(hay / "b.png", picture(2))
    r = run("search", "--haystack", hay, "--needles", needles, "--no-refresh")
    assert r.returncode == 0, r.stderr
    assert "out of date (1 new, 0 changed, 0 removed" in r.stderr and "--no-refresh" in r.stderr
    r = run("search", "--haystack", hay, "--needles", needles, "--json")
    assert r.returncode == 0 and r.stderr == "" and json.loads(r.stdout)["haystack_size"] == 2


def test_an_index_from_the_old_flatness_says_reindex(tree, tmp_path):
    """Flat frames are kept out of distance matches, so an index whose flags came from another
    definition of "flat" (the 0-255 range rule before issue 9: no ``flatness`` key) is refused."""
    db = tmp_path / "idx.sqlite"
    build_index([tree / "sub dir"], db=db, jobs=1)
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM meta WHERE key = 'flatness'")
        c.execute("INSERT INTO meta VALUES ('flat_range', '2.0')")
    with pytest.raises(IndexMismatchError, match=r"flatness = None.*re-index"):
        load_haystack(db)


def test_an_index_opens_read_only_under_any_folder_name(tmp_path):
    """The read-only URI (written without urllib.parse) opens indexes in folders whose names SQLite's
    URI parser would otherwise cut or decode (``?``, ``#``, ``%``) and non-ASCII ones; for names
    urllib.parse can quote, SQLite decodes both URIs to the same file."""
    from urllib.parse import quote

    from scopecheck.compare.index import read_only_uri

    for name in ("a?b#c", "100% real", "ünï cødé ☃", "%3F"):
        folder = tmp_path / name
        write(folder / "x.png", picture(7))
        db = folder / "i.sqlite"
        build_index([folder], db=db, jobs=1)
        for uri in (read_only_uri(db), f"file:{quote(str(db))}?mode=ro"):
            with sqlite3.connect(uri, uri=True) as c:
                assert c.execute("SELECT path FROM files").fetchall() == [(str(folder / "x.png"),)], (name, uri)
        h = load_haystack(db)
        assert [e.path for e in h.entries_at([0])] == [str(folder / "x.png")]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            with sqlite3.connect(read_only_uri(db), uri=True) as c:
                c.execute("DELETE FROM files")


@pytest.mark.parametrize("edit, words", [
    ("UPDATE files SET dhash256 = x'00'", "damaged index: 5 bytes of 256-bit dHashes for 5 files (32 each)"),
    ("UPDATE files SET dhash256 = zeroblob(5000000)", "damaged index: 165 bytes of 256-bit dHashes for 5 files"),
    ("UPDATE files SET h = 'abc' WHERE rowid = 2", "damaged index: a hash, flag or key that is not a 64-bit integer"),
    ("UPDATE files SET path = NULL WHERE rowid = 1", "damaged index: a row without a path"),
    ("UPDATE files SET thumb = zeroblob(10000000)", "does not hold a file record"),
])
def test_a_damaged_index_is_one_clear_refusal(tree, tmp_path, edit, words):
    """Rows SQLite reads but no index of ours holds (edited by hand, written by another program): one
    line naming the damage, never an internal error, and never a blob read whole into memory."""
    db = tmp_path / "idx.sqlite"
    build_index([tree], db=db, jobs=1)
    with sqlite3.connect(db) as c:
        c.execute(edit)
    with pytest.raises(InputError) as e:
        hay = load_haystack(db)
        hay.fetch(list(range(len(hay))))
    assert words in str(e.value)


def test_an_index_that_cannot_be_created_leaves_no_file(tmp_path, monkeypatch):
    """A full disk while the new index is set up: one line that says so, and no 0-byte file left to be
    called "damaged" next time."""
    from scopecheck.compare import index as index_mod

    class Full:
        def execute(self, *a):
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            pass

    def connect(path, *a, **k):
        open(path, "wb").close()  # SQLite creates the file before it finds the disk full
        return Full()

    monkeypatch.setattr(index_mod.sqlite3, "connect", connect)
    db = tmp_path / "idx.sqlite"
    with pytest.raises(InputError, match=r"idx.sqlite: cannot create the index \(SQLite: database or disk is full\)"):
        index_mod.open_index(db, create=True)
    assert os.listdir(tmp_path) == []


def test_another_program_s_database_is_never_changed(tree, tmp_path):
    """``index --db other.sqlite`` on a database that is not an index: refused before anything is
    written (before, scopecheck added its tables to it, or switched it to WAL and then refused)."""
    import hashlib

    for extra in ("CREATE TABLE notes (t TEXT)", "CREATE TABLE files (a, b, c)"):
        db = tmp_path / f"other{len(extra)}.sqlite"
        with sqlite3.connect(db) as c:
            c.execute(extra)
        before = hashlib.sha256(db.read_bytes()).hexdigest()
        for rebuild in (False, True):
            with pytest.raises(InputError, match="is an SQLite database but not a scopecheck index"):
                build_index([tree], db=db, jobs=1, rebuild=rebuild)
        assert hashlib.sha256(db.read_bytes()).hexdigest() == before
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(db.name)) == [db.name]


@pytest.mark.parametrize("extra, shown", [
    ("CREATE TRIGGER t AFTER INSERT ON files BEGIN INSERT INTO errors VALUES ('x', 0, 0, 'y'); END", "trigger t"),
    ("CREATE VIEW v AS SELECT 1", "view v"),
    ("CREATE TABLE junk (x)", "table junk"),
])
def test_an_index_with_views_or_triggers_is_refused(tree, tmp_path, extra, shown):
    """A ``files`` view over an endless recursive query made search read for ever, and a trigger
    filled the disk from ``index``: an index holds its four tables and two indexes, nothing else."""
    db = tmp_path / "idx.sqlite"
    build_index([tree], db=db, jobs=1)
    with sqlite3.connect(db) as c:
        c.execute(extra)
    for call in (lambda: build_index([tree], db=db, jobs=1), lambda: load_haystack(db)):
        with pytest.raises(InputError, match=f"holds what no scopecheck index holds \\({shown}\\)"):
            call()


def test_a_files_view_without_end_is_refused_at_once(tmp_path):
    db = tmp_path / "view.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        c.execute("CREATE VIEW files AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                  "SELECT i AS path FROM n")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="view files"):
        load_haystack(db)
    assert time.perf_counter() - t0 < 1.0

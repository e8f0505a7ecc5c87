"""compare.batch: the process pool and a REAL Dask LocalCluster (two worker processes) build the
same index; a worker killed mid-run loses nothing; the default path never imports Dask."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from scopecheck.compare import batch
from scopecheck.compare.errors import InputError
from scopecheck.compare.index import build_index

ROOT = Path(__file__).resolve().parents[2]


def picture(seed: int, h=96, w=128) -> np.ndarray:
    r = np.random.default_rng(seed)
    small = r.uniform(0, 255, (h // 16, w // 16, 3)).astype(np.float32)
    return np.clip(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch") / "archive"
    for k in range(120):
        sub = d / f"f{k % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        ext = ".jpg" if k % 4 == 0 else ".png"
        ok, buf = cv2.imencode(ext, picture(k, 240 if k % 4 == 0 else 96, 320 if k % 4 == 0 else 128))
        (sub / f"img{k:03d}{ext}").write_bytes(buf.tobytes())
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    return d


@pytest.fixture(scope="module")
def pool_rows(archive, tmp_path_factory):
    db = tmp_path_factory.mktemp("pool") / "pool.sqlite"
    build_index([archive], db=db, jobs=2)
    return table(db)


def table(db) -> tuple[dict, dict]:
    with sqlite3.connect(db) as c:
        files = {r[0]: r[1:] for r in c.execute(
            "SELECT path, size, mtime_ns, format, width, height, channels, dtype, sha256, pixel_sha256, dhash, h, "
            "dhash256, flat, sha_key, pix_key, thumb FROM files")}
        errors = dict(c.execute("SELECT path, error FROM errors"))
    return files, errors


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


def test_dask_cluster_index_equals_the_pools(archive, pool_rows, cluster, tmp_path):
    db = tmp_path / "dask.sqlite"
    r = build_index([archive], db=db, scheduler=cluster.scheduler_address, batch=7)
    assert (r.files, r.hashed, len(r.errors)) == (121, 121, 1)
    files, errors = table(db)
    assert files == pool_rows[0] and errors == pool_rows[1] and len(files) == 120
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_worker_killed_mid_run_loses_nothing(archive, pool_rows, cluster, tmp_path, monkeypatch):
    from distributed import Client

    monkeypatch.setattr(batch, "DASK_CHUNK", 2)  # many small tasks: the kill lands while work is queued
    with Client(cluster.scheduler_address) as client:
        pids = sorted(client.run(os.getpid).values())
    killed = []

    def progress(done, total, _errors):
        if done == 10 and not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    db = tmp_path / "killed.sqlite"
    r = build_index([archive], db=db, scheduler=cluster.scheduler_address, batch=5, progress=progress)
    assert killed and r.hashed == 121
    assert table(db) == pool_rows  # every record arrived once the scheduler re-ran the lost tasks
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)


def test_local_scheduler_starts_its_own_cluster(archive, pool_rows, tmp_path):
    pytest.importorskip("distributed")
    files = [f for f in batch.walk_images([archive / "f0"]).files][:6]
    got = {out.path: out for out in batch.iter_hashes(files, scheduler="local:2")}
    assert sorted(got) == sorted(f.path for f in files)
    for path, rec in got.items():
        assert str(rec.dhash) == pool_rows[0][path][9] and rec.sha256 == pool_rows[0][path][7]


def test_scheduler_option_is_checked_and_dask_stays_unimported(archive, tmp_path):
    for bad in ("localhost:8786", "local:0", "local:x", "tcp://"):
        with pytest.raises(InputError, match="--scheduler must be"):
            batch.check_scheduler(bad)
    assert batch.check_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    code = ("import sys; from scopecheck.compare.index import build_index; "
            f"build_index([{str(archive / 'f1')!r}], db={str(tmp_path / 'p.sqlite')!r}, jobs=2); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.stdout.strip() == "[]"


def test_unreachable_scheduler_is_one_clear_error(archive, tmp_path):
    pytest.importorskip("distributed")
    r = subprocess.run([sys.executable, "-m", "scopecheck", "index", str(archive / "f2"), "--db",
                        str(tmp_path / "x.sqlite"), "--scheduler", "tcp://127.0.0.1:9"],
                       capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.stderr


def test_shared_pool_hashes_two_runs_with_one_pool_and_the_same_records(archive, monkeypatch):
    from scopecheck.compare.walk import walk_images
    files = walk_images([archive]).files
    first, second = files[: len(files) // 2], files[len(files) // 2:]
    alone = {out.path: out for out in batch.iter_hashes(files, jobs=1) if isinstance(out, batch.HashRecord)}
    started = []
    real = batch._new_pool
    monkeypatch.setattr(batch, "_new_pool", lambda jobs, **kw: started.append(jobs) or real(jobs, **kw))
    with batch.shared_pool():
        got = {out.path: out for out in batch.iter_hashes(first, jobs=2) if isinstance(out, batch.HashRecord)}
        got.update((o.path, o) for o in batch.iter_hashes(second, jobs=2) if isinstance(o, batch.HashRecord))
    assert started == [2]  # one pool for both runs
    assert batch._SHARED is None
    assert got == alone and len(got) == len(files) - 1  # broken.png is an error in both
    with pytest.raises(RuntimeError), batch.shared_pool():  # an abandoned run: the pool is dropped
        for _ in batch.iter_hashes(files, jobs=2):
            raise RuntimeError("stop")
    assert batch._SHARED is None


def test_this_process_and_the_worker_share_a_run(archive, monkeypatch):
    """--jobs 2: this process hashes from the front while the worker (started in the background)
    takes chunks from the back; together they give the records one process gives alone."""
    import time

    from scopecheck.compare.walk import walk_images
    files = walk_images([archive]).files
    alone = {out.path: out for out in batch.iter_hashes(files, jobs=1) if isinstance(out, batch.HashRecord)}
    here = []
    real = batch.hash_one

    def slow_here(job):  # this process only (the worker runs its own hash_one): the worker must start
        here.append(job[0])
        time.sleep(0.03)
        return real(job)

    monkeypatch.setattr(batch, "hash_one", slow_here)
    got = {out.path: out for out in batch.iter_hashes(files, jobs=2) if isinstance(out, batch.HashRecord)}
    assert got == alone
    assert 0 < len(here) < len(files)  # both sides hashed some


def test_forked_workers_of_a_fresh_command_build_the_same_index(archive, pool_rows, tmp_path):
    """A command that has not loaded OpenCV when it needs workers forks them (no fork server): the
    index equals the fork server pool's, and stopping the workers prints nothing."""
    db = tmp_path / "forked.sqlite"
    code = ("import sys; from scopecheck.compare import batch; real = batch._new_pool; "
            "batch._new_pool = lambda jobs, **kw: print('fork', kw.get('fork'), file=sys.stderr) or real(jobs, **kw); "
            "from scopecheck.cli import main; sys.argv = ['scopecheck'] + sys.argv[1:]; sys.exit(main())")
    r = subprocess.run([sys.executable, "-c", code, "index", str(archive), "--db", str(db), "--jobs", "2",
                        "--batch", "7"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode in (0, 1), r.stderr
    assert r.stderr.splitlines()[0] == "fork True", r.stderr  # the pool was forked, not served
    assert "Traceback" not in r.stderr and "Error" not in r.stderr, r.stderr
    assert table(db) == pool_rows


def test_a_pool_worker_that_dies_is_an_error_not_a_hang(archive):
    """The lean pool: an exception in a worker comes back and is raised here; a worker killed while
    it holds a chunk is a one-line ScopecheckError naming a file of that chunk."""
    from scopecheck.compare.errors import ScopecheckError
    from scopecheck.compare.walk import walk_images

    job = [(f.path, f.size, f.mtime_ns, 8, 10**8, 2**30) for f in walk_images([archive / "f0"]).files[:2]]
    pool = batch._new_pool(2)
    try:
        assert pool.submit(job, limit=1)
        got = []
        while pool.inflight():
            got += pool.collect(block=True)
        assert [r.path for r in got[0]] == [j[0] for j in job]
        assert pool.submit([("not", "a", "job")], limit=1)  # hash_one cannot unpack it: raised here
        with pytest.raises(ValueError):
            pool.collect(block=True)
        pool._procs[0].kill()
        pool._procs[0].join(10)
        with pytest.raises(ScopecheckError, match=r"a worker process stopped \(signal 9\) while hashing .*img"):
            pool.submit(job, limit=1)  # its pipe is closed: refused here, or at the latest when collecting
            while pool.inflight():
                pool.collect(block=True)
    finally:
        pool.terminate()

"""Mapping the pure :func:`compare.record.hash_file` over many files: a process pool or a Dask cluster.

Both executors yield, per file, a :class:`HashRecord` or a ``(FileError, size, mtime_ns)`` in
completion order; the one SQLite writer (:mod:`compare.index`) consumes them the same way, so
batch commits, resume and kill-safety do not depend on where the hashing ran.

* **Process pool** (default): ``jobs`` processes hash at once -- this one and ``jobs - 1`` workers,
  forked before this process has loaded OpenCV (a command that has only walked its folders), else
  started from a fork server (never by forking a process whose OpenCV thread pool may be running).
  This process hashes from the front of the list while the workers start and take chunks from
  the back, so their start-up costs no idle core.
* **Dask distributed** (``scheduler="tcp://host:8786"`` or ``"local:N"``): chunks of files are
  submitted to an existing cluster (or a :class:`LocalCluster` of ``N`` one-thread worker processes)
  and their records stream back with ``as_completed``. The workers open the files by the paths the
  walk found, so every worker must see the same paths (a shared or network file system mounted at
  the same place). A worker that dies mid-run loses nothing: the scheduler runs its chunks again
  elsewhere. Dask is imported only when a scheduler is given (``pip install 'scopecheck[dask]'``).
"""
from __future__ import annotations

import contextlib
import os
import re
import threading
from collections import deque

from .containers.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .errors import InputError, ScopecheckError
from .hashing import DEFAULT_HASH_SIZE
from .pipepool import PipePool, fork_is_safe, tune_malloc
from .walk import FileError, walk_images

TYPE_CHECKING = False
if TYPE_CHECKING:  # the record module (and its hashing) loads with the first file hashed: reading a
    from .record import HashRecord  # fresh index needs none of it


def __getattr__(name: str):
    """``batch.HashRecord`` and ``batch.hash_file``, from :mod:`compare.record` on first use."""
    if name in ("HashRecord", "hash_file"):
        from . import record

        return getattr(record, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Files per Dask task: enough to amortise the scheduler's ~1 ms per task, small enough to balance.
DASK_CHUNK = 16
_SCHEDULER = r"^(?:local:(\d+)|(?:tcp|tls|ucx|inproc)://\S+)$"  # compiled on first use (re caches it)


_tuned = False


def _tune_worker():
    """Once per worker process: one OpenCV thread and one BLAS thread (one worker per core; numpy's
    BLAS would otherwise run the dHash's small matrix products on helper threads) and reused buffers."""
    global _tuned
    if not _tuned:
        import cv2
        from threadpoolctl import threadpool_limits

        cv2.setNumThreads(1)
        threadpool_limits(limits=1, user_api="blas")
        tune_malloc()
        _tuned = True


def _worker_init():
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker: not the command's own handler
    _tune_worker()


def hash_one(job):
    """``(path, size, mtime_ns, hash_size, max_pixels, max_bytes)`` -> HashRecord or (FileError, size, mtime_ns).

    One bad file never stops a run: every expected failure becomes its record's error.
    """
    import cv2  # loaded once per worker (a reading-only run never needs it)

    from .record import hash_file

    path, size, mtime_ns, hash_size, max_pixels, max_bytes = job
    try:
        return hash_file(path, hash_size=hash_size, max_pixels=max_pixels, max_bytes=max_bytes, pixels=False)
    except ScopecheckError as e:
        return FileError(path, str(e).removeprefix(f"{path}: ")), size, mtime_ns
    except (OSError, ValueError, cv2.error, MemoryError) as e:
        return FileError(path, f"{type(e).__name__}: {e}"), size, mtime_ns


def hash_chunk(jobs: list) -> list:
    """A Dask task: :func:`hash_one` over a few files, in a tuned worker."""
    _tune_worker()
    return [hash_one(j) for j in jobs]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_jobs(jobs: int | None) -> int:
    if jobs is None:
        return default_jobs()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InputError(f"--jobs must be a whole number >= 1, got {jobs!r}")
    return jobs


def check_scheduler(scheduler: str | None) -> str | None:
    """``None`` (process pool), ``local:N`` or a scheduler address such as ``tcp://host:8786``."""
    if scheduler is None:
        return None
    m = re.match(_SCHEDULER, scheduler.strip())
    if not m or (m.group(1) is not None and int(m.group(1)) < 1):
        raise InputError(f"--scheduler must be tcp://HOST:PORT (a running Dask scheduler) or local:N "
                         f"(N >= 1 local workers), got {scheduler!r}")
    most = MAX_LOCAL_WORKERS_PER_CORE * (os.cpu_count() or 1)
    if m.group(1) is not None and int(m.group(1)) > most:
        raise InputError(f"--scheduler local:{m.group(1)}: at most {most} local workers on this machine "
                         f"({MAX_LOCAL_WORKERS_PER_CORE} per core)")
    return scheduler.strip()


#: ``local:N`` starts N processes; more than this per core only slows the start-up down.
MAX_LOCAL_WORKERS_PER_CORE = 4
#: Seconds a scheduler address may take to connect and greet (a Dask scheduler speaks first).
CONNECT_SECONDS = 10.0


def _probe(address: str, *, timeout: float = CONNECT_SECONDS) -> None:
    """Refuse in bounded time a ``tcp://`` address that is not a Dask scheduler. Dask's own connect
    waits without limit for the greeting of a server that never sends one (an HTTP port), and a
    server that sends something else makes it allocate whatever length the first bytes spell."""
    import socket
    import struct

    host, sep, port = address.removeprefix("tcp://").rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--scheduler {address!r}: use tcp://HOST:PORT (IPv6 as tcp://[::1]:8786)")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.settimeout(timeout)
            head = b""
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
    except TimeoutError:
        raise InputError(f"cannot reach the Dask scheduler at {address}: no answer within {timeout:g} s; "
                         "is it a Dask scheduler, and running?") from None
    except (OSError, UnicodeError) as e:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {getattr(e, 'strerror', None) or e}; "
                         "is it running?") from None
    if len(head) < 8 or not 0 < struct.unpack("<Q", head)[0] < 1 << 20:  # Dask's greeting: a short frame
        raise InputError(f"{address} answers, but not as a Dask scheduler; check the host and port "
                         "(the scheduler's default is 8786, its dashboard 8787)")


def _context(*, fork: bool = False):
    """Workers start from a clean process, never by forking a caller that has loaded OpenCV: a fork
    of a process whose OpenCV thread pool is running can deadlock in the child's first parallel
    OpenCV call. ``fork`` (only when :func:`compare.pipepool.fork_is_safe`): a plain fork, the cheapest start -- no
    second interpreter, no resource tracker, and each worker loads OpenCV itself, beside this process
    loading its own. Otherwise the fork server preloads this module (and OpenCV) once, so starting
    workers stays cheap."""
    import multiprocessing

    if fork:
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # the decoder too: this module loads OpenCV lazily (a reading-only run never needs it)
        ctx.set_forkserver_preload(["scopecheck.compare.batch", "scopecheck.compare.record", "scopecheck.compare.load",
                                    "threadpoolctl"])
        return ctx
    return multiprocessing.get_context("spawn")


class _Workers:
    """The worker processes of a ``--jobs N`` run (``N - 1``: this process is the N-th), started on
    a background thread: a pool's start blocks until the fork server has loaded OpenCV and forked,
    and this process hashes meanwhile."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        if fork_is_safe():  # a fork takes milliseconds: started here, before any thread exists
            self._start(fork=True)
        else:
            threading.Thread(target=self._start, name="scopecheck-pool-start", daemon=True).start()

    def _start(self, *, fork: bool = False):
        try:
            self._pool = _new_pool(self.jobs, fork=fork)
        except BaseException as e:  # noqa: BLE001 - handed to the thread that uses the pool
            self._error = e
        finally:
            self._ready.set()

    def pool(self, *, wait: bool):
        """The pool, or None while it is still starting (``wait=False``)."""
        if not self._ready.wait(None if wait else 0):
            return None
        if self._error is not None:
            raise self._error
        return self._pool

    def terminate(self):
        self._ready.wait()
        if self._pool is not None:
            self._pool.terminate()


#: The workers kept by :func:`shared_pool` (a :class:`_Workers` or None), or ``None`` outside one.
_SHARED: list | None = None


@contextlib.contextmanager
def shared_pool():
    """Within this block every process-pool hashing run reuses one pool (started on first need), so
    a search that hashes a haystack and then its needles pays the pool's start-up once. The pool is
    closed when the block ends, or terminated on an error."""
    global _SHARED
    if _SHARED is not None:  # nested: the outer block owns the pool
        yield
        return
    _SHARED = mine = [None]
    try:
        yield
    finally:
        _SHARED = None
        if mine[0] is not None:
            mine[0].terminate()  # idle here: every run drained its results


def _new_pool(jobs: int, *, fork: bool = False):
    """The pool of a ``--jobs`` run: ``jobs - 1`` worker processes (this process is the other)."""
    return PipePool(max(1, jobs - 1), _context(fork=fork), init=_worker_init, work=hash_many)


def hash_many(jobs: list) -> list:
    """A worker's task: :func:`hash_one` over a few files."""
    return [hash_one(j) for j in jobs]


#: A worker task holds about this many seconds of hashing (as this process measures its own files:
#: 1600x1200 JPEGs go 6 at a time, large PNGs one by one), at most POOL_CHUNK files, and each worker
#: has at most POOL_QUEUED tasks: this process and the workers run out of work within a few tens of
#: milliseconds of each other.
POOL_CHUNK_SECONDS, POOL_CHUNK, POOL_QUEUED = 0.02, 16, 2
#: Fewer files than this are hashed here alone: done before a worker would have started.
POOL_MIN_FILES = 16


@contextlib.contextmanager
def _one_thread():
    """OpenCV and numpy's BLAS on one thread while this process hashes (a --jobs run uses exactly
    its processes; --jobs 1 is one core), restored afterwards for a caller that uses them itself."""
    import cv2
    from threadpoolctl import threadpool_limits

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    blas = threadpool_limits(limits=1, user_api="blas")
    try:
        yield
    finally:
        blas.restore_original_limits()
        cv2.setNumThreads(before)


def _iter_pool(work: list, jobs: int):
    if jobs == 1 or len(work) < POOL_MIN_FILES:
        if len(work) > 1:
            tune_malloc()
        with _one_thread():
            for job in work:
                yield hash_one(job)
        return
    shared = _SHARED
    if shared is not None and (shared[0] is None or shared[0].jobs != jobs):
        if shared[0] is not None:
            shared[0].terminate()
        shared[0] = _Workers(jobs)
    workers = shared[0] if shared is not None else _Workers(jobs)
    try:
        yield from _together(work, workers)
    except BaseException:
        if shared is not None:
            shared[0] = None  # a run abandoned mid-way: its tasks may still be queued
        workers.terminate()
        raise
    if shared is None:
        workers.terminate()


def _together(work: list, workers: _Workers):
    """Hash ``work`` here (from the front) and in the workers (chunks from the back), yielding each
    result as it is ready."""
    import time

    tune_malloc()
    pending = deque(work)
    mine = 0
    spent = 0.0
    pool = None
    with _one_thread():
        while True:
            if pool is None:
                pool = workers.pool(wait=not pending)
            while pool is not None and pending:
                per_file = spent / mine if mine else POOL_CHUNK_SECONDS
                size = max(1, min(POOL_CHUNK, round(POOL_CHUNK_SECONDS / max(per_file, 1e-6)),
                                   len(pending) // (2 * workers.jobs)))  # smaller towards the end: no long tail
                part = [pending[-1 - k] for k in range(size)]
                if not pool.submit(part, limit=POOL_QUEUED):
                    break
                for _ in range(size):
                    pending.pop()
            if pool is not None:
                if not pending and not pool.inflight():
                    return
                for out in pool.collect(block=not pending):
                    yield from out
            if pending:
                t = time.perf_counter()
                out = hash_one(pending.popleft())
                spent += time.perf_counter() - t
                mine += 1
                yield out


def _iter_dask(work: list, scheduler: str):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("--scheduler needs Dask; install it with: pip install 'scopecheck[dask]'") from None
    cluster = None
    m = re.match(r"^local:(\d+)$", scheduler)
    try:
        if m:
            cluster = LocalCluster(n_workers=int(m.group(1)), threads_per_worker=1, processes=True,
                                   dashboard_address=":0")
            client = Client(cluster)
        else:
            if scheduler.startswith("tcp://"):
                _probe(scheduler)
            client = Client(scheduler, timeout=f"{CONNECT_SECONDS:g}s")
    except (OSError, TimeoutError, ValueError, MemoryError) as e:
        if cluster is not None:
            cluster.close()
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {e}; is it running?") from None
    try:
        chunks = [work[i:i + DASK_CHUNK] for i in range(0, len(work), DASK_CHUNK)]
        futures = client.map(hash_chunk, chunks, pure=False)
        for fut in as_completed(futures):
            try:
                done = fut.result()
            except Exception as e:  # noqa: BLE001 - e.g. KilledWorker: a chunk that killed its workers
                raise InputError(f"the Dask cluster at {scheduler} failed: {type(e).__name__}: {e}; what was "
                                 "hashed is kept, run the command again to resume") from None
            yield from done
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def iter_hashes(files, *, jobs: int | None = None, scheduler: str | None = None,
                hash_size: int = DEFAULT_HASH_SIZE, max_pixels: int = DEFAULT_MAX_PIXELS,
                max_bytes: int = DEFAULT_MAX_BYTES):
    """Hash ``files`` (:class:`compare.walk.FileEntry`), yielding a :class:`HashRecord` or a
    ``(FileError, size, mtime_ns)`` per file, in completion order: over ``jobs`` processes, or over
    a Dask cluster when ``scheduler`` is given (see the module docstring)."""
    scheduler = check_scheduler(scheduler)
    work = [(f.path, f.size, f.mtime_ns, hash_size, max_pixels, max_bytes) for f in files]
    if scheduler is not None and work:
        yield from _iter_dask(work, scheduler)
    else:
        yield from _iter_pool(work, check_jobs(jobs))


def hash_tree(roots, *, jobs: int | None = None, scheduler: str | None = None,
              max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
              progress=None) -> tuple[list[HashRecord], list]:
    """Walk and hash folders without an index (needles, or a haystack folder without one).

    Returns the records (in walk order) and the errors (walk and per-file).
    """
    from .record import HashRecord

    walk = walk_images(roots)
    records, errors = {}, list(walk.errors)
    total = len(walk.files)
    for n, out in enumerate(iter_hashes(walk.files, jobs=jobs, scheduler=scheduler, max_pixels=max_pixels,
                                        max_bytes=max_bytes), 1):
        if isinstance(out, HashRecord):
            records[out.path] = out
        else:
            errors.append(out[0])
        if progress:
            progress(n, total, len(errors))
    order = {f.path: k for k, f in enumerate(walk.files)}
    errors.sort(key=lambda e: (order.get(e.path, -1), e.path))
    return [records[f.path] for f in walk.files if f.path in records], errors

"""Worker processes behind pipes, for :mod:`compare.batch`'s ``--jobs`` runs.

:class:`PipePool` keeps ``n`` processes, each reading parts of work from its own pipe and writing
the results back; the process that owns it sends and collects between its own work, so there is no
helper thread (a ``multiprocessing.Pool`` keeps three, woken on every task, under the GIL of a
process that also hashes). :func:`fork_is_safe` says when the workers may be plain forks.
"""
from __future__ import annotations

import sys
import threading
from collections import deque

from .errors import ScopecheckError


def tune_malloc() -> bool:
    """Let glibc keep freed image-sized buffers (up to 32 MB) in the heap for reuse.

    By default each decoded frame over ~128 KB is a fresh ``mmap``: every page is faulted in and
    zeroed, then unmapped again. Measured on this project's 2-vCPU VMs, two processes decoding
    1600x1200 JPEGs that way ran *slower* together than one alone (page faults serialise in the
    hypervisor); with the buffers reused they run 1.9-2x. Returns False where it does not apply
    (not glibc); the hashes are the same either way.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # musl or another libc: nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok = libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024) == 1
    return bool(ok and libc.mallopt(m_trim_threshold, 256 * 1024 * 1024) == 1)


def fork_is_safe() -> bool:
    """A plain ``fork`` is safe while this process has not loaded OpenCV (so no OpenCV thread pool
    can be caught mid-call) and runs no other Python thread (none can hold a lock the child needs):
    what a command that has only walked its folders looks like when it first needs workers."""
    import multiprocessing

    return ("fork" in multiprocessing.get_all_start_methods() and "cv2" not in sys.modules
            and threading.active_count() == 1)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the process that started it dies, even by
    SIGKILL (a worker that outlived a killed ``index`` kept the index's files and its caller's pipes
    open, and waited for work for ever)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent was gone before the request took effect (adopted by init)
        os._exit(0)


def serve(conn, init, work, inherited=()) -> None:
    """A worker: ``init()``, then ``work(part)`` for each part it is sent, the result (or the exception)
    sent back, until told to stop. ``inherited``: the parent's ends of the pipes (a forked worker holds
    copies of them, which would keep its own pipe from ever reading as closed), closed first."""
    for c in inherited:
        c.close()
    _die_with_parent()
    init()
    while True:
        try:
            part = conn.recv()
        except (EOFError, OSError):  # the parent has gone
            return
        if part is None:
            return
        try:
            out: object = work(part)
        except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
            out = e
        conn.send(out)


class PipePool:
    """``n`` worker processes, each behind one pipe: chunks go out, lists of results come back.

    No helper threads: this process sends and collects between its own files (a
    ``multiprocessing.Pool`` keeps three threads that, woken on every task, took a sixth of the
    CPU this process spent hashing, under its GIL). A worker that dies mid-chunk is an error,
    never a wait without end.
    """

    def __init__(self, n: int, ctx, *, init, work):
        self._conns: list = []
        self._procs: list = []
        self._busy: list[deque] = []
        forked = ctx.get_start_method() == "fork"  # a fork inherits this process's ends of the pipes
        for _ in range(n):
            here, there = ctx.Pipe()
            inherited = (*self._conns, here) if forked else ()
            proc = ctx.Process(target=serve, args=(there, init, work, inherited), daemon=True,
                               name="scopecheck-worker")
            proc.start()
            there.close()
            self._conns.append(here)
            self._procs.append(proc)
            self._busy.append(deque())

    def inflight(self) -> int:
        return sum(len(b) for b in self._busy)

    def submit(self, part: list, *, limit: int) -> bool:
        """Send ``part`` to the least busy worker with fewer than ``limit`` chunks; False if none has room."""
        k = min(range(len(self._conns)), key=lambda i: len(self._busy[i]))
        if len(self._busy[k]) >= limit:
            return False
        self._busy[k].append(part)
        try:
            self._conns[k].send(part)
        except OSError:  # a worker that died while idle: its pipe is closed
            raise self._stopped(k) from None
        return True

    def _stopped(self, k: int) -> ScopecheckError:
        part, code = self._busy[k][-1], self._procs[k].exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return ScopecheckError(f"a worker process stopped ({how}) while hashing {part[0][0]} and {len(part) - 1} "
                               "more; run with --jobs 1 to see which file")

    def collect(self, *, block: bool) -> list:
        """The result lists ready now (``block``: wait for at least one)."""
        import select

        busy = [k for k, b in enumerate(self._busy) if b]
        if not busy:
            return []
        out = []
        poller = select.poll()  # one poll call (multiprocessing's wait builds a selector each time)
        fds = [self._conns[k].fileno() for k in busy]
        for fd in fds:
            poller.register(fd, select.POLLIN)
        ready = [fd for fd, _ in poller.poll(None if block else 0)]
        for k in (busy[fds.index(fd)] for fd in ready):
            conn = self._conns[k]
            try:
                got = conn.recv()
            except (EOFError, OSError):
                self._procs[k].join(1)
                raise self._stopped(k) from None
            self._busy[k].popleft()
            if isinstance(got, BaseException):
                raise got
            out.append(got)
        return out

    def terminate(self):
        for conn in self._conns:
            conn.close()
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(5)

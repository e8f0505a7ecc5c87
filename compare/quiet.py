"""Keep the C decoders' messages off the user's terminal and hand them to our error instead.

libpng and libjpeg print to file descriptor 2 ("libpng error: IDAT: CRC error", "Corrupt JPEG
data: premature end of data segment"), below anything Python or OpenCV's log level controls.
:func:`captured` points fd 2 at a temporary file for the duration of a decode and returns what
was written. The file is made once per process and emptied when something was written to it, so a
clean decode costs a few system calls, not a file created and removed. Decodes run concurrently in threads (``compare`` prepares both images at once), so
fd 2 is redirected once while any decode is inside and restored when the last one leaves;
``messages.overlapped`` tells the caller that another decode shared the window, and
:func:`solo` runs a decode alone when its messages must be attributed with certainty.

The state is guarded by a plain lock and :func:`captured` is a small class, not a generator: a
decode's capture runs right after a DCT-reduced JPEG decode of a few milliseconds, on caches the
decode has just used, where the pure-Python ``threading.Condition`` and ``contextlib`` machinery
cost far more than the few microseconds of its five system calls: ``hash_file`` took 0.08 and
0.14 ms a file less with this version than with the generator and condition, in two runs
interleaving both on the same files (load 10-12; ``bench/bench_archive.py --parts`` shows the whole
capture's share). The condition (on the same lock) is only waited on and notified when a thread waits.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass

_lock = threading.Lock()
_cond = threading.Condition(_lock)  # waited on only by a decode held off by solo(), or by solo()
_waiting = 0                        # threads inside _wait (notified only when there are some)
_active = 0
_epoch = 0
_solo_owner: int | None = None
_saved_fd: int | None = None
_sink: int | None = None  # fd of the temporary file, kept open between decodes (never 0, 1 or 2)
_sink_pid = 0             # the process that made it (a forked child makes its own)
_CHECK_PID = not hasattr(os, "register_at_fork")  # else a fork resets _sink (no getpid per decode)
# Lines the C decoders write (libpng, libjpeg, libtiff via OpenCV, OpenCV's own log). Anything
# else written to fd 2 while it is redirected (another thread's progress or log) is passed on.
# libjpeg's are the opening words of every message in libjpeg-turbo's jerror.h (errors, warnings
# and the traces a decoder may print), so that none leaks, e.g. "Unknown Adobe color transform code".
_DECODER_LINE = re.compile(rb"^(libpng (warning|error)|Corrupt JPEG data|Premature end of|"
                           rb"Invalid |Warning: |Caution: |Unsupported |Bogus|Unknown (Adobe|APP)|"
                           rb"Inconsistent progression|JPEG datastream|JPEG parameter|Application transferred|"
                           rb"Not a JPEG|Improper|Huffman|Quantization table|Arithmetic table|DCT coefficient|"
                           rb"IDCT output|Component index|Wrong JPEG|Sampling factors|Suspension not|CCIR601|"
                           rb"Too many color|Empty (JPEG|input)|Didn't expect|Fractional sampling|Missing Huffman|"
                           rb"Maximum supported|Cannot (quantize|transcode)|Scan script|Requested feature|"
                           rb"Backing store|Insufficient memory|Virtual array|Image too wide|Unexpected marker|"
                           rb"Unrecognized component|Buffer passed|Not implemented|Sorry, arithmetic|"
                           rb"TIFF|libtiff|\[ *(WARN|ERROR|INFO)|imread_|OpenCV)")


@dataclass
class Messages:
    text: str = ""
    overlapped: bool = False


def _forked() -> None:
    """In a child just forked: its sink is its parent's file (shared offset); it makes its own."""
    global _sink
    _sink = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def _open_sink() -> int:
    """This process's sink, made on first use (a child forked from us makes its own). Its fd is
    3 or above even when the caller closed a standard stream (2>&-), so it is never fd 2 itself."""
    global _sink, _sink_pid
    if _sink is None or (_sink_pid != os.getpid() if _CHECK_PID else False):
        try:
            f = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, its fd duplicated
        except OSError:  # no writable temporary directory: lose the text, keep it quiet
            f = open(os.devnull, "w+b")  # noqa: SIM115
        with f:
            low = []  # a closed standard stream would hand its number to the copy: hold them until fd >= 3
            fd = os.dup(f.fileno())
            while fd <= 2:
                low.append(fd)
                fd = os.dup(f.fileno())
            for held in low:
                os.close(held)
            _sink = fd
        _sink_pid = os.getpid()
    return _sink


def _wait(ready) -> None:
    """Wait (holding ``_lock``) until ``ready()``; counted, so that leavers notify only when needed."""
    global _waiting
    _waiting += 1
    try:
        while not ready():
            _cond.wait()
    finally:
        _waiting -= 1


def _enter() -> tuple[int, int, int]:
    global _active, _epoch, _saved_fd
    me = threading.get_ident()
    with _lock:
        if _solo_owner not in (None, me):
            _wait(lambda: _solo_owner in (None, me))
        sink = _open_sink()
        if _active == 0:
            try:
                if sys.stderr is not None:  # None when started with 2>&-
                    sys.stderr.flush()
            except (OSError, ValueError):
                pass
            try:
                _saved_fd = os.dup(2)
            except OSError:  # fd 2 closed by the caller (2>&-): nothing to restore
                _saved_fd = None
            os.dup2(sink, 2)
        # alone, the sink is empty (emptied when the last decode left it); else where it is now
        entry = (_active, _epoch, os.fstat(sink).st_size if _active else 0)
        _active += 1
        _epoch += 1
        return entry


def _leave(entry: tuple[int, int, int], out: Messages) -> None:
    global _active, _saved_fd
    was_active, epoch, pos = entry
    with _lock:
        assert _sink is not None
        fd = _sink
        size = os.fstat(fd).st_size
        raw = os.pread(fd, min(size - pos, 4096), pos) if size > pos else b""
        out.text = raw.decode("utf-8", "replace")
        out.overlapped = was_active > 0 or _epoch != epoch + 1
        _active -= 1
        if _active == 0:
            if size:
                _pass_on(fd, _saved_fd)
            if _saved_fd is None:  # fd 2 was closed: close it again
                os.close(2)
            else:
                os.dup2(_saved_fd, 2)
                os.close(_saved_fd)
            _saved_fd = None
            if size:  # empty it for the next decode (fd 2 no longer shares its offset)
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
        if _waiting:
            _cond.notify_all()


def _pass_on(sink_fd: int, real_fd: int | None) -> None:
    """Write what was not a decoder line back to the real stderr (at most 64 KiB)."""
    if real_fd is None:
        return
    try:
        text = os.pread(sink_fd, 1 << 16, 0)
        other = b"".join(ln for ln in text.splitlines(keepends=True) if not _DECODER_LINE.match(ln))
        if other:
            os.write(real_fd, other)
    except OSError:
        pass


class captured:  # noqa: N801 - used as a function: ``with captured() as m``
    """``with captured() as m: ...`` -- fd 2 goes to a temporary file; ``m.text`` afterwards."""

    __slots__ = ("_entry", "_out")

    def __enter__(self) -> Messages:
        self._out = Messages()
        self._entry = _enter()
        return self._out

    def __exit__(self, *exc) -> None:
        _leave(self._entry, self._out)


@contextmanager
def solo():
    """Run the body with no other decode inside :func:`captured` at the same time."""
    global _solo_owner
    me = threading.get_ident()
    with _lock:
        _wait(lambda: _solo_owner is None and not _active)
        _solo_owner = me
    try:
        yield
    finally:
        with _lock:
            _solo_owner = None
            if _waiting:
                _cond.notify_all()


def first_line(text: str) -> str:
    """The first non-empty line of decoder output, stripped (for our one-line error)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""

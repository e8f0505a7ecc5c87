"""Atomic, durable file writes that never clobber by accident.

:func:`write_atomic` is the one way scopecheck writes a result file (stripped images, captures):
readers see either the old file or the complete new one, never a partial write. Every failure
path (an exception, Ctrl-C, SIGTERM once the CLI has turned it into an exception) removes the
temporary file; only a hard kill (SIGKILL, power cut) can leave one behind. Temporary files are
named ``.<name>.scopecheck-tmp-<random>`` so that :func:`is_temp_name` recognises them and the
folder walker never takes one for an image.
"""
from __future__ import annotations

import errno
import os
import re
import stat

from .errors import InputError, OutputExistsError

__all__ = ["write_atomic", "is_temp_name", "TEMP_MARK"]

TEMP_MARK = ".scopecheck-tmp-"
# ours, and the ``.<name>.<12 hex>.tmp`` names of versions before 0.2 (still found on disks)
_TEMP_NAME = re.compile(r"^\..+(?:\.scopecheck-tmp-[0-9a-f]+|\.[0-9a-f]{12}\.tmp)\Z", re.DOTALL)


def is_temp_name(name: str) -> bool:
    """True for the name of a temporary file :func:`write_atomic` creates (never a real output).

    >>> is_temp_name(".shot.png.scopecheck-tmp-1a2b3c4d5e6f")
    True
    >>> is_temp_name("shot.png")
    False
    """
    return _TEMP_NAME.match(name) is not None

# os.link fails with these where the file system has no hard links (FAT, some network mounts).
_NO_LINK = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}


def _input_error(e: OSError, path: str, directory: str) -> InputError:
    if isinstance(e, FileNotFoundError):
        return InputError(f"cannot write: directory {directory!r} does not exist", path=path)
    if isinstance(e, PermissionError):
        return InputError(f"cannot write: permission denied in {directory!r}", path=path)
    if isinstance(e, IsADirectoryError):
        return InputError("cannot write: is a directory", path=path)
    if e.errno == errno.ENOSPC:
        return InputError("cannot write: no space left on device", path=path)
    return InputError(f"cannot write: {e.strerror or e}", path=path)


def _fsync_directory(directory: str) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows has no directory fsync
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as e:  # some file systems do not support fsync on directories
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
    finally:
        os.close(fd)


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _temp_names(directory: str, name: str):
    import secrets  # on first write (it loads OpenSSL): a command that only reads never needs it

    stem = name[:120]  # keep the temporary name within NAME_MAX
    for _ in range(100):
        yield os.path.join(directory, f".{stem}{TEMP_MARK}{secrets.token_hex(6)}")


def publish_no_clobber(tmp: str, path: str) -> None:
    """Give ``tmp`` the name ``path`` only if ``path`` does not exist, without a race."""
    try:
        os.link(tmp, path)  # fails with FileExistsError if path exists, atomically
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in _NO_LINK:
            raise
        # No hard links here: reserve the name with O_EXCL (atomic), then rename over the
        # reservation. Another writer can never be overwritten; readers may briefly see an
        # empty file, never a partial one.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        os.close(fd)
        try:
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        return
    os.unlink(tmp)


def not_a_file(mode: int) -> str:
    """Why an existing entry is no file to replace (``--overwrite`` replaces files and symlinks only:
    as root, a FIFO or a device node such as ``/dev/null`` would otherwise become a regular file)."""
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return f"is {kind}, not a file to replace"


def write_atomic(path: str | os.PathLike, data: bytes, *, overwrite: bool,
                 mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically and durably.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Its directory must exist.
    data : bytes
        The complete new content.
    overwrite : bool
        False: refuse when ``path`` exists (any kind of entry, a dangling symlink included), also
        when it appears while writing; the check and the final naming are one atomic step
        (``os.link`` of the temporary file, or an ``O_EXCL`` reservation where the file system
        has no hard links). True: replace the file atomically (``os.replace``); an existing
        symlink is replaced, not followed (resolve it first to rewrite its target).
    mode : int, optional
        Permission bits for the file. Default: those of the file being replaced (and its owner
        and group where the process may set them), else ``0o666`` minus the umask.

    Raises
    ------
    OutputExistsError
        ``overwrite`` is False and ``path`` exists.
    InputError
        The directory is missing or not writable, ``path`` is a directory, the disk is full,
        or another OS error; the message names the path. No temporary file is left behind.

    Notes
    -----
    Sequence: create ``.<name>.scopecheck-tmp-<random>`` in the destination directory with ``O_EXCL``,
    write, flush, ``os.fsync``, set the mode, publish (link or replace), remove the temporary
    name, ``fsync`` the directory so the new name survives a power cut.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> write_atomic(os.path.join(d, "a.txt"), b"one", overwrite=False)
    >>> write_atomic(os.path.join(d, "a.txt"), b"two", overwrite=False)
    Traceback (most recent call last):
    ...
    scopecheck.compare.errors.OutputExistsError: ...a.txt: already exists; not overwriting it
    """
    p = os.fspath(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    directory = os.path.dirname(os.path.abspath(p))
    name = os.path.basename(p)
    if not name:
        raise InputError("cannot write: the path names a directory, not a file", path=p)
    exists_msg = "already exists; not overwriting it"
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _input_error(e, p, directory) from None
    if st is not None and not overwrite:
        raise OutputExistsError(exists_msg, path=p)
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise InputError(f"cannot write: {not_a_file(st.st_mode)}", path=p)

    tmp = None  # set before the file exists, so an interrupt at any point can remove it
    try:
        for tmp in _temp_names(directory, name):
            try:
                fd = os.open(tmp, _TEMP_FLAGS, 0o666)  # the umask applies, as for any new file
                break
            except FileExistsError:  # someone else's file: never ours to remove
                tmp = None
        else:
            raise InputError("cannot write: could not create a unique temporary file", path=p)
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            elif st is not None and stat.S_ISREG(st.st_mode):
                os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode))
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(f.fileno(), st.st_uid, st.st_gid)
                    except PermissionError:
                        pass
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, p)
        else:
            publish_no_clobber(tmp, p)
        tmp = None
        _fsync_directory(directory)
    except BaseException as e:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:  # already gone (published), or nothing more can be done
                pass
        if isinstance(e, FileExistsError):
            raise OutputExistsError(exists_msg, path=p) from None
        if isinstance(e, OSError):
            raise _input_error(e, p, directory) from None
        raise

"""Where shots go: ``-o`` names and templates, and writing a PNG with its manifest as one unit.

**Templates.** ``-o`` is a plain ``.png`` path or a template whose only field is the shot number
``n`` with an integer format, e.g. ``shot_{n:03d}.png`` or ``shot_{n}.png``. Attribute or index
access (``{n.real}``, ``{n[0]}``), conversions (``{n!r}``), other names (``{x}``), positional fields
(``{}``) and fields in the directory part (``{n}/a.png``) are refused with one line before any
frame is read, so a template can only ever name files in the directory the user pointed at.

**Together or not at all** (:func:`write_pair`): the PNG and its manifest are first written to
hidden temporary files beside the targets (``.<name>.scopecheck-tmp-<random>``, the naming of
:func:`compare.atomic.write_atomic`, which :func:`compare.atomic.is_temp_name` recognises and the
folder walker skips), fsynced, then published
manifest first, PNG second, each with a no-clobber hard link (``os.replace`` with
``overwrite``). If publishing the PNG fails, or Ctrl-C arrives between the two, the manifest just
published is removed again, and with ``overwrite`` the one it replaced is put back (kept under a
hidden temporary hard link until the PNG is out); the temporary files are removed on every path. A
hard kill before publishing leaves only the hidden temporaries; a PNG is never visible without its
manifest. Two renames are not one: a hard kill (SIGKILL, power loss) in the microseconds between
them leaves the new manifest without its PNG (or, with ``overwrite``, beside the old PNG); the
manifest's ``sha256`` then names a picture that is not the one beside it, which is how such a pair
is told apart.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import string

from scopecheck.compare.atomic import TEMP_MARK, not_a_file, publish_no_clobber
from scopecheck.compare.errors import InputError, OutputExistsError

MANIFEST_SUFFIX = ".manifest.json"
_SPEC = re.compile(r"0?[1-9]?\d?d?")  # '', 'd', '03d', '4', '05'
_EXAMPLE = "use e.g. shot_{n:03d}.png"


def manifest_path_for(path: str) -> str:
    """``dir/name.png`` -> ``dir/name.manifest.json``."""
    root, _ = os.path.splitext(path)
    return root + MANIFEST_SUFFIX


def is_template(output: str) -> bool:
    """Any ``{`` makes ``-o`` a name template (validated by :func:`check_output`)."""
    return "{" in output or "}" in output


def _check_template(output: str) -> None:
    try:
        fields = list(string.Formatter().parse(output))
    except ValueError as e:
        raise InputError(f"-o {output!r}: bad name template ({e}); {_EXAMPLE}") from None
    named = [(f, spec, conv) for _, f, spec, conv in fields if f is not None]
    if not named:
        raise InputError(f"-o {output!r}: the template has no {{n}} field; {_EXAMPLE}")
    for field, spec, conv in named:
        if field != "n":
            what = "an empty field {}" if field == "" else f"field {{{field}}}"
            raise InputError(f"-o {output!r}: {what} is not allowed; the only field is the shot number n, "
                             f"{_EXAMPLE}")
        if conv is not None or not _SPEC.fullmatch(spec or ""):
            raise InputError(f"-o {output!r}: format {{n{'!' + conv if conv else ''}{':' + spec if spec else ''}}} "
                             f"is not an integer format; {_EXAMPLE}")
    head, tail = os.path.split(output)
    if "{" in head or "}" in head:
        raise InputError(f"-o {output!r}: the shot number may only appear in the file name, not in the "
                         f"directory; {_EXAMPLE}")
    a, b = tail.format(n=1), tail.format(n=2)
    if a == b:  # pragma: no cover - every accepted field prints n
        raise InputError(f"-o {output!r}: the template must change with n")


def check_output(output: str) -> None:
    """Validate ``-o`` before any frame is read: a ``.png`` in an existing directory, a sound template."""
    if not isinstance(output, str) or not output:
        raise InputError("-o: an output file name is required")
    if "\0" in output:
        raise InputError(f"-o {output!r}: NUL byte in the file name")
    if not output.lower().endswith(".png"):
        raise InputError(f"-o {output!r}: the output must be a .png file")
    if is_template(output):
        _check_template(output)
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise InputError(f"-o {output!r}: directory {directory} does not exist; create it first")
    if not is_template(output):  # a directory or a device in the way: refused before any frame is read
        refuse_existing(output, overwrite=True)


def name_for(template: str, n: int) -> str:
    """The file name for shot ``n`` of a checked template (a plain path is returned as is)."""
    if not is_template(template):
        return template
    head, tail = os.path.split(template)
    return os.path.join(head, tail.format(n=n)) if head else tail.format(n=n)


def next_free(template: str, *, start: int = 1) -> str:
    """First ``name_for(template, k)``, k >= start, whose PNG and manifest are both absent."""
    for k in range(start, start + 1_000_000):
        p = name_for(template, k)
        if not os.path.lexists(p) and not os.path.lexists(manifest_path_for(p)):
            return p
    raise OutputExistsError(f"no free name for {template!r}")


def refuse_existing(path: str, overwrite: bool) -> None:
    """Refuse (exit 2) when ``path`` or its manifest exists, unless ``overwrite``; and, even with it,
    when either is a directory, a FIFO, a device or a socket (no file to replace)."""
    for p in (path, manifest_path_for(path)):
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise InputError(f"cannot write: {not_a_file(st.st_mode)}", path=p)
        if not overwrite:
            raise OutputExistsError("already exists; not overwriting it (pass --overwrite to replace it, "
                                    "or use a name template such as shot_{n:03d}.png)", path=p)


# --------------------------------------------------------------------------- writing both

def _temp(directory: str, name: str, data: bytes) -> str:
    """Write ``data`` to a new hidden ``.<name>.scopecheck-tmp-<random>`` beside the target and fsync it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".{name[:120]}{TEMP_MARK}{secrets.token_hex(6)}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            _unlink(tmp)
            raise
        return tmp
    raise FileExistsError(errno.EEXIST, "could not create a unique temporary file", directory)


def _unlink(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def _publish(tmp: str, path: str, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)  # refuse_existing has refused anything but a file or a symlink
        return
    try:
        publish_no_clobber(tmp, path)
    except FileExistsError:
        raise OutputExistsError("already exists; not overwriting it (pass --overwrite to replace it, "
                                "or use a name template such as shot_{n:03d}.png)", path=path) from None


def _fsync_dir(directory: str) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_pair(path: str, data: bytes, manifest_path: str, manifest: bytes, *, overwrite: bool = False) -> None:
    """Publish ``data`` at ``path`` and ``manifest`` at ``manifest_path`` together (see module doc).

    Raises :class:`OutputExistsError` when either exists and ``overwrite`` is False (nothing is
    written then), :class:`InputError` for an unwritable directory, a full disk and other OS errors.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.dirname(os.path.abspath(manifest_path)) != directory:
        raise InputError(f"{manifest_path}: the manifest must sit beside its image")
    refuse_existing(path, overwrite)
    tmp_png = tmp_man = old_man = None
    published: list[str] = []
    try:
        tmp_png = _temp(directory, os.path.basename(path), data)
        tmp_man = _temp(directory, os.path.basename(manifest_path), manifest)
        if overwrite and os.path.lexists(manifest_path):  # kept, hidden, until the PNG is out too
            old_man = _backup(directory, manifest_path)
        _publish(tmp_man, manifest_path, overwrite)
        published.append(manifest_path)
        _publish(tmp_png, path, overwrite)
        published.append(path)
        _fsync_dir(directory)
    except BaseException as e:
        if len(published) == 1:  # manifest visible without its PNG: take it back (the old one, if any)
            if old_man is not None:
                os.replace(old_man, manifest_path)
                old_man = None
            else:
                _unlink(manifest_path)
        if isinstance(e, OSError) and not isinstance(e, OutputExistsError):
            why = ("permission denied" if isinstance(e, PermissionError) else
                   "no space left on device" if e.errno == errno.ENOSPC else e.strerror or str(e))
            raise InputError(f"cannot write: {why} in {directory!r}", path=path) from None
        raise
    finally:
        _unlink(tmp_png if (tmp_png and os.path.lexists(tmp_png)) else None)
        _unlink(tmp_man if (tmp_man and os.path.lexists(tmp_man)) else None)
        _unlink(old_man)


def _backup(directory: str, path: str) -> str | None:
    """A hidden hard link to ``path`` (a temporary name the walker skips), to put back if the pair
    cannot be published whole; None where the file system has no hard links."""
    for _ in range(100):
        link = os.path.join(directory, f".{os.path.basename(path)[:120]}{TEMP_MARK}{secrets.token_hex(6)}")
        try:
            os.link(path, link, follow_symlinks=False)
            return link
        except FileExistsError:
            continue
        except OSError:
            return None
    return None


__all__ = ["MANIFEST_SUFFIX", "check_output", "is_template", "manifest_path_for", "name_for", "next_free",
           "refuse_existing", "write_pair"]

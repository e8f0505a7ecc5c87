"""Finding the image files under folders: recursive, loop-safe, tolerant of odd names.

Policy:

* **Chosen by extension or by content.** A regular file whose name ends in a known image extension
  is taken (even when it turns out broken: it then shows up in ``errors`` downstream, because a
  ``.jpg`` that cannot be read is news). Any other regular file is taken only when its first bytes
  are an image signature (:func:`compare.load.sniff_format`), so ``IMG_0001`` without an extension
  is found and ``notes.txt`` or the SQLite index itself are skipped silently.
* **Symlinks are followed, loops are not.** Each directory is visited once, identified by
  ``(st_dev, st_ino)``, so a link back to a parent cannot make the walk run forever; a symlinked
  file is listed under the name it was reached by.
* **Names as the OS gives them.** Paths are ``str`` (undecodable bytes survive as surrogate
  escapes, ``os.fsencode`` gives them back); spaces, unicode and newlines are fine.
* **Never our own temporary files.** A ``.<name>.scopecheck-tmp-<random>`` file left by a killed
  writer (:func:`compare.atomic.is_temp_name`) holds a partial image: it is never listed, not even
  when named explicitly, whatever its content.
* **Deterministic order.** Directory entries are sorted by name, so two walks of the same tree list
  files in the same order.

Directories that cannot be listed become entries in ``errors``; the walk goes on.
"""
from __future__ import annotations

import os
import stat

from .atomic import is_temp_name
from .containers import sniff_format
from .errors import InputError
from .frozen import dataclass

IMAGE_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".bmp", ".dib", ".webp", ".gif",
    ".pbm", ".pgm", ".ppm", ".pnm",
})
#: Images in formats not read here. A folder walk takes them, so that the index and search list each
#: one as unreadable, naming its format (:func:`compare.containers.foreign_format`), instead of
#: passing over a folder of phone photos (HEIC) or microscope files (CZI, ND2) in silence.
FOREIGN_EXTENSIONS = frozenset({
    ".heic", ".heif", ".avif", ".jxl", ".jp2", ".j2k", ".exr", ".hdr", ".czi", ".nd2", ".dcm", ".fits", ".fit",
    ".psd",
})


@dataclass(frozen=True)
class FileEntry:
    """An image file found by the walk, with the ``stat`` values the index keys on."""

    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileError:
    """A file or folder that could not be used, and why (walk, index and search errors)."""

    path: str
    error: str

    def to_json(self) -> dict:
        return {"path": self.path, "error": self.error}


WalkError = FileError  # the walker's name for it


@dataclass(frozen=True)
class WalkResult:
    files: tuple[FileEntry, ...]
    errors: tuple[WalkError, ...]


def _looks_like_image(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return sniff_format(f.read(16)) is not None
    except OSError:
        return False  # unreadable and without an image extension: not ours to report


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _is_foreign_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in FOREIGN_EXTENSIONS


def walk_images(roots, *, sniff: bool = True) -> WalkResult:
    """List the image files under ``roots`` (folders or single files).

    Parameters
    ----------
    roots : iterable of str or PathLike
        Folders to walk recursively, or image files to take as they are.
    sniff : bool, keyword-only
        Also take files without an image extension whose first bytes are an image signature.

    Raises :class:`InputError` when a root does not exist. Unlistable sub-folders are collected in
    ``errors``.

    >>> r = walk_images(["fixtures"])      # doctest: +SKIP
    >>> [f.path for f in r.files][:1]      # doctest: +SKIP
    ['fixtures/search/hay/cell.png']
    """
    roots = [os.fspath(r) for r in roots]
    if not roots:
        raise InputError("no folder given; pass at least one DIR")
    files: list[FileEntry] = []
    errors: list[WalkError] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()

    def add(path: str, st: os.stat_result):
        key = os.path.abspath(path)
        if key not in seen_files:
            seen_files.add(key)
            files.append(FileEntry(path=key, size=st.st_size, mtime_ns=st.st_mtime_ns))

    for root in roots:
        try:
            st = os.stat(root)
        except FileNotFoundError:
            raise InputError("no such file or folder", path=root) from None
        except OSError as e:
            raise InputError(f"cannot read: {e.strerror or e}", path=root) from None
        if stat.S_ISREG(st.st_mode):
            if is_temp_name(os.path.basename(root)):
                raise InputError("is a temporary file left by an interrupted write, not an image; "
                                 "delete it", path=root)
            add(root, st)  # a file named explicitly is always taken; decoding decides
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise InputError("not a regular file or folder", path=root)
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                dst = os.stat(folder)
            except OSError as e:
                errors.append(WalkError(os.path.abspath(folder), f"cannot read folder: {e.strerror or e}"))
                continue
            ident = (dst.st_dev, dst.st_ino)
            if ident in seen_dirs:
                continue  # a symlink loop or a second route to the same folder
            seen_dirs.add(ident)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as e:
                errors.append(WalkError(os.path.abspath(folder), f"cannot list folder: {e.strerror or e}"))
                continue
            subdirs = []
            for entry in entries:
                if is_temp_name(entry.name):
                    continue  # a partial write of ours (a killed run), never an image
                try:
                    if entry.is_dir(follow_symlinks=True):
                        subdirs.append(entry.path)
                        continue
                    if not entry.is_file(follow_symlinks=True):
                        continue  # sockets, fifos, devices, dangling links
                    est = entry.stat(follow_symlinks=True)
                except OSError:
                    continue  # vanished or dangling between listing and stat
                if is_image_name(entry.name) or _is_foreign_name(entry.name) or (
                        sniff and _looks_like_image(entry.path)):
                    add(entry.path, est)
            stack.extend(reversed(subdirs))  # depth-first, in name order
    return WalkResult(files=tuple(files), errors=tuple(errors))

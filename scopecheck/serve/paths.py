"""The shot directory behind ``scopecheck serve --dir``: the only files the server reads or writes.

Every name a client sends goes through :meth:`ShotDir.resolve`: it is taken relative to the
directory (or as an absolute path), symlinks are resolved, and anything whose real path is not
inside the directory's real path is refused -- ``..``, absolute paths elsewhere and links pointing
out alike. Listing is bounded (:data:`MAX_LISTED` files) and never follows links out either.
"""
from __future__ import annotations

import datetime as _dt
import os
import stat
from dataclasses import dataclass

from scopecheck.compare.errors import InputError
from scopecheck.compare.jsonfile import read_json
from scopecheck.compare.walk import IMAGE_EXTENSIONS

MAX_LISTED = 5000          # files shown in the gallery
MAX_DEPTH = 4              # sub-folders listed below --dir
MAX_MANIFEST_BYTES = 1 << 20
MANIFEST_SUFFIX = ".manifest.json"
SHOT_TEMPLATE = "shot_{n:03d}.png"


class OutsideError(InputError):
    """A path that resolves outside the shot directory."""


@dataclass(frozen=True)
class ShotFile:
    """One image under the shot directory, with what its manifest (if any) says."""

    name: str              # path relative to the directory, "/" separated
    size: int
    mtime: str             # UTC, ISO 8601
    manifest: str | None   # relative name of <stem>.manifest.json when present
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
    pixel_sha256: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "size": self.size, "mtime": self.mtime, "manifest": self.manifest,
                "width": self.width, "height": self.height, "sha256": self.sha256,
                "pixel_sha256": self.pixel_sha256}


class ShotDir:
    """A directory of shots; see the module docstring."""

    def __init__(self, root: str | os.PathLike):
        real = os.path.realpath(os.fspath(root))
        if not os.path.isdir(real):
            raise InputError(f"--dir {os.fspath(root)!r}: not a directory; create it first")
        self.root = real

    # ------------------------------------------------------------------ names
    @staticmethod
    def shown(name) -> str:
        """``name`` as a message shows it: quoted, at most 120 characters (a request may carry 100 MB)."""
        text = repr(name)
        return text if len(text) <= 120 else text[:100] + f"... ({len(text)} characters)"

    def resolve(self, name: str) -> str:
        """The real path of ``name`` (relative to the directory, or absolute), refused outside it."""
        if not isinstance(name, str) or not name or "\x00" in name or len(name) > 4096:
            raise InputError(f"bad file name {self.shown(name)}: give a name under the shot directory")
        p = name if os.path.isabs(name) else os.path.join(self.root, name)
        real = os.path.realpath(p)
        try:
            inside = real == self.root or os.path.commonpath([self.root, real]) == self.root
        except ValueError:  # another drive (Windows)
            inside = False
        if not inside:
            raise OutsideError(f"{self.shown(name)} is outside the shot directory {self.root}; only files under "
                               "--dir are served")
        return real

    def image(self, name: str) -> str:
        """Resolve ``name`` and require an existing regular image file."""
        real = self.resolve(name)
        try:
            st = os.stat(real)
        except OSError:
            raise InputError(f"{self.shown(name)}: no such file in the shot directory") from None
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{self.shown(name)}: not a regular file")
        if os.path.splitext(real)[1].lower() not in IMAGE_EXTENSIONS:
            raise InputError(f"{self.shown(name)}: not an image file name ({', '.join(sorted(IMAGE_EXTENSIONS))})")
        return real

    def relative(self, real: str) -> str:
        return os.path.relpath(real, self.root).replace(os.sep, "/")

    def template(self) -> str:
        """Where ``POST /api/shots`` saves: the next free ``shot_NNN.png`` in the directory."""
        return os.path.join(self.root, SHOT_TEMPLATE)

    # ------------------------------------------------------------------ listing
    def manifest_for(self, real: str) -> str | None:
        m = os.path.splitext(real)[0] + MANIFEST_SUFFIX
        return m if os.path.isfile(m) and self.resolve(m) == m else None

    def read_manifest(self, name: str) -> dict:
        """The manifest written beside shot ``name`` (bounded read)."""
        real = self.image(name)
        m = self.manifest_for(real)
        if m is None:
            raise InputError(f"{self.shown(name)}: no manifest beside it (only shots taken by scopecheck have one)")
        try:
            return read_json(m, what="manifest", max_bytes=MAX_MANIFEST_BYTES)
        except InputError as e:  # the message names the served (relative) path, not the real one
            why = str(e).removeprefix(f"{m}: manifest: ")
            raise InputError(f"{self.relative(m)}: not a JSON manifest ({why})") from None

    def _entry(self, path: str, st: os.stat_result) -> ShotFile:
        m = self.manifest_for(path)
        info: dict = {}
        if m is not None:
            try:
                doc = self.read_manifest(self.relative(path))
                img = doc.get("image") if isinstance(doc, dict) else None  # any JSON may sit there
                info = {k: img.get(k) for k in ("width", "height", "sha256", "pixel_sha256")
                        if isinstance(img.get(k), (int, str))} if isinstance(img, dict) else {}
            except InputError:
                info = {}
        mtime = _dt.datetime.fromtimestamp(st.st_mtime, _dt.UTC).isoformat(timespec="seconds")
        return ShotFile(self.relative(path), st.st_size, mtime, None if m is None else self.relative(m), **info)

    def list(self, *, limit: int = MAX_LISTED) -> list[ShotFile]:
        """Images under the directory, newest first (at most ``limit``; links out are skipped)."""
        found: list[tuple[float, str, os.stat_result]] = []
        stack = [(self.root, 0)]
        while stack and len(found) < limit:
            d, depth = stack.pop()
            try:
                entries = sorted(os.scandir(d), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.name.startswith("."):
                    continue
                try:
                    real = self.resolve(e.path)
                    st = os.stat(real)
                except (InputError, OSError):
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if depth < MAX_DEPTH and real == e.path:
                        stack.append((real, depth + 1))
                elif stat.S_ISREG(st.st_mode) and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS:
                    found.append((st.st_mtime, e.path, st))
                    if len(found) >= limit:
                        break
        found.sort(key=lambda t: (-t[0], t[1]))
        return [self._entry(p, st) for _, p, st in found]

"""Hashing one file: a pure function, path in, record out.

:func:`hash_file` has no state and returns a plain frozen dataclass, so any executor can map it
over a list of paths: a process pool today (``compare.index``), a cluster engine tomorrow. It is the
single definition of "the hashes of a file": ``scopecheck hash``, ``index``, ``search`` and
``compare`` all produce the same values for the same bytes.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from .digest import file_sha256, pixel_sha256
from .hashing import DEFAULT_HASH_SIZE, dhash
from .load import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, decode, read_bytes


@dataclass(frozen=True)
class HashRecord:
    path: str
    size: int          # bytes
    mtime_ns: int
    format: str
    width: int
    height: int
    channels: int
    dtype: str
    sha256: str        # of the file bytes
    pixel_sha256: str  # of the canonical decoded pixels (compare.digest)
    dhash: str         # dhash:<n>:<hex>
    flat: bool         # blank/flat frame: the dHash carries no information

    def to_json(self) -> dict:
        return asdict(self)


def hash_file(path: str | os.PathLike, *, hash_size: int = DEFAULT_HASH_SIZE,
              max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES) -> HashRecord:
    """Read, decode and hash one image file. Raises :class:`compare.errors.InputError` on bad input."""
    p = os.fspath(path)
    data = read_bytes(p, max_bytes=max_bytes)
    st = os.stat(p)
    img = decode(data, path=p, max_pixels=max_pixels, max_bytes=max_bytes)
    h = dhash(img.pixels, hash_size=hash_size)
    return HashRecord(path=p, size=len(data), mtime_ns=st.st_mtime_ns, format=img.format,
                      width=img.width, height=img.height, channels=img.channels, dtype=img.dtype,
                      sha256=file_sha256(data), pixel_sha256=pixel_sha256(img.pixels),
                      dhash=str(h), flat=h.flat)

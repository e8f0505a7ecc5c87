"""Hashing one file: a pure function, path in, record out.

:func:`hash_file` has no state and returns a plain frozen dataclass, so any executor can map it
over a list of paths (``compare.batch``: a process pool or a Dask cluster). It is the single
definition of "the hashes of a file": ``scopecheck hash``, ``index``, ``search``, ``dedupe`` and
``compare`` all produce the same values for the same bytes.

A record carries two independent similarity hashes computed from the same decode: ``dhash`` (8x8,
64 bits, what search and the index's Hamming kernels use) and ``dhash256`` (16x16, 256 bits, the
second test that confirms a candidate link before dedupe joins two files).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .digest import file_sha256, pixel_sha256
from .hashing import DEFAULT_HASH_SIZE, DHash, dhash_from_luma, luma
from .load import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, decode, read_bytes

#: Size of the second, finer dHash stored with every record (16x16 = 256 bits).
DHASH256_SIZE = 16


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
    dhash: DHash       # hash_size x hash_size bits (64 by default)
    dhash256: DHash    # 16x16 = 256 bits, from the same decode
    flat: bool         # blank/flat frame: the dHash carries no information
    pixel_sha256: str | None = None  # of the canonical decoded pixels (compare.digest); None = not computed

    def to_json(self) -> dict:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns, "format": self.format,
                "width": self.width, "height": self.height, "channels": self.channels, "dtype": self.dtype,
                "sha256": self.sha256, "pixel_sha256": self.pixel_sha256, "dhash": str(self.dhash),
                "dhash256": str(self.dhash256), "flat": self.flat}


def hash_file(path: str | os.PathLike, *, hash_size: int = DEFAULT_HASH_SIZE,
              max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
              pixels: bool = True) -> HashRecord:
    """Read, decode and hash one image file. Raises :class:`compare.errors.InputError` on bad input.

    ``pixels=False`` skips the pixel SHA-256 (``pixel_sha256`` is None).
    """
    p = os.fspath(path)
    data = read_bytes(p, max_bytes=max_bytes)
    st = os.stat(p)
    img = decode(data, path=p, max_pixels=max_pixels, max_bytes=max_bytes)
    y = luma(img.pixels)
    h = dhash_from_luma(y, hash_size=hash_size, max_value=img.max_value)
    h256 = dhash_from_luma(y, hash_size=DHASH256_SIZE, max_value=img.max_value)
    return HashRecord(path=p, size=len(data), mtime_ns=st.st_mtime_ns, format=img.format,
                      width=img.width, height=img.height, channels=img.channels, dtype=img.dtype,
                      sha256=file_sha256(data), dhash=h, dhash256=h256, flat=h.flat,
                      pixel_sha256=pixel_sha256(img.pixels) if pixels else None)

"""Hashing one file: a pure function, path in, record out.

:func:`hash_file` has no state and returns a plain frozen dataclass, so any executor can map it
over a list of paths (``compare.batch``: a process pool or a Dask cluster). It is the single
definition of "the hashes of a file": ``scopecheck hash``, ``index``, ``search``, ``dedupe`` and
``compare`` all produce the same values for the same bytes.

A record carries two independent similarity hashes computed from the same decode: ``dhash`` (8x8,
64 bits, what search and the index's Hamming kernels use) and ``dhash256`` (16x16, 256 bits, the
second test that confirms a candidate link before dedupe joins two files) -- and ``thumb``, the 32x32
normalised thumbnail that dedupe's link test correlates (:mod:`compare.thumbs`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .containers.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .digest import file_sha256, pages_sha256, pixel_sha256
from .hashing import DEFAULT_HASH_SIZE, FINE_HASH_SIZE, DHash, hash_luma, hashes_and_thumbnail, luma

#: Size of the second, finer dHash stored with every record (16x16 = 256 bits): the reduction rule's.
DHASH256_SIZE = FINE_HASH_SIZE


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
    thumb: bytes = b""  # 32x32 uint8 normalised luma thumbnail (compare.thumbs), from the same decode
    images: int = 1    # a stack's pages or an animation's frames (the dHashes are the first image's)

    def to_json(self) -> dict:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns, "format": self.format,
                "width": self.width, "height": self.height, "channels": self.channels, "dtype": self.dtype,
                "sha256": self.sha256, "pixel_sha256": self.pixel_sha256, "dhash": str(self.dhash),
                "dhash256": str(self.dhash256), "flat": self.flat, "images": self.images}


def hash_file(path: str | os.PathLike, *, hash_size: int = DEFAULT_HASH_SIZE,
              max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
              pixels: bool = False) -> HashRecord:
    """Read, decode and hash one image file. Raises :class:`compare.errors.InputError` on bad input.

    The dHashes follow the reduction rule of :mod:`compare.hashing`: a large JPEG is decoded only at
    the DCT-reduced scale, unless ``pixels`` asks for the pixel SHA-256 (which needs every pixel;
    ``pixels=False`` leaves it None, to be computed when needed).
    """
    from .load import check_input, decode, read_file, sniff_format  # the decoder (OpenCV) loads on first use

    p = os.fspath(path)
    data, st = read_file(p, max_bytes=max_bytes)  # st: the file read (its fstat), not a second lookup
    sha = file_sha256(data)  # while the bytes are fresh in the cache
    limits = {"max_pixels": max_pixels, "max_bytes": max_bytes}
    reduced = header = None
    if sniff_format(data[:16]) == "jpeg":  # other formats: decode() checks the header itself
        checked = check_input(data, path=p, **limits)
        header = checked[0]
        reduced = hash_luma(data, header, hash_size=hash_size, path=p, checked=checked, **limits)
    digest = None
    if reduced is not None and header is not None:  # a JPEG hashed from its reduced decode
        y = reduced.luma
        fmt, width, height, dtype = header.format, header.width, header.height, "uint8"
        channels = 1 if reduced.components == 1 else 3
        images = header.images
        if pixels:
            digest = pixel_sha256(decode(data, path=p, **limits).pixels)
    else:
        img = decode(data, path=p, **limits)
        y = luma(img.pixels)
        fmt, width, height, channels, dtype = img.format, img.width, img.height, img.channels, img.dtype
        images = img.images
        if pixels:
            digest = pages_sha256(img.digest_pages())
    (h, h256), thumb = hashes_and_thumbnail(y, sizes=(hash_size, DHASH256_SIZE))
    return HashRecord(path=p, size=len(data), mtime_ns=st.st_mtime_ns, format=fmt, width=width, height=height,
                      channels=channels, dtype=dtype, sha256=sha, dhash=h, dhash256=h256,
                      flat=h.flat, pixel_sha256=digest, thumb=thumb, images=images)


def pixel_digest(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The pixel SHA-256 of one file (a full decode): what a lazy record fills in when needed."""
    from .load import decode, read_bytes

    p = os.fspath(path)
    img = decode(read_bytes(p, max_bytes=max_bytes), path=p, max_pixels=max_pixels, max_bytes=max_bytes)
    return pages_sha256(img.digest_pages())


def pixel_digests(paths, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> list[str | None]:
    """:func:`pixel_digest` of each path (None where the file cannot be read or decoded now),
    decoded on a few threads (OpenCV releases the GIL while decoding)."""
    paths = list(paths)
    if not paths:
        return []
    from concurrent.futures import ThreadPoolExecutor

    from .errors import ScopecheckError

    def one(p):
        try:
            return pixel_digest(p, max_pixels=max_pixels, max_bytes=max_bytes)
        except ScopecheckError:
            return None

    if len(paths) < 2:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(max_workers=min(len(paths), len(os.sched_getaffinity(0)) or 1)) as ex:
        return list(ex.map(one, paths))

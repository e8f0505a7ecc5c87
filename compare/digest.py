"""File and pixel SHA-256 digests.

The **pixel digest** is SHA-256 over a canonical form of the decoded stored pixels (see
:mod:`compare.load` for the decoding policy)::

    b"scopecheck-pixels/1\\n" + b"<height>x<width>x<channels> <dtype>\\n" + samples

where ``channels`` is 1 for gray, 3 for BGR, 4 for BGRA, ``dtype`` is ``uint8`` or ``uint16`` (or
the stored type of a signed, 32-bit or floating-point file) and ``samples`` are the samples in
row-major order, channels interleaved in OpenCV's B, G, R(, A) order, multi-byte samples
little-endian. Equal pixels therefore give equal digests whatever the
container, compression level, chunk order or metadata, while an 8-bit and a 16-bit image (or a gray
and a BGR one) never share a digest.

A file of several images (a TIFF stack's pages, an animation's frames) is digested as the canonical
forms of its images one after the other, each with its own header line: a single image's digest is
the same as before, and two stacks share a digest only when every page is equal, in the same order.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:  # numpy loads with the first pixels digested
    import numpy as np

PIXEL_DIGEST_VERSION = "scopecheck-pixels/1"
#: Sample types digested: 8/16-bit unsigned as ever; signed, 32-bit and floating-point samples as
#: stored (compare.load.render16 makes the 16-bit rendering they are compared on), little-endian.
_DIGESTED = ("uint8", "uint16", "int8", "int16", "int32", "uint32", "float32", "float64")
#: What an index records of the digest's definition: single images as ever, and since stacks were
#: read whole, every image of a file (an index made before holds a stack's first page only: re-index).
PIXEL_DIGEST_RULE = f"{PIXEL_DIGEST_VERSION}, every image"


def file_sha256(data: bytes) -> str:
    """SHA-256 of raw bytes, as lowercase hex (what ``sha256sum`` prints)."""
    import hashlib  # on first use: reading an index needs no OpenSSL

    return hashlib.sha256(data).hexdigest()


def pixel_header(pixels: np.ndarray) -> bytes:
    h, w = pixels.shape[:2]
    c = 1 if pixels.ndim == 2 else pixels.shape[2]
    return f"{PIXEL_DIGEST_VERSION}\n{h}x{w}x{c} {pixels.dtype.name}\n".encode("ascii")


def pages_sha256(pages) -> str:
    """:func:`pixel_sha256` of a file's images in order (``compare.load.Image.digest_pages``)."""
    return pixel_sha256(pages[0], pages[1:])


def pixel_sha256(pixels: np.ndarray, more=()) -> str:
    """SHA-256 of the canonical pixel form described in the module docstring (``more``: the
    file's further images, :attr:`compare.load.Image.more`)."""
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for page in (pixels, *more):
        if page.dtype.name not in _DIGESTED:
            raise ValueError(f"pixel digest is defined for {', '.join(_DIGESTED)} samples, got {page.dtype}")
        h.update(pixel_header(page))
        arr = page.astype(page.dtype.newbyteorder("<"), copy=False) if page.dtype.itemsize > 1 else page
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        h.update(arr.data.cast("B"))
    return h.hexdigest()

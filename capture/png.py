"""Deterministic, metadata-free PNG, written without clobbering.

The encoder is written here with :mod:`zlib` and :mod:`struct` so that every byte is under our
control:

* chunks: ``IHDR``, one ``IDAT``, ``IEND`` -- nothing else (no time, text, gamma, sBIT or pHYs);
* colour type 0 (gray), 2 (RGB, from OpenCV's BGR) or 6 (RGBA, from BGRA); bit depth 8 or 16
  (16-bit samples big-endian, as PNG requires); no interlacing;
* every scanline uses filter 4 (Paeth), computed over the whole image at once;
* zlib settings are fixed (level 6, deflate, 32 KiB window, memLevel 9, default strategy), so
  identical pixels give identical bytes with the same zlib (its version goes in the manifest).

:func:`encode_png` verifies the round trip by decoding with :mod:`compare.load` (the only decoder)
and comparing pixels. :func:`write_new` writes atomically through :func:`compare.atomic.write_atomic`
(temporary file, ``fsync``, no-clobber hard link or ``os.replace`` with ``overwrite=True``,
directory ``fsync``), so an interruption never leaves a partial file under the target name.
"""
from __future__ import annotations

import os
import struct
import zlib
from typing import TypedDict

import numpy as np

from scopecheck.compare.atomic import write_atomic
from scopecheck.compare.containers import png as png_container
from scopecheck.compare.errors import InputError, OutputExistsError

PNG_SIGNATURE = png_container.SIGNATURE
_chunk = png_container.make_chunk  # the container layer's writer: length, type, body, CRC


class ZlibSettings(TypedDict):
    """Keyword arguments of :func:`zlib.compressobj` (recorded in the manifest)."""

    level: int
    method: int
    wbits: int
    memLevel: int  # zlib's own keyword
    strategy: int


ZLIB_SETTINGS = ZlibSettings(level=6, method=zlib.DEFLATED, wbits=15, memLevel=9, strategy=zlib.Z_DEFAULT_STRATEGY)


def _paeth_filter(raw: np.ndarray, bpp: int) -> np.ndarray:
    """Paeth-filtered scanlines (h x (1 + rowbytes)), filter byte 4 on every row."""
    x = raw.astype(np.int16)
    a = np.zeros_like(x)
    a[:, bpp:] = x[:, :-bpp]
    b = np.zeros_like(x)
    b[1:] = x[:-1]
    c = np.zeros_like(x)
    c[1:, bpp:] = x[:-1, :-bpp]
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
    out = np.empty((raw.shape[0], raw.shape[1] + 1), np.uint8)
    out[:, 0] = 4
    out[:, 1:] = (x - pred).astype(np.uint8)  # modulo 256
    return out


def encode_png(pixels: np.ndarray, *, verify: bool = True) -> bytes:
    """PNG bytes of an OpenCV-layout array (gray, BGR or BGRA; uint8 or uint16)."""
    if pixels.dtype not in (np.uint8, np.uint16):
        raise InputError(f"PNG needs uint8 or uint16 samples, got {pixels.dtype}")
    if pixels.ndim == 2:
        ctype, rgb = 0, pixels
    elif pixels.ndim == 3 and pixels.shape[2] == 3:
        ctype, rgb = 2, pixels[:, :, ::-1]
    elif pixels.ndim == 3 and pixels.shape[2] == 4:
        ctype, rgb = 6, pixels[:, :, [2, 1, 0, 3]]
    else:
        raise InputError(f"PNG needs a gray, BGR or BGRA array, got shape {pixels.shape}")
    h, w = pixels.shape[:2]
    if h == 0 or w == 0:
        raise InputError(f"cannot write an empty {w}x{h} image")
    depth = 8 if pixels.dtype == np.uint8 else 16
    samples = np.ascontiguousarray(rgb, dtype=">u2" if depth == 16 else np.uint8)
    raw = samples.view(np.uint8).reshape(h, -1)
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    bpp = channels * depth // 8
    comp = zlib.compressobj(**ZLIB_SETTINGS)
    idat = comp.compress(_paeth_filter(raw, bpp).tobytes()) + comp.flush()
    data = (PNG_SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
            + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    if verify:
        from scopecheck.compare.load import decode

        back = decode(data, path="<encoded PNG>").pixels
        if back.shape != pixels.shape or not np.array_equal(back, pixels):
            raise RuntimeError("PNG round trip changed the pixels; this is a bug in capture.png")
    return data


def chunk_types(data: bytes) -> list[str]:
    """The chunk types of PNG bytes in order, walked by the container layer (CRCs checked)."""
    if not data.startswith(PNG_SIGNATURE):
        raise InputError("not a PNG file")
    layout = png_container.walk(data, check_idat=True)
    bad = next((c for c in layout.chunks if not c.crc_ok), None)
    if bad is not None:
        raise InputError(f"bad CRC in {bad.name} chunk")
    if layout.error:
        raise InputError(f"truncated or corrupt PNG: {layout.error}")
    if layout.trailing:
        raise InputError(f"{layout.trailing} bytes after the IEND chunk")
    return [c.name for c in layout.chunks]


def write_new(path: str | os.PathLike, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically; refuse an existing path unless ``overwrite``.

    Delegates to :func:`compare.atomic.write_atomic` (temp file, fsync, no-clobber link or
    replace, directory fsync). Raises :class:`OutputExistsError` (exit 2) when ``path`` exists
    and ``overwrite`` is False.
    """
    p = os.fspath(path)
    try:
        write_atomic(p, data, overwrite=overwrite)
    except OutputExistsError:
        raise OutputExistsError("already exists; not overwriting it (pass --overwrite to replace it, "
                                "or use a name template such as shot_{n:03d}.png)", path=p) from None

"""The only place that reads and decodes image files.

Policy, applied by every command:

* **Limits before decoding.** The image header is parsed first and a file that declares more than
  ``max_pixels`` (default 100 megapixels) is refused before any pixel is decoded, so a
  decompression bomb costs microseconds, not gigabytes.
* **Stored pixels, not displayed pixels.** EXIF orientation is *not* applied: two files with the
  same stored pixels and different Orientation tags have the same pixel digest; the tag itself is
  reported as metadata (``EXIF Orientation``) and so shows up as a metadata difference.
* **Native depth and channels.** 8- and 16-bit, gray, BGR and BGRA are decoded as stored
  (``cv2.IMREAD_UNCHANGED``): gray stays 2-D, alpha is kept (it is part of the pixel digest, it is
  ignored by luma-based hashing and similarity). Floating-point and other sample types are refused.
* **Whole files only.** A PNG without IEND or a JPEG without its end-of-image marker is truncated
  and refused, even where the decoder would fill the missing rows with gray.
"""
from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass

import cv2
import numpy as np

from .errors import DecodeError, InputError, LimitError

DEFAULT_MAX_PIXELS = 100_000_000

try:  # keep the decoders' own warnings ("Premature end of JPEG file") off the user's terminal
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - older OpenCV builds
    pass


@dataclass(frozen=True)
class Header:
    """What a file declares before any pixel is decoded."""

    format: str  # png, jpeg, tiff, bmp, webp, gif, pnm
    width: int
    height: int


@dataclass(frozen=True, eq=False)
class Image:
    """A decoded image with the bytes it came from.

    ``pixels`` is the stored pixel array: ``(h, w)`` for gray, ``(h, w, 3)`` BGR, ``(h, w, 4)``
    BGRA, dtype ``uint8`` or ``uint16``.
    """

    path: str
    data: bytes
    format: str
    pixels: np.ndarray

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return 1 if self.pixels.ndim == 2 else int(self.pixels.shape[2])

    @property
    def dtype(self) -> str:
        return str(self.pixels.dtype)

    @property
    def max_value(self) -> int:
        """Largest representable sample: 255 or 65535; the SSIM/PSNR data range."""
        return int(np.iinfo(self.pixels.dtype).max)


# --------------------------------------------------------------------------- header parsing

def sniff_format(head: bytes) -> str | None:
    """Name of the container format from the first bytes, or None when it is not an image."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(head) >= 2 and head[0:1] == b"P" and head[1:2] in b"123456":
        return "pnm"
    return None


def _png_header(data: bytes) -> tuple[int, int]:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise DecodeError("truncated PNG: no IHDR chunk")
    w, h = struct.unpack(">II", data[16:24])
    # Walk the chunk list: a file cut short has no IEND.
    pos, n = 8, len(data)
    while pos + 8 <= n:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        pos += 12 + length
        if ctype == b"IEND":
            if pos > n:
                break
            return w, h
    raise DecodeError("truncated PNG: the file ends before its IEND chunk")


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_header(data: bytes) -> tuple[int, int]:
    pos, n = 2, len(data)
    size = None
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise DecodeError("corrupt JPEG: bad marker structure")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker in _SOF and pos + 9 <= n:
            h, w = struct.unpack(">HH", data[pos + 5:pos + 9])
            size = (w, h)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if size is None:
                raise DecodeError("corrupt JPEG: no frame header before the scan")
            if data.rfind(b"\xff\xd9", pos + 2 + length) < 0:
                raise DecodeError("truncated JPEG: no end-of-image marker")
            return size
        pos += 2 + length
    raise DecodeError("truncated JPEG: the file ends before the image data")


def _tiff_header(data: bytes) -> tuple[int, int]:
    e = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack(e + "I", data[4:8])
        (count,) = struct.unpack(e + "H", data[ifd:ifd + 2])
        w = h = None
        for i in range(count):
            off = ifd + 2 + 12 * i
            tag, typ = struct.unpack(e + "HH", data[off:off + 4])
            if typ == 3:
                (val,) = struct.unpack(e + "H", data[off + 8:off + 10])
            else:
                (val,) = struct.unpack(e + "I", data[off + 8:off + 12])
            if tag == 256:
                w = val
            elif tag == 257:
                h = val
    except struct.error:
        raise DecodeError("truncated TIFF: the first image directory is cut short") from None
    if not w or not h:
        raise DecodeError("corrupt TIFF: no image width/height tags")
    return w, h


def _bmp_header(data: bytes) -> tuple[int, int]:
    if len(data) < 26:
        raise DecodeError("truncated BMP header")
    (hsize,) = struct.unpack("<I", data[14:18])
    if hsize == 12:
        w, h = struct.unpack("<HH", data[18:22])
    else:
        w, h = struct.unpack("<ii", data[18:26])
    return abs(w), abs(h)


def _webp_header(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    try:
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            b = int.from_bytes(data[21:25], "little")
            return (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            w = int.from_bytes(data[24:27], "little") + 1
            h = int.from_bytes(data[27:30], "little") + 1
            return w, h
    except struct.error:
        pass
    raise DecodeError("truncated or unknown WebP header")


def _gif_header(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        raise DecodeError("truncated GIF header")
    return struct.unpack("<HH", data[6:10])


def _pnm_header(data: bytes) -> tuple[int, int]:
    fields, pos = [], 2
    while len(fields) < 2 and pos < min(len(data), 4096):
        c = data[pos:pos + 1]
        if c == b"#":
            pos = data.find(b"\n", pos)
            if pos < 0:
                break
        elif c.isdigit():
            end = pos
            while end < len(data) and data[end:end + 1].isdigit():
                end += 1
            fields.append(int(data[pos:end]))
            pos = end
            continue
        pos += 1
    if len(fields) < 2:
        raise DecodeError("truncated PNM header")
    return fields[0], fields[1]


_PARSERS = {"png": _png_header, "jpeg": _jpeg_header, "tiff": _tiff_header, "bmp": _bmp_header,
            "webp": _webp_header, "gif": _gif_header, "pnm": _pnm_header}


def read_header(data: bytes) -> Header:
    """Parse the declared format and size without decoding pixels.

    Raises :class:`DecodeError` for empty, unknown, truncated or header-only files.
    """
    if not data:
        raise DecodeError("empty file (0 bytes)")
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise DecodeError("not an image: unknown format (expected PNG, JPEG, TIFF, BMP, WebP, GIF or PNM)")
    w, h = _PARSERS[fmt](data)
    if w <= 0 or h <= 0:
        raise DecodeError(f"corrupt {fmt.upper()} header: size {w}x{h}")
    return Header(fmt, int(w), int(h))


# --------------------------------------------------------------------------- reading

def read_bytes(path: str | os.PathLike) -> bytes:
    """Read a regular file whole, turning OS errors into one-line :class:`InputError`."""
    p = os.fspath(path)
    try:
        with open(p, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise InputError("not a regular file", path=p)
            return f.read()
    except IsADirectoryError:
        raise InputError("is a directory, not an image file", path=p) from None
    except FileNotFoundError:
        raise InputError("no such file", path=p) from None
    except PermissionError:
        raise InputError("permission denied (cannot read)", path=p) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=p) from None


def check_header(data: bytes, *, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS) -> Header:
    """The guard every decode goes through: parse the header, refuse a size over ``max_pixels``."""
    try:
        header = read_header(data)
    except DecodeError as e:
        raise DecodeError(str(e), path=path) from None
    npix = header.width * header.height
    if npix > max_pixels:
        raise LimitError(
            f"declares {header.width}x{header.height} = {npix / 1e6:.1f} megapixels, over the limit "
            f"of {max_pixels / 1e6:g}; raise --max-pixels if the file is trusted", path=path)
    return header


def decode(data: bytes, *, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS) -> Image:
    """Decode image bytes after checking the declared size against ``max_pixels``."""
    header = check_header(data, path=path, max_pixels=max_pixels)
    buf = np.frombuffer(data, dtype=np.uint8)
    try:
        pixels = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except cv2.error:
        pixels = None
    if pixels is None:
        raise DecodeError(f"cannot decode this {header.format.upper()} file (corrupt or truncated)", path=path)
    if pixels.dtype not in (np.uint8, np.uint16):
        raise DecodeError(f"unsupported sample type {pixels.dtype}; only 8- and 16-bit images are handled",
                          path=path)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 3 and pixels.shape[2] not in (3, 4):
        raise DecodeError(f"unsupported channel count {pixels.shape[2]}", path=path)
    return Image(path=path, data=data, format=header.format, pixels=pixels)


def load(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image:
    """Read and decode one image file. Raises an :class:`InputError` subclass on bad input.

    >>> img = load("fixtures/compare/cell_repeat_a.png")  # doctest: +SKIP
    >>> img.width, img.height, img.dtype                 # doctest: +SKIP
    (320, 240, 'uint8')
    """
    p = os.fspath(path)
    return decode(read_bytes(p), path=p, max_pixels=max_pixels)


# --------------------------------------------------------------------------- reduced JPEG luma (hashing)

_REDUCED_GRAY = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
                 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


def jpeg_frame(data: bytes) -> tuple[int, int] | None:
    """``(sample precision, components)`` from a JPEG's frame header, None when there is none."""
    pos, n = 2, len(data)
    while pos + 10 <= n and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in _SOF:
            return data[pos + 4], data[pos + 9]
        if marker == 0xDA:
            return None
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return None


def decode_jpeg_luma(data: bytes, *, reduction: int, path: str = "<bytes>",
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The luma (Y) plane of an 8-bit JPEG decoded at ``1/reduction`` scale (2, 4 or 8).

    libjpeg's scaled inverse DCT produces it straight from the coefficients: at 1/8 each output
    pixel is the DC term, the mean of its 8x8 block, without decoding the full image; the output is
    ``ceil(width / reduction) x ceil(height / reduction)``. Stored orientation (EXIF ignored), same
    header guard as :func:`decode`. Which reduction to use is the hashing rule
    (:func:`compare.hashing.jpeg_reduction`).
    """
    if reduction not in _REDUCED_GRAY:
        raise ValueError(f"reduction must be 2, 4 or 8, got {reduction!r}")
    header = check_header(data, path=path, max_pixels=max_pixels)
    if header.format != "jpeg":
        raise DecodeError(f"a reduced decode is for JPEG files, this is {header.format.upper()}", path=path)
    flags = _REDUCED_GRAY[reduction] | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        y = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error:
        y = None
    if y is None or y.ndim != 2 or y.dtype != np.uint8:
        raise DecodeError("cannot decode this JPEG file (corrupt or truncated)", path=path)
    return y

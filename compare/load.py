"""The only place that reads and decodes image files.

Policy, applied by every command:

* **Limits before work.** A path is ``stat``-ed before it is opened: anything but a regular file
  (a directory, a FIFO, a device) is refused without opening it, and so is a file over
  ``max_bytes`` (default 1 GiB, ``--max-bytes``). The container structure is then walked by
  :mod:`compare.containers` (bounded chunk, segment, scan and directory-entry counts) and a file
  that declares more than ``max_pixels`` (default 100 megapixels, ``--max-pixels``) or less
  entropy-coded data than its declared size needs is refused before any pixel is decoded, so a
  decompression bomb costs microseconds, not gigabytes. Formats with no such floor whose decoder
  keeps a whole-image working copy (lossless/animated WebP, GIF) must also fit the memory
  ``max_pixels`` stands for, 3 bytes per pixel (:func:`compare.containers.limits.check_working_memory`).
  Every refusal names the limit.
* **Stored pixels, not displayed pixels.** EXIF orientation is *not* applied: two files with the
  same stored pixels and different Orientation tags have the same pixel digest; the tag itself is
  reported as metadata (``EXIF Orientation``) and so shows up as a metadata difference.
* **Native depth and channels.** 8- and 16-bit, gray, BGR and BGRA are decoded as stored
  (``cv2.IMREAD_UNCHANGED``): gray stays 2-D, alpha is kept (it is part of the pixel digest, it is
  ignored by luma-based hashing and similarity and compared on its own by
  :mod:`compare.transparency`). Signed, 32-bit and floating-point samples are
  compared on a 16-bit rendering made by a rule of their own values (:func:`render16`: whole numbers
  within 16 bits as they are or offset, floats within 0..1 scaled by 65535; anything else is
  refused with its range), while the pixel digest covers the samples as stored.
* **Whole files only.** A PNG without IEND, a JPEG whose scans stop before every coefficient is
  coded or whose entropy-coded data ends early (libjpeg's "premature end of data segment", even
  with an ``FF D9`` appended) is truncated and refused, even where the decoder would fill the
  missing rows with gray.
* **One line, ours.** libpng/libjpeg messages never reach the terminal (:mod:`compare.quiet`);
  when they explain a refusal they are quoted in our error.
* **Metadata never reaches the decoder.** libpng is given the pixel chunks of a PNG only (what
  ``strip`` keeps), so zTXt/iCCP bombs cost nothing at decode time; metadata is read by
  :mod:`compare.metadata` within its own budget.
"""
from __future__ import annotations

import functools
import math
import os
import re
import stat
from dataclasses import dataclass

import cv2
import numpy as np

from . import quiet
from .containers import Header, inspect, jpeg, read_header, sniff_format
from .containers.limits import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    Limits,
    check_bytes,
)
from .errors import DecodeError, InputError

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS", "Header", "Image", "Limits", "check_header", "check_input",
           "decode", "decode_jpeg_luma", "jpeg_frame", "load", "read_bytes", "read_file", "read_header",
           "sniff_format"]

try:  # keep OpenCV's own log lines off the user's terminal
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - older OpenCV builds
    pass


@dataclass(frozen=True, eq=False)
class Image:
    """A decoded image with the bytes it came from.

    ``pixels`` is the stored pixel array: ``(h, w)`` for gray, ``(h, w, 3)`` BGR, ``(h, w, 4)``
    BGRA, dtype ``uint8`` or ``uint16``. A file of several images (a TIFF stack's pages, an
    animation's frames) has its first in ``pixels`` and the others, in order, in ``more``.
    """

    path: str
    data: bytes
    format: str
    pixels: np.ndarray
    more: tuple = ()
    source: tuple | None = None  # the stored samples of every image when not 8/16-bit (load.render16)
    stretched: tuple | None = None  # (lowest, highest) stored value a rendering was stretched from

    @property
    def images(self) -> int:
        """How many images the file holds: 1, or a stack's pages / an animation's frames."""
        return 1 + len(self.more)

    def page(self, k: int) -> np.ndarray:
        """Image ``k`` (0-based) of the file."""
        return self.pixels if k == 0 else self.more[k - 1]

    def stored(self, k: int = 0) -> np.ndarray:
        """Image ``k``'s samples as stored (what its pixel digest covers): the pixels themselves,
        or for signed, 32-bit and floating-point files the samples they were rendered from."""
        return self.page(k) if self.source is None else self.source[k]

    def digest_pages(self) -> tuple:
        """Every image's stored samples, in order: what :func:`compare.digest.pixel_sha256` digests."""
        return (self.pixels, *self.more) if self.source is None else self.source

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
        """The stored sample type (``float32`` for a float file, whose pixels are its 16-bit rendering)."""
        return str(self.stored().dtype)

    @property
    def max_value(self) -> int:
        """Largest representable sample: 255 or 65535; the SSIM/PSNR data range."""
        return int(np.iinfo(self.pixels.dtype).max)


# --------------------------------------------------------------------------- reading

_KINDS = ((stat.S_ISDIR, "is a directory, not an image file"),
          (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file; refusing to read it"),
          (stat.S_ISCHR, "is a character device, not a regular file; refusing to read it"),
          (stat.S_ISBLK, "is a block device, not a regular file; refusing to read it"),
          (stat.S_ISSOCK, "is a socket, not a regular file; refusing to read it"))


def _check_regular(st: os.stat_result, path: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        for test, words in _KINDS:
            if test(st.st_mode):
                raise InputError(words, path=path)
        raise InputError("not a regular file", path=path)


def _nonblocking(path, flags):  # a FIFO swapped in after the stat cannot block the open
    return os.open(path, flags | os.O_NONBLOCK)


def read_bytes(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a regular file whole, after ``stat`` shows it is one and no larger than ``max_bytes``.

    OS errors become one-line :class:`InputError`; a file over ``max_bytes`` a
    :class:`LimitError` naming ``--max-bytes``. Directories, FIFOs, devices and sockets are
    refused without being opened, so they can never hang the caller.
    """
    return read_file(path, max_bytes=max_bytes)[0]


def read_file(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, os.stat_result]:
    """:func:`read_bytes`, and the ``fstat`` of the file it read (its size and mtime: no second ``stat``)."""
    p = os.fspath(path)
    limits = _limits(max_bytes, DEFAULT_MAX_PIXELS)
    try:
        st = os.stat(p)
        _check_regular(st, p)
        check_bytes(st.st_size, limits)
        with open(p, "rb", opener=_nonblocking) as f:
            st = os.fstat(f.fileno())
            _check_regular(st, p)
            data = f.read(st.st_size + 1)  # one allocation of the stated size
            if len(data) > st.st_size:  # it grew since the stat: read on, up to the limit
                data += f.read(max_bytes + 1 - len(data))
        check_bytes(len(data), limits)
        return data, st
    except InputError as e:
        if e.path is None:
            raise type(e)(str(e), path=p) from None
        raise
    except ValueError:  # os.stat: embedded NUL byte
        raise InputError("the path contains a NUL byte", path=p.replace("\0", "\\0")) from None
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("no such file", path=p) from None
    except IsADirectoryError:
        raise InputError("is a directory, not an image file", path=p) from None
    except PermissionError:
        raise InputError("permission denied (cannot read)", path=p) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=p) from None


# --------------------------------------------------------------------------- decoding

# libjpeg warnings that mean the pixels are not what the file should hold (data missing or
# corrupt); the decoder fills such blocks with gray and carries on. Other warnings (extraneous
# bytes before a marker, odd SOS parameters) leave the pixels intact.
_JPEG_BAD = re.compile(r"Premature end of JPEG file|Corrupt JPEG data: (premature end|bad Huffman|"
                       r"bad arithmetic|found marker)")


def _imdecode(buf: np.ndarray, fmt: str, flags: int = cv2.IMREAD_UNCHANGED) -> tuple[np.ndarray | None, str | None]:
    """(pixels or None, the decoder's reason to refuse or None), decoder messages captured."""
    def attempt():
        with quiet.captured() as m:
            try:
                px = cv2.imdecode(buf, flags)
            except cv2.error:
                px = None
        line = quiet.first_line(m.text)
        if px is None:
            return px, line or "no reason given", m.overlapped
        if fmt == "jpeg" and m.text:
            bad = next((ln.strip() for ln in m.text.splitlines() if _JPEG_BAD.search(ln)), None)
            if bad:
                return px, bad, m.overlapped
        return px, None, False

    pixels, problem, overlapped = attempt()
    if problem and overlapped:  # another decode shared the window: confirm the message is ours
        with quiet.solo():
            pixels, problem, _ = attempt()
    return pixels, problem


@functools.lru_cache(maxsize=8)
def _limits(max_bytes: int, max_pixels: int) -> Limits:
    """One frozen Limits per pair of options (a file's walk is remembered under its limits)."""
    return Limits(max_bytes=max_bytes, max_pixels=max_pixels)


def _inspect(data: bytes, *, path: str, max_pixels: int, max_bytes: int) -> tuple[Header, bytes]:
    limits = _limits(max_bytes, max_pixels)
    try:
        check_bytes(len(data), limits)
        return inspect(data, limits=limits)
    except InputError as e:
        raise type(e)(str(e), path=path) from None


def check_input(data: bytes, *, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS,
                max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[Header, bytes]:
    """:func:`check_header`, plus the bytes to hand the decoder (what :func:`decode` decodes)."""
    return _inspect(data, path=path, max_pixels=max_pixels, max_bytes=max_bytes)


def check_header(data: bytes, *, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> Header:
    """The guard every decode goes through: bytes, structure, declared pixels and data, bounded.

    Raises :class:`DecodeError` (truncated, corrupt, implausible) or :class:`LimitError` (over
    ``max_bytes``, ``max_pixels`` or a structure limit), with ``path`` in the message.
    """
    return _inspect(data, path=path, max_pixels=max_pixels, max_bytes=max_bytes)[0]


def _channels(pixels: np.ndarray, path: str) -> np.ndarray:
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 3 and pixels.shape[2] not in (3, 4):
        raise DecodeError(f"unsupported channel count {pixels.shape[2]}", path=path)
    return pixels


_ROWS = 256  # rows at a time: the temporaries of a wide image stay small beside it


def _span(arrays) -> tuple[float, float, bool]:
    """(lowest, highest, all whole numbers) over the samples of ``arrays`` (finite, checked first)."""
    lo, hi, whole = math.inf, -math.inf, True
    for x in arrays:
        if x.size:
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        if x.dtype.kind == "f":
            whole = whole and all(np.array_equal(x[r:r + _ROWS], np.round(x[r:r + _ROWS]))
                                  for r in range(0, x.shape[0], _ROWS))
    return (0.0, 0.0, whole) if lo > hi else (lo, hi, whole)


def _finite(samples: np.ndarray, path: str) -> None:
    if samples.dtype.kind == "f" and not np.isfinite(samples).all():
        raise DecodeError(f"{samples.dtype} samples include NaN or infinite values; save a copy without them "
                          f"(8- or 16-bit) to compare it", path=path)


def render16(samples: np.ndarray, path: str = "<array>", *, span: tuple[float, float, bool] | None = None
             ) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The 16-bit rendering of samples stored as another type (signed, 32-bit, floating point), and
    the range it was stretched from (None when the values were kept):

    * whole numbers within 0..65535 are taken as they are (a 16-bit image saved as 32-bit);
    * whole numbers within -32768..32767 are offset by 32768 (signed 16-bit samples);
    * floating-point values within 0..1 are scaled by 65535 and rounded (normalised images);
    * any other finite values (a processed image in its own units) are stretched from their own
      range, lowest to 0 and highest to 65535: such a file is compared up to a gain and an offset
      (the reason then names no exposure or level change);
    * NaN or infinite values are refused.

    ``span``: :func:`_span` of every image of the file (a stack is rendered by one rule). The file's
    pixel digest stays that of its stored samples (:mod:`compare.digest`)."""
    kind = samples.dtype
    if span is None:
        _finite(samples, path)
    lo, hi, whole = span or _span([samples])
    out = np.empty(samples.shape, np.uint16)
    if whole and lo >= 0 and hi <= 65535:
        shift, scale, stretched = 0.0, 1.0, None
    elif whole and lo >= -32768 and hi <= 32767:
        shift, scale, stretched = -32768.0, 1.0, None
    elif kind.kind == "f" and lo >= 0 and hi <= 1:
        shift, scale, stretched = 0.0, 65535.0, None
    else:
        shift, scale, stretched = lo, (65535.0 / (hi - lo) if hi > lo else 0.0), (lo, hi)
    for r in range(0, samples.shape[0], _ROWS):  # in blocks of rows: no whole-image float64 copies
        block = (samples[r:r + _ROWS].astype(np.float64) - shift) * scale
        np.rint(block, out=block)
        out[r:r + _ROWS] = block
    return out, stretched


_OTHER_TYPES = (np.int8, np.int16, np.int32, np.uint32, np.float32, np.float64)


def _stored(pixels: np.ndarray, path: str) -> np.ndarray:
    """A decoded image checked for what is handled (gray, BGR, BGRA; gray made 2-D; 8/16-bit, or
    a type :func:`render16` renders)."""
    pixels = _channels(pixels, path)
    if pixels.dtype not in (np.uint8, np.uint16) and pixels.dtype not in _OTHER_TYPES:
        raise DecodeError(f"unsupported sample type {pixels.dtype}", path=path)
    return pixels  # NaN and infinities: refused by render16


def _image(path: str, data: bytes, fmt: str, pages: list[np.ndarray]) -> Image:
    """The Image of a file's stored pages: 8/16-bit as they are, others rendered by one rule for all."""
    if all(p.dtype in (np.uint8, np.uint16) for p in pages):
        return Image(path=path, data=data, format=fmt, pixels=pages[0], more=tuple(pages[1:]))
    if len({p.dtype for p in pages}) > 1:
        raise DecodeError("pages of mixed sample types are not handled", path=path)
    for p in pages:  # before the span, which NaN would make meaningless
        _finite(p, path)
    span = _span(pages)
    rendered = [render16(p, path, span=span) for p in pages]
    return Image(path=path, data=data, format=fmt, pixels=rendered[0][0], more=tuple(r for r, _ in rendered[1:]),
                 source=tuple(pages), stretched=rendered[0][1])


def _decode_all(buf: np.ndarray, header: Header, path: str) -> list[np.ndarray]:
    """Every image of a stack or an animation (``header.images`` of them, bounded together by the
    pixel limit before this runs), decoder messages captured."""
    fmt = header.format.upper()
    with quiet.captured() as m:
        try:
            ok, pages = cv2.imdecodemulti(buf, cv2.IMREAD_UNCHANGED)
        except cv2.error:
            ok, pages = False, []
    if not ok or not pages:
        raise DecodeError(f"cannot decode this {fmt} file's {header.images} images (corrupt or truncated: "
                          f"{quiet.first_line(m.text) or 'no reason given'})", path=path)
    if header.pages:
        pages = [pages[i] for i in header.pages if i < len(pages)]
    if len(pages) not in (header.images, header.images + 1):  # + 1: an APNG's default image beside its frames
        raise DecodeError(f"corrupt {fmt}: declares {header.images} images, {len(pages)} decode", path=path)
    return [_stored(p, path) for p in _tifffile_pages(buf, header, list(pages), path)]


def _tifffile_pages(buf: np.ndarray, header: Header, pages: list[np.ndarray], path: str) -> list[np.ndarray]:
    """``pages`` with the TIFF images OpenCV 5 decodes wrongly (``Header.misdecoded``) decoded again by
    tifffile: samples wider than 8 bits stored plane by plane come out scrambled (an RGB 16-bit or
    float image's samples nearly all wrong, and not even the same from one decode to the next), and
    8-bit RGBA with unassociated alpha has its colour premultiplied by the alpha (which a PNG of the
    same pixels does not). The file's sizes were checked against the limits before
    (:mod:`compare.containers.tiff`). Channels in OpenCV's order (BGR, BGRA)."""
    if not header.misdecoded:
        return pages
    import io

    import tifffile

    try:
        with tifffile.TiffFile(io.BytesIO(buf.tobytes())) as tf:
            for k in header.misdecoded:
                page = tf.pages[header.pages[k] if header.pages else k]
                x = np.asarray(page.asarray())
                if int(page.planarconfig) == 2:  # (samples, y, x) -> (y, x, samples)
                    x = np.moveaxis(x, 0, -1)
                if x.ndim != 3 or x.shape[2] not in (3, 4) or page.photometric != 2:  # RGB(A) only
                    raise ValueError(f"{x.shape[-1]} samples of photometric {int(page.photometric)}")
                x = x[..., [2, 1, 0, 3][:x.shape[2]]]
                pages[k] = np.ascontiguousarray(x.astype(x.dtype.newbyteorder("=")))
    except Exception as e:  # tifffile's own errors are of many kinds; any one means not decoded here
        raise DecodeError(f"cannot decode this TIFF's image stored plane by plane or with unassociated alpha "
                          f"({str(e).splitlines()[0][:120] if str(e) else type(e).__name__}); convert it to an "
                          "interleaved TIFF or a PNG first", path=path) from None
    return pages


def decode(data: bytes, *, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS,
           max_bytes: int = DEFAULT_MAX_BYTES) -> Image:
    """Decode image bytes after :func:`check_header`; libpng/libjpeg complaints become our error.

    Every image of a file is decoded: a TIFF stack's pages and an animation's frames are
    ``Image.more`` (their pixels are part of the file's pixel digest)."""
    header, decoder_input = _inspect(data, path=path, max_pixels=max_pixels, max_bytes=max_bytes)
    fmt = header.format.upper()
    buf = np.frombuffer(decoder_input, dtype=np.uint8)
    if header.images > 1:
        return _image(path, data, header.format, _as_displayed(header, _decode_all(buf, header, path)))
    pixels, problem = _imdecode(buf, header.format)
    if pixels is None:
        raise DecodeError(f"cannot decode this {fmt} file (corrupt or truncated: {problem})", path=path)
    if problem:
        what = "truncated" if "remature" in problem else "corrupt"
        raise DecodeError(f"{what} {fmt}: the image data does not decode whole ({problem})", path=path)
    pixels = _tifffile_pages(buf, header, [pixels], path)[0]
    return _image(path, data, header.format, _as_displayed(header, [_stored(pixels, path)]))


def _as_displayed(header: Header, pages: list[np.ndarray]) -> list[np.ndarray]:
    """A 16-bit MinIsWhite TIFF page inverted, as OpenCV already inverts an 8-bit one
    (``Header.white``, from the directories the guard walked): the same picture at either depth."""
    if not header.white:
        return pages
    return [np.subtract((1 << b) - 1, np.minimum(p, (1 << b) - 1), dtype=p.dtype) if b and p.dtype == np.uint16
            else p for p, b in zip(pages, header.white + (0,) * (len(pages) - len(header.white)))]


def load(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS,
         max_bytes: int = DEFAULT_MAX_BYTES) -> Image:
    """Read and decode one image file. Raises an :class:`InputError` subclass on bad input.

    >>> img = load("fixtures/compare/cell_repeat_a.png")  # doctest: +SKIP
    >>> img.width, img.height, img.dtype                 # doctest: +SKIP
    (320, 240, 'uint8')
    """
    p = os.fspath(path)
    return decode(read_bytes(p, max_bytes=max_bytes), path=p, max_pixels=max_pixels, max_bytes=max_bytes)


# --------------------------------------------------------------------------- reduced JPEG luma (hashing)

_REDUCED_GRAY = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
                 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


def jpeg_frame(data: bytes) -> tuple[int, int] | None:
    """``(sample precision, components)`` of a JPEG's frame header (the container walker's, from
    the walk already made of these bytes or one stopped at the first scan), None when there is none."""
    frame = jpeg.frame_header(data)
    return None if frame is None else (frame.precision, len(frame.components))


def decode_jpeg_luma(data: bytes, *, reduction: int, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS,
                     max_bytes: int = DEFAULT_MAX_BYTES, checked: tuple[Header, bytes] | None = None) -> np.ndarray:
    """The luma (Y) plane of an 8-bit JPEG decoded at ``1/reduction`` scale (2, 4 or 8).

    libjpeg's scaled inverse DCT produces it straight from the coefficients: at 1/8 each output
    pixel is the DC term, the mean of its 8x8 block, without decoding the full image; the output is
    ``ceil(width / reduction) x ceil(height / reduction)``. Stored orientation (EXIF ignored); the
    same header guard and decoder-message checks as :func:`decode` (``checked``: what
    :func:`check_input` returned for these bytes with these limits, so the file is walked once).
    Which reduction to use is the hashing rule (:func:`compare.hashing.jpeg_reduction`).
    """
    if reduction not in _REDUCED_GRAY:
        raise ValueError(f"reduction must be 2, 4 or 8, got {reduction!r}")
    header, decoder_input = checked or check_input(data, path=path, max_pixels=max_pixels, max_bytes=max_bytes)
    if header.format != "jpeg":
        raise DecodeError(f"a reduced decode is for JPEG files, this is {header.format.upper()}", path=path)
    flags = _REDUCED_GRAY[reduction] | cv2.IMREAD_IGNORE_ORIENTATION
    y, problem = _imdecode(np.frombuffer(decoder_input, dtype=np.uint8), "jpeg", flags)
    if y is None or y.ndim != 2 or y.dtype != np.uint8:
        raise DecodeError(f"cannot decode this JPEG file (corrupt or truncated: {problem})", path=path)
    if problem:
        what = "truncated" if "remature" in problem else "corrupt"
        raise DecodeError(f"{what} JPEG: the image data does not decode whole ({problem})", path=path)
    return y

"""The only walkers of image container structure (PNG, JPEG, TIFF, WebP; BMP/GIF/PNM headers).

Every walker is bounded by :class:`Limits` (chunks, segments, scans, directory entries) and
always advances, so hostile structure costs at most a linear pass over at most ``max_bytes``.
:func:`read_header` is the gate :mod:`compare.load` applies before any pixel is decoded;
:mod:`compare.metadata`, :mod:`compare.strip` and ``capture.png`` use the same walkers.
"""
from __future__ import annotations

from ..errors import DecodeError
from ..frozen import dataclass
from .limits import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    Limits,
    check_pixels,
    check_stack_pixels,
    check_working_memory,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "Header",
    "Limits",
    "inspect",
    "jpeg",
    "png",
    "read_header",
    "sniff_format",
    "tiff",
    "webp",
]

FORMATS = ("png", "jpeg", "tiff", "bmp", "webp", "gif", "pnm")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:
    from . import jpeg, png, tiff, webp

_WALKERS = ("jpeg", "other", "png", "tiff", "webp")


def __getattr__(name: str):
    """The walker modules load on first use: listing a folder of images needs none of them."""
    if name in _WALKERS:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Header:
    """What a file declares before any pixel is decoded."""

    format: str  # png, jpeg, tiff, bmp, webp, gif, pnm
    width: int
    height: int
    images: int = 1     # TIFF pages (full resolution), animation frames
    pages: tuple = ()   # a TIFF stack's images among the decoder's pages (it yields every directory)
    white: tuple = ()   # per image: BitsPerSample of a 9-16-bit MinIsWhite TIFF image, else 0 (() for none)
    misdecoded: tuple = ()  # the images (0-based, among ``images``) of a TIFF that OpenCV decodes wrongly (tiff._misdecoded)


def sniff_format(head: bytes) -> str | None:
    """Name of the container format from the first bytes, or None when it is not an image."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
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


#: Formats a lab meets that we do not read, by their signature: (test on the first bytes, name).
_FOREIGN = (
    (lambda h: h[4:8] == b"ftyp" and h[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"),
     "HEIF/HEIC"),
    (lambda h: h[4:8] == b"ftyp" and h[8:12] in (b"avif", b"avis"), "AVIF"),
    (lambda h: h.startswith(b"\xff\x0a") or h.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"), "JPEG XL"),
    (lambda h: h.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or h.startswith(b"\xff\x4f\xff\x51"), "JPEG 2000"),
    (lambda h: h.startswith(b"\x76\x2f\x31\x01"), "OpenEXR"),
    (lambda h: h.startswith((b"#?RADIANCE", b"#?RGBE")), "Radiance HDR"),
    (lambda h: h.startswith(b"ZISRAWFILE"), "Zeiss CZI"),
    (lambda h: h.startswith(b"\xda\xce\xbe\x0a"), "Nikon ND2"),
    (lambda h: h.startswith(b"SIMPLE  ="), "FITS"),
    (lambda h: h.startswith(b"%PDF"), "PDF"),
    (lambda h: h.startswith(b"PK\x03\x04"), "ZIP archive"),
    (lambda h: h.startswith(b"8BPS"), "Photoshop PSD"),
)


def foreign_format(data: bytes) -> str | None:
    """The name of a known format that is not read here (HEIC, AVIF, JPEG XL, JPEG 2000, OpenEXR,
    Radiance HDR, Zeiss CZI, Nikon ND2, FITS, DICOM, PDF, ZIP, PSD), or None."""
    head = data[:32]
    for test, name in _FOREIGN:
        if test(head):
            return name
    if data[128:132] == b"DICM":
        return "DICOM"
    return None


def read_header(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Header:
    """Parse the declared format and size without decoding pixels.

    Raises :class:`DecodeError` for empty, unknown, truncated, inconsistent or header-only files
    and :class:`LimitError` for files over ``limits`` (pixels, segments, scans).
    """
    return inspect(data, limits=limits, decoder_input=False)[0]


def inspect(data: bytes, *, limits: Limits = DEFAULT_LIMITS, decoder_input: bool = True) -> tuple[Header, bytes]:
    """:func:`read_header` plus the bytes to hand the decoder (PNG: pixel chunks only)."""
    if not data:
        raise DecodeError("empty file (0 bytes)")
    fmt = sniff_format(data[:16])
    if fmt is None:
        foreign = foreign_format(data)
        if foreign is not None:
            raise DecodeError(f"not an image format read here: {foreign} (expected PNG, JPEG, TIFF, BMP, WebP, "
                              "GIF or PNM; convert it to PNG or TIFF first)")
        raise DecodeError("not an image: unknown format (expected PNG, JPEG, TIFF, BMP, WebP, GIF or PNM)")
    decoder_bytes = data
    images, sizes = 1, None
    pages: tuple[int, ...] = ()
    white: tuple[int, ...] = ()
    misdecoded: tuple[int, ...] = ()
    if fmt == "jpeg":
        from . import jpeg

        w, h = jpeg.header(data, limits=limits)
    elif fmt == "png":
        from . import png

        w, h, decoder_bytes = png.inspect(data, limits=limits, decoder_input=decoder_input)
        images = png.frames(data, limits=limits)
    elif fmt == "tiff":
        from . import tiff

        if not decoder_input:
            w, h = tiff.header(data, limits=limits)
        else:  # every image's directory, the first one's checks (tiff.header's) included
            directories, found = tiff.pages(data, limits=limits)
            w, h = found[0][1], found[0][2]
            images, sizes = len(found), [(pw, ph) for _, pw, ph, _, _ in found]
            white = tuple(bits for *_, bits, _ in found) if any(bits for *_, bits, _ in found) else ()
            misdecoded = tuple(i for i, (*_, wrong) in enumerate(found) if wrong)
            if directories > images:  # reduced-resolution directories between the images
                pages = tuple(i for i, *_ in found)
    elif fmt == "webp":
        from . import webp

        w, h = webp.header(data, limits=limits)
        images = webp.frames(data, limits=limits)
    else:
        from . import other

        w, h = {"bmp": other.bmp_header, "gif": other.gif_header, "pnm": other.pnm_header}[fmt](data)
        if fmt == "gif":
            images = other.gif_frames(data, limits=limits)
    if w <= 0 or h <= 0:
        raise DecodeError(f"corrupt {fmt.upper()} header: size {w}x{h}")
    check_pixels(w, h, limits)
    if fmt == "gif":  # OpenCV keeps a 1-byte index image and a 4-byte BGRA canvas beside the output
        check_working_memory(w, h, bytes_per_pixel=1 + 4 + 3, what="GIF", limits=limits)
    if images > 1:  # every image is decoded: all of them together within max_pixels
        check_stack_pixels(sizes or [(w, h)] * images, limits)
    return Header(fmt, int(w), int(h), images, pages, white, misdecoded), decoder_bytes

"""Remove the metadata of JPEG and PNG files without re-encoding, pixels verified unchanged.

:func:`strip_metadata` copies the kept JPEG segments and the entropy-coded data, or the kept PNG
chunks, byte for byte, from the structure :mod:`compare.containers` walks (the same walkers the
loader uses, so everything strip accepts the loader accepts). :func:`strip_verified` also decodes
the result and refuses when the pixel digest would change. What counts as metadata is defined in
:mod:`compare.metadata`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .containers import FORMATS, jpeg, png, sniff_format
from .containers.limits import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    Limits,
)
from .digest import file_sha256, pixel_sha256
from .errors import DecodeError, InputError
from .load import decode
from .metadata import is_jpeg_metadata, read_metadata

__all__ = ["STRIP_FORMATS", "StripResult", "strip_metadata", "strip_verified"]

#: Formats :func:`strip_metadata` can rewrite without re-encoding.
STRIP_FORMATS = ("jpeg", "png")


def _validate_for_strip(data: bytes, fmt: str, limits: Limits) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not data:
        raise DecodeError("empty file (0 bytes)")
    actual = sniff_format(data[:16])
    if actual is None:
        raise DecodeError("not an image: unknown format (strip handles JPEG and PNG)")
    if actual != fmt:
        raise InputError(f"the bytes are {actual.upper()}, not {fmt.upper()} as stated")
    if fmt not in STRIP_FORMATS:
        raise InputError(f"cannot strip {fmt.upper()}: strip handles JPEG and PNG only, the formats "
                         "it can rewrite without re-encoding; convert to PNG first")


def strip_metadata(data: bytes, fmt: str, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The same image without its metadata, never re-encoded.

    Parameters
    ----------
    data : bytes
        A whole JPEG or PNG file.
    fmt : str
        ``"jpeg"`` or ``"png"`` (as :func:`compare.load.sniff_format` names them); it must match
        the bytes.

    Returns
    -------
    bytes
        JPEG: SOI, then every segment except APP0..APP13, APP15 and COM (the Adobe APP14 segment
        stays: it selects the colour transform), the entropy-coded data and EOI, copied byte for
        byte; bytes between segments and after EOI are dropped. PNG: the signature and the IHDR,
        PLTE, tRNS, IDAT and IEND chunks (and an animated PNG's acTL, fcTL and fdAT) in their
        original order, byte for byte; everything after
        IEND is dropped. ``read_metadata`` of the result is empty.

    Raises
    ------
    DecodeError
        Empty, not an image, truncated or structurally broken input.
    InputError
        Another format (TIFF, WebP, GIF, BMP, PNM are refused, not copied), or ``fmt`` that does
        not match the bytes.

    Notes
    -----
    Decoded pixels do not depend on what is removed for files written by ordinary encoders, but
    a 3-component JPEG whose components are labelled 'R', 'G', 'B' is decoded as YCbCr only while
    its JFIF segment is present. Use :func:`strip_verified`, which decodes both and refuses such
    a file, unless the caller checks the pixels itself.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> ok, png = cv2.imencode(".png", np.zeros((4, 4), np.uint8))
    >>> read_metadata(strip_metadata(png.tobytes(), "png"), "png")
    {}
    """
    _validate_for_strip(data, fmt, limits)
    # One walk, with the loader's truncation and size checks (DecodeError, LimitError).
    if fmt == "jpeg":
        w, h, layout = jpeg.inspect(data, limits=limits)
        kept = (data[s.start:s.end] for s in layout.segments if not is_jpeg_metadata(data, s))
        out = b"\xff\xd8" + b"".join(kept)
    else:
        w, h, out = png.inspect(data, limits=limits)  # the pixel chunks only: what the decoder gets
    if w <= 0 or h <= 0:
        raise DecodeError(f"corrupt {fmt.upper()} header: size {w}x{h}")
    return out


@dataclass(frozen=True)
class StripResult:
    """Outcome of :func:`strip_verified`: the stripped bytes and what changed."""

    format: str
    data: bytes = field(repr=False)
    removed: tuple[str, ...]   # metadata keys present before and gone after
    sha256_before: str
    sha256_after: str
    pixel_sha256: str          # the same before and after, by construction

    @property
    def changed(self) -> bool:
        return self.sha256_before != self.sha256_after

    def to_json(self) -> dict:
        return {"format": self.format, "removed": list(self.removed),
                "sha256_before": self.sha256_before, "sha256_after": self.sha256_after,
                "pixel_sha256": self.pixel_sha256}


def strip_verified(data: bytes, *, path: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> StripResult:
    """Decode, strip, decode again and refuse unless the pixel digest is unchanged.

    Parameters
    ----------
    data : bytes
        The whole file (JPEG or PNG).
    path : str, optional
        Used in error messages only.
    max_pixels, max_bytes : int, optional
        Input limits, as in :func:`compare.load.decode`.

    Returns
    -------
    StripResult

    Raises
    ------
    DecodeError, LimitError
        The input does not decode.
    InputError
        An unsupported format, or stripping would change the decoded pixels (the message gives
        both pixel digests); nothing should be written then.
    """
    limits = Limits(max_bytes=max_bytes, max_pixels=max_pixels)
    before = decode(data, path=path, max_pixels=max_pixels, max_bytes=max_bytes)
    try:
        out = strip_metadata(data, before.format, limits=limits)
    except InputError as e:  # DecodeError included: attach the path
        raise type(e)(str(e), path=path) from None
    digest = pixel_sha256(before.pixels, before.more)
    try:
        after = decode(out, path=path, max_pixels=max_pixels, max_bytes=max_bytes)
    except InputError as e:
        raise InputError(f"refusing to strip: the result would not decode ({e})", path=path) from None
    digest_after = pixel_sha256(after.pixels, after.more)
    if digest_after != digest:
        raise InputError(f"refusing to strip: the decoded pixels would change (pixel sha256 "
                         f"{digest[:12]} -> {digest_after[:12]}); this file needs one of its "
                         f"metadata segments to decode", path=path)
    md_before = read_metadata(data, before.format, limits=limits)
    md_after = read_metadata(out, before.format, limits=limits)
    removed = tuple(k for k in md_before if k not in md_after)
    return StripResult(format=before.format, data=out, removed=removed,
                       sha256_before=file_sha256(data), sha256_after=file_sha256(out),
                       pixel_sha256=digest)

"""WebP (RIFF) chunk structure: a bounded walker and the image header."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import DecodeError, LimitError
from .limits import DEFAULT_LIMITS, Limits, check_image_count, check_pixels, check_working_memory

IMAGE_CHUNKS = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"})


@dataclass(frozen=True)
class RiffChunk:
    fourcc: bytes
    start: int  # offset of the fourcc
    size: int   # declared body size

    def body(self, data: bytes) -> bytes:
        return data[self.start + 8:self.start + 8 + self.size]


def walk(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[list[RiffChunk], str | None]:
    """(chunks, error or None) of a RIFF/WEBP file; raises only LimitError."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return [], "no RIFF/WEBP header"
    chunks: list[RiffChunk] = []
    pos, n = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while pos + 8 <= n:
        if len(chunks) >= limits.max_segments:
            raise LimitError(f"more than {limits.max_segments} WebP chunks, over the limit max_segments")
        fourcc = data[pos:pos + 4]
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if pos + 8 + size > len(data):
            return chunks, f"chunk {fourcc!r} runs past the end of the file"
        chunks.append(RiffChunk(fourcc, pos, size))
        pos += 8 + size + (size & 1)
    if not chunks:
        return chunks, "no chunks"
    return chunks, None


def header(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    chunks, error = walk(data, limits=limits)
    if not chunks:
        raise DecodeError(f"truncated or corrupt WebP: {error}")
    first = chunks[0]
    body = first.body(data)
    if first.fourcc == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", body[6:10])
        w, h = w & 0x3FFF, h & 0x3FFF
    elif first.fourcc == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        b = int.from_bytes(body[1:5], "little")
        w, h = (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1
    elif first.fourcc == b"VP8X" and len(body) >= 10:
        w = int.from_bytes(body[4:7], "little") + 1
        h = int.from_bytes(body[7:10], "little") + 1
    else:
        raise DecodeError("truncated or unknown WebP header")
    if error:
        raise DecodeError(f"truncated WebP: {error}")
    check_pixels(w, h, limits)
    lossless = first.fourcc == b"VP8L" or any(c.fourcc in (b"VP8L", b"ANIM") for c in chunks)
    if lossless:
        check_working_memory(w, h, bytes_per_pixel=_lossless_bytes_per_pixel(first, body),
                             what="lossless or animated WebP", limits=limits)
    return w, h


def frames(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> int:
    """Frames of an animated WebP (its ANMF chunks, when an ANIM chunk declares an animation), else 1;
    at most ``max_images`` (:class:`LimitError`)."""
    chunks, _error = walk(data, limits=limits)
    if not any(c.fourcc == b"ANIM" for c in chunks):
        return 1
    n = sum(1 for c in chunks if c.fourcc == b"ANMF")
    check_image_count(n, limits, "animation frames")
    return max(n, 1)


def _lossless_bytes_per_pixel(first: RiffChunk, body: bytes) -> int:
    """Peak decoded bytes per pixel of a lossless (or animated) WebP, as libwebp + OpenCV hold it.

    VP8L may copy any earlier pixel (backward references), so libwebp decodes the whole image as
    4-byte ARGB before OpenCV's output (3 bytes BGR, 4 with alpha) is filled; an animation keeps
    a 4-byte canvas the same way. Measured: a 9950x9950 VP8L file peaks at 6.6 bytes per pixel
    without alpha, 7.6 with (``python -m tests.hostile --table``, before this bound).
    """
    if first.fourcc == b"VP8L":
        alpha = bool((int.from_bytes(body[1:5], "little") >> 28) & 1)
    else:  # VP8X: the alpha flag
        alpha = bool(body[0] & 0x10)
    return 4 + (4 if alpha else 3)

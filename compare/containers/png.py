"""PNG chunk structure: a bounded walker, the chunk writer, the IHDR header.

The walker always advances (every chunk is at least 12 bytes), checks each chunk's length, type
(four ASCII letters) and CRC, and stops at the first of: IEND, the end of the data, a corrupt
chunk header (zeros, garbage), a bad CRC in a critical chunk, or ``max_segments`` chunks
(:class:`LimitError`). Ancillary chunks with a bad CRC are kept and flagged, as libpng does.
IDAT CRCs are checked only with ``check_idat=True``: libpng checks them while decoding (a bad one
is refused with its message), so the loader does not pay twice for the bulk of the file.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import DecodeError, LimitError
from .limits import DEFAULT_LIMITS, Limits, check_image_count, check_pixels
from .memo import walk_once

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEAD = struct.Struct(">I4s")
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by colour type
#: Chunks that define the decoded pixels; everything else is metadata. An animated PNG's control
#: and frame chunks (acTL, fcTL, fdAT) are pixels too: its frames are images of the file.
PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"acTL", b"fcTL", b"fdAT"})


def make_chunk(kind: bytes, body: bytes) -> bytes:
    """One chunk: length, type, body, CRC-32 of type and body."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


class Chunk(NamedTuple):  # a NamedTuple: a 1 GiB file may hold 262,144 of them
    type: bytes
    start: int     # offset of the length field
    end: int       # offset just past the CRC
    crc_ok: bool

    def body(self, data: bytes) -> bytes:
        return data[self.start + 8:self.end - 4]

    @property
    def name(self) -> str:
        return self.type.decode("ascii")


@dataclass(frozen=True)
class PngLayout:
    """Chunks up to and including IEND; ``error`` says why the walk stopped early (not whole)."""

    chunks: tuple[Chunk, ...]
    trailing: int           # bytes after IEND
    error: str | None


@walk_once
def walk(data: bytes, *, limits: Limits = DEFAULT_LIMITS, check_idat: bool = False) -> PngLayout:
    """Split PNG bytes into chunks. Structure problems go in ``error``; raises only LimitError."""
    if not data.startswith(SIGNATURE):
        return PngLayout((), 0, "no PNG signature")
    chunks: list[Chunk] = []
    append, unpack, crc32, view = chunks.append, _HEAD.unpack_from, zlib.crc32, memoryview(data)
    pos, n = 8, len(data)
    cap = left = max(limits.max_segments, n // 4096)
    while True:
        if pos + 12 > n:
            return PngLayout(tuple(chunks), 0, "the file ends before its IEND chunk")
        if not left:
            raise LimitError(f"more than {cap} PNG chunks, over the limit max_segments (or one per 4 KiB)")
        left -= 1
        length, ctype = unpack(data, pos)
        if length > 0x7FFFFFFF or not ctype.isalpha() or not ctype.isascii():
            return PngLayout(tuple(chunks), 0, f"corrupt chunk header at byte {pos}")
        end = pos + 12 + length
        if end > n:
            return PngLayout(tuple(chunks), 0, f"{ctype.decode('ascii')} chunk at byte {pos} runs "
                             "past the end of the file")
        crc_ok = (ctype == b"IDAT" and not check_idat) or (
            crc32(view[pos + 4:end - 4]) == int.from_bytes(view[end - 4:end]))
        if not crc_ok and ctype[0] < 0x61:  # critical (upper-case first letter)
            return PngLayout(tuple(chunks), 0, f"bad CRC in the {ctype.decode('ascii')} chunk at byte {pos}")
        append(Chunk(ctype, pos, end, crc_ok))
        pos = end
        if ctype == b"IEND":
            return PngLayout(tuple(chunks), n - pos, None)


def inspect(data: bytes, *, limits: Limits = DEFAULT_LIMITS, decoder_input: bool = True) -> tuple[int, int, bytes]:
    """(width, height, the bytes to hand the decoder) of a whole, well-formed PNG.

    The decoder gets the pixel chunks only (IHDR, PLTE, tRNS, IDAT, IEND and an animation's
    acTL, fcTL, fdAT: what ``strip`` keeps):
    metadata is read by our bounded code, and libpng never spends time inflating zTXt, iTXt or
    iCCP chunks (about 10 ms per 16 MiB bomb chunk otherwise). DecodeError when not whole.
    """
    layout = walk(data, limits=limits)
    if not layout.chunks or layout.chunks[0].type != b"IHDR":
        if layout.error and not layout.chunks:
            raise DecodeError(f"{_kind(layout.error)} PNG: {layout.error}")
        raise DecodeError("corrupt PNG: the first chunk is not IHDR")
    ihdr = layout.chunks[0].body(data)
    if len(ihdr) != 13:
        raise DecodeError(f"corrupt PNG: IHDR has {len(ihdr)} bytes, expected 13")
    if layout.error:
        raise DecodeError(f"{_kind(layout.error)} PNG: {layout.error}")
    if not any(c.type == b"IDAT" for c in layout.chunks):
        raise DecodeError("corrupt PNG: no IDAT chunk (no image data)")
    w, h, depth, colour = struct.unpack(">IIBB", ihdr[:10])
    if w > 0x7FFFFFFF or h > 0x7FFFFFFF:
        raise DecodeError(f"corrupt PNG: size {w}x{h} is beyond the PNG maximum")
    check_pixels(w, h, limits)
    # Deflate never compresses better than 1032:1; half that is a safe floor for the IDAT bytes.
    raw = h * (1 + -(-w * _CHANNELS.get(colour, 1) * depth // 8))
    idat = sum(c.end - c.start - 12 for c in layout.chunks if c.type == b"IDAT")
    if idat < raw // 2064:
        raise DecodeError(f"truncated PNG: declares {w}x{h} ({raw} bytes of scanlines) but carries "
                          f"{idat} bytes of image data; deflate needs at least {raw // 2064}")
    if not decoder_input or (all(c.type in PIXEL_CHUNKS for c in layout.chunks) and not layout.trailing):
        return w, h, data
    view = memoryview(data)
    return w, h, b"".join([SIGNATURE] + [view[c.start:c.end] for c in layout.chunks if c.type in PIXEL_CHUNKS])


def frames(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> int:
    """Frames of an animated PNG (its fcTL chunks, when an acTL declares an animation), else 1;
    at most ``max_images`` (:class:`LimitError`)."""
    layout = walk(data, limits=limits)
    if not any(c.type == b"acTL" for c in layout.chunks):
        return 1
    n = sum(1 for c in layout.chunks if c.type == b"fcTL")
    check_image_count(n, limits, "animation frames")
    return max(n, 1)


def header(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """Declared (width, height); DecodeError unless the file is a whole, well-formed chunk list."""
    w, h, _ = inspect(data, limits=limits, decoder_input=False)
    return w, h


# --------------------------------------------------------------------------- text chunks

@dataclass(frozen=True)
class TextChunk:
    """A tEXt/zTXt/iTXt chunk split into fields. ``text`` is still compressed when ``compressed``."""

    keyword: str
    text: bytes
    compressed: bool
    language: str = ""
    error: str | None = None


def split_text(kind: bytes, body: bytes) -> TextChunk:
    """Fields of a text chunk (no decompression here: see :class:`.inflate.InflateBudget`)."""
    nul = body.find(b"\x00", 0, 80)
    if nul < 0:
        return TextChunk("", b"", False, error="no keyword terminator")
    keyword = body[:nul].decode("latin-1")
    rest = body[nul + 1:]
    if kind == b"tEXt":
        return TextChunk(keyword, rest, False)
    if kind == b"zTXt":
        if not rest or rest[0] != 0:
            return TextChunk(keyword, b"", False, error="unknown compression method")
        return TextChunk(keyword, rest[1:], True)
    # iTXt: flag, method, language\0, translated keyword\0, text (UTF-8)
    if len(rest) < 2:
        return TextChunk(keyword, b"", False, error="truncated iTXt header")
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) < 3:
        return TextChunk(keyword, b"", False, error="truncated iTXt header")
    lang, _translated, text = parts
    if flag and method != 0:
        return TextChunk(keyword, b"", False, error="unknown compression method")
    return TextChunk(keyword, text, bool(flag), lang.decode("latin-1"))


def _kind(error: str) -> str:
    return "truncated" if "ends" in error or "past the end" in error else "corrupt"

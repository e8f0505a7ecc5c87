"""PNG chunk structure: a bounded walker, the chunk writer, the IHDR header.

The walker always advances (every chunk is at least 12 bytes), checks each chunk's length, type
(four ASCII letters) and CRC, and stops at the first of: IEND, the end of the data, a corrupt
chunk header (zeros, garbage), a bad CRC in a critical chunk, or ``max_segments`` chunks
(:class:`LimitError`). Ancillary chunks with a bad CRC are kept and flagged, as libpng does.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from ..errors import DecodeError, LimitError
from .limits import DEFAULT_LIMITS, Limits

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Chunks that define the decoded pixels; everything else is metadata.
PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"})


def make_chunk(kind: bytes, body: bytes) -> bytes:
    """One chunk: length, type, body, CRC-32 of type and body."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@dataclass(frozen=True)
class Chunk:
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


def walk(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> PngLayout:
    """Split PNG bytes into chunks. Structure problems go in ``error``; raises only LimitError."""
    if not data.startswith(SIGNATURE):
        return PngLayout((), 0, "no PNG signature")
    chunks: list[Chunk] = []
    pos, n = 8, len(data)
    while True:
        if pos + 12 > n:
            return PngLayout(tuple(chunks), 0, "the file ends before its IEND chunk")
        if len(chunks) >= limits.max_segments:
            raise LimitError(f"more than {limits.max_segments} PNG chunks, over the limit max_segments")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if length > 0x7FFFFFFF or not ctype.isalpha() or not ctype.isascii():
            return PngLayout(tuple(chunks), 0, f"corrupt chunk header at byte {pos}")
        end = pos + 12 + length
        if end > n:
            return PngLayout(tuple(chunks), 0, f"{ctype.decode('ascii')} chunk at byte {pos} runs "
                             "past the end of the file")
        (crc,) = struct.unpack(">I", data[end - 4:end])
        crc_ok = zlib.crc32(memoryview(data)[pos + 4:end - 4]) == crc
        critical = ctype[0] < 0x61  # upper-case first letter
        if not crc_ok and critical:
            return PngLayout(tuple(chunks), 0, f"bad CRC in the {ctype.decode('ascii')} chunk at byte {pos}")
        chunks.append(Chunk(ctype, pos, end, crc_ok))
        pos = end
        if ctype == b"IEND":
            return PngLayout(tuple(chunks), n - pos, None)


def header(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """Declared (width, height); DecodeError unless the file is a whole, well-formed chunk list."""
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
    w, h = struct.unpack(">II", ihdr[:8])
    if w > 0x7FFFFFFF or h > 0x7FFFFFFF:
        raise DecodeError(f"corrupt PNG: size {w}x{h} is beyond the PNG maximum")
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

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
from .limits import DEFAULT_LIMITS, Limits, check_decoded_bytes, check_image_count, check_pixels, check_stack_pixels
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
    if sum(1 for c in layout.chunks if c.type == b"IHDR") > 1:  # OpenCV's APNG reader crashed on a second one
        raise DecodeError("corrupt PNG: more than one IHDR chunk")
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
    frames_n = 1
    if any(c.type in _ANIMATION for c in layout.chunks):
        frames_n = _check_animation(layout, data, w, h)
        check_image_count(frames_n, limits, "animation frames")
        check_stack_pixels([(w, h)] * frames_n, limits)  # before any frame is inflated
        if decoder_input:
            _check_frame_data(layout, data, w, h)
    bpp = _decoded_bytes_per_pixel(colour, depth, any(c.type == b"tRNS" for c in layout.chunks))
    frames_text = f" x {frames_n} frames" if frames_n > 1 else ""
    check_decoded_bytes(w * h * bpp * frames_n, what=f"PNG {w}x{h}{frames_text} of {bpp} bytes per pixel",
                        limits=limits)
    # Deflate never compresses better than 1032:1; half that is a safe floor for the IDAT bytes.
    raw = _raw_size(w, h, depth, colour, 0)
    idat = sum(c.end - c.start - 12 for c in layout.chunks if c.type == b"IDAT")
    if idat < raw // 2064:
        raise DecodeError(f"truncated PNG: declares {w}x{h} ({raw} bytes of scanlines) but carries "
                          f"{idat} bytes of image data; deflate needs at least {raw // 2064}")
    if not decoder_input or (all(c.type in PIXEL_CHUNKS for c in layout.chunks) and not layout.trailing):
        return w, h, data
    view = memoryview(data)
    return w, h, b"".join([SIGNATURE] + [view[c.start:c.end] for c in layout.chunks if c.type in PIXEL_CHUNKS])


_ANIMATION = frozenset({b"acTL", b"fcTL", b"fdAT"})
_FCTL = struct.Struct(">IIIIIHHBB")


def _check_animation(layout: PngLayout, data: bytes, w: int, h: int) -> int:
    """An animated PNG's control structure as the APNG specification requires it, before any
    decoder reads it; returns the frame count.

    OpenCV 5.0's APNG reader crashes the process (a segmentation fault) on an acTL that declares
    more frames than there are fcTL chunks, so every inconsistency is refused here: one acTL (8
    bytes, before the first IDAT) declaring exactly the fcTL chunks' count; each fcTL 26 bytes, its
    frame non-empty and inside the canvas, a known dispose and blend operation, and followed by
    image data (the IDAT, or fdAT chunks of at least 4 bytes); the IDAT chunks in one run; sequence
    numbers 0, 1, 2 ... over fcTL and fdAT in file order. Frame chunks without an acTL are refused
    too (a decoder that knows APNG may act on them, one that does not ignores them)."""
    actl = [c for c in layout.chunks if c.type == b"acTL"]
    idats = [i for i, c in enumerate(layout.chunks) if c.type == b"IDAT"]
    first_idat = idats[0]
    if idats[-1] - first_idat + 1 != len(idats):
        raise DecodeError("corrupt PNG: the default image's IDAT chunks are not consecutive")
    if len(actl) != 1:
        raise DecodeError(f"corrupt PNG: {len(actl)} animation control chunks (acTL); an animated PNG has one"
                          if actl else "corrupt PNG: frame chunks (fcTL, fdAT) without an animation control chunk (acTL)")
    body = actl[0].body(data)
    if len(body) != 8 or layout.chunks.index(actl[0]) > first_idat:
        raise DecodeError("corrupt PNG: the animation control chunk (acTL) is malformed or after the image data")
    declared = struct.unpack(">I", body[:4])[0]
    seq = 0
    control = 0
    data_after = True  # the last fcTL has its image data
    for i, c in enumerate(layout.chunks):
        if c.type == b"fcTL":
            if not data_after:
                raise DecodeError("corrupt PNG: an animation frame (fcTL) without image data")
            b = c.body(data)
            if len(b) != _FCTL.size:
                raise DecodeError(f"corrupt PNG: a frame control chunk (fcTL) of {len(b)} bytes, expected 26")
            n, fw, fh, fx, fy, _num, _den, dispose, blend = _FCTL.unpack(b)
            if n != seq:
                raise DecodeError(f"corrupt PNG: animation chunk sequence number {n}, expected {seq}")
            if not fw or not fh or fx + fw > w or fy + fh > h or dispose > 2 or blend > 1:
                raise DecodeError(f"corrupt PNG: animation frame {control + 1} ({fw}x{fh} at {fx},{fy}) "
                                  f"does not fit the {w}x{h} canvas or has an unknown operation")
            if i < first_idat and (fw, fh, fx, fy) != (w, h, 0, 0):
                raise DecodeError("corrupt PNG: the first animation frame is the default image but not its size")
            seq += 1
            control += 1
            data_after = False
        elif c.type == b"fdAT":
            b = c.body(data)
            if control == 0 or i < first_idat or len(b) < 4 or struct.unpack(">I", b[:4])[0] != seq:
                raise DecodeError("corrupt PNG: a frame data chunk (fdAT) out of place or out of sequence")
            seq += 1
            data_after = True
        elif c.type == b"IDAT":
            data_after = True
    if not data_after:
        raise DecodeError("corrupt PNG: the last animation frame (fcTL) has no image data")
    if declared != control:
        raise DecodeError(f"corrupt PNG: the animation declares {declared} frames (acTL) but has {control} "
                          f"frame control chunk{'s' if control != 1 else ''} (fcTL)")
    return control


def _decoded_bytes_per_pixel(colour: int, depth: int, trns: bool) -> int:
    """Bytes a pixel takes decoded as stored (OpenCV's IMREAD_UNCHANGED, checked on each colour type):
    gray 1 channel (a gray tRNS is dropped), RGB or palette 3, and 4 (BGRA) with alpha, gray + alpha,
    or RGB or palette with transparency (tRNS); 2 bytes a sample at depth 16."""
    channels = {0: 1, 2: 4 if trns else 3, 3: 4 if trns else 3, 4: 4, 6: 4}.get(colour, 4)
    return channels * (2 if depth == 16 else 1)


def _raw_size(w: int, h: int, depth: int, colour: int, interlace: int) -> int:
    """Bytes of filtered scanlines of a ``w x h`` image: one filter byte per row, per Adam7 pass
    when interlaced."""
    bits = _CHANNELS.get(colour, 1) * depth
    if not interlace:
        return h * (1 + -(-w * bits // 8))
    total = 0
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
        pw, ph = -(-(w - x0) // dx) if w > x0 else 0, -(-(h - y0) // dy) if h > y0 else 0
        if pw and ph:
            total += ph * (1 + -(-pw * bits // 8))
    return total


def _check_frame_data(layout: PngLayout, data: bytes, w: int, h: int) -> None:
    """Every frame's compressed data inflates, whole, to exactly its scanlines. In an animated PNG
    OpenCV 5.0 fills a frame whose data is cut short or corrupt with whatever it has and reports
    success (a still PNG's libpng refuses the same data), and writes the rows of data meant for a
    wider frame past the frame's buffer (a crash), so this is checked here: one bounded pass of
    inflate per frame, keeping at most 1 MiB of output at a time."""
    depth, colour, _, _, interlace = struct.unpack(">BBBBB", layout.chunks[0].body(data)[8:13])
    view = memoryview(data)
    groups: list[tuple[int, int, list[memoryview]]] = []  # (width, height, compressed parts) per image
    default: list[memoryview] = []
    frame: list[memoryview] | None = None
    for c in layout.chunks:
        if c.type == b"IDAT":
            if not default:
                groups.append((w, h, default))
            default.append(view[c.start + 8:c.end - 4])
        elif c.type == b"fcTL":
            fw, fh = struct.unpack(">II", view[c.start + 12:c.start + 20])
            frame = []
            groups.append((fw, fh, frame))
        elif c.type == b"fdAT" and frame is not None:
            frame.append(view[c.start + 12:c.end - 4])
    # an fcTL of the default image has no parts of its own: its data is the IDAT group's
    for k, (fw, fh, parts) in enumerate(g for g in groups if g[2]):
        need = _raw_size(fw, fh, depth, colour, interlace)
        z = zlib.decompressobj()
        got = 0
        try:
            for part in parts:
                got += len(z.decompress(part, 1 << 20))
                while z.unconsumed_tail and got <= need:
                    got += len(z.decompress(z.unconsumed_tail, 1 << 20))
                if got > need:
                    break
        except zlib.error as e:
            raise DecodeError(f"corrupt PNG: image {k + 1} of the animation has corrupt compressed data ({e})") from None
        if got < need:
            raise DecodeError(f"truncated PNG: image {k + 1} of the animation inflates to {got} bytes of its "
                              f"{need} bytes of scanlines")
        if got > need:  # OpenCV 5.0 writes such rows past a narrower frame's buffer (SIGSEGV)
            raise DecodeError(f"corrupt PNG: image {k + 1} of the animation inflates to more than the {need} bytes "
                              f"of scanlines of its {fw}x{fh} frame")


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

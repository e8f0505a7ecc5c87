"""Headers of the formats without metadata containers: BMP, GIF, PNM."""
from __future__ import annotations

import struct

from ..errors import DecodeError
from .limits import Limits, check_image_count


def bmp_header(data: bytes) -> tuple[int, int]:
    if len(data) < 26:
        raise DecodeError("truncated BMP header")
    (hsize,) = struct.unpack("<I", data[14:18])
    if hsize == 12:
        w, h = struct.unpack("<HH", data[18:22])
    else:
        w, h = struct.unpack("<ii", data[18:26])
    return abs(w), abs(h)


def gif_header(data: bytes) -> tuple[int, int]:
    if len(data) < 10:
        raise DecodeError("truncated GIF header")
    w, h = struct.unpack("<HH", data[6:10])
    return w, h


def gif_frames(data: bytes, *, limits: Limits) -> int:
    """Images (image descriptors) of a GIF, walking its blocks: at most ``max_images``
    (:class:`LimitError`); DecodeError when a block runs past the end of the data. Each step
    advances at least one byte, so the walk is linear in the file's size."""
    n = len(data)
    if n < 13:
        raise DecodeError("truncated GIF header")
    pos = 13
    if data[10] & 0x80:  # global colour table
        pos += 3 << ((data[10] & 7) + 1)
    count = 0

    def sub_blocks(p: int) -> int:
        while True:
            if p >= n:
                raise DecodeError("truncated GIF: a data block runs past the end of the file")
            size = data[p]
            p += 1 + size
            if size == 0:
                return p

    while pos < n:
        kind = data[pos]
        if kind == 0x3B:  # trailer
            break
        if kind == 0x21:  # extension: label, then sub-blocks
            pos = sub_blocks(pos + 2)
        elif kind == 0x2C:  # image descriptor
            if pos + 10 > n:
                raise DecodeError("truncated GIF: an image descriptor runs past the end of the file")
            count += 1
            check_image_count(count, limits, "GIF frames")
            flags = data[pos + 9]
            pos += 10
            if flags & 0x80:  # local colour table
                pos += 3 << ((flags & 7) + 1)
            pos = sub_blocks(pos + 1)  # LZW minimum code size, then the data
        else:
            break  # garbage after the last image: decoders stop here too
    return max(count, 1)


def pnm_header(data: bytes) -> tuple[int, int]:
    """Width and height from a P1..P6 header (comments skipped; the header is read up to 4 KiB)."""
    fields: list[int] = []
    pos, n = 2, min(len(data), 4096)
    while len(fields) < 2 and pos < n:
        c = data[pos:pos + 1]
        if c == b"#":
            pos = data.find(b"\n", pos, n)
            if pos < 0:
                break
        elif c.isdigit():
            end = pos
            while end < n and data[end:end + 1].isdigit():
                end += 1
            if end - pos > 9:  # no decoder takes a side of a billion pixels or more
                raise DecodeError(f"corrupt PNM header: a size of {end - pos} digits")
            fields.append(int(data[pos:end]))
            pos = end
            continue
        pos += 1
    if len(fields) < 2:
        raise DecodeError("truncated PNM header")
    return fields[0], fields[1]


def pnm_comments(data: bytes, *, max_entries: int) -> list[bytes]:
    """The comment lines of a PNM header, at most ``max_entries``."""
    out: list[bytes] = []
    needed = 2 if data[1:2] in (b"1", b"4") else 3
    pos, tokens, n = 2, 0, min(len(data), 1 << 16)
    while tokens < needed and pos < n and len(out) < max_entries:
        c = data[pos:pos + 1]
        if c == b"#":
            end = data.find(b"\n", pos, n)
            end = n if end < 0 else end
            out.append(data[pos + 1:end].strip())
            pos = end
        elif c.isdigit():
            while pos < n and data[pos:pos + 1].isdigit():
                pos += 1
            tokens += 1
            continue
        pos += 1
    return out

"""Hostile input files (issue 8 B) and a runner that measures what each one costs.

Each ``make_*`` function writes one small file (sparse where it must look large) into a folder
and returns its path. :data:`CASES` pairs each with the command line that used to go wrong and
what must happen now. ``python -m tests.hostile`` reads a JSON list of argument lists on stdin,
runs each through ``scopecheck.cli.main`` in a forked child (file descriptors 1 and 2 captured)
and prints, per case, the exit status, stdout, stderr, CPU seconds, wall seconds and peak RSS
(``os.wait4``), so one interpreter start serves every case. ``python -m tests.hostile --table``
builds every case and prints that as a table.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import struct
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

GIB = 1 << 30


def chunk(kind: bytes, body: bytes) -> bytes:  # written out here, independently of the library
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def small_png(extra: bytes = b"", size=(8, 8)) -> bytes:
    _ok, buf = cv2.imencode(".png", np.full(size, 128, np.uint8))
    data = buf.tobytes()
    i = data.index(b"IDAT") - 4
    return data[:i] + extra + data[i:]


def small_jpeg(shape=(16, 16), *, progressive=False, seed=None, quality=90) -> bytes:
    if seed is None:
        img = np.full(shape, 128, np.uint8)
    else:
        img = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    _ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality,
                                         cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    return buf.tobytes()


def tiff(entries: list[tuple[int, int, int, bytes]], *, strip: bytes = b"\0" * 256) -> bytes:
    """Little-endian classic TIFF, one IFD at offset 8; values longer than 4 bytes go after it.

    ``entries`` are (tag, type, count, value bytes); StripOffsets (273) given as b"" is filled in.
    """
    ifd_size = 2 + 12 * len(entries) + 4
    extra_at = 8 + ifd_size
    extra = b""
    out = []
    strip_at = extra_at + sum(len(v) + (len(v) & 1) for _t, _y, _c, v in entries if len(v) > 4)
    for tag, typ, count, value in entries:
        if tag == 273 and not value:
            value = struct.pack("<I", strip_at)
        if len(value) > 4:
            out.append(struct.pack("<HHII", tag, typ, count, extra_at + len(extra)))
            extra += value + b"\0" * (len(value) & 1)
        else:
            out.append(struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0"))
    return (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)) + b"".join(out)
            + b"\0\0\0\0" + extra + strip)


def _short(v: int) -> bytes:
    return struct.pack("<H", v)


def _long(v: int) -> bytes:
    return struct.pack("<I", v)


def _tiff_gray(width_entries, height=16):
    return tiff(width_entries + [(257, 3, 1, _short(height)), (258, 3, 1, _short(8)),
                                 (259, 3, 1, _short(1)), (262, 3, 1, _short(1)), (273, 4, 1, b""),
                                 (277, 3, 1, _short(1)), (278, 3, 1, _short(height)),
                                 (279, 4, 1, _long(256))])


# --------------------------------------------------------------------------- the files

def make_tiff_duplicate_width(d: Path) -> Path:
    """Two ImageWidth tags: libtiff reads the first (30000), a naive guard the last (16)."""
    p = d / "dup_width.tif"
    p.write_bytes(_tiff_gray([(256, 4, 1, _long(30000)), (256, 3, 1, _short(16))], height=30000))
    return p


def make_tiff_long8_width(d: Path) -> Path:
    """ImageWidth typed LONG8: 8 bytes at an offset, 30000 x 30000 declared."""
    p = d / "long8_width.tif"
    p.write_bytes(_tiff_gray([(256, 16, 1, struct.pack("<Q", 30000))], height=30000))
    return p


def make_tiff_width_count_2(d: Path) -> Path:
    p = d / "width_count2.tif"
    p.write_bytes(_tiff_gray([(256, 3, 2, _short(16) + _short(30000))]))
    return p


def make_tiff_short_strips(d: Path) -> Path:
    """Uncompressed 9000 x 9000 declared, 256 bytes of strip data."""
    p = d / "short_strips.tif"
    p.write_bytes(_tiff_gray([(256, 3, 1, _short(9000))], height=9000))
    return p


def make_jpeg_many_scans(d: Path, scans: int = 5000) -> Path:
    """A progressive 2000x2000 JPEG followed by thousands of empty refinement scans."""
    data = small_jpeg((2000, 2000), progressive=True)
    empty_scan = b"\xff\xda\x00\x08\x01\x01\x00\x01\x3f\x10"  # Y, AC 1..63, Ah=1 Al=0, no data
    p = d / "many_scans.jpg"
    p.write_bytes(data[:-2] + empty_scan * scans + b"\xff\xd9")
    return p


def make_jpeg_many_com(d: Path, n: int = 20_000) -> Path:
    data = small_jpeg()
    p = d / "many_com.jpg"
    p.write_bytes(data[:2] + b"".join(b"\xff\xfe" + struct.pack(">H", 2 + len(c)) + c
                                      for c in (b"c%d" % i for i in range(n))) + data[2:])
    return p


def make_png_many_text(d: Path, n: int = 20_000) -> Path:
    p = d / "many_text.png"
    p.write_bytes(small_png(b"".join(chunk(b"tEXt", b"Comment\0v%d" % i) for i in range(n))))
    return p


def make_png_max_chunks(d: Path, n: int = 65_000) -> Path:
    """Just under the chunk limit (max_segments 65,536 for a small file): the worst walk allowed."""
    p = d / "max_chunks.png"
    p.write_bytes(small_png(chunk(b"teXt", b"") * n))
    return p


def make_png_over_max_chunks(d: Path) -> Path:
    return make_png_max_chunks(d, 70_000)


def make_jpeg_max_segments(d: Path, n: int = 65_000) -> Path:
    data = small_jpeg()
    p = d / "max_segments.jpg"
    p.write_bytes(data[:2] + b"\xff\xfe\x00\x02" * n + data[2:])
    return p


def make_png_ztxt_bombs(d: Path, n: int = 20) -> Path:
    """20 zTXt chunks of 16 MiB each when decompressed (about 330 KB on disk)."""
    z = zlib.compress(b"\0" * (16 << 20), 9)
    p = d / "ztxt_bombs.png"
    p.write_bytes(small_png(b"".join(chunk(b"zTXt", b"k%d\0\0" % i + z) for i in range(n))))
    return p


def make_jpeg_99mp_early_eoi(d: Path) -> Path:
    """A few hundred bytes declaring 9950 x 9950 (99 MP), its scan ending at once in EOI."""
    data = bytearray(small_jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 9950, 9950)
    p = d / "99mp_early_eoi.jpg"
    p.write_bytes(bytes(data))
    return p


def make_png_99mp_tiny(d: Path) -> Path:
    """A PNG declaring 9950 x 9950 gray with 20 bytes of IDAT."""
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 9950, 9950, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(9951 * 10))) + chunk(b"IEND", b""))
    p = d / "99mp_tiny.png"
    p.write_bytes(data)
    return p


def vp8l_one_colour(width: int, height: int, *, alpha: bool = False) -> bytes:
    """A lossless WebP of one colour, any size, in 32 bytes: no transform, no colour cache and five
    one-symbol prefix codes (zero bits per pixel), per the WebP lossless bitstream specification."""
    fields = [(0x2F, 8), (width - 1, 14), (height - 1, 14), (int(alpha), 1), (0, 3),  # header
              (0, 1), (0, 1), (0, 1)]  # no transform, no colour cache, no meta prefix codes
    fields += [(1, 1), (0, 1), (0, 1), (0, 1)] * 5  # simple code: 1 symbol, 1-bit symbol 0
    v = n = 0
    for value, bits in fields:
        v |= value << n
        n += bits
    body = v.to_bytes((n + 7) // 8, "little") + bytes(4)  # libwebp reads ahead: pad
    body += bytes(len(body) & 1)
    riff = b"WEBP" + b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def make_webp_lossless_99mp(d: Path, *, alpha: bool = False) -> Path:
    """32 bytes declaring 9950 x 9950 lossless: libwebp decodes it (one colour) through a 4-byte
    ARGB copy of the whole image; it used to take 714 MB (793 MB with alpha) and 1.3 s."""
    p = d / f"99mp_lossless{'_alpha' if alpha else ''}.webp"
    p.write_bytes(vp8l_one_colour(9950, 9950, alpha=alpha))
    return p


def make_gif_99mp_canvas(d: Path) -> Path:
    """A 1x1 GIF frame on a 9950 x 9950 logical screen: OpenCV decodes onto a canvas of the
    screen's size: these 35 bytes used to take 720 MB and 1.2 s."""
    lzw = bytes([0x02, 0x02, 0x44, 0x01, 0x00])  # min code size 2; clear, index 0, end; terminator
    data = (b"GIF89a" + struct.pack("<HHBBB", 9950, 9950, 0x80, 0, 0) + bytes(6)  # 2-colour table
            + b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + lzw + b";")
    p = d / "99mp_canvas.gif"
    p.write_bytes(data)
    return p


def _tiff_chain(n: int, *, loop: bool = False, junk: int = 0) -> bytes:
    """``n`` 1x1 gray directories chained (each the next's predecessor); ``loop``: the last points
    back to the first; ``junk``: that many unknown tags more in each. Written out here,
    independently of the library's walker."""
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for i in range(n):
        here = len(out)
        entries = [(256, 4, 1, 1), (257, 4, 1, 1), (258, 3, 1, 8), (262, 3, 1, 1), (273, 4, 1, 0),
                   (278, 4, 1, 1), (279, 4, 1, 1)] + [(60000 + j % 5000, 4, 1, 0) for j in range(junk)]
        nxt = here + 2 + 12 * len(entries) + 4
        if i == n - 1:
            nxt = 8 if loop else 0
        out += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
        out += struct.pack("<I", nxt)
    return bytes(out)


def make_tiff_loop(d: Path) -> Path:
    """Three directories, the last pointing back to the first: a walker without a memory never ends."""
    p = d / "loop.tif"
    p.write_bytes(_tiff_chain(3, loop=True))
    return p


def make_tiff_many_pages(d: Path) -> Path:
    """200,000 1x1 pages (10 MB): libtiff seeks each page from the first, so decoding them all
    would take minutes; over the limit max_images (1000)."""
    p = d / "many_pages.tif"
    p.write_bytes(_tiff_chain(200_000))
    return p


def make_tiff_many_entries(d: Path) -> Path:
    """50 directories of 60,000 entries each (36 MB): each directory is within max_segments, the
    chain is not; a file of 1000 such directories (720 MB, under --max-bytes) would take about 30 s
    of Python to walk whole."""
    p = d / "many_entries.tif"
    p.write_bytes(_tiff_chain(50, junk=60_000))
    return p


def make_gif_frames_125mp(d: Path) -> Path:
    """Five 1x1 frames on a 5000 x 5000 screen (25 MP each): one canvas fits --max-pixels, the five
    together (every frame is decoded, each a whole canvas) do not."""
    lzw = bytes([0x02, 0x02, 0x44, 0x01, 0x00])
    frame = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + lzw
    data = b"GIF89a" + struct.pack("<HHBBB", 5000, 5000, 0x80, 0, 0) + bytes(6) + frame * 5 + b";"
    p = d / "frames_125mp.gif"
    p.write_bytes(data)
    return p


def make_bmp_rle8_99mp(d: Path) -> Path:
    """A 9950 x 9950 RLE8 BMP of 1 KB that ends at once (legal: the rest is background). RLE
    decodes straight into the output (1-3 bytes per pixel), so --max-pixels bounds it (245 MB)."""
    palette = bytes(4 * 256)
    bits = b"\x00\x01"  # end of bitmap
    off = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, 9950, 9950, 1, 8, 1, len(bits), 2835, 2835, 256, 0)
    p = d / "99mp_rle8.bmp"
    p.write_bytes(b"BM" + struct.pack("<IHHI", off + len(bits), 0, 0, off) + info + palette + bits)
    return p


def make_jpeg_cut_third(d: Path, *, progressive: bool = False) -> Path:
    """A noisy 640x480 JPEG cut to a third, with FF D9 appended."""
    data = small_jpeg((480, 640), progressive=progressive, seed=1)
    p = d / f"cut_third{'_progressive' if progressive else ''}.jpg"
    p.write_bytes(data[:len(data) // 3] + b"\xff\xd9")
    return p


def make_jpeg_extraneous_bytes(d: Path) -> Path:
    """Harmless junk before EOI: libjpeg warns ("Corrupt JPEG data: 3 extraneous bytes").

    The pixels are whole, so the file is accepted -- and the warning must not reach stderr."""
    data = small_jpeg((32, 32), seed=2)
    p = d / "extraneous.jpg"
    p.write_bytes(data[:-2] + b"\x01\x02\x03\xff\xd9")
    return p


def make_sparse(d: Path, size: int = 3 * GIB, head: bytes = b"\x89PNG\r\n\x1a\n") -> Path:
    """A sparse file of ``size`` bytes (no disk used) that starts like a PNG, zeros after."""
    p = d / f"sparse_{size}.png"
    with open(p, "wb") as f:
        f.write(head)
        f.truncate(size)
    return p


def make_png_signature_zeros(d: Path) -> Path:
    return make_sparse(d, 64 << 20)


def make_png_bad_filter(d: Path) -> Path:
    """Valid chunks and CRCs, but scanline filter type 9: libpng says 'bad adaptive filter value'."""
    w, h = 8, 8
    raw = b"".join(b"\x09" + bytes(w) for _ in range(h))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    p = d / "bad_filter.png"
    p.write_bytes(data)
    return p


def make_fifo(d: Path) -> Path:
    p = d / "fifo.png"
    os.mkfifo(p)
    return p


def _apng(frames: int, declared: int, size: tuple[int, int]) -> bytes:
    """An RGB animated PNG of ``frames`` all-black frames of ``size``: the default image (IDAT)
    outside the animation, then fcTL + fdAT per frame; its acTL declares ``declared`` frames."""
    w, h = size
    rows = zlib.compress(b"\0" * (h * (1 + 3 * w)), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    out += chunk(b"acTL", struct.pack(">II", declared, 0)) + chunk(b"IDAT", rows)
    seq = 0
    for _ in range(frames):
        out += chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, 0, 0, 1, 10, 0, 0))
        out += chunk(b"fdAT", struct.pack(">I", seq + 1) + rows)
        seq += 2
    return out + chunk(b"IEND", b"")


def make_apng_more_frames_declared(d: Path) -> Path:
    """One animation frame, two declared by acTL: OpenCV 5.0's APNG reader crashed the process
    (SIGSEGV) on it."""
    p = d / "apng_declared.png"
    p.write_bytes(_apng(1, 2, (64, 48)))
    return p


def make_apng_frames_bomb(d: Path) -> Path:
    """999 frames of 3000x3000 black (9 MP each, 9 GP in all) in about 10 MB: refused by the count of
    pixels before a frame is inflated."""
    p = d / "apng_bomb.png"
    p.write_bytes(_apng(999, 999, (3000, 3000)))
    return p


def make_apng_frame_data_too_wide(d: Path) -> Path:
    """The default image outside the animation, then a frame 1 pixel wide whose data is rows of the
    full 64-pixel width: OpenCV 5.0 wrote them past the frame's buffer (SIGSEGV)."""
    w, h = 64, 48
    rows = zlib.compress(b"\0" * (h * (1 + 3 * w)))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    out += chunk(b"acTL", struct.pack(">II", 1, 0)) + chunk(b"IDAT", rows)
    out += chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 1, h, 0, 0, 1, 10, 0, 0))
    out += chunk(b"fdAT", struct.pack(">I", 1) + rows) + chunk(b"IEND", b"")
    p = d / "apng_wide_rows.png"
    p.write_bytes(out)
    return p


def make_png_second_ihdr(d: Path) -> Path:
    """A second IHDR after the image data (OpenCV 5.0's APNG reader crashed on it in an animation)."""
    data = small_png(size=(16, 16))
    i = data.index(b"IEND") - 4
    p = d / "two_ihdr.png"
    p.write_bytes(data[:i] + data[8:33] + data[i:])
    return p


def make_tiff_no_directory(d: Path) -> Path:
    p = d / "no_ifd.tif"
    p.write_bytes(b"II*\x00\x00\x00\x00\x00")
    return p


def make_tiff_bits_count_0(d: Path) -> Path:
    """BitsPerSample declared with no values."""
    p = d / "bps0.tif"
    p.write_bytes(tiff([(256, 3, 1, _short(16)), (257, 3, 1, _short(16)), (258, 3, 0, b""),
                        (259, 3, 1, _short(1)), (262, 3, 1, _short(1)), (273, 4, 1, b""),
                        (277, 3, 1, _short(1)), (278, 3, 1, _short(16)), (279, 4, 1, _long(256))]))
    return p


def make_tiff_shared_strips(d: Path) -> Path:
    """2000x2000 Deflate in 2000 one-row strips that all point at one 100-byte blob: their counts sum
    to 200 KB, enough for the data floor, while the file holds 100 bytes of strip data."""
    n = 2000
    entries = [(256, 3, 1, _short(n)), (257, 3, 1, _short(n)), (258, 3, 1, _short(8)), (259, 3, 1, _short(8)),
               (262, 3, 1, _short(1)), (273, 4, n, b"\0" * (4 * n)), (277, 3, 1, _short(1)),
               (278, 3, 1, _short(1)), (279, 4, n, _long(100) * n)]
    data = bytearray(tiff(entries, strip=b"\x78" * 100))
    blob = len(data) - 100
    at = 8 + 2 + 12 * len(entries) + 4  # the StripOffsets values: the first ones after the directory
    data[at:at + 4 * n] = _long(blob) * n
    p = d / "shared_strips.tif"
    p.write_bytes(bytes(data))
    return p


def make_pnm_long_width(d: Path) -> Path:
    p = d / "digits.pgm"
    p.write_bytes(b"P5\n" + b"9" * 400 + b" 10\n255\n" + b"\0" * 100)
    return p


def make_jpeg_adobe_transform_255(d: Path) -> Path:
    """An Adobe APP14 segment with transform code 255: libjpeg prints "Unknown Adobe color transform
    code 255" on fd 2 while decoding (it leaked onto the terminal)."""
    data = small_jpeg((32, 32), seed=3)
    app14 = b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 255)
    p = d / "adobe255.jpg"
    p.write_bytes(data[:2] + b"\xff\xee" + struct.pack(">H", len(app14) + 2) + app14 + data[2:])
    return p


def make_png_rgba16(d: Path) -> Path:
    """A 2000x2000 16-bit RGBA PNG: 4 MP, 32 MB decoded (8 bytes a pixel)."""
    w = h = 2000
    p = d / "rgba16.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(b"\0" * (h * (1 + 8 * w)))) + chunk(b"IEND", b""))
    return p


def make_good_png(d: Path) -> Path:
    p = d / "good.png"
    p.write_bytes(small_png(size=(32, 32)))
    return p


@dataclass(frozen=True)
class Case:
    """A hostile file, the command run on it ({f} is the file, {d} the folder) and the outcome."""

    name: str
    make: object
    argv: tuple[str, ...]
    exit: int
    words: str = ""   # must appear in the one stderr line (exit 2)


CASES = (
    Case("tiff-duplicate-width", make_tiff_duplicate_width, ("compare", "{f}", "{f}"), 2, "appears twice"),
    Case("tiff-long8-width", make_tiff_long8_width, ("compare", "{f}", "{f}"), 2,
         "30000x30000 = 900.0 megapixels, over the limit --max-pixels 100 MP"),
    Case("tiff-width-count-2", make_tiff_width_count_2, ("hash", "{f}"), 2, "not one integer"),
    Case("tiff-short-strips", make_tiff_short_strips, ("compare", "{f}", "{f}"), 2,
         "truncated TIFF: declares 9000x9000 (81000000 bytes of samples) but its uncompressed data holds 256"),
    Case("jpeg-many-scans", make_jpeg_many_scans, ("compare", "{f}", "{f}"), 2, "more than 100 scans"),
    Case("jpeg-many-com", make_jpeg_many_com, ("compare", "{f}", "{f}"), 0),
    Case("jpeg-many-com-strip", make_jpeg_many_com, ("strip", "{f}", "-o", "{d}/out.jpg"), 0),
    Case("png-many-text", make_png_many_text, ("compare", "{f}", "{f}"), 0),
    Case("png-many-text-strip", make_png_many_text, ("strip", "{f}", "-o", "{d}/out.png"), 0),
    Case("png-max-chunks", make_png_max_chunks, ("compare", "{f}", "{f}"), 0),
    Case("png-max-chunks-strip", make_png_max_chunks, ("strip", "{f}", "-o", "{d}/out.png"), 0),
    Case("png-over-max-chunks", make_png_over_max_chunks, ("hash", "{f}"), 2,
         "more than 65536 PNG chunks, over the limit max_segments"),
    Case("jpeg-max-segments", make_jpeg_max_segments, ("compare", "{f}", "{f}"), 0),
    Case("jpeg-max-segments-strip", make_jpeg_max_segments, ("strip", "{f}", "-o", "{d}/out.jpg"), 0),
    Case("png-ztxt-bombs", make_png_ztxt_bombs, ("compare", "{f}", "{f}"), 0),
    Case("jpeg-99mp-early-eoi", make_jpeg_99mp_early_eoi, ("compare", "{f}", "{f}"), 2,
         "truncated JPEG: declares 9950x9950"),
    Case("png-99mp-tiny", make_png_99mp_tiny, ("compare", "{f}", "{f}"), 2,
         "truncated PNG: declares 9950x9950"),
    Case("webp-lossless-99mp", make_webp_lossless_99mp, ("compare", "{f}", "{f}"), 2,
         "lossless or animated WebP 9950x9950 needs about 693.0 MB"),
    Case("webp-lossless-alpha-99mp", lambda d: make_webp_lossless_99mp(d, alpha=True), ("hash", "{f}"), 2,
         "raise --max-pixels"),
    Case("gif-99mp-canvas", make_gif_99mp_canvas, ("compare", "{f}", "{f}"), 2, "GIF 9950x9950 needs about"),
    Case("bmp-rle8-99mp", make_bmp_rle8_99mp, ("hash", "{f}"), 0),
    Case("tiff-loop", make_tiff_loop, ("compare", "{f}", "{f}"), 2, "loops back to offset 8"),
    Case("tiff-many-pages", make_tiff_many_pages, ("hash", "{f}"), 2, "over the limit max_images"),
    Case("tiff-many-entries", make_tiff_many_entries, ("compare", "{f}", "{f}"), 2,
         "TIFF directory entries in all, over the limit max_segments"),
    Case("gif-frames-125mp", make_gif_frames_125mp, ("compare", "{f}", "{f}"), 2,
         "holds 5 images of 125.0 megapixels in all, over the limit --max-pixels"),
    Case("jpeg-cut-third", make_jpeg_cut_third, ("compare", "{f}", "{f}"), 2,
         "truncated JPEG: the image data does not decode whole"),
    Case("jpeg-cut-third-progressive", lambda d: make_jpeg_cut_third(d, progressive=True),
         ("compare", "{f}", "{f}"), 2, "truncated JPEG"),
    Case("jpeg-extraneous-bytes", make_jpeg_extraneous_bytes, ("compare", "{f}", "{f}"), 0),
    Case("sparse-3gb", make_sparse, ("compare", "{f}", "{f}"), 2,
         "is 3 GiB, over the limit --max-bytes 1 GiB"),
    Case("sparse-3gb-strip", make_sparse, ("strip", "{f}", "-o", "{d}/out.png"), 2, "--max-bytes"),
    Case("sparse-3gb-hash", make_sparse, ("hash", "{f}"), 2, "--max-bytes"),
    Case("png-signature-zeros", make_png_signature_zeros, ("compare", "{f}", "{f}"), 2,
         "corrupt PNG: corrupt chunk header at byte 8"),
    Case("max-bytes-option", make_good_png, ("compare", "--max-bytes", "100", "{f}", "{f}"), 2,
         "over the limit --max-bytes 100 bytes"),
    Case("hash-size-20000", make_good_png, ("hash", "--hash-size", "20000", "{f}"), 2, "2..64"),
    Case("compare-hash-size-20000", make_good_png, ("compare", "--hash-size", "20000", "{f}", "{f}"), 2,
         "2..64"),
    Case("apng-more-frames-declared", make_apng_more_frames_declared, ("compare", "{f}", "{f}"), 2,
         "the animation declares 2 frames (acTL) but has 1 frame control chunk (fcTL)"),
    Case("apng-frames-bomb", make_apng_frames_bomb, ("hash", "{f}"), 2,
         "holds 999 images of 8991.0 megapixels in all, over the limit --max-pixels"),
    Case("apng-frame-data-too-wide", make_apng_frame_data_too_wide, ("hash", "{f}"), 2,
         "image 2 of the animation inflates to more than the 192 bytes of scanlines of its 1x48 frame"),
    Case("png-second-ihdr", make_png_second_ihdr, ("compare", "{f}", "{f}"), 2, "more than one IHDR chunk"),
    Case("tiff-no-directory", make_tiff_no_directory, ("hash", "{f}"), 2,
         "corrupt TIFF: the header points to no image directory (offset 0)"),
    Case("tiff-bits-count-0", make_tiff_bits_count_0, ("compare", "{f}", "{f}"), 2,
         "corrupt TIFF: BitsPerSample (tag 258) has no value in the first directory"),
    Case("tiff-shared-strips", make_tiff_shared_strips, ("hash", "{f}"), 2,
         "but its Deflate data holds 100 bytes; at least 3876 needed"),
    Case("pnm-long-width", make_pnm_long_width, ("hash", "{f}"), 2, "corrupt PNM header: a size of 400 digits"),
    Case("jpeg-adobe-transform-255", make_jpeg_adobe_transform_255, ("compare", "{f}", "{f}"), 0),
    Case("png-rgba16-bytes", make_png_rgba16, ("hash", "--max-pixels", "10000000", "{f}"), 2,
         "PNG 2000x2000 of 8 bytes per pixel needs about 32.0 MB to decode, over the 30.0 MB that --max-pixels"),
    Case("png-bad-filter", make_png_bad_filter, ("compare", "{f}", "{f}"), 2, "bad adaptive filter value"),
    Case("fifo-compare", make_fifo, ("compare", "{f}", "{f}"), 2, "FIFO"),
    Case("fifo-strip", make_fifo, ("strip", "{f}", "-o", "{d}/out.png"), 2, "FIFO"),
    Case("device-compare", lambda d: Path("/dev/zero"), ("compare", "{f}", "{f}"), 2, "character device"),
    Case("directory-strip", lambda d: d, ("strip", "{f}", "-o", "{d}/out.png"), 2, "directory"),
)


# --------------------------------------------------------------------------- the runner

def run_one(argv: list[str], timeout: float = 20.0) -> dict:
    """Run ``scopecheck argv`` in a forked child; exit status, output and cost."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child
            code = 99
            try:
                signal.alarm(int(timeout))
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = os.fdopen(1, "w", closefd=False)
                sys.stderr = os.fdopen(2, "w", closefd=False)
                from scopecheck.cli import main
                code = main(argv)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 2
            except BaseException:  # noqa: BLE001 - reported as a traceback on stderr
                import traceback
                traceback.print_exc()
                code = 98
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(code)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {"argv": argv, "exit": os.waitstatus_to_exitcode(status),
                "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace"),
                "cpu": usage.ru_utime + usage.ru_stime, "wall": wall,
                "maxrss_mb": usage.ru_maxrss / 1024}


def _prepare() -> None:
    from scopecheck.cli import build_parser
    build_parser()  # import every command module once, before forking
    import scopecheck.compare.pair  # noqa: F401
    import scopecheck.compare.strip  # noqa: F401


def table() -> None:
    """Build every case in a temporary folder, run it and print what it cost."""
    _prepare()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':28s} {'exit':>4s} {'CPU s':>6s} {'wall s':>6s} {'peak RSS MB':>11s} {'file bytes':>12s}")
        for i, case in enumerate(CASES):
            d = Path(tmp) / str(i)
            d.mkdir()
            f = case.make(d)
            size = f.stat().st_size if Path(f).is_file() else 0
            res = run_one([a.format(f=f, d=d) for a in case.argv])
            print(f"{case.name:28s} {res['exit']:4d} {res['cpu']:6.3f} {res['wall']:6.3f} "
                  f"{res['maxrss_mb']:11.0f} {size:12d}")


def main() -> None:
    if sys.argv[1:] == ["--table"]:
        table()
        return
    _prepare()
    jobs = json.load(sys.stdin)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"parent_maxrss_mb": base, "results": [run_one(a) for a in jobs]}))


if __name__ == "__main__":
    main()

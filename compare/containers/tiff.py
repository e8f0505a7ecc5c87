"""TIFF directory structure (classic and BigTIFF): a bounded IFD reader and the image header.

Values are read the way libtiff reads them: by type, inline when they fit in the entry's value
field (4 bytes, 8 in BigTIFF), else at the offset it holds -- so ImageWidth typed LONG8 is a
number, not an offset read as one. A first directory that names a layout tag twice (readers
disagree on which copy wins), gives a dimension as anything but one unsigned integer, or points
outside the file is refused as inconsistent.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import DecodeError, LimitError
from .limits import (
    BUDGET_BYTES_PER_PIXEL,
    DEFAULT_LIMITS,
    Limits,
    check_decoded_bytes,
    check_image_count,
    check_pixels,
    human_bytes,
)

TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
             16: 8, 17: 8, 18: 8}
_INT_FORMAT = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q", 18: "Q"}
TAG_NAMES = {254: "NewSubfileType", 256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample",
             259: "Compression", 262: "PhotometricInterpretation", 273: "StripOffsets",
             277: "SamplesPerPixel", 278: "RowsPerStrip", 279: "StripByteCounts",
             284: "PlanarConfiguration", 317: "Predictor", 322: "TileWidth", 323: "TileLength",
             324: "TileOffsets", 325: "TileByteCounts", 338: "ExtraSamples", 339: "SampleFormat"}
# Tags whose duplicates or stray values change how the pixels are laid out.
LAYOUT_TAGS = frozenset(TAG_NAMES) - {254}


@dataclass(frozen=True)
class Entry:
    tag: int
    type: int
    count: int
    value_pos: int   # where the value bytes are: inside the entry, or the offset it holds
    inline: bool

    @property
    def size(self) -> int | None:
        s = TYPE_SIZE.get(self.type)
        return None if s is None else s * self.count


@dataclass(frozen=True)
class TiffFile:
    order: str       # "<" or ">"
    big: bool        # BigTIFF
    first_ifd: int


def open_tiff(data: bytes) -> TiffFile:
    """Byte order, flavour and first directory offset; DecodeError for another or a cut header."""
    if data[:4] in (b"II*\x00", b"MM\x00*") and len(data) >= 8:
        order = "<" if data[:2] == b"II" else ">"
        return TiffFile(order, False, struct.unpack(order + "I", data[4:8])[0])
    if data[:4] in (b"II+\x00", b"MM\x00+") and len(data) >= 16:
        order = "<" if data[:2] == b"II" else ">"
        size, zero, off = struct.unpack(order + "HHQ", data[4:16])
        if size != 8 or zero != 0:
            raise DecodeError("corrupt BigTIFF header")
        return TiffFile(order, True, off)
    raise DecodeError("no TIFF header")


def read_ifd(data: bytes, offset: int, *, order: str, big: bool = False,
             limits: Limits = DEFAULT_LIMITS) -> tuple[list[Entry], int]:
    """(entries, offset of the next directory) of the directory at ``offset``; DecodeError if cut."""
    n = len(data)
    head, esize = (8, 20) if big else (2, 12)
    count = _entry_count(data, offset, order, big)
    if count is None:
        raise DecodeError(f"directory at offset {offset} is outside the {n}-byte data")
    if count > limits.max_segments:
        raise DecodeError(f"directory declares {count} entries, over the limit max_segments")
    end = offset + head + esize * count
    if end + (8 if big else 4) > n:
        raise DecodeError(f"directory at offset {offset} declares {count} entries, more than the data holds")
    entries = []
    fmt = order + ("HHQ" if big else "HHI")
    field = 8 if big else 4
    for i in range(count):
        p = offset + head + esize * i
        tag, typ, num = struct.unpack(fmt, data[p:p + 4 + field])
        vpos = p + 4 + field
        size = TYPE_SIZE.get(typ, 0) * num
        inline = size <= field
        if not inline:
            (vpos,) = struct.unpack(order + ("Q" if big else "I"), data[vpos:vpos + field])
        entries.append(Entry(tag, typ, num, vpos, inline))
    (nxt,) = struct.unpack(order + ("Q" if big else "I"), data[end:end + field])
    return entries, nxt


def _entry_count(data: bytes, offset: int, order: str, big: bool) -> int | None:
    """The number of entries the directory at ``offset`` declares; None when it is outside the data."""
    head = 8 if big else 2
    if offset < 8 or offset + head > len(data):
        return None
    (count,) = struct.unpack(order + ("Q" if big else "H"), data[offset:offset + head])
    return int(count)


def int_value(data: bytes, entry: Entry, order: str) -> int:
    """The single unsigned integer an entry holds; DecodeError for any other shape of value."""
    name = TAG_NAMES.get(entry.tag, f"tag {entry.tag}")
    f = _INT_FORMAT.get(entry.type)
    if f is None or entry.count != 1:
        raise DecodeError(f"{name} is {entry.count} value(s) of type {entry.type}, not one integer")
    raw = data[entry.value_pos:entry.value_pos + TYPE_SIZE[entry.type]]
    if len(raw) != TYPE_SIZE[entry.type]:
        raise DecodeError(f"{name} points beyond the end of the file")
    (v,) = struct.unpack(order + f, raw)
    if v < 0:
        raise DecodeError(f"{name} is negative ({v})")
    return v


def int_values(data: bytes, entry: Entry, order: str) -> list[int]:
    """All values of an integer entry (its size was checked to lie inside the file)."""
    f = _INT_FORMAT.get(entry.type)
    if f is None:
        name = TAG_NAMES.get(entry.tag, f"tag {entry.tag}")
        raise DecodeError(f"{name} has type {entry.type}, not integers")
    size = TYPE_SIZE[entry.type] * entry.count
    return list(struct.unpack(f"{order}{entry.count}{f}", data[entry.value_pos:entry.value_pos + size]))


# Best compression each method can reach (bytes of samples per stored byte): uncompressed 1,
# PackBits 128:2, Deflate 1032:1, LZW (12-bit codes, strings up to 4096 bytes) under 4096:1.
_MAX_RATIO = {1: 1, 32773: 64, 8: 1032, 32946: 1032, 5: 4096}
_COMPRESSION = {1: "uncompressed", 32773: "PackBits", 8: "Deflate", 32946: "Deflate", 5: "LZW"}


def _check_data_size(data: bytes, by_tag: dict[int, Entry], order: str, w: int, h: int, spp: int) -> None:
    """Refuse a directory whose strips/tiles cannot hold the declared image, before decoding."""
    comp = int_value(data, by_tag[259], order) if 259 in by_tag else 1
    counts = by_tag.get(279) or by_tag.get(325)
    if comp not in _MAX_RATIO or counts is None:
        return
    bps = int_values(data, by_tag[258], order)[0] if 258 in by_tag else 1
    raw = w * h * spp * bps // 8
    offsets = by_tag.get(273) or by_tag.get(324)
    stored = _stored_bytes(int_values(data, offsets, order) if offsets is not None else [],
                           int_values(data, counts, order), len(data))
    if stored * _MAX_RATIO[comp] < raw:
        raise DecodeError(f"declares {w}x{h} ({raw} bytes of samples) but its {_COMPRESSION[comp]} "
                          f"data holds {stored} bytes; at least {-(-raw // _MAX_RATIO[comp])} needed")


def _stored_bytes(offsets: list[int], counts: list[int], size: int) -> int:
    """Bytes of the file the strips or tiles cover, each byte once: the union of the ranges
    ``[offset, offset + count)`` within the file (10,000 strips may all point at one small blob, and
    their counts' sum would then vouch for data the file does not hold). Without offsets (a
    malformed directory), the counts' sum."""
    if len(offsets) != len(counts):
        return sum(counts)
    covered, reach = 0, 0
    for start, n in sorted(zip(offsets, counts)):
        end = min(start + n, size)
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return covered


def _directory(data: bytes, tf: TiffFile, offset: int, limits: Limits,
               which: str) -> tuple[int, int, int, dict[int, Entry], int]:
    """(width, height, next directory, layout entries, number of entries) of one image directory,
    checked for consistency; ``which`` names it in messages ("first", "directory 3's")."""
    entries, nxt = read_ifd(data, offset, order=tf.order, big=tf.big, limits=limits)
    by_tag: dict[int, Entry] = {}
    for e in entries:
        if e.tag == 254 and e.tag not in by_tag and e.inline:  # NewSubfileType: the first one read
            by_tag[e.tag] = e
        elif e.tag in LAYOUT_TAGS:
            if e.tag in by_tag:
                raise DecodeError(f"{TAG_NAMES[e.tag]} (tag {e.tag}) appears twice in the {which} directory")
            if not e.count:
                raise DecodeError(f"{TAG_NAMES[e.tag]} (tag {e.tag}) has no value in the {which} directory")
            size = e.size
            if size is None:
                raise DecodeError(f"{TAG_NAMES[e.tag]} has unknown type {e.type}")
            if not e.inline and e.value_pos + size > len(data):
                raise DecodeError(f"{TAG_NAMES[e.tag]} points beyond the end of the file")
            by_tag[e.tag] = e
    if 256 not in by_tag or 257 not in by_tag:
        raise DecodeError(f"no ImageWidth/ImageLength tags in the {which} directory")
    w = int_value(data, by_tag[256], tf.order)
    h = int_value(data, by_tag[257], tf.order)
    spp = int_value(data, by_tag[277], tf.order) if 277 in by_tag else 1
    if not 1 <= spp <= 4:
        raise DecodeError(f"SamplesPerPixel is {spp}; images of 1 to 4 samples are decoded")
    if 273 not in by_tag and 324 not in by_tag:
        raise DecodeError(f"no StripOffsets or TileOffsets: the {which} directory locates no image data")
    return w, h, nxt, by_tag, len(entries)


def _checked_size(data: bytes, tf: TiffFile, by_tag: dict[int, Entry], w: int, h: int, limits: Limits) -> None:
    check_pixels(w, h, limits)
    spp = int_value(data, by_tag[277], tf.order) if 277 in by_tag else 1
    try:
        _check_data_size(data, by_tag, tf.order, w, h, spp)
    except DecodeError as e:
        raise DecodeError(f"truncated TIFF: {e}") from None


def header(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """Declared (width, height) of the first image, after checking its directory is consistent."""
    try:
        tf = open_tiff(data)
        w, h, _next, by_tag, _n = _directory(data, tf, tf.first_ifd, limits, "first")
    except DecodeError as e:
        raise DecodeError(f"corrupt TIFF: {e}") from None
    _checked_size(data, tf, by_tag, w, h, limits)
    return w, h


def pages(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[int, tuple[tuple[int, int, int, int, bool], ...]]:
    """The images of a TIFF: ``(directories, ((index, width, height, white, misdecoded), ...))``; ``white``
    is the BitsPerSample of an image stored MinIsWhite with 9 to 16 bits a sample, else 0; ``misdecoded``
    whether OpenCV 5 decodes the image's samples wrongly (:func:`_misdecoded`: wide samples stored
    plane by plane, 8-bit unassociated alpha), so that tifffile decodes it (:mod:`compare.load`).

    Every directory of the main chain is walked (at most ``max_images`` directories and
    ``max_segments`` entries in all; a chain that loops back is corrupt); the images are those not marked reduced-resolution (NewSubfileType bit 0: a
    thumbnail or a pyramid level is a view of another image, not one of its own). ``index`` counts
    every directory, as a decoder that yields each one does. Each image's directory is checked as
    the first one is (:func:`header`), before any pixel is decoded.
    """
    tf = open_tiff(data)
    if not tf.first_ifd:
        raise DecodeError("corrupt TIFF: the header points to no image directory (offset 0)")
    seen: set[int] = set()
    out: list[tuple[int, int, int, int, bool]] = []
    wide = 0  # pixels of images stored wider than 16 bits a sample, and their bytes a pixel
    narrow = 0  # decoded bytes of the images of at most 16 bits a sample
    offset, index = tf.first_ifd, 0
    walked = 0  # directory entries read along the chain
    while offset:
        if walked > limits.max_segments:
            raise LimitError(f"more than {limits.max_segments} TIFF directory entries in all, over the limit max_segments")
        if offset in seen:
            raise DecodeError(f"corrupt TIFF: the directory chain loops back to offset {offset}")
        check_image_count(index + 1, limits, "TIFF directories")
        seen.add(offset)
        which = "first" if index == 0 else f"directory {index + 1}'s"
        if walked + (_entry_count(data, offset, tf.order, tf.big) or 0) > limits.max_segments:  # before its entries
            raise LimitError(f"more than {limits.max_segments} TIFF directory entries in all, over the limit max_segments")
        try:
            w, h, offset, by_tag, n_entries = _directory(data, tf, offset, limits, which)
            walked += n_entries
        except DecodeError as e:
            raise DecodeError(f"corrupt TIFF: {e}") from None
        try:
            sub = int_value(data, by_tag[254], tf.order) if 254 in by_tag else 0
        except DecodeError:  # an odd NewSubfileType: counted as an image (decoded, digested)
            sub = 0
        if index == 0 and sub & 1:  # the file's first image is a preview of one it holds elsewhere
            raise DecodeError("the first image is a reduced-resolution preview (NewSubfileType 1), as in camera "
                              "raw files (DNG, NEF, ...); the full image is not decoded here: convert the file "
                              "to TIFF or PNG first")
        if not sub & 1:
            _checked_size(data, tf, by_tag, w, h, limits)
            bps, spp, photometric = _samples(data, tf, by_tag)
            # MinIsWhite with more than 8 bits: OpenCV 5.0 inverts an 8-bit MinIsWhite image but hands
            # 16-bit samples over as stored; the loader inverts those (compare.load._as_displayed)
            out.append((index, w, h, bps if photometric == 0 and 8 < bps <= 16 else 0,
                        _misdecoded(data, tf, by_tag, bps, spp, photometric)))
            n_bytes, w_bytes = _bytes_per_pixel(bps, spp)
            narrow += w * h * n_bytes
            wide += w * h * w_bytes
        index += 1
    if wide:  # 32/64-bit samples decode to 4-8 bytes each, and their 16-bit rendering is made beside
        _check_wide(wide, limits)
    if narrow:  # 16-bit or 4-sample images: more than the 3 bytes a pixel --max-pixels stands for
        images = f" in {len(out)} images" if len(out) > 1 else ""
        check_decoded_bytes(narrow, what=f"TIFF{images}", limits=limits)
    return index, tuple(out)


def _misdecoded(data: bytes, tf: TiffFile, by_tag: dict[int, Entry], bps: int, spp: int, photometric: int) -> bool:
    """Whether OpenCV 5 decodes this image's samples wrongly (:func:`compare.load._tifffile_pages`
    decodes it again): several samples wider than 8 bits stored plane by plane (PlanarConfiguration
    2: scrambled), or 8-bit RGBA whose alpha is unassociated (ExtraSamples 2: libtiff's RGBA reader
    premultiplies the colour by it, which a PNG of the same pixels does not)."""
    try:
        planar = (int_value(data, by_tag[284], tf.order) if 284 in by_tag else 1) == 2
        extra = int_values(data, by_tag[338], tf.order) if 338 in by_tag else []
    except DecodeError:  # odd tags: the decoder decides
        return False
    return (planar and bps > 8 and spp > 1) or (bps == 8 and spp == 4 and photometric == 2 and 2 in extra)


def _samples(data: bytes, tf: TiffFile, by_tag: dict[int, Entry]) -> tuple[int, int, int]:
    """(BitsPerSample, SamplesPerPixel, PhotometricInterpretation) of a directory's image; the TIFF
    defaults (1, 1, 1) for what is absent or unreadable (the decoder then decides)."""
    try:
        bps = max(int_values(data, by_tag[258], tf.order)) if 258 in by_tag else 1
        spp = int_value(data, by_tag[277], tf.order) if 277 in by_tag else 1
        photometric = int_value(data, by_tag[262], tf.order) if 262 in by_tag else 1
    except DecodeError:
        return 1, 1, 1
    return bps, spp, photometric


def _bytes_per_pixel(bps: int, spp: int) -> tuple[int, int]:
    """(narrow, wide): bytes a pixel takes decoded (OpenCV's IMREAD_UNCHANGED: up to 4 samples of 1 or
    2 bytes) when its samples are at most 16 bits wide; or, wider, what it costs to decode and render
    (the decoded samples, then a 2-byte rendering: compare.load.render16). The other one is 0."""
    if bps > 16:
        return 0, (bps // 8) * spp + 2 * min(spp, 4)
    return min(spp, 4) * (2 if bps > 8 else 1), 0


def _check_wide(need: int, limits: Limits) -> None:
    """LimitError when images of 32/64-bit samples need more than the memory ``--max-pixels``
    stands for (3 bytes a pixel: an 8-bit RGB decode) to decode and render."""
    budget = limits.max_pixels * BUDGET_BYTES_PER_PIXEL
    if need > budget:
        raise LimitError(f"32/64-bit samples need about {human_bytes(need)} to decode and render, over the "
                         f"{human_bytes(budget)} that --max-pixels {limits.max_pixels / 1e6:g} MP allows (3 bytes "
                         f"per pixel); raise --max-pixels if the file is trusted")

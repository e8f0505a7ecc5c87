"""Read, compare and strip the metadata an image file carries besides its pixels.

Policy
------
* **Metadata is everything that does not define the decoded pixels.** For JPEG that is every
  APPn segment (JFIF, EXIF, XMP, ICC profile, Photoshop, MPF, ...), COM comments, bytes between
  segments that decoders skip, and data after the end-of-image marker. The Adobe APP14 segment is
  *not* metadata: its transform flag tells the decoder which colour transform to undo, so it is
  kept and never reported. For PNG it is every chunk except IHDR, PLTE, tRNS, IDAT and IEND
  (tRNS defines alpha, PLTE the colours of a paletted image), plus bytes after IEND.
* **Flat, ordered, printable.** :func:`read_metadata` returns ``{key: value}`` with keys such as
  ``EXIF DateTime``, ``PNG tEXt Comment`` or ``JPEG APP2 ICC profile`` in the order the file
  carries them, and string values: text as text (control characters escaped, long text cut to
  100 characters plus its length and SHA-256), opaque blobs as ``"<n> bytes, sha256 <12 hex>"``
  (or ``"<n> bytes: <hex>"`` when at most 16 bytes), so two values are equal exactly when the
  underlying data is. A key that occurs twice gets a suffix (``JPEG COM 2``).
* **EXIF** (JPEG APP1, PNG eXIf, WebP EXIF, and the first directory of a TIFF file) is read with
  ``piexif``: one key per tag, ``EXIF <tag name>`` with the names of ``piexif.TAGS`` (tags of the
  thumbnail directory as ``EXIF thumbnail <name>``, the thumbnail itself as ``EXIF thumbnail``),
  unknown tags as ``EXIF Tag 0x<hex>``. Offsets that only locate other data (the Exif, GPS and
  Interop directory pointers, the thumbnail offset) are not reported. For TIFF files the tags that
  define the image layout (width, strips, compression, ...) are not metadata and are skipped.
* **Corrupt metadata never raises.** The EXIF block is checked before piexif sees it (every value
  must lie inside the block, so a hostile count cannot make piexif allocate gigabytes); a block
  that fails gives the single entry ``EXIF = "unreadable (<reason>)"``. A file whose structure
  breaks off gives ``<FORMAT> structure = "unreadable (<reason>)"`` after what could be read.
* **Stripping never re-encodes.** :func:`strip_metadata` copies the kept JPEG segments and the
  entropy-coded data, or the kept PNG chunks, byte for byte. :func:`strip_verified` also decodes
  the result and refuses when the pixel digest would change.

Orientation follows :mod:`compare.load`: it is never applied to pixels, and shows up here as
``EXIF Orientation``.
"""
from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass, field

import piexif

from .digest import file_sha256, pixel_sha256
from .errors import DecodeError, InputError
from .load import DEFAULT_MAX_PIXELS, decode, read_header, sniff_format

__all__ = ["MetadataDifference", "StripResult", "read_metadata", "diff_metadata",
           "describe_differences", "strip_metadata", "strip_verified", "STRIP_FORMATS"]

#: Formats :func:`strip_metadata` can rewrite without re-encoding.
STRIP_FORMATS = ("jpeg", "png")
_KNOWN_FORMATS = ("png", "jpeg", "tiff", "bmp", "webp", "gif", "pnm")

_TEXT_LIMIT = 200      # longer text values are shortened (with length and digest)
_INFLATE_LIMIT = 16 << 20  # decompressed zTXt/iTXt/iCCP data beyond this is not inflated


# =========================================================================== value rendering

def _digest12(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _blob(data: bytes) -> str:
    """An opaque byte string as a short, comparison-safe summary."""
    if len(data) <= 16:
        return f"{len(data)} bytes: {data.hex()}" if data else "0 bytes"
    return f"{len(data)} bytes, sha256 {_digest12(data)}"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _text(s: str) -> str | None:
    """Printable rendering of text, or None when it is not text (control characters)."""
    if not all(c.isprintable() or c in _ESCAPES for c in s):
        return None
    s = "".join(_ESCAPES.get(c, c) for c in s)
    if len(s) > _TEXT_LIMIT:
        raw = s.encode("utf-8")
        return f"{s[:100]}... ({len(s)} characters, sha256 {_digest12(raw)})"
    return s


def _bytes_value(data: bytes, *, encoding: str = "ascii") -> str:
    """Bytes shown as text when they are printable text, else as a blob summary."""
    trimmed = data.rstrip(b"\x00")
    for enc in dict.fromkeys((encoding, "utf-8")):
        try:
            t = _text(trimmed.decode(enc))
        except UnicodeDecodeError:
            continue
        if t is not None:
            return t
    return _blob(data)


def _unreadable(reason: str) -> str:
    return f"unreadable ({reason})"


def _add(md: dict[str, str], key: str, value: str) -> None:
    """Insert ``key``, suffixing `` 2``, `` 3`` ... when the file carries it more than once."""
    if key in md:
        i = 2
        while f"{key} {i}" in md:
            i += 1
        key = f"{key} {i}"
    md[key] = value


def _inflate(data: bytes, limit: int = _INFLATE_LIMIT) -> bytes:
    """zlib-decompress at most ``limit`` bytes; raises ValueError beyond it or on bad data."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit)
    except zlib.error as e:
        raise ValueError(f"zlib: {e}") from None
    if d.unconsumed_tail:
        raise ValueError(f"over {limit} bytes when decompressed")
    return out


# =========================================================================== EXIF

_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_IFD_TABLE = {"0th": "Image", "Exif": "Exif", "GPS": "GPS", "Interop": "Interop", "1st": "Image"}
_EXIF_POINTER, _GPS_POINTER, _INTEROP_POINTER = 34665, 34853, 40965
_THUMB_OFFSET, _THUMB_LENGTH = 513, 514
_NOT_REPORTED = {("0th", _EXIF_POINTER), ("0th", _GPS_POINTER), ("Exif", _INTEROP_POINTER),
                 ("1st", _THUMB_OFFSET), ("1st", _THUMB_LENGTH)}
# TIFF tags that define how the pixels are stored: image structure, not metadata.
_TIFF_STRUCTURE = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 284, 292, 293,
                   317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 512, 513, 514, 515,
                   517, 518, 519, 520, 521, 529, 530, 531, 532}
_XP_TAGS = {40091, 40092, 40093, 40094, 40095}
_USER_COMMENT = 37510
_ORIENTATION = {1: "normal", 2: "mirror horizontal", 3: "rotate 180", 4: "mirror vertical",
                5: "mirror horizontal and rotate 270 CW", 6: "rotate 90 CW",
                7: "mirror horizontal and rotate 90 CW", 8: "rotate 270 CW"}


class _BadExif(ValueError):
    pass


def _check_tiff_block(tiff: bytes) -> dict[tuple[str, int], tuple[int, int]]:
    """Walk the IFDs exactly as ``piexif.load`` will and check every entry fits in the block.

    Returns ``{(ifd, tag): (type, count)}``. Raises :class:`_BadExif` with a reason otherwise.
    This guard matters: piexif builds a ``struct`` format of ``count`` characters, so a single
    entry declaring 4 billion values would otherwise allocate gigabytes.
    """
    n = len(tiff)
    if n < 8 or tiff[:4] not in (b"II*\x00", b"MM\x00*"):
        raise _BadExif("no TIFF header")
    e = "<" if tiff[:2] == b"II" else ">"
    found: dict[tuple[str, int], tuple[int, int]] = {}

    def walk(ifd: str, offset: int) -> dict[int, int]:
        if offset + 2 > n:
            raise _BadExif(f"{ifd} directory at offset {offset} is outside the {n}-byte block")
        (count,) = struct.unpack(e + "H", tiff[offset:offset + 2])
        if offset + 2 + 12 * count + 4 > n:
            raise _BadExif(f"{ifd} directory declares {count} entries, more than the block holds")
        values: dict[int, int] = {}
        for i in range(count):
            p = offset + 2 + 12 * i
            tag, typ, num = struct.unpack(e + "HHL", tiff[p:p + 8])
            known = tag in piexif.TAGS[_IFD_TABLE[ifd]]
            if typ not in _TYPE_SIZE:
                if known:
                    raise _BadExif(f"tag {tag} in {ifd} has invalid type {typ}")
                found[(ifd, tag)] = (typ, num)
                continue
            size = num * _TYPE_SIZE[typ]
            if known and (size > 4 or typ in (5, 10, 12)):  # piexif reads rationals and doubles via a pointer
                (ptr,) = struct.unpack(e + "L", tiff[p + 8:p + 12])
                if ptr + size > n:
                    raise _BadExif(f"tag {tag} in {ifd} declares {num} values beyond the end of "
                                   f"the {n}-byte block")
            if typ in (3, 4) and num == 1:
                (values[tag],) = struct.unpack(e + ("H" if typ == 3 else "L"),
                                               tiff[p + 8:p + 8 + _TYPE_SIZE[typ]])
            found[(ifd, tag)] = (typ, num)
        return values

    def pointer(ifd: str, values: dict[int, int], tag: int, target: str) -> int | None:
        if (ifd, tag) not in found:
            return None
        if tag not in values:  # piexif would follow a signed or non-integer value blindly
            raise _BadExif(f"the {target} directory pointer is not an unsigned integer")
        return values[tag]

    (ifd0,) = struct.unpack(e + "L", tiff[4:8])
    v0 = walk("0th", ifd0)
    exif_ptr = pointer("0th", v0, _EXIF_POINTER, "Exif")
    gps_ptr = pointer("0th", v0, _GPS_POINTER, "GPS")
    if exif_ptr is not None:
        v_exif = walk("Exif", exif_ptr)
        interop_ptr = pointer("Exif", v_exif, _INTEROP_POINTER, "Interop")
        if interop_ptr is not None:
            walk("Interop", interop_ptr)
    if gps_ptr is not None:
        walk("GPS", gps_ptr)
    (count0,) = struct.unpack(e + "H", tiff[ifd0:ifd0 + 2])
    (ifd1,) = struct.unpack(e + "L", tiff[ifd0 + 2 + 12 * count0:ifd0 + 6 + 12 * count0])
    if ifd1:
        walk("1st", ifd1)
    return found


def _format_number(x) -> str:
    if isinstance(x, float):
        return format(x, "g")
    return str(x)


def _format_rational(r) -> str:
    num, den = r
    return str(num) if den == 1 else f"{num}/{den}"


def _format_exif_value(tag: int, typ: int, value) -> str:
    if typ == 2:  # ASCII
        return _bytes_value(value) if isinstance(value, bytes) else str(value)
    if typ == 7:  # UNDEFINED
        if tag == _USER_COMMENT and len(value) >= 8:
            code, body = value[:8], value[8:]
            if code.rstrip(b"\x00 ") in (b"ASCII", b""):
                return _bytes_value(body)
            if code.startswith(b"UNICODE"):
                for enc in ("utf-16-be", "utf-16-le"):
                    try:
                        t = _text(body.decode(enc).rstrip("\x00"))
                    except UnicodeDecodeError:
                        continue
                    if t is not None:
                        return t
            return _blob(value)
        return _bytes_value(value)
    if typ in (1, 6):  # BYTE / SBYTE: an int or a tuple of ints
        vals = value if isinstance(value, tuple) else (value,)
        if tag in _XP_TAGS:
            try:
                t = _text(bytes(v & 0xFF for v in vals).decode("utf-16-le").rstrip("\x00"))
            except UnicodeDecodeError:
                t = None
            return t if t is not None else _blob(bytes(v & 0xFF for v in vals))
        if len(vals) > 4:
            return _bytes_value(bytes(v & 0xFF for v in vals))
        return " ".join(str(v) for v in vals)
    if typ in (5, 10):  # (SIGNED) RATIONAL: a pair or a tuple of pairs
        if value and isinstance(value[0], tuple):
            text = ", ".join(_format_rational(r) for r in value)
        else:
            text = _format_rational(value) if value else ""
    else:  # SHORT, LONG, SSHORT, SLONG, FLOAT, DOUBLE
        vals = value if isinstance(value, tuple) else (value,)
        if len(vals) > 16:
            raw = repr(vals).encode("ascii")
            return f"{len(vals)} values, sha256 {_digest12(raw)}"
        text = " ".join(_format_number(v) for v in vals)
    if tag == 274 and text.isdigit() and int(text) in _ORIENTATION:
        text = f"{text} ({_ORIENTATION[int(text)]})"
    return text


def _exif_entries(tiff: bytes, md: dict[str, str], *, skip_structure: bool = False) -> None:
    """Add one ``EXIF <tag>`` entry per tag of a TIFF-structured EXIF block to ``md``."""
    try:
        types = _check_tiff_block(tiff)
        exif = piexif.load(tiff)
    except _BadExif as e:
        md["EXIF"] = _unreadable(str(e))
        return
    except (struct.error, ValueError, TypeError, IndexError, KeyError, OverflowError,
            piexif.InvalidImageDataError) as e:
        md["EXIF"] = _unreadable(f"piexif: {type(e).__name__}: {e}".strip().rstrip(":"))
        return
    for ifd in ("0th", "Exif", "GPS", "Interop", "1st"):
        table = piexif.TAGS[_IFD_TABLE[ifd]]
        prefix = "EXIF thumbnail " if ifd == "1st" else "EXIF "
        for tag, value in exif.get(ifd, {}).items():
            if (ifd, tag) in _NOT_REPORTED:
                continue
            if skip_structure and ifd == "0th" and tag in _TIFF_STRUCTURE:
                continue
            typ = types.get((ifd, tag), (table[tag]["type"], 0))[0]
            key = prefix + table[tag]["name"]
            if key in md:  # the same tag name in two directories
                key = f"{key} ({ifd})"
            _add(md, key, _format_exif_value(tag, typ, value))
    # Tags piexif does not know are skipped by piexif.load; list them so nothing goes unseen.
    for (ifd, tag), (typ, num) in types.items():
        if tag not in piexif.TAGS[_IFD_TABLE[ifd]]:
            if skip_structure and ifd == "0th" and tag in _TIFF_STRUCTURE:
                continue
            prefix = "EXIF thumbnail " if ifd == "1st" else "EXIF "
            _add(md, f"{prefix}Tag 0x{tag:04x}", f"type {typ}, {num} values")
    thumb = exif.get("thumbnail")
    if thumb:
        md["EXIF thumbnail"] = f"{len(thumb)} bytes, sha256 {_digest12(thumb)}"


def _exif_from_payload(payload: bytes, md: dict[str, str]) -> None:
    """EXIF stored with or without the ``Exif\\0\\0`` prefix (JPEG APP1, PNG eXIf, WebP EXIF)."""
    if payload[:4] == b"Exif":
        payload = payload[6:]
    _exif_entries(payload, md)


# =========================================================================== JPEG structure

@dataclass(frozen=True)
class _Segment:
    marker: int  # 0xE0 for APP0, 0xDA for a scan (header plus its entropy-coded data), ...
    start: int   # offset of the 0xFF of the marker
    end: int     # offset just past the segment (and past the entropy data for a scan)


@dataclass
class _JpegLayout:
    segments: list[_Segment] = field(default_factory=list)
    extraneous: int = 0      # bytes between segments that decoders skip
    trailing: bytes = b""    # bytes after EOI
    error: str | None = None  # why the walk stopped early (the file is then not whole)


# A marker inside entropy-coded data: 0xFF followed by anything but a stuffed 0x00, a restart
# marker or another fill byte.
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_STANDALONE = {0x01, 0xD8} | set(range(0xD0, 0xD8))


def _jpeg_layout(data: bytes) -> _JpegLayout:
    """Split a JPEG into its segments, up to and including EOI. Never raises."""
    out = _JpegLayout()
    n = len(data)
    if data[:2] != b"\xff\xd8":
        out.error = "no start-of-image marker"
        return out
    pos = 2
    while True:
        if pos >= n:
            out.error = "the file ends before its end-of-image marker"
            return out
        if data[pos] != 0xFF:  # garbage between segments: decoders skip to the next marker
            nxt = data.find(b"\xff", pos)
            if nxt < 0:
                out.error = "the file ends before its end-of-image marker"
                return out
            out.extraneous += nxt - pos
            pos = nxt
        while pos + 1 < n and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos + 1 >= n:
            out.error = "the file ends inside a marker"
            return out
        marker = data[pos + 1]
        if marker == 0xD9:
            out.segments.append(_Segment(marker, pos, pos + 2))
            out.trailing = data[pos + 2:]
            return out
        if marker in _STANDALONE:
            out.segments.append(_Segment(marker, pos, pos + 2))
            pos += 2
            continue
        if pos + 4 > n:
            out.error = f"the file ends inside the header of marker 0x{marker:02X}"
            return out
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        if length < 2 or end > n:
            out.error = f"segment 0x{marker:02X} at byte {pos} runs past the end of the file"
            return out
        if marker == 0xDA:
            m = _SCAN_END.search(data, end)
            if m is None:
                out.error = "the file ends inside the image data (no end-of-image marker)"
                return out
            end = m.start()
        out.segments.append(_Segment(marker, pos, end))
        pos = end


def _app_id(payload: bytes) -> bytes:
    nul = payload.find(b"\x00", 0, 80)
    return payload[:nul] if nul >= 0 else b""


def _is_adobe(data: bytes, seg: _Segment) -> bool:
    return seg.marker == 0xEE and data[seg.start + 4:seg.start + 9] == b"Adobe"


def _is_jpeg_metadata(data: bytes, seg: _Segment) -> bool:
    return (0xE0 <= seg.marker <= 0xEF and not _is_adobe(data, seg)) or seg.marker == 0xFE


_JFIF_UNITS = {0: "(aspect ratio only)", 1: "dpi", 2: "dots per cm"}
_XMP_ID = b"http://ns.adobe.com/xap/1.0/"
_XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/"


def _jfif(payload: bytes) -> str:
    if len(payload) < 14:
        return _unreadable(f"{len(payload)}-byte JFIF segment, expected at least 14")
    major, minor, units = payload[5], payload[6], payload[7]
    xd, yd = struct.unpack(">HH", payload[8:12])
    text = f"version {major}.{minor:02d}, density {xd}x{yd} {_JFIF_UNITS.get(units, f'units {units}')}"
    if payload[12] or payload[13]:
        text += f", thumbnail {payload[12]}x{payload[13]}"
    return text


def _jpeg_metadata(data: bytes) -> dict[str, str]:
    md: dict[str, str] = {}
    layout = _jpeg_layout(data)
    icc: list[bytes] = []
    icc_key_pos = None
    for seg in layout.segments:
        if not _is_jpeg_metadata(data, seg):
            continue
        payload = data[seg.start + 4:seg.end]
        if seg.marker == 0xFE:
            _add(md, "JPEG COM", _bytes_value(payload, encoding="latin-1"))
            continue
        n = seg.marker - 0xE0
        ident = _app_id(payload)
        if n == 0 and ident == b"JFIF":
            _add(md, "JPEG APP0 JFIF", _jfif(payload))
        elif n == 1 and payload[:4] == b"Exif" and "EXIF" not in md and not any(
                k.startswith("EXIF ") for k in md):
            _exif_from_payload(payload, md)
        elif n == 1 and ident == _XMP_ID:
            _add(md, "JPEG APP1 XMP", _blob(payload[len(_XMP_ID) + 1:]))
        elif n == 1 and ident == _XMP_EXT_ID:
            _add(md, "JPEG APP1 XMP extension", _blob(payload[len(_XMP_ID) + 1:]))
        elif n == 2 and ident == b"ICC_PROFILE":
            icc.append(payload[14:])  # "ICC_PROFILE\0" + sequence number + count
            if icc_key_pos is None:
                icc_key_pos = len(md)
                md["JPEG APP2 ICC profile"] = ""
        else:
            name = ident.decode("latin-1") if ident and _text(ident.decode("latin-1")) else ""
            _add(md, f"JPEG APP{n} {name}".rstrip(), _blob(payload))
    if icc:
        prof = b"".join(icc)
        md["JPEG APP2 ICC profile"] = f"{len(prof)} bytes, sha256 {_digest12(prof)}"
    if layout.extraneous:
        md["JPEG extraneous bytes"] = f"{layout.extraneous} bytes between segments"
    if layout.trailing:
        md["JPEG data after EOI"] = _blob(layout.trailing)
    if layout.error:
        md["JPEG structure"] = _unreadable(layout.error)
    return md


# =========================================================================== PNG structure

_PNG_SIG = b"\x89PNG\r\n\x1a\n"
_PNG_PIXEL_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


@dataclass(frozen=True)
class _Chunk:
    type: bytes
    start: int  # offset of the length field
    end: int    # offset just past the CRC

    def body(self, data: bytes) -> bytes:
        return data[self.start + 8:self.end - 4]

    def crc_ok(self, data: bytes) -> bool:
        (crc,) = struct.unpack(">I", data[self.end - 4:self.end])
        return zlib.crc32(data[self.start + 4:self.end - 4]) == crc


def _png_layout(data: bytes) -> tuple[list[_Chunk], bytes, str | None]:
    """(chunks up to and including IEND, bytes after IEND, error or None). Never raises."""
    if not data.startswith(_PNG_SIG):
        return [], b"", "no PNG signature"
    chunks: list[_Chunk] = []
    pos, n = 8, len(data)
    while pos + 12 <= n:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if length > 0x7FFFFFFF or not ctype.isalpha():
            return chunks, b"", f"corrupt chunk header at byte {pos}"
        end = pos + 12 + length
        if end > n:
            break
        chunks.append(_Chunk(ctype, pos, end))
        pos = end
        if ctype == b"IEND":
            return chunks, data[pos:], None
    return chunks, b"", "the file ends before its IEND chunk"


_SRGB_INTENT = {0: "perceptual", 1: "relative colorimetric", 2: "saturation",
                3: "absolute colorimetric"}


def _png_text_chunk(kind: bytes, body: bytes) -> tuple[str, str]:
    """Key suffix (the keyword) and value for tEXt, zTXt and iTXt."""
    nul = body.find(b"\x00")
    if nul < 0:
        return "", _unreadable("no keyword terminator")
    keyword = body[:nul].decode("latin-1")
    rest = body[nul + 1:]
    try:
        if kind == b"tEXt":
            return keyword, _bytes_value(rest, encoding="latin-1")
        if kind == b"zTXt":
            if not rest or rest[0] != 0:
                return keyword, _unreadable("unknown compression method")
            return keyword, _bytes_value(_inflate(rest[1:]), encoding="latin-1")
        # iTXt: flag, method, language\0, translated keyword\0, text (UTF-8)
        if len(rest) < 2:
            return keyword, _unreadable("truncated iTXt header")
        flag, method = rest[0], rest[1]
        parts = rest[2:].split(b"\x00", 2)
        if len(parts) < 3:
            return keyword, _unreadable("truncated iTXt header")
        lang, _translated, text = parts
        if flag:
            if method != 0:
                return keyword, _unreadable("unknown compression method")
            text = _inflate(text)
        value = _bytes_value(text, encoding="utf-8")
        if lang:
            value = f"{value} [{lang.decode('latin-1')}]"
        return keyword, value
    except ValueError as e:
        return keyword, _unreadable(str(e))


def _png_fixed(body: bytes, size: int, fmt: str, render) -> str:
    if len(body) != size:
        return _unreadable(f"{len(body)} bytes, expected {size}")
    return render(*struct.unpack(fmt, body))


def _png_chunk_value(ctype: bytes, body: bytes) -> str:
    if ctype == b"tIME":
        return _png_fixed(body, 7, ">HBBBBB",
                          lambda y, mo, d, h, mi, s: f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d} UTC")
    if ctype == b"gAMA":
        return _png_fixed(body, 4, ">I", lambda g: f"{g / 100000:g}")
    if ctype == b"cHRM":
        return _png_fixed(body, 32, ">8I", lambda *v: "white {:g} {:g}, red {:g} {:g}, green {:g} {:g}, "
                          "blue {:g} {:g}".format(*(x / 100000 for x in v)))
    if ctype == b"sRGB":
        return _png_fixed(body, 1, ">B", lambda i: f"{i} ({_SRGB_INTENT.get(i, 'unknown intent')})")
    if ctype == b"pHYs":
        def phys(x, y, unit):
            if unit == 1:
                return f"{x}x{y} per metre ({x * 0.0254:.4g}x{y * 0.0254:.4g} dpi)"
            return f"{x}x{y} (aspect ratio only)"
        return _png_fixed(body, 9, ">IIB", phys)
    if ctype == b"sBIT":
        return " ".join(str(b) for b in body) if 1 <= len(body) <= 4 else _unreadable(
            f"{len(body)} bytes, expected 1 to 4")
    if ctype == b"iCCP":
        nul = body.find(b"\x00")
        if nul < 0 or nul + 2 > len(body):
            return _unreadable("no profile name terminator")
        name = body[:nul].decode("latin-1")
        try:
            prof = _inflate(body[nul + 2:])
        except ValueError as e:
            return f"{name}, " + _unreadable(str(e))
        return f"{name}, {len(prof)} bytes, sha256 {_digest12(prof)}"
    return _blob(body)


def _png_metadata(data: bytes) -> dict[str, str]:
    md: dict[str, str] = {}
    chunks, trailing, error = _png_layout(data)
    others: dict[str, list[bytes]] = {}  # other chunk types, summarised once per type
    for ch in chunks:
        if ch.type in _PNG_PIXEL_CHUNKS:
            continue
        body = ch.body(data)
        name = ch.type.decode("ascii")
        bad_crc = "" if ch.crc_ok(data) else " (bad CRC)"
        if ch.type in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, value = _png_text_chunk(ch.type, body)
            _add(md, f"PNG {name} {keyword}".rstrip(), value + bad_crc)
        elif ch.type == b"eXIf":
            _exif_from_payload(body, md)
            if bad_crc:
                _add(md, "PNG eXIf", "bad CRC")
        elif ch.type in (b"tIME", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"sBIT", b"iCCP"):
            _add(md, f"PNG {name}", _png_chunk_value(ch.type, body) + bad_crc)
        else:
            key = f"PNG {name}"
            if key not in others:
                others[key] = []
                md[key] = ""  # placeholder keeps the order of first appearance
            others[key].append(body + (b"\x00bad-crc" if bad_crc else b""))
    for key, bodies in others.items():
        if len(bodies) == 1:
            md[key] = _blob(bodies[0])
        else:
            joined = b"".join(bodies)
            md[key] = f"{len(bodies)} chunks, {len(joined)} bytes, sha256 {_digest12(joined)}"
    if trailing:
        md["PNG data after IEND"] = _blob(trailing)
    if error:
        md["PNG structure"] = _unreadable(error)
    return md


# =========================================================================== other formats

def _webp_metadata(data: bytes) -> dict[str, str]:
    md: dict[str, str] = {}
    pos, n = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while pos + 8 <= n:
        fourcc = data[pos:pos + 4]
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        body = data[pos + 8:pos + 8 + size]
        if len(body) < size:
            md["WebP structure"] = _unreadable(f"chunk {fourcc!r} runs past the end of the file")
            break
        name = fourcc.decode("latin-1").strip()
        if fourcc == b"EXIF":
            _exif_from_payload(body, md)
        elif fourcc not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"):
            _add(md, f"WebP {name}", _blob(body))
        pos += 8 + size + (size & 1)
    return md


def _pnm_metadata(data: bytes) -> dict[str, str]:
    """Comment lines of a PNM header (P1..P6)."""
    md: dict[str, str] = {}
    needed = 2 if data[1:2] in (b"1", b"4") else 3
    pos, tokens, n = 2, 0, min(len(data), 1 << 16)
    while tokens < needed and pos < n:
        c = data[pos:pos + 1]
        if c == b"#":
            end = data.find(b"\n", pos)
            end = n if end < 0 else end
            _add(md, "PNM comment", _bytes_value(data[pos + 1:end].strip(), encoding="latin-1"))
            pos = end
        elif c.isdigit():
            while pos < n and data[pos:pos + 1].isdigit():
                pos += 1
            tokens += 1
            continue
        pos += 1
    return md


# =========================================================================== public API

def read_metadata(data: bytes, fmt: str) -> dict[str, str]:
    """Every metadata item a file carries, as a flat ordered ``{key: printable value}`` mapping.

    Parameters
    ----------
    data : bytes
        The whole file.
    fmt : str
        Its format as :func:`compare.load.sniff_format` names it: ``"jpeg"``, ``"png"``,
        ``"tiff"``, ``"webp"``, ``"pnm"``, ``"bmp"`` or ``"gif"``.

    Returns
    -------
    dict of str to str
        Keys in file order. JPEG: ``EXIF <tag>`` (every tag, via piexif), ``EXIF thumbnail``
        (``"<n> bytes, sha256 <12 hex>"``), ``JPEG APP0 JFIF``, ``JPEG APP1 XMP``,
        ``JPEG APP2 ICC profile``, ``JPEG COM``, ``JPEG APP<n> <identifier>`` for other APPn,
        ``JPEG data after EOI``. PNG: ``PNG tEXt|zTXt|iTXt <keyword>`` (decompressed),
        ``PNG tIME``, ``PNG iCCP`` (profile name and size), ``EXIF <tag>`` from eXIf,
        ``PNG gAMA``, ``PNG cHRM``, ``PNG sRGB``, ``PNG pHYs``, ``PNG sBIT``, other ancillary
        chunks by name. WebP: EXIF tags, ``WebP ICCP``, ``WebP XMP``. TIFF: the EXIF/TIFF tags
        that are not image structure. PNM: header comments. BMP and GIF: nothing (empty).
        Adobe APP14 (JPEG) and PLTE/tRNS (PNG) define pixels and are never listed.

    Raises
    ------
    InputError
        When ``fmt`` is not one of the names above. Corrupt metadata does not raise: it is
        reported as ``EXIF = "unreadable (<reason>)"`` or ``<FORMAT> structure = "unreadable ..."``.

    Examples
    --------
    >>> import io, cv2, numpy as np, piexif
    >>> ok, jpg = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8))
    >>> exif = piexif.dump({"0th": {piexif.ImageIFD.DateTime: b"2018:08:01 12:09:00"}})
    >>> out = io.BytesIO()
    >>> piexif.insert(exif, jpg.tobytes(), out)
    >>> read_metadata(out.getvalue(), "jpeg")
    {'EXIF DateTime': '2018:08:01 12:09:00'}
    >>> read_metadata(jpg.tobytes(), "jpeg")
    {'JPEG APP0 JFIF': 'version 1.01, density 1x1 (aspect ratio only)'}
    """
    if fmt not in _KNOWN_FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(_KNOWN_FORMATS)}")
    if fmt == "jpeg":
        return _jpeg_metadata(data)
    if fmt == "png":
        return _png_metadata(data)
    if fmt == "webp":
        return _webp_metadata(data)
    if fmt == "tiff":
        md: dict[str, str] = {}
        _exif_entries(data, md, skip_structure=True)
        return md
    if fmt == "pnm":
        return _pnm_metadata(data)
    return {}


@dataclass(frozen=True)
class MetadataDifference:
    """One metadata entry that differs: ``a``/``b`` are the values, None where a side lacks it."""

    key: str
    a: str | None
    b: str | None

    @property
    def kind(self) -> str:
        """``"differs"``, ``"only in A"`` or ``"only in B"``."""
        if self.b is None:
            return "only in A"
        if self.a is None:
            return "only in B"
        return "differs"

    def to_json(self) -> dict:
        return {"key": self.key, "a": self.a, "b": self.b}


def diff_metadata(a: dict[str, str], b: dict[str, str]) -> list[MetadataDifference]:
    """Entries whose values differ or that only one side carries.

    Parameters
    ----------
    a, b : dict of str to str
        Mappings from :func:`read_metadata`.

    Returns
    -------
    list of MetadataDifference
        In order of appearance: the keys of ``a`` first, then keys only ``b`` has. Empty when
        the metadata is the same.

    Examples
    --------
    >>> diff_metadata({"EXIF DateTime": "2018:08:01 12:09:00"},
    ...               {"EXIF DateTime": "2018:08:01 12:09:05"})
    [MetadataDifference(key='EXIF DateTime', a='2018:08:01 12:09:00', b='2018:08:01 12:09:05')]
    """
    diffs = [MetadataDifference(k, v, b.get(k)) for k, v in a.items() if b.get(k) != v]
    diffs += [MetadataDifference(k, None, v) for k, v in b.items() if k not in a]
    return diffs


def _join_keys(keys: list[str]) -> str:
    return ", ".join(keys)


def describe_differences(diffs: list[MetadataDifference], *, limit: int = 3) -> str:
    """Words for a verdict reason.

    Parameters
    ----------
    diffs : list of MetadataDifference
        From :func:`diff_metadata`.
    limit : int, optional
        How many keys to name before summarising the rest as ``and N more``.

    Returns
    -------
    str
        ``"EXIF DateTime differs"``, ``"EXIF DateTime, EXIF DateTimeOriginal differ"``,
        ``"PNG tEXt Comment only in B"``, ``"EXIF A, EXIF B, EXIF C and 4 more differ"``,
        mixed kinds joined with ``"; "``; ``"metadata identical"`` when ``diffs`` is empty.

    Examples
    --------
    >>> describe_differences([MetadataDifference("EXIF DateTime", "12:09:00", "12:09:05")])
    'EXIF DateTime differs'
    """
    if not diffs:
        return "metadata identical"
    shown, rest = diffs[:limit], len(diffs) - min(len(diffs), limit)
    groups: dict[str, list[str]] = {}
    for d in shown:
        groups.setdefault(d.kind, []).append(d.key)
    if len({d.kind for d in diffs}) == 1:
        kind = diffs[0].kind
        keys = _join_keys(groups[kind]) + (f" and {rest} more" if rest else "")
        if kind == "differs":
            return f"{keys} {'differs' if len(diffs) == 1 else 'differ'}"
        return f"{keys} {kind}"
    parts = []
    for kind, keys in groups.items():
        verb = ("differs" if len(keys) == 1 else "differ") if kind == "differs" else kind
        parts.append(f"{_join_keys(keys)} {verb}")
    if rest:
        parts.append(f"and {rest} more")
    return "; ".join(parts)


def _validate_for_strip(data: bytes, fmt: str) -> None:
    if fmt not in _KNOWN_FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(_KNOWN_FORMATS)}")
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
    read_header(data)  # truncation and header checks shared with the loader (DecodeError)


def strip_metadata(data: bytes, fmt: str) -> bytes:
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
        PLTE, tRNS, IDAT and IEND chunks in their original order, byte for byte; everything after
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
    _validate_for_strip(data, fmt)
    if fmt == "jpeg":
        layout = _jpeg_layout(data)
        if layout.error:
            raise DecodeError(f"corrupt JPEG: {layout.error}")
        kept = (data[s.start:s.end] for s in layout.segments if not _is_jpeg_metadata(data, s))
        return b"\xff\xd8" + b"".join(kept)
    chunks, _trailing, error = _png_layout(data)
    if error:
        raise DecodeError(f"corrupt PNG: {error}")
    if not chunks or chunks[0].type != b"IHDR":
        raise DecodeError("corrupt PNG: the first chunk is not IHDR")
    return _PNG_SIG + b"".join(data[c.start:c.end] for c in chunks if c.type in _PNG_PIXEL_CHUNKS)


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


def strip_verified(data: bytes, *, path: str = "<bytes>",
                   max_pixels: int = DEFAULT_MAX_PIXELS) -> StripResult:
    """Decode, strip, decode again and refuse unless the pixel digest is unchanged.

    Parameters
    ----------
    data : bytes
        The whole file (JPEG or PNG).
    path : str, optional
        Used in error messages only.
    max_pixels : int, optional
        Decompression-bomb limit, as in :func:`compare.load.decode`.

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
    before = decode(data, path=path, max_pixels=max_pixels)
    try:
        out = strip_metadata(data, before.format)
    except InputError as e:  # DecodeError included: attach the path
        raise type(e)(str(e), path=path) from None
    digest = pixel_sha256(before.pixels)
    try:
        after = decode(out, path=path, max_pixels=max_pixels)
    except InputError as e:
        raise InputError(f"refusing to strip: the result would not decode ({e})", path=path) from None
    digest_after = pixel_sha256(after.pixels)
    if digest_after != digest:
        raise InputError(f"refusing to strip: the decoded pixels would change (pixel sha256 "
                         f"{digest[:12]} -> {digest_after[:12]}); this file needs one of its "
                         f"metadata segments to decode", path=path)
    md_before = read_metadata(data, before.format)
    md_after = read_metadata(out, before.format)
    removed = tuple(k for k in md_before if k not in md_after)
    return StripResult(format=before.format, data=out, removed=removed,
                       sha256_before=file_sha256(data), sha256_after=file_sha256(out),
                       pixel_sha256=digest)

"""EXIF blocks as printable metadata entries (via piexif, after a bounds check of every entry).

One key per tag, ``EXIF <tag name>`` with the names of ``piexif.TAGS`` (tags of the thumbnail
directory as ``EXIF thumbnail <name>``, the thumbnail itself as ``EXIF thumbnail``), unknown tags
as ``EXIF Tag 0x<hex>``. Offsets that only locate other data (the Exif, GPS and Interop directory
pointers, the thumbnail offset) are not reported. The block is walked with
:func:`compare.containers.tiff.read_ifd` before piexif sees it: every value must lie inside the
block, so a hostile count cannot make piexif allocate gigabytes; a block that fails gives the
single entry ``EXIF = "unreadable (<reason>)"``.
"""
from __future__ import annotations

import struct

import piexif

from .containers import tiff as tiffc
from .errors import DecodeError
from .render import Entries, blob, bytes_value, digest12, text, unreadable

_PIEXIF_TYPES = frozenset(range(1, 13))
_IFD_TABLE = {"0th": "Image", "Exif": "Exif", "GPS": "GPS", "Interop": "Interop", "1st": "Image"}
_EXIF_POINTER, _GPS_POINTER, _INTEROP_POINTER = 34665, 34853, 40965
_THUMB_OFFSET, _THUMB_LENGTH = 513, 514
_NOT_REPORTED = {("0th", _EXIF_POINTER), ("0th", _GPS_POINTER), ("Exif", _INTEROP_POINTER),
                 ("1st", _THUMB_OFFSET), ("1st", _THUMB_LENGTH)}
# TIFF tags that define how the pixels are stored: image structure, not metadata.
TIFF_STRUCTURE = {254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 284, 292, 293, 297,
                  317, 320, 322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 512, 513, 514, 515,
                  517, 518, 519, 520, 521, 529, 530, 531, 532}
_XP_TAGS = {40091, 40092, 40093, 40094, 40095}
_USER_COMMENT = 37510
_ORIENTATION = {1: "normal", 2: "mirror horizontal", 3: "rotate 180", 4: "mirror vertical",
                5: "mirror horizontal and rotate 270 CW", 6: "rotate 90 CW",
                7: "mirror horizontal and rotate 90 CW", 8: "rotate 270 CW"}


class _BadExif(ValueError):
    pass


def check_block(block: bytes) -> dict[tuple[str, int], tuple[int, int]]:
    """Walk the IFDs exactly as ``piexif.load`` will and check every entry fits in the block.

    Returns ``{(ifd, tag): (type, count)}``. Raises :class:`_BadExif` with a reason otherwise.
    This guard matters: piexif builds a ``struct`` format of ``count`` characters, so a single
    entry declaring 4 billion values would otherwise allocate gigabytes.
    """
    n = len(block)
    if n < 8 or block[:4] not in (b"II*\x00", b"MM\x00*"):
        raise _BadExif("no TIFF header")
    e = "<" if block[:2] == b"II" else ">"
    found: dict[tuple[str, int], tuple[int, int]] = {}

    def walk(ifd: str, offset: int) -> tuple[dict[int, int], int]:
        try:
            entries, nxt = tiffc.read_ifd(block, offset, order=e)
        except DecodeError as err:
            raise _BadExif(f"{ifd} {err}") from None
        values: dict[int, int] = {}
        for ent in entries:
            known = ent.tag in piexif.TAGS[_IFD_TABLE[ifd]]
            if ent.type not in _PIEXIF_TYPES:
                if known:
                    raise _BadExif(f"tag {ent.tag} in {ifd} has invalid type {ent.type}")
                found[(ifd, ent.tag)] = (ent.type, ent.count)
                continue
            if known and not ent.inline and ent.value_pos + (ent.size or 0) > n:
                raise _BadExif(f"tag {ent.tag} in {ifd} declares {ent.count} values beyond the end of "
                               f"the {n}-byte block")
            if ent.type in (3, 4) and ent.count == 1:
                values[ent.tag] = tiffc.int_value(block, ent, e)
            found[(ifd, ent.tag)] = (ent.type, ent.count)
        return values, nxt

    def pointer(ifd: str, values: dict[int, int], tag: int, target: str) -> int | None:
        if (ifd, tag) not in found:
            return None
        if tag not in values:  # piexif would follow a signed or non-integer value blindly
            raise _BadExif(f"the {target} directory pointer is not an unsigned integer")
        return values[tag]

    (ifd0,) = struct.unpack(e + "L", block[4:8])
    v0, ifd1 = walk("0th", ifd0)
    exif_ptr = pointer("0th", v0, _EXIF_POINTER, "Exif")
    gps_ptr = pointer("0th", v0, _GPS_POINTER, "GPS")
    if exif_ptr is not None:
        v_exif, _ = walk("Exif", exif_ptr)
        interop_ptr = pointer("Exif", v_exif, _INTEROP_POINTER, "Interop")
        if interop_ptr is not None:
            walk("Interop", interop_ptr)
    if gps_ptr is not None:
        walk("GPS", gps_ptr)
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


def _format_value(tag: int, typ: int, value) -> str:
    if typ == 2:  # ASCII
        return bytes_value(value) if isinstance(value, bytes) else str(value)
    if typ == 7:  # UNDEFINED
        if tag == _USER_COMMENT and len(value) >= 8:
            code, body = value[:8], value[8:]
            if code.rstrip(b"\x00 ") in (b"ASCII", b""):
                return bytes_value(body)
            if code.startswith(b"UNICODE"):
                for enc in ("utf-16-be", "utf-16-le"):
                    try:
                        t = text(body.decode(enc).rstrip("\x00"))
                    except UnicodeDecodeError:
                        continue
                    if t is not None:
                        return t
            return blob(value)
        return bytes_value(value)
    if typ in (1, 6):  # BYTE / SBYTE: an int or a tuple of ints
        vals = value if isinstance(value, tuple) else (value,)
        if tag in _XP_TAGS:
            try:
                t = text(bytes(v & 0xFF for v in vals).decode("utf-16-le").rstrip("\x00"))
            except UnicodeDecodeError:
                t = None
            return t if t is not None else blob(bytes(v & 0xFF for v in vals))
        if len(vals) > 4:
            return bytes_value(bytes(v & 0xFF for v in vals))
        return " ".join(str(v) for v in vals)
    if typ in (5, 10):  # (SIGNED) RATIONAL: a pair or a tuple of pairs
        if value and isinstance(value[0], tuple):
            out = ", ".join(_format_rational(r) for r in value)
        else:
            out = _format_rational(value) if value else ""
    else:  # SHORT, LONG, SSHORT, SLONG, FLOAT, DOUBLE
        vals = value if isinstance(value, tuple) else (value,)
        if len(vals) > 16:
            raw = repr(vals).encode("ascii")
            return f"{len(vals)} values, sha256 {digest12(raw)}"
        out = " ".join(_format_number(v) for v in vals)
    if tag == 274 and out.isdigit() and int(out) in _ORIENTATION:
        out = f"{out} ({_ORIENTATION[int(out)]})"
    return out


def exif_entries(block: bytes, md: Entries, *, skip_structure: bool = False) -> None:
    """Add one ``EXIF <tag>`` entry per tag of a TIFF-structured EXIF block to ``md``."""
    try:
        types = check_block(block)
        exif = piexif.load(block)
    except _BadExif as e:
        md.set("EXIF", unreadable(str(e)))
        return
    except (struct.error, ValueError, TypeError, IndexError, KeyError, OverflowError,
            piexif.InvalidImageDataError) as e:
        md.set("EXIF", unreadable(f"piexif: {type(e).__name__}: {e}".strip().rstrip(":")))
        return
    for ifd in ("0th", "Exif", "GPS", "Interop", "1st"):
        table = piexif.TAGS[_IFD_TABLE[ifd]]
        prefix = "EXIF thumbnail " if ifd == "1st" else "EXIF "
        for tag, value in exif.get(ifd, {}).items():
            if (ifd, tag) in _NOT_REPORTED:
                continue
            if skip_structure and ifd in ("0th", "1st") and tag in TIFF_STRUCTURE:  # a TIFF's own layout (1st: page 2)
                continue
            typ = types.get((ifd, tag), (table[tag]["type"], 0))[0]
            key = prefix + table[tag]["name"]
            if key in md:  # the same tag name in two directories
                key = f"{key} ({ifd})"
            if md.full:
                md.skip(key, repr(value).encode())
            else:
                md.add(key, _format_value(tag, typ, value))
    # Tags piexif does not know are skipped by piexif.load; list them so nothing goes unseen.
    for (ifd, tag), (typ, num) in types.items():
        if tag not in piexif.TAGS[_IFD_TABLE[ifd]]:
            if skip_structure and ifd in ("0th", "1st") and tag in TIFF_STRUCTURE:  # a TIFF's own layout (1st: page 2)
                continue
            prefix = "EXIF thumbnail " if ifd == "1st" else "EXIF "
            md.add(f"{prefix}Tag 0x{tag:04x}", f"type {typ}, {num} values")
    thumb = exif.get("thumbnail")
    if thumb:
        md.set("EXIF thumbnail", f"{len(thumb)} bytes, sha256 {digest12(thumb)}")


def exif_from_payload(payload: bytes, md: Entries) -> None:
    """EXIF stored with or without the ``Exif\\0\\0`` prefix (JPEG APP1, PNG eXIf, WebP EXIF)."""
    if payload[:4] == b"Exif":
        payload = payload[6:]
    exif_entries(payload, md)

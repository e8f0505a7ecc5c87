"""Read and compare the metadata an image file carries besides its pixels.

Policy
------
* **Metadata is everything that does not define the decoded pixels.** For JPEG that is every
  APPn segment (JFIF, EXIF, XMP, ICC profile, Photoshop, MPF, ...), COM comments, bytes between
  segments that decoders skip, and data after the end-of-image marker. The Adobe APP14 segment is
  *not* metadata: its transform flag tells the decoder which colour transform to undo, so it is
  kept and never reported. For PNG it is every chunk except IHDR, PLTE, tRNS, IDAT and IEND
  (tRNS defines alpha, PLTE the colours of a paletted image) and an animation's acTL, fcTL and
  fdAT (its frames are images of the file), plus bytes after IEND.
* **Flat, ordered, printable, bounded.** :func:`read_metadata` returns ``{key: value}`` with keys
  such as ``EXIF DateTime``, ``PNG tEXt Comment`` or ``JPEG APP2 ICC profile`` in the order the
  file carries them, values rendered by :mod:`compare.render`. A key that occurs twice gets a
  suffix (``JPEG COM 2``). At most ``max_entries`` (1000) entries are listed; the rest become one
  ``<FORMAT> entries not listed`` entry with their count and digest. zTXt/iTXt/iCCP data is
  decompressed up to 4 MiB per chunk and 16 MiB per file (:class:`containers.inflate.InflateBudget`).
* **EXIF** (JPEG APP1, PNG eXIf, WebP EXIF, and the first directory of a TIFF file): see
  :mod:`compare.exif`. For TIFF files the tags that define the image layout are skipped.
* **Corrupt metadata never raises.** A block that fails gives ``EXIF = "unreadable (<reason>)"``;
  a file whose structure breaks off (or exceeds a structure limit) gives
  ``<FORMAT> structure = "unreadable (<reason>)"`` after what could be read.

The structure itself is walked by :mod:`compare.containers` (the same walkers the loader and
:mod:`compare.strip` use). Orientation follows :mod:`compare.load`: it is never applied to pixels,
and shows up here as ``EXIF Orientation``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .containers import FORMATS, jpeg, png, webp
from .containers.inflate import InflateBudget
from .containers.limits import DEFAULT_LIMITS, Limits
from .containers.other import pnm_comments
from .errors import InputError, LimitError
from .exif import exif_entries, exif_from_payload
from .render import (
    Entries,
    blob,
    bytes_value,
    digest12,
    jfif_value,
    png_chunk_value,
    text,
    unreadable,
)

__all__ = ["MetadataDifference", "describe_differences", "diff_metadata", "is_jpeg_metadata",
           "read_metadata"]

_STRIP_NAMES = ("StripResult", "strip_metadata", "strip_verified", "STRIP_FORMATS")


def __getattr__(name):  # the strip functions moved to compare.strip; old imports keep working
    if name in _STRIP_NAMES:
        from . import strip
        return getattr(strip, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# =========================================================================== JPEG

def is_jpeg_metadata(data: bytes, seg: jpeg.Segment) -> bool:
    """APPn (except the Adobe APP14 that selects the colour transform) and COM segments."""
    adobe = seg.marker == 0xEE and data[seg.start + 4:seg.start + 9] == b"Adobe"
    return (0xE0 <= seg.marker <= 0xEF and not adobe) or seg.marker == 0xFE


def _app_id(payload: bytes) -> bytes:
    nul = payload.find(b"\x00", 0, 80)
    return payload[:nul] if nul >= 0 else b""


_XMP_ID = b"http://ns.adobe.com/xap/1.0/"
_XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/"



def _jpeg_metadata(data: bytes, limits: Limits) -> dict[str, str]:
    md = Entries(limits)
    try:
        layout = jpeg.walk(data, limits=limits)
    except LimitError as e:
        return {"JPEG structure": unreadable(str(e))}
    icc: list[bytes] = []
    exif_seen = False
    for seg in layout.segments:
        if not is_jpeg_metadata(data, seg):
            continue
        payload = data[seg.start + 4:seg.end]
        n = seg.marker - 0xE0
        if md.full:
            md.skip(f"JPEG {seg.marker:02X}", payload)
            continue
        if seg.marker == 0xFE:
            md.add("JPEG COM", bytes_value(payload, encoding="latin-1"))
            continue
        ident = _app_id(payload)
        if n == 0 and ident == b"JFIF":
            md.add("JPEG APP0 JFIF", jfif_value(payload))
        elif n == 1 and payload[:4] == b"Exif" and not exif_seen:
            exif_seen = True
            exif_from_payload(payload, md)
        elif n == 1 and ident == _XMP_ID:
            md.add("JPEG APP1 XMP", blob(payload[len(_XMP_ID) + 1:]))
        elif n == 1 and ident == _XMP_EXT_ID:
            md.add("JPEG APP1 XMP extension", blob(payload[len(_XMP_ID) + 1:]))
        elif n == 2 and ident == b"ICC_PROFILE":
            icc.append(payload[14:])  # "ICC_PROFILE\0" + sequence number + count
            md.set("JPEG APP2 ICC profile", "")  # placeholder keeps the order of first appearance
        else:
            name = ident.decode("latin-1") if ident and text(ident.decode("latin-1")) else ""
            md.add(f"JPEG APP{n} {name}".rstrip(), blob(payload))
    if icc:
        prof = b"".join(icc)
        md.set("JPEG APP2 ICC profile", f"{len(prof)} bytes, sha256 {digest12(prof)}")
    if layout.extraneous:
        md.set("JPEG extraneous bytes", f"{layout.extraneous} bytes between segments")
    if layout.trailing:
        md.set("JPEG data after EOI", blob(data[len(data) - layout.trailing:]))
    out = md.result("JPEG")
    if layout.error:
        out["JPEG structure"] = unreadable(layout.error)
    return out


# =========================================================================== PNG

def _compressed(data: bytes, budget: InflateBudget) -> bytes | str:
    """Decompressed bytes, or an 'unreadable' value that still tells different data apart."""
    try:
        return budget.inflate(data)
    except ValueError as e:
        return unreadable(str(e)) + f"; {len(data)} compressed bytes, sha256 {digest12(data)}"


def _png_text(kind: bytes, body: bytes, budget: InflateBudget) -> tuple[str, str]:
    """Key suffix (the keyword) and value for tEXt, zTXt and iTXt."""
    t = png.split_text(kind, body)
    if t.error:
        return t.keyword, unreadable(t.error)
    raw = _compressed(t.text, budget) if t.compressed else t.text
    if isinstance(raw, str):
        return t.keyword, raw
    value = bytes_value(raw, encoding="utf-8" if kind == b"iTXt" else "latin-1")
    if t.language:
        value = f"{value} [{t.language}]"
    return t.keyword, value


_PNG_VALUES = (b"tIME", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"sBIT", b"iCCP")


def _png_metadata(data: bytes, limits: Limits) -> dict[str, str]:
    md = Entries(limits)
    budget = InflateBudget(limits)
    try:
        layout = png.walk(data, limits=limits)
    except LimitError as e:
        return {"PNG structure": unreadable(str(e))}
    others: dict[str, list[bytes]] = {}  # other chunk types, summarised once per type
    for ch in layout.chunks:
        if ch.type in png.PIXEL_CHUNKS:
            continue
        body = ch.body(data)
        name = ch.name
        bad_crc = "" if ch.crc_ok else " (bad CRC)"
        if md.full:
            md.skip(f"PNG {name}", body)
        elif ch.type in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, value = _png_text(ch.type, body, budget)
            md.add(f"PNG {name} {keyword}".rstrip(), value + bad_crc)
        elif ch.type == b"eXIf":
            exif_from_payload(body, md)
            if bad_crc:
                md.add("PNG eXIf", "bad CRC")
        elif ch.type in _PNG_VALUES:
            md.add(f"PNG {name}", png_chunk_value(ch.type, body, lambda z: _compressed(z, budget)) + bad_crc)
        else:
            key = f"PNG {name}"
            if key not in others:
                others[key] = []
                md.set(key, "")  # placeholder keeps the order of first appearance
            others[key].append(body + (b"\x00bad-crc" if bad_crc else b""))
    for key, bodies in others.items():
        if len(bodies) == 1:
            md.set(key, blob(bodies[0]))
        else:
            joined = b"".join(bodies)
            md.set(key, f"{len(bodies)} chunks, {len(joined)} bytes, sha256 {digest12(joined)}")
    if layout.trailing:
        md.set("PNG data after IEND", blob(data[len(data) - layout.trailing:]))
    out = md.result("PNG")
    if layout.error:
        out["PNG structure"] = unreadable(layout.error)
    return out


# =========================================================================== other formats

def _webp_metadata(data: bytes, limits: Limits) -> dict[str, str]:
    md = Entries(limits)
    try:
        chunks, error = webp.walk(data, limits=limits)
    except LimitError as e:
        return {"WebP structure": unreadable(str(e))}
    for ch in chunks:
        body = ch.body(data)
        name = ch.fourcc.decode("latin-1").strip()
        if md.full:
            md.skip(f"WebP {name}", body)
        elif ch.fourcc == b"EXIF":
            exif_from_payload(body, md)
        elif ch.fourcc not in webp.IMAGE_CHUNKS:
            md.add(f"WebP {name}", blob(body))
    out = md.result("WebP")
    if error and chunks:
        out["WebP structure"] = unreadable(error)
    return out


def _pnm_metadata(data: bytes, limits: Limits) -> dict[str, str]:
    """Comment lines of a PNM header (P1..P6)."""
    md = Entries(limits)
    for c in pnm_comments(data, max_entries=limits.max_entries):
        md.add("PNM comment", bytes_value(c, encoding="latin-1"))
    return md.result("PNM")


# =========================================================================== public API

def read_metadata(data: bytes, fmt: str, *, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """Every metadata item a file carries, as a flat ordered ``{key: printable value}`` mapping.

    Parameters
    ----------
    data : bytes
        The whole file.
    fmt : str
        Its format as :func:`compare.load.sniff_format` names it: ``"jpeg"``, ``"png"``,
        ``"tiff"``, ``"webp"``, ``"pnm"``, ``"bmp"`` or ``"gif"``.
    limits : Limits, optional
        Structure walk, entry count and decompression bounds (``max_entries``, ``max_inflate``,
        ``max_inflate_total``, ``max_segments``, ``max_scans``).

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
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "jpeg":
        return _jpeg_metadata(data, limits)
    if fmt == "png":
        return _png_metadata(data, limits)
    if fmt == "webp":
        return _webp_metadata(data, limits)
    if fmt == "tiff":
        md = Entries(limits)
        exif_entries(data, md, skip_structure=True)
        return md.result("TIFF")
    if fmt == "pnm":
        return _pnm_metadata(data, limits)
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
    for kind, names in groups.items():
        verb = ("differs" if len(names) == 1 else "differ") if kind == "differs" else kind
        parts.append(f"{_join_keys(names)} {verb}")
    if rest:
        parts.append(f"and {rest} more")
    return "; ".join(parts)



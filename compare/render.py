"""Printable, comparison-safe metadata values and a bounded ordered entry list.

Text is shown as text (control characters escaped, long text cut to 100 characters plus its
length and SHA-256), opaque blobs as ``"<n> bytes, sha256 <12 hex>"`` (``"<n> bytes: <hex>"`` when
at most 16 bytes), so two values are equal exactly when the underlying data is.
"""
from __future__ import annotations

import hashlib
import struct

from .containers.limits import DEFAULT_LIMITS, Limits

TEXT_LIMIT = 200  # longer text values are shortened (with length and digest)
_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})
_DROP_ESCAPED = str.maketrans("", "", "\n\r\t")


def digest12(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def blob(data: bytes) -> str:
    """An opaque byte string as a short, comparison-safe summary."""
    if len(data) <= 16:
        return f"{len(data)} bytes: {data.hex()}" if data else "0 bytes"
    return f"{len(data)} bytes, sha256 {digest12(data)}"


def text(s: str) -> str | None:
    """Printable rendering of text, or None when it is not text (control characters)."""
    if not s.translate(_DROP_ESCAPED).isprintable():
        return None
    s = s.translate(_ESCAPES)
    if len(s) > TEXT_LIMIT:
        return f"{s[:100]}... ({len(s)} characters, sha256 {digest12(s.encode('utf-8'))})"
    return s


def bytes_value(data: bytes, *, encoding: str = "ascii") -> str:
    """Bytes shown as text when they are printable text, else as a blob summary."""
    trimmed = data.rstrip(b"\x00")
    for enc in dict.fromkeys((encoding, "utf-8")):
        try:
            t = text(trimmed.decode(enc))
        except UnicodeDecodeError:
            continue
        if t is not None:
            return t
    return blob(data)


def unreadable(reason: str) -> str:
    return f"unreadable ({reason})"


class Entries:
    """An ordered ``{key: value}`` with at most ``limits.max_entries`` entries.

    :meth:`add` suffixes `` 2``, `` 3`` ... when a key occurs more than once (a counter per key:
    linear, never a scan from 2 each time). Past the limit, entries are not rendered: callers
    check :attr:`full` and pass the raw bytes to :meth:`skip`, which go into one digest so two
    files that differ beyond the limit still differ, in one final entry.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS):
        self.md: dict[str, str] = {}
        self._next: dict[str, int] = {}
        self.max = limits.max_entries
        self.skipped = 0
        self._digest = hashlib.sha256()

    @property
    def full(self) -> bool:
        return len(self.md) >= self.max

    def __contains__(self, key: str) -> bool:
        return key in self.md

    def add(self, key: str, value: str) -> None:
        if self.full:
            self.skip(key, value.encode("utf-8", "surrogateescape"))
            return
        if key in self.md:
            i = self._next.get(key, 2)
            while f"{key} {i}" in self.md:
                i += 1
            self._next[key] = i + 1
            key = f"{key} {i}"
        self.md[key] = value

    def set(self, key: str, value: str) -> None:
        """Insert or replace one entry (placeholders, summaries, structure notes)."""
        if key in self.md or not self.full:
            self.md[key] = value
        else:
            self.skip(key, value.encode("utf-8", "surrogateescape"))

    def skip(self, key: str, raw: bytes) -> None:
        self.skipped += 1
        self._digest.update(key.encode("utf-8", "surrogateescape") + b"\x00" + raw + b"\x00")

    def result(self, label: str) -> dict[str, str]:
        out = dict(self.md)
        if self.skipped:
            out[f"{label} entries not listed"] = (
                f"{self.skipped} more, over the limit of {self.max} entries (max_entries); "
                f"sha256 {self._digest.hexdigest()[:12]}")
        return out


# --------------------------------------------------------------------------- fixed-layout values

_JFIF_UNITS = {0: "(aspect ratio only)", 1: "dpi", 2: "dots per cm"}


def jfif_value(payload: bytes) -> str:
    """The JFIF APP0 segment: version, density, thumbnail size."""
    if len(payload) < 14:
        return unreadable(f"{len(payload)}-byte JFIF segment, expected at least 14")
    major, minor, units = payload[5], payload[6], payload[7]
    xd, yd = struct.unpack(">HH", payload[8:12])
    out = f"version {major}.{minor:02d}, density {xd}x{yd} {_JFIF_UNITS.get(units, f'units {units}')}"
    if payload[12] or payload[13]:
        out += f", thumbnail {payload[12]}x{payload[13]}"
    return out


_SRGB_INTENT = {0: "perceptual", 1: "relative colorimetric", 2: "saturation",
                3: "absolute colorimetric"}


def _png_fixed(body: bytes, size: int, fmt: str, render) -> str:
    if len(body) != size:
        return unreadable(f"{len(body)} bytes, expected {size}")
    return render(*struct.unpack(fmt, body))


def _phys(x, y, unit):
    if unit == 1:
        return f"{x}x{y} per metre ({x * 0.0254:.4g}x{y * 0.0254:.4g} dpi)"
    return f"{x}x{y} (aspect ratio only)"


def png_chunk_value(ctype: bytes, body: bytes, inflate) -> str:
    """tIME, gAMA, cHRM, sRGB, pHYs, sBIT and iCCP values; ``inflate(bytes) -> bytes | str``."""
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
        return _png_fixed(body, 9, ">IIB", _phys)
    if ctype == b"sBIT":
        return " ".join(str(b) for b in body) if 1 <= len(body) <= 4 else unreadable(
            f"{len(body)} bytes, expected 1 to 4")
    if ctype == b"iCCP":
        nul = body.find(b"\x00", 0, 80)
        if nul < 0 or nul + 2 > len(body):
            return unreadable("no profile name terminator")
        name = body[:nul].decode("latin-1")
        prof = inflate(body[nul + 2:])
        if isinstance(prof, str):
            return f"{name}, {prof}"
        return f"{name}, {len(prof)} bytes, sha256 {digest12(prof)}"
    return blob(body)

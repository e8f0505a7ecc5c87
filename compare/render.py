"""Printable, comparison-safe metadata values and a bounded ordered entry list.

Text is shown as text (control characters escaped, long text cut to 100 characters plus its
length and SHA-256), opaque blobs as ``"<n> bytes, sha256 <12 hex>"`` (``"<n> bytes: <hex>"`` when
at most 16 bytes), so two values are equal exactly when the underlying data is.
"""
from __future__ import annotations

import hashlib

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

"""zlib decompression of metadata with a per-item and a per-file budget."""
from __future__ import annotations

import zlib

from .limits import DEFAULT_LIMITS, Limits, human_bytes


class InflateBudget:
    """Decompresses metadata items until a file's total budget is spent.

    Each :meth:`inflate` call yields at most ``limits.max_inflate`` bytes and the calls together
    at most ``limits.max_inflate_total``; :class:`ValueError` (with the limit in words) beyond
    either, or on corrupt data. ``zlib.decompressobj(...).decompress(data, max_length)`` never
    produces more than asked, so a bomb costs at most the budget.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS):
        self.per_item = limits.max_inflate
        self.left = limits.max_inflate_total
        self.total = limits.max_inflate_total

    def inflate(self, data: bytes) -> bytes:
        if self.left <= 0:
            raise ValueError(f"not decompressed: the file's metadata already used the "
                             f"{human_bytes(self.total)} limit (max_inflate_total)")
        cap = min(self.per_item, self.left)
        d = zlib.decompressobj()
        try:
            out = d.decompress(data, cap)
        except zlib.error as e:
            raise ValueError(f"zlib: {e}") from None
        self.left -= len(out)
        if d.unconsumed_tail:
            if cap == self.per_item:
                raise ValueError(f"over {human_bytes(cap)} when decompressed (max_inflate)")
            raise ValueError(f"over the {human_bytes(self.total)} of decompressed metadata "
                             "allowed per file (max_inflate_total)")
        return out

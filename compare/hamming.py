"""Packed 64-bit Hamming kernels: one dHash (``hash_size=8``) per ``uint64`` element.

:func:`hamming_scan` (XOR + popcount in cache-sized blocks, the floor everything else is measured
against) and :class:`HammingIndex` (the scan, or :class:`compare.multiindex.MultiIndex` for large
arrays). All pairs within a radius: :func:`compare.pairs.radius_pairs`. Nothing here knows about
files: arrays in, index arrays out.
"""
from __future__ import annotations

import operator
import os

from .errors import InputError
from .hashing import DHash

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:  # numpy loads on first use: a search of a small fresh index needs none of it
    from collections.abc import Iterable

    import numpy as np

HASH_BITS = 64

#: From this many hashes on, queries use the multi-index (measured in ``bench/bench_search.py``,
#: radius 10: at 3e4 the scan takes 0.027 ms and the multi-index 0.10 ms (its floor: a few numpy
#: calls per substring); at 1e5 0.091 vs 0.100 ms; at 1e6 1.0 vs 0.17 ms).
MULTI_INDEX_MIN_SIZE = 100_000

_BLOCK = 1 << 15  # elements per scan block: 256 KiB of hashes, stays in L2


# --------------------------------------------------------------------------- packing

def to_uint64(values: Iterable[DHash | int]) -> np.ndarray:
    """Pack hash values (:class:`DHash` of 64 bits, or ints) into ``uint64``. Hashes travel as
    values: a ``dhash:8:<hex>`` string is refused (parse it once, where it is read)."""
    import numpy as np

    out = []
    for v in values:
        if isinstance(v, DHash):
            if v.bits != HASH_BITS:
                raise InputError(f"hash {v} has {v.bits} bits; search handles 64-bit hashes (hash size 8)")
            v = v.value
        elif isinstance(v, (str, bytes)) or not isinstance(v, (int, np.integer)):
            raise InputError(f"expected a DHash or an int, got {type(v).__name__} {v!r}")
        out.append(int(v))
    return np.array(out, dtype=np.uint64) if out else np.zeros(0, dtype=np.uint64)


def check_distance(max_distance: int, *, bits: int = HASH_BITS, option: str = "--max-distance") -> int:
    """``max_distance`` as an int within 0..``bits``, else InputError naming ``option``."""
    if isinstance(max_distance, bool) or not hasattr(type(max_distance), "__index__"):  # int, numpy integers
        raise InputError(f"{option} must be a whole number of bits, got {max_distance!r}")
    max_distance = operator.index(max_distance)
    if not 0 <= max_distance <= bits:
        raise InputError(f"{option} must be between 0 and {bits} bits, got {max_distance}")
    return max_distance


def as_hashes(hashes) -> np.ndarray:
    """``hashes`` as a contiguous 1-D ``uint64`` array (int64 input is reinterpreted, not converted)."""
    import numpy as np

    arr = np.asarray(hashes)
    if arr.dtype != np.uint64:
        if arr.size and arr.dtype == np.int64:
            arr = arr.view(np.uint64)
        else:
            arr = arr.astype(np.uint64)
    if arr.ndim != 1:
        raise InputError(f"hashes must be a 1-D array, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


# --------------------------------------------------------------------------- scan

def hamming_scan(hashes: np.ndarray, query: int, *, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of the hashes within ``max_distance`` bits of ``query``.

    A vectorised XOR + popcount over the packed array, in blocks that stay in cache (about 1.5x
    faster than one whole-array expression at 1e6 hashes, 2.5x at 1e7).

    >>> import numpy as np
    >>> h = np.array([0b1011, 0b0000, 0xFFFF], dtype=np.uint64)
    >>> hamming_scan(h, 0b0011, max_distance=2)
    (array([0, 1]), array([1, 2], dtype=uint8))
    """
    import numpy as np

    max_distance = check_distance(max_distance)
    hashes = as_hashes(hashes)
    q = np.uint64(int(query))
    n = hashes.size
    if n <= 4 * _BLOCK:  # small: one pass is cheaper than managing blocks
        d = np.bitwise_count(hashes ^ q)
        idx = np.flatnonzero(d <= max_distance)
        return idx, d[idx]
    size = _BLOCK
    buf = np.empty(size, dtype=np.uint64)
    cnt = np.empty(size, dtype=np.uint8)
    hit = np.empty(size, dtype=bool)
    found_i, found_d = [], []
    for start in range(0, n, _BLOCK):
        blk = hashes[start:start + _BLOCK]
        k = blk.size
        np.bitwise_xor(blk, q, out=buf[:k])
        np.bitwise_count(buf[:k], out=cnt[:k])
        np.less_equal(cnt[:k], max_distance, out=hit[:k])
        if hit[:k].any():
            local = np.flatnonzero(hit[:k])
            found_i.append(local + start)
            found_d.append(cnt[local].copy())
    if not found_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    return np.concatenate(found_i), np.concatenate(found_d)


def scan_list(hashes: list[int], query: int, *, max_distance: int) -> tuple[list[int], list[int]]:
    """:func:`hamming_scan` of a Python list of ``uint64`` values, in plain Python
    (``(a ^ b).bit_count()``): no numpy, whose import costs more than scanning a few thousand hashes
    for a few hundred queries. Same indices and distances as :func:`hamming_scan`, as lists.

    >>> scan_list([0b1011, 0b0000, 0xFFFF], 0b0011, max_distance=2)
    ([0, 1], [1, 2])
    """
    r = check_distance(max_distance)
    q = int(query)
    found = [(k, d) for k, h in enumerate(hashes) if (d := (h ^ q).bit_count()) <= r]
    return [k for k, _ in found], [d for _, d in found]


class ListIndex:
    """Radius queries over a Python list of ``uint64`` values, in plain Python: :func:`scan_list`
    for the first few queries, then by the pigeonhole principle -- the 64 bits split into
    ``r + 1`` runs, two values within ``r`` bits agree exactly on at least one run -- from one dict
    per run (value of the run -> positions), and only those candidates are compared. Same indices
    and distances as :func:`scan_list`.

    Building the dicts costs about ``r + 1`` scans; a search of a hundred needles then costs a few
    dict lookups each instead of a pass over the list. ``queries``: how many queries will come, if
    known; more than ``r + 1`` and the dicts are built at the first one, without scanning first.
    """

    MAX_RUNS = 16  # beyond radius 15 the runs are too short (4 bits) to narrow anything

    def __init__(self, hashes: list[int], *, queries: int | None = None):
        self.hashes = hashes
        self.queries = queries
        self._tables: dict[int, list[tuple[int, int, dict[int, list[int]]]]] = {}
        self._scans: dict[int, int] = {}

    def _runs(self, parts: int) -> list[tuple[int, int, dict[int, list[int]]]]:
        runs, start = [], 0
        for j in range(parts):
            width = HASH_BITS // parts + (j < HASH_BITS % parts)
            mask = (1 << width) - 1
            table: dict[int, list[int]] = {}
            for k, h in enumerate(self.hashes):
                table.setdefault((h >> start) & mask, []).append(k)
            runs.append((start, mask, table))
            start += width
        return runs

    def query(self, query: int, *, max_distance: int) -> tuple[list[int], list[int]]:
        r = check_distance(max_distance)
        parts = r + 1
        if parts > self.MAX_RUNS:
            return scan_list(self.hashes, query, max_distance=r)
        runs = self._tables.get(parts)
        if runs is None:
            self._scans[parts] = done = self._scans.get(parts, 0) + 1
            if done <= parts and (self.queries or 0) <= parts:  # a few: scanning is cheaper than the dicts
                return scan_list(self.hashes, query, max_distance=r)
            runs = self._tables[parts] = self._runs(parts)
        q = int(query)
        near: set[int] = set()
        for start, mask, table in runs:
            near.update(table.get((q >> start) & mask, ()))
        hashes = self.hashes
        found = sorted((k, d) for k in near if (d := (hashes[k] ^ q).bit_count()) <= r)
        return [k for k, _ in found], [d for _, d in found]


#: A haystack held as a Python list (:class:`compare.haystack.HashList`) is scanned in Python while
#: hashes x queries stays below this (about 50 ns a pair: under a twentieth of a second, what
#: importing numpy alone costs); above it, it becomes a numpy array first.
LIST_SCAN_MAX_PAIRS = 1_000_000


class HammingIndex:
    """Radius queries over packed hashes, choosing the fastest exact method for the size.

    The blocked scan below :data:`MULTI_INDEX_MIN_SIZE` hashes, the multi-index above (both exact;
    the crossover is measured in ``bench/bench_search.py``). ``mapped``: the path of a multi-index
    saved for these hashes (:func:`compare.multiindex.build_file`); it is memory-mapped when it
    matches them (``self.mapped``), otherwise the tables are built in memory. ``hashes`` given as
    a Python ``list`` of ints (a small haystack, see :data:`LIST_SCAN_MAX_PAIRS`) is scanned by
    :func:`scan_list` and queries return lists (``queries``: how many will come, see
    :class:`ListIndex`).
    """

    def __init__(self, hashes, *, method: str = "auto", mapped: str | None = None, queries: int | None = None):
        if method not in ("auto", "scan", "multi-index"):
            raise InputError(f"method must be auto, scan or multi-index, got {method!r}")
        self._list: ListIndex | None = None
        if isinstance(hashes, list) and method in ("auto", "scan") and len(hashes) < MULTI_INDEX_MIN_SIZE:
            self._list, self.method, self._mih, self.mapped = ListIndex(hashes, queries=queries), "scan", None, False
            return
        self.hashes = as_hashes(hashes)
        use_mih = method == "multi-index" or (method == "auto" and self.hashes.size >= MULTI_INDEX_MIN_SIZE)
        self.method = "multi-index" if use_mih else "scan"
        self._mih = None
        self.mapped = False
        if use_mih:
            # multiindex imports this module, so it is imported here, on first use
            from .multiindex import MultiIndex

            if mapped is not None and os.path.isfile(mapped):
                try:
                    self._mih = MultiIndex.open(mapped, hashes=self.hashes)
                    self.mapped = True
                except InputError:  # stale or damaged cache: built in memory instead
                    self._mih = None
            if self._mih is None:
                self._mih = MultiIndex(self.hashes)

    def __len__(self) -> int:
        return len(self._list.hashes) if self._list is not None else int(self.hashes.size)

    def query(self, query: int, *, max_distance: int):
        if self._list is not None:
            return self._list.query(query, max_distance=max_distance)
        if self._mih is not None:
            return self._mih.query(query, max_distance=max_distance)
        return hamming_scan(self.hashes, query, max_distance=max_distance)


# --------------------------------------------------------------------------- runs

def equal_runs(order: np.ndarray, sorted_keys: np.ndarray) -> list[np.ndarray]:
    """Slices of ``order`` where ``sorted_keys`` is constant, two or more long (no per-singleton cost)."""
    import numpy as np

    bounds = np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1, [sorted_keys.size]))
    long = np.flatnonzero(np.diff(bounds) > 1)
    return [order[bounds[r]:bounds[r + 1]] for r in long.tolist()]

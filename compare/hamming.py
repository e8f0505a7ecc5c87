"""Packed 64-bit Hamming kernels: one dHash (``hash_size=8``) per ``uint64`` element.

:func:`hamming_scan` (XOR + popcount in cache-sized blocks, the floor everything else is measured
against), :class:`HammingIndex` (the scan, or :class:`compare.multiindex.MultiIndex` for large
arrays) and :func:`radius_pairs`
(all pairs within ``r``: a pigeonhole split into ``m`` chunks, of which at least ``m - r`` agree
exactly; candidates come from sorting on combinations of exact chunks and are verified with the full
distance). Nothing here knows about files: arrays in, index arrays out.
"""
from __future__ import annotations

import math
import operator
import os
from itertools import combinations

from .errors import InputError
from .hashing import DHash

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:  # numpy loads on first use: a search of a small fresh index needs none of it
    import numpy as np

HASH_BITS = 64

#: From this many hashes on, queries use the multi-index (measured in ``bench/bench_search.py``,
#: radius 10: at 3e4 the scan takes 0.027 ms and the multi-index 0.10 ms (its floor: a few numpy
#: calls per substring); at 1e5 0.091 vs 0.100 ms; at 1e6 1.0 vs 0.17 ms).
MULTI_INDEX_MIN_SIZE = 100_000

_BLOCK = 1 << 15  # elements per scan block: 256 KiB of hashes, stays in L2


# --------------------------------------------------------------------------- packing

def to_uint64(values) -> np.ndarray:
    """Pack hash values (ints, :class:`DHash` or ``dhash:8:<hex>`` strings) into ``uint64``."""
    import numpy as np

    out = []
    for v in values:
        if isinstance(v, str):
            v = DHash.parse(v)
        if isinstance(v, DHash):
            if v.bits > HASH_BITS:
                raise InputError(f"hash {v} has {v.bits} bits; search handles hash sizes up to 8 (64 bits)")
            v = v.value
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
    :func:`scan_list` and queries return lists.
    """

    def __init__(self, hashes, *, method: str = "auto", mapped: str | None = None):
        if method not in ("auto", "scan", "multi-index"):
            raise InputError(f"method must be auto, scan or multi-index, got {method!r}")
        self._list: list[int] | None = None
        if isinstance(hashes, list) and method in ("auto", "scan") and len(hashes) < MULTI_INDEX_MIN_SIZE:
            self._list, self.method, self._mih, self.mapped = hashes, "scan", None, False
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
        return len(self._list) if self._list is not None else int(self.hashes.size)

    def query(self, query: int, *, max_distance: int):
        if self._list is not None:
            return scan_list(self._list, query, max_distance=max_distance)
        if self._mih is not None:
            return self._mih.query(query, max_distance=max_distance)
        return hamming_scan(self.hashes, query, max_distance=max_distance)


# --------------------------------------------------------------------------- all pairs

def _chunk_layout(m: int) -> list[tuple[int, int]]:
    """(shift, width) of ``m`` near-equal chunks covering 64 bits."""
    base, extra = divmod(HASH_BITS, m)
    out, shift = [], 0
    for c in range(m):
        w = base + (1 if c < extra else 0)
        out.append((shift, w))
        shift += w
    return out


_SAMPLE = 1 << 14


def _plan(n: int, r: int, uniq: np.ndarray | None = None) -> tuple[int, int]:
    """Choose ``m`` chunks (``k = m - r`` of them must agree exactly) by a cost model.

    Cost ~ one sort per combination of ``k`` chunks plus the candidate pairs. For uniformly spread
    hashes the candidates follow from the key width (r=4 at 1e6: m=6, k=2, 15 sorts on 21-bit
    keys); for real, skewed hashes (biased, correlated bits: equal keys far more common) they are
    measured on a sample of ``uniq``: equal-key pairs among the sample's keys for the first
    combination, scaled by ``(n / sample)**2``.
    """
    import numpy as np

    sample = None
    if uniq is not None and uniq.size > 4 * _SAMPLE:
        sample = uniq[np.random.default_rng(0).choice(uniq.size, _SAMPLE, replace=False)]
    best = None
    for k in range(1, 6):
        m = r + k
        if m > HASH_BITS:
            break
        combos = math.comb(m, k)
        key_bits = HASH_BITS * k / m
        candidates = combos * (n * n / 2) / 2 ** key_bits
        if sample is not None:
            key = np.zeros(sample.size, dtype=np.uint64)
            for s, w in _chunk_layout(m)[:k]:
                key = (key << np.uint64(w)) | ((sample >> np.uint64(s)) & np.uint64((1 << w) - 1))
            _, counts = np.unique(key, return_counts=True)
            seen = float((counts * (counts - 1) // 2).sum()) * (n / sample.size) ** 2
            candidates = max(candidates, combos * seen)
        cost = combos * n * 40 + candidates * 10  # relative: a sort element ~ 4 verifications
        if best is None or cost < best[0]:
            best = (cost, m, k)
    return best[1], best[2]


def radius_pairs(hashes, *, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``i < j`` with ``popcount(h[i] ^ h[j]) <= max_distance``: arrays ``i, j, d``.

    Exact (equal to brute force, see tests). Pigeonhole: split the 64 bits into ``m`` chunks; a
    pair within ``r`` differs in at most ``r`` chunks, so at least ``k = m - r`` chunks agree
    exactly. For each combination of ``k`` chunks the hashes are sorted on those chunks, pairs
    inside equal runs are verified, and a pair is kept only in the first combination it agrees on,
    so each pair is reported once. Equal hashes are collapsed first so a cluster of identical
    frames costs its size, not its square, until the pairs are expanded at the end.
    """
    import numpy as np

    r = check_distance(max_distance)
    hashes = as_hashes(hashes)
    n = hashes.size
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8))
    if n < 2:
        return empty
    uniq, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    u = uniq.size
    pi, pj = [], []
    if u >= 2 and r > 0:
        m, k = _plan(u, r, uniq)
        layout = _chunk_layout(m)
        masks = [np.uint64(((1 << w) - 1) << s) for s, w in layout]
        idx_bits = max(1, int(u - 1).bit_length())
        all_combos = list(combinations(range(m), k))
        chunk = [(uniq >> np.uint64(s)) & np.uint64((1 << w) - 1) for s, w in layout]  # each chunk once
        positions = np.arange(u, dtype=np.uint64)
        for combo in all_combos:
            keybits = sum(layout[c][1] for c in combo)
            if keybits + idx_bits <= 64:  # sort (key, index) packed into one uint64: SIMD sort, in place
                packed = chunk[combo[0]].copy()
                for c in combo[1:]:
                    packed <<= np.uint64(layout[c][1])
                    packed |= chunk[c]
                packed <<= np.uint64(idx_bits)
                packed |= positions
                packed.sort()
                order = (packed & np.uint64((1 << idx_bits) - 1)).astype(np.int64)
                packed >>= np.uint64(idx_bits)
                skey = packed
            else:
                key = np.zeros(u, dtype=np.uint64)
                for c in combo:
                    key |= uniq & masks[c]
                order = np.argsort(key, kind="stable")
                skey = key[order]
            # Positions p whose key equals the next one's start the runs; p is compared with p + d_off
            # while that is still in its run. Only those positions' hashes are read.
            active = np.flatnonzero(skey[1:] == skey[:-1])
            # Many runs (skewed hashes): read all hashes in key order once, then stream through them;
            # few runs (uniform hashes): read only the hashes of the runs.
            sh = uniq[order] if active.size * 8 > u else None
            d_off = 1
            earlier_ok = _first_combo_filter(combo, m, masks)
            while active.size:
                x = sh[active] ^ sh[active + d_off] if sh is not None else \
                    uniq[order[active]] ^ uniq[order[active + d_off]]
                ok = np.bitwise_count(x) <= r
                if ok.any():
                    hit, x = active[ok], x[ok]
                    keep = earlier_ok(x)
                    if keep.any():
                        pi.append(order[hit[keep]])
                        pj.append(order[hit[keep] + d_off])
                d_off += 1
                active = active[active + d_off < u]
                if active.size:
                    active = active[skey[active + d_off] == skey[active]]
    # Expand pairs of distinct values to pairs of items, then add pairs of equal values.
    gi, gj = [], []
    counts = np.bincount(inverse, minlength=u)
    starts = np.zeros(u + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    # Items of each value, grouped (only needed when some value repeats; else first[v] is its item).
    order_items = np.argsort(inverse, kind="stable") if u < n else first
    if pi:
        a = np.concatenate(pi)
        b = np.concatenate(pj)
        single = (counts[a] == 1) & (counts[b] == 1)
        gi.append(first[a[single]])
        gj.append(first[b[single]])
        if not single.all():
            for va, vb in zip(a[~single].tolist(), b[~single].tolist()):
                ia = order_items[starts[va]:starts[va + 1]]
                ib = order_items[starts[vb]:starts[vb + 1]]
                gi.append(np.repeat(ia, ib.size))
                gj.append(np.tile(ib, ia.size))
    for v in np.flatnonzero(counts > 1).tolist():
        items = order_items[starts[v]:starts[v + 1]]
        ii, jj = np.triu_indices(items.size, k=1)
        gi.append(items[ii])
        gj.append(items[jj])
    if not gi:
        return empty
    i = np.concatenate(gi).astype(np.int64)
    j = np.concatenate(gj).astype(np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    o = np.lexsort((hi, lo))
    lo, hi = lo[o], hi[o]
    return lo, hi, np.bitwise_count(hashes[lo] ^ hashes[hi])


def _first_combo_filter(combo, m, masks):
    """Keep a verified pair only in the first (lexicographic) combination of exactly-equal chunks
    it has, so no pair is reported twice."""
    import numpy as np

    k = len(combo)

    def keep(x: np.ndarray) -> np.ndarray:
        equal = np.stack([(x & masks[c]) == 0 for c in range(m)])  # (m, pairs)
        # The first k equal chunks of each pair, compared with this combination.
        rank = np.cumsum(equal, axis=0)
        ok = np.ones(x.size, dtype=bool)
        for pos, c in enumerate(combo):
            # chunk c must be equal and be the (pos+1)-th equal chunk
            ok &= equal[c] & (rank[c] == pos + 1)
        return ok if k else np.ones(x.size, dtype=bool)

    return keep




def equal_runs(order: np.ndarray, sorted_keys: np.ndarray) -> list[np.ndarray]:
    """Slices of ``order`` where ``sorted_keys`` is constant, two or more long (no per-singleton cost)."""
    import numpy as np

    bounds = np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1, [sorted_keys.size]))
    long = np.flatnonzero(np.diff(bounds) > 1)
    return [order[bounds[r]:bounds[r + 1]] for r in long.tolist()]

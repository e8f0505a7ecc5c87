"""Hamming search over packed 64-bit dHashes, needle/haystack matching and duplicate groups.

Three layers:

1. **Kernels** on ``uint64`` arrays (one 64-bit dHash per element, ``hash_size=8``):
   :func:`hamming_scan` (XOR + popcount in cache-sized blocks, the floor everything else is measured
   against), :class:`MultiIndex` (multi-index hashing: four 16-bit tables; a hash within ``r`` of
   the query agrees with it to within ``r // 4`` bits on at least one quarter, so only the buckets
   near the query's quarters are verified) and :func:`radius_pairs` (all pairs within ``r``: a
   pigeonhole split into ``m`` chunks, of which at least ``m - r`` agree exactly; candidates come
   from sorting on combinations of exact chunks and are verified with the full distance).
2. **Matching** (:func:`match_needles`): needle records against a haystack, never the haystack
   against itself, with per-needle matches, per-folder counts and the folders with no match.
3. **Groups** (:func:`find_duplicates`): exact copies (file SHA-256), same-pixel copies (pixel
   SHA-256) and near-duplicates (connected components within the radius).

Flat frames (``flat`` records: blank or nearly uniform, their dHash is noise) are never matched by
distance, to each other or to anything; they are reported apart and still found as exact or
same-pixel copies.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from .errors import InputError
from .hashing import DHash

HASH_BITS = 64

#: Default ``--max-distance`` for search and dedupe, in bits of 64. Measured by
#: ``bench/bench_hashing.py --distances`` on 20 scikit-image images: copies re-encoded as JPEG
#: (q 95/75/50), resized (1/2, 1/4 + JPEG 80, 3/2), shifted by a pixel, brightened or with changed
#: metadata moved at most 4 bits, except a low-contrast image at 1/4 size (12) and a binary
#: silhouette upscaled (7); different images were at least 13 bits apart, separate fields of view
#: of the same specimen at least 10, half-overlapping fields at least 8. 7 finds 99.5 % of the
#: copies and none of the others.
DEFAULT_MAX_DISTANCE = 7

#: From this many hashes on, queries use the multi-index (measured in ``bench/bench_search.py``,
#: radius 10: at 1e4 the scan takes 0.009 ms and the multi-index 0.027 ms; at 3e4 they are even;
#: at 1e5 0.065 vs 0.036 ms, at 1e6 0.69 vs 0.12 ms).
MULTI_INDEX_MIN_SIZE = 50_000

_BLOCK = 1 << 15  # elements per scan block: 256 KiB of hashes, stays in L2


# --------------------------------------------------------------------------- packing

def to_uint64(values) -> np.ndarray:
    """Pack hash values (ints, :class:`DHash` or ``dhash:8:<hex>`` strings) into ``uint64``."""
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


def check_distance(max_distance: int) -> int:
    if not isinstance(max_distance, (int, np.integer)) or isinstance(max_distance, bool):
        raise InputError(f"--max-distance must be a whole number of bits, got {max_distance!r}")
    if not 0 <= max_distance <= HASH_BITS:
        raise InputError(f"--max-distance must be between 0 and {HASH_BITS} bits, got {max_distance}")
    return int(max_distance)


def _as_hashes(hashes) -> np.ndarray:
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
    max_distance = check_distance(max_distance)
    hashes = _as_hashes(hashes)
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


# --------------------------------------------------------------------------- multi-index hashing

def _masks(bits: int, radius: int) -> np.ndarray:
    """All ``bits``-bit masks with at most ``radius`` bits set (the probe offsets)."""
    out = [0]
    for r in range(1, radius + 1):
        for combo in combinations(range(bits), r):
            m = 0
            for b in combo:
                m |= 1 << b
            out.append(m)
    return np.array(out, dtype=np.int64)


class MultiIndex:
    """Multi-index hashing over four 16-bit quarters of 64-bit hashes.

    If two hashes are within ``r`` bits, at least one of their four quarters differs in at most
    ``r // 4`` bits (pigeonhole). A query probes, in each quarter's table, every bucket within
    ``r // 4`` bits of its own quarter (137 buckets for ``r`` up to 11) and verifies the
    candidates with the full distance. Results are exact, equal to :func:`hamming_scan`.

    Build is four 16-bit radix sorts (about 50 ms at 1e6 hashes); memory is 4 x int32 per hash.
    """

    CHUNKS = 4
    CHUNK_BITS = 16

    def __init__(self, hashes: np.ndarray):
        self.hashes = _as_hashes(hashes)
        n = self.hashes.size
        if n >= 2**31:
            raise InputError(f"{n} hashes is more than the multi-index handles (2**31)")
        nb = 1 << self.CHUNK_BITS
        orders, offsets = [], []
        for t in range(self.CHUNKS):
            keys = ((self.hashes >> np.uint64(t * self.CHUNK_BITS)) & np.uint64(nb - 1)).astype(np.uint16)
            order = np.argsort(keys, kind="stable").astype(np.int32)  # radix sort for 16-bit keys
            counts = np.bincount(keys, minlength=nb)
            off = np.zeros(nb + 1, dtype=np.int64)
            np.cumsum(counts, out=off[1:])
            orders.append(order)
            offsets.append(off[:-1] + t * n)
        # One flat table: bucket b of quarter t starts at starts[t * 65536 + b] in `order`.
        self._order = np.concatenate(orders) if n else np.zeros(0, dtype=np.int32)
        self._starts = np.concatenate(offsets + [np.array([self.CHUNKS * n], dtype=np.int64)])
        self._probe_cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.hashes.size)

    def _probes(self, per_chunk: int) -> np.ndarray:
        if per_chunk not in self._probe_cache:
            self._probe_cache[per_chunk] = _masks(self.CHUNK_BITS, per_chunk)
        return self._probe_cache[per_chunk]

    def query(self, query: int, *, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (ascending) and distances of the hashes within ``max_distance`` of ``query``."""
        max_distance = check_distance(max_distance)
        n = self.hashes.size
        per_chunk = max_distance // self.CHUNKS
        if n == 0 or per_chunk > 3:  # beyond 3 bits per quarter the probes cost more than a scan
            return hamming_scan(self.hashes, query, max_distance=max_distance)
        q = int(query)
        masks = self._probes(per_chunk)
        nb = 1 << self.CHUNK_BITS
        keys = np.concatenate([((q >> (t * self.CHUNK_BITS)) & (nb - 1)) ^ masks + t * nb
                               for t in range(self.CHUNKS)])
        lo = self._starts[keys]
        hi = self._starts[keys + 1]
        lengths = hi - lo
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
        # Positions lo[k] .. hi[k]-1 for every probed bucket, without a Python loop.
        shift = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
        cand = self._order[np.arange(total, dtype=np.int64) + shift]
        d = np.bitwise_count(self.hashes[cand] ^ np.uint64(q))
        keep = d <= max_distance
        idx = np.unique(cand[keep])  # a hash near the query in several quarters is found several times
        return idx.astype(np.int64), np.bitwise_count(self.hashes[idx] ^ np.uint64(q))


class HammingIndex:
    """Radius queries over packed hashes, choosing the fastest exact method for the size.

    The blocked scan below :data:`MULTI_INDEX_MIN_SIZE` hashes, the multi-index above (both exact;
    the crossover is measured in ``bench/bench_search.py``).
    """

    def __init__(self, hashes, *, method: str = "auto"):
        if method not in ("auto", "scan", "multi-index"):
            raise InputError(f"method must be auto, scan or multi-index, got {method!r}")
        self.hashes = _as_hashes(hashes)
        use_mih = method == "multi-index" or (method == "auto" and self.hashes.size >= MULTI_INDEX_MIN_SIZE)
        self.method = "multi-index" if use_mih else "scan"
        self._mih = MultiIndex(self.hashes) if use_mih else None

    def __len__(self) -> int:
        return int(self.hashes.size)

    def query(self, query: int, *, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
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


def _plan(n: int, r: int) -> tuple[int, int]:
    """Choose ``m`` chunks (``k = m - r`` of them must agree exactly) by a cost model.

    Cost ~ one sort per combination of ``k`` chunks plus the expected candidate pairs for
    uniformly spread hashes. For r=4 at 1e6 this picks m=6, k=2: 15 sorts on 21-bit keys.
    """
    best = None
    for k in range(1, 6):
        m = r + k
        if m > HASH_BITS:
            break
        combos = math.comb(m, k)
        key_bits = HASH_BITS * k / m
        candidates = combos * (n * n / 2) / 2 ** key_bits
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
    r = check_distance(max_distance)
    hashes = _as_hashes(hashes)
    n = hashes.size
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8))
    if n < 2:
        return empty
    uniq, inverse = np.unique(hashes, return_inverse=True)
    inverse = inverse.ravel()
    u = uniq.size
    pi, pj = [], []
    if u >= 2 and r > 0:
        m, k = _plan(u, r)
        layout = _chunk_layout(m)
        masks = [np.uint64(((1 << w) - 1) << s) for s, w in layout]
        idx_bits = max(1, int(u - 1).bit_length())
        all_combos = list(combinations(range(m), k))
        for combo in all_combos:
            keybits = sum(layout[c][1] for c in combo)
            if keybits + idx_bits <= 64:  # sort (key, index) packed into one uint64: SIMD sort
                key = np.zeros(u, dtype=np.uint64)
                for c in combo:
                    s, w = layout[c]
                    key = (key << np.uint64(w)) | ((uniq >> np.uint64(s)) & np.uint64((1 << w) - 1))
                packed = np.sort((key << np.uint64(idx_bits)) | np.arange(u, dtype=np.uint64))
                order = (packed & np.uint64((1 << idx_bits) - 1)).astype(np.int64)
                skey = packed >> np.uint64(idx_bits)
            else:
                key = np.zeros(u, dtype=np.uint64)
                for c in combo:
                    key |= uniq & masks[c]
                order = np.argsort(key, kind="stable")
                skey = key[order]
            # run_end[p]: one past the last position with the same key as position p
            brk = np.flatnonzero(skey[1:] != skey[:-1]) + 1
            bounds = np.concatenate(([0], brk, [u]))
            run_end = np.repeat(bounds[1:], np.diff(bounds))
            active = np.flatnonzero(run_end - np.arange(u) > 1)
            d_off = 1
            earlier_ok = _first_combo_filter(combo, m, masks)
            while active.size:
                a = order[active]
                b = order[active + d_off]
                x = uniq[a] ^ uniq[b]
                ok = np.bitwise_count(x) <= r
                if ok.any():
                    a, b, x = a[ok], b[ok], x[ok]
                    keep = earlier_ok(x)
                    if keep.any():
                        pi.append(a[keep])
                        pj.append(b[keep])
                d_off += 1
                active = active[run_end[active] - active > d_off]
    # Expand pairs of distinct values to pairs of items, then add pairs of equal values.
    gi, gj = [], []
    order_items = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=u)
    starts = np.zeros(u + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    if pi:
        a = np.concatenate(pi)
        b = np.concatenate(pj)
        single = (counts[a] == 1) & (counts[b] == 1)
        gi.append(order_items[starts[a[single]]])
        gj.append(order_items[starts[b[single]]])
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


def connected_groups(n: int, i: np.ndarray, j: np.ndarray) -> list[np.ndarray]:
    """Connected components (size >= 2) of the graph on ``n`` nodes with edges ``i``-``j``."""
    if n == 0 or i.size == 0:
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    order = np.argsort(labels, kind="stable")
    return _runs(order, labels[order])


# --------------------------------------------------------------------------- records

@dataclass(frozen=True)
class Entry:
    """What matching needs of one hashed file (a :class:`compare.record.HashRecord` or a DB row)."""

    path: str
    dhash: str
    flat: bool
    sha256: str
    pixel_sha256: str
    width: int = 0
    height: int = 0
    format: str = ""

    @classmethod
    def of(cls, rec) -> Entry:
        return cls(path=rec.path, dhash=rec.dhash, flat=bool(rec.flat), sha256=rec.sha256,
                   pixel_sha256=rec.pixel_sha256, width=rec.width, height=rec.height, format=rec.format)


def digest_key(hexdigest: str) -> int:
    """The first 63 bits of a hex digest: a non-negative int64 for vectorised equality tests
    (a candidate filter; full digests are always compared before anything is called equal)."""
    return int(hexdigest[:16], 16) >> 1


@dataclass(frozen=True)
class Haystack:
    """Hashed files to search in, held as arrays so millions of files stay cheap.

    ``hashes`` (uint64 dHash values), ``flat`` (bool) and ``sha_key`` / ``pix_key`` (int64,
    :func:`digest_key` of the file and pixel SHA-256) are parallel arrays; the full :class:`Entry`
    of any file is fetched on demand with :meth:`entries_at` (from memory, or from the index file).
    """

    hashes: np.ndarray = field(repr=False)
    flat: np.ndarray = field(repr=False)
    sha_key: np.ndarray = field(repr=False)
    pix_key: np.ndarray = field(repr=False)
    fetch: object = field(repr=False)  # callable(list of positions) -> list of Entry, same order
    errors: tuple = ()
    source: str = ""

    def __len__(self) -> int:
        return int(self.hashes.size)

    def entries_at(self, positions) -> list[Entry]:
        positions = [int(k) for k in positions]
        return list(self.fetch(positions)) if positions else []

    @classmethod
    def of(cls, entries, *, errors=(), source: str = "") -> Haystack:
        """A haystack held in memory (a folder hashed now, or entries built by hand)."""
        entries = tuple(entries)
        return cls(hashes=to_uint64([e.dhash for e in entries]),
                   flat=np.array([e.flat for e in entries], dtype=bool),
                   sha_key=np.array([digest_key(e.sha256) for e in entries], dtype=np.int64),
                   pix_key=np.array([digest_key(e.pixel_sha256) for e in entries], dtype=np.int64),
                   fetch=lambda ks: [entries[k] for k in ks], errors=tuple(errors), source=source)


def _equal_key_runs(keys: np.ndarray) -> list[np.ndarray]:
    """Positions grouped by equal key, groups of two or more only."""
    if keys.size < 2:
        return []
    order = np.argsort(keys, kind="stable")
    return _runs(order, keys[order])


def _runs(order: np.ndarray, sorted_keys: np.ndarray) -> list[np.ndarray]:
    """Slices of ``order`` where ``sorted_keys`` is constant, two or more long (no per-singleton cost)."""
    bounds = np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1, [sorted_keys.size]))
    long = np.flatnonzero(np.diff(bounds) > 1)
    return [order[bounds[r]:bounds[r + 1]] for r in long.tolist()]


@dataclass(frozen=True)
class Match:
    path: str
    distance: int
    file_equal: bool
    pixel_equal: bool

    def to_json(self) -> dict:
        return {"path": self.path, "distance": self.distance, "file_equal": self.file_equal,
                "pixel_equal": self.pixel_equal}


@dataclass(frozen=True)
class NeedleResult:
    path: str
    folder: str
    dhash: str
    flat: bool
    matches: tuple[Match, ...]

    def to_json(self) -> dict:
        return {"path": self.path, "folder": self.folder, "dhash": self.dhash, "flat": self.flat,
                "matches": [m.to_json() for m in self.matches]}


@dataclass(frozen=True)
class FolderSummary:
    folder: str
    images: int   # needle images hashed in this folder (not counting its sub-folders)
    matched: int  # of which have at least one match in the haystack
    errors: int   # files in this folder that could not be read

    def to_json(self) -> dict:
        return {"folder": self.folder, "images": self.images, "matched": self.matched, "errors": self.errors}


@dataclass(frozen=True)
class SearchResult:
    needles: tuple[NeedleResult, ...]
    folders: tuple[FolderSummary, ...]
    unmatched_folders: tuple[str, ...]
    needle_errors: tuple      # WalkError-like: path, error
    haystack_errors: tuple
    haystack: str
    haystack_size: int
    max_distance: int
    method: str

    @property
    def all_found(self) -> bool:
        return all(n.matches for n in self.needles)

    def to_json(self) -> dict:
        errors = [{"path": e.path, "error": e.error, "side": "needles"} for e in self.needle_errors]
        errors += [{"path": e.path, "error": e.error, "side": "haystack"} for e in self.haystack_errors]
        return {
            "haystack": self.haystack, "haystack_size": self.haystack_size,
            "max_distance": self.max_distance, "method": self.method,
            "needles": [n.to_json() for n in self.needles],
            "folders": [f.to_json() for f in self.folders],
            "unmatched_folders": list(self.unmatched_folders),
            "flat_needles": [n.path for n in self.needles if n.flat],
            "errors": errors,
        }


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def match_needles(needles, haystack: Haystack, *, max_distance: int = DEFAULT_MAX_DISTANCE,
                  needle_errors=(), method: str = "auto") -> SearchResult:
    """Find each needle's copies in the haystack.

    A haystack file matches a needle when it has the same bytes (``file_equal``), the same pixels
    (``pixel_equal``) or, when neither is flat, a dHash within ``max_distance`` bits. A file never
    matches itself (a needle folder inside the haystack is not "found" by its own files). Needle
    folders are the folders that directly contain needle images; a folder is unmatched when none of
    its images has a match.
    """
    max_distance = check_distance(max_distance)
    needles = [Entry.of(n) if not isinstance(n, Entry) else n for n in needles]
    index = HammingIndex(haystack.hashes, method=method)
    # Exact and same-pixel candidates for all needles at once, by 63-bit digest keys.
    nsha = np.array([digest_key(n.sha256) for n in needles], dtype=np.int64)
    npix = np.array([digest_key(n.pixel_sha256) for n in needles], dtype=np.int64)
    by_key: dict[tuple[str, int], list[int]] = {}
    for name, keys, mine in (("sha", haystack.sha_key, nsha), ("pix", haystack.pix_key, npix)):
        for k in np.flatnonzero(np.isin(keys, mine)).tolist():
            by_key.setdefault((name, int(keys[k])), []).append(k)
    candidates = []
    for nd, ks, kp in zip(needles, nsha.tolist(), npix.tolist()):
        found = set(by_key.get(("sha", ks), ())) | set(by_key.get(("pix", kp), ()))
        q = DHash.parse(nd.dhash)
        if not nd.flat and len(index):
            idx, _ = index.query(q.value, max_distance=max_distance)
            if idx.size:
                found.update(idx[~haystack.flat[idx]].tolist())
        candidates.append(sorted(found))
    wanted = sorted({k for c in candidates for k in c})
    fetched = dict(zip(wanted, haystack.entries_at(wanted)))
    results = []
    for nd, found in zip(needles, candidates):
        q = DHash.parse(nd.dhash)
        matches = []
        for k in found:
            e = fetched[k]
            file_equal = e.sha256 == nd.sha256
            pixel_equal = e.pixel_sha256 == nd.pixel_sha256
            distance = DHash.parse(e.dhash) - q
            if not (file_equal or pixel_equal or (not nd.flat and not e.flat and distance <= max_distance)):
                continue  # a digest-key collision, not a match
            if _same_file(e.path, nd.path):
                continue
            matches.append(Match(path=e.path, distance=distance, file_equal=file_equal, pixel_equal=pixel_equal))
        matches.sort(key=lambda m: (not m.file_equal, not m.pixel_equal, m.distance, m.path))
        results.append(NeedleResult(path=nd.path, folder=os.path.dirname(nd.path), dhash=nd.dhash,
                                    flat=nd.flat, matches=tuple(matches)))
    folders: dict[str, list[int]] = {}
    for res in results:
        f = folders.setdefault(res.folder, [0, 0, 0])
        f[0] += 1
        f[1] += bool(res.matches)
    for err in needle_errors:
        folders.setdefault(os.path.dirname(err.path), [0, 0, 0])[2] += 1
    summaries = tuple(FolderSummary(folder=k, images=v[0], matched=v[1], errors=v[2])
                      for k, v in sorted(folders.items()))
    unmatched = tuple(s.folder for s in summaries if s.images and not s.matched)
    return SearchResult(needles=tuple(results), folders=summaries, unmatched_folders=unmatched,
                        needle_errors=tuple(needle_errors), haystack_errors=tuple(haystack.errors),
                        haystack=haystack.source, haystack_size=len(haystack),
                        max_distance=max_distance, method=index.method)


# --------------------------------------------------------------------------- duplicate groups

@dataclass(frozen=True)
class GroupMember:
    path: str
    dhash: str
    distance: int  # to the group's first member

    def to_json(self) -> dict:
        return {"path": self.path, "dhash": self.dhash, "distance": self.distance}


@dataclass(frozen=True)
class DuplicateGroup:
    kind: str  # "exact" (same bytes), "pixels" (same pixels, different bytes), "near" (within radius)
    members: tuple[GroupMember, ...]
    max_distance: int  # largest distance between two members; -1 when over 2000 members (not computed)

    def to_json(self) -> dict:
        return {"kind": self.kind, "size": len(self.members), "max_distance": self.max_distance,
                "files": [m.to_json() for m in self.members]}


@dataclass(frozen=True)
class DedupeResult:
    groups: tuple[DuplicateGroup, ...]
    flat: tuple[str, ...]
    errors: tuple
    source: str
    files: int
    max_distance: int

    def to_json(self) -> dict:
        kinds = {k: sum(1 for g in self.groups if g.kind == k) for k in ("exact", "pixels", "near")}
        return {"source": self.source, "files": self.files, "max_distance": self.max_distance,
                "counts": kinds, "groups": [g.to_json() for g in self.groups],
                "flat": list(self.flat), "errors": [{"path": e.path, "error": e.error} for e in self.errors]}


def _group(kind: str, entries, ks) -> DuplicateGroup:
    ks = sorted(ks, key=lambda k: entries[k].path)
    hs = [DHash.parse(entries[k].dhash) for k in ks]
    members = tuple(GroupMember(path=entries[k].path, dhash=entries[k].dhash, distance=h - hs[0])
                    for k, h in zip(ks, hs))
    packed = to_uint64(hs)
    span = int(np.bitwise_count(packed[:, None] ^ packed[None, :]).max()) if len(ks) <= 2000 else -1
    return DuplicateGroup(kind=kind, members=members, max_distance=span)


def find_duplicates(haystack: Haystack, *, max_distance: int = DEFAULT_MAX_DISTANCE) -> DedupeResult:
    """Groups of exact copies, of same-pixel copies and of near-duplicates.

    * ``exact``: two or more files with the same SHA-256.
    * ``pixels``: files with the same pixel SHA-256 but not all the same bytes (re-encoded
      losslessly, metadata changed).
    * ``near``: connected components of non-flat files whose dHashes are within ``max_distance``
      (a chain a-b-c is one group even when a and c are further apart), kept when they hold more
      than one distinct pixel content.

    Flat frames are listed in ``flat`` and never join a near group.
    """
    max_distance = check_distance(max_distance)
    groups: list[DuplicateGroup] = []
    candidates = []  # (kind, positions): equal digest keys, verified on the full digests below
    candidates += [("exact", g) for g in _equal_key_runs(haystack.sha_key)]
    candidates += [("pixels", g) for g in _equal_key_runs(haystack.pix_key)]
    live = np.flatnonzero(~haystack.flat)
    if live.size > 1:
        i, j, _ = radius_pairs(haystack.hashes[live], max_distance=max_distance)
        candidates += [("near", live[comp]) for comp in connected_groups(live.size, i, j)]
    wanted = sorted({int(k) for _, g in candidates for k in g})
    entries = dict(zip(wanted, haystack.entries_at(wanted)))
    for kind, g in candidates:
        ks = [int(k) for k in g]
        if kind == "near":
            if len({entries[k].pixel_sha256 for k in ks}) > 1:
                groups.append(_group("near", entries, ks))
            continue
        attr = "sha256" if kind == "exact" else "pixel_sha256"
        full: dict[str, list[int]] = {}
        for k in ks:
            full.setdefault(getattr(entries[k], attr), []).append(k)
        for members in full.values():
            if len(members) < 2:
                continue
            if kind == "pixels" and len({entries[k].sha256 for k in members}) < 2:
                continue  # all the same bytes: already an exact group
            groups.append(_group(kind, entries, members))
    rank = {"exact": 0, "pixels": 1, "near": 2}
    groups.sort(key=lambda g: (rank[g.kind], g.members[0].path))
    flat = tuple(sorted(e.path for e in haystack.entries_at(np.flatnonzero(haystack.flat))))
    return DedupeResult(groups=tuple(groups), flat=flat, errors=tuple(haystack.errors), source=haystack.source,
                        files=len(haystack), max_distance=max_distance)


# --------------------------------------------------------------------------- contact sheet

def _thumbnail_uri(path: str, *, box: int, max_pixels: int) -> str | None:
    import base64

    import cv2

    from .errors import ScopecheckError
    from .load import load

    try:
        px = load(path, max_pixels=max_pixels).pixels
    except ScopecheckError:
        return None
    if px.dtype == np.uint16:
        px = (px >> 8).astype(np.uint8)
    if px.ndim == 3 and px.shape[2] == 4:
        px = px[:, :, :3]
    h, w = px.shape[:2]
    scale = min(1.0, box / max(h, w))
    if scale < 1.0:
        px = cv2.resize(px, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(px), [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


_SHEET_STYLE = """
body{font-family:system-ui,sans-serif;margin:1em;background:#fafafa}
h2{font-size:1.05em;margin:1.2em 0 .3em}
.g{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;width:170px;background:#fff;border:1px solid #ddd;padding:4px}
figure img{max-width:160px;max-height:160px;display:block;margin:auto}
figcaption{font-size:11px;word-break:break-all}
.miss{width:160px;height:60px;background:#eee;text-align:center;line-height:60px;color:#a00}
"""


def write_sheet(result: DedupeResult, out: str | os.PathLike, *, box: int = 160,
                max_pixels: int | None = None) -> str:
    """Write an HTML contact sheet of ``result``'s groups: a thumbnail (inline JPEG data URI) and
    the escaped path of every member, group by group. Written atomically; returns the path."""
    import html

    from .load import DEFAULT_MAX_PIXELS

    out = os.fspath(out)
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise InputError(f"folder {folder} does not exist; create it or choose another --sheet path", path=out)
    if os.path.isdir(out):
        raise InputError("is a folder; --sheet takes a file name such as groups.html", path=out)
    limit = max_pixels or DEFAULT_MAX_PIXELS
    esc = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>scopecheck dedupe</title>",
             f"<style>{_SHEET_STYLE}</style></head><body>",
             f"<h1>Duplicate groups in {esc(result.source)}</h1>",
             f"<p>{result.files} images, {len(result.groups)} groups, near-duplicates within "
             f"{result.max_distance} bits; {len(result.flat)} flat frames; {len(result.errors)} unreadable.</p>"]
    cache: dict[str, str | None] = {}
    for n, g in enumerate(result.groups, 1):
        parts.append(f"<h2>{n}. {esc(g.kind)}: {len(g.members)} files, max distance {g.max_distance}</h2>"
                     "<div class='g'>")
        for m in g.members:
            if m.path not in cache:
                cache[m.path] = _thumbnail_uri(m.path, box=box, max_pixels=limit)
            uri = cache[m.path]
            img = (f"<img src='{uri}' alt='{esc(os.path.basename(m.path), quote=True)}'>" if uri
                   else "<div class='miss'>unreadable now</div>")
            parts.append(f"<figure>{img}<figcaption>{esc(m.path)}<br>distance {m.distance}</figcaption></figure>")
        parts.append("</div>")
    if result.flat:
        parts.append("<h2>Flat frames (not matched by dHash)</h2><ul>")
        parts.extend(f"<li>{esc(p)}</li>" for p in result.flat)
        parts.append("</ul>")
    if result.errors:
        parts.append("<h2>Unreadable files</h2><ul>")
        parts.extend(f"<li>{esc(e.path)}: {esc(e.error)}</li>" for e in result.errors)
        parts.append("</ul>")
    parts.append("</body></html>\n")
    tmp = f"{out}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("".join(parts))
        os.replace(tmp, out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise InputError(f"cannot write the sheet: {e.strerror or e}", path=out) from None
    return out

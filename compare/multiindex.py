"""Multi-index hashing over packed 64-bit hashes, in memory or memory-mapped from a file.

**Method** (Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing",
CVPR 2012). The 64 bits are split into ``m`` substrings of ``w`` bits. If two hashes are within
``r`` bits, their substring distances ``d_t`` add up to at most ``r``; give substring ``t`` a probe
radius ``q_t`` with ``sum(q_t + 1) = r + 1``: if every ``d_t`` were larger than ``q_t`` the sum
would exceed ``r``, so some substring is within its probe radius. A query looks up, in each
substring's table, every key within ``q_t`` bits of its own substring and verifies those
candidates with the full 64-bit distance. Results are exact (equal to a scan; see the tests).

**Tables.** Per substring: the hashes sorted by that substring (``uint64``, so candidates of one
key are one contiguous run and verification reads memory in order), their positions in the
original array (``uint32`` below 2**32 hashes), and a bucket-offset array of ``2**w + 1`` entries
(the ``searchsorted`` of every possible key, computed once, so a probe is two array reads).
Substrings are about ``log2(n)`` bits wide (at most 24), so a bucket holds about one hash on
uniform data: at 1e8 hashes ``m = 3`` (21 + 21 + 22 bits), at 1e6 ``m = 4`` (16 bits).

**Memory**: ``m * 12`` bytes per hash plus ``m * 8 * 2**w`` bytes of offsets; at 1e8 hashes
3.6 GB + 0.1 GB, memory-mapped read-only from the file :meth:`MultiIndex.save` writes (the OS keeps
in RAM only the pages queries touch). Build: ``m`` sorts of packed (key, position) words.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import mmap
import os

import numpy as np

from .errors import InputError
from .hamming import HASH_BITS, as_hashes, check_distance

MAGIC = b"SCMIH\x00v1"
_HEADER = 4096
_ALIGN = 4096
MAX_CHUNK_BITS = 24
#: From this many expected candidates on (uniform hashes: probes x n / 2**width; radius 8 and up
#: at 1e8), a query first counts the candidates of nearby splits of its radius and takes the
#: cheapest (:meth:`MultiIndex._adapt`): a third fewer on skewed hashes, for ~0.3 ms of counting.
ADAPT_MIN_CANDIDATES = 50_000


def sidecar_path(index_path: str | os.PathLike) -> str:
    """Where the memory-mapped multi-index of an index file lives: beside it, ``<index>.mih``."""
    return os.fspath(index_path) + ".mih"


def refresh_sidecar(index_path: str | os.PathLike, hashes, *, min_size: int | None = None) -> str | None:
    """Keep ``<index>.mih`` in step with an index's hashes: (re)written when there are at least
    ``min_size`` (default :data:`compare.hamming.MULTI_INDEX_MIN_SIZE`) and it does not already
    match them; removed below that (a scan is faster there). Returns the path written or kept."""
    from .hamming import MULTI_INDEX_MIN_SIZE

    hashes = as_hashes(hashes)
    path = sidecar_path(index_path)
    if hashes.size < (MULTI_INDEX_MIN_SIZE if min_size is None else min_size):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise InputError(f"cannot remove the stale multi-index: {e.strerror or e}", path=path) from None
        return None
    if os.path.isfile(path):
        try:
            MultiIndex.open(path, hashes=hashes)
            return path
        except InputError:
            pass  # stale or damaged: rebuilt below
    return build_file(path, hashes)


def fingerprint(hashes: np.ndarray) -> str:
    """BLAKE2b of the packed hashes: ties a saved index to the exact array it was built from."""
    return hashlib.blake2b(as_hashes(hashes).view(np.uint8).data, digest_size=16).hexdigest()


def plan_chunks(n: int) -> list[tuple[int, int]]:
    """(shift, width) of each substring for ``n`` hashes: widths near ``log2(n)``, at most 24 bits."""
    width = min(MAX_CHUNK_BITS, max(8, math.log2(max(n, 2))))
    m = max(2, math.ceil(HASH_BITS / width))
    base, extra = divmod(HASH_BITS, m)
    out, shift = [], 0
    for c in range(m):
        w = base + (1 if c >= m - extra else 0)
        out.append((shift, w))
        shift += w
    return out


def check_layout(layout) -> list[tuple[int, int]]:
    """``layout`` as a list of (shift, width) substrings tiling the 64 bits, each 1..24 bits wide."""
    out = [(int(s), int(w)) for s, w in layout]
    shifts = [sum(w for _, w in out[:k]) for k in range(len(out))]
    if [s for s, _ in out] != shifts or sum(w for _, w in out) != HASH_BITS or len(out) < 2 \
            or not all(1 <= w <= MAX_CHUNK_BITS for _, w in out):
        raise InputError(f"layout must tile the 64 bits with 2 or more substrings of 1..{MAX_CHUNK_BITS} bits "
                         f"in order, got {out}")
    return out


def probe_radii(m: int, r: int) -> list[int]:
    """Probe radius of each of ``m`` substrings for a query radius ``r``: ``sum(q_t + 1) == r + 1``
    (``-1``: the substring is not probed)."""
    s = [(r + 1) // m + (1 if t < (r + 1) % m else 0) for t in range(m)]
    return [v - 1 for v in s]


def _masks(bits: int, radius: int) -> np.ndarray:
    out = [0]
    for k in range(1, radius + 1):
        for combo in itertools.combinations(range(bits), k):
            out.append(sum(1 << b for b in combo))
    return np.array(out, dtype=np.int64)


def _probe_count(bits: int, radius: int) -> int:
    return sum(math.comb(bits, k) for k in range(radius + 1))


class MultiIndex:
    """Exact radius queries over ``n`` packed 64-bit hashes (see the module docstring).

    >>> h = np.array([0b1011, 0, 0xFFFF], dtype=np.uint64)
    >>> MultiIndex(h).query(0b0011, max_distance=2)
    (array([0, 1]), array([1, 2], dtype=uint8))
    """

    def __init__(self, hashes=None, *, layout: list[tuple[int, int]] | None = None, _arrays=None):
        if _arrays is not None:  # opened from a file
            self.n, self.layout, self._sorted, self._pos, self._off, self.fingerprint = _arrays
        else:
            hashes = as_hashes(hashes)
            self.n = int(hashes.size)
            self.layout = check_layout(layout) if layout else plan_chunks(self.n)
            self._sorted, self._pos, self._off = [], [], []
            for shift, width in self.layout:
                s, p, o = _build_table(hashes, shift, width)
                self._sorted.append(s)
                self._pos.append(p)
                self._off.append(o)
            self.fingerprint = None
        self._probe_cache: dict[tuple[int, int], np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    @property
    def mapped(self) -> bool:
        """True when the tables are views of a memory-mapped file (:meth:`open`)."""
        base = self._sorted[0].base if self._sorted else None
        return isinstance(getattr(base, "obj", None), mmap.mmap)

    @property
    def nbytes(self) -> int:
        """Bytes of the tables (on disk, and the most a memory-mapped index keeps in RAM)."""
        return sum(a.nbytes for a in (*self._sorted, *self._pos, *self._off))

    def _probes(self, width: int, radius: int) -> np.ndarray:
        key = (width, radius)
        if key not in self._probe_cache:
            self._probe_cache[key] = _masks(width, radius)
        return self._probe_cache[key]

    def query(self, query: int, *, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices (ascending) and distances of the hashes within ``max_distance`` of ``query``."""
        r = check_distance(max_distance)
        q = int(query)
        q64 = np.uint64(q)
        radii = probe_radii(len(self.layout), r)
        probes = sum(_probe_count(w, qt) for (_, w), qt in zip(self.layout, radii) if qt >= 0)
        if self.n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
        if probes > self.n // 4:  # a probe per few hashes: reading the whole first table is cheaper
            d = np.bitwise_count(np.asarray(self._sorted[0]) ^ q64)
            hit = np.flatnonzero(d <= r)
            pos = np.asarray(self._pos[0][hit]).astype(np.int64)
            o = np.argsort(pos)
            return pos[o], d[hit][o]
        if self._expected(radii) >= ADAPT_MIN_CANDIDATES:
            radii = self._adapt(q, r, radii)
        found_p, found_d = [], []
        for t, ((shift, width), qt) in enumerate(zip(self.layout, radii)):
            if qt < 0:
                continue
            keys = ((q >> shift) & ((1 << width) - 1)) ^ self._probes(width, qt)
            off = self._off[t]
            lo = np.asarray(off[keys], dtype=np.int64)
            hi = np.asarray(off[keys + 1], dtype=np.int64)
            lengths = hi - lo
            total = int(lengths.sum())
            if total == 0:
                continue
            # Every position lo[k] .. hi[k]-1 of every probed bucket, in one vectorised expression.
            idx = np.arange(total, dtype=np.int64) + np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
            d = np.bitwise_count(self._sorted[t][idx] ^ q64)
            hit = d <= r
            if hit.any():
                found_p.append(np.asarray(self._pos[t][idx[hit]]).astype(np.int64))
                found_d.append(d[hit])
        if not found_p:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
        pos = np.concatenate(found_p)
        dist = np.concatenate(found_d)
        pos, first = np.unique(pos, return_index=True)  # found through several substrings: once
        return pos, dist[first]

    def _expected(self, radii: list[int]) -> float:
        """Candidates a query would verify on uniformly spread hashes."""
        return sum(_probe_count(w, qt) * self.n / 2 ** w for (_, w), qt in zip(self.layout, radii) if qt >= 0)

    def _adapt(self, q: int, r: int, radii: list[int]) -> list[int]:
        """Probe radii for this query: any split with ``sum(q_t + 1) == r + 1`` is exact, so take
        the one that verifies the fewest candidates, each substring's radius within one of the
        balanced split, or not probed at all. On skewed hashes a query's substrings fall in buckets of very different
        sizes; this counts them (bucket offsets only) before reading any hash."""
        m = len(self.layout)
        if m > 4:
            return radii
        costs = []  # costs[t][j]: candidates + probes when substring t is probed to radius j - 1
        for t, ((shift, width), qt) in enumerate(zip(self.layout, radii)):
            top = min(qt + 1, width)
            keys = ((q >> shift) & ((1 << width) - 1)) ^ self._probes(width, top)
            off = self._off[t]
            sizes = np.asarray(off[keys + 1]) - np.asarray(off[keys])
            ends = np.array([_probe_count(width, j) for j in range(top + 1)])
            cum = np.cumsum(sizes)[ends - 1] + ends
            costs.append([0] + cum.tolist())
        best = None
        for combo in itertools.product(*[[-1, *range(max(0, qt - 1), min(qt + 1, w) + 1)]
                                         for (_, w), qt in zip(self.layout, radii)]):
            if sum(c + 1 for c in combo) != r + 1:
                continue
            c = sum(costs[t][qt + 1] for t, qt in enumerate(combo))
            if best is None or c < best[0]:
                best = (c, list(combo))
        return best[1] if best else radii

    def cost(self, query: int, *, max_distance: int) -> tuple[int, int]:
        """(buckets probed, candidates verified) for one query: what its time is made of."""
        r = check_distance(max_distance)
        probes = cands = 0
        radii = probe_radii(len(self.layout), r)
        if self._expected(radii) >= ADAPT_MIN_CANDIDATES:
            radii = self._adapt(int(query), r, radii)
        for t, ((shift, width), qt) in enumerate(zip(self.layout, radii)):
            if qt < 0:
                continue
            keys = ((int(query) >> shift) & ((1 << width) - 1)) ^ self._probes(width, qt)
            probes += keys.size
            cands += int((np.asarray(self._off[t][keys + 1]) - np.asarray(self._off[t][keys])).sum())
        return probes, cands

    # ------------------------------------------------------------------ file

    def save(self, path: str | os.PathLike, *, hashes) -> str:
        """Write the tables to ``path``, replaced atomically (see :func:`build_file`)."""
        hashes = as_hashes(hashes)
        if hashes.size != self.n:
            raise InputError(f"save: {hashes.size} hashes given for an index of {self.n}")
        tables = iter(zip(self._sorted, self._pos, self._off))
        return _write(path, hashes, self.layout, lambda t: next(tables))

    @classmethod
    def open(cls, path: str | os.PathLike, *, hashes=None) -> MultiIndex:
        """Memory-map a saved index (read-only). With ``hashes``, refuse a file built from others.

        One read-only mapping of the file, advised ``MADV_RANDOM`` (queries read short runs at
        random places: read-ahead would only evict other pages); the arrays are views of it.
        """
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                head = f.read(_HEADER)
            size = os.path.getsize(path)
        except OSError as e:
            raise InputError(f"cannot read the multi-index: {e.strerror or e}", path=path) from None
        if not head.startswith(MAGIC):
            raise InputError("not a scopecheck multi-index file", path=path)
        try:
            hlen = int.from_bytes(head[len(MAGIC):len(MAGIC) + 8], "little")
            meta = json.loads(head[len(MAGIC) + 8:len(MAGIC) + 8 + hlen])
            n, layout = int(meta["n"]), check_layout(meta["layout"])
            for spec in meta["arrays"]:
                if spec["offset"] + spec["size"] * np.dtype(spec["dtype"]).itemsize > size:
                    raise ValueError("truncated")
            with open(path, "rb") as f:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            if hasattr(mm, "madvise") and hasattr(mmap, "MADV_RANDOM"):
                mm.madvise(mmap.MADV_RANDOM)
            arrays = [np.frombuffer(mm, dtype=np.dtype(e["dtype"]), count=e["size"], offset=e["offset"])
                      for e in meta["arrays"]]
        except InputError as e:
            raise InputError(f"damaged multi-index file ({e}); delete it to rebuild", path=path) from None
        except OSError as e:
            raise InputError(f"cannot map the multi-index: {e.strerror or e}", path=path) from None
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"damaged multi-index file ({e}); delete it to rebuild", path=path) from None
        m = len(layout)
        if len(arrays) != 3 * m:
            raise InputError("damaged multi-index file (wrong number of tables); delete it to rebuild", path=path)
        if hashes is not None and fingerprint(hashes) != meta["fingerprint"]:
            raise InputError("the multi-index was built from other hashes; rebuild it", path=path)
        return cls(_arrays=(n, layout, arrays[:m], arrays[m:2 * m], arrays[2 * m:], meta["fingerprint"]))


def build_file(path: str | os.PathLike, hashes, *, layout: list[tuple[int, int]] | None = None) -> str:
    """Build the index of ``hashes`` straight into the file ``path`` one table at a time (so at 1e8
    hashes the build needs about 2.5 GB of RAM, not the 3.7 GB of all tables), then
    :meth:`MultiIndex.open` maps it."""
    hashes = as_hashes(hashes)
    layout = check_layout(layout) if layout else plan_chunks(hashes.size)
    return _write(path, hashes, layout, lambda t: _build_table(hashes, *layout[t]))


def _write(path, hashes: np.ndarray, layout, table) -> str:
    """Stream the tables ``table(t) -> (sorted, positions, offsets)`` into ``path``: a temporary file
    beside it, fsynced, then renamed over it (readers see the old file or the whole new one).

    This is a cache beside an index: replacing an older one is intended, and it is gigabytes
    streamed, so it does not go through the no-clobber in-memory result writer.
    """
    path = os.fspath(path)
    n = int(hashes.size)
    m = len(layout)
    pos_dtype = np.dtype(np.uint32 if n < 2**32 else np.int64)
    shapes = ([(np.dtype(np.uint64), n)] * m + [(pos_dtype, n)] * m
              + [(np.dtype(np.int64), (1 << w) + 1) for _, w in layout])
    entries, offset = [], _HEADER
    for dt, size in shapes:
        entries.append({"dtype": dt.str, "size": int(size), "offset": offset})
        offset += -(-size * dt.itemsize // _ALIGN) * _ALIGN
    header = json.dumps({"n": n, "layout": layout, "arrays": entries, "fingerprint": fingerprint(hashes)}).encode()
    if len(header) + len(MAGIC) + 8 > _HEADER:
        raise InputError("multi-index header too large")
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for t in range(m):
                for k, a in enumerate(table(t)):
                    e = entries[k * m + t]
                    f.seek(e["offset"])
                    np.ascontiguousarray(a, dtype=np.dtype(e["dtype"])).tofile(f)
                    del a
            f.truncate(offset)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:  # also KeyboardInterrupt: never leave the temporary file
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise InputError(f"cannot write the multi-index: {e.strerror or e}", path=path) from None
        raise
    return path


def _build_table(hashes: np.ndarray, shift: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashes sorted by the substring ``(h >> shift) & (2**width - 1)``, their positions, bucket offsets."""
    n = hashes.size
    idx_bits = max(1, (n - 1).bit_length())
    pos_dtype = np.uint32 if n < 2**32 else np.int64
    if width + idx_bits <= 64:  # sort (key, position) packed in one word: numpy's SIMD sort, in place
        packed = hashes >> np.uint64(shift)
        packed &= np.uint64((1 << width) - 1)
        packed <<= np.uint64(idx_bits)
        packed |= np.arange(n, dtype=np.uint64)
        packed.sort()
        off = np.searchsorted(packed, np.arange((1 << width) + 1, dtype=np.uint64) << np.uint64(idx_bits))
        packed &= np.uint64((1 << idx_bits) - 1)
        pos = packed.astype(pos_dtype)
        del packed
    else:
        keys = (hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(keys, kind="stable")
        off = np.searchsorted(keys[order], np.arange((1 << width) + 1, dtype=np.uint64))
        pos = order.astype(pos_dtype)
    return hashes[pos], pos, off.astype(np.int64)

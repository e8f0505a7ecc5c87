"""All pairs of packed 64-bit hashes within ``r`` bits: :func:`radius_pairs`.

**Method** (pigeonhole, as in Manku, Jain and Das Sarma, "Detecting near-duplicates for web
crawling", WWW 2007): split the 64 bit positions into ``m`` disjoint chunks; two hashes within
``r`` bits differ in at most ``r`` chunks, so they agree exactly on at least ``k = m - r``. For
each combination of ``k`` chunks, hashes equal on those chunks are brought together by one sort,
and the pairs inside each run of equal keys are verified with the full distance. A pair is kept
only in the first combination it agrees on, so it is reported once.

What makes it fast in numpy:

* Equal hashes are collapsed first (one unstable SIMD ``argsort``), so a cluster of identical
  frames costs its size, not its square, until the pairs are expanded at the end.
* The key of a combination is the hash masked to its chunks, multiplied by an odd constant; the
  product's top bits are packed above the position and sorted in place (numpy's SIMD sort, no
  ``argsort``). Hashes equal on the chunks always share a key; a rare unequal pair that shares one
  too is only an extra candidate, rejected by the verification, so the result stays exact.
  Chunks therefore need not be contiguous bits.
* The plan (``m``, ``k`` and which bits form each chunk) is chosen by a cost model whose
  candidate counts are measured on a sample of the hashes: real dHashes have biased, correlated
  bits, so equal keys are far more common than for uniform hashes. Chunks are balanced by the
  sample's per-bit entropy. When no plan beats comparing every pair (few hashes, or a large
  radius), every pair is compared, in blocks.

Nothing here knows about files: arrays in, index arrays out.
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import numpy.typing as npt

from .hamming import HASH_BITS, as_hashes, check_distance

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

#: Costs in nanoseconds of CPU time, fitted to forced plans at 1e6 hashes (numpy 2.4, AVX-512 sort,
#: one core, the machine shared): one hash in one combination (mask, multiply, pack, sort, find
#: runs: 18 ms a combination), one candidate pair verified (three gathers, mostly random reads of
#: the hashes), the fixed numpy overhead of a combination, one pair compared by the brute force.
#: Uniform hashes: 6 chunks / 2 exact 0.49 s (model 0.51), 7 / 3 0.63 s (0.65); skewed: 7 / 3
#: 1.00 s (0.95), 8 / 4 1.31 s (1.35).
NS_PER_HASH_AND_COMBO = 18.0
NS_PER_CANDIDATE = 75.0
NS_PER_COMBO = 30_000.0
NS_PER_BRUTE_PAIR = 6.0

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd: x -> x * _MULT is a bijection of 64-bit words
_SAMPLE = 1 << 14        # hashes sampled to count equal keys per plan
_SAMPLED_COMBOS = 6      # combinations counted on the sample per plan (spread over all of them)
_MAX_COMBOS = 2000       # plans with more combinations are not considered
_BRUTE_BLOCK = 1 << 22   # pairs held at once by the brute force


def radius_pairs(hashes: npt.ArrayLike, *, max_distance: int,
                 method: str = "auto") -> tuple[I64, I64, npt.NDArray[np.uint8]]:
    """Every pair ``i < j`` with ``popcount(h[i] ^ h[j]) <= max_distance``: arrays ``i, j, d``.

    Sorted by ``i``, then ``j``; exact (equal to brute force, see the tests). ``method``:
    ``"auto"`` (cheapest by the cost model), ``"pigeonhole"`` or ``"brute"`` (for tests and
    benchmarks; both give the same answer).

    >>> h = np.array([0b0000, 0b0111, 0b0001, 0b0000], dtype=np.uint64)
    >>> radius_pairs(h, max_distance=1)
    (array([0, 0, 2]), array([2, 3, 3]), array([1, 0, 1], dtype=uint8))
    """
    r = check_distance(max_distance)
    if method not in ("auto", "pigeonhole", "brute"):
        from .errors import InputError

        raise InputError(f"method must be auto, pigeonhole or brute, got {method!r}")
    h = as_hashes(hashes)
    n = int(h.size)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8)
    perm = np.argsort(h)  # ties in any order: pairs are sorted at the end
    sh = h[perm]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sh[1:], sh[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    uniq = sh[starts]
    del sh, new
    if uniq.size >= 2 and r > 0:
        a, b = distinct_pairs(uniq, r, method=method)
    else:
        a = b = np.zeros(0, np.int64)
    i, j = _expand(a, b, perm, starts, n)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    if n < 2**32:  # one sort of lo * n + hi instead of a lexsort
        key = lo.astype(np.uint64) * np.uint64(n) + hi.astype(np.uint64)
        key.sort()
        lo, hi = (key // np.uint64(n)).astype(np.int64), (key % np.uint64(n)).astype(np.int64)
    else:
        o = np.lexsort((hi, lo))
        lo, hi = lo[o], hi[o]
    return lo, hi, np.bitwise_count(h[lo] ^ h[hi])


def _expand(a: I64, b: I64, perm: I64, starts: I64, n: int) -> tuple[I64, I64]:
    """Pairs of items from pairs of distinct values ``a``, ``b`` (each item of one with each item
    of the other) and from values held by several items (each pair of them). The items of value
    ``v`` are ``perm[starts[v]:starts[v + 1]]``."""
    counts = np.diff(np.append(starts, n))
    ca, cb = counts[a], counts[b]
    if a.size == 0 or bool((ca == 1).all() and (cb == 1).all()):
        i, j = perm[starts[a]], perm[starts[b]]
    else:
        tot = ca * cb
        rep = np.repeat(np.arange(a.size), tot)
        off = np.arange(int(tot.sum())) - np.repeat(np.cumsum(tot) - tot, tot)
        i = perm[starts[a][rep] + off // cb[rep]]
        j = perm[starts[b][rep] + off % cb[rep]]
    multi = np.flatnonzero(counts > 1)
    if multi.size == 0:
        return i, j
    c, st = counts[multi], starts[multi]
    g = np.repeat(np.arange(multi.size), c)                  # group of each repeated item
    p = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)  # its place in the group
    later = c[g] - 1 - p                                     # items after it in its group
    left = np.repeat(st[g] + p, later)
    right = left + 1 + np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later)
    return np.concatenate([i, perm[left]]), np.concatenate([j, perm[right]])


# --------------------------------------------------------------------------- distinct values

def distinct_pairs(uniq: U64, r: int, *, method: str = "auto") -> tuple[I64, I64]:
    """Positions ``a, b`` of the pairs of distinct hashes ``uniq`` within ``r`` bits (any order)."""
    plan = None if method == "brute" else _plan(uniq, r, force=method == "pigeonhole")
    if plan is None:
        return _brute(uniq, r)
    chunks, k = plan
    u = int(uniq.size)
    idx_bits = max(1, (u - 1).bit_length())
    low = np.uint64((1 << idx_bits) - 1)
    high = ~low
    positions = np.arange(u, dtype=np.uint64)
    packed = np.empty(u, dtype=np.uint64)  # buffers reused: no page faults per combination
    diff = np.empty(u - 1, dtype=np.uint64)
    same = np.zeros(u, dtype=bool)  # same[p]: key p equals key p + 1 (the last slot stays False)
    out_a: list[I64] = []
    out_b: list[I64] = []
    for combo in combinations(range(len(chunks)), k):
        cmask = np.uint64(sum(int(chunks[c]) for c in combo))  # disjoint: sum == or
        # key: the hash on the combination's chunks, spread by the multiply, above the position
        np.bitwise_and(uniq, cmask, out=packed)
        np.multiply(packed, _MULT, out=packed)
        packed &= high
        packed |= positions
        packed.sort()
        np.bitwise_xor(packed[1:], packed[:-1], out=diff)
        np.less_equal(diff, low, out=same[:-1])
        active = np.flatnonzero(same)  # sorted positions whose key equals the next one's
        if active.size == 0:
            continue
        ia = (packed[active] & low).astype(np.int64)
        ha = uniq[ia]
        code = np.uint64(sum(1 << c for c in combo))
        d = 1
        while True:  # compare each position with the one d places on, while in its run
            ib = (packed[active + d] & low).astype(np.int64)
            x = ha ^ uniq[ib]
            ok = np.bitwise_count(x) <= r
            if ok.any():
                x = x[ok]
                sel = _lowest(_equal_chunks(x, chunks), k) == code
                out_a.append(ia[ok][sel])
                out_b.append(ib[ok][sel])
            more = same[active + d]
            if not more.any():
                break
            active, ia, ha = active[more], ia[more], ha[more]
            d += 1
    if not out_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_a), np.concatenate(out_b)


def _lowest(code: U64, k: int) -> U64:
    """The lowest ``k`` set bits of each ``code``: of the chunks a pair agrees on, the first
    combination in lexicographic order. A verified pair is kept only in that combination, so it is
    reported once."""
    out = np.zeros_like(code)
    for _ in range(k):
        bit = code & (~code + np.uint64(1))
        out |= bit
        code = code ^ bit
    return out


def _equal_chunks(x: U64, chunks: list[np.uint64]) -> U64:
    """Bit set of the chunks on which each pair (``x = a ^ b``) agrees."""
    code = np.zeros(x.size, dtype=np.uint64)
    for c, mask in enumerate(chunks):
        code |= ((x & mask) == 0).astype(np.uint64) << np.uint64(c)
    return code


def _brute(uniq: U64, r: int) -> tuple[I64, I64]:
    """Every pair compared, in blocks of rows against the rows after them."""
    u = int(uniq.size)
    rows = max(1, _BRUTE_BLOCK // u)
    out_a: list[I64] = []
    out_b: list[I64] = []
    for s in range(0, u - 1, rows):
        blk = uniq[s:s + rows, None]
        d = np.bitwise_count(blk ^ uniq[None, s + 1:])  # column c is item s + 1 + c
        ii, cc = np.nonzero(d <= r)
        jj = cc + s + 1
        ii = ii + s
        later = jj > ii
        out_a.append(ii[later].astype(np.int64))
        out_b.append(jj[later].astype(np.int64))
    return np.concatenate(out_a), np.concatenate(out_b)


# --------------------------------------------------------------------------- plan

def _plan(uniq: U64, r: int, *, force: bool = False) -> tuple[list[np.uint64], int] | None:
    """``(chunk masks, k)`` of the cheapest pigeonhole plan, or None when the brute force is cheaper.

    Cost of a plan: one pass over the hashes per combination of ``k`` of its ``m = r + k`` chunks,
    plus its candidate pairs (pairs of distinct hashes with equal keys), counted on a sample for
    some combinations and scaled to all of them and to all hashes; never fewer than uniformly
    spread hashes would give. Two chunk layouts are tried: contiguous bits, and bits balanced by
    the sample's per-bit entropy (biased bits spread over the chunks). ``force``: never the brute
    force (when a plan exists).
    """
    u = int(uniq.size)
    best: tuple[float, list[np.uint64], int] | None = None
    brute = u * (u - 1) / 2 * NS_PER_BRUTE_PAIR
    rng = np.random.default_rng(0)
    sample = uniq if u <= _SAMPLE else uniq[np.sort(rng.choice(u, _SAMPLE, replace=False))]
    s = int(sample.size)
    scale = u * (u - 1) / max(1, s * (s - 1))
    ones = ((sample[:, None] >> np.arange(HASH_BITS, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
    p = np.clip(ones, 1e-6, 1 - 1e-6)
    entropy = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    for k in range(1, 6):
        m = r + k
        if m > HASH_BITS:
            break
        n_combos = math.comb(m, k)
        per_pass = n_combos * (u * NS_PER_HASH_AND_COMBO + NS_PER_COMBO)
        if n_combos > _MAX_COMBOS or (best is not None and per_pass >= best[0]) \
                or (not force and per_pass >= brute):
            continue
        for chunks in (_contiguous(m), _balanced(entropy, m)):
            uniform = sum(u * (u - 1) / 2 / 2.0 ** sum(_width(chunks[c]) for c in combo)
                          for combo in combinations(range(m), k))
            cand = max(uniform, _sample_candidates(sample, chunks, k) * scale)
            cost = per_pass + cand * NS_PER_CANDIDATE
            if best is None or cost < best[0]:
                best = (cost, chunks, k)
    if best is None or (not force and best[0] >= brute):
        return None
    return best[1], best[2]


def _width(mask: np.uint64) -> int:
    return int(mask).bit_count()


def _contiguous(m: int) -> list[np.uint64]:
    base, extra = divmod(HASH_BITS, m)
    out, shift = [], 0
    for c in range(m):
        w = base + (1 if c < extra else 0)
        out.append(np.uint64(((1 << w) - 1) << shift))
        shift += w
    return out


def _balanced(entropy: npt.NDArray[np.float64], m: int) -> list[np.uint64]:
    """``m`` chunks of near-equal width whose summed per-bit entropies are near equal: bits in
    descending entropy, each to the chunk with the least entropy that still has room."""
    base, extra = divmod(HASH_BITS, m)
    room = [base + (1 if c < extra else 0) for c in range(m)]
    total = [0.0] * m
    masks = [0] * m
    for bit in np.argsort(-entropy, kind="stable").tolist():
        c = min((c for c in range(m) if room[c]), key=lambda c: (total[c], c))
        masks[c] |= 1 << bit
        total[c] += float(entropy[bit])
        room[c] -= 1
    return [np.uint64(v) for v in masks]


def _sample_candidates(sample: U64, chunks: list[np.uint64], k: int) -> float:
    """Pairs of the sample with equal keys, averaged over up to ``_SAMPLED_COMBOS`` combinations
    spread over all of them, times the number of combinations."""
    combos = list(combinations(range(len(chunks)), k))
    step = max(1, len(combos) // _SAMPLED_COMBOS)
    tried = combos[::step][:_SAMPLED_COMBOS]
    pairs = 0
    for combo in tried:
        cmask = np.uint64(sum(int(chunks[c]) for c in combo))  # disjoint: sum == or
        key = np.sort(sample & cmask)
        bounds = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1], [True])))
        runs = np.diff(bounds)
        pairs += int((runs * (runs - 1) // 2).sum())
    return pairs / len(tried) * len(combos)

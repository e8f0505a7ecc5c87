"""compare.pairs: all pairs within a radius, against a plain-numpy all-pairs reference.

The reference compares every pair with one broadcast XOR + popcount (``np.bitwise_count``) and keeps
the upper triangle; the tiny cases also against Python's own integer bit count. Each data set is run
through the pigeonhole path (forced), the blockwise brute force and the automatic choice.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from scopecheck.compare import pairs
from scopecheck.compare.errors import InputError
from scopecheck.compare.pairs import radius_pairs

METHODS = ("auto", "pigeonhole", "brute")


def reference(h: np.ndarray, r: int) -> list[tuple[int, int, int]]:
    d = np.bitwise_count(h[:, None] ^ h[None, :])
    i, j = np.nonzero(np.triu(d <= r, k=1))  # row-major: sorted by i, then j
    return list(zip(i.tolist(), j.tolist(), d[i, j].tolist()))


def got(h: np.ndarray, r: int, method: str) -> list[tuple[int, int, int]]:
    i, j, d = radius_pairs(h, max_distance=r, method=method)
    assert i.dtype == j.dtype == np.int64 and d.dtype == np.uint8
    return list(zip(i.tolist(), j.tolist(), d.tolist()))


def clustered(rng, n, centres=12, flips=5):
    """Tight clusters (like near-duplicates) with exact repeats among them."""
    base = rng.integers(0, 2**63, centres, dtype=np.int64).view(np.uint64) * np.uint64(2) + np.uint64(1)
    h = base[rng.integers(0, centres, n)]
    for _ in range(flips):
        flip = rng.random(n) < 0.5
        h[flip] ^= np.uint64(1) << rng.integers(0, 64, int(flip.sum())).astype(np.uint64)
    return h


def uniform(rng, n):
    return rng.integers(0, 2**64, n, dtype=np.uint64)


def skewed(rng, n):
    """Biased, correlated bits (like dHashes of one kind of picture): equal keys far more common.
    A third of the bits are 1 with probability 1/8 (three words ANDed), a third 7/8 (ORed), the
    rest 1/2; then each odd bit copies its even neighbour half of the time."""
    a, b, c, e = (uniform(rng, n) for _ in range(4))
    low, high = np.uint64(0x9249249249249249), np.uint64(0x2492492492492492)  # every third bit
    h = (a & b & c & low) | ((a | b | c) & high) | (a & ~(low | high))
    odd = np.uint64(0xAAAAAAAAAAAAAAAA)
    return h ^ (((h << np.uint64(1)) ^ h) & odd & e)


@pytest.mark.parametrize("r", [0, 1, 2, 4, 6, 9])
@pytest.mark.parametrize("make", [clustered, skewed, uniform])
def test_equal_to_numpy_reference(make, r):
    rng = np.random.default_rng(100 + r)
    h = make(rng, 1500)
    h[rng.integers(0, h.size, 40)] = h[rng.integers(0, h.size, 40)]  # exact repeats
    h[:30] = h[30]  # one value held by 31 items: its 465 pairs come from expanding it
    want = reference(h, r)
    for method in METHODS:
        assert got(h, r, method) == want, method


def test_tiny_against_python_bit_count():
    rng = np.random.default_rng(7)
    values = [int(v) for v in rng.integers(0, 2**63, 300, dtype=np.int64)]
    values[5] = values[9] ^ 0b101  # one planted pair at distance 2
    values[200] = values[17]       # and one repeat
    want = [(i, j, bin(a ^ b).count("1")) for (i, a), (j, b) in itertools.combinations(enumerate(values), 2)
            if bin(a ^ b).count("1") <= 4]
    assert want == [(5, 9, 2), (17, 200, 0)]
    for method in METHODS:
        assert got(np.array(values, dtype=np.uint64), 4, method) == want
    assert radius_pairs(np.array([1], dtype=np.uint64), max_distance=4)[0].size == 0
    assert radius_pairs(np.zeros(0, dtype=np.uint64), max_distance=4)[0].size == 0


def test_every_pair_at_full_radius_and_signed_input():
    h = uniform(np.random.default_rng(3), 60)
    i, j, d = radius_pairs(h.view(np.int64), max_distance=64)  # int64 is reinterpreted, not converted
    assert i.size == 60 * 59 // 2 and list(zip(i.tolist(), j.tolist(), d.tolist())) == reference(h, 64)


def test_key_collisions_stay_exact(monkeypatch):
    # With a multiplier of 1 the key keeps only the chunk bits above the position bits: hashes that
    # differ on a combination's chunks share keys by the thousand. They must all be rejected.
    monkeypatch.setattr(pairs, "_MULT", np.uint64(1))
    h = clustered(np.random.default_rng(11), 2000, centres=30, flips=4)
    assert got(h, 4, "pigeonhole") == reference(h, 4)


def test_plan_follows_the_data():
    # Uniform hashes: 6 chunks, 2 exact (15 sorts); skewed ones collide far more on 2 of 6 chunks,
    # so the cost model measured on a sample takes 3 of 7 or 4 of 8 (more sorts, far fewer candidates).
    rng = np.random.default_rng(5)
    for make, k in ((uniform, {2}), (skewed, {3, 4})):
        uniq = np.unique(make(rng, 500_000))
        chunks, got_k = pairs._plan(uniq, 4)
        assert got_k in k and len(chunks) == 4 + got_k, make.__name__
        assert sum(int(c) for c in chunks) == 2**64 - 1 and all(int(a) & int(b) == 0
                                                               for a, b in itertools.combinations(chunks, 2))
    assert pairs._plan(np.arange(100, dtype=np.uint64), 4) is None  # few hashes: every pair compared


@pytest.mark.parametrize("bad", [-1, 65, 2.5, True])
def test_distance_validation_names_value(bad):
    with pytest.raises(InputError, match="max-distance"):
        radius_pairs(np.zeros(3, dtype=np.uint64), max_distance=bad)
    with pytest.raises(InputError, match="method"):
        radius_pairs(np.zeros(3, dtype=np.uint64), max_distance=1, method="fast")

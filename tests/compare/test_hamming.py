"""compare.hamming: the packed uint64 kernels against brute-force Python Hamming (``int.bit_count``)."""
from __future__ import annotations

import numpy as np
import pytest

from scopecheck.compare.errors import InputError
from scopecheck.compare.hamming import (
    HammingIndex,
    hamming_scan,
    to_uint64,
)
from scopecheck.compare.hashing import DHash
from scopecheck.compare.multiindex import MultiIndex


def popcount(x: int) -> int:  # the independent reference: Python's own integer bit count
    return bin(x).count("1")  # noqa: FURB161 - deliberately not int.bit_count, which the kernels mirror


def clustered(rng, n, centres=25, flips=4):
    """Hashes in tight clusters (like real near-duplicates) plus exact repeats."""
    base = [int(v) for v in rng.integers(0, 2**63, centres, dtype=np.int64)]
    base = [(b << 1) | int(rng.integers(0, 2)) for b in base]
    out = []
    for _ in range(n):
        v = base[int(rng.integers(0, centres))]
        for _ in range(int(rng.integers(0, flips + 1))):
            v ^= 1 << int(rng.integers(0, 64))
        out.append(v)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_scan_and_multi_index_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    values = clustered(rng, 600) + [int(v) for v in rng.integers(0, 2**63, 200, dtype=np.int64)]
    arr = np.array(values, dtype=np.uint64)
    mih = MultiIndex(arr)
    for q in values[:25] + [0, 2**64 - 1]:
        for r in (0, 1, 3, 4, 7, 10, 11, 13, 16, 20):
            want = [(i, popcount(v ^ q)) for i, v in enumerate(values) if popcount(v ^ q) <= r]
            for got in (hamming_scan(arr, q, max_distance=r), mih.query(q, max_distance=r)):
                assert list(zip(got[0].tolist(), got[1].tolist())) == want, (q, r)


def test_scan_blocks_boundary():
    # More than one 32768-element block, with hits on both sides of the boundary.
    arr = np.full(70_000, 2**64 - 1, dtype=np.uint64)
    arr[[0, 32767, 32768, 69_999]] = [1, 3, 7, 0]
    idx, d = hamming_scan(arr, 0, max_distance=2)
    assert idx.tolist() == [0, 32767, 69_999] and d.tolist() == [1, 2, 0]


def test_hamming_index_chooses_method():
    small = HammingIndex(np.arange(10, dtype=np.uint64))
    assert small.method == "scan"
    assert HammingIndex(np.arange(10, dtype=np.uint64), method="multi-index").method == "multi-index"
    with pytest.raises(InputError, match="method"):
        HammingIndex(np.arange(3, dtype=np.uint64), method="fast")


@pytest.mark.parametrize("bad", [-1, 65, 2.5, True])
def test_distance_validation_names_value(bad):
    with pytest.raises(InputError, match="max-distance"):
        hamming_scan(np.zeros(3, dtype=np.uint64), 0, max_distance=bad)


def test_to_uint64_takes_values_and_refuses_wide_hashes_and_strings():
    assert to_uint64([DHash(8, 255), DHash(8, 3), 5]).tolist() == [255, 3, 5]
    with pytest.raises(InputError, match="64-bit"):
        to_uint64([DHash(16, 1)])
    with pytest.raises(InputError, match="DHash or an int"):  # hashes travel as values, not text
        to_uint64(["dhash:8:00000000000000ff"])

"""compare.cellsums: the record's shared products give the exact integer sums of the definition
(plain int64 numpy, written from it), for nested and other hash sizes, float32 and float64."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from scopecheck.compare.cellsums import small_sums
from scopecheck.compare.flatness import floor_weights, structure_floor
from scopecheck.compare.hashing import hashes_and_thumbnail
from scopecheck.compare.thumbs import thumbnail
from tests.compare.test_hashing import exact_dhash_hex, int_weights


def int_sums(gray: np.ndarray, rows: int, cols: int) -> np.ndarray:
    return int_weights(rows, gray.shape[0]) @ gray.astype(np.int64) @ int_weights(cols, gray.shape[1]).T


def images():
    rng = np.random.default_rng(5)
    out = []
    for shape, dtype in [((150, 200), np.uint8), ((255, 257), np.uint8), ((9, 12), np.uint16),
                         ((200, 300), np.uint16), ((65, 40), np.uint8), ((31, 33), np.uint8)]:
        top = np.iinfo(dtype).max
        out.append(rng.integers(0, top + 1, shape).astype(dtype))
        # ties: a nearest-neighbour upscale of 4x4 random levels
        out.append(cv2.resize(rng.integers(0, top + 1, (4, 4)).astype(dtype), shape[::-1],
                              interpolation=cv2.INTER_NEAREST))
    return out


@pytest.mark.parametrize("k", range(len(images())))
@pytest.mark.parametrize("sizes", [(8, 16), (5, 16), (3, 10, 32), (32, 4, 8)])
def test_sums_are_the_exact_integers(k, sizes):
    g = images()[k]
    sums, thumb, as32, structure, bits = small_sums(g, sizes, thumb=32, floor=min(g.shape) >= 5, bits=True)
    for n, s in zip(sizes, sums):
        assert s.dtype == np.float64
        assert np.array_equal(s, int_sums(g, n, n + 1)), n  # every cell, exactly
    assert np.array_equal(thumb, int_sums(g, 32, 32))
    if all(32 % n == 0 for n in sizes):  # every size nests: its bits from the one comparison
        want = "".join(exact_dhash_hex(g, n) for n in sizes)  # every size's bits fill whole hex digits here
        assert bits is not None and bits.hex()[:len(want)] == want
    else:
        assert bits is None
    top = np.iinfo(g.dtype).max
    assert (as32 is not None) == (top * g.size < 1 << 24)
    if structure is not None:  # the floor is flatness' own, from the same samples
        want = structure_floor(floor_weights(g.shape[0])[0] @ g.astype(np.float64), *g.shape)
        assert structure == pytest.approx(want, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("k", range(len(images())))
def test_record_values_equal_the_separate_computations(k):
    """hashes_and_thumbnail (one pass) = the int64 reference bits and the thumbnail alone."""
    g = images()[k]
    (h8, h16), t = hashes_and_thumbnail(g, sizes=(8, 16))
    assert (h8.hex, h16.hex) == (exact_dhash_hex(g, 8), exact_dhash_hex(g, 16))
    assert t == thumbnail(g)
    s = int_sums(g, 32, 32).astype(np.float64)
    want = np.round((s - s.min()) * 255.0 / (s.max() - s.min())).astype(np.uint8).tobytes()
    assert t == want

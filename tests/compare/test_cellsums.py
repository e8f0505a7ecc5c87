"""compare.cellsums: the integral image gives the exact integer sums of the definition (plain
int64 numpy, written from it), for nested and other hash sizes, 8- and 16-bit images."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from scopecheck.compare.cellsums import small_sums
from scopecheck.compare.flatness import floor_weights, samples_floor, structure_floor
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
@pytest.mark.parametrize("sizes", [(8, 16), (5, 16), (3, 10, 32), (7,)])
def test_sums_are_the_exact_integers(k, sizes):
    g = images()[k]
    sums, thumb = small_sums(g, sizes, thumb=32)
    assert len(sums) == len(sizes)
    for n, s in zip(sizes, sums):
        assert s.dtype == np.float64
        assert np.array_equal(s, int_sums(g, n, n + 1)), n  # every cell, exactly
    assert np.array_equal(thumb, int_sums(g, 32, 32))


def test_small_sums_refuses_what_it_cannot_sum_exactly():
    with pytest.raises(ValueError, match="at most 65536 pixels"):
        small_sums(np.zeros((300, 300), np.uint8), (8,))
    with pytest.raises(ValueError, match="uint8/uint16"):
        small_sums(np.zeros((30, 30), np.float32), (8,))


@pytest.mark.parametrize("k", range(len(images())))
def test_samples_floor_is_the_structure_floor(k):
    """The floor from float32 samples (float32 product for 8-bit images, float64 beyond 2**24) is
    flatness' own structure floor of the same samples, computed in float64."""
    g = images()[k]
    if min(g.shape) < 5:
        return
    top = int(np.iinfo(g.dtype).max)
    got = samples_floor(g.astype(np.float32), max_value=top)
    want = structure_floor(floor_weights(g.shape[0])[0] @ g.astype(np.float64), *g.shape)
    assert got == pytest.approx(want, rel=1e-5, abs=1e-6)


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

"""Every exact cell sum a record needs from one small image, from two matrix products.

A record (:func:`compare.record.hash_file`) takes three area averages of the same luma -- the cells
of the 64- and 256-bit dHashes (``(n + 1) x n``, :func:`compare.hashing.area_sums`) and the 32x32
thumbnail's (:mod:`compare.thumbs`) -- and the flatness test's structure floor
(:func:`compare.flatness.structure_floor`). For a small image (a 1/8-reduced 1600x1200 JPEG is
200x150) they are computed together:

* **The row grids nest.** With ``length`` rows split into ``t`` cells, cell ``j`` of a split into
  ``n`` cells (``n`` dividing ``t``, ``f = t / n``) is exactly cells ``j f .. j f + f - 1`` of the
  ``t``-split: its boundaries, multiples of ``length / n``, are multiples of ``length / t``. Its
  integer overlap weights (:func:`compare.hashing._weights`, in units of ``1/n`` pixel) are the sum
  of theirs (units of ``1/t`` pixel) divided by ``f``. So one product with the thumbnail's 32 row
  weights gives the 8- and 16-row sums too: ``f`` neighbouring rows summed, divided by ``f``.
* **One row product, one column product.** ``R = W @ g`` with ``W`` the thumbnail's row weights
  (and below them the row weights of any size that does not nest, and the flatness floor's rows);
  ``P = R @ C`` with ``C`` every size's column weights side by side, then the thumbnail's, then the
  floor's (the cross terms are small and unused: one product costs less, right after a decode, than
  one per group); the nested sizes' row groups are then one small float64 product (``agg @ M``,
  ``M`` the thumbnail rows of ``P``, entries ``1/f``), and the dHash bits of every size one
  comparison of its picked cells.

Exact: both factors hold small integers, so every product and partial sum is an integer no larger
than ``max_value * height * width``; below 2**24 that is exact in float32 (255 x 200 x 150 = 7.7e6),
otherwise float64 is used. The row groups are summed in float64 (``f`` a power of two: ``1/f`` and
every partial sum are exact). So every sum is the integer :func:`compare.hashing.area_sums` gives,
ties included (``tests/compare/test_cellsums.py`` checks them against a plain int64 reference). The
floor's smoothed block means (not integers) are then float32 sums of a few hundred terms, within
about 1e-6 of their value: far inside the 1 % margin flatness keeps for rounding.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    import numpy as np

#: Sums in float32 while every integer they can reach is below this (float32's 24-bit significand).
FLOAT32_EXACT = 1 << 24


@functools.lru_cache(maxsize=16)
def _plan(h: int, w: int, sizes: tuple[int, ...], thumb: int, floor: bool, dtype: str):
    """The weights for an ``h x w`` image, stacked, and where each result sits in the products:
    ``(W, C, agg, per, thumb_cols, floor_rows, floor_cols, bit_pairs)``.

    ``W``: the thumbnail's row weights, then those of each size that does not nest, then the floor's;
    ``C``: every size's column weights, then the thumbnail's, then the floor's; ``agg``: the float64 matrix that sums
    ``f`` neighbouring thumbnail rows and divides by ``f`` (a power of two: exact) for every nested
    size, stacked; ``per``: for each size ``(n, rows of agg @ M or None, rows of W, columns of C)``.
    """
    import numpy as np

    from .flatness import floor_weights
    from .hashing import _weights

    parts, cols, aggs = [_weights(h, thumb, dtype)], [], []
    per: list[tuple[int, slice | None, slice | None, slice]] = []
    row, col, arow = thumb, 0, 0
    for n in sizes:
        f = thumb // n
        if thumb % n == 0 and f & (f - 1) == 0:
            a = np.zeros((n, thumb))
            for j in range(n):
                a[j, j * f:(j + 1) * f] = 1.0 / f
            aggs.append(a)
            per.append((n, slice(arow, arow + n), None, slice(col, col + n + 1)))
            arow += n
        else:
            parts.append(_weights(h, n, dtype))
            per.append((n, None, slice(row, row + n), slice(col, col + n + 1)))
            row += n
        cols.append(_weights(w, n + 1, dtype).T)
        col += n + 1
    cols.append(_weights(w, thumb, dtype).T)
    thumb_cols = slice(col, col + thumb)
    floor_rows = floor_cols = None
    if floor:  # the floor's rows below, its columns to the right: one product gives everything
        parts.append(floor_weights(h, dtype)[0])
        floor_rows = slice(row, None)
        cols.append(floor_weights(w, dtype)[0].T)
        floor_cols = slice(col + thumb, None)
    W, C = np.ascontiguousarray(np.vstack(parts)), np.ascontiguousarray(np.hstack(cols))
    agg = np.vstack(aggs) if aggs else None
    bit_pairs = None
    if len(aggs) == len(sizes):  # every size's sums in agg @ M: all bits from one comparison
        width = thumb_cols.stop  # columns of M (the hashes' and the thumbnail's)
        picks = []
        for n, arows, _, cols_ in per:
            assert arows is not None
            picks.append(((arows.start + np.arange(n))[:, None] * width + cols_.start + np.arange(n)).ravel())
        lo = np.concatenate(picks)
        bit_pairs = np.stack([lo + 1, lo])  # bit set where the cell right of it is strictly brighter
    for m in (W, C, agg, bit_pairs):
        if m is not None:
            m.flags.writeable = False
    return W, C, agg, tuple(per), thumb_cols, floor_rows, floor_cols, bit_pairs


class SmallSums(NamedTuple):
    """What :func:`small_sums` returns."""

    sums: list[np.ndarray]   # per hash size n, its n x (n + 1) compare.hashing.area_sums (float64)
    thumb: np.ndarray        # the thumb x thumb area sums (float64 integers)
    as32: np.ndarray | None  # the image as float32 when the products ran in float32 (else None)
    structure: float | None  # with floor: compare.flatness.structure_floor of the image (else None)
    bits: bytes | None       # with bits, when every size nests: the dHash bits of every size, packed


def small_sums(gray: np.ndarray, sizes: tuple[int, ...], *, thumb: int = 32, floor: bool = False,
               bits: bool = False) -> SmallSums:
    """The cell sums (and with ``floor`` the flatness floor) of a small 2-D uint8/uint16 image
    (:class:`SmallSums`). With ``bits``, when every size nests in the thumbnail's rows, also the
    dHash bits of every size in order (bit ``(r, c)`` set where cell ``(r, c + 1)`` is strictly
    brighter), packed by ``np.packbits`` (first bit first): one comparison of neighbouring columns
    of the shared row-group product, then the bits picked out, instead of one per size."""
    import numpy as np

    h, w = gray.shape
    top = 255 if gray.dtype == np.uint8 else 65535
    dtype = "float32" if top * h * w < FLOAT32_EXACT else "float64"
    W, C, agg, per, thumb_cols, floor_rows, floor_cols, bit_pairs = _plan(h, w, sizes, thumb, floor, dtype)
    g = gray.astype(dtype)
    P = ((W @ g) @ C).astype(np.float64)  # every row group against every column group
    M = P[:thumb, :thumb_cols.stop]
    A = None if agg is None else agg @ M
    sums = []
    for _n, arows, rows, cols in per:
        sums.append(A[arows, cols] if arows is not None else P[rows, cols])  # type: ignore[index]
    structure = None
    if floor_rows is not None:
        from .flatness import floor_structure

        structure = floor_structure(P[floor_rows, floor_cols], h, w)
    packed = None
    if bits and bit_pairs is not None:  # exact sums: a tie sets no bit
        packed = np.packbits(A.take(bit_pairs[0]) > A.take(bit_pairs[1])).tobytes()  # type: ignore[union-attr]
    return SmallSums(sums, M[:, thumb_cols], (g if dtype == "float32" else None), structure, packed)

"""Every exact cell sum a record needs from one small image, from its integral image.

A record (:func:`compare.record.hash_file`) takes three area averages of the same luma -- the cells
of the 64- and 256-bit dHashes (``(n + 1) x n``, :func:`compare.hashing.area_sums`) and the 32x32
thumbnail's (:mod:`compare.thumbs`). For a small image (a 1/8-reduced 1600x1200 JPEG is 200x150)
they all come from one integral image (``cv2.integral``, exact integers), sampled at every cell
boundary:

* **The area under a step function is piecewise linear.** Along one axis of ``length`` pixels cut
  into ``n`` cells, lengths are counted in units of ``1/n`` pixel (as
  :func:`compare.hashing._weights` counts them), so cell boundary ``k`` is at ``X = k * length``,
  inside pixel ``a = X // n`` at offset ``f = X % n``. With ``I[a]`` the sum of the first ``a``
  pixels, the sum of the samples up to ``X`` -- each pixel weighted by how many units of it lie
  below ``X`` -- is ``(n - f) * I[a] + f * I[a + 1]``: an integer.
* **Two axes: the same in each.** Sampled so at every row boundary and then every column boundary,
  the 2-D integral gives ``n_r n_c`` times the area integral at each cell corner; the cell sums are
  its differences, ``sum(W_r[k, p] W_c[l, q] g[p, q])`` -- exactly the integer weighted sums of the
  definition (``_weights(h, n) @ g @ _weights(w, n + 1).T``), for every size in one gather per axis.

Exact: every value is an integer no larger than ``n_r n_c max_value h w`` (32 x 33 x 65535 x 65536
< 2**53 for the 16-bit images up to 65536 pixels that take this path), held in float64; so every sum
is the integer :func:`compare.hashing.area_sums` gives, ties included
(``tests/compare/test_cellsums.py`` checks them against a plain int64 reference).
"""
from __future__ import annotations

import functools

TYPE_CHECKING = False
if TYPE_CHECKING:
    import numpy as np


@functools.lru_cache(maxsize=64)
def _edges(length: int, counts: tuple[int, ...], dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(lo, hi, w_lo, w_hi)``: for each ``n`` of ``counts`` in turn, its ``n + 1`` cell boundaries
    along an axis of ``length`` pixels: the integral image's entries either side and their integer
    weights (as ``dtype``; ``(k, 1)`` columns for int32, the row axis), so ``w_lo * I[lo] + w_hi *
    I[hi]`` is ``n`` times the sum below the boundary."""
    import numpy as np

    lo, hi, wlo, whi = [], [], [], []
    for n in counts:
        a, f = np.divmod(np.arange(n + 1, dtype=np.int64) * length, n)
        lo.append(a)
        hi.append(np.minimum(a + 1, length))  # the last boundary: f == 0, the entry above unused
        wlo.append(n - f)
        whi.append(f)
    shape = (-1, 1) if dtype == "int32" else (-1,)
    out = (np.concatenate(lo), np.concatenate(hi), np.concatenate(wlo).astype(dtype).reshape(shape),
           np.concatenate(whi).astype(dtype).reshape(shape))
    for m in out:
        m.flags.writeable = False
    return out


def _rows(sizes: tuple[int, ...], thumb: int) -> tuple[tuple[int, ...], list[tuple[int, int, int]]]:
    """The row splits to sample (the thumbnail's, then each size's that does not nest in it) and,
    per size then the thumbnail, ``(first boundary, stride, f)``: a size ``n`` dividing ``thumb``
    takes every ``f = thumb / n``-th of the thumbnail's boundaries, whose values in units of
    ``1/thumb`` pixel are ``f`` times its own (so divided by ``f``: exact, they are multiples)."""
    splits, where, at = [thumb], [], thumb + 1
    for n in sizes:
        if thumb % n == 0:
            where.append((0, thumb // n, thumb // n))
        else:
            splits.append(n)
            where.append((at, 1, 1))
            at += n + 1
    return tuple(splits), [*where, (0, 1, 1)]


def small_sums(gray: np.ndarray, sizes: tuple[int, ...], *, thumb: int = 32) -> tuple[list[np.ndarray], np.ndarray]:
    """``(sums, thumb_sums)`` of a small 2-D uint8/uint16 image (at most 65536 pixels):

    * ``sums``: per hash size ``n``, its ``n x (n + 1)`` :func:`compare.hashing.area_sums` (float64);
    * ``thumb_sums``: the ``thumb x thumb`` area sums (float64 integers).
    """
    import cv2
    import numpy as np

    h, w = gray.shape
    if gray.size > 1 << 16 or gray.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"small_sums takes a uint8/uint16 image of at most 65536 pixels, got {gray.shape} {gray.dtype}")
    # 8-bit: the integral and the row step in int32 (at most 64 x 255 x 65536 < 2**31); 16-bit: float64
    small = gray.dtype == np.uint8 and thumb <= 64 and max(sizes) <= 64
    integral = cv2.integral(np.ascontiguousarray(gray), sdepth=cv2.CV_32S if small else cv2.CV_64F)
    splits, where = _rows(sizes, thumb)
    cols = (*(n + 1 for n in sizes), thumb)
    rlo, rhi, rwlo, rwhi = _edges(h, splits, "int32" if small else "float64")
    clo, chi, cwlo, cwhi = _edges(w, cols, "float64")
    if small:
        at_rows = (integral.take(rlo, 0) * rwlo + integral.take(rhi, 0) * rwhi).astype(np.float64)
    else:
        at_rows = integral.take(rlo, 0) * rwlo[:, None] + integral.take(rhi, 0) * rwhi[:, None]
    corners = at_rows.take(clo, 1) * cwlo + at_rows.take(chi, 1) * cwhi  # (row boundaries, column boundaries)
    across = np.diff(corners, axis=1)  # between the columns of different sizes: unused
    out, c0 = [], 0
    for n, (r0, stride, f) in zip((*sizes, thumb), where):
        nc = cols[len(out)]
        edge = across[r0:r0 + n * stride + 1:stride, c0:c0 + nc]
        cells = edge[1:] - edge[:-1]
        if f > 1:
            cells /= f
        out.append(cells)
        c0 += nc + 1
    return out[:-1], out[-1]

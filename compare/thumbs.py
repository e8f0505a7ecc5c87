"""Dedupe's second test: the correlation of small normalised thumbnails, searched over crops.

**The thumbnail** (stored in every index row, computed by :func:`compare.record.hash_file` from the
same luma as the dHashes, so from a JPEG's reduced decode): the exact area average of the luma to
``THUMB_SIZE x THUMB_SIZE`` (32 x 32) cells, stretched to 0..255 and rounded to uint8 (1024 bytes).
The stretch loses nothing the correlation uses (it is invariant to gain and offset) and spends the
8 bits on the picture's own range, so a low-contrast or 16-bit picture is not quantised away.

**The test** (:func:`link_correlations`): two files are alike when some *view* of one -- the
window of its frame a crop would have kept, resampled by area to ``COMPARE_SIZE x COMPARE_SIZE``
(16 x 16) -- has a correlation of at least ``min_correlation`` with the other's whole frame,
resampled the same way (both directions are tried). Each view's least-squares plane (mean and x/y
ramps) is removed before correlating: brightness and contrast (gain and offset) drop out, and so
does an illumination gradient that every field of a specimen shares (vignetting, uneven lighting)
-- without it, overlapping fields 40 px apart in the smooth centre of a fundus photo correlated
like copies (90 of 600 candidate tile links confirmed at the default radius, 9 with it). The area
averages ignore JPEG noise and resizing; the views absorb crops. The windows: each side cropped by 0, 3, 6 or 9 % of the frame, independently in x and y,
and the cropped window moved by -3, 0 or +3 % where it stays inside the frame (100 views). Why these:

* 3 % steps are half a compared cell (1/16 = 6.25 %), so any crop or shift inside the range is
  matched to within 1.5 % (a quarter of a cell);
* the range is what the first test lets through: a 64-bit dHash (9 cells wide) moves by a median
  18 bits under a 10 % crop on each side, beyond any radius dedupe is used with;
* the stored grid has two cells per compared cell (32 = 2 x 16), so a window's edge falls inside a
  stored cell by at most half a compared cell: resampling a 16 x 16 thumbnail directly instead lost
  up to 0.07 of correlation on real copies (``bench/bench_dedupe.py``).

The threshold :data:`DEFAULT_MIN_CORRELATION` and the measured copy / stranger distributions are
in the README ("Finding copies") and printed by ``bench/bench_dedupe.py``.
"""
from __future__ import annotations

import functools
import itertools

TYPE_CHECKING = False
if TYPE_CHECKING:
    import numpy as np

THUMB_SIZE = 32      # stored cells per side
THUMB_BYTES = THUMB_SIZE * THUMB_SIZE
COMPARE_SIZE = 16    # cells per side of a compared view
CROPS = (0.0, 0.03, 0.06, 0.09)   # fraction of the frame cropped from each side
SHIFTS = (-0.03, 0.0, 0.03)       # the cropped window moved by this fraction of the frame
#: Default ``min_correlation``: the midpoint, in Fisher's z = atanh(r) (the scale on which sample
#: correlations have equal spread), between the lowest correlation of true copies among candidate
#: links and the highest of strangers, measured by ``bench/bench_dedupe.py`` (see the README).
DEFAULT_MIN_CORRELATION = 0.94


def check_min_correlation(value: float) -> float:
    from .errors import InputError

    v = float(value)
    if not -1.0 <= v <= 1.0 or v != v:
        raise InputError(f"--min-correlation must be within -1..1, got {value}")
    return v


def thumbnail(luma: np.ndarray) -> bytes:
    """The stored thumbnail of a 2-D luma array: 32 x 32 area averages stretched to 0..255, uint8,
    row-major (all zeros for a uniform picture)."""
    import numpy as np

    from .hashing import _SMALL, _weights, area_sums

    h, w = luma.shape
    if luma.dtype == np.uint8 and luma.size <= _SMALL:  # a reduced JPEG decode: two small float32 products
        # exact: an 8-bit image's cell sums below _SMALL pixels (at most 255 x 65536 < 2**24) fit float32
        t = (_weights(h, THUMB_SIZE, "float32") @ luma.astype(np.float32)) @ _weights(w, THUMB_SIZE, "float32").T
    else:
        t = area_sums(luma, THUMB_SIZE, THUMB_SIZE)
    return stretch(t)


def stretch(sums: np.ndarray) -> bytes:
    """The stored thumbnail of its ``THUMB_SIZE x THUMB_SIZE`` area sums (or means): stretched to
    0..255, rounded, uint8, row-major (all zeros for a uniform picture)."""
    import cv2
    import numpy as np

    lo, hi = cv2.minMaxLoc(sums)[:2]  # sums, not means: the stretch does not care about the scale
    if hi <= lo:
        return bytes(THUMB_BYTES)
    x = sums.astype(np.float64) - lo if sums.dtype != np.float64 else sums - lo
    x *= 255.0 / (hi - lo)
    return np.rint(x, out=x).astype(np.uint8).tobytes()  # round half to even, as np.round


def _area_weights(k: int, m: int, a: float, b: float) -> np.ndarray:
    """(m, k): row ``i`` averages the stored cells under compared cell ``i`` of the window [a, b]
    (in stored-cell units), each stored cell weighted by its overlap."""
    import numpy as np

    edges = a + (b - a) * np.arange(m + 1) / m
    lo, hi = np.arange(k)[None, :], np.arange(1, k + 1)[None, :]
    w = np.clip(np.minimum(edges[1:, None], hi) - np.maximum(edges[:-1, None], lo), 0.0, None)
    return w / w.sum(axis=1, keepdims=True)


def windows() -> list[tuple[float, float]]:
    """The 1-D windows ``(start, end)`` as fractions of the frame: every crop with every shift that
    keeps it inside the frame (the whole frame first)."""
    out = []
    for c, s in itertools.product(CROPS, SHIFTS):
        if abs(s) <= c + 1e-12:
            out.append((c + s, 1.0 - c + s))
    return sorted(set(out), key=lambda w: (w[1] - w[0] < 1.0, w))


@functools.lru_cache(maxsize=1)
def _weights() -> np.ndarray:
    """(w * m, k) float32: the area weights of every 1-D window, stacked (window 0: the whole frame)."""
    import numpy as np

    k, m = THUMB_SIZE, COMPARE_SIZE
    w = np.vstack([_area_weights(k, m, a * k, b * k) for a, b in windows()]).astype(np.float32)
    w.flags.writeable = False
    return w


@functools.lru_cache(maxsize=1)
def _ramps() -> tuple[np.ndarray, np.ndarray]:
    """Unit x and y ramps over the compared grid (orthogonal to each other and to a constant)."""
    import numpy as np

    g = np.arange(COMPARE_SIZE) - (COMPARE_SIZE - 1) / 2
    x, y = np.tile(g, COMPARE_SIZE), np.repeat(g, COMPARE_SIZE)
    out = (x / np.linalg.norm(x)).astype(np.float32), (y / np.linalg.norm(y)).astype(np.float32)
    for r in out:
        r.flags.writeable = False
    return out


def views(thumbs: np.ndarray, *, whole_only: bool = False) -> np.ndarray:
    """(n, V, 256) float32: every view of each thumbnail ((n, 1024) uint8) with its least-squares
    plane removed (mean and x/y ramps) and unit norm (all zeros for a planar view); view 0 is the
    whole frame. V = (number of 1-D windows) squared."""
    import numpy as np

    k, m = THUMB_SIZE, COMPARE_SIZE
    t = np.asarray(thumbs, dtype=np.float32).reshape(-1, k, k)
    n, w = t.shape[0], _weights()
    if whole_only:  # window 0 is the whole frame: its rows come first in the stacked weights
        w = w[:m]
    nw = w.shape[0] // m
    rows = (w @ t.transpose(1, 0, 2).reshape(k, n * k)).reshape(nw * m * n, k)  # every y-window, per file
    full = (rows @ w.T).reshape(nw, m, n, nw, m)                               # every (y, x) window pair
    v = np.ascontiguousarray(full.transpose(2, 0, 3, 1, 4)).reshape(n, nw * nw, m * m)
    v -= v.mean(axis=2, keepdims=True)
    before = np.sqrt(np.einsum("nvc,nvc->nv", v, v))[:, :, None]
    ramp_x, ramp_y = _ramps()
    v -= (v @ ramp_x)[:, :, None] * ramp_x + (v @ ramp_y)[:, :, None] * ramp_y  # the least-squares plane
    norm = np.sqrt(np.einsum("nvc,nvc->nv", v, v))[:, :, None]
    # a planar view leaves only float32 rounding (~1e-7 of its size per cell): nothing to correlate
    v /= np.where(norm > 1e-4 * before, norm, np.float32(np.inf))
    return v


def link_correlations(thumbs: np.ndarray, i: np.ndarray, j: np.ndarray, *, block: int = 256) -> np.ndarray:
    """For each link ``i[k]``-``j[k]`` (rows of ``thumbs``, (n, 1024) uint8): the highest correlation
    between a view of one file and the other's whole frame, either way round (float32).

    Each file's views are computed once, ``block`` files at a time (100 KB a file), and multiplied
    with the whole frames of the files it is linked to."""
    import numpy as np

    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    out = np.full(i.size, -1.0, dtype=np.float32)
    if i.size == 0:
        return out
    used = np.unique(np.concatenate([i, j]))
    whole = views(thumbs[used], whole_only=True)[:, 0]       # (u, 256): each file's whole frame
    a = np.searchsorted(used, np.concatenate([i, j]))        # both directions: a's views, b's frame
    b = np.searchsorted(used, np.concatenate([j, i]))
    link = np.concatenate([np.arange(i.size), np.arange(i.size)])
    order = np.argsort(a, kind="stable")
    a, b, link = a[order], b[order], link[order]
    firsts, starts = np.unique(a, return_index=True)
    ends = np.append(starts[1:], a.size)
    for s in range(0, firsts.size, block):
        v = views(thumbs[used[firsts[s:s + block]]])        # (files, V, 256)
        for f in range(v.shape[0]):
            lo, hi = int(starts[s + f]), int(ends[s + f])
            best = (v[f] @ whole[b[lo:hi]].T).max(axis=0)    # best view against each linked frame
            np.maximum.at(out, link[lo:hi], best)
    return out


__all__ = ["COMPARE_SIZE", "CROPS", "DEFAULT_MIN_CORRELATION", "SHIFTS", "THUMB_BYTES", "THUMB_SIZE",
           "check_min_correlation", "link_correlations", "stretch", "thumbnail", "views", "windows"]

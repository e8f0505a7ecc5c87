"""Flat (blank) frames: no structure above the image's own noise.

A frame is **flat** when the variance left after a light Gaussian smoothing (sigma 1 px), less what
the noise contributes to it, is at most ``FLAT_SNR`` times the smoothed noise variance; the noise is
estimated from the image itself (Immerkaer's Laplacian-difference mask, robust MAD). Frames without
noise are flat when their dHash cells span less than ``FLAT_RANGE`` sample steps. Judged in the
image's own units on :func:`flat_samples` (block means, so a 1/8 DCT-reduced JPEG decode and the full
decode are judged at the same scale): a 16-bit fluorescence frame spanning 32978-36863 with noise 11
is full of structure.

**Deciding early, same answer.** The smoothed variance costs a Gaussian blur and a variance pass over
every sample. :func:`structure_floor` gives a lower bound of it for free beside the dHash's own
matrix product (:func:`compare.hashing.dhashes_from_luma`): the means of the *smoothed* image over
blocks of about 8x8 samples are a weighted sum of the samples (the blur's weights, reflected at the
border as OpenCV reflects them, summed over the block), and by the law of total variance the variance
of block means never exceeds the variance of the samples they average. When that floor clears the
flat threshold by a margin far above float rounding (:data:`FLOOR_MARGIN`), the frame is not flat and
nothing else is computed; otherwise the full test runs. The definition, and every answer, are those
of the full test (``tests/compare/test_flatness.py`` asserts both on real and adversarial frames).
"""
from __future__ import annotations

import functools
import math

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import numpy as np

FLAT_RANGE = 2.0  # steps of the image's own samples: cells closer than this are flat (no noise)
FLAT_SNR = 1.0    # structure variance at most this many times the noise variance: flat
FLAT_SAMPLES = 1 << 15  # is_flat judges area means of blocks that leave at most about this many samples
#: What "flat" means, recorded in every index: a new definition makes old indexes say "re-index".
FLATNESS = f"noise-relative/2 range {FLAT_RANGE} snr {FLAT_SNR} samples {FLAT_SAMPLES}"

SMOOTH_SIGMA = 1.0  # px, the structure's smoothing
FLOOR_BLOCK = 8     # samples per side of the blocks whose smoothed means bound the smoothed variance
#: The floor decides "not flat" only when it exceeds the threshold by this factor (plus the same
#: amount in absolute terms): both it and the full test's variance are within about 1e-5 of the exact
#: value (float32 sums of at most a few thousand terms), so a 1 % margin cannot flip an answer.
FLOOR_MARGIN = 0.01


def _block(gray: np.ndarray) -> int:
    """The block size ``f`` of :func:`flat_samples`."""
    return max(1, math.ceil(math.sqrt(gray.size / FLAT_SAMPLES)))


def flat_samples(gray: np.ndarray) -> np.ndarray:
    """The float32 samples :func:`is_flat` judges: means of ``f x f`` blocks (``f`` the smallest
    integer leaving at most :data:`FLAT_SAMPLES`; 1 for small images; a partial edge block is left
    out). Block means keep white noise white (its variance / ``f**2``) and keep every structure."""
    import numpy as np

    f = _block(gray)
    if f == 1:
        return np.ascontiguousarray(gray, dtype=np.float32)
    h, w = gray.shape[0] // f, gray.shape[1] // f
    if min(h, w) == 0:
        return np.ascontiguousarray(gray[::f, ::f], dtype=np.float32)
    a = gray[:h * f, :w * f]
    rows = np.zeros((h, w * f), np.float32)
    for k in range(f):  # strided whole-row adds: vectorised, one small float buffer
        rows += a[k::f]
    out = np.zeros((h, w), np.float32)
    for k in range(f):
        out += rows[:, k::f]
    out *= np.float32(1.0 / (f * f))
    return out


def is_flat(gray: np.ndarray, *, cells: np.ndarray | None = None, noise_floor: float = 0.0) -> bool:
    """True when a 2-D luma image has no structure above its own noise (a blank frame).

    See the module docstring; ``cells``: the image's dHash cell means, when already computed (a
    noise-free frame is flat when they span less than ``FLAT_RANGE`` sample steps).
    ``noise_floor`` (units of ``gray``, per pixel) is the least noise the estimate may say: the
    comparison passes the rounding noise of the samples, which a frame quantised to a few levels
    (a dark frame, 99.8 % zeros) hides from the estimate.
    """
    if gray.ndim != 2:
        raise ValueError(f"is_flat needs a 2-D array, got shape {gray.shape}")
    return judge_flat(gray, cells=cells, noise_floor=noise_floor)


@functools.lru_cache(maxsize=1)
def _flat_kernels() -> tuple[np.ndarray, float]:
    """Immerkaer's mask and the variance gain of white noise through the sigma-1 Gaussian."""
    import cv2
    import numpy as np

    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    k.flags.writeable = False
    g = cv2.getGaussianKernel(9, SMOOTH_SIGMA)
    return k, float((g ** 2).sum()) ** 2


def median(a: np.ndarray):
    """``np.median(a)`` of a 1-D float array without NaN, the same value and type (the middle order
    statistics, averaged by ``np.mean`` as numpy does), from one sort: numpy's partition is several
    times slower on the heavily tied residuals of an integer image."""
    import numpy as np

    k = a.size // 2
    s = np.sort(a)
    if a.size % 2:
        return s[k:k + 1].mean()
    return s[k - 1:k + 1].mean()


def _residuals(x: np.ndarray) -> np.ndarray:
    """Immerkaer's mask over the samples (every other one of a large image), 2-D, signed: a view
    of the filtered image (``|r|`` is what the estimate uses)."""
    import cv2

    k, _ = _flat_kernels()
    r = cv2.filter2D(x, cv2.CV_32F, k)
    if (r.shape[0] - 2) * (r.shape[1] - 2) > 4 * 4096:  # the 3x3 mask correlates neighbouring residuals:
        return r[1:-1:2, 1:-1:2]                          # every other one is as good
    return r[1:-1, 1:-1]


def _noise_var(med: float) -> float:
    """The smoothed noise variance of a residual median ``med`` (robust MAD of Immerkaer's mask)."""
    noise = float(1.4826 * med / 6.0)
    return noise * noise * _flat_kernels()[1]


def _clears(floor: float, noise_var: float) -> bool:
    """True when a smoothed variance of at least ``floor`` is structure against ``noise_var``,
    by a margin no rounding can take away."""
    return floor > (1.0 + FLOOR_MARGIN) * (1.0 + FLAT_SNR) * noise_var + FLOOR_MARGIN


def judge_flat(gray: np.ndarray, *, cells: np.ndarray | None = None, samples: np.ndarray | None = None,
               floor: float | None = None, noise_floor: float = 0.0, cell_range: float | None = None) -> bool:
    """:func:`is_flat` (``samples``: its :func:`flat_samples`, when already made; ``floor``: a lower
    bound of the smoothed variance, :func:`structure_floor`, when already computed; ``cell_range``:
    ``cells.max() - cells.min()``, when already known).

    With a floor, the answer is settled as early as it can be: first against a bound of the noise
    (the median of non-negative residuals is at most twice their mean: Markov's inequality), then
    against the noise itself; only a frame the floor cannot settle pays for the smoothing.
    """
    if cell_range is None and cells is not None:
        cell_range = float(cells.max() - cells.min())
    if cell_range is not None and gray.dtype.kind in "ui" and cell_range < FLAT_RANGE:
        return True
    import numpy as np

    x = flat_samples(gray) if samples is None else samples
    if min(x.shape) < 5:
        return bool(float(x.max() - x.min()) == 0.0)
    r = _residuals(x)
    least = (noise_floor / _block(gray)) ** 2 * _flat_kernels()[1]  # block means: white noise / f
    if floor is not None:
        import cv2

        mean = cv2.norm(r, cv2.NORM_L1) / r.size  # mean |r|, summed in float64
        if _clears(floor, max(_noise_var(2.0 * mean), least)):
            return False  # above even the largest noise its residuals allow
    a = np.abs(r).ravel()
    med = median(a) if gray.dtype.kind in "ui" else np.median(a)  # integer images: no NaN
    noise_var = max(_noise_var(med), least)
    if floor is not None and _clears(floor, noise_var):
        return False  # the smoothed variance is at least the floor: structure
    import cv2

    smooth_var = float(cv2.GaussianBlur(x, (0, 0), SMOOTH_SIGMA)[2:-2, 2:-2].var())
    return bool(smooth_var - noise_var <= FLAT_SNR * noise_var)


# --------------------------------------------------------------------------- the structure floor

@functools.lru_cache(maxsize=1)
def _smooth_taps() -> tuple[float, ...]:
    """The taps :func:`judge_flat`'s ``cv2.GaussianBlur`` uses on float32 samples (size 9 at sigma 1)."""
    import cv2

    size = int(round(SMOOTH_SIGMA * 4 * 2 + 1)) | 1
    return tuple(float(t) for t in cv2.getGaussianKernel(size, SMOOTH_SIGMA, ktype=cv2.CV_32F).ravel())


@functools.lru_cache(maxsize=32)
def floor_weights(length: int, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    """``(weights, block shares)`` along one axis of ``length >= 5`` samples: row ``k`` of the
    ``blocks x length`` weights, applied to the samples, gives the mean over block ``k`` of the
    smoothed samples (1-D Gaussian, borders reflected without repeating the edge, as OpenCV's
    default). The blocks split the part the full test keeps (``[2, length - 2)``) into
    ``(length - 4) // FLOOR_BLOCK`` (at least one) nearly equal runs."""
    import numpy as np

    taps = _smooth_taps()
    r = len(taps) // 2
    blur = np.zeros((length, length))
    for p in range(length):
        for t, g in enumerate(taps):
            q = p + t - r
            while not 0 <= q < length:  # reflect-101: -1 -> 1, length -> length - 2
                q = -q if q < 0 else 2 * (length - 1) - q
            blur[p, q] += g
    inner = length - 4
    nb = max(1, inner // FLOOR_BLOCK)
    edges = [2 + (k * inner) // nb for k in range(nb + 1)]
    shares = np.diff(edges) / float(inner)  # each block's part of the kept samples
    w = np.stack([blur[a:b].sum(axis=0) / (b - a) for a, b in zip(edges[:-1], edges[1:])]).astype(dtype)
    w.flags.writeable = shares.flags.writeable = False
    return w, shares


@functools.lru_cache(maxsize=16)
def _floor_plan(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(column weights transposed, contiguous; every block's share of the kept samples, row-major)."""
    import numpy as np

    cols, pc = floor_weights(width)
    pr = floor_weights(height)[1]
    cols_t, shares = np.ascontiguousarray(cols.T), np.outer(pr, pc).ravel()
    cols_t.flags.writeable = shares.flags.writeable = False
    return cols_t, shares


def structure_floor(block_rows: np.ndarray, height: int, width: int) -> float:
    """A lower bound of the smoothed variance :func:`judge_flat` computes for ``height x width``
    samples, from ``block_rows = floor_weights(height)[0] @ samples`` (the row half of the smoothed
    block means).

    The variance of the smoothed samples over the kept part is its variance between the blocks plus
    the mean variance within them (the law of total variance, blocks weighted by their size), so it
    is never below the variance of the block means.
    """
    return floor_structure(block_rows @ _floor_plan(height, width)[0], height, width)


def floor_structure(means: np.ndarray, height: int, width: int) -> float:
    """:func:`structure_floor` from the smoothed block means themselves (``floor_weights(height)[0]
    @ samples @ floor_weights(width)[0].T``, float64): their variance, blocks weighted by size."""
    m = means.ravel()  # float64: the products are exact to far below the margin
    shares = _floor_plan(height, width)[1]
    d = m - shares @ m
    return float(shares @ (d * d))

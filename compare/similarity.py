"""Pixel similarity: SSIM (Wang et al. 2004), PSNR and simple difference statistics.

:func:`ssim` computes the Gaussian-window SSIM of two 2-D images exactly as
``skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=R)`` does -- 11-tap Gaussian (truncate 3.5), symmetric
("reflect") borders, population covariance, K1 = 0.01, K2 = 0.03, the mean taken over the map
with a 5-pixel border cropped -- but with OpenCV's separable float32 filters and reused buffers,
several times faster at 5 MP (``bench/bench_ssim.py``). The tests hold it to scikit-image within
1e-4 for the mean and every map value.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from .errors import InputError

SIGMA = 1.5
TRUNCATE = 3.5
K1, K2 = 0.01, 0.03


@dataclass(frozen=True, eq=False)
class SSIMResult:
    mean: float
    map: np.ndarray  # float32, same shape as the inputs


class _Scratch(threading.local):
    """Per-thread scratch rows reused between calls (fresh pages are slow): ``rows x width`` views
    of buffers that only grow."""

    width = 0
    cap = 0
    f32: list
    f64: list

    def get(self, rows: int, width: int):
        if width != self.width or rows > self.cap:
            self.width, self.cap = width, max(rows, STRIP_ROWS + 2 * 8)  # a strip and its halo
            self.f32 = [np.empty((self.cap, width), np.float32) for _ in range(5)]
            self.f64 = [np.empty((self.cap, width), np.float64) for _ in range(4)]
        return [x[:rows] for x in self.f32], [x[:rows] for x in self.f64]


_SCRATCH = _Scratch()


def _kernel(sigma: float) -> np.ndarray:
    """scipy.ndimage's Gaussian: radius int(truncate * sigma + 0.5), normalised weights."""
    radius = int(TRUNCATE * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def ssim(a: np.ndarray, b: np.ndarray, *, data_range: float, sigma: float = SIGMA,
         want_map: bool = True, noise_var: float = 0.0) -> SSIMResult:
    """Gaussian-window SSIM of two 2-D images of the same shape.

    Parameters
    ----------
    a, b : ndarray
        2-D arrays (luma), any real dtype, same shape, at least 11 x 11.
    data_range : float
        The dynamic range of the samples (255 for 8-bit, 65535 for 16-bit). Required: guessing
        it from the data silently changes the answer.
    sigma : float
        Gaussian window sigma in pixels.
    want_map : bool
        Return the SSIM map as well (costs one extra image).
    noise_var : float
        Summed variance of the two images' own (independent) noise, in squared sample units.
        Default 0: the standard SSIM. When given, the structure term compares the signals:
        ``vx + vy`` loses the noise variance, never below ``2 |vxy|`` (the signals' own
        Cauchy-Schwarz bound), so a noisy shot against a clean mean of the same field scores
        near 1 while different structure still scores low.

    Returns
    -------
    SSIMResult
        ``mean`` (float) and ``map`` (float32 array, or an empty array when ``want_map`` is False).

    Notes
    -----
    Precision: samples are scaled to [0, 1] and centred on their own (subsampled) median in
    float32; local means and second moments are filtered with float64 output, and the
    cancellation-prone ``E[x^2] - E[x]^2`` is done in float64. Only ``vx + vy`` and ``vxy`` are
    needed (never ``vx`` and ``vy`` apart), which saves one filter. The rest is float32.
    Images of a quarter megapixel or more are computed in chunks of ``CHUNK_STRIPS`` strips (each
    strip from a halo of the window radius, so the map is the same) that parallel threads take as
    they come; the mean sums the chunks in row order, whatever the threads (:class:`SSIMJob`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (64, 64)).astype(np.uint8)
    >>> round(ssim(x, x, data_range=255).mean, 6)
    1.0
    """
    job = ssim_job(a, b, data_range=data_range, sigma=sigma, want_map=want_map, noise_var=noise_var)
    for _ in range(min(_threads(), job.chunks) - 1):
        _band_pool().submit(job.help)
    return job.result()


def ssim_job(a: np.ndarray, b: np.ndarray, *, data_range: float, sigma: float = SIGMA,
             want_map: bool = True, noise_var: float = 0.0) -> SSIMJob:
    """:func:`ssim` as a job that any number of threads may help compute (:meth:`SSIMJob.help`),
    for callers that schedule their own threads; :meth:`SSIMJob.result` helps, then waits."""
    if a.shape != b.shape:
        raise InputError(f"SSIM needs equal shapes, got {a.shape} and {b.shape}")
    if a.ndim != 2:
        raise InputError(f"SSIM works on 2-D (luma) arrays, got shape {a.shape}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating, np.integer)) \
            or not np.isfinite(sigma) or sigma <= 0:
        raise InputError(f"sigma must be a positive number of pixels (the Gaussian window), got {sigma!r}")
    k = _kernel(sigma)
    win = k.size
    if min(a.shape) < win:
        raise InputError(f"images of {a.shape[1]}x{a.shape[0]} are smaller than the {win}x{win} SSIM window")
    if not data_range > 0:
        raise InputError(f"data_range must be positive, got {data_range}")
    if not (np.isfinite(noise_var) and noise_var >= 0):
        raise InputError(f"noise_var must be a non-negative variance, got {noise_var!r}")
    scale = 1.0 / float(data_range)
    nv = float(noise_var) * scale * scale
    ca = float(np.median(a[::7, ::7])) * scale
    cb = float(np.median(b[::7, ::7])) * scale
    h = a.shape[0]
    pad = (win - 1) // 2
    out = np.empty(a.shape, np.float32) if want_map else None
    inner = (a.shape[0] - 2 * pad) * (a.shape[1] - 2 * pad)
    return SSIMJob((a, b, k, scale, ca, cb, out, nv), _chunks(h, a.size), inner, want_map)


class SSIMJob:
    """An SSIM under way: chunks of rows (whole strips) that any thread computes once. The mean
    sums the chunks' totals in row order, so it does not depend on which or how many threads ran."""

    def __init__(self, args: tuple, rows: list[tuple[int, int]], inner: int, want_map: bool):
        self._args, self._rows, self._inner, self._want_map = args, rows, inner, want_map
        self._totals = [0.0] * len(rows)
        self._next = 0
        self._done = 0
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._finished = threading.Event()

    @property
    def chunks(self) -> int:
        return len(self._rows)

    def help(self) -> None:
        """Compute chunks until none is left to start."""
        a, b, k, scale, ca, cb, out, nv = self._args
        while True:
            with self._lock:
                i = self._next
                if i >= len(self._rows):
                    return
                self._next += 1
            try:
                r0, r1 = self._rows[i]
                self._totals[i] = _ssim_rows(a, b, r0, r1, k, scale, ca, cb, out, nv)
            except BaseException as e:  # raised by result(), in the caller's thread
                self._error = self._error or e
            with self._lock:
                self._done += 1
                if self._done == len(self._rows):
                    self._finished.set()

    def result(self) -> SSIMResult:
        self.help()
        self._finished.wait()
        if self._error is not None:
            raise self._error
        out = self._args[6]
        return SSIMResult(mean=sum(self._totals) / self._inner, map=out if self._want_map else np.empty(0, np.float32))


_BAND_MIN_PIXELS = 1 << 18      # below a quarter megapixel one chunk is faster than threading
CHUNK_STRIPS = 4                # strips per chunk of a larger image: threads take chunks as they come
_BAND_POOL = None


def _band_pool():
    global _BAND_POOL
    if _BAND_POOL is None:
        from concurrent.futures import ThreadPoolExecutor
        _BAND_POOL = ThreadPoolExecutor(max_workers=_threads(), thread_name_prefix="ssim-band")
    return _BAND_POOL


def _threads() -> int:
    import os
    try:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, min(4, os.cpu_count() or 1))


def _chunks(h: int, size: int) -> list[tuple[int, int]]:
    """Row ranges of whole strips; one for an image below ``_BAND_MIN_PIXELS``."""
    if size < _BAND_MIN_PIXELS:
        return [(0, h)]
    step = CHUNK_STRIPS * STRIP_ROWS
    return [(r, min(h, r + step)) for r in range(0, h, step)]


STRIP_ROWS = 64  # rows of the map computed at a time: the strip's scratch stays in cache


def _ssim_rows(a, b, r0, r1, k, scale, ca, cb, out, nv=0.0) -> float:
    """SSIM map rows ``r0:r1`` (written to ``out`` when given); returns the sum over the rows that
    lie inside the cropped mean region. The rows are computed in strips of ``STRIP_ROWS``, each from
    a ``pad``-row halo (so strip and band edges see real neighbours and only the image's own edges
    are reflected) into the band's map, which is then summed whole (the sum is that of the map)."""
    h, w = a.shape
    pad = (k.size - 1) // 2
    rows = out[r0:r1] if out is not None else _MAPS.get(r1 - r0, w)
    for s0 in range(r0, r1, STRIP_ROWS):
        s1 = min(r1, s0 + STRIP_ROWS)
        _ssim_strip(a, b, s0, s1, k, scale, ca, cb, rows[s0 - r0:s1 - r0], nv)
    m0, m1 = max(r0, pad), min(r1, h - pad)
    if m1 <= m0:
        return 0.0
    return float(np.sum(rows[m0 - r0:m1 - r0, pad:w - pad], dtype=np.float64))


class _MapRows(threading.local):
    """Per-thread band map (when the caller wants no map), reused like :class:`_Scratch`."""

    buf = None

    def get(self, rows: int, width: int) -> np.ndarray:
        if self.buf is None or self.buf.shape[1] != width or self.buf.shape[0] < rows:
            self.buf = np.empty((rows, width), np.float32)
        return self.buf[:rows]


_MAPS = _MapRows()


def _ssim_strip(a, b, r0, r1, k, scale, ca, cb, dst, nv=0.0) -> None:
    """SSIM map rows ``r0:r1`` into ``dst`` (``r1 - r0`` rows), from rows ``r0 - pad:r1 + pad``.
    The blurs need the halo rows; everything after them is computed for rows ``r0:r1`` only."""
    h, w = a.shape
    pad = (k.size - 1) // 2
    h0, h1 = max(0, r0 - pad), min(h, r1 + pad)
    (x, y, w1, w2, t), (ux, uy, e, q) = _SCRATCH.get(h1 - h0, w)
    a, b = a[h0:h1], b[h0:h1]

    wide = q  # float64 scratch: each blur's source widened first (exact), q's first use comes after

    def blur(src, dst):
        # float64 sums and output. The source is widened to float64 first (exact), as the plain
        # formula of the tests does: OpenCV's row filter from float32 into float64 is a slower
        # path than from float64, with the same sums, so the output is bit-for-bit the same and a
        # 5 MP SSIM on one thread takes 4-8 % less CPU, widening included
        np.copyto(wide, src)
        cv2.sepFilter2D(wide, cv2.CV_64F, k, k, dst=dst, borderType=cv2.BORDER_REFLECT)

    f32 = np.float32
    np.multiply(a, f32(scale), out=x, casting="unsafe")
    np.multiply(b, f32(scale), out=y, casting="unsafe")
    x -= f32(ca)
    y -= f32(cb)
    blur(x, ux)
    blur(y, uy)
    # covariance: E[xy] - E[x]E[y]  (float64; the product rounded to float32 as always)
    np.multiply(x, y, out=t)
    blur(t, e)
    s = slice(r0 - h0, r1 - h0)  # the rows of the map
    ux_, uy_, q, w1_, w2, t_ = ux[s], uy[s], q[s], w1[s], w2[s], t[s]
    np.multiply(ux_, uy_, out=q)
    np.subtract(e[s], q, out=q)
    np.multiply(q, 2.0, out=w1_, casting="unsafe")     # w1 = 2 vxy (doubling is exact either side of the cast)
    # sum of variances: E[x^2 + y^2] - E[x]^2 - E[y]^2  (float64)
    x *= x
    y *= y
    np.add(x, y, out=t)
    blur(t, e)
    e, x, y = e[s], x[s], y[s]
    np.multiply(ux_, ux_, out=q)
    e -= q
    np.multiply(uy_, uy_, out=q)
    e -= q
    np.copyto(w2, e, casting="unsafe")                 # w2 = vx + vy
    if nv > 0:  # the signals' variances: noise removed, at least 2 |vxy| (Cauchy-Schwarz)
        w2 -= np.float32(nv)
        np.abs(w1_, out=y)
        np.maximum(w2, y, out=w2)
    np.add(ux_, ca, out=x, casting="unsafe")           # x = mu_x (the sum in float64, then cast)
    np.add(uy_, cb, out=y, casting="unsafe")           # y = mu_y
    c1 = np.float32(K1 * K1)
    c2 = np.float32(K2 * K2)
    # S = (2 mx my + C1)(2 vxy + C2) / ((mx^2 + my^2 + C1)(vx + vy + C2))
    np.multiply(x, y, out=t_)
    t_ *= np.float32(2)
    t_ += c1
    w1_ += c2
    t_ *= w1_
    np.multiply(x, x, out=w1_)
    np.multiply(y, y, out=x)
    w1_ += x
    w1_ += c1
    w2 += c2
    w1_ *= w2
    np.divide(t_, w1_, out=dst)


def psnr(a: np.ndarray, b: np.ndarray, *, data_range: float) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for equal arrays."""
    return psnr_from_mse(mean_squared_error(a, b), data_range=data_range)


def psnr_from_mse(mse: float, *, data_range: float) -> float:
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(float(data_range) ** 2 / mse))


def _check_same(a, b):
    if a.shape != b.shape:
        raise InputError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.dtype != b.dtype:
        raise InputError(f"sample types differ: {a.dtype} vs {b.dtype}")


def mean_squared_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean of the squared sample differences (one pass in OpenCV, no temporaries)."""
    _check_same(a, b)
    if a.size == 0:
        return 0.0
    return float(cv2.norm(a, b, cv2.NORM_L2SQR)) / a.size


@dataclass(frozen=True)
class DiffStats:
    max_abs_diff: int | float
    diff_fraction: float  # fraction of pixels with any sample differing
    mse: float


DIFF_BAND_ROWS = 128  # rows of the absolute difference held at a time (cache-sized, never a whole frame)


def diff_stats(a: np.ndarray, b: np.ndarray) -> DiffStats:
    """Largest absolute sample difference, fraction of differing pixels and MSE (same shape/dtype).

    The largest difference and the MSE come from one OpenCV pass each over the two arrays; the
    count of differing pixels from their absolute difference taken a band of rows at a time (a
    frame-sized difference image would cost fresh pages, slower than the arithmetic)."""
    _check_same(a, b)
    if a.size == 0:
        return DiffStats(0, 0.0, 0.0)
    mse = mean_squared_error(a, b)
    mx = cv2.norm(a, b, cv2.NORM_INF)
    h, c = a.shape[0], (a.shape[2] if a.ndim == 3 else 1)
    rows = min(h, DIFF_BAND_ROWS)
    d = np.empty((rows,) + a.shape[1:], a.dtype)
    planes = [np.empty((rows, a.shape[1]), a.dtype) for _ in range(c if c > 1 else 0)]
    n = 0
    for r0 in range(0, h, rows):
        k = min(h, r0 + rows) - r0
        dd = cv2.absdiff(a[r0:r0 + k], b[r0:r0 + k], dst=d[:k])
        if c > 1:  # a pixel differs when any of its samples does: the largest of them is not 0
            first, *rest = cv2.split(dd, [p[:k] for p in planes])
            for p in rest:
                cv2.max(first, p, dst=first)
            dd = first
        n += cv2.countNonZero(dd)
    frac = n / (a.shape[0] * a.shape[1])
    mx = int(mx) if np.issubdtype(a.dtype, np.integer) else float(mx)
    return DiffStats(max_abs_diff=mx, diff_fraction=float(frac), mse=mse)

"""Signal-dependent noise: a Poisson-Gaussian noise level function per image, and what it makes of
the residual's noise from place to place.

A photon-counting sensor's noise variance grows with the signal: ``var(s) = a s + b`` (shot noise
``a s``, read noise ``b``; Foi et al., *Practical Poissonian-Gaussian noise modeling and fitting for
single-image raw-data*, IEEE TIP 2008). One noise figure for the whole frame judges bright cells
of a fluorescence shot against the noise of its dark background. :func:`noise_level_function`
fits ``a`` and ``b`` from one image alone: Immerkaer's Laplacian-difference response (which
removes a locally linear signal) of the image less its ``LEVEL_SIGMA`` blur (which removes a
smooth signal's curvature too), scaled by the filter's exact white-noise gain, in ``NLF_BINS``
bins of equal count of the blurred signal, each bin's variance robustly (1.4826 x MAD: edges are a minority
of a bin), fitted by weighted least squares with ``a >= 0``.

:func:`level_ratio` carries the two sides' functions to the residual of the pair: its noise
at a sample of A's level ``s`` relative to the residual's typical (median) sample. The residual's
own noise is still *measured* on the residual (a derived copy whose noise both sides share has
none); only how it varies with the signal comes from the sides, where no change can enter.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import cv2
import numpy as np

NLF_BINS = 12            # bins of equal count of the smoothed signal
NLF_MIN_COUNT = 200      # a bin with fewer samples is left out
NLF_SAMPLES = 80_000     # at most this many samples (an even subsampling of the image)
LEVEL_SIGMA = 1.5        # Gaussian sigma of the signal level a sample's noise is judged at
_LAPLACE = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


@functools.cache
def _noise_gain() -> float:
    """Std of the response of :func:`nlf_bins`' filter (the Laplacian of ``x`` less its
    ``LEVEL_SIGMA`` blur) to white noise of unit std: the root sum of squares of its kernel."""
    d = np.zeros((41, 41), np.float32)
    d[20, 20] = 1.0
    k = cv2.filter2D(d - cv2.GaussianBlur(d, (0, 0), LEVEL_SIGMA), cv2.CV_32F, _LAPLACE)
    return float(np.sqrt(np.sum(k.astype(np.float64) ** 2)))


class NoiseLevel(NamedTuple):
    """``var(s) = a s + b`` (squared units of the image, ``s`` in its units)."""

    a: float
    b: float

    def var(self, s):
        return self.a * s + self.b


def nlf_bins(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin (level, noise variance, count) of one 2-D image: see the module docstring."""
    x = np.asarray(x, np.float32)
    if min(x.shape) < 8:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    level = cv2.GaussianBlur(x, (0, 0), LEVEL_SIGMA)
    # the Laplacian of what the level leaves: a smooth signal's curvature is taken out too
    r = cv2.filter2D(x - level, cv2.CV_32F, _LAPLACE, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    r = np.multiply(r, 1.0 / _noise_gain(), dtype=np.float32)
    s = level[1:-1, 1:-1]
    step = max(1, int(math.sqrt(r.size / NLF_SAMPLES)))
    r, s = r[::step, ::step].ravel(), s[::step, ::step].ravel()
    order = np.argsort(s, kind="stable")
    levels, varis, counts = [], [], []
    for idx in np.array_split(order, NLF_BINS):
        if idx.size < NLF_MIN_COUNT:
            continue
        rb = r[idx]
        mad = float(np.median(np.abs(rb - np.median(rb))))
        levels.append(float(np.mean(s[idx])))
        varis.append((1.4826 * mad) ** 2)
        counts.append(idx.size)
    return np.array(levels), np.array(varis), np.array(counts, float)


def fit_nlf(levels: np.ndarray, varis: np.ndarray, counts: np.ndarray) -> NoiseLevel:
    """Weighted least-squares line ``var = a s + b`` through the bins, ``a >= 0``.

    A variance estimated from ``n`` samples has a standard error proportional to the variance
    over ``sqrt(n)``: weights ``n / var^2``, the variance taken from the previous fit (two
    passes; the first from the bins themselves)."""
    if levels.size == 0:
        return NoiseLevel(0.0, 0.0)
    if levels.size == 1 or np.ptp(levels) <= 0:
        return NoiseLevel(0.0, float(np.average(varis, weights=counts)))
    model = np.maximum(varis, 1e-12)
    a = b = 0.0
    for _ in range(2):
        w = counts / np.maximum(model, 1e-12) ** 2
        sw, sx, sy = w.sum(), (w * levels).sum(), (w * varis).sum()
        sxx, sxy = (w * levels * levels).sum(), (w * levels * varis).sum()
        den = sw * sxx - sx * sx
        a = (sw * sxy - sx * sy) / den if den > 0 else 0.0
        if a < 0:
            a = 0.0
        b = (sy - a * sx) / sw
        model = np.maximum(a * levels + b, 1e-12)
    return NoiseLevel(float(a), float(b))


def noise_level_function(x: np.ndarray) -> NoiseLevel:
    """The Poisson-Gaussian noise level function of one image (see the module docstring)."""
    return fit_nlf(*nlf_bins(x))


def level_ratio(level: np.ndarray, valid: np.ndarray, nlf_a: NoiseLevel, nlf_b: NoiseLevel,
                gain: float, offset: float, top: float) -> np.ndarray | None:
    """Noise of the residual ``(B - offset) / gain - A`` at each sample of A's ``level``, relative
    to its median sample: ``sqrt(v(s) / median v)`` with ``v(s) = nlf_a(s) + nlf_b(g s + o) / g^2``,
    limited to ``[1, top]`` (float32, ``level``'s shape). None when the noise does not grow with
    the signal (``a = 0`` on both sides) or is not measurable."""
    g = gain if abs(gain) > 1e-3 else 1.0
    alpha = nlf_a.a + nlf_b.a / g
    beta = nlf_a.b + (nlf_b.a * offset + nlf_b.b) / (g * g)
    if alpha <= 0 or not valid.any():
        return None
    inside = level[valid]
    v_med = alpha * float(np.median(inside[::max(1, inside.size // NLF_SAMPLES)])) + beta
    if not v_med > 0:
        return None
    v = np.float32(alpha / v_med) * level + np.float32(beta / v_med)
    return np.sqrt(np.clip(v, 1.0, top * top)).astype(np.float32, copy=False)

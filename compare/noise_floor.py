"""The noise floor of a comparison: the noise estimates :func:`compare.align.analyse` uses to decide
what is noise (see its module docstring):

* **noise** (:func:`_pixel_noise`, :func:`_robust_sigma`): per image from a Laplacian-difference
  mask, and of the residual itself, robustly;
* **quantisation** (:func:`quantisation_noise`, :func:`_lsb`): the least noise a quantised sample
  carries, one step of the samples on the 8-bit working scale;
* **codec** (:func:`_codec_sigma`): the quantisation noise a JPEG side carries, from its tables
  (:mod:`compare.codec_noise`), through the comparison's own smoothing;
* **noise at the correlation's scale** (:func:`smoothed_noise`): measured on the smoothed frames,
  since a camera's noise is correlated (cause 19);
* **white noise through a Gaussian** (:func:`_gauss_noise_gain`).

The rest of the floor: clipping is :mod:`compare.clipping`, the gain fit and shading
:mod:`compare.photometric`, the noise place by place (and what a displacement explains)
:mod:`compare.local_noise`, the noise by level (shot noise) :mod:`compare.noise_level`.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

FLOOR_LSB = 0.05         # smallest noise of the smoothed residual, in steps of the coarser side
LOCAL_LAG = 4            # working pixels between the samples whose differences judge a block's noise
SCALE_SAMPLES = 1 << 18  # second differences (an even grid of rows and columns) that judge a smoothed image's noise


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _lsb(pixels: np.ndarray) -> float:
    """One step of the image's samples on the 8-bit working scale."""
    return 255.0 / float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 255.0 / 65535.0


def quantisation_noise(step: float, factor: int = 1) -> float:
    """Least noise a quantised sample carries: rounding to ``step`` is uniform error of variance
    ``step^2 / 12`` whatever the signal (noise below one step is quantised away, not absent);
    through a ``factor x factor`` area average, white noise, divided by ``factor``.

    >>> round(quantisation_noise(1.0), 4), round(quantisation_noise(1.0, 2), 4)
    (0.2887, 0.1443)
    """
    return step / math.sqrt(12.0) / max(1, factor)


def _codec_sigma(codecs, scales, factor: int, channel: str, smooth_sigma: float,
                 gains: tuple[float, float] = (1.0, 1.0)) -> float:
    """Quantisation noise of the lossy sides in the smoothed working residual (8-bit DN; ``gains``
    multiply each side's, when its levels were mapped onto the other's)."""
    var = 0.0
    for tables, scale, g in zip(codecs, scales, gains):
        if tables is None:
            continue
        k = factor * scale  # full-resolution pixels of this side per working pixel
        sigma = k * math.sqrt(smooth_sigma ** 2 + (1.0 / 12.0 if k > 1 else 0.0))
        var += (g * tables.pixel_sigma(smooth_sigma=sigma, channel=channel)) ** 2
    return math.sqrt(var)


def _pixel_noise(x: np.ndarray) -> float:
    """Robust per-pixel noise of one image (Immerkaer's Laplacian-difference mask, MAD):
    content-insensitive where most of the frame is smooth."""
    if min(x.shape) < 3:
        return 0.0
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    r = cv2.filter2D(x, cv2.CV_32F, k)[1:-1, 1:-1]
    return float(1.4826 * np.median(np.abs(r)) / 6.0)


def second_differences(s: np.ndarray, *, lag: int = LOCAL_LAG) -> np.ndarray:
    """``s(x - lag) - 2 s(x) + s(x + lag)`` along every ``step``-th row and column of ``s`` (about
    ``SCALE_SAMPLES`` in all), flat; empty for an image too small. Linear in ``s``: those of a
    difference are the difference of each side's."""
    h, w = s.shape
    if min(h, w) <= 2 * lag:
        return np.zeros(0, np.float32)
    step = max(1, (2 * h * w) // SCALE_SAMPLES)
    rows, cols = s[::step], s[:, ::step]
    across = rows[:, :-2 * lag] - 2 * rows[:, lag:-lag] + rows[:, 2 * lag:]
    down = cols[:-2 * lag] - 2 * cols[lag:-lag] + cols[2 * lag:]
    return np.concatenate([across.ravel(), down.ravel()])


def second_difference_sigma(d: np.ndarray) -> float:
    """The noise std whose :func:`second_differences` these are: 1.4826 x their median absolute
    value over sqrt(6) (their variance for noise uncorrelated at the lag); 0 for none."""
    if d.size == 0:
        return 0.0
    a = np.abs(d)
    return float(1.4826 * np.partition(a, a.size // 2)[a.size // 2] / math.sqrt(6.0))


def smoothed_noise(s: np.ndarray, other: np.ndarray | None = None, *, lag: int = LOCAL_LAG) -> float:
    """Robust noise of an image already smoothed by the structure correlation's Gaussian (of
    ``s - other`` when ``other`` is given: an aligned pair's difference), measured at that scale:
    :func:`second_difference_sigma` of its :func:`second_differences` (the sigma-1 blur leaves white
    noise a correlation of exp(-lag^2 / 4) = 0.02 at ``lag`` = 4). A line laid through three samples
    cancels, so smooth shading does not count; like the per-pixel estimate it reads the noise where
    most of the frame is smooth at this scale, and texture reads as noise where it is not.

    Why: real camera noise is not white. Demosaicing, in-camera noise reduction and JPEG correlate
    neighbouring pixels, so the per-pixel estimate (:func:`_pixel_noise`) carried through the blur
    as white noise can be several times too small: two shots of a flat target (Nikon D200) read
    0.13 DN that way, 0.50 DN measured here and 0.49 DN per side from the two shots' difference."""
    d = second_differences(s, lag=lag)
    if other is not None and d.size:
        d = d - second_differences(other, lag=lag)
    return second_difference_sigma(d)


def _gauss_noise_gain(sigma: float) -> float:
    """Std of white noise after a 2-D Gaussian blur of this sigma, per unit input std."""
    k = cv2.getGaussianKernel(int(2 * math.ceil(3 * sigma) + 1), sigma)
    return float(np.sqrt((k ** 2).sum()) ** 2)

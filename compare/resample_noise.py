"""The error a resampling filter may leave in a downscaled copy: aliasing, as a noise allowance.

A copy reduced without a prefilter (OpenCV's default ``resize``: linear, cubic or Lanczos
kernels, no antialiasing) folds the original's detail above its own Nyquist frequency back into
its band -- a moire at any frequency down to zero, which the comparison's common band limit
cannot remove, and which no noise estimate sees (it is a deterministic function of the image).
Like a codec's quantisation it is an error of the copying, derived here from the image and the
scale, never tuned: the larger side is reduced by each of the usual un-prefiltered kernels and by
the area filter the comparison itself uses; their differences, smoothed as the comparison's
residual is, are the aliasing each kernel makes on this very image. Their local RMS (the
kernel's phase against the pattern is unknown) over the worst kernel is the allowance, per pixel
of the smaller image. Where the original holds no detail above the smaller image's Nyquist the
allowance is zero: a change anywhere else is judged as before.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

KERNELS = (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4, cv2.INTER_NEAREST, cv2.INTER_NEAREST_EXACT)
WINDOW = 2.0  # Gaussian sigma (pixels of the smaller image) of the local RMS, beyond the smoothing


def alias_sigma(large: np.ndarray, size: tuple[int, int], *, smooth: float) -> np.ndarray:
    """Allowance (float32, ``size`` = (width, height) of the smaller image, units of ``large``)
    for the aliasing an un-prefiltered downscale of the 2-D ``large`` to ``size`` may leave
    after a Gaussian smoothing of ``smooth`` pixels of the smaller image.

    >>> flat = np.full((64, 64), 7.0, np.float32)
    >>> bool(alias_sigma(flat, (32, 32), smooth=1.5).max() < 1e-5)  # no detail above its Nyquist
    True
    """
    x = np.ascontiguousarray(large, dtype=np.float32)
    ref = cv2.resize(x, size, interpolation=cv2.INTER_AREA)
    worst = np.zeros(ref.shape, np.float32)
    for k in KERNELS:
        d: np.ndarray = cv2.resize(x, size, interpolation=k) - ref
        e = cv2.GaussianBlur(d, (0, 0), smooth) if smooth > 0 else d
        np.maximum(worst, e * e, out=worst)
    sigma = math.hypot(WINDOW, smooth)
    return np.sqrt(cv2.GaussianBlur(worst, (0, 0), sigma))

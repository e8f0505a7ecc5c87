"""SSIM of two aligned images' signals: the pair's own noise is no structure.

One piece of :func:`compare.align.analyse` (its ``ssim_aligned``); see :func:`signal_ssim`.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .noise_floor import _gauss_noise_gain, _robust_sigma
from .similarity import K2, ssim

__all__ = ["SSIM_NOISE_CORR", "signal_ssim"]

SSIM_SCALES = (0.0, 2.0, 3.0)  # extra Gaussian smoothing (working pixels) the aligned SSIM may take
SSIM_NOISE_C2 = 0.1      # ... the finest where the pair's noise variance is below this part of C2
SSIM_NOISE_CORR = 0.95   # structures agree this well: their difference is noise (measured on it)


def signal_ssim(sa: np.ndarray, sb: np.ndarray, white_var: float, *, agree: bool,
                codec_var: list[float] | None = None) -> float:
    """SSIM of the signals of two aligned, normalised, lightly smoothed images: the two sides' own
    noise is no structure (:func:`compare.similarity.ssim`'s ``noise_var``).

    ``white_var`` is the noise variance the per-pixel (white) estimates give. Real noise is
    correlated by demosaicing and processing and survives smoothing far more; when the structures
    ``agree`` (disattenuated correlation at least ``SSIM_NOISE_CORR``) the difference of the two is
    that noise, and its variance is measured on it robustly (a change covering less than half the
    overlap does not move it). When they do not agree, the difference may be the change itself and
    only ``white_var`` is taken out. SSIM's structure term can only tell structure from noise whose
    variance is small against its own constant ``C2``: the images are judged at the finest of
    ``SSIM_SCALES`` (extra smoothing) where the noise variance is below ``SSIM_NOISE_C2`` of ``C2``.

    ``codec_var`` (one per ``SSIM_SCALES`` entry) is the quantisation noise variance the lossy
    sides' JPEG tables allow after that scale's smoothing (:mod:`compare.codec_noise`): the noise
    taken out is never below it. A white-noise estimate misses it (a JPEG rounds flat areas to
    nothing and puts its error into the detail), and so does the robust spread of the
    difference, whose median is set by those flat areas."""
    c2 = (K2 * 255.0) ** 2
    for i, extra in enumerate(SSIM_SCALES):
        ga, gb = (cv2.GaussianBlur(sa, (0, 0), extra), cv2.GaussianBlur(sb, (0, 0), extra)) if extra > 0 else (sa, sb)
        nvar = white_var * (_gauss_noise_gain(math.hypot(1.0, extra)) / _gauss_noise_gain(1.0)) ** 2
        if agree:
            nvar = max(nvar, _robust_sigma((gb - ga)[::2, ::2].ravel()) ** 2)
        if codec_var is not None:
            nvar = max(nvar, codec_var[i])
        if nvar <= SSIM_NOISE_C2 * c2:
            break
    return float(ssim(ga, gb, data_range=255.0, want_map=False, noise_var=nvar).mean)

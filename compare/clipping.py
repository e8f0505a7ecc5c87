"""Clipping, part of the noise floor (:mod:`compare.noise_floor`): a clipped sample only bounds its value.

* **clip levels** (:func:`clip_levels`): per image, judged in the image's own units -- an 8-bit
  black crush only where the darkest code holds a pile-up (:func:`_black_crush`), a deeper image's
  codes near 0 unless they are plateaus of their own (:func:`_deep_black`, a label image), a
  16-bit plateau of a saturating 12-bit sensor;
* **the residual across clipping** (:func:`_interval_residual`): each sample an interval, the
  residual the gap between A's and normalised B's.
"""
from __future__ import annotations

import math

import numpy as np

CLIP_LOW, CLIP_HIGH = 4.0, 250.0   # 8-bit: black crush only up to this level; highlights from this one
CLIP_LSB = 4             # deeper samples: within this many steps of 0 or of full scale
LEVEL_COHERENT = 0.6     # ... unless those codes are plateaus: this share of their pixels match their right-hand neighbour
PLATEAU = 0.0005         # a maximum held by this fraction of the pixels is a saturation level
CRUSH_SAMPLES = 65536    # pixels (an even grid) on which an 8-bit black crush is judged


def _interval_residual(a: np.ndarray, b_raw: np.ndarray, b_norm: np.ndarray,
                       clip_a=(CLIP_LOW, CLIP_HIGH), clip_b=(CLIP_LOW, CLIP_HIGH)) -> np.ndarray:
    """``b_norm - a`` where neither is clipped; across clipping, only what clipping cannot explain.

    A clipped sample only bounds its true value: at or below the low clip level it may be anything
    darker, at or above the high one anything brighter (levels per side, see :func:`clip_levels`).
    Each sample is an interval and the residual is the signed gap between A's and normalised B's
    intervals (0 where they overlap): a brighter exposure that saturates a fundus's red is no
    change, a bubble that lights up a black background is.
    """
    # Where neither side is clipped both intervals are points: the gap is b_norm - a (0 for a tie,
    # or for NaN); the interval arithmetic runs on the clipped samples only (usually few).
    out = b_norm - a
    odd = (a <= clip_a[0]) | (a >= clip_a[1]) | (b_raw <= clip_b[0]) | (b_raw >= clip_b[1])
    odd |= ~((out > 0) | (out < 0))
    if odd.any():
        out[odd] = _interval_gap(a[odd], b_raw[odd], b_norm[odd], clip_a, clip_b)
    return out.astype(np.float32, copy=False)


def _interval_gap(a, b_raw, b_norm, clip_a, clip_b) -> np.ndarray:
    """:func:`_interval_residual`'s interval arithmetic, sample by sample."""
    inf = np.float32(np.inf)
    a_lo = np.where(a <= clip_a[0], -inf, a)
    a_hi = np.where(a >= clip_a[1], inf, a)
    b_lo = np.where(b_raw <= clip_b[0], -inf, b_norm)
    b_hi = np.where(b_raw >= clip_b[1], inf, b_norm)
    above = b_lo - a_hi
    below = b_hi - a_lo
    return np.where(above > 0, above, np.where(below < 0, below, np.float32(0)))


def clip_levels(pixels: np.ndarray) -> tuple[float, float]:
    """Clip levels of one image on the 8-bit working scale.

    8-bit: highlights from ``CLIP_HIGH``; a black crush (:func:`_black_crush`) only where the
    darkest code holds a pile-up, at most ``CLIP_LOW``. Deeper
    samples: within ``CLIP_LSB`` steps of 0 (unless those codes are plateaus, a label image's
    objects: :func:`_deep_black`) or of full scale, and a maximum held by a plateau of
    ``PLATEAU`` of the pixels (a 12-bit sensor saturating inside a 16-bit container) -- judged
    in the image's own units, never in 0-255 levels of the full range.
    """
    if pixels.dtype == np.uint8:
        return _black_crush(pixels), CLIP_HIGH
    full = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    k = 255.0 / full
    lo, hi = CLIP_LSB * k, (full - CLIP_LSB) * k
    if pixels.dtype.kind == "u":  # codes near 0 are clipped black, unless they are plateaus (labels)
        lo = _deep_black(pixels) * k
    sub = pixels[::4, ::4]
    mx = sub.max()
    if np.count_nonzero(sub == mx) >= PLATEAU * sub.size and mx > 0:
        hi = min(hi, float(mx) * k - 1e-6)
    return lo, hi


def _deep_black(pixels: np.ndarray) -> float:
    """Deeper samples' low clip level, in stored units: every code within ``CLIP_LSB`` of 0 -- a
    sensor's black, where noise is cut or folded (a magnitude image's background) -- unless those
    codes above the darkest are levels of their own: plateaus, ``LEVEL_COHERENT`` of their pixels
    sharing their code with the pixel to the right (a label image's objects 1, 2, 3: cause 38).
    Then only the darkest code, when samples piled up on it (at least ``PLATEAU`` of them); -1 when
    none did. Judged on an even grid of rows of about ``CRUSH_SAMPLES`` pixels (a colour image's
    first channel)."""
    h, w = pixels.shape[:2]
    step = max(1, int(math.sqrt(h * w / CRUSH_SAMPLES)))
    rows = pixels[::step] if pixels.ndim == 2 else pixels[::step, :, 0]
    lo = int(rows.min())
    low = (rows > lo) & (rows <= CLIP_LSB)
    low_px = np.count_nonzero(low)
    if low_px < PLATEAU * rows.size:  # no code above the darkest within CLIP_LSB of 0 to judge
        return float(CLIP_LSB)
    same = np.count_nonzero(low[:, :-1] & (rows[:, 1:] == rows[:, :-1]))
    if same < LEVEL_COHERENT * low_px:
        return float(CLIP_LSB)
    return float(lo) if np.count_nonzero(rows == lo) >= PLATEAU * rows.size else -1.0


def _black_crush(pixels: np.ndarray) -> float:
    """8-bit low clip level: the darkest code, when clipping piled samples on it.

    A crushed black (an MJPG camera's, a thresholded export) stacks every sample that would have
    been darker on the lowest code, so that code holds more samples than the next one up (and at
    least ``PLATEAU`` of them). A dark background that is merely dark -- a fluorescence frame at
    3-4 levels with its noise around them -- has its darkest code in the tail of its noise: fewer
    samples than the next. Returns -1 (nothing clipped) then, or when the darkest code is above
    ``CLIP_LOW`` (no camera crushes black to a bright level). Judged on an even grid of about
    ``CRUSH_SAMPLES`` pixels (a histogram of a 5 MP frame in full took 23 ms, this one 1 ms)."""
    step = max(1, int(math.sqrt(pixels.shape[0] * pixels.shape[1] / CRUSH_SAMPLES)))
    sub = np.ascontiguousarray(pixels[::step, ::step]).ravel()
    hist = np.bincount(sub, minlength=256)
    lo = int(np.flatnonzero(hist)[0])
    if lo > CLIP_LOW:
        return -1.0
    return float(lo) if hist[lo] >= max(PLATEAU * sub.size, hist[lo + 1]) else -1.0

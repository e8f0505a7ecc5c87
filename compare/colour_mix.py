"""Colours changed at the same brightness: a hue or saturation edit is no white balance.

The comparison fits each colour channel of B to the same channel of A (a gain and an offset: an
exposure or white-balance drift, a display stretch). In a real picture the three channels are
highly correlated, so those per-channel fits also absorb most of a hue rotation or a saturation
change, and what is left fell within the noise floor: scikit-image's IHC slide with its stains
rotated 60 degrees in hue (mean change 15 levels) read "same field within noise" (session 14's
probe: 41 of 112 such pairs).

A gain per channel never mixes the channels; a colour edit does. So, on both pictures reduced to
at most 256 pixels a side (area average, a light Gaussian blur against noise and misregistration)
and B moved by the registered shift, each channel of B is fitted twice: from its own channel of A
(gain, offset) and from all three channels of A. The share of B's channel the other two channels
explain, against what neither fit explains, is the *mix*: ``(var_own - var_all) / var_all`` (the
residual variances; ``var_all`` floored at a quarter of an 8-bit level squared). Measured on the
real-data harness (tuning set and splits 1, 2, 4 and 5; ``out``-free reproduction:
``compare.colour_mix.mix`` over the pairs of ``bench/bench_real.py``): every `same` pair (re-encodes,
WebP, resized, nearest-neighbour copies, trimmed borders, shots against their means) is at most
6.4 (a SIDD smartphone shot against its ground truth), every hue or saturation edit of the probe
at least 58 (a noisy shot against the edited mean). A pair above :data:`MIX_MAX` (20) is
`different`, with the same field.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

MIX_MAX = 20.0       # the share of a channel the other channels explain, against the rest (see above)
SIDE = 256           # pixels of the longer side the test runs at
MAX_SHIFT = 4.0      # pixels of A: a pair moved further is judged by the alignment, not here
_NAMES = ("blue", "green", "red")


def _small(pixels: np.ndarray, size: tuple[int, int], scale: float, shift=(0.0, 0.0)) -> np.ndarray:
    # reduced in the stored samples (a float copy of a 5 MP picture cost 50-150 ms, cold), then float
    x: np.ndarray = cv2.resize(np.ascontiguousarray(pixels[..., :3]), size, interpolation=cv2.INTER_AREA)
    x = x.astype(np.float32) * np.float32(scale)
    if shift != (0.0, 0.0):
        m = np.array([[1, 0, shift[0]], [0, 1, shift[1]]], np.float64)
        x = cv2.warpAffine(x, m, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return cv2.GaussianBlur(x, (0, 0), 1.5).reshape(-1, 3).astype(np.float64)


def _is_gray(pixels: np.ndarray) -> bool:
    c = pixels[..., :3]
    return bool(np.array_equal(c[..., 0], c[..., 1]) and np.array_equal(c[..., 1], c[..., 2]))


def mix(a: np.ndarray, b: np.ndarray, *, shift=(0.0, 0.0)) -> tuple[float, int] | None:
    """``(mix, channel)``: the largest mix of B's channels (see the module docstring) and which
    channel (0 blue, 1 green, 2 red); None when it does not apply (a gray or one-channel side, other
    aspect ratios, a shift beyond :data:`MAX_SHIFT`). ``shift``: B's content relative to A, in A's pixels."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[2] < 3 or b.shape[2] < 3 or _is_gray(a) or _is_gray(b):
        return None
    ha, wa = a.shape[:2]
    hb, wb = b.shape[:2]
    if abs(ha / wa - hb / wb) > 0.01 * ha / wa or math.hypot(*shift) > MAX_SHIFT:
        return None
    k = SIDE / max(ha, wa)
    size = (max(8, round(wa * k)), max(8, round(ha * k)))
    full = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
    ka, kb = 255.0 / full.get(a.dtype, 255.0), 255.0 / full.get(b.dtype, 255.0)  # 8-bit levels
    sa = _small(a, size, ka)
    sb = _small(b, size, kb, (shift[0] * size[0] / wa, shift[1] * size[1] / ha))
    ones = np.ones((len(sa), 1))
    every = np.hstack([sa, ones])
    worst, which = 0.0, 0
    for c in range(3):
        y = sb[:, c]
        own = every[:, [c, 3]]
        r_own = y - own @ np.linalg.lstsq(own, y, rcond=None)[0]
        r_all = y - every @ np.linalg.lstsq(every, y, rcond=None)[0]
        v_own, v_all = float(r_own.var()), float(r_all.var())
        m = (v_own - v_all) / max(v_all, 0.25)
        if m > worst:
            worst, which = m, c
    return worst, which


def words(m: float, channel: int) -> str:
    return (f"colours changed: the {_NAMES[channel]} channel is a mix of the others ({m:.0f}x what is left; "
            f"a hue or saturation edit), not a gain per channel as a white balance makes")


__all__ = ["MIX_MAX", "mix", "words"]

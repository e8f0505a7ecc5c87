"""What a subsampled-chroma JPEG decoder does to saturated colour, done to the other side too.

A JPEG with subsampled chroma (4:2:0: one chroma sample per 2x2 luma samples) has its chroma
averaged by the encoder, interpolated back by the decoder, and the RGB it reconstructs clipped to
the sample range. Where a colour is saturated (a channel at or near 0 or full scale), the
interpolated chroma overshoots the range and the clip removes energy: the decoded side's luma
falls by a DN or two over a saturated area, at every quality (it is not quantisation, so the
codec noise floor does not cover it). The comparison's chroma band limit
(:func:`_chroma_blur` below, both sides at the working scale) cannot give that back:
the clip happened at full resolution, before any blur. So a side that was not decoded that way
(a lossless file, or a JPEG with full chroma) is passed through the same chroma averaging,
interpolation and clip at full resolution before its working image is made; both sides then
carry the clip loss, and only the quantisation and a real change remain.
"""
from __future__ import annotations

import cv2
import numpy as np


def decoded_like(pixels: np.ndarray, chroma_step: tuple[int, int]) -> np.ndarray:
    """``pixels`` (uint8 BGR/BGRA) as a decoder of ``chroma_step`` (x, y luma samples per chroma
    sample) reconstructs them without quantisation: chroma box-averaged over the step,
    interpolated back linearly (libjpeg's triangular 'fancy' upsampling), RGB clipped to 0-255.
    Float32 BGR.

    >>> x = np.zeros((4, 4, 3), np.uint8); x[:, :2] = (0, 0, 255); x[:, 2:] = (255, 0, 0)
    >>> y = decoded_like(x, (2, 2)); bool(y.max() <= 255 and y.min() >= 0)
    True
    """
    img = pixels[:, :, :3].astype(np.float32)
    h, w = img.shape[:2]
    sx, sy = chroma_step
    cw, ch = -(-w // sx), -(-h // sy)
    ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)
    for c in (1, 2):
        small = cv2.resize(ycc[:, :, c], (cw, ch), interpolation=cv2.INTER_AREA)
        ycc[:, :, c] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.clip(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR), 0.0, 255.0)


def subsampling_partner(codecs, scales, a_pixels: np.ndarray, b_pixels: np.ndarray) -> tuple[int, tuple[int, int]] | None:
    """Which side (0 = A, 1 = B) to pass through :func:`decoded_like`, and at which chroma step:
    the other side is an 8-bit colour JPEG with subsampled chroma, this one (same size, 8-bit
    colour) was not decoded that way. None when no side needs it."""
    if a_pixels.shape[:2] != b_pixels.shape[:2] or tuple(scales) != (1.0, 1.0):
        return None
    steps = [(1, 1) if t is None or t.chroma is None else tuple(t.chroma_step) for t in codecs]
    for i in (0, 1):
        other, mine = steps[1 - i], steps[i]
        px = (a_pixels, b_pixels)[i]
        if codecs[1 - i] is not None and max(other) > 1 and mine != other and px.dtype == np.uint8 \
                and px.ndim == 3 and px.shape[2] in (3, 4) and (a_pixels, b_pixels)[1 - i].ndim == 3:
            return i, other
    return None


CHROMA_SIGMA = 1.0  # chroma band limit, Gaussian sigma per chroma sample of a subsampled JPEG


def _chroma_limit(codecs, scales, factor: int) -> tuple[float, float]:
    """Gaussian sigma (x, y; working pixels) of the chroma band limit of the comparison: a JPEG
    side with subsampled chroma (4:2:0: one chroma sample per 2x2 luma samples) stores no chroma
    detail finer than its chroma grid, so both sides are compared without it (0: no limit)."""
    sx = sy = 0.0
    for tables, scale in zip(codecs, scales):
        if tables is None or tables.chroma is None:
            continue
        # the chroma grid, ``s`` of this side's full-resolution pixels, is ``s / (scale * factor)``
        # working pixels (``scale``: its full-resolution pixels per compared pixel, as for its noise)
        kx, ky = (CHROMA_SIGMA * s / (scale * factor) for s in tables.chroma_step)
        sx = max(sx, kx if tables.chroma_step[0] > 1 else 0.0)
        sy = max(sy, ky if tables.chroma_step[1] > 1 else 0.0)
    return (sx, sy) if max(sx, sy) >= 0.25 else (0.0, 0.0)


def _chroma_blur(img: np.ndarray, sigma: tuple[float, float]) -> np.ndarray:
    """``img`` (BGR, float32) with its chroma (YCrCb) blurred by ``sigma`` (x, y), luma kept."""
    ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)
    sx, sy = max(sigma[0], 0.1), max(sigma[1], 0.1)
    for c in (1, 2):
        ycc[:, :, c] = cv2.GaussianBlur(ycc[:, :, c], (0, 0), sigmaX=sx, sigmaY=sy)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2BGR)

"""Translation between two working images: phase correlation refined to sub-pixel precision.

Step 2 of :mod:`.align`'s analysis (see its docstring): ``shift = (dx, dy)`` is the displacement of
B's content relative to A, in A's pixels.
"""
from __future__ import annotations

import math

import cv2
import numpy as np


def _register(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Translation of b's content relative to a (working pixels) and the correlation peak.

    Phase correlation finds the peak (robust to large moves and to gain/offset); a few
    Gauss-Newton steps on lightly smoothed, mean/contrast-normalised images then refine it to
    sub-pixel precision (the phase-correlation centroid is biased towards whole pixels). A
    refinement that does not lower the residual, or wanders more than 2 px, is discarded.
    """
    win = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    # Copies: opencv-python 5.0.0's phaseCorrelate multiplies its inputs by the window in place.
    (dx, dy), response = cv2.phaseCorrelate(a.copy(), b.copy(), win)
    sa = _Smoothed(cv2.GaussianBlur(a, (0, 0), 1.0))  # a's side of every step, smoothed once
    rx, ry = _refine(sa, b, dx, dy)
    if math.hypot(rx - dx, ry - dy) < 2.0 and _cost(sa, b, rx, ry) <= _cost(sa, b, dx, dy):
        dx, dy = rx, ry
    return float(dx), float(dy), float(response)


class _Smoothed:
    """A's lightly smoothed image and, per inner window, its mean, std and normalised form
    (the same window recurs at every step and in both costs)."""

    def __init__(self, img: np.ndarray):
        self.img = img
        self._stats: dict = {}

    def stats(self, sl) -> tuple[float, float, np.ndarray]:
        key = (sl[0].start, sl[0].stop, sl[1].start, sl[1].stop)
        if key not in self._stats:
            x = self.img[sl]
            m, s = x.mean(), float(x.std())
            self._stats[key] = (m, s, (x - m) / max(s, 1e-6))  # _normalised(x), its mean and std taken once
        return self._stats[key]


def _shifted(b: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.array([[1, 0, dx], [0, 1, dy]], np.float64)
    return cv2.warpAffine(b, m, (b.shape[1], b.shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def _inner(shape, dx, dy, margin=4):
    h, w = shape
    mx, my = math.ceil(abs(dx)) + margin, math.ceil(abs(dy)) + margin
    if w - 2 * mx < 8 or h - 2 * my < 8:
        return None
    return slice(my, h - my), slice(mx, w - mx)


def _normalised(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / max(float(x.std()), 1e-6)


def _cost(a: _Smoothed, b, dx, dy) -> float:
    sl = _inner(a.img.shape, dx, dy)
    if sl is None:
        return math.inf
    e = a.stats(sl)[2] - _normalised(cv2.GaussianBlur(_shifted(b, dx, dy), (0, 0), 1.0)[sl])
    return float(np.mean(e * e))


def _refine(sa: _Smoothed, b, dx, dy, iterations: int = 8) -> tuple[float, float]:
    a = sa.img
    b = cv2.GaussianBlur(b, (0, 0), 1.0)
    ax = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3) / 8
    ay = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3) / 8
    for _ in range(iterations):
        sl = _inner(a.shape, dx, dy)
        if sl is None:
            break
        bw = _shifted(b, dx, dy)
        _, sa_, na = sa.stats(sl)  # na: A's window normalised, (a - mean) / std (cached per window)
        sb = float(bw[sl].std())
        if sa_ < 1e-6 or sb < 1e-6:
            break
        e = na - (bw[sl] - bw[sl].mean()) / sb
        bx = cv2.Sobel(bw, cv2.CV_32F, 1, 0, ksize=3)[sl] / (8 * sb)
        by = cv2.Sobel(bw, cv2.CV_32F, 0, 1, ksize=3)[sl] / (8 * sb)
        gx = (ax[sl] / sa_ + bx) / 2
        gy = (ay[sl] / sa_ + by) / 2
        gxy = np.sum(gx * gy)
        hess = np.array([[np.sum(gx * gx), gxy], [gxy, np.sum(gy * gy)]], np.float64)
        grad = np.array([np.sum(gx * e), np.sum(gy * e)], np.float64)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        dx, dy = dx + float(step[0]), dy + float(step[1])
        if math.hypot(*step) < 1e-3:
            break
    return dx, dy

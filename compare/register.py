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
    sub-pixel precision (the phase-correlation centroid is biased towards whole pixels, and
    towards a second peak within its window). The refinement minimises the residual's Huber
    loss, not its squares (cause 39): samples further than ``HUBER_K`` robust standard deviations
    from the fit count by their distance, not its square, so objects that moved on their own
    leave the field's shift where the rest of it is -- a least-squares fit settles between them
    (a mask with a third of its objects moved 3 px registered 0.9 px off, and the misregistered
    edges of everything else then set the noise). Where noise dominates, the fit is least
    squares'; on a noise-free picture (a label image, a mask) it is least absolute deviations',
    linearised the gradient-weighted median of the pixels' displacements. A refinement that
    does not lower that loss, or wanders more than ``REFINE_REACH`` px, is discarded.

    No move is a hypothesis of its own (cause 46). Where noise dominates the pictures (two raw
    widefield frames, noise 12.5 DN on a mean of 55), the whitened cross-power spectrum is mostly
    noise and its peak can land anywhere: a repeat registered 18 px off (peak 0.008), so every edge
    read as change. When the peak lies beyond the refinement's reach of zero, the residual at zero
    shift is measured with the same loss; if it is lower, the refinement starts from there instead
    and the lower loss wins. The residual decides, never the peak's height, so a field that did
    move keeps its shift (its loss at zero is the higher).
    """
    win = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    # Copies: opencv-python 5.0.0's phaseCorrelate multiplies its inputs by the window in place.
    (dx, dy), response = cv2.phaseCorrelate(a.copy(), b.copy(), win)
    sa = _Smoothed(cv2.GaussianBlur(a, (0, 0), 1.0))  # a's side of every step, smoothed once
    dx, dy, t = _refined(sa, b, dx, dy)
    if math.hypot(dx, dy) >= REFINE_REACH:
        dx, dy = _no_move_if_better(sa, b, dx, dy, t)
    return float(dx), float(dy), float(response)


REFINE_REACH = 2.0  # px: how far the sub-pixel refinement may move from where it started


def _no_move_if_better(sa: _Smoothed, b: np.ndarray, dx: float, dy: float, t: float) -> tuple[float, float]:
    """(dx, dy), or the refinement from zero shift where that leaves the lower loss (threshold ``t``)."""
    here = _cost(sa, b, dx, dy, t)
    if _cost(sa, b, 0.0, 0.0, t) < here:
        zx, zy, _ = _refined(sa, b, 0.0, 0.0)
        if _cost(sa, b, zx, zy, t) < here:
            return zx, zy
    return dx, dy


def _refined(sa: _Smoothed, b: np.ndarray, dx: float, dy: float) -> tuple[float, float, float]:
    """The refinement from (dx, dy) where it lowers the loss and stays within ``REFINE_REACH``,
    else (dx, dy); with the loss's threshold ``t`` the refinement ended on."""
    rx, ry, t = _refine(sa, b, dx, dy)
    if math.hypot(rx - dx, ry - dy) < REFINE_REACH and _cost(sa, b, rx, ry, t) <= _cost(sa, b, dx, dy, t):
        return rx, ry, t
    return dx, dy, t


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


def _huber(e: np.ndarray, t: float) -> float:
    """Mean Huber loss of ``e`` at threshold ``t``: e^2/2 within it, t (|e| - t/2) beyond."""
    a = np.abs(e)
    return float(np.mean(np.where(a <= t, 0.5 * a * a, t * (a - 0.5 * t))))


def _cost(a: _Smoothed, b, dx, dy, t: float) -> float:
    """The refinement's objective at (dx, dy): the normalised residual's mean Huber loss."""
    sl = _inner(a.img.shape, dx, dy)
    if sl is None:
        return math.inf
    return _huber(a.stats(sl)[2] - _normalised(cv2.GaussianBlur(_shifted(b, dx, dy), (0, 0), 1.0)[sl]), t)


HUBER_K = 1.345    # Huber's threshold in robust standard deviations of the residual (95 % of least
#                    squares' efficiency under Gaussian noise)
SCALE_FLOOR = 1e-3  # normalised units: the residual's scale never below it (a noise-free label image
#                     has none: there the fit is the least absolute deviations')
SCALE_SAMPLES = 20000  # samples of the residual its scale (a median) is taken from


def _scale(e: np.ndarray) -> float:
    """The residual's robust standard deviation, 1.4826 x its median absolute value (on a
    subsample), floored at ``SCALE_FLOOR``."""
    step = max(1, int(math.sqrt(e.size / SCALE_SAMPLES)))
    return max(1.4826 * float(np.median(np.abs(e[::step, ::step]))), SCALE_FLOOR)


def _refine(sa: _Smoothed, b, dx, dy, iterations: int = 16) -> tuple[float, float, float]:
    """Gauss-Newton on the Huber loss of the residual (iteratively reweighted least squares: a
    sample beyond ``HUBER_K`` robust standard deviations weighs ``t / |e|``). Returns the
    displacement and the final threshold ``t``."""
    a = sa.img
    b = cv2.GaussianBlur(b, (0, 0), 1.0)
    ax = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3) / 8
    ay = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3) / 8
    t = SCALE_FLOOR * HUBER_K
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
        t = HUBER_K * _scale(e)
        wt = np.abs(e)
        np.maximum(wt, np.float32(t), out=wt)
        np.divide(np.float32(t), wt, out=wt)  # 1 within t, t / |e| beyond
        wgx, wgy = wt * gx, wt * gy
        gxy = np.sum(wgx * gy)
        hess = np.array([[np.sum(wgx * gx), gxy], [gxy, np.sum(wgy * gy)]], np.float64)
        grad = np.array([np.sum(wgx * e), np.sum(wgy * e)], np.float64)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        dx, dy = dx + float(step[0]), dy + float(step[1])
        if math.hypot(*step) < 1e-3:
            break
    return dx, dy, t

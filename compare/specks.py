"""Small changes judged at full resolution: a speck of dust, a dead pixel cluster, a tiny particle.

The analysis finds changes at its working scale (:mod:`compare.align`), where a picture of 5 MP or
more is reduced by 4 to 7 in each direction; there a 5x5 speck is one to four working pixels, below
the small-strong rule's ``STRONG_PX`` working pixels (a rule that keeps a resized copy's resampling
artefacts out of the regions). The same rule holds at the native scale: :func:`confirmed` reads
each small region the working scale found beyond its seed level at full resolution, and keeps it
when ``STRONG_PX`` full-resolution pixels there are beyond their tolerance at a mean of
``Z_STRONG`` -- the working scale's own rule, with one full-resolution pixel for one working pixel.

At full resolution, per channel, around each candidate (a window at least ``WINDOW`` pixels a side):

* both sides are cut at the registered shift and resampled half-way onto a common grid, blurred
  alike by a rescaled pair's band limit (:func:`compare.focus.cut_half_way`, as the fine-detail
  tiles are);
* B is put on A's levels by a robust gain and offset fitted in the window (shading, exposure and
  a display mapping are a gain there; a speck is a few dozen of its thousands of pixels);
* the residual's tolerance is the window's own noise (1.4826 x MAD of the residual: sensor,
  demosaicing and codec noise as this window has them, never below the rounding's floor) and the
  misregistration slack at A's edges, ``sqrt(sigma^2 + (slack |grad A|)^2)``; across clipping
  only what the clipping cannot explain counts (:func:`compare.noise_floor._interval_residual`).

Unsmoothed: a hot or flickering pixel, a cosmic-ray hit or a demosaiced noise grain is one to four
pixels, never the ``STRONG_PX`` connected pixels a real object of a few pixels a side is.

A candidate that is no speck may be an object that moved by a pixel or two -- a working pixel or
less, under the edge slack's reach there: the same window is asked whether an object in it moved
against the registered field at full resolution (:func:`_moved`, the working scale's motion test in
the picture's pixels; session 16).
"""
from __future__ import annotations

import cv2
import numpy as np

from .changes import STRONG_PX, Z_HIGH, Z_LOW, Z_STRONG, Region, _classify, _peak
from .focus import cut_half_way
from .motion import moved_objects
from .noise_floor import _fit, _gauss_noise_gain, _interval_residual, _robust_sigma

WINDOW = 64           # full-resolution pixels: the smallest window a candidate is judged in
MAX_CANDIDATES = 16   # small working regions read at full resolution, the strongest first
SMOOTH = 1.5          # full-resolution pixels: the motion test's smoothing (the working scale's, in its pixels)


def confirmed(a_pixels: np.ndarray, b_pixels: np.ndarray, candidates, *, shift: tuple[float, float],
              lsb: tuple[float, float], clip_a, clip_b, floor: float, edge_slack: float,
              band_limit: float = 0.0, codec=None, moved: list | None = None) -> list[Region]:
    """The ``candidates`` (``(peak, x, y, width, height)`` boxes in A's full-resolution pixels, from
    :func:`compare.changes._regions`) that are changes at full resolution, as regions of A.

    ``shift`` is B's content relative to A in full-resolution pixels; ``lsb`` each side's stored
    step on the 8-bit scale; ``clip_a``/``clip_b`` each side's clip levels on that scale
    (:func:`compare.noise_floor.clip_levels`, B's before any range map); ``floor`` the smallest
    noise (8-bit DN); ``edge_slack`` the misregistration tolerated at edges (full-resolution
    pixels); ``band_limit`` the Gaussian both sides are blurred by (a rescaled pair); ``codec``
    a lossy side's quantisation noise per pixel by channel name (``"Y"``, ``"B"``, ``"G"``,
    ``"R"``; :func:`compare.noise_floor._codec_sigma`), a floor under the window's own noise.

    ``moved`` collects, for a candidate that is no strong blob, the objects of its window that
    moved against the registered field at full resolution (:func:`_moved`), as ``(count, largest
    displacement in pixels)``: a cell that crawled by 2 px is a working pixel or less on a reduced
    picture, under the working scale's ``OBJECT_PX`` and its edge slack. Not on a rescaled pair
    (``band_limit``): its aliasing is a pattern a displacement fit reads as motion."""
    h, w = a_pixels.shape[:2]
    ix, iy = round(shift[0]), round(shift[1])
    a_pixels, b_pixels = (x[:, :, :3] if x.ndim == 3 else x for x in (a_pixels, b_pixels))  # alpha: not light
    gray = (a_pixels.ndim == 2) != (b_pixels.ndim == 2)
    found: list[Region] = []
    taken: list[tuple[int, int, int, int]] = []
    for _, bx, by, bw, bh in sorted(candidates, reverse=True)[:MAX_CANDIDATES]:
        if any(tx <= bx < tx + tw and ty <= by < ty + th for tx, ty, tw, th in taken):
            continue  # inside a region already confirmed
        pad_x, pad_y = max(8, (WINDOW - bw) // 2), max(8, (WINDOW - bh) // 2)
        x0, y0 = max(0, bx - pad_x, -ix), max(0, by - pad_y, -iy)
        x1, y1 = min(w, bx + bw + pad_x, w - ix), min(h, by + bh + pad_y, h - iy)
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        ca, cb = cut_half_way(a_pixels, b_pixels, (x0, y0, x1 - x0, y1 - y0), shift, band_limit)
        ca, cb = (x * np.float32(s) if s != 1.0 else x for x, s in zip((ca, cb), lsb))  # the 8-bit scale
        if gray:
            ca, cb = (cv2.cvtColor(x, cv2.COLOR_BGR2GRAY) if x.ndim == 3 else x for x in (ca, cb))
        z = np.zeros(ca.shape[:2], np.float32)
        chans = [(ca, cb)] if ca.ndim == 2 else list(zip(cv2.split(ca), cv2.split(cb)))
        for (pa, pb), cname in zip(chans, "Y" if ca.ndim == 2 else "BGR"):
            # each side at least its rounding's noise: a window whose variance is no more than that
            # (a flat dark patch, levels 0-2) carries no gain, only an offset
            g, o = _fit(pa.ravel(), pb.ravel(), na=floor * floor / 2, nb=floor * floor / 2, floor=10 * floor)
            bn = (pb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
            r = _interval_residual(pa, pb, bn, clip_a, clip_b)
            sigma = max(_robust_sigma(r.ravel()), floor, codec(cname) if codec is not None else 0.0)
            gx = cv2.Sobel(pa, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
            gy = cv2.Sobel(pa, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
            tol = np.sqrt(sigma * sigma + (edge_slack * edge_slack) * (gx * gx + gy * gy))
            np.maximum(z, np.abs(r) / tol, out=z)
        region = _strong_blob(z, (bx - x0, by - y0, bw, bh))
        la, lb = (cv2.cvtColor(x_, cv2.COLOR_BGR2GRAY) if x_.ndim == 3 else x_ for x_ in (ca, cb))
        if region is None:
            if moved is not None and band_limit == 0.0:
                slack = max(edge_slack, float(np.hypot(*shift)))
                n, px = _moved(la, lb, floor=max(floor, codec("Y") if codec is not None else 0.0), slack=slack)
                if n:
                    moved.append((n, px))
                    taken.append((bx, by, bw, bh))
            continue
        x, y, rw, rh, area, strength, label_map, label = region
        kind, inten = _classify(la, lb, label_map, label, (x, y, rw, rh))
        found.append(Region(x=x + x0, y=y + y0, width=rw, height=rh, area=area, strength=strength,
                            kind=kind, intensity=inten))
        taken.append((x + x0, y + y0, rw, rh))
    return found


def _moved(la: np.ndarray, lb: np.ndarray, *, floor: float, slack: float) -> tuple[int, float]:
    """Objects of a full-resolution window (luma of A and B cut half-way, registered) that moved
    against the field, and the largest displacement (pixels): :func:`compare.motion.moved_objects`
    at this scale -- its windows, ``OBJECT_PX`` and ``Z_OBJECT`` in full-resolution pixels, A's
    level and gradient smoothed by ``SMOOTH`` -- against the registered field (no displacement:
    a window around one object holds too few textured windows to pin the field's own). B is put on
    A's levels by a robust gain and offset; the noise is the window's smoothed residual's (robust,
    never below ``floor``), as white noise of that power at the smoothing's scale."""
    g, o = _fit(la.ravel(), lb.ravel(), floor=10 * floor)
    resid = (lb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0) - la
    sa = cv2.GaussianBlur(la, (0, 0), SMOOTH)
    gain = _gauss_noise_gain(SMOOTH)
    s_sigma = max(_robust_sigma(cv2.GaussianBlur(resid, (0, 0), SMOOTH).ravel()), floor * gain)
    gx = cv2.Sobel(sa, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(sa, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    return moved_objects(resid, sa, gx, gy, np.ones(la.shape, bool), noise_var=(s_sigma / gain) ** 2,
                         slack=slack, field=(0.0, 0.0))


def _strong_blob(z: np.ndarray, box: tuple[int, int, int, int]):
    """The strongest hysteresis region of ``z`` (seeded beyond ``Z_HIGH``, grown beyond ``Z_LOW``)
    that meets the small-strong rule (``STRONG_PX`` pixels at a mean of ``Z_STRONG``) and touches
    ``box``; None when there is none."""
    low = (z > Z_LOW).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(low, connectivity=8)
    if n <= 1:
        return None
    sums = np.bincount(labels.ravel(), weights=z.ravel(), minlength=n)
    bx, by, bw, bh = box
    best = None
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        strength = float(sums[i] / area)
        if area < STRONG_PX or strength < Z_STRONG:
            continue
        if x + w <= bx or bx + bw <= x or y + h <= by or by + bh <= y:
            continue
        if _peak(z, labels, i, (x, y, w, h)) <= Z_HIGH:
            continue
        if best is None or strength * area > best[5] * best[4]:
            best = (x, y, w, h, area, strength, labels, i)
    return best

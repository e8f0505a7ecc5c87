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
* B is put on A's levels by a robust gain and offset fitted on a ring around the candidate
  (shading, exposure and a display mapping are a gain there; for a candidate seeded by its light,
  on both sides smoothed by 2 px, where a blur changes no level, and only where the ring carries a
  gain); for the light test, A is first put through B's tone curve, the frame's
  (:func:`compare.levels.tone_curve`, cause 43: a ring's gain is the tone's slope at the ring's
  level, not at the object's);
* the residual's tolerance is the window's own noise (1.4826 x MAD of the residual: sensor,
  demosaicing and codec noise as this window has them, never below the rounding's floor) and the
  misregistration slack at A's edges, ``sqrt(sigma^2 + (slack |grad A|)^2)``; across clipping
  only what the clipping cannot explain counts (:func:`compare.clipping._interval_residual`).

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

from .changes import (
    SAME_STRUCTURE,
    STRONG_PX,
    Z_HIGH,
    Z_LOW,
    Z_STRONG,
    Region,
    _classify,
    _intensity_kind,
    _peak,
    overlaps,
    structure_slope,
)
from .clipping import _interval_residual
from .focus import cut_half_way
from .levels import Tone
from .motion import moved_objects
from .noise_floor import _gauss_noise_gain, _robust_sigma, second_difference_sigma, second_differences
from .photometric import LUMA_BGR, _fit

WINDOW = 64           # full-resolution pixels: the smallest window a candidate is judged in
MAX_CANDIDATES = 16   # small working regions read at full resolution, the strongest first
LIGHT_MIN = 0.10     # the smallest share of an object's light gained or lost that the light test calls a change:
                     # less is what illumination does between acquisitions (a scanned laser's power, a lamp's flicker)
FLUX_BLURS = (1.0, 2.0)  # full-resolution pixels: the blurs whose residuals (A blurred less A) the light test fits
FLUX_PAD = 2         # full-resolution pixels a candidate's box is grown by, besides the slack, for the sum of its light
FLUX_FEW = STRONG_PX - 1  # ... leaving out this many of the samples its fit explains worst (a hot pixel, a cosmic ray, a speck under STRONG_PX)
RING_SMOOTH = 2.0    # full-resolution pixels: a light seed's ring levels are fitted on both sides smoothed by this much
RING_GAP = 2         # full-resolution pixels between a candidate's box and the ring its window's levels are fitted on
SMOOTH = 1.5          # full-resolution pixels: the motion test's smoothing (the working scale's, in its pixels)


def confirmed(a_pixels: np.ndarray, b_pixels: np.ndarray, candidates, *, shift: tuple[float, float],
              lsb: tuple[float, float], clip_a, clip_b, floor: float, edge_slack: float,
              band_limit: float = 0.0, codec=None, moved: list | None = None,
              pointwise: bool = True, gains: tuple[float, ...] | None = None, light: bool = True,
              known: tuple[tuple[int, int, int, int], ...] = (), by_light: bool = False,
              tone: Tone | None = None) -> list[Region]:
    """The ``candidates`` (``(peak, x, y, width, height)`` boxes in A's full-resolution pixels, from
    :func:`compare.changes._regions`) that are changes at full resolution, as regions of A.

    ``shift`` is B's content relative to A in full-resolution pixels; ``lsb`` each side's stored
    step on the 8-bit scale; ``clip_a``/``clip_b`` each side's clip levels on that scale
    (:func:`compare.clipping.clip_levels`, B's before any range map); ``floor`` the smallest
    noise (8-bit DN); ``edge_slack`` the misregistration tolerated at edges (full-resolution
    pixels); ``band_limit`` the Gaussian both sides are blurred by (a rescaled pair); ``codec``
    a lossy side's quantisation noise per pixel by channel name (``"Y"``, ``"B"``, ``"G"``,
    ``"R"``; :func:`compare.noise_floor._codec_sigma`), a floor under the window's own noise.

    ``gains`` (per channel, B's on A's, as the frame's fit found them) put B on A's levels where the
    ring around a candidate, on which the window's levels are fitted (:func:`_residual`), holds no
    structure to fit a gain on (dark sky around a star).

    ``moved`` collects, for a candidate that is no strong blob, the objects of its window that
    moved against the registered field at full resolution (:func:`_moved`), as ``(count, largest
    displacement in pixels, [(x, y, width, height, displacement)] in A's pixels)``: a cell that crawled by 2 px is a working pixel or less on a reduced
    picture, under the working scale's ``OBJECT_PX`` and its edge slack. Not on a rescaled pair
    (``band_limit``): its aliasing is a pattern a displacement fit reads as motion.

    A candidate that is neither is asked whether its light changed (:func:`_flux_z`, cause 41): a
    small bright object dimmed by bleaching is all edge at this scale, its change everywhere within
    the misregistration's slack, but a displacement or a blur only moves light about, while a
    dimming takes it away. With ``pointwise`` False (the working scale is the full resolution, and
    has judged the candidate's pixels already) only that question is asked; with ``light`` False
    (frames of one video stream, whose codec re-codes a block's light by up to tens of levels) it
    is not. ``known`` are the boxes (x, y, width, height) of changes found already: a candidate
    inside one, or whose light would be summed over part of one, is not read. ``by_light``: the
    candidates were seeded by their light (:func:`compare.changes.light_seeds`), and a window's
    levels are fitted on its ring smoothed, or the candidate is not read (:func:`_residual`). ``tone``:
    B's tone curve (:func:`compare.levels.tone_curve`, on the 8-bit scale), which the light test
    puts A through (cause 43)."""
    h, w = a_pixels.shape[:2]
    ix, iy = round(shift[0]), round(shift[1])
    a_pixels, b_pixels = (x[:, :, :3] if x.ndim == 3 else x for x in (a_pixels, b_pixels))  # alpha: not light
    gray = (a_pixels.ndim == 2) != (b_pixels.ndim == 2)
    found: list[Region] = []
    taken: list[tuple[int, int, int, int]] = list(known)
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
        # the levels are fitted around the candidate, not on it: in a window of dark sky a star is
        # most of the variance, and a fit on it takes its dimming for the window's gain (cause 41)
        ring = np.ones(ca.shape[:2], bool)
        ring[max(0, by - y0 - RING_GAP):by - y0 + bh + RING_GAP, max(0, bx - x0 - RING_GAP):bx - x0 + bw + RING_GAP] = False
        box = (bx - x0, by - y0, bw, bh)
        names = "Y" if ca.ndim == 2 else "BGR"
        if pointwise:
            for k, ((pa, pb), cname) in enumerate(zip(chans, names)):
                res = _residual(pa, pb, ring, floor=floor, clip_a=clip_a, clip_b=clip_b,
                                gain=gains[k] if gains is not None and len(gains) == len(chans) else None,
                                codec=codec(cname) if codec is not None else 0.0)
                assert res is not None  # levels are fitted as they are (no levels=True)
                r, sigma, gx, gy = res
                tol = np.sqrt(sigma * sigma + (edge_slack * edge_slack) * (gx * gx + gy * gy))
                np.maximum(z, np.abs(r) / tol, out=z)
        la, lb = (cv2.cvtColor(x_, cv2.COLOR_BGR2GRAY) if x_.ndim == 3 else x_ for x_ in (ca, cb))
        flux = (0.0, 0.0, (0, 0, 0, 0, 0))
        lt = la
        if light:  # judged once, on luma: a chroma subsampling moves light between channels, not away
            clip_t = clip_a
            if tone is not None:  # A through B's tone (cause 43), its clip levels with it
                lt = la + tone(la).astype(np.float32)
                clip_t = tuple(c + float(tone(c)) for c in clip_a)
            luma_gain = None if gains is None or len(gains) != len(chans) else \
                (gains[0] if len(gains) == 1 else float(np.dot(LUMA_BGR, gains)))
            res = _residual(lt, lb, ring, floor=floor, clip_a=clip_t, clip_b=clip_b, gain=luma_gain,
                            codec=codec("Y") if codec is not None else 0.0, levels=by_light)
            if res is None:
                continue  # no gain known for this window: its light cannot be judged
            r, sigma, gx, gy = res
            flux = _flux_z(r, lt, gx, gy, sigma, box, edge_slack)
        region = _strong_blob(z, box) if pointwise else None
        fz, share, (fx, fy, fw, fh, pixels) = flux
        kind = _intensity_kind(share)[0]
        # its light changed: the sum and the fitted share agree, the share is a dimming or a
        # brightening (beyond it the object is gone or new: the pixel test's) of LIGHT_MIN or more,
        # and B holds A's structure (an object dimmed in place, not one that moved off or was replaced)
        if region is None and abs(fz) >= Z_STRONG and fz * share > 0 and kind != "changed" \
                and abs(share) >= LIGHT_MIN and _holds_structure(lt[fy:fy + fh, fx:fx + fw], lb[fy:fy + fh, fx:fx + fw]):
            if any(overlaps((fx + x0, fy + y0, fw, fh), t) for t in taken):
                continue  # a part of an object already found (a large one seeds several candidates)
            found.append(Region(x=fx + x0, y=fy + y0, width=fw, height=fh, area=max(pixels, 1), strength=abs(fz),
                                kind=kind, intensity=share))
            taken.append((fx + x0, fy + y0, fw, fh))
            continue
        if region is None:
            if moved is not None and band_limit == 0.0:
                slack = max(edge_slack, float(np.hypot(*shift)))
                boxes: list = []
                n, px = _moved(la, lb, floor=max(floor, codec("Y") if codec is not None else 0.0), slack=slack,
                               boxes=boxes)
                if n:  # where, in A's pixels: the window's boxes from its corner
                    moved.append((n, px, [(x0 + x, y0 + y, bw_, bh_, p) for x, y, bw_, bh_, p in boxes]))
                    taken.append((bx, by, bw, bh))
            continue
        x, y, rw, rh, area, strength, label_map, label = region
        kind, inten = _classify(la, lb, label_map, label, (x, y, rw, rh))
        found.append(Region(x=x + x0, y=y + y0, width=rw, height=rh, area=area, strength=strength,
                            kind=kind, intensity=inten))
        taken.append((x + x0, y + y0, rw, rh))
    return found


def _flux_z(r: np.ndarray, a: np.ndarray, gx: np.ndarray, gy: np.ndarray, sigma: float, box: tuple[int, int, int, int],
            slack: float) -> tuple[float, float, tuple[int, int, int, int, int]]:
    """Whether the light of the object in a candidate's ``box`` (x, y, width, height in the window:
    ``r`` B's residual against A, ``a`` A, ``gx``/``gy`` its gradient; ``sigma`` the residual's noise
    per pixel) changed, in units of the noise of its sum: the residual over the box grown by
    ``slack`` + ``FLUX_PAD`` pixels (the object's light and all that a displacement by up to
    ``slack`` or a blur moves about), less the local offset (its median on a ``FLUX_PAD`` ring
    around that), less what a displacement and blurs fitted there carry, summed. The sum's noise is
    ``sigma`` times the root of its pixels times the residual's correlation gain measured outside
    (:func:`_sum_gain`: demosaicing, a codec's blocks).

    A displacement or a blur only moves light about: their residuals are A's gradient and A blurred
    (by ``FLUX_BLURS``) less A, which integrate to what crosses the border -- the fit (least squares
    on the grown box, with the object's light as a last term) takes that away. A dimming or a
    brightening takes light away or adds it. The ``FLUX_FEW`` samples the fit explains worst are
    left out: a hot pixel, a cosmic-ray hit or a speck carries light too, but in fewer pixels than
    the ``STRONG_PX`` the pixel test asks of an object.

    Returns (z, the share, (x, y, width, height of the grown box, the object's pixels)): the share
    of its light the object gained or lost is the coefficient of that light (A above the ring's
    median, inside the box) in a fit of it and a displacement alone (the blurs' residuals share part
    of the object's shape and would take some of a dimming). With no object ``Z_HIGH`` noises above
    the ring's median in the box, or a box too small to judge: (0, 0, ...).

    >>> yy, xx = np.mgrid[0:40, 0:40].astype(np.float32)
    >>> star = 10 + 100 * np.exp(-((xx - 20) ** 2 + (yy - 20) ** 2) / 8).astype(np.float32)
    >>> g = [cv2.Sobel(star, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8), cv2.Sobel(star, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)]
    >>> rng = np.random.default_rng(0); noise = rng.normal(0, 0.5, star.shape).astype(np.float32)
    >>> z, f, _ = _flux_z(-0.15 * (star - 10) + noise, star, *g, 0.5, (14, 14, 13, 13), 1.0)  # dimmed 15 %
    >>> round(f, 2), z < -7
    (-0.15, True)
    >>> moved = 10 + 100 * np.exp(-((xx - 20.7) ** 2 + (yy - 20) ** 2) / 8).astype(np.float32)
    >>> z, f, _ = _flux_z(moved - star + noise, star, *g, 0.5, (14, 14, 13, 13), 1.0)  # moved 0.7 px
    >>> abs(z) < 7
    True
    """
    h, w = r.shape
    m = int(np.ceil(slack)) + FLUX_PAD
    bx, by, bw, bh = box
    x0, y0, x1, y1 = max(0, bx - m), max(0, by - m), min(w, bx + bw + m), min(h, by + bh + m)
    none = (0.0, 0.0, (x0, y0, x1 - x0, y1 - y0, 0))
    ox0, oy0, ox1, oy1 = max(0, x0 - FLUX_PAD), max(0, y0 - FLUX_PAD), min(w, x1 + FLUX_PAD), min(h, y1 + FLUX_PAD)
    ring = np.ones((oy1 - oy0, ox1 - ox0), bool)
    ring[y0 - oy0:y1 - oy0, x0 - ox0:x1 - ox0] = False
    if np.count_nonzero(ring) < 16 or (x1 - x0) * (y1 - y0) < 16:
        return none
    inside = np.zeros((y1 - y0, x1 - x0), bool)
    inside[max(0, by - y0):by - y0 + bh, max(0, bx - x0):bx - x0 + bw] = True
    light = np.where(inside, a[y0:y1, x0:x1].astype(np.float64) - float(np.median(a[oy0:oy1, ox0:ox1][ring])), 0.0)
    if float(np.abs(light).max()) < Z_HIGH * sigma:
        return none  # no object above the surround's noise: no light of its own to lose
    rw = r[y0:y1, x0:x1].astype(np.float64) - float(np.median(r[oy0:oy1, ox0:ox1][ring]))
    af = a.astype(np.float32, copy=False)
    blurs = [(cv2.GaussianBlur(af, (0, 0), s) - af)[y0:y1, x0:x1].astype(np.float64) for s in FLUX_BLURS]
    moves = np.stack([gx[y0:y1, x0:x1].astype(np.float64), gy[y0:y1, x0:x1].astype(np.float64)] + blurs,
                     axis=-1).reshape(-1, 2 + len(blurs))
    x = np.concatenate([moves, light.reshape(-1, 1)], axis=1)
    y = rw.ravel()
    coef, keep = _robust_lstsq(x, y)
    if coef is None:
        return none
    moved_about = (y - moves @ coef[:-1])[keep]  # the residual without what the displacement and blur carry
    kept = float(moved_about.sum())
    outside = np.ones(r.shape, bool)
    outside[oy0:oy1, ox0:ox1] = False
    noise = sigma * _sum_gain(r, outside, sigma) * float(np.sqrt(y.size))
    z = kept / noise if noise > 0 else 0.0
    dim, _ = _robust_lstsq(np.concatenate([moves[:, :2], light.reshape(-1, 1)], axis=1), y)
    pixels = int(np.count_nonzero(light > max(sigma, 0.1 * float(light.max()))))
    return z, 0.0 if dim is None else float(dim[-1]), (x0, y0, x1 - x0, y1 - y0, pixels)


def _residual(pa: np.ndarray, pb: np.ndarray, ring: np.ndarray, *, floor: float, clip_a, clip_b,
              gain: float | None, codec: float,
              levels: bool = False) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """One channel of a window: B's residual against A with B put on A's levels by a gain and
    offset fitted on ``ring`` (around the candidate, not on it: in a window of dark sky a star is
    most of the variance, and a fit on it takes its dimming for the window's gain, cause 41), its
    noise (robust, at least ``floor`` and ``codec``) and A's gradient. Each side at least its
    rounding's noise: a ring whose variance is no more than that (a flat dark patch, levels 0-2)
    carries no gain -- ``gain``, the frame's, with the ring's offset (or an offset alone).

    With ``levels`` (a candidate seeded by its light, cause 42) the ring's levels are fitted on both
    sides smoothed by ``RING_SMOOTH``: a gain is a matter of levels, not of fine detail, and a blur
    takes the fine detail's contrast -- fitted on it, the gain took a blur of 0.5 px for exposure
    and the object inside read brightened by 15-18 %. And the ring must carry that gain: each
    side's variance there at least twice its own noise at that smoothing, else None (the window's
    gain is unknown: a ring of noise alone gave a noise-dominated frame's object "brightened by
    57 %", and the frame's gain in its stead misses how illumination differs across a field
    between acquisitions -- split 4's two-photon kidney read "brightened by 10-12 %")."""
    na = nb = floor * floor / 2
    if levels and RING_SMOOTH > 0:
        sa, sb = (cv2.GaussianBlur(x, (0, 0), RING_SMOOTH) for x in (pa, pb))
        ra, rb = sa[ring], sb[ring]
        # each side's own noise at that smoothing (second differences 4 smoothings apart, where it
        # no longer correlates)
        lag = round(4 * RING_SMOOTH)
        na, nb = (max(na, second_difference_sigma(second_differences(x, lag=lag)) ** 2) for x in (sa, sb))
        if ra.var() < 2 * na or rb.var() < 2 * nb:
            return None
        g, o = _fit(ra, rb, na=na, nb=nb, floor=10 * floor, weak=False)  # judged carried, once: a gain
    else:
        ra, rb = pa[ring], pb[ring]
        if gain is not None and (ra.var() < 2 * na or rb.var() < 2 * nb):
            g, o = gain, float(np.median(rb - np.float32(gain) * ra))
        else:
            g, o = _fit(ra, rb, na=na, nb=nb, floor=10 * floor)
    bn = (pb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
    r = _interval_residual(pa, pb, bn, clip_a, clip_b)
    sigma = max(_robust_sigma(r.ravel()), floor, codec)
    gx = cv2.Sobel(pa, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(pa, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    return r, sigma, gx, gy


def _holds_structure(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether B holds A's structure (:func:`compare.changes.structure_slope`'s correlation at least
    ``SAME_STRUCTURE``)."""
    fit = structure_slope(a, b)
    return fit is not None and fit[0] >= SAME_STRUCTURE


def _robust_lstsq(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Least squares of ``y`` on the columns of ``x``, fitted again without the ``FLUX_FEW`` samples
    the first fit explained worst: (coefficients, or None for a singular fit; the samples kept)."""
    keep = np.ones(y.size, bool)
    coef = None
    for _ in range(2):
        xtx = x[keep].T @ x[keep]
        if abs(np.linalg.det(xtx)) < 1e-12 * max(1.0, float(np.prod(np.diag(xtx)))):
            return None, keep
        coef = np.linalg.solve(xtx, x[keep].T @ y[keep])
        keep = np.ones(y.size, bool)
        keep[np.argsort(np.abs(y - x @ coef))[-FLUX_FEW:]] = False
    return coef, keep


def _sum_gain(r: np.ndarray, where: np.ndarray, sigma: float) -> float:
    """How much more a sum of ``r``'s samples varies than white noise of ``sigma`` would make it:
    the robust spread of its sums over 4x4 and 8x8 tiles lying in ``where``, over that of
    independent samples, the larger; never below 1 (a residual whose neighbours share their noise,
    as demosaicing and a codec's blocks make them, sums to more than its pixels' noise says).

    >>> rng = np.random.default_rng(1)
    >>> white = rng.normal(0, 1, (256, 256)).astype(np.float32)
    >>> round(_sum_gain(white, np.ones((256, 256), bool), 1.0), 1)
    1.0
    >>> smooth = cv2.GaussianBlur(white, (0, 0), 1.0)
    >>> s = float(np.std(smooth)); round(_sum_gain(smooth, np.ones((256, 256), bool), s), 1)
    2.9
    """
    if sigma <= 0:
        return 1.0
    gain = 1.0
    h, w = r.shape
    for t in (4, 8):
        ny, nx = h // t, w // t
        if ny * nx < 8:
            continue
        tiles = r[:ny * t, :nx * t].reshape(ny, t, nx, t).sum(axis=(1, 3), dtype=np.float64)
        inside = where[:ny * t, :nx * t].reshape(ny, t, nx, t).all(axis=(1, 3))
        if np.count_nonzero(inside) < 8:
            continue
        gain = max(gain, _robust_sigma(tiles[inside].ravel()) / (sigma * t))
    return float(gain)


def _moved(la: np.ndarray, lb: np.ndarray, *, floor: float, slack: float,
           boxes: list | None = None) -> tuple[int, float]:
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
                         slack=slack, field=(0.0, 0.0), boxes=boxes)


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

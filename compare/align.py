"""Noise-aware sameness: registration, photometric normalisation and local-change regions.

Two shots of one field from a cheap USB microscope differ by sensor noise, exposure and white
balance drift, a sub-pixel to few-pixel shift and MJPG. Raw SSIM cannot tell that apart from a real
change, so :func:`analyse` works at a *working scale* where noise does not dominate:

1. **Working scale.** Both images are area-averaged by an integer factor ``f`` so that the long side
   is at most ``WORK_SIDE`` pixels (noise falls by ``f``; a 0.5 % region stays dozens of pixels).
2. **Registration.** Phase correlation (Hanning window) gives the translation, refined to sub-pixel
   precision by Gauss-Newton steps on normalised images (``cv2.findTransformECC`` was tried and
   converged to wrong shifts on low-texture fields). ``shift = (dx, dy)`` is the
   displacement of B's content relative to A, in A's pixels.
3. **Photometric drift.** Over the overlap, per channel, ``B = gain * A + offset`` is fitted by
   orthogonal regression (both shots are noisy, ordinary least squares would under-estimate the
   gain) with one robust re-fit (residuals beyond 3 sigma and clipped pixels left out). The luma
   gain minus one is the ``exposure_change``; channel gains relative to it are the white balance.
4. **Noise floor.** The residual ``B_normalised - A`` is smoothed (Gaussian, ``SMOOTH_SIGMA``) and its
   noise estimated robustly (1.4826 x MAD) from the images themselves. A device profile
   (``scopecheck calibrate``) sets a floor under that estimate: the tolerance uses the larger of
   the profile's noise and the pair's own, so a stale profile can never make noise look like a change. A pixel's tolerance adds the error a small
   misregistration makes at edges: ``tol = sqrt(sigma^2 + (EDGE_SLACK * |grad A|)^2)``.
   A clipped sample (at or below ``CLIP_LOW``, at or above ``CLIP_HIGH``) only bounds its true
   value, so across clipping the residual is the gap between the two bounds: saturation from an
   exposure drift is no change, a bright bubble on a black background is.
5. **Regions.** Pixels whose residual exceeds ``Z_HIGH`` tolerances seed regions that grow through
   pixels above ``Z_LOW``; connected regions are reported as boxes in A's pixels with their area
   and strength (mean residual in tolerances).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .similarity import ssim

WORK_SIDE = 640          # long side of the working image, pixels
SMOOTH_SIGMA = 1.5       # Gaussian sigma of the residual smoothing, working pixels
EDGE_SLACK = 0.2         # working pixels of misregistration tolerated at edges
Z_HIGH = 6.0             # seed threshold, in tolerances
Z_LOW = 3.5              # growth threshold, in tolerances
CLIP_LOW, CLIP_HIGH = 4.0, 250.0   # 8-bit-scale values treated as clipped


@dataclass(frozen=True)
class Region:
    x: int
    y: int
    width: int
    height: int
    area: int          # changed pixels, in A's pixels
    strength: float    # mean |residual| in tolerances

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height,
                "area": self.area, "strength": round(self.strength, 2)}


@dataclass(frozen=True, eq=False)
class Analysis:
    scale: int                         # A pixels per working pixel
    shift: tuple[float, float]         # (dx, dy) of B's content relative to A, A pixels
    shift_response: float              # phase-correlation peak (0..1)
    gain: float                        # luma gain B / A
    offset: float                      # luma offset, 8-bit scale
    channel_gains: tuple[float, ...]   # per channel (B, G, R) or (Y,)
    noise_sigma: float                 # temporal noise of one frame, full resolution, 8-bit DN (mean of channels)
    noise_source: str                  # "images" or "profile"
    correlation: float                 # Pearson correlation of the aligned, smoothed luma
    ssim_aligned: float                # SSIM of aligned, normalised, smoothed luma over the overlap
    overlap: float                     # fraction of A covered by B after alignment
    changed_fraction: float            # fraction of the overlap inside regions
    regions: tuple[Region, ...]

    @property
    def exposure_change(self) -> float:
        return self.gain - 1.0

    def to_json(self) -> dict:
        return {
            "shift": {"dx": round(self.shift[0], 3), "dy": round(self.shift[1], 3)},
            "shift_response": round(self.shift_response, 4),
            "exposure_change": {"gain": round(self.gain, 4), "offset": round(self.offset, 3),
                                "percent": round(100 * self.exposure_change, 2),
                                "channel_gains": [round(g, 4) for g in self.channel_gains]},
            "noise_sigma": round(self.noise_sigma, 3),
            "noise_source": self.noise_source,
            "working_scale": self.scale,
            "correlation_aligned": round(self.correlation, 5),
            "ssim_aligned": round(self.ssim_aligned, 5),
            "overlap": round(self.overlap, 4),
            "changed_fraction": round(self.changed_fraction, 5),
            "regions": [r.to_json() for r in self.regions],
        }


def working_factor(shape) -> int:
    """Integer area-averaging factor that brings the long side to at most ``WORK_SIDE``."""
    return max(1, math.ceil(max(shape[0], shape[1]) / WORK_SIDE))


def working_image(pixels: np.ndarray) -> np.ndarray:
    """The image at its working scale (see :func:`working_factor`); one image's share of
    :func:`analyse`, so callers can compute it while the other file is still decoding."""
    return _working(pixels, working_factor(pixels.shape))


def _working(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Area-averaged float32 image on an 8-bit scale (channels kept; alpha dropped)."""
    img = pixels
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if factor > 1:
        h, w = img.shape[:2]
        img = cv2.resize(img, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    out = img.astype(np.float32)
    if pixels.dtype == np.uint16:
        out *= np.float32(255.0 / 65535.0)
    return out


def _luma(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


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
    rx, ry = _refine(a, b, dx, dy)
    if math.hypot(rx - dx, ry - dy) < 2.0 and _cost(a, b, rx, ry) <= _cost(a, b, dx, dy):
        dx, dy = rx, ry
    return float(dx), float(dy), float(response)


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


def _cost(a, b, dx, dy) -> float:
    sl = _inner(a.shape, dx, dy)
    if sl is None:
        return math.inf
    e = _normalised(cv2.GaussianBlur(a, (0, 0), 1.0)[sl]) - _normalised(
        cv2.GaussianBlur(_shifted(b, dx, dy), (0, 0), 1.0)[sl])
    return float(np.mean(e * e))


def _refine(a, b, dx, dy, iterations: int = 8) -> tuple[float, float]:
    a = cv2.GaussianBlur(a, (0, 0), 1.0)
    b = cv2.GaussianBlur(b, (0, 0), 1.0)
    ax = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3) / 8
    ay = cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3) / 8
    for _ in range(iterations):
        sl = _inner(a.shape, dx, dy)
        if sl is None:
            break
        bw = _shifted(b, dx, dy)
        sa, sb = float(a[sl].std()), float(bw[sl].std())
        if sa < 1e-6 or sb < 1e-6:
            break
        e = (a[sl] - a[sl].mean()) / sa - (bw[sl] - bw[sl].mean()) / sb
        bx = cv2.Sobel(bw, cv2.CV_32F, 1, 0, ksize=3)[sl] / (8 * sb)
        by = cv2.Sobel(bw, cv2.CV_32F, 0, 1, ksize=3)[sl] / (8 * sb)
        gx = (ax[sl] / sa + bx) / 2
        gy = (ay[sl] / sa + by) / 2
        hess = np.array([[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]], np.float64)
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


def _interval_residual(a: np.ndarray, b_raw: np.ndarray, b_norm: np.ndarray) -> np.ndarray:
    """``b_norm - a`` where neither is clipped; across clipping, only what clipping cannot explain.

    A clipped sample only bounds the true value: at or below ``CLIP_LOW`` it may be anything
    darker, at or above ``CLIP_HIGH`` anything brighter. Each sample is an interval and the
    residual is the signed gap between A's and normalised B's intervals (0 where they overlap):
    a brighter exposure that saturates a fundus's red is no change, a bubble that lights up a
    black background is.
    """
    inf = np.float32(np.inf)
    a_lo = np.where(a <= CLIP_LOW, -inf, a)
    a_hi = np.where(a >= CLIP_HIGH, inf, a)
    b_lo = np.where(b_raw <= CLIP_LOW, -inf, b_norm)
    b_hi = np.where(b_raw >= CLIP_HIGH, inf, b_norm)
    above = b_lo - a_hi
    below = b_hi - a_lo
    out = np.where(above > 0, above, np.where(below < 0, below, np.float32(0)))
    return out.astype(np.float32, copy=False)


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _fit(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Robust orthogonal (Deming, equal noise) fit b = g a + o over 1-D samples.

    Both shots carry the same kind of noise, so ordinary least squares would bias the gain
    towards zero on low-texture fields (regression dilution); the orthogonal fit does not.
    """
    keep = np.ones(a.shape, bool)
    g, o = 1.0, 0.0
    for _ in range(2):
        aa, bb = a[keep].astype(np.float64), b[keep].astype(np.float64)
        if aa.size < 16:
            break
        ma, mb = aa.mean(), bb.mean()
        sxx, syy = aa.var(), bb.var()
        sxy = float(np.mean((aa - ma) * (bb - mb)))
        if sxx < 1e-6 or sxy <= 1e-9:  # flat or unrelated: only an offset is meaningful
            g, o = 1.0, float(mb - ma)
            break
        g = (syy - sxx + math.sqrt((syy - sxx) ** 2 + 4 * sxy * sxy)) / (2 * sxy)
        o = mb - g * ma
        res = b - (g * a + o)
        s = _robust_sigma(res)
        keep = np.abs(res) <= 3 * max(s, 0.5)
    return float(g), float(o)


def analyse(a_pixels: np.ndarray, b_pixels: np.ndarray, *, noise_sigma: float | None = None,
            min_region_px: int = 0, a_work: np.ndarray | None = None,
            b_work: np.ndarray | None = None) -> Analysis:
    """Register, normalise and find local changes between two same-size images.

    ``noise_sigma`` (8-bit DN, one frame, full resolution) comes from a device profile; when None
    the noise floor is estimated from the images. ``min_region_px`` drops smaller regions.
    ``a_work``/``b_work`` are :func:`working_image` of the inputs when the caller has them.
    """
    if a_pixels.shape[:2] != b_pixels.shape[:2]:
        raise ValueError(f"analyse needs equal sizes, got {a_pixels.shape[:2]} and {b_pixels.shape[:2]}")
    factor = working_factor(a_pixels.shape)
    wa = a_work if a_work is not None else _working(a_pixels, factor)
    wb = b_work if b_work is not None else _working(b_pixels, factor)
    if wa.ndim != wb.ndim:  # gray vs colour: compare luma only
        wa, wb = _luma(wa), _luma(wb)
    la, lb = _luma(wa), _luma(wb)
    h, w = la.shape
    dx, dy, response = _register(la, lb)

    # Both resampled half-way onto a common grid: aw(u) = a(u - d/2), bw(u) = b(u + d/2). Each
    # image gets the same interpolation blur, so blur cannot masquerade as a change at edges.
    # The overlap is where both sample positions stay inside their images.
    def half(img, sx, sy):
        m = np.array([[1, 0, sx], [0, 1, sy]], np.float64)
        return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
    wa = half(wa, -dx / 2, -dy / 2)
    bw = half(wb, dx / 2, dy / 2)
    margin = 2
    hx, hy = abs(dx) / 2, abs(dy) / 2
    x0, x1 = math.ceil(hx) + margin, math.floor(w - hx) - margin
    y0, y1 = math.ceil(hy) + margin, math.floor(h - hy) - margin
    valid = np.zeros((h, w), bool)
    if x1 - x0 > 8 and y1 - y0 > 8:
        valid[y0:y1, x0:x1] = True
    overlap = float(valid.sum()) / (h * w)

    chans_a = [wa] if wa.ndim == 2 else cv2.split(wa)
    chans_b = [bw] if bw.ndim == 2 else cv2.split(bw)
    unclipped = valid.copy()
    for ca, cb in zip(chans_a, chans_b):
        unclipped &= (ca > CLIP_LOW) & (ca < CLIP_HIGH) & (cb > CLIP_LOW) & (cb < CLIP_HIGH)
    fit_mask = unclipped if unclipped.sum() > 64 else valid
    step = max(1, int(np.sqrt(fit_mask.sum() / 20000)))  # fit on <= ~20k samples
    sub = np.zeros_like(fit_mask)
    sub[::step, ::step] = fit_mask[::step, ::step]

    gains, offsets, z_max = [], [], np.zeros((h, w), np.float32)
    sigmas = []
    for ca, cb in zip(chans_a, chans_b):
        sa1, sb1 = cv2.GaussianBlur(ca, (0, 0), 1.0), cv2.GaussianBlur(cb, (0, 0), 1.0)
        if sub.any():  # fit on lightly smoothed images: less noise, same gain
            g, o = _fit(sa1[sub], sb1[sub])
        else:
            g, o = 1.0, 0.0
        gains.append(g)
        offsets.append(o)
        bn = (cb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
        resid = _interval_residual(ca, cb, bn)
        resid[~valid] = 0
        smooth = cv2.GaussianBlur(resid, (0, 0), SMOOTH_SIGMA)
        raw_sigma = _robust_sigma(resid[sub]) if sub.any() else 0.0
        if noise_sigma is not None:
            # profile: per-frame sigma at full scale -> difference of two frames at working scale
            raw_sigma = math.sqrt(2.0) * noise_sigma / factor
        sigmas.append(raw_sigma)
        # noise of the smoothed residual: measured on the residual itself (robust)
        s_sigma = _robust_sigma(smooth[sub]) if sub.any() else 0.0
        if noise_sigma is not None:
            s_sigma = max(s_sigma, raw_sigma * _gauss_noise_gain(SMOOTH_SIGMA))
        s_sigma = max(s_sigma, 0.05)
        sa15 = cv2.GaussianBlur(ca, (0, 0), SMOOTH_SIGMA)
        gx = cv2.Sobel(sa15, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
        gy = cv2.Sobel(sa15, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
        tol = np.sqrt(np.float32(s_sigma) ** 2 + (np.float32(EDGE_SLACK) ** 2) * (gx * gx + gy * gy))
        z = np.abs(smooth) / tol
        z[~valid] = 0
        np.maximum(z_max, z, out=z_max)

    y_w = np.array([0.114, 0.587, 0.299]) if len(gains) == 3 else np.array([1.0])
    gain = float(np.dot(y_w, gains))
    offset = float(np.dot(y_w, offsets))
    # per-frame noise at full resolution: the difference of two frames carries sqrt(2) of it, and
    # area averaging by `factor` divided white noise by `factor`
    noise = noise_sigma if noise_sigma is not None else float(np.mean(sigmas)) * factor / math.sqrt(2.0)

    regions, changed = _regions(z_max, valid, factor, min_region_px, offset=(-dx / 2, -dy / 2))
    # aligned, normalised, denoised similarity over the overlap
    la_n = _luma(wa) if wa.ndim == 3 else wa
    bn = [(cb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
          for cb, g, o in zip(chans_b, gains, offsets)]
    lb_n = cv2.cvtColor(cv2.merge(bn), cv2.COLOR_BGR2GRAY) if len(bn) == 3 else bn[0]
    if valid.any():
        sa = cv2.GaussianBlur(la_n, (0, 0), 1.0)[y0:y1, x0:x1]
        sb = cv2.GaussianBlur(lb_n, (0, 0), 1.0)[y0:y1, x0:x1]
        corr = float(np.corrcoef(sa.ravel(), sb.ravel())[0, 1]) if sa.std() > 0 and sb.std() > 0 else 0.0
        s_al = ssim(sa, sb, data_range=255.0, want_map=False).mean if min(sa.shape) >= 11 else corr
    else:
        corr, s_al = 0.0, 0.0
    changed_fraction = changed / max(1, int(valid.sum()))
    return Analysis(scale=factor, shift=(dx * factor, dy * factor), shift_response=response,
                    gain=gain, offset=offset, channel_gains=tuple(float(g) for g in gains),
                    noise_sigma=noise, noise_source="profile" if noise_sigma is not None else "images",
                    correlation=corr if math.isfinite(corr) else 0.0, ssim_aligned=float(s_al),
                    overlap=overlap, changed_fraction=changed_fraction, regions=tuple(regions))


def _gauss_noise_gain(sigma: float) -> float:
    """Std of white noise after a 2-D Gaussian blur of this sigma, per unit input std."""
    k = cv2.getGaussianKernel(int(2 * math.ceil(3 * sigma) + 1), sigma)
    return float(np.sqrt((k ** 2).sum()) ** 2)


def _regions(z: np.ndarray, valid: np.ndarray, factor: int, min_region_px: int,
             offset: tuple[float, float] = (0.0, 0.0)):
    """Hysteresis-thresholded connected regions of ``z`` in A's pixel units.

    ``offset`` maps the common grid back to A (A's x = u + offset, working pixels).
    """
    low = ((z > Z_LOW) & valid).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(low, connectivity=8)
    if n <= 1:
        return [], 0
    high = (z > Z_HIGH) & valid
    seeded = np.zeros(n, bool)
    seeded[np.unique(labels[high])] = True
    seeded[0] = False
    regions = []
    changed = 0
    sums = np.bincount(labels.ravel(), weights=z.ravel(), minlength=n)
    for i in np.nonzero(seeded)[0]:
        x, y, w, h, area = (int(v) for v in stats[i])
        area_full = area * factor * factor
        if area_full < max(min_region_px, 1):
            continue
        changed += area
        ax = max(0, round((x + offset[0]) * factor))
        ay = max(0, round((y + offset[1]) * factor))
        regions.append(Region(x=ax, y=ay, width=w * factor, height=h * factor,
                              area=area_full, strength=float(sums[i] / area)))
    regions.sort(key=lambda r: -r.area)
    return regions, changed

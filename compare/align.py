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

from .hashing import is_flat
from .similarity import ssim

WORK_SIDE = 640          # long side of the working image, pixels
SMOOTH_SIGMA = 1.5       # Gaussian sigma of the residual smoothing, working pixels
EDGE_SLACK = 0.2         # working pixels of misregistration tolerated at edges
Z_HIGH = 6.0             # seed threshold, in tolerances
Z_LOW = 3.5              # growth threshold, in tolerances
Z_STRONG = 7.0           # a region this strong (mean, in tolerances) counts below min_region
STRONG_PX = 12           # ... over at least this many working pixels
SHARED_DETAIL = 0.25     # cross energy of a band, as a fraction of a side's: detail, not noise
SAME_STRUCTURE = 0.9     # correlation inside a region for "same structure, other intensity"
CLIP_LOW, CLIP_HIGH = 4.0, 250.0   # 8-bit samples treated as clipped (MJPG black crush, highlights)
CLIP_LSB = 4             # deeper samples: within this many steps of 0 or of full scale
PLATEAU = 0.0005         # a maximum held by this fraction of the pixels is a saturation level
MIN_WORK = 16            # shortest side of the working image, pixels
FLOOR_LSB = 0.05         # smallest noise of the smoothed residual, in steps of the coarser side
SHADING_MAX = 0.06       # slowly varying gain (vignetting, shading) tolerated, fraction of the level


@dataclass(frozen=True)
class Region:
    x: int
    y: int
    width: int
    height: int
    area: int          # changed pixels, in A's pixels
    strength: float    # mean |residual| in tolerances
    kind: str = "changed"        # "dimmed" / "brightened": same structure, other intensity
    intensity: float = 0.0       # relative intensity change of the structure (-0.3 = 30 % dimmer)

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height,
                "area": self.area, "strength": round(self.strength, 2), "kind": self.kind,
                "intensity_change": round(self.intensity, 4)}


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
    structured: bool = True            # structure above the noise (else correlation means nothing)
    sharpness_change: float = 0.0      # fine detail of B relative to A (-0.35 = 35 % less sharp)
    codec_sigma: float = 0.0           # lossy sides' quantisation noise in the smoothed residual
    codec_bound: bool = False          # the codec noise, not the measured noise, set the floor
    shading: float = 0.0               # largest slowly varying gain removed, fraction of the level
    blank: tuple[bool, bool] = (False, False)  # A, B without structure above their noise

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
            "structured": self.structured,
            "sharpness_change": round(self.sharpness_change, 4),
            "codec_noise_sigma": round(self.codec_sigma, 4),
            "shading": round(self.shading, 4),
            "blank": {"a": self.blank[0], "b": self.blank[1]},
        }


def working_factor(shape) -> int:
    """Integer area-averaging factor that brings the long side to at most ``WORK_SIDE``, but never
    below ``MIN_WORK`` pixels on the short side (a 640:1 strip keeps its width for registration)."""
    long_side, short_side = max(shape[0], shape[1]), min(shape[0], shape[1])
    return max(1, min(math.ceil(long_side / WORK_SIDE), short_side // MIN_WORK))


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


def _interval_residual(a: np.ndarray, b_raw: np.ndarray, b_norm: np.ndarray,
                       clip_a=(CLIP_LOW, CLIP_HIGH), clip_b=(CLIP_LOW, CLIP_HIGH)) -> np.ndarray:
    """``b_norm - a`` where neither is clipped; across clipping, only what clipping cannot explain.

    A clipped sample only bounds its true value: at or below the low clip level it may be anything
    darker, at or above the high one anything brighter (levels per side, see :func:`clip_levels`).
    Each sample is an interval and the residual is the signed gap between A's and normalised B's
    intervals (0 where they overlap): a brighter exposure that saturates a fundus's red is no
    change, a bubble that lights up a black background is.
    """
    inf = np.float32(np.inf)
    a_lo = np.where(a <= clip_a[0], -inf, a)
    a_hi = np.where(a >= clip_a[1], inf, a)
    b_lo = np.where(b_raw <= clip_b[0], -inf, b_norm)
    b_hi = np.where(b_raw >= clip_b[1], inf, b_norm)
    above = b_lo - a_hi
    below = b_hi - a_lo
    out = np.where(above > 0, above, np.where(below < 0, below, np.float32(0)))
    return out.astype(np.float32, copy=False)


def clip_levels(pixels: np.ndarray) -> tuple[float, float]:
    """Clip levels of one image on the 8-bit working scale.

    8-bit: ``CLIP_LOW``/``CLIP_HIGH`` (black crush and highlights of cheap cameras). Deeper
    samples: within ``CLIP_LSB`` steps of 0 or of full scale, and a maximum held by a plateau of
    ``PLATEAU`` of the pixels (a 12-bit sensor saturating inside a 16-bit container) -- judged
    in the image's own units, never in 0-255 levels of the full range.
    """
    if pixels.dtype == np.uint8:
        return CLIP_LOW, CLIP_HIGH
    full = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    k = 255.0 / full
    lo, hi = CLIP_LSB * k, (full - CLIP_LSB) * k
    sub = pixels[::4, ::4]
    mx = sub.max()
    if np.count_nonzero(sub == mx) >= PLATEAU * sub.size and mx > 0:
        hi = min(hi, float(mx) * k - 1e-6)
    return lo, hi


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _fit(a: np.ndarray, b: np.ndarray, *, na: float = 0.0, nb: float = 0.0,
         floor: float = 0.5) -> tuple[float, float]:
    """Robust errors-in-variables (Deming) fit b = g a + o over 1-D samples.

    ``na``/``nb`` are the noise variances of the samples of each side (the ratio ``nb/na`` is
    Deming's delta; equal when unknown). Ordinary least squares would bias the gain towards zero
    when A is noisy (regression dilution); a noisy shot against a clean mean needs the ratio.
    When either side's variance is not clearly above its noise, the samples carry no gain
    information and only an offset is fitted. One robust re-fit drops residuals beyond 3 sigma
    (at least ``floor``).
    """
    keep = np.ones(a.shape, bool)
    g, o = 1.0, 0.0
    delta = nb / na if na > 0 and nb > 0 else 1.0
    for _ in range(2):
        aa, bb = a[keep].astype(np.float64), b[keep].astype(np.float64)
        if aa.size < 16:
            break
        ma, mb = aa.mean(), bb.mean()
        sxx, syy = aa.var(), bb.var()
        sxy = float(np.mean((aa - ma) * (bb - mb)))
        weak = sxx - na < na or syy - nb < nb
        if sxx < 1e-9 or sxy <= 1e-12 or weak:  # flat, unrelated or noise-bound: an offset only
            g, o = 1.0, float(mb - ma)
        else:
            g = (syy - delta * sxx + math.sqrt((syy - delta * sxx) ** 2 + 4 * delta * sxy * sxy)) / (2 * sxy)
            o = mb - g * ma
        res = b - (g * a + o)
        sig = _robust_sigma(res)
        keep = np.abs(res) <= 3 * max(sig, floor)
    return float(g), float(o)


def analyse(a_pixels: np.ndarray, b_pixels: np.ndarray, *, noise_sigma: float | None = None,
            min_region_px: int = 0, a_work: np.ndarray | None = None,
            b_work: np.ndarray | None = None, codecs=(None, None), codec_scales=(1.0, 1.0),
            band_limit: float = 0.0, edge_slack: float = EDGE_SLACK) -> Analysis:
    """Register, normalise and find local changes between two same-size images.

    ``noise_sigma`` (8-bit DN, one frame, full resolution) comes from a device profile; when None
    the noise floor is estimated from the images. ``min_region_px`` drops smaller regions unless
    they are strong (``Z_STRONG``). ``a_work``/``b_work`` are :func:`working_image` of the inputs
    when the caller has them. ``codecs`` are the sides' :class:`compare.codec_noise.JpegTables`
    (or None for lossless sides) and ``codec_scales`` their full-resolution pixels per pixel of
    the images given; their quantisation noise is part of the floor. ``band_limit`` (pixels)
    blurs both alike first (a resized copy against a reduced original); ``edge_slack`` is the
    misregistration (working pixels) tolerated at edges -- wider when two resampling filters met.
    """
    if a_pixels.shape[:2] != b_pixels.shape[:2]:
        raise ValueError(f"analyse needs equal sizes, got {a_pixels.shape[:2]} and {b_pixels.shape[:2]}")
    factor = working_factor(a_pixels.shape)
    wa = a_work if a_work is not None else _working(a_pixels, factor)
    wb = b_work if b_work is not None else _working(b_pixels, factor)
    if wa.ndim != wb.ndim:  # gray vs colour: compare luma only
        wa, wb = _luma(wa), _luma(wb)
    if band_limit > 0 and factor == 1:
        wa = cv2.GaussianBlur(wa, (0, 0), band_limit)
        wb = cv2.GaussianBlur(wb, (0, 0), band_limit)
    clip_a, clip_b = clip_levels(a_pixels), clip_levels(b_pixels)
    floor = FLOOR_LSB * max(_lsb(a_pixels), _lsb(b_pixels))
    la, lb = _luma(wa), _luma(wb)
    h, w = la.shape
    blank_a, blank_b = is_flat(la), is_flat(lb)
    if blank_a and blank_b:  # nothing to register: the residual at zero shift decides
        dx, dy, response = 0.0, 0.0, 0.0
    else:
        dx, dy, response = _register(la, lb)
    noise_a, noise_b = _pixel_noise(la), _pixel_noise(lb)  # before any resampling smooths them
    g2 = _gauss_noise_gain(1.0) ** 2  # noise variance through the fit's sigma-1 smoothing

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
    names = "Y" if len(chans_a) == 1 else "BGR"
    unclipped = valid.copy()
    for ca, cb in zip(chans_a, chans_b):
        unclipped &= (ca > clip_a[0]) & (ca < clip_a[1]) & (cb > clip_b[0]) & (cb < clip_b[1])
    fit_mask = unclipped if unclipped.sum() > 64 else valid
    step = max(1, int(np.sqrt(fit_mask.sum() / 20000)))  # fit on <= ~20k samples
    sub = np.zeros_like(fit_mask)
    sub[::step, ::step] = fit_mask[::step, ::step]

    gains, offsets, z_max = [], [], np.zeros((h, w), np.float32)
    sigmas, codec_floor, codec_bound, shading = [], 0.0, False, 0.0
    for ca, cb, cname in zip(chans_a, chans_b, names):
        sa1, sb1 = cv2.GaussianBlur(ca, (0, 0), 1.0), cv2.GaussianBlur(cb, (0, 0), 1.0)
        if sub.any():  # fit on lightly smoothed images: less noise, same gain
            g, o = _fit(sa1[sub], sb1[sub], na=noise_a ** 2 * g2, nb=noise_b ** 2 * g2, floor=10 * floor)
        else:
            g, o = 1.0, 0.0
        gains.append(g)
        offsets.append(o)
        bn = (cb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
        resid = _interval_residual(ca, cb, bn, clip_a, clip_b)
        resid[~valid] = 0
        shading = max(shading, _remove_shading(resid, valid, sa1))
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
        cf = _codec_sigma(codecs, codec_scales, factor, cname)
        if cf > s_sigma:
            codec_bound = True
        codec_floor = max(codec_floor, cf)
        s_sigma = max(s_sigma, cf, floor)
        sa15 = cv2.GaussianBlur(ca, (0, 0), SMOOTH_SIGMA)
        gx = cv2.Sobel(sa15, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
        gy = cv2.Sobel(sa15, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
        tol = np.sqrt(np.float32(s_sigma) ** 2 + (np.float32(edge_slack) ** 2) * (gx * gx + gy * gy))
        z = np.abs(smooth) / tol
        z[~valid] = 0
        np.maximum(z_max, z, out=z_max)

    y_w = np.array([0.114, 0.587, 0.299]) if len(gains) == 3 else np.array([1.0])
    gain = float(np.dot(y_w, gains))
    offset = float(np.dot(y_w, offsets))
    # per-frame noise at full resolution: the difference of two frames carries sqrt(2) of it, and
    # area averaging by `factor` divided white noise by `factor`
    noise = noise_sigma if noise_sigma is not None else float(np.mean(sigmas)) * factor / math.sqrt(2.0)

    la_n = _luma(wa) if wa.ndim == 3 else wa
    bn = [(cb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
          for cb, g, o in zip(chans_b, gains, offsets)]
    lb_n = cv2.cvtColor(cv2.merge(bn), cv2.COLOR_BGR2GRAY) if len(bn) == 3 else bn[0]
    regions, changed = _regions(z_max, valid, factor, min_region_px, offset=(-dx / 2, -dy / 2),
                                a=la_n, b=lb_n)
    # aligned, normalised, denoised similarity over the overlap
    structured, sharp = True, 0.0
    if valid.any():
        sa = cv2.GaussianBlur(la_n, (0, 0), 1.0)[y0:y1, x0:x1]
        sb = cv2.GaussianBlur(lb_n, (0, 0), 1.0)[y0:y1, x0:x1]
        corr, structured = _structure_correlation(noise_a, noise_b / max(abs(gain), 1e-3), sa, sb)
        s_al = ssim(sa, sb, data_range=255.0, want_map=False).mean if min(sa.shape) >= 11 else corr
        sharp = sharpness_change(la_n[y0:y1, x0:x1], lb_n[y0:y1, x0:x1])
        if factor > 1:  # a refocus of a few full-resolution pixels hides below the working scale
            fine = _fine_sharpness(a_pixels, b_pixels, dx * factor, dy * factor)
            if abs(fine) > abs(sharp):
                sharp = fine
    else:
        corr, s_al = 0.0, 0.0
    changed_fraction = changed / max(1, int(valid.sum()))
    return Analysis(scale=factor, shift=(dx * factor, dy * factor), shift_response=response,
                    gain=gain, offset=offset, channel_gains=tuple(float(g) for g in gains),
                    noise_sigma=noise, noise_source="profile" if noise_sigma is not None else "images",
                    correlation=corr if math.isfinite(corr) else 0.0, ssim_aligned=float(s_al),
                    overlap=overlap, changed_fraction=changed_fraction, regions=tuple(regions),
                    structured=structured, sharpness_change=sharp, codec_sigma=codec_floor,
                    codec_bound=codec_bound, shading=shading, blank=(blank_a, blank_b))


def _lsb(pixels: np.ndarray) -> float:
    """One step of the image's samples on the 8-bit working scale."""
    return 255.0 / float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 255.0 / 65535.0


def _codec_sigma(codecs, scales, factor: int, channel: str) -> float:
    """Quantisation noise of the lossy sides in the smoothed working residual (8-bit DN)."""
    var = 0.0
    for tables, scale in zip(codecs, scales):
        if tables is None:
            continue
        k = factor * scale  # full-resolution pixels of this side per working pixel
        sigma = k * math.sqrt(SMOOTH_SIGMA ** 2 + (1.0 / 12.0 if k > 1 else 0.0))
        var += tables.pixel_sigma(smooth_sigma=sigma, channel=channel) ** 2
    return math.sqrt(var)


def _remove_shading(resid: np.ndarray, valid: np.ndarray, level: np.ndarray) -> float:
    """Subtract a slowly varying gain field (vignetting, shading, uneven illumination) from the
    residual, in place; at most ``SHADING_MAX`` of the local level. Returns its largest relative
    size. The field is the residual's average over an eighth of the frame with every sample
    limited to 3 robust sigmas (two passes), so a compact change leaks into it only by
    3 sigma times its share of that window."""
    h, w = resid.shape
    k = max(1, min(h, w) // 32)
    if k < 2:
        return 0.0
    size = (w // k, h // k)
    m = cv2.resize(valid.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    s = max(h, w) / 8.0 / k
    den = np.maximum(cv2.GaussianBlur(m, (0, 0), s), 1e-3)
    lim = np.float32(SHADING_MAX) * np.maximum(np.abs(level), np.float32(1.0))
    total = np.zeros_like(resid)
    for _ in range(2):
        r = resid - total
        sig = max(_robust_sigma(r[valid][::7]) if valid.any() else 0.0, 1e-3)
        r = np.clip(r, -3 * sig, 3 * sig)
        small = cv2.resize(r, size, interpolation=cv2.INTER_AREA)
        field = cv2.resize(cv2.GaussianBlur(small, (0, 0), s) / den, (w, h), interpolation=cv2.INTER_LINEAR)
        total = np.clip(total + field, -lim, lim)
    total[~valid] = 0
    resid -= total
    return float(np.max(np.abs(total) / np.maximum(np.abs(level), 1.0)))


def _pixel_noise(x: np.ndarray) -> float:
    """Robust per-pixel noise of one image (Immerkaer's Laplacian-difference mask, MAD):
    content-insensitive where most of the frame is smooth."""
    if min(x.shape) < 3:
        return 0.0
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    r = cv2.filter2D(x, cv2.CV_32F, k)[1:-1, 1:-1]
    return float(1.4826 * np.median(np.abs(r)) / 6.0)


def _structure_correlation(noise_a: float, noise_b: float, sa, sb) -> tuple[float, bool]:
    """Correlation of the aligned, smoothed luma with each side's own noise removed from its
    variance (disattenuated): one noisy shot against a clean mean correlates 1, not 0.6. Frames
    with no structure above their noise have no meaningful correlation: ``structured`` is False
    and only the residual tests can answer."""
    g2 = _gauss_noise_gain(1.0) ** 2
    na = (noise_a ** 2) * g2
    nb = (noise_b ** 2) * g2
    va, vb = float(sa.var()), float(sb.var())
    cov = float(np.mean((sa - sa.mean()) * (sb - sb.mean())))
    siga, sigb = va - na, vb - nb
    structured = min(siga - na, sigb - nb) > 0  # signal variance above its noise variance on both
    if not structured:
        return (cov / math.sqrt(va * vb) if va > 0 and vb > 0 else 0.0), False
    return max(-1.0, min(1.0, cov / math.sqrt(siga * sigb))), True


def sharpness_change(a: np.ndarray, b: np.ndarray) -> float:
    """Relative change of fine detail from A to B (``-0.35`` = B 35 % less sharp).

    With ``D`` a band-pass of each image, independent noise only adds to ``E[D_a^2]`` and
    ``E[D_b^2]`` while the cross energy ``E[D_a D_b]`` holds the shared detail. A blur (filter
    gain ``|H| <= 1``) leaves its side with less energy than the cross energy; noise, dropped
    coefficients (JPEG) or a common band limit cannot. So the side whose own energy falls below
    the cross energy is the blurrier one, by that ratio. Two octave bands (sigma 0.7-1.4 and
    1.4-2.8 working pixels); a band counts only where the shared detail is at least
    ``SHARED_DETAIL`` of each side's energy (not noise), and the larger change wins.
    """
    ga = [a] + [cv2.GaussianBlur(a, (0, 0), s) for s in (0.7, 1.4, 2.8)]
    gb = [b] + [cv2.GaussianBlur(b, (0, 0), s) for s in (0.7, 1.4, 2.8)]
    best = 0.0
    for i in (1, 2):
        da, db = ga[i] - ga[i + 1], gb[i] - gb[i + 1]
        eaa, ebb, eab = float(np.mean(da * da)), float(np.mean(db * db)), float(np.mean(da * db))
        if eab <= 1e-12 or eab < SHARED_DETAIL * max(eaa, ebb):
            continue
        change = ebb / eab - 1.0 if ebb < eab else (eab / eaa - 1.0 if eaa < eab else 0.0)
        if abs(change) > abs(best):
            best = change
    return best


def _fine_sharpness(a_pixels: np.ndarray, b_pixels: np.ndarray, dx: float, dy: float) -> float:
    """:func:`sharpness_change` at full resolution on five tiles (centre and quadrants, at most
    256 px), B's tiles taken at the registered shift, both resampled half-way like the analysis."""
    h, w = a_pixels.shape[:2]
    t = min(256, h // 3, w // 3)
    if t < 32:
        return 0.0
    ta, tb = [], []
    for fx, fy in ((0.5, 0.5), (0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)):
        x, y = int(fx * w) - t // 2, int(fy * h) - t // 2
        ix, iy = int(round(dx)), int(round(dy))
        if not (0 <= x + ix and x + ix + t <= w and 0 <= y + iy and y + iy + t <= h and x >= 0 and y >= 0):
            continue
        ca = _working(a_pixels[y:y + t, x:x + t], 1)
        cb = _working(b_pixels[y + iy:y + iy + t, x + ix:x + ix + t], 1)
        ca, cb = _luma(ca), _luma(cb)
        rx, ry = (dx - ix) / 2, (dy - iy) / 2
        m = np.array([[1, 0, -rx], [0, 1, -ry]], np.float64)
        ca = cv2.warpAffine(ca, m, (t, t), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        m = np.array([[1, 0, rx], [0, 1, ry]], np.float64)
        cb = cv2.warpAffine(cb, m, (t, t), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        ta.append(ca[4:-4, 4:-4])
        tb.append(cb[4:-4, 4:-4])
    if not ta:
        return 0.0
    return sharpness_change(np.hstack(ta), np.hstack(tb))


def _gauss_noise_gain(sigma: float) -> float:
    """Std of white noise after a 2-D Gaussian blur of this sigma, per unit input std."""
    k = cv2.getGaussianKernel(int(2 * math.ceil(3 * sigma) + 1), sigma)
    return float(np.sqrt((k ** 2).sum()) ** 2)


def _regions(z: np.ndarray, valid: np.ndarray, factor: int, min_region_px: int,
             offset: tuple[float, float] = (0.0, 0.0), a=None, b=None):
    """Hysteresis-thresholded connected regions of ``z`` in A's pixel units.

    ``offset`` maps the common grid back to A (A's x = u + offset, working pixels). A region
    smaller than ``min_region_px`` still counts when it is strong: mean ``Z_STRONG`` tolerances
    over at least ``STRONG_PX`` working pixels (a nucleus that dimmed is small but far beyond
    noise). With the aligned luma ``a``/``b`` each region is classified (:func:`_classify`).
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
        strength = float(sums[i] / area)
        strong = strength >= Z_STRONG and area >= STRONG_PX
        if area_full < max(min_region_px, 1) and not strong:
            continue
        changed += area
        kind, inten = ("changed", 0.0) if a is None else _classify(a, b, labels, i, (x, y, w, h))
        ax = max(0, round((x + offset[0]) * factor))
        ay = max(0, round((y + offset[1]) * factor))
        regions.append(Region(x=ax, y=ay, width=w * factor, height=h * factor,
                              area=area_full, strength=strength, kind=kind, intensity=inten))
    regions.sort(key=lambda r: -r.area)
    return regions, changed


def _classify(a, b, labels, i, box) -> tuple[str, float]:
    """``dimmed``/``brightened`` when B holds A's structure at another intensity inside the
    region (correlation of the two at least ``SAME_STRUCTURE`` over the region's box, slope of B
    on A off 1 by more than 3 %); ``changed`` otherwise (new, removed or moved structure)."""
    x, y, w, h = box
    pad = 3
    ys = slice(max(0, y - pad), min(a.shape[0], y + h + pad))
    xs = slice(max(0, x - pad), min(a.shape[1], x + w + pad))
    pa, pb = a[ys, xs].astype(np.float64), b[ys, xs].astype(np.float64)
    if pa.size < 9:
        return "changed", 0.0
    da, db = pa - pa.mean(), pb - pb.mean()
    va, vb = float((da * da).mean()), float((db * db).mean())
    if va <= 1e-9 or vb <= 1e-9:
        return "changed", 0.0
    r = float((da * db).mean()) / math.sqrt(va * vb)
    slope = float((da * db).mean()) / va
    if r >= SAME_STRUCTURE and 0.2 <= slope <= 0.97:
        return "dimmed", slope - 1.0
    if r >= SAME_STRUCTURE and 1.03 <= slope <= 5.0:
        return "brightened", slope - 1.0
    return "changed", 0.0

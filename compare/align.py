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
   The noise also depends on the level (shot noise): each pixel's local noise is never judged
   below the residual's noise at its level (:func:`compare.noise_level.level_sigma`).
   A clipped sample (a pile-up on the darkest code, at most ``CLIP_LOW``; at or above ``CLIP_HIGH``;
   :func:`compare.clipping.clip_levels`) only bounds its true
   value, so across clipping the residual is the gap between the two bounds: saturation from an
   exposure drift is no change, a bright bubble on a black background is.
5. **Regions.** Pixels whose residual exceeds ``Z_HIGH`` tolerances seed regions that grow through
   pixels above ``Z_LOW``; connected regions are reported as boxes in A's pixels with their area
   and strength (mean residual in tolerances).
"""
from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from .analyse_parts import _clipped_at, _fine_of, _in_tolerances, _sample_luma, _tasks
from .analysis import Analysis, MovedObject
from .changes import (
    Region,
    _regions,
    band_energies,
    blur_from_energies,
    light_seeds,
    overlaps,
    sharpness_change,
    sharpness_from_energies,
    structure_agreement,
    tiled_band_energies,
)
from .channel_order import channel_order
from .chroma_clip import _chroma_blur, _chroma_limit, decoded_like, subsampling_partner
from .clipping import _interval_residual, clip_levels
from .copied_blocks import coded_blocks, coded_cells, coded_noise
from .focus import (
    FINE_TILE,
    FineEnergies,
    TileFocus,
    codec_band_noise,
    on_gain,
    tilted_focus,
    with_noise,
)
from .hashing import is_flat
from .levels import level_scale, range_map, tone_curve
from .local_noise import LOCAL_BLOCK, LOCAL_MAX, _local_sigma, calm_sigma, lag_gain, unexplained_by_shift
from .motion import OBJECT_PX, moved_blocks, moved_objects
from .noise_floor import (
    FLOOR_LSB,
    _codec_sigma,
    _gauss_noise_gain,
    _lsb,
    _pixel_noise,
    _robust_sigma,
    quantisation_noise,
)
from .noise_level import level_sigma
from .photometric import LUMA_BGR, _fit, _gain_carried, _level_ratios, _remove_shading
from .register import _register
from .resample_noise import alias_sigma
from .signal_ssim import SSIM_NOISE_CORR, SSIM_SCALES, signal_ssim
from .specks import confirmed
from .working import _coarse, _luma, _working, working_factor, working_image

__all__ = ["Analysis", "Region", "analyse", "sharpness_change", "working_factor", "working_image"]

SMOOTH_SIGMA = 1.5       # Gaussian sigma of the residual smoothing, working pixels
EDGE_SLACK = 0.2         # working pixels of misregistration tolerated at edges


def analyse(a_pixels: np.ndarray, b_pixels: np.ndarray, *, noise_sigma: float | None = None,
            min_region_px: int = 0, a_work: np.ndarray | None = None,
            b_work: np.ndarray | None = None, codecs=(None, None), codec_scales=(1.0, 1.0),
            band_limit: float = 0.0, edge_slack: float = EDGE_SLACK,
            lumas: tuple[np.ndarray, np.ndarray] | None = None,
            resampled_from: np.ndarray | None = None, resampled_side: int | None = None) -> Analysis:
    """Register, normalise and find local changes between two same-size images.

    ``noise_sigma`` (8-bit DN, one frame, full resolution) comes from a device profile; when None
    the noise floor is estimated from the images. ``min_region_px`` drops smaller regions unless
    they are strong (``Z_STRONG``). ``a_work``/``b_work`` are :func:`working_image` of the inputs
    when the caller has them. ``codecs`` are the sides' :class:`compare.codec_noise.CodecTables`
    (or None for lossless sides) and ``codec_scales`` their full-resolution pixels per pixel of
    the images given; their quantisation noise is part of the floor. ``band_limit`` (pixels)
    blurs both alike first (a resized copy against a reduced original); ``edge_slack`` is the
    misregistration (working pixels) tolerated at edges -- wider when two resampling filters met.
    ``lumas`` are the inputs' full-resolution luma when the caller has them (the refocus test).
    ``resampled_from`` is the larger original's luma (8-bit scale) when one input is a reduction
    of it (``resampled_side``: 0 when that is A, 1 when B): the aliasing a resampling may leave
    (:mod:`compare.resample_noise`) joins the floor. When the two sides' used ranges are two
    mappings of the data (:func:`compare.levels.range_map`), B is put on A's scale first.
    """
    if a_pixels.shape[:2] != b_pixels.shape[:2]:
        raise ValueError(f"analyse needs equal sizes, got {a_pixels.shape[:2]} and {b_pixels.shape[:2]}")
    factor = working_factor(a_pixels.shape)
    wa = a_work if a_work is not None else _working(a_pixels, factor)
    wb = b_work if b_work is not None else _working(b_pixels, factor)
    alias = None
    if resampled_from is not None:
        reach = math.hypot(band_limit if factor == 1 else 0.0, SMOOTH_SIGMA * factor)
        alias = alias_sigma(resampled_from, (a_pixels.shape[1], a_pixels.shape[0]), smooth=reach)
        if factor > 1:
            alias = cv2.resize(alias, (wa.shape[1], wa.shape[0]), interpolation=cv2.INTER_AREA)
    # frames of one video stream: the blocks its codec copied (compare.copied_blocks, cause 29)
    blocks = coded_blocks(a_pixels, b_pixels) if resampled_from is None and band_limit == 0 else None
    partner = subsampling_partner(codecs, codec_scales, a_pixels, b_pixels)
    if partner is not None:  # the other side's decoder clipped its interpolated chroma: this one too
        redo = _working(decoded_like((a_pixels, b_pixels)[partner[0]], partner[1]), factor)
        wa, wb = (redo, wb) if partner[0] == 0 else (wa, redo)
    if wa.ndim != wb.ndim:  # gray vs colour: compare luma only
        wa, wb = _luma(wa), _luma(wb)
    # two mappings of the data (an 8-bit export of a 16-bit frame, samples shifted by some bits):
    # B is put on A's scale before any level is set, its rounding step with it (compare.levels)
    lsb_stored = (_lsb(a_pixels), _lsb(b_pixels))
    lsb = list(lsb_stored)
    mapped = range_map(_sample_luma(a_pixels), _sample_luma(b_pixels), steps=(lsb[0], lsb[1]))
    if mapped is not None and not mapped.two_level and any(is_flat(_luma(x), noise_floor=quantisation_noise(s, factor)) for x, s in zip((wa, wb), lsb)):
        mapped = None  # a blank side's range is its noise's: stretching it would make structure of it
    if mapped is not None and a_pixels.ndim == 2 and b_pixels.ndim == 2 and \
            (mapped.clip_a != (None, None) or mapped.clip_b != (None, None)):
        # a side clipped where the other is not (an export whose display range is narrower than the
        # data): the other is clipped at the matching level, so that both lose the same detail
        a_pixels = _clipped_at(a_pixels, mapped.clip_a, lsb_stored[0])
        b_pixels = _clipped_at(b_pixels, mapped.clip_b, lsb_stored[1])
        wa, wb = _working(a_pixels, factor), _working(b_pixels, factor)
        if lumas is not None:
            lumas = (_clipped_at(lumas[0], mapped.clip_a, lsb_stored[0]),
                     _clipped_at(lumas[1], mapped.clip_b, lsb_stored[1]))
    k_map = 1.0
    if mapped is not None and mapped.two_level and factor > 1 and np.uint16 in (a_pixels.dtype, b_pixels.dtype):
        # a mask's working pixels are shares of its two levels: 8-bit blocks are averaged finely
        # (_area_fine), 16-bit ones round to stored levels (0.25 of a 0/1 mask to 0): averaged exactly
        wa, wb = (_working(x if x.dtype == np.uint8 else np.float32(s) * x, factor)
                  for x, s in zip((a_pixels, b_pixels), lsb_stored))
        if wa.ndim != wb.ndim:
            wa, wb = _luma(wa), _luma(wb)
    if mapped is not None:
        k_map = mapped.k
        wb = wb * np.float32(k_map) + np.float32(mapped.c)
        lsb[1] = lsb[0] if mapped.two_level else lsb[1] * k_map  # a mask's levels are exact: no rounding between
        if alias is not None and resampled_side == 1:
            alias = alias * np.float32(k_map)
    pre_noise = None
    if band_limit > 0 and factor == 1:
        # the pixel noise is measured before the band limit (after it, a Laplacian-difference
        # estimate sees almost none) and carried through it: the noise the sigma-1 smoothing of
        # the fit then sees is that of one Gaussian of sqrt(band_limit^2 + 1)
        carry = _gauss_noise_gain(math.hypot(band_limit, 1.0)) / _gauss_noise_gain(1.0)
        pre_noise = (_pixel_noise(_luma(wa)) * carry, _pixel_noise(_luma(wb)) * carry)
        wa = cv2.GaussianBlur(wa, (0, 0), band_limit)
        wb = cv2.GaussianBlur(wb, (0, 0), band_limit)
    chroma = _chroma_limit(codecs, codec_scales, factor) if wa.ndim == 3 else (0.0, 0.0)
    if max(chroma) > 0:  # a side stores coarser chroma: both compared at that chroma resolution
        wa, wb = _chroma_blur(wa, chroma), _chroma_blur(wb, chroma)
    # every level is judged in the pair's own used range, never the container's (compare.levels):
    # SSIM's constants, clip levels, noise floors; the reported figures are converted back
    step = max(lsb)
    la, lb = _luma(wa), _luma(wb)
    levels = _level_ratios(wa, wb)  # what "brighter" means where no structure carries a gain
    q_noise = quantisation_noise(step, factor)  # no noise estimate may go below the rounding's
    blank_a, blank_b = (is_flat(x, noise_floor=q_noise) for x in (la, lb))  # before scaling (no rounding)
    lv = level_scale(la, lb, step=step)
    if lv != 1.0:
        wa, wb, la, lb = (x * np.float32(lv) for x in (wa, wb, la, lb))
        noise_sigma = None if noise_sigma is None else noise_sigma * lv
    clip_a, clip_b = clip_levels(a_pixels), clip_levels(b_pixels)
    clip_raw = (clip_a, clip_b)  # each side's own (compare.specks reads the stored samples)
    if mapped is not None and mapped.two_level:  # levels, not light: neither end is a clipping of B's
        clip_b = clip_a
    elif mapped is not None:
        clip_b = (clip_b[0] * k_map + mapped.c, clip_b[1] * k_map + mapped.c)
    clip_a, clip_b = ((lo * lv, hi * lv) for lo, hi in (clip_a, clip_b))
    floor = FLOOR_LSB * step * lv
    h, w = la.shape
    if blank_a and blank_b:  # nothing to register: the residual at zero shift decides
        dx, dy, response = 0.0, 0.0, 0.0
        noise_a, noise_b = _pixel_noise(la), _pixel_noise(lb)
    else:  # the two noise estimates (before any resampling smooths them) beside the registration
        noises = [_tasks().submit(_pixel_noise, x) for x in (la, lb)]
        dx, dy, response = _register(la, lb)
        noise_a, noise_b = (f.result() for f in noises)
    if pre_noise is not None:
        noise_a, noise_b = pre_noise[0] * lv, pre_noise[1] * lv
    noise_a, noise_b = max(noise_a, q_noise * lv), max(noise_b, q_noise * lv)
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
    overlap = float(np.count_nonzero(valid)) / (h * w)
    fine_job = None
    if factor > 1 and valid.any():  # a refocus of a few full-resolution pixels hides below the working scale
        fine_job = _tasks().submit(_fine_of, lumas, a_pixels, b_pixels, dx * factor, dy * factor, band_limit)

    chans_a = [wa] if wa.ndim == 2 else cv2.split(wa)
    chans_b = [bw] if bw.ndim == 2 else cv2.split(bw)
    names = "Y" if len(chans_a) == 1 else "BGR"
    unclipped = valid.copy()
    for ca, cb in zip(chans_a, chans_b):
        unclipped &= (ca > clip_a[0]) & (ca < clip_a[1]) & (cb > clip_b[0]) & (cb < clip_b[1])
    fit_mask = unclipped if np.count_nonzero(unclipped) > 64 else valid
    step = max(1, int(np.sqrt(np.count_nonzero(fit_mask) / 20000)))  # fit on <= ~20k samples
    sub = np.zeros_like(fit_mask)
    sub[::step, ::step] = fit_mask[::step, ::step]
    inside = bool(x1 - x0 > 8 and y1 - y0 > 8)

    def zero_outside(x: np.ndarray) -> None:  # x[~valid] = 0, without a mask pass (valid is a box)
        if not inside:
            x[...] = 0
            return
        x[:y0] = 0
        x[y1:] = 0
        x[:, :x0] = 0
        x[:, x1:] = 0

    at = np.flatnonzero(sub)  # the fit's samples: x.ravel()[at] is x[sub] (C order), without a mask pass
    any_sub = at.size > 0
    # frames of one stream: where the codec coded, among every sample the fit could use (not only the
    # fit's subsample: a cell's count of coded samples must not depend on the frame's size; every channel alike)
    at_all, cells = at, None
    if blocks is not None and any_sub:
        at_all = np.flatnonzero(fit_mask)
        cells = coded_cells(at_all, (h, w), blocks, factor)

    def pick(x: np.ndarray) -> np.ndarray:
        return x.ravel().take(at)

    alias_lv = None if alias is None else alias * np.float32(lv)  # the aliasing in working units, once

    def channel(ca, cb, cname):
        """One channel's gain, offset, noise and residual in tolerances (channels are independent)."""
        sa1, sb1 = cv2.GaussianBlur(ca, (0, 0), 1.0), cv2.GaussianBlur(cb, (0, 0), 1.0)
        if any_sub:
            # fit on lightly smoothed images (less noise, same gain); whether the structure
            # carries a gain is judged without the slowly varying part (shading, illumination)
            big = max(h, w) / 16.0
            na, nb = noise_a ** 2 * g2, noise_b ** 2 * g2
            ha, hb = sa1 - _coarse(ca, big), sb1 - _coarse(cb, big)
            a_at, b_at = pick(sa1), pick(sb1)
            weak = not _gain_carried(pick(ha), pick(hb), a_at, b_at, na, nb)
            g, o = _fit(a_at, b_at, na=na, nb=nb, floor=10 * floor, weak=weak)
        else:
            g, o = 1.0, 0.0
            a_at = b_at = None
        bn = (cb - np.float32(o)) / np.float32(g if abs(g) > 1e-3 else 1.0)
        resid = _interval_residual(ca, cb, bn, clip_a, clip_b)
        zero_outside(resid)
        shade = _remove_shading(resid, valid, sa1, lsb=floor / FLOOR_LSB)
        smooth = cv2.GaussianBlur(resid, (0, 0), SMOOTH_SIGMA)
        raw_sigma = _robust_sigma(pick(resid)) if any_sub else 0.0
        if noise_sigma is not None:
            # profile: per-frame sigma at full scale -> difference of two frames at working scale
            raw_sigma = math.sqrt(2.0) * noise_sigma / factor
        # noise of the smoothed residual: measured on the residual itself (robust)
        s_sigma = _robust_sigma(pick(smooth)) if any_sub else 0.0
        profiled = 0.0  # a device profile's noise: a floor under every noise estimate
        if noise_sigma is not None:
            profiled = raw_sigma * _gauss_noise_gain(SMOOTH_SIGMA)
            s_sigma = max(s_sigma, profiled)
        cf = _codec_sigma(codecs, codec_scales, factor, cname, SMOOTH_SIGMA, gains=(1.0, k_map)) * lv
        sa15 = cv2.GaussianBlur(ca, (0, 0), SMOOTH_SIGMA)
        # frames of one video stream: the noise of the blocks its codec coded
        vf = coded_noise(smooth, sa15, at_all, cells) if cells is not None else 0.0
        video = vf > max(cf, s_sigma)
        cf = max(cf, vf)
        bound = cf > s_sigma
        s_sigma = max(s_sigma, cf, floor)
        gx = cv2.Sobel(sa15, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
        gy = cv2.Sobel(sa15, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
        # the noise by level, measured on the residual at the lower side's level: A's, plus the
        # (smoothed) residual where B is the darker
        lower = np.minimum(smooth, np.float32(0))
        lower += sa15
        by_level = level_sigma(smooth, lower, at, max(cf, floor, profiled), LOCAL_MAX * s_sigma,
                               raw=resid) if any_sub else None
        # block spreads below what the floors not measured on the blocks give measure nothing (cause
        # 40) -- but between frames of a video stream, whose copied blocks carry no noise at all,
        # the blocks it coded are judged as before (their re-coding is heavy-tailed: causes 29, 31)
        spread_floor = max(cf, floor, profiled) * lag_gain(SMOOTH_SIGMA) if cells is None else 0.0
        s_local = _local_sigma(smooth, valid, s_sigma, by_level, floor=spread_floor)
        # a field that jitters by the registered shift as a whole may deform by as much during a
        # scan: only a block displaced further than that (and than the edge slack) moved
        motion = None
        if cname in "YG":  # a motion moves every channel alike: judged once, on luma's main part
            slack = max(edge_slack, math.hypot(dx, dy))
            obj_at = []  # where the objects are, on this grid (boxes of compare.motion.moved_objects)
            motion = moved_blocks(smooth, gx, gy, valid, sigma=s_local, smooth=SMOOTH_SIGMA, slack=slack,
                                  block=LOCAL_BLOCK) + moved_objects(
                resid, sa15, gx, gy, valid, slack=slack, noise_var=(s_sigma / _gauss_noise_gain(SMOOTH_SIGMA)) ** 2,
                alias=alias_lv, object_px=OBJECT_PX / factor, boxes=obj_at) + (obj_at,)
        if alias_lv is not None:  # a resampling's aliasing, like a codec's quantisation
            s_local = np.sqrt(s_local * s_local + alias_lv ** 2)
        edge = gx * gx  # slack^2 (gx^2 + gy^2): the misregistration tolerated at edges
        edge += gy * gy
        edge *= np.float32(edge_slack) ** 2
        z = _in_tolerances(smooth, s_local, edge)
        if cname in "YG":
            # cause 34: the same residual without what a displacement of up to a pixel explains,
            # each block judged by that part's noise -- edges that jitter (two binarised boards)
            # would raise their blocks' noise until a defect beside them read as noise. A
            # displacement moves every channel alike: judged once, on luma's main part (a chroma
            # subsampling's error at colour edges is no displacement, and stays judged as before)
            gap = unexplained_by_shift(sa15, smooth)
            # ... against the noise measured away from edges: the frame's figure counts the
            # displacement the gap leaves out (cause 36)
            calm = max(calm_sigma(smooth, sa15, at, s_sigma, w), cf, floor, profiled) if any_sub else s_sigma
            s_gap = _local_sigma(gap, valid, calm, by_level)  # (no floor: the gap is zero by construction
            # wherever a displacement explains the residual, so its median block measures no noise)
            if alias_lv is not None:
                s_gap = np.sqrt(s_gap * s_gap + alias_lv ** 2)
            np.maximum(z, _in_tolerances(gap, s_gap, edge), out=z)
        zero_outside(z)
        # objects whose light came or went, for the full-resolution light test (cause 42); not
        # between frames of one stream (its codec re-codes a block's light: cause 31), nor against
        # a rescaled copy (a resampling without a prefilter keeps or drops a small object's pixels:
        # its light is not kept; nearest-neighbour copies read "2 objects dimmed by up to 21 %")
        seeds = light_seeds(smooth, sa15, s_local, at, factor, smoothing=SMOOTH_SIGMA, seen=z, valid=valid,
                            offset=(-dx / 2, -dy / 2)) \
            if cname in "YG" and cells is None and alias is None and any_sub else []
        # what a function of A's level explains of the residual frame-wide (a tone curve), which the
        # light test puts A through (cause 43): read only when a light test runs (tone_of below)
        curve = functools.partial(tone_curve, resid, ca, at, noise=s_sigma) if cname in "YG" and any_sub else None
        return g, o, raw_sigma, shade, cf, (bound, video), motion, z, bn, (a_at, b_at), (seeds, curve)

    # the channels run side by side (OpenCV and numpy release the GIL); results are combined in order
    jobs = [_tasks().submit(channel, ca, cb, cname) for ca, cb, cname in zip(chans_a[1:], chans_b[1:], names[1:])]
    results = [channel(chans_a[0], chans_b[0], names[0])] + [f.result() for f in jobs]
    gains, offsets, z_max = [], [], np.zeros((h, w), np.float32)
    sigmas, codec_floor, codec_bound, video_bound, shading = [], 0.0, False, False, 0.0
    moved, moved_px, objects, objects_px = 0.0, 0.0, 0, 0.0
    objects_at: list[MovedObject] = []  # where, in A's pixels
    bn = []  # B normalised per channel, as each channel's residual used it
    fit_samples = []  # each channel's smoothed samples of A and B (the fit's): the channel order's
    lit: list = []  # light seeds (cause 42)
    tone_of = None  # the frame's tone curve, from luma's main part, when asked (cause 43)
    for g, o, raw_sigma, shade, cf, (bound, video), motion, z, b_norm, samples, (seeds, curve) in results:
        lit += seeds
        tone_of = tone_of or curve
        fit_samples.append(samples)
        bn.append(b_norm)
        gains.append(g)
        offsets.append(o)
        shading = max(shading, shade)
        sigmas.append(raw_sigma)
        codec_bound = codec_bound or bound
        video_bound = video_bound or video
        codec_floor = max(codec_floor, cf)
        if motion is not None:
            moved, moved_px, objects, objects_px, boxes = motion
            objects_at = [MovedObject(x=max(0, round((bx - dx / 2) * factor)), y=max(0, round((by - dy / 2) * factor)),
                                      width=bw * factor, height=bh * factor, px=px * factor)
                          for bx, by, bw, bh, px in boxes]
        np.maximum(z_max, z, out=z_max)

    order = channel_order([x for x, _ in fit_samples], [y for _, y in fit_samples]) \
        if len(chans_a) == 3 and any_sub else None
    y_w = np.array(LUMA_BGR if len(gains) == 3 else (1.0,))
    gain = float(np.dot(y_w, gains))
    raw_gain = gain / k_map  # B's gain before the range map: what the full-resolution lumas carry
    offset = float(np.dot(y_w, offsets))
    # per-frame noise at full resolution: the difference of two frames carries sqrt(2) of it, and
    # area averaging by `factor` divided white noise by `factor`
    noise = noise_sigma if noise_sigma is not None else float(np.mean(sigmas)) * factor / math.sqrt(2.0)

    la_n = _luma(wa) if wa.ndim == 3 else wa
    lb_n = cv2.cvtColor(cv2.merge(bn), cv2.COLOR_BGR2GRAY) if len(bn) == 3 else bn[0]
    # aligned, normalised, denoised similarity over the overlap (beside the regions)
    structured, sharp, blur = True, 0.0, 0.0
    tilted: tuple[TileFocus, ...] = ()
    tile = min(FINE_TILE, y1 - y0, x1 - x0) if factor == 1 else 0  # the working grid is the full-resolution one
    if valid.any():
        sa = cv2.GaussianBlur(la_n, (0, 0), 1.0)[y0:y1, x0:x1]
        sb = cv2.GaussianBlur(lb_n, (0, 0), 1.0)[y0:y1, x0:x1]
        nb_norm = noise_b / max(abs(gain), 1e-3)
        # a difference that is the cameras' noise (correlated by demosaicing or binning, but over a
        # pixel or two), unless only the layout agrees: the SSIM takes its spread as the noise
        corr, structured, noisy = structure_agreement(noise_a, nb_norm, sa, sb, la_n[y0:y1, x0:x1],
                                                      lb_n[y0:y1, x0:x1])
        agree = structured and (corr >= SSIM_NOISE_CORR or noisy)
        codec_var = [(_codec_sigma(codecs, codec_scales, factor, "Y", math.hypot(1.0, e), gains=(1.0, k_map)) * lv) ** 2
                     for e in SSIM_SCALES]
        s_job = _tasks().submit(signal_ssim, sa, sb, g2 * (noise_a ** 2 + nb_norm ** 2), agree=agree,
                                codec_var=codec_var) \
            if min(sa.shape) >= 11 else None
        work_job = (_tasks().submit(tiled_band_energies, la_n[y0:y1, x0:x1], lb_n[y0:y1, x0:x1], tile) if tile >= 32
                    else _tasks().submit(band_energies, la_n[y0:y1, x0:x1], lb_n[y0:y1, x0:x1]))
    small: list = []
    regions, changed = _regions(z_max, valid, factor, min_region_px, offset=(-dx / 2, -dy / 2),
                                a=la_n, b=lb_n, small=small)
    # too small at the working scale: the same rule at full resolution (compare.specks); at full
    # resolution already, only whether their light changed (cause 41) -- but not between frames of
    # one stream, whose codec re-codes a block's light by up to tens of levels (cause 31)
    # the full-resolution reading (compare.specks), with what every call of it shares; the tone
    # curve, in 8-bit levels as the full resolution reads them, only where a light test runs
    tone = tone_of() if tone_of is not None and cells is None and (small or lit) else None
    judge = functools.partial(confirmed, a_pixels, b_pixels, shift=(dx * factor, dy * factor), lsb=lsb_stored,
                              clip_a=clip_raw[0], clip_b=clip_raw[1],
                              floor=math.hypot(*map(quantisation_noise, lsb_stored)),
                              edge_slack=edge_slack * factor, band_limit=band_limit,
                              codec=lambda c: _codec_sigma(codecs, codec_scales, 1, c, 0.0, gains=(1.0, k_map)),
                              gains=tuple(g / k_map for g in gains), tone=None if tone is None else tone.scaled(lv))

    def add(found: list[Region]) -> None:
        nonlocal regions, changed
        regions = sorted(regions + found, key=lambda r: -r.area)
        changed += sum(math.ceil(r.area / (factor * factor)) for r in found)

    if small and (factor > 1 or cells is None):
        full_moved: list[tuple[int, float, list]] = []
        add(judge(small, moved=None if objects or factor == 1 else full_moved, pointwise=factor > 1,
                  light=cells is None))
        if full_moved:  # objects that moved by less than the working scale sees (full-resolution pixels)
            objects += sum(n for n, _, _ in full_moved)
            objects_px = max(objects_px, max(px for _, px, _ in full_moved) / factor)
            objects_at += [MovedObject(x=bx, y=by, width=bw, height=bh, px=px) for _, _, boxes in full_moved
                           for bx, by, bw, bh, px in boxes]
    # objects whose light changed within the edges' slack, which seeded no region (cause 42): only
    # the light test, on those no region or candidate holds already
    lit = [s for s in lit if not any(overlaps(s[1:], (r.x, r.y, r.width, r.height)) for r in regions)
           and not any(overlaps(s[1:], c[1:]) for c in small)]
    if lit:
        add(judge(lit, pointwise=False, known=tuple((r.x, r.y, r.width, r.height) for r in regions), by_light=True))
    if valid.any():
        s_al = s_job.result() if s_job is not None else corr
        # the codec's quantisation noise per band, in the working units (level-scaled, B on A's gain)
        q_work = codec_band_noise(codecs, codec_scales, factor, band_limit=band_limit if factor == 1 else 0.0,
                                  gains=(1.0, raw_gain)) * (lv * lv)
        fine: FineEnergies | None = None
        if tile >= 32:  # the full-resolution tiles come from the same band-passes
            total, tiles = work_job.result()
            work = with_noise(total, q_work)
            fine = FineEnergies(total=work, tiles=tuple((x + x0, y + y0, tile, with_noise(e, q_work)) for x, y, e in tiles))
        else:
            work = with_noise(work_job.result(), q_work)
        sharp, blur = sharpness_from_energies(work), blur_from_energies(work) * factor
        if fine_job is not None:  # B on A's gain (an exposure change is no refocus), and the codec's noise
            fine = on_gain(fine_job.result(), raw_gain,
                           codec_band_noise(codecs, codec_scales, 1, band_limit=band_limit, gains=(1.0, raw_gain)))
            if fine is not None:
                fs, fb = sharpness_from_energies(fine.total), blur_from_energies(fine.total)
                sharp = fs if abs(fs) > abs(sharp) else sharp
                blur = fb if abs(fb) > abs(blur) else blur
        tilted = tilted_focus(fine)
    else:
        corr, s_al = 0.0, 0.0
    changed_fraction = changed / max(1, int(np.count_nonzero(valid)))
    if noise_sigma is None:  # reported noise: never below the rounding's (a frame quantised to zero)
        noise = max(noise, q_noise * factor * lv)
    noise, offset, codec_floor = noise / lv, offset / lv, codec_floor / lv  # back to 8-bit DN
    return Analysis(scale=factor, shift=(dx * factor, dy * factor), shift_response=response,
                    gain=gain, offset=offset, channel_gains=tuple(float(g) for g in gains),
                    noise_sigma=noise, noise_source="profile" if noise_sigma is not None else "images",
                    correlation=corr if math.isfinite(corr) else 0.0, ssim_aligned=float(s_al),
                    overlap=overlap, changed_fraction=changed_fraction, regions=tuple(regions),
                    structured=structured, sharpness_change=sharp, blur=blur, codec_sigma=codec_floor,
                    codec_bound=codec_bound, shading=shading,
                    copied_blocks=blocks.copied if blocks is not None and video_bound else 0.0, blank=(blank_a, blank_b),
                    moved=moved, moved_px=moved_px * factor, moved_objects=objects,
                    moved_objects_px=objects_px * factor,
                    moved_objects_at=tuple(sorted(objects_at, key=lambda o: -o.px)), focus_tiles=tilted,
                    level_change=levels[0], channel_levels=levels[1], channel_order=order,
                    levels_map=None if mapped is None else (
                        raw_gain * lsb_stored[0] / lsb_stored[1], (offset - mapped.c) / (k_map * lsb_stored[1])))

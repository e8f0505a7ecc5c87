"""Changed regions, what kind of change each is, and whether the structure or focus changed.

* :func:`_regions`: hysteresis regions of the residual in tolerances; small regions count when
  strong; each classified by :func:`_classify` as ``dimmed``/``brightened`` (A's structure at
  another intensity: bleaching, focus drift), ``shading`` (no object, only a slope of light that
  B holds at another slope: the illumination's falloff) or ``changed`` (structure appeared,
  vanished, moved);
* :func:`_structure_correlation`: the aligned correlation with each side's noise removed;
* :func:`sharpness_change`: a refocus from band-pass cross energies.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from .noise_floor import _gauss_noise_gain, second_difference_sigma, second_differences
from .signal_ssim import SSIM_NOISE_CORR

Z_HIGH = 6.0             # seed threshold, in tolerances
Z_LOW = 3.5              # growth threshold, in tolerances
Z_STRONG = 7.0           # a region this strong (mean, in tolerances) counts below min_region
STRONG_PX = 12           # ... over at least this many working pixels
SHARED_Z = 4.0           # cross energy of a band, in standard errors of noise alone: detail
SHARED_COHERENCE = 0.5   # ... and at least this part of the two sides' energies (geometric mean)
BANDS_SIGMA = (0.7, 1.4, 2.8)  # Gaussian sigmas bounding the octave bands of the sharpness test
SAME_STRUCTURE = 0.9     # correlation inside a region for "same structure, other intensity"
INTENSITY_MIN = 0.03     # ... and a slope off 1 by at least this: dimmed or brightened
INTENSITY_RANGE = (0.2, 5.0)  # ... within these slopes (beyond them the object is gone or new: changed)


@dataclass(frozen=True)
class Region:
    x: int
    y: int
    width: int
    height: int
    area: int          # changed pixels, in A's pixels
    strength: float    # mean |residual| in tolerances
    kind: str = "changed"        # "dimmed" / "brightened": same structure, other intensity; "shading":
    #                              no structure, another slope of light
    intensity: float = 0.0       # relative intensity change of the structure (-0.3 = 30 % dimmer)

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height,
                "area": self.area, "strength": round(self.strength, 2), "kind": self.kind,
                "intensity_change": round(self.intensity, 4)}


def overlaps(p, q) -> bool:
    """Whether boxes ``(x, y, width, height)`` ``p`` and ``q`` overlap.

    >>> overlaps((0, 0, 4, 4), (3, 3, 2, 2)), overlaps((0, 0, 4, 4), (4, 0, 2, 2))
    (True, False)
    """
    return p[0] < q[0] + q[2] and q[0] < p[0] + p[2] and p[1] < q[1] + q[3] and q[1] < p[1] + p[3]


#: The farthest a camera's own noise reaches: demosaicing and binning correlate neighbouring pixels,
#: not pixels 2 apart. A difference of two frames whose autocorrelation at lag 2 is at most this is
#: noise-like (measured: FMD widefield and CC15/PolyU camera shots 0.11-0.26; refocus differences of a
#: brightfield z-series 0.50-0.70).
NOISE_REACH_ACF = 0.35


def difference_reach(a: np.ndarray, b: np.ndarray) -> float:
    """The autocorrelation two pixels apart (across and down, averaged) of the aligned difference
    ``b - a``, slow shading (a Gaussian of 8 px) taken out; NaN for a difference without variance
    or an overlap under 24 px. A camera's noise, demosaiced or binned, reaches a pixel or so; a
    change -- an object, a refocus -- is correlated over its own size."""
    if min(a.shape) < 24:
        return math.nan
    d = (b - a).astype(np.float32)
    d -= cv2.GaussianBlur(d, (0, 0), 8.0)
    v = float(np.mean(d * d))
    if not v > 0:
        return math.nan
    return 0.5 * (float(np.mean(d[:, :-2] * d[:, 2:])) + float(np.mean(d[:-2] * d[2:]))) / v


def noise_like(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the aligned difference of ``a`` and ``b`` (normalised lumas) is noise-like: its
    :func:`difference_reach` is at most ``NOISE_REACH_ACF``."""
    return difference_reach(a, b) <= NOISE_REACH_ACF  # NaN: False


#: The layout of a field -- where it is bright, where dark, over tens of pixels -- is shared by two
#: fields of one sample (a cell body at the lower left of both): the structure finer than a Gaussian
#: of this many working pixels is what a field has of its own (cause 47).
LAYOUT_SIGMA = 16.0
#: A noise-like difference (``noise_like``) says the two sides agree only when their structure finer
#: than the layout agrees too: its disattenuated correlation at least this. Measured on the tuning set
#: and splits 1-6 and 11 (session 28): other fields -0.07 to 0.19 (W2S shots against the next
#: field's mean, another position, far windows); another stain of the same cells 0.45; the same
#: field, changed or not, 0.58-0.94 (time-lapse steps, refocus, FMD widefield repeats 0.76-0.94).
FINE_CORR = 0.5


def fine_correlation(noise_a: float, noise_b: float, sa: np.ndarray, sb: np.ndarray) -> float | None:
    """:func:`_structure_correlation` of the structure finer than the layout (a Gaussian of
    ``LAYOUT_SIGMA`` px taken out of each side; the noise as a noise-like difference measures it),
    or None where that structure is not above its noise on both sides (nothing to tell by)."""
    ha = sa - cv2.GaussianBlur(sa, (0, 0), LAYOUT_SIGMA)
    hb = sb - cv2.GaussianBlur(sb, (0, 0), LAYOUT_SIGMA)
    corr, structured = _structure_correlation(noise_a, noise_b, ha, hb, noise_like=True)
    return corr if structured else None


def structure_agreement(noise_a: float, noise_b: float, sa: np.ndarray, sb: np.ndarray, la: np.ndarray,
                        lb: np.ndarray) -> tuple[float, bool, bool]:
    """The aligned structure correlation (:func:`_structure_correlation` of the smoothed lumas
    ``sa``/``sb``), whether it is ``structured``, and whether the difference of the lumas ``la``/``lb``
    is the cameras' noise (``noisy``: the SSIM then measures its noise on the difference).

    A difference that reaches a pixel or two (:func:`noise_like`, cause 45) is noise, and each side's
    noise at the blur's scale is taken uncapped -- unless, the whole correlating under
    ``SSIM_NOISE_CORR``, what correlates is the layout alone: two fields of one sample, one a noisy
    shot, differ by its noise at every pixel and share where they are bright (cause 47). Then the
    structure finer than the layout must agree (:func:`fine_correlation` at least ``FINE_CORR``), or
    the pair is judged as any other."""
    noisy = noise_like(la, lb)
    corr, structured = _structure_correlation(noise_a, noise_b, sa, sb, noise_like=noisy)
    if noisy and structured and corr < SSIM_NOISE_CORR:
        fine = fine_correlation(noise_a, noise_b, sa, sb)
        if fine is not None and fine < FINE_CORR:
            corr, structured = _structure_correlation(noise_a, noise_b, sa, sb)
            return corr, structured, False
    return corr, structured, noisy


def _structure_correlation(noise_a: float, noise_b: float, sa, sb, *, noise_like: bool = False) -> tuple[float, bool]:
    """Correlation of the aligned, smoothed luma with each side's own noise removed from its
    variance (disattenuated): one noisy shot against a clean mean correlates 1, not 0.6. Frames
    with no structure above their noise have no meaningful correlation: ``structured`` is False
    and only the residual tests can answer.

    Each side's noise variance at this scale is the larger of its per-pixel noise carried through
    the blur as white noise and the noise measured on the smoothed image itself
    (:func:`compare.noise_floor.smoothed_noise`: a camera's noise is correlated). Texture also reads
    as noise there, so the measured part is bounded twice: by the per-pixel noise (no more noise than
    a pixel carries is put down to the blur's scale; without this bound the planes 1.2 um apart of a
    small brightfield z-series read as noise and as the same field), and both sides' together by the
    noise of their aligned difference, which holds both noises and, where the field is the same,
    nothing else."""
    g2 = _gauss_noise_gain(1.0) ** 2
    da, db = second_differences(sa), second_differences(sb)  # of the difference: da - db (linear)
    if noise_like:  # the difference is the cameras' noise: its correlation is the noise's, not texture
        ma, mb = second_difference_sigma(da) ** 2, second_difference_sigma(db) ** 2
    else:
        ma, mb = min(second_difference_sigma(da), noise_a) ** 2, min(second_difference_sigma(db), noise_b) ** 2
    both = second_difference_sigma(da - db) ** 2
    if ma + mb > both:
        ma, mb = ma * both / (ma + mb), mb * both / (ma + mb)
    na, nb = max((noise_a ** 2) * g2, ma), max((noise_b ** 2) * g2, mb)
    va, vb = float(sa.var()), float(sb.var())
    cov = float(np.mean((sa - sa.mean()) * (sb - sb.mean())))
    siga, sigb = va - na, vb - nb
    structured = min(siga - na, sigb - nb) > 0  # signal variance above its noise variance on both
    if not structured:
        return (cov / math.sqrt(va * vb) if va > 0 and vb > 0 else 0.0), False
    return max(-1.0, min(1.0, cov / math.sqrt(siga * sigb))), True


def band_energies(a: np.ndarray, b: np.ndarray, *, crop: int = 0) -> np.ndarray:
    """Band-pass energy sums of two aligned images: one row per band of ``BANDS`` (sigma ``s`` to
    ``2 s``), columns ``sum Da^2``, ``sum Db^2``, ``sum Da Db``, the sample count and
    ``sum grad Da . grad Db`` (central differences), over the images less ``crop`` pixels at each
    border (the blur's reach into a tile's padding), and two columns for the codec noise each
    side may carry in the band, summed over the samples (0 here: :func:`compare.focus.with_noise`
    fills them). Rows of several tiles add up (:func:`sharpness_from_energies`,
    :func:`blur_from_energies`)."""
    return _band_sums(a, b, crop, 0)[0]


def tiled_band_energies(a: np.ndarray, b: np.ndarray, tile: int):
    """:func:`band_energies` of the whole images and of each ``tile x tile`` block of them (the
    blocks that fit, from the top left), from one pass of band-passes: ``(total, [(x, y, rows),
    ...])``. A block's gradient column is over its samples with both neighbours inside the image."""
    return _band_sums(a, b, 0, tile)


def _band_sums(a, b, crop: int, tile: int):
    ga = [a] + [cv2.GaussianBlur(a, (0, 0), s, borderType=cv2.BORDER_REFLECT) for s in BANDS_SIGMA]
    gb = [b] + [cv2.GaussianBlur(b, (0, 0), s, borderType=cv2.BORDER_REFLECT) for s in BANDS_SIGMA]
    out = np.zeros((len(BANDS_SIGMA) - 1, 7), np.float64)
    inner = (slice(crop, a.shape[0] - crop), slice(crop, a.shape[1] - crop)) if crop else (slice(None),) * 2
    h, w = a.shape[0] - 2 * crop, a.shape[1] - 2 * crop
    ny, nx = (h // tile, w // tile) if tile else (0, 0)
    blocks = np.zeros((ny, nx, len(BANDS_SIGMA) - 1, 7), np.float64)

    def per_block(x: np.ndarray) -> np.ndarray:
        return x[:ny * tile, :nx * tile].reshape(ny, tile, nx, tile).sum(axis=(1, 3), dtype=np.float64)
    if ny and nx:  # samples of each block with both neighbours inside (the gradient's)
        inside = np.zeros((h, w), np.float32)
        inside[1:-1, 1:-1] = 1.0
        n_in = np.maximum(per_block(inside), 1.0)
    for i in range(1, len(BANDS_SIGMA)):
        da, db = (ga[i] - ga[i + 1])[inner], (gb[i] - gb[i + 1])[inner]
        gx = (da[1:-1, 2:] - da[1:-1, :-2]) * (db[1:-1, 2:] - db[1:-1, :-2])
        gy = (da[2:, 1:-1] - da[:-2, 1:-1]) * (db[2:, 1:-1] - db[:-2, 1:-1])
        grad = float(np.sum(gx) + np.sum(gy)) / 4.0 * da.size / max(1, gx.size)
        paa, pbb, pab = da * da, db * db, da * db
        out[i - 1, :5] = (float(np.sum(paa)), float(np.sum(pbb)), float(np.sum(pab)), da.size, grad)
        if ny and nx:
            g = np.zeros_like(da)
            g[1:-1, 1:-1] = (gx + gy) / 4.0
            blocks[:, :, i - 1, 0] = per_block(paa)
            blocks[:, :, i - 1, 1] = per_block(pbb)
            blocks[:, :, i - 1, 2] = per_block(pab)
            blocks[:, :, i - 1, 3] = tile * tile
            blocks[:, :, i - 1, 4] = per_block(g) * (tile * tile) / n_in
    tiles = [(ix * tile, iy * tile, blocks[iy, ix]) for iy in range(ny) for ix in range(nx)]
    return out, tiles


def sharpness_from_energies(energies: np.ndarray) -> float:
    """Relative change of fine detail from A to B (``-0.35`` = B 35 % less sharp) from the band
    energies of :func:`band_energies`.

    With ``D`` a band-pass of each image, independent noise only adds to ``E[D_a^2]`` and
    ``E[D_b^2]`` while the cross energy ``E[D_a D_b]`` holds the shared detail. A blur (filter
    gain ``|H| <= 1``) leaves its side with less energy than the cross energy; noise, dropped
    coefficients (JPEG) or a common band limit cannot. So the side whose own energy falls below
    the cross energy is the blurrier one, by that ratio. A band counts only where the shared detail
    stands out of the spread noise alone gives the cross energy: ``SHARED_Z`` standard errors,
    ``sqrt(E[D_a^2] E[D_b^2] / n_eff)`` with ``n_eff`` the samples over the band's correlation
    area (``4 pi s^2``) -- so the whole frame at full resolution can judge a faint, noisy band
    that a few tiles could not. A band judges focus only where the shared detail also stands above
    the noise of each side: the band's coherence ``E[D_a D_b] / sqrt(E[D_a^2] E[D_b^2])`` is at
    least ``SHARED_COHERENCE`` = 1/2, the coherence of two sides whose detail equals their noise
    (signal-to-noise 1 on both). Below it the band is noise-like in one frame: a single shot
    against the mean of many (whose averaging of the registration jitter softens it) differs there
    without any refocus. Nor where the shared detail is below the quantisation noise a lossy side's
    tables allow in the band (``q^2 / 12`` per coefficient through the band-pass,
    :func:`compare.focus.codec_band_noise`): a re-encode's error is not independent of the picture
    (the new block pattern repeats the old one's), so neither the coherence nor the cross energy
    tells it from detail. The larger change of the bands wins.
    """
    best = 0.0
    for row, s in zip(energies, BANDS_SIGMA[1:]):
        change = _band_ratio(row, s)
        if change is not None and abs(change) > abs(best):
            best = change
    return best


def _band_ratio(row, s: float) -> float | None:
    """The relative change of one band's shared detail (see :func:`sharpness_from_energies`), None
    when the band's shared detail does not stand out of the noise."""
    saa, sbb, sab, n = row[:4]
    if n <= 0:
        return None
    eaa, ebb, eab = saa / n, sbb / n, sab / n
    n_eff = max(1.0, n / (4 * math.pi * s * s))
    if eab <= 1e-12 or eab < SHARED_Z * math.sqrt(eaa * ebb / n_eff):
        return None
    if eab < SHARED_COHERENCE * math.sqrt(eaa * ebb):  # the detail is below one side's noise
        return None
    if len(row) > 6 and eab < max(row[5], row[6]) / n:  # ... or below a codec's quantisation noise
        return None
    return ebb / eab - 1.0 if ebb < eab else (eab / eaa - 1.0 if eaa < eab else 0.0)


def band_blurs(energies: np.ndarray):
    """For each band whose shared detail is judged (:func:`_band_ratio`): the Gaussian blur
    (sigma, pixels; negative when B is the blurrier, 0 when neither side's energy is below the
    cross energy) and its significance, the blurrier side's energy deficit ``E[Da Db] - E[Db^2]``
    in standard errors of noise. Without a blur, ``E[Db (Da - Db)]`` averages ``-N_b`` (B's
    noise) and, with ``r = E[(Da - Db)^2]`` the residual energy (both sides' noise, ``N_a +
    N_b``), its variance is ``(S r + N_a N_b + 2 N_b^2) / n_eff`` -- at most ``(E[Db^2] r + r^2)
    / n_eff`` whatever the split of the noise, which is used. ``n_eff`` is the samples over the
    band's correlation area :func:`_corr_area` (products of band-passed noise).

    A blur of sigma ``t`` multiplies the detail at frequency ``f`` by ``H = exp(-2 pi^2 t^2 f^2)``.
    In a band the ratio ``R`` of the blurrier side's energy to the cross energy is ``H`` at the
    band's effective frequency, and the ratio of the gradients' cross energy to the cross energy
    is ``(2 pi f)^2`` there, so ``t^2 = -2 ln(R) E[Da Db] / E[grad Da . grad Db]``."""
    for row, s in zip(energies, BANDS_SIGMA[1:]):
        change = _band_ratio(row, s)
        if change is None:
            continue
        if change == 0.0 or row[4] <= 0:
            yield 0.0, 0.0
            continue
        saa, sbb, sab, n = row[:4]
        ratio = 1.0 + change if change < 0 else 1.0 / (1.0 + change)
        t = math.sqrt(max(0.0, -2.0 * math.log(max(ratio, 1e-9)) * row[2] / row[4]))
        own = sbb if change < 0 else saa                     # the blurrier side's energy
        resid = max(saa + sbb - 2 * sab, 1e-12 * (saa + sbb))
        z = (sab - own) / math.sqrt((own * resid + resid * resid) * _corr_area(s) / n)  # sums: / n once
        yield (-t if change < 0 else t), z


@functools.lru_cache(maxsize=8)
def _corr_area(s: float) -> float:
    """Correlation area (pixels) of a product of two independent white noises through the band
    ``G(s / 2) - G(s)`` of :func:`band_energies`: ``sum rho^2`` of the band-passed noise's
    autocorrelation ``rho`` -- the variance of a mean of ``n`` such products is ``area / n``
    times the product of their variances.

    >>> round(_corr_area(1.4), 2), round(_corr_area(2.8), 2)
    (1.88, 8.12)
    """
    size = 2 * math.ceil(8 * s) + 1
    imp = np.zeros((size, size), np.float32)
    imp[size // 2, size // 2] = 1.0
    k = cv2.GaussianBlur(imp, (0, 0), s / 2) - cv2.GaussianBlur(imp, (0, 0), s)
    auto = cv2.filter2D(k, cv2.CV_64F, k[::-1, ::-1].copy(), borderType=cv2.BORDER_CONSTANT)
    rho = auto / auto[size // 2, size // 2]
    return float((rho * rho).sum())


def blur_from_energies(energies: np.ndarray) -> float:
    """The Gaussian blur (sigma, pixels) that takes the sharper side to the blurrier one, from the
    band energies of :func:`band_energies`: negative when B is the blurrier (like
    :func:`sharpness_from_energies`), 0 when no band's shared detail stands out of the noise
    (:func:`band_blurs`). Unlike the fraction of detail lost, this does not depend on how much
    fine detail the field has: a 1.5 px blur of a soft frame loses 12 % of its detail and of a
    sharp one 30 %, both read ~1.5 px. The larger of the bands wins."""
    best = 0.0
    for t, _ in band_blurs(energies):
        if abs(t) > abs(best):
            best = t
    return best


def sharpness_change(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`sharpness_from_energies` of two aligned images (two octave bands, sigma 0.7-1.4
    and 1.4-2.8 pixels)."""
    return sharpness_from_energies(band_energies(a, b))


def _regions(z: np.ndarray, valid: np.ndarray, factor: int, min_region_px: int,
             offset: tuple[float, float] = (0.0, 0.0), a=None, b=None, small: list | None = None):
    """Hysteresis-thresholded connected regions of ``z`` in A's pixel units.

    ``offset`` maps the common grid back to A (A's x = u + offset, working pixels). A region
    smaller than ``min_region_px`` still counts when it is strong: mean ``Z_STRONG`` tolerances
    over at least ``STRONG_PX`` working pixels (a nucleus that dimmed is small but far beyond
    noise). With the aligned luma ``a``/``b`` each region is classified (:func:`_classify`).
    ``small`` collects the seeded regions too small for either rule, as ``(peak, x, y, width,
    height)`` boxes in A's pixels (:func:`compare.specks.confirmed` reads them at full resolution).
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
            if small is not None:
                small.append((_peak(z, labels, int(i), (x, y, w, h)), math.floor((x + offset[0]) * factor),
                              math.floor((y + offset[1]) * factor), (w + 1) * factor, (h + 1) * factor))
            continue
        changed += area
        kind, inten = ("changed", 0.0) if a is None else _classify(a, b, labels, i, (x, y, w, h))
        ax = max(0, round((x + offset[0]) * factor))
        ay = max(0, round((y + offset[1]) * factor))
        regions.append(Region(x=ax, y=ay, width=w * factor, height=h * factor,
                              area=area_full, strength=strength, kind=kind, intensity=inten))
    regions.sort(key=lambda r: -r.area)
    return regions, changed


def _peak(z: np.ndarray, labels: np.ndarray, i: int, box) -> float:
    """The largest ``z`` of region ``i`` inside its bounding ``box`` (x, y, width, height)."""
    x, y, w, h = box
    return float(z[y:y + h, x:x + w][labels[y:y + h, x:x + w] == i].max())


def _classify(a, b, labels, i, box) -> tuple[str, float]:
    """``dimmed``/``brightened`` when B holds A's structure at another intensity inside the
    region (correlation of the two at least ``SAME_STRUCTURE`` over the region's box, slope of B
    on A off 1 by ``INTENSITY_MIN`` or more, :func:`_intensity_kind`); ``changed`` otherwise (new,
    removed or moved structure)."""
    x, y, w, h = box
    pad = 3
    ys = slice(max(0, y - pad), min(a.shape[0], y + h + pad))
    xs = slice(max(0, x - pad), min(a.shape[1], x + w + pad))
    fit = structure_slope(a[ys, xs], b[ys, xs])
    if fit is None:
        return "changed", 0.0
    r, slope = fit
    if r < SAME_STRUCTURE:
        return "changed", 0.0
    box_a, box_b = a[ys, xs], b[ys, xs]
    level = float(np.mean(box_a))
    if level > 0 and min(w, h) >= SHADING_BOX \
            and plane_share(cv2.GaussianBlur(box_a, (0, 0), SHADING_SMOOTH)) >= SHADING_PLANE:
        # B holds A's structure at another intensity, but A holds no object there, only a slope of
        # light: the illumination changed (by INTENSITY_MIN at least, as a dimming)
        change = float(np.mean(box_b)) / level - 1.0
        return ("shading", change) if abs(change) >= INTENSITY_MIN else ("changed", 0.0)
    return _intensity_kind(slope - 1.0)


#: A region whose A side (smoothed) a plane explains to this share of its variance holds no object,
#: only a slope of light (a vignetted corner): B's other intensity there is shading, not an object
#: that dimmed (split 6's flat-field corner read "1 object dimmed by up to 58 %"; a nucleus, a
#: cell, a star hold a peak that no plane follows).
SHADING_PLANE = 0.95
SHADING_SMOOTH = 2.0  # px: A's box is smoothed first, so that its noise is no structure either
SHADING_BOX = 16      # px, both sides of the region at least: over fewer, any smooth light is a plane


def plane_share(x: np.ndarray) -> float:
    """The share of ``x``'s variance a least-squares plane ``c + p u + q v`` explains (0 for fewer
    than 9 samples or no variance).

    >>> u, v = np.meshgrid(np.arange(5.0), np.arange(4.0))
    >>> round(plane_share(3 + 2 * u - v), 6), round(plane_share((u - 2) ** 2), 6)
    (1.0, 0.0)
    """
    h, w = x.shape[:2]
    if h * w < 9:
        return 0.0
    v, u = np.mgrid[0:h, 0:w]
    design = np.stack([np.ones(h * w), u.ravel(), v.ravel()], 1).astype(np.float64)
    y = np.asarray(x, np.float64).ravel()
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 1e-12:
        return 0.0
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return max(0.0, 1.0 - float(((y - design @ coef) ** 2).sum()) / total)


def structure_slope(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """The correlation of ``b`` with ``a`` (same-shape samples) and the slope of ``b`` on ``a``:
    whether B holds A's structure there, and at what intensity. None for fewer than 9 samples or a
    side without variance (1e-9).

    >>> [round(v, 6) for v in structure_slope(np.arange(9.0), 0.8 * np.arange(9.0) + 3)]
    [1.0, 0.8]
    """
    pa, pb = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if pa.size < 9:
        return None
    da, db = pa - pa.mean(), pb - pb.mean()
    va, vb = float((da * da).mean()), float((db * db).mean())
    if va <= 1e-9 or vb <= 1e-9:
        return None
    cov = float((da * db).mean())
    return cov / math.sqrt(va * vb), cov / va


def _intensity_kind(share: float) -> tuple[str, float]:
    """``dimmed``/``brightened`` for an object whose light changed by ``share`` (a slope of B on A
    less one) of at least ``INTENSITY_MIN`` within ``INTENSITY_RANGE``; ``changed`` otherwise."""
    lo, hi = INTENSITY_RANGE
    if lo - 1.0 <= share <= -INTENSITY_MIN:
        return "dimmed", share
    if INTENSITY_MIN <= share <= hi - 1.0:
        return "brightened", share
    return "changed", 0.0


LIGHT_SEED_BOXES = (3, 7)  # working pixels: the centre boxes of the light seed (each against a box 3x its side)
LIGHT_SEEDS = 8            # at most this many light seeds, the strongest first


@functools.lru_cache(maxsize=4)
def _seed_gains(smoothing: float) -> tuple[float, ...]:
    """How much each of :func:`light_seeds`' centre-less-surround means spreads white noise smoothed
    by a Gaussian of ``smoothing`` pixels, per unit of the smoothed noise's own spread."""
    n = 8 * max(LIGHT_SEED_BOXES) + 1
    x = np.zeros((n, n), np.float32)
    x[n // 2, n // 2] = 1.0
    g = cv2.GaussianBlur(x, (0, 0), smoothing)
    out = []
    for c in LIGHT_SEED_BOXES:
        d = cv2.boxFilter(g, -1, (c, c)) - cv2.boxFilter(g, -1, (3 * c, 3 * c))
        out.append(float(np.sqrt((d * d).sum() / (g * g).sum())))
    return tuple(out)


def _light_box(smooth: np.ndarray, a: np.ndarray, x: int, y: int, c: int) -> tuple[int, int, int, int] | None:
    """The extent of the light that came or went at a light seed (``x``, ``y``; centre box ``c``),
    as (x, y, width, height) in working pixels: both where the residual ``smooth`` has its sign at
    the strongest sample of the centre box, at half that or more, and where A (``a``, smoothed
    alike) stands out from the surround box's median by half its most or more, each connected to
    its strongest sample and within the surround box. A blur's halo or a dimming's footprint, with
    the object whose light it is: a blur or a displacement only moves that light within the two."""
    h, w = smooth.shape
    r = 3 * c // 2
    x0, y0, x1, y1 = max(0, x - r), max(0, y - r), min(w, x + r + 1), min(h, y + r + 1)
    cx0, cy0 = max(0, x - c // 2) - x0, max(0, y - c // 2) - y0
    win_a = a[y0:y1, x0:x1]
    boxes = []
    for win in (smooth[y0:y1, x0:x1], win_a - np.float32(np.median(win_a))):
        centre = win[cy0:cy0 + c, cx0:cx0 + c]
        if centre.size == 0:
            return None
        i = int(np.argmax(np.abs(centre)))
        py, px = cy0 + i // centre.shape[1], cx0 + i % centre.shape[1]
        v = float(win[py, px])
        if v == 0.0:
            return None
        mask = ((win * np.float32(math.copysign(1.0, v))) >= 0.5 * abs(v)).astype(np.uint8)
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        bx, by, bw, bh, _ = (int(t) for t in stats[labels[py, px]])
        boxes.append((bx, by, bx + bw, by + bh))
    bx, by = min(b[0] for b in boxes), min(b[1] for b in boxes)
    ex, ey = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return bx + x0, by + y0, ex - bx, ey - by


def light_seeds(smooth: np.ndarray, a: np.ndarray, noise: np.ndarray, at: np.ndarray, factor: int, *, smoothing: float,
                seen: np.ndarray, valid: np.ndarray,
                offset: tuple[float, float] = (0.0, 0.0)) -> list[tuple[float, int, int, int, int]]:
    """Where the signed residual ``smooth`` (B less A, smoothed by a Gaussian of ``smoothing`` pixels,
    zero outside the overlap ``valid``; ``a`` A smoothed alike) carries light that came or went:
    its mean over a small box less its mean over the box three times as wide, in units of its own spread (``noise`` the residual's local noise; the spread measured
    over the samples ``at``, robustly, never below what white noise gives). A displacement or a
    blur moves light about within the boxes and sums to nothing there; a dimming takes it away.
    Each local peak beyond ``Z_HIGH`` is a seed, but within a surround box's reach of where the
    pixel test's ``seen`` (the residual in tolerances) is beyond ``Z_HIGH`` (its regions and
    candidates, which the surround box would read too): its centre box, as ``(peak, x, y, width, height)``
    in A's full-resolution pixels, the strongest first, for :func:`compare.specks.confirmed` to
    judge. A small bright object's dimming lies within the misregistration slack the pixel test
    allows at edges: it seeds no region there (cause 42)."""
    best = np.zeros_like(smooth)
    size = np.zeros(smooth.shape, np.uint8)
    for c, white in zip(LIGHT_SEED_BOXES, _seed_gains(smoothing)):
        d: np.ndarray = cv2.boxFilter(smooth, -1, (c, c), borderType=cv2.BORDER_CONSTANT).astype(np.float32, copy=False)
        d -= cv2.boxFilter(smooth, -1, (3 * c, 3 * c), borderType=cv2.BORDER_CONSTANT)
        d /= noise
        s = d.ravel().take(at)
        med = float(np.median(s))
        # never below what the noise alone spreads it by (a clean pair's residual is all zeros)
        spread = max(1.4826 * float(np.median(np.abs(s - med))), white)
        d -= np.float32(med)
        d = np.abs(d, out=d)
        d /= np.float32(spread)
        size[d > best] = c
        np.maximum(best, d, out=best)
    k = max(LIGHT_SEED_BOXES)
    best[~valid] = 0.0  # the overlap only (the residual is zero outside it: the boxes there read its border)
    # what the pixel test seeds (a region, a candidate) seeds nothing within the surround's reach
    near = cv2.dilate((seen > Z_HIGH).astype(np.uint8), np.ones((3 * k + 2, 3 * k + 2), np.uint8))
    best[near > 0] = 0.0
    peaks = (best > Z_HIGH) & (best >= cv2.dilate(best, np.ones((k, k), np.uint8)))
    ys, xs = np.nonzero(peaks)
    order = np.argsort(-best[ys, xs])[:LIGHT_SEEDS]
    out = []
    for y, x in zip(ys[order], xs[order]):
        c = int(size[y, x])
        box = _light_box(smooth, a, int(x), int(y), c)
        if box is None:
            continue
        bx, by, bw, bh = box
        out.append((float(best[y, x]), math.floor((bx + offset[0]) * factor), math.floor((by + offset[1]) * factor),
                    (bw + 1) * factor, (bh + 1) * factor))
    return out

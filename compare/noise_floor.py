"""The noise floor of a comparison: clipping, the residual's noise, codec noise and shading.

Pieces :func:`compare.align.analyse` uses to decide what is noise (see its module docstring):

* **clipping** (:func:`clip_levels`, :func:`_interval_residual`): a clipped sample only bounds its
  value; levels are judged in the image's own units (8-bit black crush; a 16-bit plateau);
* **gain fit** (:func:`_fit`): errors-in-variables with each side's own noise;
* **noise** (:func:`_pixel_noise`, :func:`_robust_sigma`): per image from a Laplacian-difference
  mask, and of the residual itself, robustly;
* **codec** (:func:`_codec_sigma`): the quantisation noise a JPEG side carries, from its tables
  (:mod:`compare.codec_noise`), through the comparison's own smoothing;
* **local noise** (:func:`_local_sigma`): noise varies over a frame (JPEG error gathers in
  texture, shot noise in bright parts); each block is judged against its own robust noise;
* **what a displacement explains** (:func:`unexplained_by_shift`, cause 34) and **the noise away
  from edges** that judges it (:func:`calm_sigma`, cause 36);
* **shading** (:func:`_remove_shading`): a slowly varying gain field, limited, removed.
* **noise at the correlation's scale** (:func:`smoothed_noise`): measured on the smoothed frames,
  since a camera's noise is correlated (cause 19).

The noise by level (shot noise) is :mod:`compare.noise_level`.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

CLIP_LOW, CLIP_HIGH = 4.0, 250.0   # 8-bit: black crush only up to this level; highlights from this one
CLIP_LSB = 4             # deeper samples: within this many steps of 0 or of full scale
LEVEL_COHERENT = 0.6     # ... unless those codes are plateaus: this share of their pixels match their right-hand neighbour
PLATEAU = 0.0005         # a maximum held by this fraction of the pixels is a saturation level
CRUSH_SAMPLES = 65536    # pixels (an even grid) on which an 8-bit black crush is judged
FLOOR_LSB = 0.05         # smallest noise of the smoothed residual, in steps of the coarser side
LOCAL_BLOCK = 32         # working pixels: the noise of the residual is judged per block this size
LOCAL_MAX = 3.0          # ... at most this many times the frame's own (a change cannot hide itself)
SHIFT_REACH = 1          # working pixels: the residual such a displacement explains is not noise (cause 34)
CALM_RANGE = 2.0         # a sample whose 3x3 range is within this many times the frame's noise lies on no edge (cause 36)
CALM_MIN = 64            # ... and the noise away from edges needs this many such samples
LOCAL_LAG = 4            # working pixels between the samples whose differences judge a block's noise
SCALE_SAMPLES = 1 << 18  # second differences (an even grid of rows and columns) that judge a smoothed image's noise
SHADING_MAX = 0.06       # slowly varying gain (vignetting, shading) tolerated, fraction of the level
GAIN_AGREE = 0.9         # disattenuated correlation at which a clean side's structure carries the gain


def _interval_residual(a: np.ndarray, b_raw: np.ndarray, b_norm: np.ndarray,
                       clip_a=(CLIP_LOW, CLIP_HIGH), clip_b=(CLIP_LOW, CLIP_HIGH)) -> np.ndarray:
    """``b_norm - a`` where neither is clipped; across clipping, only what clipping cannot explain.

    A clipped sample only bounds its true value: at or below the low clip level it may be anything
    darker, at or above the high one anything brighter (levels per side, see :func:`clip_levels`).
    Each sample is an interval and the residual is the signed gap between A's and normalised B's
    intervals (0 where they overlap): a brighter exposure that saturates a fundus's red is no
    change, a bubble that lights up a black background is.
    """
    # Where neither side is clipped both intervals are points: the gap is b_norm - a (0 for a tie,
    # or for NaN); the interval arithmetic runs on the clipped samples only (usually few).
    out = b_norm - a
    odd = (a <= clip_a[0]) | (a >= clip_a[1]) | (b_raw <= clip_b[0]) | (b_raw >= clip_b[1])
    odd |= ~((out > 0) | (out < 0))
    if odd.any():
        out[odd] = _interval_gap(a[odd], b_raw[odd], b_norm[odd], clip_a, clip_b)
    return out.astype(np.float32, copy=False)


def _interval_gap(a, b_raw, b_norm, clip_a, clip_b) -> np.ndarray:
    """:func:`_interval_residual`'s interval arithmetic, sample by sample."""
    inf = np.float32(np.inf)
    a_lo = np.where(a <= clip_a[0], -inf, a)
    a_hi = np.where(a >= clip_a[1], inf, a)
    b_lo = np.where(b_raw <= clip_b[0], -inf, b_norm)
    b_hi = np.where(b_raw >= clip_b[1], inf, b_norm)
    above = b_lo - a_hi
    below = b_hi - a_lo
    return np.where(above > 0, above, np.where(below < 0, below, np.float32(0)))


def clip_levels(pixels: np.ndarray) -> tuple[float, float]:
    """Clip levels of one image on the 8-bit working scale.

    8-bit: highlights from ``CLIP_HIGH``; a black crush (:func:`_black_crush`) only where the
    darkest code holds a pile-up, at most ``CLIP_LOW``. Deeper
    samples: within ``CLIP_LSB`` steps of 0 (unless those codes are plateaus, a label image's
    objects: :func:`_deep_black`) or of full scale, and a maximum held by a plateau of
    ``PLATEAU`` of the pixels (a 12-bit sensor saturating inside a 16-bit container) -- judged
    in the image's own units, never in 0-255 levels of the full range.
    """
    if pixels.dtype == np.uint8:
        return _black_crush(pixels), CLIP_HIGH
    full = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    k = 255.0 / full
    lo, hi = CLIP_LSB * k, (full - CLIP_LSB) * k
    if pixels.dtype.kind == "u":  # codes near 0 are clipped black, unless they are plateaus (labels)
        lo = _deep_black(pixels) * k
    sub = pixels[::4, ::4]
    mx = sub.max()
    if np.count_nonzero(sub == mx) >= PLATEAU * sub.size and mx > 0:
        hi = min(hi, float(mx) * k - 1e-6)
    return lo, hi


def _deep_black(pixels: np.ndarray) -> float:
    """Deeper samples' low clip level, in stored units: every code within ``CLIP_LSB`` of 0 -- a
    sensor's black, where noise is cut or folded (a magnitude image's background) -- unless those
    codes above the darkest are levels of their own: plateaus, ``LEVEL_COHERENT`` of their pixels
    sharing their code with the pixel to the right (a label image's objects 1, 2, 3: cause 38).
    Then only the darkest code, when samples piled up on it (at least ``PLATEAU`` of them); -1 when
    none did. Judged on an even grid of rows of about ``CRUSH_SAMPLES`` pixels (a colour image's
    first channel)."""
    h, w = pixels.shape[:2]
    step = max(1, int(math.sqrt(h * w / CRUSH_SAMPLES)))
    rows = pixels[::step] if pixels.ndim == 2 else pixels[::step, :, 0]
    lo = int(rows.min())
    low = (rows > lo) & (rows <= CLIP_LSB)
    low_px = np.count_nonzero(low)
    if low_px < PLATEAU * rows.size:  # no code above the darkest within CLIP_LSB of 0 to judge
        return float(CLIP_LSB)
    same = np.count_nonzero(low[:, :-1] & (rows[:, 1:] == rows[:, :-1]))
    if same < LEVEL_COHERENT * low_px:
        return float(CLIP_LSB)
    return float(lo) if np.count_nonzero(rows == lo) >= PLATEAU * rows.size else -1.0


def _black_crush(pixels: np.ndarray) -> float:
    """8-bit low clip level: the darkest code, when clipping piled samples on it.

    A crushed black (an MJPG camera's, a thresholded export) stacks every sample that would have
    been darker on the lowest code, so that code holds more samples than the next one up (and at
    least ``PLATEAU`` of them). A dark background that is merely dark -- a fluorescence frame at
    3-4 levels with its noise around them -- has its darkest code in the tail of its noise: fewer
    samples than the next. Returns -1 (nothing clipped) then, or when the darkest code is above
    ``CLIP_LOW`` (no camera crushes black to a bright level). Judged on an even grid of about
    ``CRUSH_SAMPLES`` pixels (a histogram of a 5 MP frame in full took 23 ms, this one 1 ms)."""
    step = max(1, int(math.sqrt(pixels.shape[0] * pixels.shape[1] / CRUSH_SAMPLES)))
    sub = np.ascontiguousarray(pixels[::step, ::step]).ravel()
    hist = np.bincount(sub, minlength=256)
    lo = int(np.flatnonzero(hist)[0])
    if lo > CLIP_LOW:
        return -1.0
    return float(lo) if hist[lo] >= max(PLATEAU * sub.size, hist[lo + 1]) else -1.0


def _robust_sigma(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _fit(a: np.ndarray, b: np.ndarray, *, na: float = 0.0, nb: float = 0.0,
         floor: float = 0.5, weak: bool | None = None) -> tuple[float, float]:
    """Robust errors-in-variables (Deming) fit b = g a + o over 1-D samples.

    ``na``/``nb`` are the noise variances of the samples of each side (the ratio ``nb/na`` is
    Deming's delta; equal when unknown). Ordinary least squares would bias the gain towards zero
    when A is noisy (regression dilution); a noisy shot against a clean mean needs the ratio.
    When either side's variance is not clearly above its noise, the samples carry no gain
    information and only an offset is fitted (``weak`` overrides that judgement). One robust re-fit
    drops residuals beyond 3 sigma (at least ``floor``).
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
        noise_bound = (sxx - na < na or syy - nb < nb) if weak is None else weak
        if sxx < 1e-9 or sxy <= 1e-12 or noise_bound:  # flat, unrelated or noise-bound: an offset only
            g, o = 1.0, float(mb - ma)
        else:
            g = (syy - delta * sxx + math.sqrt((syy - delta * sxx) ** 2 + 4 * delta * sxy * sxy)) / (2 * sxy)
            o = mb - g * ma
        res = b - (g * a + o)
        sig = _robust_sigma(res)
        keep = np.abs(res) <= 3 * max(sig, floor)
    return float(g), float(o)


LUMA_BGR = (0.114, 0.587, 0.299)  # OpenCV's BGR -> gray weights: the luma of a channel-wise figure


def _level_ratios(wa: np.ndarray, wb: np.ndarray) -> tuple[float, tuple[float, ...]]:
    """B's mean level over A's, minus one, in luma, and per channel (B, G, R or Y; 1.0 where A's
    mean is 0): what an exposure or white-balance drift did where no structure above the noise
    carries a gain (:func:`compare.verdict.drift_words`; the gain fitted to such frames fits noise:
    a flat target's shot 1 % brighter read a gain of 1.20 with an offset of -25 DN). One pass
    (``cv2.mean``) over each image; the luma's means follow from the channels' (luma is linear)."""
    n = wa.shape[2] if wa.ndim == 3 else 1
    ma, mb = cv2.mean(wa)[:n], cv2.mean(wb)[:n]
    weights = LUMA_BGR if n == 3 else (1.0,)
    ya, yb = (sum(w * m for w, m in zip(weights, means)) for means in (ma, mb))
    return (yb / ya - 1.0 if ya > 0 else 0.0), tuple(b / a if a > 0 else 1.0 for a, b in zip(ma, mb))


def _gain_carried(ha: np.ndarray, hb: np.ndarray, sa: np.ndarray, sb: np.ndarray,
                  na: float, nb: float) -> bool:
    """Whether the samples carry a gain for :func:`_fit` (else only an offset is fitted).

    ``ha``/``hb`` are the samples without their slowly varying part (shading, illumination),
    ``sa``/``sb`` the samples themselves, ``na``/``nb`` each side's noise variance in them. A side
    is *structured* when its variance without shading is above twice its noise (signal above
    noise). Both structured: the gain is carried. Neither: none is. One (a clean mean against a
    single shot at SNR ~1): the clean side's structure carries it -- Deming's ratio ``nb/na``
    then reduces the fit to regressing the noisy side on the clean one, which noise in the
    regressand does not bias -- provided the noisy side has any signal above its noise
    (``var - n > n``, so the disattenuated correlation is not a ratio of noise estimates) and
    the two agree: disattenuated correlation ``cov / sqrt((var_a - na)(var_b - nb))`` at least
    ``GAIN_AGREE``. Otherwise a gain fitted to unrelated structure would shrink one side's
    structure away and hide a change.
    """
    strong_a = float(ha.var()) - na >= na
    strong_b = float(hb.var()) - nb >= nb
    if strong_a and strong_b:
        return True
    if not (strong_a or strong_b):
        return False
    va, vb = float(sa.var()), float(sb.var())
    if va - na < na or vb - nb < nb:
        return False
    cov = float(np.mean((sa - sa.mean()) * (sb - sb.mean())))
    return cov / math.sqrt((va - na) * (vb - nb)) >= GAIN_AGREE


def _lsb(pixels: np.ndarray) -> float:
    """One step of the image's samples on the 8-bit working scale."""
    return 255.0 / float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 255.0 / 65535.0


def quantisation_noise(step: float, factor: int = 1) -> float:
    """Least noise a quantised sample carries: rounding to ``step`` is uniform error of variance
    ``step^2 / 12`` whatever the signal (noise below one step is quantised away, not absent);
    through a ``factor x factor`` area average, white noise, divided by ``factor``.

    >>> round(quantisation_noise(1.0), 4), round(quantisation_noise(1.0, 2), 4)
    (0.2887, 0.1443)
    """
    return step / math.sqrt(12.0) / max(1, factor)


def _codec_sigma(codecs, scales, factor: int, channel: str, smooth_sigma: float,
                 gains: tuple[float, float] = (1.0, 1.0)) -> float:
    """Quantisation noise of the lossy sides in the smoothed working residual (8-bit DN; ``gains``
    multiply each side's, when its levels were mapped onto the other's)."""
    var = 0.0
    for tables, scale, g in zip(codecs, scales, gains):
        if tables is None:
            continue
        k = factor * scale  # full-resolution pixels of this side per working pixel
        sigma = k * math.sqrt(smooth_sigma ** 2 + (1.0 / 12.0 if k > 1 else 0.0))
        var += (g * tables.pixel_sigma(smooth_sigma=sigma, channel=channel)) ** 2
    return math.sqrt(var)


def _remove_shading(resid: np.ndarray, valid: np.ndarray, level: np.ndarray, lsb: float = 0.0) -> float:
    """Subtract a slowly varying gain field (vignetting, shading, uneven illumination) from the
    residual, in place; at most ``SHADING_MAX`` of the local level. Returns its largest relative
    size where the frame is lit and the field reaches half a stored level (``lsb``: one stored
    level in the residual's units; :func:`shading_size`). The field is the residual's average over an eighth of the frame with every sample
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
    neg_lim = -lim
    at = np.flatnonzero(valid)[::7]  # r[valid][::7] is r.ravel()[at]

    def field_of(r: np.ndarray) -> np.ndarray:  # one pass: the residual limited to 3 sigma, averaged
        sig = max(_robust_sigma(r.ravel().take(at)) if at.size else 0.0, 1e-3)
        small = cv2.resize(np.clip(r, -3 * sig, 3 * sig), size, interpolation=cv2.INTER_AREA)
        return cv2.resize(cv2.GaussianBlur(small, (0, 0), s) / den, (w, h), interpolation=cv2.INTER_LINEAR)

    total = field_of(resid)  # the first pass: resid - 0 is resid
    total += np.float32(0)  # 0 + field, as a sum (a -0.0 becomes +0.0)
    np.clip(total, neg_lim, lim, out=total)
    total += field_of(resid - total)  # the second pass
    np.clip(total, neg_lim, lim, out=total)
    total[~valid] = 0
    resid -= total
    return shading_size(total, level, at, lsb)


#: Where a shading is sized: samples lit to at least this share of the frame's bright level (its 99th
#: percentile). A gain field is a fraction of the light; in the dark a field of a hundredth of a level
#: (averaged noise) is "6 %" of a level of 0.2 and says nothing of the illumination.
SHADING_LIT = 0.25


def shading_size(field: np.ndarray, level: np.ndarray, at: np.ndarray, lsb: float = 0.0) -> float:
    """The largest relative size of a removed gain field where the frame is lit (``at``: the
    sample indices it is judged on; see :data:`SHADING_LIT`) and the field reaches half a stored
    level (``lsb``; less is no shading the stored data can show: a codec's rounding bias in a dark
    frame's flat areas), 0 when nowhere."""
    if at.size == 0:
        return 0.0
    lv = np.abs(level.ravel().take(at))
    f = np.abs(field.ravel().take(at))
    lit = lv >= SHADING_LIT * float(np.percentile(lv, 99))
    lit &= lv >= 1.0
    lit &= f >= 0.5 * lsb
    if not lit.any():
        return 0.0
    return float(np.max(f[lit] / lv[lit]))


def _pixel_noise(x: np.ndarray) -> float:
    """Robust per-pixel noise of one image (Immerkaer's Laplacian-difference mask, MAD):
    content-insensitive where most of the frame is smooth."""
    if min(x.shape) < 3:
        return 0.0
    k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    r = cv2.filter2D(x, cv2.CV_32F, k)[1:-1, 1:-1]
    return float(1.4826 * np.median(np.abs(r)) / 6.0)


def second_differences(s: np.ndarray, *, lag: int = LOCAL_LAG) -> np.ndarray:
    """``s(x - lag) - 2 s(x) + s(x + lag)`` along every ``step``-th row and column of ``s`` (about
    ``SCALE_SAMPLES`` in all), flat; empty for an image too small. Linear in ``s``: those of a
    difference are the difference of each side's."""
    h, w = s.shape
    if min(h, w) <= 2 * lag:
        return np.zeros(0, np.float32)
    step = max(1, (2 * h * w) // SCALE_SAMPLES)
    rows, cols = s[::step], s[:, ::step]
    across = rows[:, :-2 * lag] - 2 * rows[:, lag:-lag] + rows[:, 2 * lag:]
    down = cols[:-2 * lag] - 2 * cols[lag:-lag] + cols[2 * lag:]
    return np.concatenate([across.ravel(), down.ravel()])


def second_difference_sigma(d: np.ndarray) -> float:
    """The noise std whose :func:`second_differences` these are: 1.4826 x their median absolute
    value over sqrt(6) (their variance for noise uncorrelated at the lag); 0 for none."""
    if d.size == 0:
        return 0.0
    a = np.abs(d)
    return float(1.4826 * np.partition(a, a.size // 2)[a.size // 2] / math.sqrt(6.0))


def smoothed_noise(s: np.ndarray, other: np.ndarray | None = None, *, lag: int = LOCAL_LAG) -> float:
    """Robust noise of an image already smoothed by the structure correlation's Gaussian (of
    ``s - other`` when ``other`` is given: an aligned pair's difference), measured at that scale:
    :func:`second_difference_sigma` of its :func:`second_differences` (the sigma-1 blur leaves white
    noise a correlation of exp(-lag^2 / 4) = 0.02 at ``lag`` = 4). A line laid through three samples
    cancels, so smooth shading does not count; like the per-pixel estimate it reads the noise where
    most of the frame is smooth at this scale, and texture reads as noise where it is not.

    Why: real camera noise is not white. Demosaicing, in-camera noise reduction and JPEG correlate
    neighbouring pixels, so the per-pixel estimate (:func:`_pixel_noise`) carried through the blur
    as white noise can be several times too small: two shots of a flat target (Nikon D200) read
    0.13 DN that way, 0.50 DN measured here and 0.49 DN per side from the two shots' difference."""
    d = second_differences(s, lag=lag)
    if other is not None and d.size:
        d = d - second_differences(other, lag=lag)
    return second_difference_sigma(d)


def _gauss_noise_gain(sigma: float) -> float:
    """Std of white noise after a 2-D Gaussian blur of this sigma, per unit input std."""
    k = cv2.getGaussianKernel(int(2 * math.ceil(3 * sigma) + 1), sigma)
    return float(np.sqrt((k ** 2).sum()) ** 2)


def nanmedian_last(data: np.ndarray) -> np.ndarray:
    """``np.nanmedian(data, axis=-1)`` in one sort (NaNs sort last), for rows with at least one
    number: numpy's nanmedian loops over the rows in Python when any NaN is present."""
    s = np.sort(data, axis=-1)
    n = np.count_nonzero(~np.isnan(data), axis=-1)[..., None]
    lo = np.take_along_axis(s, (n - 1) // 2, axis=-1)[..., 0]
    hi = np.take_along_axis(s, n // 2, axis=-1)[..., 0]
    return (lo + hi) / 2


def _block_mad(x: np.ndarray, ok: np.ndarray, b: int) -> np.ndarray:
    """1.4826 x MAD of ``x`` per ``b x b`` block over the samples where ``ok`` (NaN-free blocks)."""
    h, w = x.shape
    ny, nx = h // b, w // b
    blocks = x[:ny * b, :nx * b].reshape(ny, b, nx, b).transpose(0, 2, 1, 3).reshape(ny, nx, b * b)
    oks = ok[:ny * b, :nx * b].reshape(ny, b, nx, b).transpose(0, 2, 1, 3).reshape(ny, nx, b * b)
    data = np.where(oks, blocks, np.nan)
    med = nanmedian_last(data)
    return 1.4826 * nanmedian_last(np.abs(data - med[..., None]))


def lag_gain(smoothing: float, lag: int = LOCAL_LAG) -> float:
    """Spread of differences ``lag`` samples apart of white noise smoothed by a Gaussian of sigma
    ``smoothing``, per unit of the smoothed noise: ``sqrt(2 (1 - rho))``, ``rho = exp(-lag^2 / (4
    smoothing^2))`` its autocorrelation at that lag."""
    return math.sqrt(2.0 * (1.0 - math.exp(-lag * lag / (4.0 * smoothing * smoothing))))


def _local_sigma(smooth: np.ndarray, valid: np.ndarray, sigma: float,
                 by_level: np.ndarray | None = None, floor: float = 0.0) -> np.ndarray:
    """Noise of the smoothed residual per ``LOCAL_BLOCK`` block, never below the frame's ``sigma``
    and at most ``LOCAL_MAX`` times it, spread back to pixels by bilinear interpolation (float32,
    ``smooth``'s shape). With ``by_level`` (:func:`compare.noise_level.level_sigma`, per pixel, with its cap) the
    lower bound is that pixel's: the noise at its level (a dark background is judged at its own
    small noise, bright structure at its shot noise), and the upper bound is the larger of that
    and ``LOCAL_MAX`` times the frame's -- no place is judged noisier than its level, and a level
    noisier than ``LOCAL_MAX`` times the frame only as far as shot noise accounts for it
    (:func:`compare.noise_level.shot_bound`): a change that fills most of a level (a refocus that alters every bright
    filament) would otherwise raise that level's noise and hide itself.

    A block's noise is judged from differences of samples ``LOCAL_LAG`` apart (across and down):
    noise gives them a spread, an offset does not -- so a change as large as a block (a particle
    that darkened) cannot raise its own block's noise and hide itself, as the spread of the
    residual itself would. The block's spread relative to the median block's, times ``sigma``.

    ``floor`` (the spread of differences that the noise floors not measured on these blocks would
    give -- quantisation, a codec's, a profile's: :func:`lag_gain` times that noise) bounds every
    block's spread from below (cause 40): a spread under it measures nothing. A label image's
    residual is exactly flat wherever no object moved, but the registration's interpolation leaves
    it 0.0002-0.003 DN; the median block's such error made a block with a few times more (an
    object's edge) three times as noisy as the frame."""
    h, w = smooth.shape
    b = LOCAL_BLOCK
    ny, nx = h // b, w // b
    if ny < 2 or nx < 2:
        return _flat_local(h, w, sigma, by_level)
    k = LOCAL_LAG
    # one difference per sample: across on the even squares of a checkerboard, down on the odd
    odd = np.zeros((h, w), bool)
    odd[0::2, 1::2] = True
    odd[1::2, 0::2] = True
    d = np.zeros((h, w), np.float32)
    ok = np.zeros((h, w), bool)
    d[:, :-k] = smooth[:, k:] - smooth[:, :-k]
    ok[:, :-k] = valid[:, k:] & valid[:, :-k]
    down, down_ok = smooth[k:] - smooth[:-k], valid[k:] & valid[:-k]
    for r0, c0 in ((0, 1), (1, 0)):  # the odd squares (strided copies, not a masked one)
        d[r0:h - k:2, c0::2] = down[r0::2, c0::2]
        ok[r0:h - k:2, c0::2] = down_ok[r0::2, c0::2]
    ok[-k:] &= ~odd[-k:]
    inside = ok[:ny * b, :nx * b]
    empty = ~inside.reshape(ny, b, nx, b).any(axis=(1, 3))
    if empty.all():
        return _flat_local(h, w, sigma, by_level)
    inside |= np.repeat(np.repeat(empty, b, axis=0), b, axis=1)  # blocks outside the overlap: zeros
    spread = _block_mad(d, ok, b)
    if floor > 0:
        np.maximum(spread, np.float32(floor), out=spread)
    frame = float(np.median(spread[~empty]))  # the frame's spread: the typical block's
    if frame <= 0:
        return _flat_local(h, w, sigma, by_level)
    local = spread * (sigma / frame)
    local[empty] = sigma
    if by_level is None:
        bounded = np.clip(local, sigma, LOCAL_MAX * sigma).astype(np.float32)
        return cv2.resize(bounded, (w, h), interpolation=cv2.INTER_LINEAR)
    spread_px = cv2.resize(local.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    cap = np.float32(LOCAL_MAX * sigma)
    return np.clip(spread_px, by_level, np.maximum(by_level, cap))


def unexplained_by_shift(a: np.ndarray, diff: np.ndarray, reach: int = SHIFT_REACH) -> np.ndarray:
    """What of the residual ``diff = b - a`` (two aligned, smoothed images) no displacement of up to
    ``reach`` pixels explains, signed like ``diff`` (float32).

    A sample of B that lies within the values A takes within ``reach`` pixels of it (and A's within
    B's) is what a local misregistration of that size could make: an edge displaced by a pixel, as
    the edges of two binarised boards or prints are. Only the gap beyond those ranges is kept: a
    spur, a hole, a pasted patch. Since each sample's own value is in its range, the gap is never
    larger than ``|diff|``."""
    b = a + diff
    size = 2 * reach + 1
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    gap = np.maximum(b - cv2.dilate(a, k), cv2.erode(a, k) - b)
    np.maximum(gap, a - cv2.dilate(b, k), out=gap)
    np.maximum(gap, cv2.erode(b, k) - a, out=gap)
    np.maximum(gap, np.float32(0), out=gap)
    return np.copysign(gap, diff).astype(np.float32, copy=False)


def calm_sigma(smooth: np.ndarray, a: np.ndarray, at: np.ndarray, sigma: float, width: int) -> float:
    """The noise of the smoothed residual ``smooth`` away from edges: its robust sigma over those of
    the samples ``at`` (flat indices into images ``width`` wide, each at least a pixel inside) where
    A's own 3x3 range (``a``: A smoothed) is at most ``CALM_RANGE`` times ``sigma``, the frame's
    noise -- where a displacement of up to a pixel, which :func:`unexplained_by_shift` leaves out,
    makes no residual. Never above ``sigma``; ``sigma`` when fewer than ``CALM_MIN`` samples are calm.

    Measured on every sample, the frame's noise counts the edges' misregistration as noise: two
    binarised boards (DeepPCB), whose unclipped samples all lie on edges that jitter by a pixel,
    read 25.4 DN where their residual away from the edges is 3.9 DN (cause 36: `92000005`)."""
    lo = a.ravel().take(at)
    hi = lo.copy()
    for off in (-width - 1, -width, -width + 1, -1, 1, width - 1, width, width + 1):
        v = a.ravel().take(at + off)
        np.minimum(lo, v, out=lo)
        np.maximum(hi, v, out=hi)
    calm = (hi - lo) <= CALM_RANGE * sigma
    if np.count_nonzero(calm) < CALM_MIN:
        return sigma
    return min(sigma, _robust_sigma(smooth.ravel().take(at[calm])))


def _flat_local(h: int, w: int, sigma: float, by_level: np.ndarray | None) -> np.ndarray:
    """:func:`_local_sigma` without blocks to judge: the frame's ``sigma``, or the noise by level
    (bounded by :func:`compare.noise_level.level_sigma`'s cap, as with blocks)."""
    if by_level is None:
        return np.full((h, w), np.float32(sigma))
    return by_level.astype(np.float32, copy=False)

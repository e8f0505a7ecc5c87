"""Photometric drift between two shots of one field, part of the noise floor (:mod:`compare.noise_floor`):

* **gain fit** (:func:`_fit`): ``B = gain * A + offset``, errors-in-variables with each side's own
  noise, and whether the structure carries a gain at all (:func:`_gain_carried`);
* **mean levels** (:func:`_level_ratios`): what "brighter" means where no structure carries a gain;
* **shading** (:func:`_remove_shading`, :func:`shading_size`): a slowly varying gain field
  (vignetting, uneven illumination), limited, removed and sized where the frame is lit.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .noise_floor import _robust_sigma

SHADING_MAX = 0.06       # slowly varying gain (vignetting, shading) tolerated, fraction of the level
GAIN_AGREE = 0.9         # disattenuated correlation at which a clean side's structure carries the gain


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

"""The residual's noise by level: shot noise grows with the level, and a change cannot raise its own.

* :func:`level_sigma`: the smoothed residual's robust sigma per eighth of its samples ordered by
  level, interpolated per pixel (cause 18), each part bounded by the frame's cap unless shot noise
  accounts for more (cause 21);
* :func:`shot_model`, :func:`shot_bound`: a shot-noise line (variance linear in level) fitted on the
  darker parts, extended while each part behaves as noise.
"""
from __future__ import annotations

import math

import numpy as np

from .noise_floor import _robust_sigma

LEVEL_BINS = 8           # the residual's noise is measured per eighth of its samples ordered by level
TOP_PART = 200           # ... and the top eighth halved while each part keeps this many samples
LEVEL_TABLE = 1024       # steps of the table the noise by level is read from, per pixel
SHOT_START = 3           # the shot-noise model starts from this many of the darkest level parts
SHOT_MARGIN = 1.5        # a level's noise is at most this many times the shot-noise model's
SHOT_SE = 2.0            # ... whose slope is the fitted one less this many standard errors


def level_parts(order: np.ndarray) -> list[np.ndarray]:
    """The samples (``order``: indices sorted by level) cut into ``LEVEL_BINS`` equal parts, the
    top one halved again while each half keeps ``TOP_PART`` samples: sparse bright structure (a few
    nuclei on a dark background, 4 % of the frame) gets parts of its own instead of sharing one
    with the edges and the background's halo. (:func:`level_sigma` judges a half at least at the
    whole top eighth's noise: the halves are there to resolve noise that grows with the level --
    shot noise -- not to judge the brightest few hundred samples, a white paper or a clipped
    highlight, quieter than the eighth they came from.)"""
    parts = np.array_split(order, LEVEL_BINS)
    top = parts.pop()
    while top.size >= 2 * TOP_PART:
        half = top.size // 2
        parts.append(top[:half])
        top = top[half:]
    parts.append(top)
    return parts


def level_sigma(smooth: np.ndarray, level: np.ndarray, at: np.ndarray, floor: float,
                cap: float | None = None, raw: np.ndarray | None = None) -> np.ndarray | None:
    """The smoothed residual's noise as a function of level, per pixel (float32, ``smooth``'s shape).

    Shot noise grows with the level: a confocal frame's residual has 0.8 DN of noise in its dark
    background and 6 DN on bright structure, so one figure for the frame is too small for one and
    too large for the other. The samples ``at`` (flat indices) are ordered by ``level`` and cut into
    parts (:func:`level_parts`: eighths, the top one halved down to ``TOP_PART`` samples); each
    part's robust sigma (1.4826 x MAD) is its noise, placed at the part's median level and
    interpolated between (held beyond the ends); never below ``floor``.
    ``level`` is the lower of the two sides' levels, so a change (a particle that appeared or left)
    is judged at the level of the side without it, among the many samples that are only noise.
    With ``cap`` (``LOCAL_MAX`` times the frame's noise) no part is noisier than the larger of
    the cap and what shot noise accounts for at its level (:func:`shot_bound`): bright structure
    is judged at its own shot noise, but a change that fills a level -- which raises that level's
    robust sigma -- cannot raise its own tolerance above the line the darker parts set.
    With ``raw`` (the residual before its smoothing) a part is bounded by shot noise alone when its
    residual is noise by its grain: smoothing keeps of noise the share it keeps of the frame's
    noise (the ratio of the smoothed to the raw residual's robust sigma over all samples: white,
    demosaiced or codec noise alike), while a change is coherent over the smoothing's area and
    keeps nearly all of itself. A part whose ratio is at most ``SHOT_MARGIN`` times the frame's may
    be as noisy as shot noise could make it were all the darkest part's noise shot noise
    (:func:`all_shot`): bright nuclei with 4x the background's shot noise, too few of the samples
    for the shot-noise line to reach them (the darker parts all lie within a level and pin no
    slope), are judged at their own noise; a dimmed textured nucleus (its residual a fine-grained
    copy of its texture) filling a part gains at most that bound, not its own spread.
    None when there are too few samples (fewer than 32 a part)."""
    if at.size < 32 * LEVEL_BINS:
        return None
    lv = level.ravel().take(at)
    rs = smooth.ravel().take(at)
    order = np.argsort(lv, kind="stable")
    parts = level_parts(order)
    centres = np.array([float(np.median(lv[p])) for p in parts])
    spread = np.array([_robust_sigma(rs[p]) for p in parts])
    sig = np.maximum(spread, floor)
    # the top eighth's halves resolve noise that grows with the level, never below the eighth's own
    # (as far as the cap allows it: applied after the caps, so that it moves no shot-noise line)
    eighth = np.zeros(len(parts))
    eighth[LEVEL_BINS - 1:] = _robust_sigma(rs[np.concatenate(parts[LEVEL_BINS - 1:])])
    white = np.zeros(len(parts), bool)
    if raw is not None:  # a part whose residual is as fine-grained as the frame's is noise
        rr = raw.ravel().take(at)
        grain = _robust_sigma(rs) / max(_robust_sigma(rr), 1e-12)
        white = spread <= SHOT_MARGIN * grain * np.array([_robust_sigma(rr[p]) for p in parts])
    if np.any(np.diff(centres) <= 0):  # tied levels: merge the parts that share a centre
        centres, first = np.unique(centres, return_index=True)
        sig = np.maximum.reduceat(sig, first)
        eighth = np.maximum.reduceat(eighth, first)
        white = np.logical_and.reduceat(white, first)
    if cap is not None:  # no level noisier than the cap, unless shot noise accounts for it
        bound = np.maximum(np.float64(cap), shot_bound(centres, sig, floor))
        if white.any() and centres[0] > 0:  # noise by its grain: up to what shot noise could give
            bound = np.where(white, np.maximum(bound, all_shot(centres, sig)), bound)
        sig = np.minimum(sig, bound)
        eighth = np.minimum(eighth, cap)
    sig = np.maximum(sig, eighth)
    if centres.size == 1:
        return np.full(smooth.shape, np.float32(sig[0]))
    # np.interp over the frame, through a table of LEVEL_TABLE steps between the end centres (the
    # nearest step: the level is off by at most half a step, the noise by its slope times that)
    lo, hi = float(centres[0]), float(centres[-1])
    table = np.interp(np.linspace(lo, hi, LEVEL_TABLE), centres, sig).astype(np.float32)
    pos = level - np.float32(lo)
    pos *= np.float32((LEVEL_TABLE - 1) / (hi - lo))
    pos += np.float32(0.5)
    np.clip(pos, 0, LEVEL_TABLE - 1, out=pos)
    return table.take(pos.astype(np.intp))


def shot_model(centres: np.ndarray, var: np.ndarray) -> tuple[float, float] | None:
    """The residual's noise variance as a line in level, ``var = a level + b`` (``a >= 0``), fitted
    only where the level parts behave as noise -- or None with fewer than ``SHOT_START`` parts.

    Shot noise (Poisson-Gaussian: photons plus read noise) has a variance linear in the level for a
    linear detector. The line is fitted by least squares to the ``SHOT_START`` darkest parts (the
    dark majority), then extended part by part upwards while the next part's variance is within
    ``SHOT_MARGIN`` squared of the line through the parts below it (refitted with each part taken):
    a part a change filled stands above that line and stops it, and no part above is taken. The
    slope returned is the fitted one less ``SHOT_SE`` standard errors (from the parts' scatter about
    the line), at least 0: dark parts that span only a level or two pin no slope, and an unpinned
    slope extrapolated to a bright level would allow anything."""
    n = centres.size
    if n < SHOT_START:
        return None

    def line(k: int, lower: bool = False) -> tuple[float, float]:
        c, v = centres[:k], var[:k]
        cm, vm = float(c.mean()), float(v.mean())
        sxx = float(((c - cm) ** 2).sum())
        a = float(((c - cm) * (v - vm)).sum()) / sxx if sxx > 0 else 0.0
        if lower and k > 2 and sxx > 0:
            rss = float(((v - vm - a * (c - cm)) ** 2).sum())
            a -= SHOT_SE * math.sqrt(rss / (k - 2) / sxx)
        if a <= 0:
            return 0.0, vm
        return a, vm - a * cm

    k = SHOT_START
    a, b = line(k)
    while k < n and var[k] <= SHOT_MARGIN ** 2 * (a * centres[k] + b):
        k += 1
        a, b = line(k)
    return line(k, lower=True)


def all_shot(centres: np.ndarray, sig: np.ndarray) -> np.ndarray:
    """Per level part: ``SHOT_MARGIN`` times the most noise shot noise can give at its level when
    all of the darkest part's noise is shot noise (variance proportional to the level, no read
    noise): ``sig[0] sqrt(level / level[0])`` -- the steepest shot-noise line the darkest part allows,
    which its levels alone need not pin (a background within one level)."""
    return SHOT_MARGIN * sig[0] * np.sqrt(np.maximum(1.0, centres / centres[0]))


def shot_bound(centres: np.ndarray, sig: np.ndarray, floor: float) -> np.ndarray:
    """Per level part: the most noise shot noise accounts for there, ``SHOT_MARGIN`` times the
    model's (:func:`shot_model` on the parts' variances; at least ``floor``); zeros without a model."""
    model = shot_model(centres, sig * sig)
    if model is None:
        return np.zeros_like(sig)
    a, b = model
    return SHOT_MARGIN * np.sqrt(np.maximum(a * centres + b, floor * floor))

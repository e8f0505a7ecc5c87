"""The levels a comparison is judged in: the pair's own used range, not the container's.

The aligned tests of :mod:`compare.align` carry absolute constants on a 0-255 scale: SSIM's
stabilisers ``C1 = (0.01 L)^2`` and ``C2 = (0.03 L)^2`` with ``L = 255``, the clip levels, the
smallest noise floor. A 16-bit fluorescence frame whose values span 24-181 of 65535 occupies less
than one level of that scale, so ``C2`` dwarfs its structure and SSIM says 1.000 for two different
fields. :func:`level_scale` is the factor that stretches the pair's robust used range (the
``RANGE_TAIL`` .. ``1 - RANGE_TAIL`` quantiles of both sides' luma, pooled) to ``LEVELS`` levels;
every absolute level of the comparison is multiplied by it, so a verdict does not change when
both frames are multiplied by a constant. It never shrinks a range (at least 1) and never
stretches less than ``MIN_STEPS`` sample steps to the full scale (two constant frames one step
apart stay a one-step difference of a well-defined size).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

LEVELS = 255.0         # the scale the comparison's constants are written for
RANGE_TAIL = 0.001     # quantile of each tail left out of the used range (hot pixels, outliers)
MIN_STEPS = 2.0        # the used range is taken as at least this many sample steps
SAMPLES = 50_000       # at most this many samples per side for the quantiles


def _subsample(y: np.ndarray) -> np.ndarray:
    """An image's samples, flat, evenly subsampled to at most about :data:`SAMPLES`."""
    flat = np.asarray(y, dtype=np.float32).ravel()
    return flat[::max(1, flat.size // SAMPLES)]


def used_range(*lumas: np.ndarray) -> tuple[float, float]:
    """The robust used range (low, high) of one or more images, pooled: the ``RANGE_TAIL`` and
    ``1 - RANGE_TAIL`` quantiles of all their samples (each image subsampled evenly to at most
    ``SAMPLES``).

    >>> used_range(np.arange(1001, dtype=np.float32))
    (1.0, 999.0)
    """
    parts = [_subsample(y) for y in lumas]
    if not parts or sum(p.size for p in parts) == 0:
        return 0.0, 0.0
    pooled = np.concatenate(parts)
    lo, hi = np.quantile(pooled, [RANGE_TAIL, 1.0 - RANGE_TAIL])
    return float(lo), float(hi)


def level_scale(*lumas: np.ndarray, step: float) -> float:
    """Factor that maps the images' pooled :func:`used_range` onto ``LEVELS`` levels.

    ``lumas`` are on any common scale, ``step`` is one sample step on that scale. The factor is
    at least 1 (a range already wider than ``LEVELS`` is kept) and at most
    ``LEVELS / (MIN_STEPS * step)``.

    >>> round(level_scale(np.arange(1001.0) / 100, step=0.01), 4)  # used range 0.01 .. 9.99
    25.5511
    >>> level_scale(np.arange(1001.0), step=1.0)  # wider than 255 levels: kept
    1.0
    """
    if step <= 0:
        raise ValueError(f"step must be positive, got {step}")
    lo, hi = used_range(*lumas)
    span = max(hi - lo, MIN_STEPS * step)
    return max(1.0, LEVELS / span)


#: Two used ranges this many times apart are two mappings of the data, not an exposure drift
#: (two stops): a 16-bit frame against its 8-bit export with the display range stretched, a
#: 12-bit camera's samples stored from the low or the high bit of a 16-bit container.
RESCALE_RATIO = 4.0
#: A side whose darkest or brightest value holds more than this share of its samples was clipped
#: there (an export with the display range narrower than the data: ImageJ's Auto saturates 0.35 %).
PILE = RANGE_TAIL
PILE_MIN = 8  # ... and at least this many samples
#: The ranges are matched only when the quantiles both sides resolve unclipped span at least this much.
MIN_MATCHED = 0.5


class RangeMap(NamedTuple):
    """What :func:`range_map` found: B on A's scale is ``k * B + c``; ``clip_a`` (A's units) and
    ``clip_b`` (B's own units) are the levels (low, high; None: none) at which each side is to be
    clipped as the other was, so that both lose the same detail."""

    k: float
    c: float
    clip_a: tuple[float | None, float | None] = (None, None)
    clip_b: tuple[float | None, float | None] = (None, None)
    two_level: bool = False  # both sides hold two levels only (a mask): matched level to level


def _two_levels(s: np.ndarray, piles) -> bool:
    """Whether samples ``s`` (with their :func:`_piles`) hold two values and nothing else."""
    lo, hi = piles[2], piles[3]
    return hi > lo and piles[0] > 0 and piles[1] > 0 and int(np.count_nonzero((s == lo) | (s == hi))) == s.size


def _piles(s: np.ndarray) -> tuple[float, float, float, float]:
    """(share at the minimum, share at the maximum, minimum, maximum) of samples ``s``; a share of
    fewer than :data:`PILE_MIN` samples counts as 0 (a lone extreme is no pile)."""
    lo, hi = float(s.min()), float(s.max())
    n_lo, n_hi = np.count_nonzero(s == lo), np.count_nonzero(s == hi)
    return (n_lo / s.size if n_lo >= PILE_MIN else 0.0, n_hi / s.size if n_hi >= PILE_MIN else 0.0, lo, hi)


def range_map(ya: np.ndarray, yb: np.ndarray, *, steps: tuple[float, float]) -> RangeMap | None:
    """The map that puts B's robust used range onto A's (``k * B + c``), when the two ranges are
    :data:`RESCALE_RATIO` or more times apart; else None (the comparison fits their gain itself).

    ``ya``, ``yb`` are on one scale, ``steps`` each side's sample step on it. On A's scale B's
    rounding step is ``k * steps[1]``: judged in shared units instead, the coarser side's step
    (an 8-bit export's, 257 times a 16-bit step) would be the rounding floor of a frame whose
    whole structure spans a few of those steps, and every change in it would be within "noise".
    The ranges are matched at the quantiles both sides resolve: a side clipped at an end (a pile
    of more than :data:`PILE` of its samples at its extreme) moves both quantiles past its pile, and
    the other side is then to be clipped at the matching level (:class:`RangeMap`).

    >>> a = np.linspace(1.0, 2.0, 101)  # a 16-bit frame spanning ~260 of its steps, on the 8-bit scale
    >>> m = range_map(a, (a - 1.0) * 255.0, steps=(1 / 257, 1.0))
    >>> round(m.k, 5), round(m.c, 5), m.clip_a
    (0.00392, 1.0, (None, None))
    >>> range_map(a, a * 3.0, steps=(1 / 257, 1 / 257)) is None  # within two stops: a gain
    True
    """
    sa, sb = _subsample(ya), _subsample(yb)
    if sa.size == 0 or sb.size == 0:
        return None
    pa, pb = _piles(sa), _piles(sb)
    if _two_levels(sa, pa) and _two_levels(sb, pb):
        # two levels and nothing else on both sides (a mask stored 0/1 and 0/255, a thresholded
        # export): the levels are the data, matched directly; neither side is clipped
        k = (pa[3] - pa[2]) / (pb[3] - pb[2])
        if 1.0 / RESCALE_RATIO < k < RESCALE_RATIO:
            return None
        return RangeMap(k, pa[2] - k * pb[2], two_level=True)
    low = max([p[0] for p in (pa, pb) if p[0] > PILE], default=0.0)
    high = max([p[1] for p in (pa, pb) if p[1] > PILE], default=0.0)
    q = [RANGE_TAIL + low, 1.0 - RANGE_TAIL - high]
    if q[1] - q[0] < MIN_MATCHED:
        return None
    (lo_a, hi_a), (lo_b, hi_b) = np.quantile(sa, q), np.quantile(sb, q)
    span_a = max(float(hi_a - lo_a), MIN_STEPS * steps[0])
    span_b = max(float(hi_b - lo_b), MIN_STEPS * steps[1])
    k = span_a / span_b
    if 1.0 / RESCALE_RATIO < k < RESCALE_RATIO:
        return None
    c = float(lo_a) - k * float(lo_b)
    # a side clipped at an end: the other is clipped at the matching level (k B + c = A)
    clip_a = (k * pb[2] + c if pb[0] > PILE else None, k * pb[3] + c if pb[1] > PILE else None)
    clip_b = ((pa[2] - c) / k if pa[0] > PILE else None, (pa[3] - c) / k if pa[1] > PILE else None)
    return RangeMap(k, c, clip_a, clip_b)


TONE_BINS = 24         # the frame's tone is read at this many levels, evenly spaced over the samples' range
TONE_CELLS = 3         # ... in each of TONE_CELLS x TONE_CELLS parts of the frame
TONE_PLACES = 5        # a level's tone counts where at least this many parts hold it (a tone holds everywhere)
TONE_SAMPLES = 8       # samples a part needs at a level
TONE_ENDS = 3          # beyond its ends the curve goes on along the slope of this many levels at each end
TONE_SLOPE = 0.5       # ... a slope of at most this much (offset per level: B's tone 0.5-1.5 times the frame's gain)


class Tone(NamedTuple):
    """A tone curve (:func:`tone_curve`): ``offsets`` at A's ``levels``, and beyond the ends the
    slopes ``low``/``high`` (offset per level)."""

    levels: np.ndarray
    offsets: np.ndarray
    low: float
    high: float

    def scaled(self, k: float) -> Tone:
        """The same curve with levels and offsets divided by ``k`` (another scale of levels)."""
        return Tone(self.levels / k, self.offsets / k, self.low, self.high)

    def __call__(self, x):
        """The offset at A's level(s) ``x``: interpolated, and along the end slopes beyond.

        >>> t = Tone(np.array([10.0, 20.0, 30.0]), np.array([0.0, 2.0, 1.0]), 0.1, -0.2)
        >>> [float(v) for v in t(np.array([0.0, 15.0, 40.0]))]
        [-1.0, 1.0, -1.0]
        """
        c, o, x = self.levels, self.offsets, np.asarray(x)
        return np.interp(x, c, o) + np.minimum(x - c[0], 0) * self.low + np.maximum(x - c[-1], 0) * self.high


def tone_curve(residual: np.ndarray, a: np.ndarray, at: np.ndarray, *, noise: float) -> Tone | None:
    """What a function of the level explains of B's residual frame-wide (``residual``: B on A's
    levels by a gain and offset, less A), as a :class:`Tone` (offsets at levels of A): B's tone
    curve where it is no straight line (a camera's gamma or contrast setting), or None where no
    offset departs from the straight line through them by ``noise`` or more.

    ``at`` are the samples (flat indices) to read, ``a`` A. Each sample's level is the mean of its
    two sides, A plus half the residual: binned by A's level alone, A's noise would be a slope of
    its own (a sample above its level by noise is B less A below it by as much -- regression to the
    mean); by the mean of two sides with the same noise, no noise of either correlates with their
    difference. At each of ``TONE_BINS`` levels the residual's median is taken in each of
    ``TONE_CELLS`` squared parts of the frame holding ``TONE_SAMPLES`` samples there, and the
    level's offset (and level) is the median of those parts' medians where ``TONE_PLACES`` parts or
    more hold it: a tone curve acts on a level wherever it is, a few objects that dimmed or moved
    lie in a few places.

    >>> yy, xx = np.mgrid[0:240, 0:320].astype(np.float32)
    >>> a = 127.5 + 127.5 * np.sin(xx / 7) * np.cos(yy / 9)
    >>> b = 255 * (a / 255) ** 1.2  # a gamma of 1.2 on B
    >>> g, o = np.polyfit(a.ravel(), b.ravel(), 1)
    >>> r = (b - o) / g - a
    >>> t = tone_curve(r, a, np.arange(a.size), noise=0.5)(a)
    >>> round(float(np.abs(r).max()), 1), round(float(np.percentile(np.abs(r - t), 99)), 1)
    (15.5, 0.4)
    >>> tone_curve(np.zeros_like(a), a, np.arange(a.size), noise=0.5) is None
    True
    """
    h, w = residual.shape
    y = residual.ravel().take(at).astype(np.float64)
    x = a.ravel().take(at) + 0.5 * y
    if x.size < TONE_SAMPLES * TONE_BINS:
        return None
    lo, hi = (float(v) for v in np.quantile(x, [RANGE_TAIL, 1.0 - RANGE_TAIL]))
    if not hi > lo:
        return None
    rows, cols = np.divmod(at, w)
    place = (rows * TONE_CELLS // h) * TONE_CELLS + cols * TONE_CELLS // w
    bins = np.clip(((x - lo) * (TONE_BINS / (hi - lo))).astype(np.intp), 0, TONE_BINS - 1)
    cells = TONE_CELLS * TONE_CELLS
    key = bins * cells + place

    keys, first, counts = np.unique(np.sort(key), return_index=True, return_counts=True)  # the (level, part) groups

    def part_medians(v: np.ndarray) -> np.ndarray:
        """Each group's median of ``v``."""
        span = float(v.max() - v.min()) or 1.0
        sv = v[np.argsort(key + (v - v.min()) * (0.5 / span))]  # by group, then by value (one sort)
        return 0.5 * (sv[first + (counts - 1) // 2] + sv[first + counts // 2])

    my, mx = part_medians(y), part_medians(x)
    held = counts >= TONE_SAMPLES
    keys, my, mx = keys[held], my[held], mx[held]
    level_of = keys // cells
    centres, offsets = [], []
    for b in np.unique(level_of):
        here = level_of == b
        if np.count_nonzero(here) < TONE_PLACES:
            continue
        off = float(np.median(my[here]))
        centres.append(float(np.median(mx[here])) - 0.5 * off)  # A's level
        offsets.append(off)
    if len(centres) < 3:
        return None
    c, o = np.array(centres), np.array(offsets)
    if np.any(np.diff(c) <= 0):
        return None
    line = o.mean() + _slope(c, o) * (c - c.mean())
    if float(np.abs(o - line).max()) < noise:
        return None
    # beyond the levels most parts hold (a star's core, a cell's brightest pixels: the light test
    # reads them at full resolution) the curve goes on along its slope at each end, within TONE_SLOPE
    low, high = (float(np.clip(_slope(c[k], o[k]), -TONE_SLOPE, TONE_SLOPE))
                 for k in (slice(0, TONE_ENDS), slice(-TONE_ENDS, None)))
    return Tone(c, o, low, high)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares slope of ``y`` on ``x`` (0 where ``x`` does not vary).

    >>> _slope(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.5]))
    2.25
    """
    d = x - x.mean()
    v = float((d * d).sum())
    return float((d * (y - y.mean())).sum()) / v if v > 0 else 0.0

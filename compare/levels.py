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

import numpy as np

LEVELS = 255.0         # the scale the comparison's constants are written for
RANGE_TAIL = 0.001     # quantile of each tail left out of the used range (hot pixels, outliers)
MIN_STEPS = 2.0        # the used range is taken as at least this many sample steps
SAMPLES = 50_000       # at most this many samples per side for the quantiles


def used_range(*lumas: np.ndarray) -> tuple[float, float]:
    """The robust used range (low, high) of one or more images, pooled: the ``RANGE_TAIL`` and
    ``1 - RANGE_TAIL`` quantiles of all their samples (each image subsampled evenly to at most
    ``SAMPLES``).

    >>> used_range(np.arange(1001, dtype=np.float32))
    (1.0, 999.0)
    """
    parts = []
    for y in lumas:
        flat = np.asarray(y, dtype=np.float32).ravel()
        step = max(1, flat.size // SAMPLES)
        parts.append(flat[::step])
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


def range_map(ya: np.ndarray, yb: np.ndarray, *, steps: tuple[float, float]) -> tuple[float, float] | None:
    """``(k, c)`` that put B's robust used range onto A's (``k * B + c``), when the two ranges are
    :data:`RESCALE_RATIO` or more times apart; else None (the comparison fits their gain itself).

    ``ya``, ``yb`` are on one scale, ``steps`` each side's sample step on it. On A's scale B's
    rounding step is ``k * steps[1]``: judged in shared units instead, the coarser side's step
    (an 8-bit export's, 257 times a 16-bit step) would be the rounding floor of a frame whose
    whole structure spans a few of those steps, and every change in it would be within "noise".

    >>> a = np.linspace(1.0, 2.0, 101)  # a 16-bit frame spanning ~260 of its steps, on the 8-bit scale
    >>> k, c = range_map(a, (a - 1.0) * 255.0, steps=(1 / 257, 1.0))
    >>> round(k, 5), round(c, 5)
    (0.00392, 1.0)
    >>> range_map(a, a * 3.0, steps=(1 / 257, 1 / 257)) is None  # within two stops: a gain
    True
    """
    (lo_a, hi_a), (lo_b, hi_b) = used_range(ya), used_range(yb)
    span_a = max(hi_a - lo_a, MIN_STEPS * steps[0])
    span_b = max(hi_b - lo_b, MIN_STEPS * steps[1])
    k = span_a / span_b
    if 1.0 / RESCALE_RATIO < k < RESCALE_RATIO:
        return None
    return k, lo_a - k * lo_b

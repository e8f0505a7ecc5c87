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

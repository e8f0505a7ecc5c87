"""Colour channels stored in another order (a BGR/RGB mix-up), which :func:`compare.align.analyse`
reads from its gain fit's samples: :func:`channel_order`.
"""
from __future__ import annotations

import itertools

import numpy as np

#: B's colour channels are another order of A's when that order's summed correlation beats the
#: stored order's by this much (a few thousand samples of one field: sampling error ~0.001 each)
ORDER_MARGIN = 0.05


def channel_order(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[int, ...] | None:
    """Which of A's channels each of B's channels is, when not the stored order: the permutation
    whose correlations (B's channel ``c`` against A's ``p[c]``, samples of the smoothed channels)
    sum to more than the identity's by :data:`ORDER_MARGIN`; None when the stored order is the best
    (a white balance scales each channel by its own gain, which no correlation sees; a BGR/RGB
    mix-up moves the structure of one channel into another)."""
    n = len(a)
    if n < 2 or any(x.size < 16 for x in a + b):
        return None
    rows = np.vstack([np.asarray(x, np.float64) for x in a + b])
    if not np.all(rows.std(axis=1) > 0):  # a constant channel has no structure to place
        return None
    c = np.asarray(np.corrcoef(rows))[n:, :n]  # rows B, columns A
    ident = float(np.trace(c))
    best, score = None, ident + ORDER_MARGIN
    for p in itertools.permutations(range(n)):
        total = float(sum(c[i, p[i]] for i in range(n)))
        if total > score:
            best, score = p, total
    return best

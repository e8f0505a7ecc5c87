"""The pair's own used range (compare.levels): references are plain numpy formulas and literals."""
from __future__ import annotations

import numpy as np
import pytest

from scopecheck.compare.levels import LEVELS, MIN_STEPS, RANGE_TAIL, level_scale, used_range


def test_used_range_is_the_pooled_tail_quantiles():
    r = np.random.default_rng(4)
    a = r.normal(300, 20, (120, 160)).astype(np.float32)
    b = r.normal(500, 30, (120, 160)).astype(np.float32)
    pooled = np.concatenate([a.ravel(), b.ravel()])
    ref = np.quantile(pooled, [RANGE_TAIL, 1 - RANGE_TAIL])  # plain numpy on every sample
    lo, hi = used_range(a, b)
    assert (lo, hi) == pytest.approx(tuple(ref), rel=1e-6)


def test_used_range_pinned():
    # 0..1000: numpy's linear quantile at 0.1 % and 99.9 % of 1001 samples is 1 and 999
    assert used_range(np.arange(1001, dtype=np.float32)) == (1.0, 999.0)


def test_used_range_ignores_a_few_hot_pixels():
    img = np.full((100, 100), 50.0, np.float32)
    img[::10, ::10] = 40.0 + np.arange(100).reshape(10, 10) % 3  # structure 40..52
    img[0, :5] = 65535.0  # five hot pixels: 0.05 % of the frame
    lo, hi = used_range(img)
    assert lo == 40.0 and hi == 50.0


def test_level_scale_maps_the_used_range_to_255_levels():
    r = np.random.default_rng(5)
    y = r.uniform(24, 181, (64, 64)).astype(np.float32) * np.float32(255 / 65535)
    lo, hi = np.quantile(y, [RANGE_TAIL, 1 - RANGE_TAIL])
    assert level_scale(y, step=255 / 65535) == pytest.approx(255.0 / (hi - lo), rel=1e-5)
    # the factor scales with the data: x200 data needs 200 times less stretch
    assert level_scale(y * 200, step=255 / 65535) == pytest.approx(level_scale(y, step=255 / 65535) / 200, rel=1e-5)


def test_level_scale_never_shrinks_and_is_bounded_for_constant_frames():
    assert level_scale(np.linspace(0, 400, 1000, dtype=np.float32), step=1.0) == 1.0
    assert level_scale(np.full((8, 8), 7.0, np.float32), step=1.0) == LEVELS / MIN_STEPS  # 127.5
    with pytest.raises(ValueError, match="step"):
        level_scale(np.zeros((4, 4), np.float32), step=0.0)

"""The levels and the noise a comparison is judged in (compare.levels, the band limit in compare.align): references are plain numpy formulas, literals and the pair without band limit."""
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



@pytest.mark.parametrize("kb", [0.6, 1.0])
def test_band_limited_noise_dominated_pair_is_judged_on_its_noise(kb):
    # a resized pair is band-limited (Gaussian sigma 1) before the analysis; the pixel noise the
    # fit and the aligned SSIM allow for is measured before that blur (after it, a
    # Laplacian-difference estimate sees ~2 % of it, and the SSIM took the noise for structure:
    # 0.38-0.46 here, 0.42 on real trackpy frames). Reference: both frames are one scene (gain 1)
    # plus independent noise, and without the band limit the same pair scores 0.99
    from scopecheck.compare.align import analyse
    from tests.conftest import scene

    r = np.random.default_rng(21)
    base = scene(9, channels=1) * 0.08 + 500.0  # structure spans ~10 levels, noise 2.5
    a = np.rint(base + r.normal(0, 2.5, base.shape)).astype(np.uint16)
    b = np.rint(base + r.normal(0, 2.5, base.shape) * kb).astype(np.uint16)
    unlimited = analyse(a, b)
    limited = analyse(a, b, band_limit=1.0)
    assert unlimited.ssim_aligned > 0.99
    assert limited.ssim_aligned > 0.95, limited.ssim_aligned
    assert limited.gain == pytest.approx(1.0, abs=0.05)

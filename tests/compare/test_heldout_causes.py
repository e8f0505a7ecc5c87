"""Causes the held-out real split found (issue 9), each rebuilt from numpy or scikit-image data.

* a frame whose noise is quantised away (dark frames: 99.8 % of the pixels exactly 0) still
  carries the rounding noise ``step^2 / 12``: it is blank, not 'another scene';
* a change need not be one compact region: many small regions beyond the noise (a non-rigid
  motion) are a change when together they hold ``min_region`` of the frame.
"""
import math

import cv2
import numpy as np
import pytest
from skimage import data
from skimage.measure import label

from scopecheck.compare.changes import Z_HIGH, Z_LOW, scattered_fraction
from scopecheck.compare.hashing import is_flat
from scopecheck.compare.noise_floor import quantisation_noise
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays


def test_quantisation_noise_is_the_rounding_error_of_numpy():
    """step / sqrt(12) against the rounding error numpy makes of a smooth random signal, and its
    area mean over f x f blocks (white: divided by f)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 50, (512, 512))
    for step in (1.0, 255.0 / 65535.0):
        err = np.round(x / step) * step - x
        assert quantisation_noise(step) == pytest.approx(float(err.std()), rel=0.01)
        f = 4
        mean_err = err.reshape(128, f, 128, f).mean(axis=(1, 3))
        assert quantisation_noise(step, f) == pytest.approx(float(mean_err.std()), rel=0.03)


def _dark(rng, shape=(240, 320), read_noise=0.17, hot=None):
    """A camera's dark frame: read noise well below one step, rounded and clipped at 0 (the
    held-out frames: 99.8 % zeros, 0.2 % ones), and optional hot pixels (fixed pattern)."""
    x = np.clip(np.round(rng.normal(0.0, read_noise, shape)), 0, 255).astype(np.uint8)
    if hot is not None:
        ys, xs, v = hot
        x[ys, xs] = v
    return x


def test_dark_frame_noise_quantised_to_zero_is_blank():
    rng = np.random.default_rng(5)
    a = _dark(rng)
    assert 0.99 < np.mean(a == 0) < 1.0                     # the cause: the estimate sees no noise
    assert not is_flat(a.astype(np.float32))                # ... and without the floor, 'structure'
    assert is_flat(a.astype(np.float32), noise_floor=quantisation_noise(1.0))


@pytest.mark.parametrize("hot_pixels", [0, 20])
def test_two_dark_frames_are_the_same(hot_pixels):
    rng = np.random.default_rng(7)
    hot = None
    if hot_pixels:  # the same hot pixels in both (fixed pattern), a few DN of flicker each
        ys, xs = rng.integers(0, 240, hot_pixels), rng.integers(0, 320, hot_pixels)
        level = rng.integers(20, 180, hot_pixels)
        hot_a = (ys, xs, level)
        hot_b = (ys, xs, np.clip(level + rng.integers(-3, 4, hot_pixels), 0, 255))
    a = _dark(rng, hot=hot_a if hot_pixels else hot)
    b = _dark(rng, hot=hot_b if hot_pixels else hot)
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert c.analysis.noise_sigma >= quantisation_noise(1.0) - 1e-9


def test_a_faint_object_in_a_dark_frame_is_still_a_change():
    """Blank by the floor, the residual still decides: a 2 DN square over 2 % of the frame."""
    rng = np.random.default_rng(9)
    a, b = _dark(rng), _dark(rng)
    b[100:134, 140:190] += 2
    c = compare_arrays(a, b)
    assert c.verdict not in SAME_VERDICTS, c.reason


def _reference_scattered(z, valid):
    """Plain reference: scikit-image's labelling of the Z_LOW mask, components holding a Z_HIGH
    pixel, their pixels over the valid ones."""
    lab = label((z > Z_LOW) & valid, connectivity=2)
    seeds = np.unique(lab[(z > Z_HIGH) & valid])
    seeds = seeds[seeds > 0]
    return float(np.isin(lab, seeds).sum()) / int(valid.sum())


def test_scattered_fraction_matches_scikit_image_labelling():
    rng = np.random.default_rng(1)
    z = cv2.GaussianBlur(rng.normal(0, 1, (200, 260)).astype(np.float32), (0, 0), 1.2) * 12
    valid = np.zeros(z.shape, bool)
    valid[5:-5, 7:-7] = True
    ref = _reference_scattered(z, valid)
    assert 0.001 < ref < 0.5
    assert scattered_fraction(z, valid) == pytest.approx(ref, rel=1e-9)
    assert scattered_fraction(np.zeros_like(z), valid) == 0.0

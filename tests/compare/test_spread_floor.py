"""Cause 40: a block's spread below what the noise floors give measures nothing
(compare.local_noise._local_sigma's ``floor``, compare.align), outside video streams.

Real segmentation: fixtures/real/mahotas_nuclear_labels.png (mahotas' nuclear.png, MIT, labelled
as bench/bench_labels.py does; objects 1-5)."""

import os

import cv2
import numpy as np
import pytest

from scopecheck.compare import align
from scopecheck.compare.local_noise import LOCAL_BLOCK, _local_sigma, lag_gain
from scopecheck.compare.noise_floor import LOCAL_LAG
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays
from tests.conftest import moved_objects

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _labels():
    return cv2.imread(os.path.join(REAL, "mahotas_nuclear_labels.png"), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize("smoothing", [1.0, 1.5, 3.0])
def test_lag_gain_is_white_noises_spread_of_differences(smoothing):
    """Plain numpy: white noise smoothed by a Gaussian, the std of differences LOCAL_LAG samples apart
    over the std of the smoothed noise."""
    rng = np.random.default_rng(0)
    x = cv2.GaussianBlur(rng.normal(0, 1, (1024, 1024)).astype(np.float32), (0, 0), smoothing)[32:-32, 32:-32]
    d = x[:, LOCAL_LAG:] - x[:, :-LOCAL_LAG]
    assert lag_gain(smoothing) == pytest.approx(float(d.std() / x.std()), rel=0.02)


def test_spreads_under_the_floor_count_as_the_floor():
    """A residual of zeros but for an interpolation error of 1e-4 and one block of 1e-3 (an object's
    edge): with no floor the block is judged at the cap (3x the frame's noise, as the ratio of two
    errors that measure nothing); with the floor every block is at the frame's noise."""
    rng = np.random.default_rng(1)
    h = w = 8 * LOCAL_BLOCK
    smooth = (rng.normal(0, 1e-4, (h, w))).astype(np.float32)
    smooth[:LOCAL_BLOCK, :LOCAL_BLOCK] = rng.normal(0, 1e-3, (LOCAL_BLOCK, LOCAL_BLOCK))
    valid = np.ones((h, w), bool)
    sigma = 0.5
    free = _local_sigma(smooth, valid, sigma)
    floored = _local_sigma(smooth, valid, sigma, floor=sigma * lag_gain(1.5))
    assert float(free.max()) > 2.5 * sigma  # the corner block, spread back by bilinear interpolation
    assert np.allclose(floored, sigma)


@pytest.mark.parametrize("label", [3, 4, 5])
@pytest.mark.parametrize("bits", [8, 16])
def test_a_label_image_with_one_object_moved_2_px_reads_different(label, bits, monkeypatch):
    """Five nuclei labelled 1-5 (1024x1344: the analysis works at a third of that); one moved 2 px
    down and 1 across. Its edge's residual is a few DN over blocks whose residual is otherwise the
    registration's interpolation error; without the floor 4 and 5 read `same`."""
    lab = _labels()
    moved = moved_objects(lab, [label], by=(2, 1))
    a, b = (lab, moved) if bits == 8 else (lab.astype(np.uint16), moved.astype(np.uint16))
    c = compare_arrays(a, b)
    assert c.verdict not in SAME_VERDICTS, c.reason
    if label in (4, 5):
        monkeypatch.setattr(align, "lag_gain", lambda smoothing: 0.0)
        assert compare_arrays(a, b).verdict in SAME_VERDICTS


def test_the_label_image_against_its_16_bit_copy_stays_the_same():
    lab = _labels()
    assert compare_arrays(lab, lab.astype(np.uint16)).verdict in SAME_VERDICTS

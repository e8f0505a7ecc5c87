"""A difference that is the cameras' own noise, correlated over a pixel or so by demosaicing or
binning, is noise at every scale (held-out split 11's widefield frames, session 27): the structure
correlation measures each side's noise at its blur's scale without the per-pixel cap, and the
aligned SSIM takes the difference's spread as the noise. A difference correlated further -- a
refocus, an object -- keeps the cap. The references are closed forms: the autocorrelation two
pixels apart of white noise through a k x k box is (k - 2) / k (0 for k <= 2)."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

import scopecheck.compare.changes as changes
from scopecheck.compare.changes import NOISE_REACH_ACF, difference_reach, noise_like
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays
from tests.conftest import ROOT

MEAN = os.path.join(ROOT, "fixtures", "real", "cc15_d800_iso3200_1_mean.png")  # a real mean of 500 camera shots


def _boxed_noise(rng, shape, k: int, sigma: float) -> np.ndarray:
    """White noise through a k x k box (k = 1: white), scaled back to ``sigma`` per pixel."""
    n = rng.normal(0.0, 1.0, shape).astype(np.float32)
    if k > 1:
        n = cv2.blur(n, (k, k), borderType=cv2.BORDER_REFLECT)
    return n * np.float32(sigma / n.std())


@pytest.mark.parametrize("k,want", [(1, 0.0), (2, 0.0), (3, 1 / 3), (4, 1 / 2)])
def test_the_reach_of_boxed_noise_is_its_closed_form(k, want):
    rng = np.random.default_rng(k)
    a = np.zeros((512, 512), np.float32)
    got = difference_reach(a, _boxed_noise(rng, a.shape, k, 10.0))
    assert abs(got - want) < 0.05, (k, got, want)  # the shading taken out lowers a wide reach a little
    assert noise_like(a, _boxed_noise(rng, a.shape, k, 10.0)) == (want <= NOISE_REACH_ACF)


def test_a_refocus_is_no_noise():
    a = cv2.cvtColor(cv2.imread(MEAN), cv2.COLOR_BGR2GRAY).astype(np.float32)
    b = cv2.GaussianBlur(a, (0, 0), 1.5)
    assert difference_reach(a, b) > NOISE_REACH_ACF + 0.1
    assert not noise_like(a, b)
    assert not noise_like(a[:20, :20], b[:20, :20])  # too small to tell: not noise-like
    assert not noise_like(a, a.copy())               # no difference at all: nothing to measure


def _dim_shots(blur: float = 0.0):
    """The real mean as a dim fluorescence field (mean about 30 levels) seen twice through a camera
    whose noise (12 levels a pixel) its demosaicing spread over 3 x 3 pixels, as split 11's
    widefield frames: B refocused by ``blur`` px."""
    rng = np.random.default_rng(27)
    clean = cv2.cvtColor(cv2.imread(MEAN), cv2.COLOR_BGR2GRAY).astype(np.float32) * np.float32(0.33)
    b_clean = cv2.GaussianBlur(clean, (0, 0), blur) if blur else clean

    def shot(x):
        return np.clip(np.rint(x + _boxed_noise(rng, x.shape, 3, 12.0)), 0, 255).astype(np.uint8)
    return shot(clean), shot(b_clean)


def test_two_dim_shots_with_demosaiced_noise_are_the_same_field(monkeypatch):
    a, b = _dim_shots()
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS, c.reason
    monkeypatch.setattr(changes, "NOISE_REACH_ACF", -1.0)  # without it: the noise read as structure
    assert compare_arrays(a, b).verdict not in SAME_VERDICTS


def test_a_refocus_under_demosaiced_noise_is_still_a_change():
    a, b = _dim_shots(blur=2.0)
    c = compare_arrays(a, b)
    assert c.verdict not in SAME_VERDICTS, c.reason


def test_a_pasted_object_under_demosaiced_noise_is_still_a_change():
    a, b = _dim_shots()
    b = b.copy()
    b[200:240, 300:340] = np.clip(b[200:240, 300:340].astype(np.int16) + 60, 0, 255).astype(np.uint8)
    c = compare_arrays(a, b)
    assert c.verdict not in SAME_VERDICTS and not c.same_field, c.reason

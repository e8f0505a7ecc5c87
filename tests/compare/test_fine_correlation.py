"""Cause 47: a noise-like difference (cause 45) says the two sides agree only when their structure
finer than the layout agrees too (compare.changes.fine_correlation). Two fields of one sample share
where they are bright -- a cell body at the lower left of both -- and when one side is a noisy shot,
their difference is that shot's noise at every pixel: noise-like, while the fields differ.

References: a closed form (a shared layout plus fine structures correlated by a chosen rho: the
fine correlation is rho, the whole one far above it) and the truth of real pictures: W2S's raw
widefield shot of field 22 against the mean of 400 shots of field 23 (another field: session 28's
false "same") and of field 22 itself (the same field); fixtures/real/README.md."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

import scopecheck.compare.changes as changes
from scopecheck.compare.changes import FINE_CORR, LAYOUT_SIGMA, _structure_correlation, fine_correlation
from scopecheck.compare.pair import SAME_VERDICTS, compare_files

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")
SHOT = os.path.join(REAL, "w2s_avg1_022_1_crop384.png")
OWN_MEAN = os.path.join(REAL, "w2s_avg400_022_1_crop384.png")
NEXT_MEAN = os.path.join(REAL, "w2s_avg400_023_1_crop384.png")


def _fields(rho: float, noise: float, seed: int = 0):
    """Two 384x384 fields, noise-free and as seen: one layout (a Gaussian of 60 px of white noise,
    strong) and fine structures (a Gaussian of 2 px) correlated by ``rho``; white noise of
    ``noise`` on each seen side."""
    rng = np.random.default_rng(seed)
    shape = (384, 384)

    def smooth(s, scale):
        x = cv2.GaussianBlur(rng.normal(0, 1, shape).astype(np.float32), (0, 0), s)
        return x * np.float32(scale / x.std())
    layout = smooth(60.0, 30.0)
    f1, f2 = smooth(2.0, 6.0), smooth(2.0, 6.0)
    fb = np.float32(rho) * f1 + np.float32(np.sqrt(1 - rho * rho)) * f2
    clean = (100 + layout + f1, 100 + layout + fb)
    return clean, tuple(x + rng.normal(0, noise, shape).astype(np.float32) for x in clean)


def _fine_reference(a: np.ndarray, b: np.ndarray) -> float:
    """Plain numpy: the correlation of the noise-free sides' structure finer than the layout."""
    def hp(x):
        s = cv2.GaussianBlur(x, (0, 0), 1.0)
        return (s - cv2.GaussianBlur(s, (0, 0), LAYOUT_SIGMA)).ravel().astype(np.float64)
    return float(np.corrcoef(hp(a), hp(b))[0, 1])


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_the_fine_correlation_is_the_fine_structures_own(rho):
    clean, (a, b) = _fields(rho, noise=3.0)
    ref = _fine_reference(*clean)
    assert abs(ref - rho) < 0.2  # the layout leaves little above the layout's scale
    sa, sb = (cv2.GaussianBlur(x, (0, 0), 1.0) for x in (a, b))
    fine = fine_correlation(3.0, 3.0, sa, sb)
    # unrelated and equal fine structures read as they are; in between the estimate reads high (the
    # noise a noise-like difference measures at the blur's scale takes some fine texture with it)
    low, high = (ref - 0.05, ref + 0.2) if 0 < rho < 1 else (ref - 0.1, ref + 0.1)
    assert fine is not None and low < fine < high, (rho, fine, ref)
    whole, _ = _structure_correlation(3.0, 3.0, sa, sb)
    assert whole > 0.9  # the shared layout alone correlates the whole


def test_fine_structure_under_its_noise_tells_nothing():
    _, (a, b) = _fields(0.0, noise=60.0)
    sa, sb = (cv2.GaussianBlur(x, (0, 0), 1.0) for x in (a, b))
    assert fine_correlation(60.0, 60.0, sa, sb) is None


def test_a_noisy_shot_against_the_mean_of_the_next_field_differs(monkeypatch):
    c = compare_files(SHOT, NEXT_MEAN)
    assert c.verdict not in SAME_VERDICTS, c.reason
    monkeypatch.setattr(changes, "FINE_CORR", -2.0)  # without cause 47: the layout passed for the field
    c = compare_files(SHOT, NEXT_MEAN)
    assert c.verdict in SAME_VERDICTS, c.reason


def test_the_noisy_shot_against_its_own_mean_is_the_same_field():
    c = compare_files(SHOT, OWN_MEAN)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert FINE_CORR == 0.5

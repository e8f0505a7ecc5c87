"""Cause 43: the light test puts A through the frame's tone curve (compare.levels.tone_curve).

A window's levels are fitted on a ring around a small object (cause 41), so its gain is the tone
curve's slope at the ring's level: under a camera's gamma, a star on dark sky read "brightened by
11 %" -- the slope at the sky's level extended to the star's. What a function of A's level
explains of the residual frame-wide, in most parts of the frame alike, is the tone curve; a few
objects that dimmed lie in a few parts.

Real pictures: scikit-image's Hubble deep field (bundled)."""

import os
import sys

import cv2
import numpy as np
import pytest
from skimage import data

from scopecheck.compare import align, levels
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from bench_dimming import dimmed, small_objects, toned  # noqa: E402


def _shots(img: np.ndarray, gamma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two shots of ``img`` with 2 DN of white noise each, the second through ``gamma``."""
    rng = np.random.default_rng(seed)
    f = img.astype(np.float32)
    g = toned(img, gamma).astype(np.float32)
    return tuple(np.clip(np.rint(x + rng.normal(0, 2, x.shape)), 0, 255).astype(np.uint8) for x in (f, g))


def _light(c) -> list:
    return [r for r in c.analysis.regions if r.kind in ("dimmed", "brightened")]


@pytest.mark.parametrize("gamma", [0.8, 1.1, 1.25])
def test_a_tone_curve_is_no_object_brightened(gamma, monkeypatch):
    """Two shots of a 320x240 part of the Hubble deep field, the second through a gamma: `same`, no
    object dimmed or brightened. Without the tone curve (the ring's gain extended from the sky's
    level to the stars'): stars read dimmed or brightened by 11-31 %."""
    a, b = _shots(data.hubble_deep_field()[300:540, 300:620, ::-1], gamma, seed=3)
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS and not _light(c), c.reason
    monkeypatch.setattr(align, "tone_curve", lambda *a, **k: None)
    assert _light(compare_arrays(a, b))


def test_beyond_the_levels_most_parts_hold_the_curve_goes_on_along_its_slope(monkeypatch):
    """The whole Hubble field (reduced 2x at the working scale, where its stars' cores average
    down to the top 0.1 % of levels at about 100), two shots, the second through a gamma of 0.8:
    `same`, no object dimmed. With the curve held flat beyond its ends (TONE_SLOPE 0) the stars'
    cores (250) read dimmed by 11-16 %."""
    a, b = _shots(data.hubble_deep_field()[:, :, ::-1], 0.8, seed=3)
    c = compare_arrays(a, b)
    assert c.verdict in SAME_VERDICTS and not _light(c), c.reason
    monkeypatch.setattr(levels, "TONE_SLOPE", 0.0)
    assert [r for r in _light(compare_arrays(a, b)) if r.kind == "dimmed"]


def test_objects_dimmed_under_a_tone_curve_still_read_dimmed():
    """Three small objects of the Hubble field dimmed by 25 % (bench_dimming's draw 4), the picture
    then through a gamma of 1.1: `different`, "dimmed" -- the tone curve is the frame's, not theirs."""
    img = data.hubble_deep_field()[:, :, ::-1].copy()
    masks = small_objects(img, rng=np.random.default_rng(4))
    c = compare_arrays(img, toned(dimmed(img, masks, 0.25), 1.1))
    assert c.verdict not in SAME_VERDICTS and "dimmed" in c.reason, c.reason


def _blobs(n: int = 12, size: int = 360, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """An n x n grid of Gaussian blobs on a level of 20, and their centres: the first three (in a
    corner) of amplitude 220 and 8 px, the others 40-150 and 3 px."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    img = np.full((size, size), 20.0, np.float32)
    step = size // n
    centres = []
    for i in range(n):
        for j in range(n):
            cy, cx = i * step + step // 2, j * step + step // 2
            big = len(centres) < 3
            img += (220 if big else rng.uniform(40, 150)) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (8.0 if big else 3.0) ** 2))
            centres.append((cx, cy))
    return img, centres


def test_the_tone_curve_is_the_function_of_level_itself():
    """B a function of A's level (a gamma of 1.3), no noise: each level's offset is that function's
    residual at the level returned (the plain formula), within what its curvature moves over a bin;
    the levels only the three large blobs in one corner reach are not read."""
    a, _ = _blobs()
    b = 255 * (a / 255) ** 1.3
    g, o = np.polyfit(a.ravel(), b.ravel(), 1)
    r = ((b - o) / g - a).astype(np.float32)
    tone = levels.tone_curve(r, a, np.arange(a.size), noise=0.5)
    c, off = tone.levels, tone.offsets
    assert len(c) >= levels.TONE_BINS // 2 and max(abs(y) for y in off) > 5  # (levels above 160: one corner)
    truth = (255 * (c / 255) ** 1.3 - o) / g - c
    assert np.abs(off - truth).max() < 0.3, np.c_[c, off, truth]


def test_a_few_objects_dimmed_are_no_tone_curve():
    """The blob grid with noise, its three brightest blobs (in one corner) dimmed by 40 %: no tone
    curve -- they alone reach their levels, but in one part of the frame, and a tone acts on a level
    everywhere (with TONE_PLACES 1 their dimming is a curve). The same grid through a gamma of 1.3:
    a tone curve."""
    a, centres = _blobs()
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:a.shape[0], 0:a.shape[1]].astype(np.float32)
    b = a.copy()
    for cx, cy in centres[:3]:
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 8.0 ** 2)) > 0.05
        b[blob] = 20 + 0.6 * (a[blob] - 20)
    na, nb = (x + rng.normal(0, 1.0, x.shape).astype(np.float32) for x in (a, b))
    sa, sb = (cv2.GaussianBlur(x, (0, 0), 1.5) for x in (na, nb))
    at = np.arange(a.size)
    noise = float(np.std(cv2.GaussianBlur(rng.normal(0, 1.4, a.shape).astype(np.float32), (0, 0), 1.5)))
    assert levels.tone_curve(sb - sa, sa, at, noise=noise) is None
    t = cv2.GaussianBlur(255 * (np.clip(nb, 0, None) / 255) ** 1.3, (0, 0), 1.5)
    g, o = np.polyfit(sa.ravel(), t.ravel(), 1)
    assert levels.tone_curve(((t - o) / g - sa).astype(np.float32), sa, at, noise=noise) is not None

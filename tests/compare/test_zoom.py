"""A magnification (zoom, a refocus's breathing) between two shots of one field (``compare/zoom.py``).

Real pictures: ``fixtures/real/cc15_*`` (one shot of a static scene and the mean of 500 shots of
it), ``fixtures/real/cil11813_*`` (yeast nuclei that moved between time points); sources and
licences in ``fixtures/real/README.md``. The zoom is made here with OpenCV's affine warp at a
literal scale; scikit-image's ``warp`` with a ``SimilarityTransform`` is the reference for the
half-way resampling.
"""
from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest
from skimage.transform import SimilarityTransform, warp

from scopecheck.compare import pixel_pair, zoom as zm
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays
from scopecheck.compare.verdict import Verdict

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def real(name, flags=cv2.IMREAD_UNCHANGED):
    return cv2.imread(os.path.join(REAL, name), flags)


def zoomed(img: np.ndarray, scale: float, degrees: float = 0.0) -> np.ndarray:
    """``img`` magnified by ``scale`` (and rotated) about its centre, bilinear, same size."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), degrees, scale)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def test_fit_reads_a_literal_magnification_and_rotation_of_a_real_picture():
    shot = real("cc15_d800_iso3200_1_real.png", cv2.IMREAD_GRAYSCALE).astype(np.float32)
    for scale, deg in ((1.003, 0.0), (0.9975, 0.0), (1.0, 0.15)):
        sim = zm.similarity(shot, zoomed(shot, scale, deg))
        assert sim is not None
        assert sim.scale == pytest.approx(scale * math.cos(math.radians(deg)) - 1, abs=2.5e-4)
        # getRotationMatrix2D's positive angle turns the picture counter-clockwise (y down): -r here
        assert sim.rotation == pytest.approx(-math.radians(deg) * scale, abs=2.5e-4)
        # the largest displacement the literal warp gives: at the corners, 255.5 px from the centre each way
        true = math.hypot(scale * math.cos(math.radians(deg)) - 1, scale * math.sin(math.radians(deg)))
        assert sim.reach == pytest.approx(true * math.hypot(255.5, 255.5), rel=0.1)


def test_no_similarity_for_a_translation_cells_that_moved_or_a_large_zoom():
    shot = real("cc15_d800_iso3200_1_real.png", cv2.IMREAD_GRAYSCALE).astype(np.float32)
    shifted = np.roll(shot, (2, -3), axis=(0, 1))
    assert zm.similarity(shot, shifted) is None
    assert zm.similarity(shot, shot) is None
    assert zm.similarity(shot, zoomed(shot, 1.012)) is None  # 4.3 px at the corners: more than max_shift
    assert zm.similarity(shot, zoomed(shot, 1.012), max_px=8.0) is not None
    assert zm.similarity(shot, zoomed(shot, 1.0005)) is None  # 0.18 px: the registration's edge slack takes it
    a, b = real("cil11813_ysl_t03.png"), real("cil11813_ysl_t04.png")
    assert zm.similarity(a.astype(np.float32), b.astype(np.float32)) is None


def test_undo_against_scikit_image_warp():
    img = real("cc15_d800_iso3200_1_mean.png", cv2.IMREAD_GRAYSCALE).astype(np.float32)
    sim = zm.Similarity(scale=0.004, rotation=0.002, reach=0.0, tiles=0)
    h, w = img.shape
    c = np.array([(w - 1) / 2, (h - 1) / 2])
    for half in (-0.5, 0.5):
        s, r = sim.scale * half, sim.rotation * half
        # output (u) = input(u + M (u - c)): skimage's inverse map is that affine
        mat = np.array([[1 + s, -r, -(s * c[0] - r * c[1])], [r, 1 + s, -(r * c[0] + s * c[1])], [0, 0, 1]])
        ref = warp(img, SimilarityTransform(matrix=mat), order=1, mode="edge", preserve_range=True)
        got = zm.undo(img, sim, half)
        inner = (slice(8, -8), slice(8, -8))
        assert np.abs(got[inner] - ref[inner]).max() < 0.05


def test_a_zoomed_shot_against_the_mean_reads_same_with_its_magnification():
    shot, mean = real("cc15_d800_iso3200_1_real.png"), real("cc15_d800_iso3200_1_mean.png")
    z = zoomed(mean, 1.0035)
    c = compare_arrays(shot, z)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert "magnification differs by +0.3" in c.reason
    j = c.to_json()["zoom"]
    assert j["scale"] == pytest.approx(0.0035, abs=3e-4) and j["reach_px"] > 1.0


def test_without_the_rule_the_zoom_reads_as_a_change(monkeypatch):
    shot, mean = real("cc15_d800_iso3200_1_real.png"), real("cc15_d800_iso3200_1_mean.png")
    monkeypatch.setattr(pixel_pair, "similarity", lambda *a, **k: None)
    c = compare_arrays(shot, zoomed(mean, 1.0035))
    assert c.verdict == Verdict.DIFFERENT, c.reason


def test_moved_nuclei_still_read_different():
    a, b = real("cil11813_ysl_t03.png"), real("cil11813_ysl_t04.png")
    c = compare_arrays(a, b)
    assert c.verdict == Verdict.DIFFERENT
    assert c.analysis.zoom is None


def test_undo_keeps_dtype_shape_and_channels():
    sim = zm.Similarity(scale=0.01, rotation=0.002, reach=0.0, tiles=0)
    rng = np.random.default_rng(1)
    for x in (rng.integers(0, 65535, (40, 50), dtype=np.uint16), rng.integers(0, 255, (40, 50, 1), dtype=np.uint8),
              rng.integers(0, 255, (40, 50, 4), dtype=np.uint8), rng.random((40, 50, 6)).astype(np.float32)):
        y = zm.undo(x, sim, 0.5)
        assert y.dtype == x.dtype and y.shape == x.shape
        if x.ndim == 3:  # every channel as it would be alone
            for c in range(x.shape[2]):
                assert np.array_equal(y[:, :, c], zm.undo(np.ascontiguousarray(x[:, :, c]), sim, 0.5))

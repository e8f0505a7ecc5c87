"""Label images (what a segmentation of a micrograph gives: 0 background, 1..N objects, often in 16
bits) whose objects moved: cause 37 (their ties are no codec's copies, compare.copied_blocks) and
cause 38 (a 16-bit label image's small labels are no clipped black, compare.clipping.clip_levels).
Real segmentations: fixtures/real/cil11813_ysl_t03.png (zebrafish nuclei, Cell Image Library 11813)."""

import os

import cv2
import numpy as np
import pytest

from scopecheck.compare import clipping
from scopecheck.compare.clipping import CLIP_LSB, LEVEL_COHERENT, PLATEAU, _deep_black, clip_levels
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays
from tests.conftest import moved_objects, segmented

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _labels():
    return segmented(cv2.imread(os.path.join(REAL, "cil11813_ysl_t03.png"), cv2.IMREAD_GRAYSCALE), blur=1.0)


def _plain_deep_black(pixels):
    """Plain numpy, pixel by pixel (these images are small enough for the function's grid of rows to
    be every row): every code within CLIP_LSB of 0 is clipped, unless the codes above the darkest
    there are plateaus (LEVEL_COHERENT of their pixels equal to the pixel on their right); then the
    darkest code if PLATEAU of the pixels pile on it, else nothing (-1)."""
    lo = int(pixels.min())
    plateau_px = same = 0
    h, w = pixels.shape
    for y in range(h):
        for x in range(w):
            v = int(pixels[y, x])
            if lo < v <= CLIP_LSB:
                plateau_px += 1
                same += x + 1 < w and int(pixels[y, x + 1]) == v
    if plateau_px < PLATEAU * pixels.size or same < LEVEL_COHERENT * plateau_px:
        return float(CLIP_LSB)
    return float(lo) if np.sum(pixels == lo) >= PLATEAU * pixels.size else -1.0


def test_the_real_segmentation_has_small_labels():
    lab = _labels()
    assert lab.max() > 50 and all(np.any(lab == k) for k in (1, 2, 3, 4))


@pytest.mark.parametrize("case", ["labels", "crushed", "dark", "bright"])
def test_deep_black_against_plain_numpy(case):
    rng = np.random.default_rng(38)
    if case == "labels":
        x = _labels()
        expect = 0.0  # the background piles on 0; 1-4 are objects, plateaus of their own
    elif case == "crushed":  # a camera's black cut at 0: its codes 1-4 are noise, clipped as before
        x = np.clip(np.rint(rng.normal(1.0, 3.0, (200, 200))), 0, None).astype(np.uint16)
        expect = float(CLIP_LSB)
    elif case == "dark":  # merely dark: its few codes of 0-4 are scattered noise
        x = np.clip(np.rint(rng.normal(12.0, 3.0, (200, 200))), 0, None).astype(np.uint16)
        expect = float(CLIP_LSB)
    else:  # nothing within CLIP_LSB of 0
        x = rng.integers(100, 4000, (200, 200)).astype(np.uint16)
        expect = float(CLIP_LSB)
    assert _deep_black(x) == _plain_deep_black(x) == expect


def test_a_label_image_whose_small_labels_moved_reads_different(monkeypatch):
    lab = _labels()
    moved = moved_objects(lab, [1, 2, 3, 4])  # only the labels within CLIP_LSB of 0
    assert clip_levels(lab)[0] == 0.0
    c = compare_arrays(lab, moved)
    assert c.verdict == "different", c.reason


def test_objects_labelled_1_to_3_that_moved_leave_a_residual(monkeypatch):
    a = np.zeros((300, 300), np.uint16)
    a[50:100, 50:100], a[150:200, 60:120], a[200:260, 180:260] = 1, 2, 3
    b = moved_objects(a, [2], by=(3, 4))
    c = compare_arrays(a, b)
    assert c.verdict == "different" and c.regions, c.reason
    # every code within CLIP_LSB of 0 taken for clipped black: the move left no residual at all
    monkeypatch.setattr(clipping, "_deep_black", lambda pixels: float(CLIP_LSB))
    assert compare_arrays(a, b).verdict in SAME_VERDICTS


def test_a_16_bit_label_image_against_its_8_bit_copy_is_the_same():
    # the same labels (116 of them) in another container: the small labels now carry their
    # residual, and there is none to carry
    lab = _labels()
    assert lab.max() < 256
    c = compare_arrays(lab, lab.astype(np.uint8))
    assert c.verdict in SAME_VERDICTS, c.reason


def test_a_third_of_the_real_nuclei_moved_reads_different_in_16_and_8_bits():
    lab = _labels()
    rng = np.random.default_rng(0)
    moved = moved_objects(lab, rng.choice(np.arange(1, lab.max() + 1), size=int(lab.max()) // 3, replace=False))
    for a, b in ((lab, moved), (np.minimum(lab, 255).astype(np.uint8), np.minimum(moved, 255).astype(np.uint8))):
        c = compare_arrays(a, b)
        assert c.verdict == "different", c.reason

"""Stacks and wider sample types on real frames (``fixtures/real``, sources and licences in its
README): the real frames are written into stacks and float files here, as a lab's tools would save
them, and compared as such."""
import os

import cv2
import numpy as np

from scopecheck.compare.pair import compare_files

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _frame(name: str) -> np.ndarray:
    return cv2.imread(os.path.join(REAL, name), cv2.IMREAD_UNCHANGED)


def test_a_real_time_lapse_stack_against_its_first_frame_repeated(tmp_path):
    """Zebrafish YSL nuclei, frames 3 and 4 (nuclei move): a stack [t3, t4] against [t3, t3] differs
    at page 2 only; the same pages rewritten are identical pixels; t4 alone is found as page 2."""
    t3, t4 = _frame("cil11813_ysl_t03.png"), _frame("cil11813_ysl_t04.png")
    moving, still, again = tmp_path / "moving.tif", tmp_path / "still.tif", tmp_path / "again.tif"
    assert cv2.imwritemulti(str(moving), [t3, t4]) and cv2.imwritemulti(str(still), [t3, t3])
    assert cv2.imwritemulti(str(again), [t3, t4], [cv2.IMWRITE_TIFF_COMPRESSION, 1])
    c = compare_files(moving, still)
    assert c.verdict == "different" and c.images["differ"] == [2], c.reason
    assert c.reason.startswith("image 2 of 2: ")
    assert compare_files(moving, again).verdict == "identical-pixels"
    single = tmp_path / "t4.png"
    cv2.imwrite(str(single), t4)
    c = compare_files(single, moving)
    assert c.images["found"] == {"side": "B", "image": 2, "pixels_equal": True}


def test_real_16_bit_repeats_saved_as_float_are_the_same_field(tmp_path):
    """Colloids stuck to glass, frames 0 and 1 (nothing moves), saved as float32 the way an analysis
    tool would: normalised to 0..1, and in their own units after a background subtraction
    (stretched). Both are the same field, as the 16-bit frames are; the moving YSL frames so saved
    are not."""
    t0, t1 = (_frame(f"trackpy_stuck_t{i}.png").astype(np.float32) for i in (0, 1))
    for name, f in (("normalised", lambda x: x / 65535.0), ("background-subtracted", lambda x: x - 470.5)):
        a, b = tmp_path / f"{name}_0.tif", tmp_path / f"{name}_1.tif"
        cv2.imwrite(str(a), f(t0).astype(np.float32))
        cv2.imwrite(str(b), f(t1).astype(np.float32))
        c = compare_files(a, b)
        assert c.same, (name, c.reason)
    y3, y4 = (_frame(f"cil11813_ysl_t0{i}.png").astype(np.float32) * 1.7 - 3.25 for i in (3, 4))
    a, b = tmp_path / "ysl3.tif", tmp_path / "ysl4.tif"
    cv2.imwrite(str(a), y3)
    cv2.imwrite(str(b), y4)
    c = compare_files(a, b)
    assert c.verdict == "different" and c.a.image.stretched is not None, c.reason

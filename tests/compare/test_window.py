"""A smaller image that is a window of the larger (compare.window): found at the exact place, told
from a resized copy, judged as a window. References: the crop's own coordinates, numpy slicing."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from scopecheck.compare.pair import SAME_VERDICTS, Verdict, compare_files
from scopecheck.compare.pictures import comparison_sheet
from scopecheck.compare.window import find_window


@pytest.fixture(scope="module")
def photo():
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)


def write(tmp_path, name, arr, *params):
    p = str(tmp_path / name)
    assert cv2.imwrite(p, arr, list(params))
    return p


@pytest.mark.parametrize("box", [(2, 2, 2, 2), (1, 4, 3, 0), (60, 30, 11, 90)])
def test_find_window_places_a_crop_exactly(photo, box):
    left, top, right, bottom = box
    g = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    h, w = g.shape
    win = find_window(g, g[top:h - bottom, left:w - right])
    assert win is not None
    assert (win.x, win.y, win.width, win.height) == (left, top, w - left - right, h - top - bottom)
    assert win.margins(g.shape) == box
    assert win.correlation == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [0.5, 0.9, 0.99])
def test_a_resized_copy_is_not_a_window(photo, scale):
    g = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    h, w = g.shape
    small = cv2.resize(g, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    assert find_window(g, small) is None


def test_same_size_and_larger_are_not_windows(photo):
    g = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    assert find_window(g, g) is None
    assert find_window(g[:100, :100], g) is None


def test_a_copy_with_its_border_trimmed_is_the_same_field(tmp_path, photo):
    # before: stretched onto the larger as a 0.99x resize, "local motion: 37 % of the field moved"
    a = write(tmp_path, "a.png", photo)
    b = write(tmp_path, "b.png", photo[2:-2, 3:-1])
    for pa, pb in ((a, b), (b, a)):
        c = compare_files(pa, pb)
        assert c.verdict in SAME_VERDICTS, c.reason
        assert "border trimmed by up to 3 px" in c.reason
        assert not c.resized
    w = compare_files(a, b).to_json()["window"]
    assert (w["side"], w["x"], w["y"], w["width"], w["height"]) == ("A", 3, 2, 508, 508)
    assert w["trimmed"] == {"left": 3, "top": 2, "right": 1, "bottom": 2}


def test_a_window_much_smaller_than_the_frame_is_another_field_of_view(tmp_path, photo):
    a = write(tmp_path, "a.png", photo)
    b = write(tmp_path, "b.jpg", photo[51:461, 51:461], cv2.IMWRITE_JPEG_QUALITY, 90)
    c = compare_files(a, b)
    assert c.verdict is Verdict.DIFFERENT
    assert not c.same_field
    assert c.reason.startswith("field of view differs: B is A's window at (51, 51), 410x410 (64 % of A's field); "
                               "within it, same field within noise"), c.reason


def test_a_change_inside_a_trimmed_copy_is_found_in_a_pixels(tmp_path, photo):
    changed = photo.copy()
    cv2.rectangle(changed, (300, 120), (340, 160), (0, 0, 255), -1)  # in A's pixels
    a = write(tmp_path, "a.png", photo)
    b = write(tmp_path, "b.png", changed[4:, 2:-2])
    c = compare_files(a, b, want_map=True)
    assert c.verdict is Verdict.DIFFERENT
    boxes = [(r.x, r.y, r.x + r.width, r.y + r.height) for r in c.regions]
    assert any(x0 <= 320 <= x1 and y0 <= 140 <= y1 for x0, y0, x1, y1 in boxes), boxes
    pa, pb = c.compared_pixels()
    assert pa.shape == pb.shape == c.ssim_map.shape[:2] + (3,)
    assert np.array_equal(pa, photo[4:, 2:-2])
    sheet = comparison_sheet(c)
    assert sheet.ndim == 3 and sheet.shape[2] == 3


def test_a_trimmed_jpeg_export_of_a_low_contrast_frame_is_found_as_a_window(tmp_path):
    # yeast YFP (16-bit, values ~240-850) exported to 8 bits, saved as JPEG q90, 2 px trimmed: its
    # window correlates far better than the reduction does (0.96 against 0.42 here; the whole frame
    # of this field: 0.88 against 0.56, which the first floor of 0.9 sent to the resize path)
    import os

    src = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real", "rcell2_yfp_pos12_t10_crop512.png")
    a = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    e = np.clip(np.rint((a.astype(np.float64) - a.min()) * 255.0 / (a.max() - a.min())), 0, 255).astype(np.uint8)
    b = write(tmp_path, "b.jpg", e[2:-2, 2:-2], cv2.IMWRITE_JPEG_QUALITY, 90)
    c = compare_files(src, b)
    assert c.verdict in SAME_VERDICTS, c.reason
    w = c.to_json()["window"]
    assert w is not None and (w["x"], w["y"]) == (2, 2)
    assert w["correlation"] > w["resize_correlation"]

"""The drifts a verdict names (compare.verdict.drift_words) and the noise in the files' own units:
a black level (brightness) change is named, an exposure drift only when the mean level moved with
the fitted gain, and a 16-bit pair's noise is given in 16-bit levels."""
import os
import re

import cv2
import numpy as np
import pytest

from scopecheck.compare.pair import compare_arrays, compare_files
from scopecheck.compare.verdict import noise_text
from tests.conftest import COMPARE_FIX

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _luma_mean(img: np.ndarray) -> float:
    x = img.astype(np.float64)
    return float(x.mean()) if x.ndim == 2 else float(x.mean(axis=(0, 1)) @ np.array([0.114, 0.587, 0.299]))


def test_a_black_level_change_is_named():
    a = cv2.imread(os.path.join(COMPARE_FIX, "ihc_shot1.png"), cv2.IMREAD_UNCHANGED)
    b = np.clip(a.astype(np.int16) + 20, 0, 255).astype(np.uint8)  # the camera's brightness raised by 20 levels
    c = compare_arrays(a, b)
    assert c.same, c.reason
    m = re.search(r"black level drifted ([+-][0-9.]+) % of full scale", c.reason)
    assert m and float(m.group(1)) == pytest.approx(100 * 20 / 255, abs=0.2), c.reason
    level = _luma_mean(b) / _luma_mean(a) - 1  # numpy's means are the reference
    assert f"mean level {100 * level:+.1f} %" in c.reason, c.reason
    assert "exposure drifted" not in c.reason


def test_an_exposure_drift_is_still_named_and_no_black_level():
    c = compare_files(os.path.join(COMPARE_FIX, "ihc_shot1.png"), os.path.join(COMPARE_FIX, "ihc_drift.png"))
    assert "exposure drifted +3" in c.reason and "black level" not in c.reason, c.reason


def test_no_exposure_drift_where_the_mean_level_did_not_move():
    """A noise-dominated real frame against the mean of it and the next: the gain fitted to its weak
    structure trades against the offset (read "exposure drifted -20 %"), while the mean level moved
    by 0.2 %."""
    a = cv2.imread(os.path.join(REAL, "trackpy_stuck_t0.png"), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(os.path.join(REAL, "trackpy_stuck_t1.png"), cv2.IMREAD_UNCHANGED)
    m = np.rint((a.astype(np.float64) + b) / 2).astype(np.uint16)
    assert abs(_luma_mean(m) / _luma_mean(a) - 1) < 0.005
    c = compare_arrays(a, m)
    assert c.same, c.reason
    assert abs(c.analysis.gain - 1) > 0.1  # the situation: a fitted gain far from one
    assert "exposure drifted" not in c.reason and "black level" not in c.reason, c.reason


def test_a_sixteen_bit_pair_gives_its_noise_in_sixteen_bit_levels():
    pa, pb = (os.path.join(REAL, f"trackpy_stuck_t{i}.png") for i in (0, 1))
    c = compare_files(pa, pb)
    a, b = (cv2.imread(p, cv2.IMREAD_UNCHANGED).astype(np.float64) for p in (pa, pb))
    per_frame = float((b - a).std()) / np.sqrt(2)  # numpy: one frame's noise, 4.85 levels
    reported = c.analysis.noise_sigma * 257
    assert reported == pytest.approx(per_frame, rel=0.15)
    assert f"noise {reported:.1f} DN (16-bit)" in c.reason, c.reason
    assert noise_text(0.25, 1.0, 2) == "0.25 DN" and noise_text(0.02, 257.0) == "5.1 DN (16-bit)"
    assert noise_text(0.0213, 1.0) == "0.021 DN" and noise_text(0.0, 1.0) == "0.0 DN"


def test_shading_is_sized_where_the_frame_is_lit(tmp_path):
    """A vignetting is named at its size; a re-encode, whose residual holds no gain field, names none
    (sized over every pixel, the darkest ones read "shading differs by up to 6 %" for averaged noise)."""
    a = cv2.imread(os.path.join(COMPARE_FIX, "ihc_shot1.png"), cv2.IMREAD_UNCHANGED)
    h, w = a.shape[:2]
    yy, xx = np.mgrid[:h, :w]
    fall = 0.05 * ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)  # 5 % in the corners
    b = np.clip(a * (1 - fall)[..., None], 0, 255).round().astype(np.uint8)
    c = compare_arrays(a, b)
    assert c.same and "shading differs by up to 5 %" in c.reason, c.reason
    assert c.analysis.shading == pytest.approx(0.05, abs=0.006)
    ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, 95])
    (tmp_path / "q95.jpg").write_bytes(buf.tobytes())
    c = compare_files(os.path.join(COMPARE_FIX, "ihc_shot1.png"), str(tmp_path / "q95.jpg"))
    assert c.same and "shading" not in c.reason, c.reason


def test_a_codec_lifting_a_dark_frame_is_no_black_level_drift(tmp_path):
    """A JPEG q70 of a dark real frame (mean 8 of 255) lifts its zeros: the mean level moves 5 %,
    by a quarter of a stored level -- rounding, not the camera's brightness."""
    p = os.path.join(REAL, "cil11813_ysl_t03.png")
    a = cv2.imread(p, cv2.IMREAD_UNCHANGED)
    ok, buf = cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, 70])
    (tmp_path / "q70.jpg").write_bytes(buf.tobytes())
    b = cv2.imread(str(tmp_path / "q70.jpg"), cv2.IMREAD_UNCHANGED)
    level = _luma_mean(b) / _luma_mean(a) - 1
    assert level > 0.02 and (_luma_mean(b) - _luma_mean(a)) < 0.5  # numpy: 2 % of the level, under half a level
    c = compare_files(p, str(tmp_path / "q70.jpg"))
    assert c.same and "black level" not in c.reason and "exposure drifted" not in c.reason, c.reason


def test_white_balance_is_named_when_a_channel_mean_moved_with_its_gain():
    a = cv2.imread(os.path.join(COMPARE_FIX, "ihc_shot1.png"), cv2.IMREAD_UNCHANGED).astype(np.float64)
    drift = a.copy()
    drift[..., 0] *= 1.06  # the blue channel's gain: its mean moves with it
    c = compare_arrays(a.astype(np.uint8), np.clip(drift, 0, 255).round().astype(np.uint8))
    assert "white balance drifted (B +" in c.reason, c.reason
    # the blue channel's contrast lowered around its own mean (a codec's chroma rounding does this):
    # its fitted gain moves, its mean does not (numpy's means are the reference)
    flat = a.copy()
    m = a[..., 0].mean()
    flat[..., 0] = m + 0.94 * (a[..., 0] - m)
    b = np.clip(flat, 0, 255).round().astype(np.uint8)
    assert abs(b[..., 0].mean() / a[..., 0].mean() - 1) < 0.005
    c = compare_arrays(a.astype(np.uint8), b)
    assert "white balance" not in c.reason, c.reason

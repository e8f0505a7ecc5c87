"""Transparency is part of the picture (compare.transparency): a pair whose colours agree but whose
alpha differs is not the same picture; an opaque alpha channel added or dropped is no difference."""
from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from scopecheck.compare.pair import compare_files
from scopecheck.compare.transparency import alpha_difference, alpha_plane


@pytest.fixture(scope="module")
def rgb():
    return cv2.resize(skdata.astronaut(), (200, 160), interpolation=cv2.INTER_AREA)[:, :, ::-1].copy()


def _bgra(rgb, alpha):
    return np.dstack([rgb, alpha])


def _write(tmp_path, name, img):
    p = tmp_path / name
    assert cv2.imwrite(str(p), img)
    return str(p)


def _hole(shape, x=50, y=40, w=70, h=60, value=0):
    a = np.full(shape[:2], 255, np.uint8)
    a[y:y + h, x:x + w] = value
    return a


def test_a_hole_cut_out_is_a_difference_where_it_is(tmp_path, rgb):
    a = _write(tmp_path, "opaque.png", _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8)))
    b = _write(tmp_path, "hole.png", _bgra(rgb, _hole(rgb.shape)))
    c = compare_files(a, b)
    assert c.verdict == "different" and c.same_field
    assert "transparency (alpha) differs" in c.reason and "opacity 100 % in A, 0 % in B" in c.reason
    doc = c.to_json()["alpha"]
    # the reference: the hole's box and its share, written out here
    assert doc["regions"] == [{"x": 50, "y": 40, "width": 70, "height": 60, "area": 4200, "alpha_a": 1.0,
                               "alpha_b": 0.0}]
    assert doc["share"] == pytest.approx(70 * 60 / (200 * 160), abs=1e-6)
    assert (doc["a_has_alpha"], doc["b_has_alpha"]) == (True, True)


def test_no_alpha_counts_as_opaque(tmp_path, rgb):
    plain = _write(tmp_path, "plain.png", rgb)
    opaque = _write(tmp_path, "opaque.png", _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8)))
    hole = _write(tmp_path, "hole.png", _bgra(rgb, _hole(rgb.shape)))
    c = compare_files(plain, opaque)
    assert c.same and c.alpha is None
    c = compare_files(plain, hole)
    assert c.verdict == "different" and c.alpha.has_alpha == (False, True)


def test_half_opacity_everywhere(tmp_path, rgb):
    a = _write(tmp_path, "opaque.png", _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8)))
    b = _write(tmp_path, "half.png", _bgra(rgb, np.full(rgb.shape[:2], 128, np.uint8)))
    c = compare_files(a, b)
    assert c.verdict == "different"
    r = c.alpha.regions[0]
    assert (r.x, r.y, r.width, r.height) == (0, 0, 200, 160)
    assert r.alpha_b == pytest.approx(128 / 255, abs=1e-6)


def test_the_same_mask_shifted_resized_or_cropped_is_the_same_picture(tmp_path, rgb):
    img = _bgra(rgb, _hole(rgb.shape))
    a = _write(tmp_path, "hole.png", img)
    m = np.float32([[1, 0, 2.4], [0, 1, -1.3]])
    shifted = _write(tmp_path, "shifted.png", cv2.warpAffine(img, m, (200, 160), borderMode=cv2.BORDER_REFLECT))
    half = _write(tmp_path, "half.png", cv2.resize(img, (100, 80), interpolation=cv2.INTER_AREA))
    crop = _write(tmp_path, "crop.png", img[3:157, 2:197])
    for b in (shifted, half, crop):
        c = compare_files(a, b)
        assert c.same and c.alpha is None, (b, c.reason)


def test_a_crop_with_another_mask_is_located_in_a(tmp_path, rgb):
    a = _write(tmp_path, "hole.png", _bgra(rgb, _hole(rgb.shape)))
    opaque = _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8))
    b = _write(tmp_path, "crop.png", opaque[3:157, 2:197])
    c = compare_files(a, b)
    assert c.verdict == "different"
    r = c.alpha.regions[0]
    assert (r.x, r.y, r.width, r.height) == (50, 40, 70, 60)  # in A's own pixels


def test_a_small_alpha_difference_is_noted_not_decisive(tmp_path, rgb):
    a = _write(tmp_path, "opaque.png", _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8)))
    b = _write(tmp_path, "dot.png", _bgra(rgb, _hole(rgb.shape, x=10, y=10, w=6, h=6)))  # 36 px < 0.25 % (80)
    c = compare_files(a, b)
    assert c.same and c.alpha is not None and not c.alpha.regions
    assert any("transparency (alpha) differs at 0.11 % of the pixels" in n for n in c.notes)


def test_gray_with_alpha_and_sixteen_bit_alpha(tmp_path, rgb):
    g = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)
    gray4 = np.dstack([g, g, g, _hole(g.shape)])
    a = _write(tmp_path, "gray_opaque.png", np.dstack([g, g, g, np.full(g.shape, 255, np.uint8)]))
    c = compare_files(a, _write(tmp_path, "gray_hole.png", gray4))
    assert c.verdict == "different" and c.alpha.regions[0].area == 4200
    w16 = rgb.astype(np.uint16) * 257
    a16 = _write(tmp_path, "opaque16.png", _bgra(w16, np.full(g.shape, 65535, np.uint16)))
    b16 = _write(tmp_path, "hole16.png", _bgra(w16, _hole(g.shape).astype(np.uint16) * 257))
    c = compare_files(a16, b16)
    assert c.verdict == "different" and c.alpha.regions[0].alpha_b == 0.0


def test_tolerance_and_opening_by_hand():
    a = np.full((40, 40), 255, np.uint8)
    b = a.copy()
    b[10:30, 10:30] = 255 - 12  # 12 levels: within 5 % of 255 (12.75), no difference
    assert alpha_difference(a, b, shift=(0.0, 0.0), min_region_px=1) is None
    assert alpha_difference(None, b, shift=(0.0, 0.0), min_region_px=1) is None  # no alpha is opaque
    b[10:30, 10:30] = 255 - 13
    d = alpha_difference(a, b, shift=(0.0, 0.0), min_region_px=1)
    assert d is not None and d.regions[0].area == 400 and d.share == pytest.approx(400 / 1600)
    assert d.regions[0].alpha_b == pytest.approx(242 / 255)
    d16 = alpha_difference(a, b.astype(np.uint16) * 257, shift=(0.0, 0.0), min_region_px=1)  # 8 against 16 bits
    assert d16 is not None and d16.regions == d.regions
    assert alpha_difference(None, b, shift=(0.0, 0.0), min_region_px=401) is not None  # noted, no region
    assert not alpha_difference(None, b, shift=(0.0, 0.0), min_region_px=401).regions
    rim = a.copy()
    rim[5, :] = 0  # a one-pixel line is opened away (a sub-pixel edge, not a change)
    assert alpha_difference(a, rim, shift=(0.0, 0.0), min_region_px=1) is None
    assert alpha_plane(np.zeros((4, 4, 3), np.uint8)) is None
    assert alpha_plane(np.full((2, 2, 4), 7, np.uint16)).tolist() == [[7, 7], [7, 7]]


def test_a_large_grid_is_judged_on_blocks(monkeypatch):
    import scopecheck.compare.transparency as tr
    monkeypatch.setattr(tr, "MAX_GRID", 100 * 100)
    a = np.full((300, 300), 255, np.uint8)
    b = a.copy()
    b[60:150, 90:210] = 0
    d = tr.alpha_difference(a, b, shift=(0.0, 0.0), min_region_px=100, scale=2.0)
    r = d.regions[0]  # judged on 3x3 blocks, reported in A's pixels (grid pixels x 2)
    assert (r.x, r.y, r.width, r.height, r.area) == (180, 120, 240, 180, 4 * 90 * 120)


def test_cli_exit_code_and_json(tmp_path, rgb):
    a = _write(tmp_path, "opaque.png", _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8)))
    b = _write(tmp_path, "hole.png", _bgra(rgb, _hole(rgb.shape)))
    r = subprocess.run([sys.executable, "-m", "scopecheck", "compare", a, b, "--json"], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "different" and doc["alpha"]["regions"][0]["area"] == 4200


def test_pictures_show_transparency_over_a_checkerboard():
    from scopecheck.compare.pictures import CHECKER, to_bgr8
    px = np.zeros((2 * CHECKER, 2 * CHECKER, 4), np.uint8)
    px[..., 0] = 200
    px[..., 3] = 255
    assert to_bgr8(px).tolist() == cv2.cvtColor(px, cv2.COLOR_BGRA2BGR).tolist()  # opaque: the colours
    px[0, 0, 3], px[0, CHECKER, 3], px[1, 1, 3] = 0, 0, 128
    out = to_bgr8(px)
    assert out[0, 0].tolist() == [204, 204, 204] and out[0, CHECKER].tolist() == [153, 153, 153]  # the squares
    # half opacity: round((200 * 128 + 204 * 127) / 255) = 202, round(204 * 127 / 255) = 102
    assert out[1, 1].tolist() == [202, 102, 102]


def test_the_text_report_lists_alpha_regions(tmp_path, rgb):
    a = _write(tmp_path, "opaque.png", _bgra(rgb, np.full(rgb.shape[:2], 255, np.uint8)))
    b = _write(tmp_path, "hole.png", _bgra(rgb, _hole(rgb.shape)))
    sheet = tmp_path / "sheet.png"
    r = subprocess.run([sys.executable, "-m", "scopecheck", "compare", a, b, "--sheet", str(sheet)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "alpha region x=50 y=40 70x60 px, area 4200 px, opacity 100 % in A, 0 % in B" in r.stdout
    assert sheet.exists()

"""Where objects moved on their own: "local motion: 1 object moved on its own" says where, the JSON
lists every object's box (``moved.objects_at``), and the sheet and the HTML report draw them. The
reference is where the test moved the object."""
from __future__ import annotations

import json
import os
from dataclasses import replace

import cv2
import numpy as np

from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays, compare_files
from scopecheck.compare.pictures import comparison_sheet
from scopecheck.compare.verdict import Thresholds, decide
from tests.compare.test_motion import _cells, _centres
from tests.conftest import ROOT, run_cli

NUCLEI = os.path.join(ROOT, "fixtures", "real", "cil11813_ysl_t03.png")  # a real nuclei frame (CIL 11813)
NUCLEUS = (47, 39, 23, 18)  # its brightest nucleus's box (x, y, width, height), found by Otsu's threshold


def _inside(point, box) -> bool:
    x, y = point
    return box["x"] <= x < box["x"] + box["width"] and box["y"] <= y < box["y"] + box["height"]


def _moved_nucleus(dx: int) -> np.ndarray:
    """The real frame with its brightest nucleus (and a margin of its background) moved ``dx`` px
    to the right: a cell that crawled."""
    img = cv2.imread(NUCLEI, cv2.IMREAD_UNCHANGED)
    out = img.copy()
    x, y, w, h = NUCLEUS
    m = 6
    patch = img[y - m:y + h + m, x - m:x + w + m]
    out[y - m:y + h + m, x - m + dx:x + w + m + dx] = patch
    return out


def test_a_real_nucleus_that_crawled_is_found_where_it_was(tmp_path):
    b = tmp_path / "moved.png"
    cv2.imwrite(str(b), _moved_nucleus(3))
    c = compare_files(NUCLEI, b)
    assert c.verdict not in SAME_VERDICTS
    objs = c.to_json()["moved"]["objects_at"]
    assert objs, c.reason
    x, y, w, h = NUCLEUS
    assert _inside((x + w / 2 + 1.5, y + h / 2), objs[0]), (objs, c.reason)
    # its crescents also make a region, which the reason names first; without the regions the words
    # are the motion's, with the place
    o = objs[0]
    words = decide(replace(c.analysis, regions=()), distance=0, thresholds=Thresholds(), size_note="",
                   frame_area=c.a.image.width * c.a.image.height).reason
    assert words.endswith(f", at ({o['x']}, {o['y']}) size {o['width']}x{o['height']} px"), words
    r = run_cli("compare", NUCLEI, b, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["moved"]["objects_at"] == objs
    o = objs[0]
    text = run_cli("compare", NUCLEI, b).stdout  # the human summary lists them too
    assert f"  moved object x={o['x']} y={o['y']} {o['width']}x{o['height']} px, {o['px']:.1f} px against" in text


def test_one_cell_of_sixteen_moved_two_pixels_is_boxed_and_named():
    rng = np.random.default_rng(13)
    centres = _centres(rng)
    moved = list(centres)
    moved[0] = (centres[0][0] + 2.0, centres[0][1])
    c = compare_arrays(_cells(rng, centres), _cells(rng, moved), want_map=True)
    (o,) = c.analysis.moved_objects_at
    assert _inside((centres[0][0] + 1, centres[0][1]), o.to_json())
    assert abs(o.px - c.analysis.moved_objects_px) < 1e-9
    sheet = comparison_sheet(c)
    magenta = np.all(sheet == (255, 0, 255), axis=2)
    assert magenta.sum() > 50  # its box is drawn, in its own colour


def test_a_nucleus_moved_on_a_large_frame_is_boxed_in_the_pictures_pixels():
    """The working scale reduces this frame 3x and the move is read at full resolution
    (compare.specks): the box is still in the picture's own pixels."""
    rng = np.random.default_rng(13)
    centres = _centres(rng)
    moved = list(centres)
    moved[0] = (centres[0][0] + 2.0 / 6, centres[0][1])   # 2 px of the enlarged frame
    c = compare_arrays(_cells(rng, centres, scale=6), _cells(rng, moved, scale=6))
    assert c.analysis.scale == 3 and c.reason.startswith("local motion: 1 object moved on its own, by up to ")
    (o,) = c.analysis.moved_objects_at
    assert _inside((centres[0][0] * 6 + 1, centres[0][1] * 6), o.to_json()), o
    assert f"at ({o.x}, {o.y}) size {o.width}x{o.height} px" in c.reason


def test_the_report_draws_where_objects_moved(tmp_path):
    b = tmp_path / "moved.png"
    cv2.imwrite(str(b), _moved_nucleus(3))
    out = tmp_path / "report.html"
    r = run_cli("compare", NUCLEI, b, "--report", out)
    assert r.returncode == 1, r.stderr
    assert '"kind": "moved"' in out.read_text(encoding="utf-8")

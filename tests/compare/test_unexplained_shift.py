"""Cause 34: the residual no displacement of up to a pixel explains
(:func:`compare.local_noise.unexplained_by_shift`), judged by its own block noise in
:func:`compare.align.analyse`. The edges of two binarised boards jitter by about a pixel; counted
as noise, that jitter raised the noise of every block dense with traces to its cap and a defect
2-4 px wide beside them read as noise (DeepPCB, MIT: fixtures/real/deeppcb_*)."""

import os

import cv2
import numpy as np
import pytest

from scopecheck.compare import align
from scopecheck.compare.local_noise import unexplained_by_shift
from scopecheck.compare.pair import SAME_VERDICTS, compare_files

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _fx(name):
    return os.path.join(REAL, name)


def _reference(a, diff, reach):
    """Plain loops: the gap between each side's sample and the other's values within ``reach``."""
    b = a + diff
    h, w = a.shape
    out = np.zeros_like(a)
    for y in range(h):
        for x in range(w):
            ys, xs = slice(max(0, y - reach), y + reach + 1), slice(max(0, x - reach), x + reach + 1)
            gap = max(0.0, b[y, x] - a[ys, xs].max(), a[ys, xs].min() - b[y, x],
                      a[y, x] - b[ys, xs].max(), b[ys, xs].min() - a[y, x])
            out[y, x] = np.copysign(gap, diff[y, x])
    return out


@pytest.mark.parametrize("reach", [1, 2])
def test_unexplained_by_shift_matches_plain_loops(reach):
    rng = np.random.default_rng(34)
    a = rng.normal(100, 20, (23, 31)).astype(np.float32)
    diff = rng.normal(0, 15, a.shape).astype(np.float32)
    got = unexplained_by_shift(a, diff, reach)
    np.testing.assert_allclose(got, _reference(a, diff, reach), atol=1e-4)
    assert np.all(np.abs(got) <= np.abs(diff) + 1e-4)  # never more than the residual itself


def test_an_edge_displaced_by_a_pixel_is_explained_three_pixels_are_not():
    board = np.zeros((40, 40), np.float32)
    board[:, 20:] = 255.0
    a = cv2.GaussianBlur(board, (0, 0), 1.5)
    moved1 = cv2.GaussianBlur(np.roll(board, 1, axis=1), (0, 0), 1.5)
    moved3 = cv2.GaussianBlur(np.roll(board, 3, axis=1), (0, 0), 1.5)
    d1 = (moved1 - a)[:, 10:35]
    assert np.abs(d1).max() > 50  # the residual itself is large at the edge
    assert np.abs(unexplained_by_shift(a, moved1 - a))[:, 10:35].max() < 1e-3
    assert np.abs(unexplained_by_shift(a, moved3 - a))[:, 10:35].max() > 40


def test_a_spur_beside_a_trace_is_not_explained():
    board = np.zeros((40, 40), np.float32)
    board[:, 18:22] = 255.0          # a trace 4 px wide
    spur = board.copy()
    spur[20:23, 22:26] = 255.0       # copper 4 px out of its side
    a, b = (cv2.GaussianBlur(x, (0, 0), 1.5) for x in (board, spur))
    assert unexplained_by_shift(a, b - a)[18:25, 22:28].max() > 40


def test_a_defective_board_whose_edges_jitter_reads_different():
    temp, test = _fx("deeppcb_00041005_temp.jpg"), _fx("deeppcb_00041005_test.jpg")
    c = compare_files(temp, test)
    assert c.verdict == "different", c.reason
    # one reported region lies on a marked defect (00041005.txt: spurious copper at 356,509-396,549)
    boxes = [(r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"]) for r in c.to_json()["regions"]]
    assert any(x0 < 396 and x1 > 356 and y0 < 549 and y1 > 509 for x0, y0, x1, y1 in boxes), boxes


def test_without_cause_34_the_defective_board_reads_the_same(monkeypatch):
    monkeypatch.setattr(align, "unexplained_by_shift", lambda a, diff: np.zeros_like(diff))
    # and without cause 40's floor under the blocks' spreads (since session 22 it alone catches it)
    monkeypatch.setattr(align, "lag_gain", lambda smoothing: 0.0)
    c = compare_files(_fx("deeppcb_00041005_temp.jpg"), _fx("deeppcb_00041005_test.jpg"))
    assert c.verdict in SAME_VERDICTS, c.reason


@pytest.mark.parametrize("quality", [75, 95])
def test_the_template_against_its_own_reencode_stays_the_same(tmp_path, quality, monkeypatch):
    from scopecheck.compare import second_look

    # the first look alone (no JPEG second look): the re-encode's edges stay within the slack
    monkeypatch.setattr(second_look, "requantised_jpeg_pixels", lambda pixels, tables: None)
    src = _fx("deeppcb_00041005_temp.jpg")
    again = str(tmp_path / "again.png")
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    cv2.imwrite(again, cv2.imdecode(enc, cv2.IMREAD_UNCHANGED))
    c = compare_files(src, again)
    assert c.verdict in SAME_VERDICTS, c.reason


def test_only_tiles_blurred_on_both_sides_explain_objects_that_dimmed():
    """verdict.decide: regions that are all intensity changes are named after a tilted refocus,
    never after a whole-frame blur figure (dimmed nuclei alone make one: 3.0 px on the tuning set)."""
    from types import SimpleNamespace

    from scopecheck.compare.changes import Region
    from scopecheck.compare.focus import TileFocus
    from scopecheck.compare.verdict import Thresholds, Verdict, decide

    dimmed = (Region(x=10, y=10, width=8, height=8, area=64, strength=9.0, kind="dimmed", intensity=-0.15),)
    tiles = (TileFocus(x=0, y=0, size=128, blur=1.4, z=8.0), TileFocus(x=512, y=0, size=128, blur=-1.3, z=8.0))

    def an(blur, focus_tiles):
        return SimpleNamespace(blank=(False, False), overlap=1.0, structured=True, correlation=0.99, shift=(0.0, 0.0),
                               channel_order=None, sharpness_change=-0.09, regions=dimmed, blur=blur,
                               focus_tiles=focus_tiles)

    whole = decide(an(-3.0, ()), distance=0, thresholds=Thresholds(), size_note="", frame_area=1)
    assert whole.verdict == Verdict.DIFFERENT and whole.reason.startswith("same field; 1 object dimmed"), whole.reason
    tilted = decide(an(0.2, tiles), distance=0, thresholds=Thresholds(), size_note="", frame_area=1)
    assert tilted.reason.startswith("same field; focus changed across the frame (tilted?)"), tilted.reason
    assert "; also 1 object dimmed by up to 15 %" in tilted.reason

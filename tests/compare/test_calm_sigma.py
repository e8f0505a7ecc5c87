"""Cause 36: the gap (what no displacement of a pixel explains, cause 34) is judged against the
residual's noise away from edges (:func:`compare.local_noise.calm_sigma`), not the frame's figure,
which counts the edges' misregistration as noise (DeepPCB, MIT: fixtures/real/deeppcb_*)."""

import os

import numpy as np
import pytest

from scopecheck.compare import align, noise_floor
from scopecheck.compare.local_noise import CALM_MIN, CALM_RANGE, calm_sigma
from scopecheck.compare.pair import SAME_VERDICTS, compare_files
from tests.conftest import no_light_test

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _fx(name):
    return os.path.join(REAL, name)


def _reference(smooth, a, at, sigma):
    """Plain loops: 1.4826 x the MAD of ``smooth`` at the samples whose 3x3 range of ``a`` is within
    ``CALM_RANGE`` x ``sigma``; ``sigma`` when fewer than ``CALM_MIN``; never above ``sigma``."""
    h, w = a.shape
    kept = []
    for i in at:
        y, x = divmod(int(i), w)
        win = a[y - 1:y + 2, x - 1:x + 2]
        if win.max() - win.min() <= CALM_RANGE * sigma:
            kept.append(float(smooth[y, x]))
    if len(kept) < CALM_MIN:
        return sigma
    v = np.array(kept)
    return min(sigma, 1.4826 * float(np.median(np.abs(v - np.median(v)))))


def _scene(seed):
    """A smoothed board of traces 3 px wide, 3 px apart, and a residual: noise of 2 everywhere, and
    at every sample beside a step a misregistration's 40 (two thirds of the samples: what the
    frame's own figure counts as noise)."""
    rng = np.random.default_rng(seed)
    col = np.arange(80)
    a = np.tile(np.where((col // 3) % 2 == 1, 200.0, 0.0), (60, 1)).astype(np.float32)
    a += rng.normal(0, 1.0, a.shape).astype(np.float32)
    smooth = rng.normal(0, 2.0, a.shape).astype(np.float32)
    near_step = np.isin(col % 3, [2, 0])
    smooth[:, near_step] += rng.choice([-40.0, 40.0], (60, int(near_step.sum()))).astype(np.float32)
    inner = np.zeros(a.shape, bool)
    inner[1:-1, 1:-1] = True
    return smooth, a, np.flatnonzero(inner)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calm_sigma_matches_plain_loops(seed):
    smooth, a, at = _scene(seed)
    sigma = float(noise_floor._robust_sigma(smooth.ravel()[at]))
    got = calm_sigma(smooth, a, at, sigma, a.shape[1])
    assert got == pytest.approx(_reference(smooth, a, at, sigma), rel=1e-5)
    assert sigma > 20  # the frame's figure: the edges' misregistration
    assert got == pytest.approx(2.0, rel=0.15)  # the noise away from them


def test_too_few_calm_samples_keep_the_frames_figure():
    smooth, a, at = _scene(3)
    edges = at[np.isin(at % a.shape[1] % 3, [2, 0])]  # samples on the steps only
    assert calm_sigma(smooth, a, edges, 5.0, a.shape[1]) == 5.0
    assert calm_sigma(smooth, a, at, 0.5, a.shape[1]) <= 0.5  # never above the frame's


# 92000005's marked defects (DeepPCB ``PCBData/group92000/92000_not/92000005.txt``: x0 y0 x1 y1)
BOARD_DEFECTS = [(161, 374, 236, 413), (293, 144, 375, 192), (193, 217, 234, 253), (359, 432, 407, 480),
                 (478, 324, 518, 364)]


def _hits(c):
    boxes = [(r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"]) for r in c.to_json()["regions"]]
    return [any(x0 < d[2] and x1 > d[0] and y0 < d[3] and y1 > d[1] for x0, y0, x1, y1 in boxes)
            for d in BOARD_DEFECTS]


def test_a_board_whose_defects_fill_their_blocks_reads_every_defect(monkeypatch):
    temp, test = _fx("deeppcb_92000005_temp.jpg"), _fx("deeppcb_92000005_test.jpg")
    c = compare_files(temp, test)
    assert c.verdict == "different", c.reason
    assert all(_hits(c)), _hits(c)
    # judged against the frame's figure (the edges' jitter, about 25 DN), they read as noise --
    # with cause 40's floor under the blocks' spreads off too (since session 22 it alone catches them)
    monkeypatch.setattr(align, "calm_sigma", lambda smooth, a, at, sigma, width: sigma)
    monkeypatch.setattr(align, "lag_gain", lambda smoothing: 0.0)
    # ... and cause 41's test of the light of small candidates (it finds the defects' copper too)
    no_light_test(monkeypatch)
    assert compare_files(temp, test).verdict in SAME_VERDICTS


@pytest.mark.parametrize("quality", [90, 95])
def test_that_template_against_its_own_reencode_stays_the_same(tmp_path, quality, monkeypatch):
    # (at q70-85 this board's re-encode, saved as PNG, reads "structure differs" or "moved", with
    # and without cause 36: README, "what still fools it"; as a JPEG file the second look rescues it)
    import cv2

    from scopecheck.compare import second_look

    # the first look alone (no JPEG second look): the re-encode's error is measured away from edges too
    monkeypatch.setattr(second_look, "requantised_jpeg_pixels", lambda pixels, tables: None)
    src = _fx("deeppcb_92000005_temp.jpg")
    again = str(tmp_path / "again.png")
    ok, enc = cv2.imencode(".jpg", cv2.imread(src, cv2.IMREAD_UNCHANGED), [cv2.IMWRITE_JPEG_QUALITY, quality])
    cv2.imwrite(again, cv2.imdecode(enc, cv2.IMREAD_UNCHANGED))
    c = compare_files(src, again)
    assert c.verdict in SAME_VERDICTS, c.reason

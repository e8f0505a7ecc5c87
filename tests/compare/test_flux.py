"""Cause 41: a small object whose light changed (bleaching, a focus drift of one object) is found by
the light it lost, not by its pixels (compare.specks._flux_z, compare.specks.confirmed).

A small bright object is all edge: its dimming lies everywhere within the misregistration slack
the pixel test allows at edges (and a fit of the window's levels on it took the dimming for the
window's gain). A displacement or a blur only moves light about; a dimming takes it away.

Real pictures: scikit-image's Hubble deep field (bundled JPEG; NASA, public domain) and moon
(bundled), and the W2S widefield mean of 400 shots against one shot (fixtures/real, see its README)."""

import os
import sys

import cv2
import numpy as np
import pytest
from skimage import data

from scopecheck.compare import specks
from scopecheck.compare.changes import Z_STRONG
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays
from tests.conftest import no_light_test

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from bench_dimming import dimmed, small_objects  # noqa: E402

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def _pictures():
    hubble = data.hubble_deep_field()[:, :, ::-1].copy()  # RGB -> BGR, as the files are read
    return {"hubble": hubble, "moon": data.moon()}


@pytest.mark.parametrize("name", ["hubble", "moon"])
@pytest.mark.parametrize("f", [0.15, 0.25])
def test_small_objects_dimmed_read_dimmed_by_their_share(name, f, monkeypatch):
    """The three smallest objects (20 px or more: bench/bench_dimming.py's small_objects) dimmed by 15 or 25 % towards their surround:
    `different`, "dimmed", each by its share of light (plain numpy: the objects' light lost over
    their light, which is f by construction; the fitted share within 0.05 of it). Without the
    light's test: `same`, as before cause 41."""
    img = _pictures()[name]
    masks = small_objects(img)
    assert len(masks) == 3
    b = dimmed(img, masks, f)
    c = compare_arrays(img, b)
    assert c.verdict not in SAME_VERDICTS, c.reason
    found = [r for r in c.analysis.regions if r.kind == "dimmed"]
    assert found and "dimmed" in c.reason
    y = (img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)).astype(np.float64)
    yb = (b if b.ndim == 2 else cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)).astype(np.float64)
    for m in masks:
        ring = cv2.dilate(m.astype(np.uint8), np.ones((11, 11), np.uint8)).astype(bool) & ~m
        lost = float((yb[m] - y[m]).sum() / (y[m] - np.median(y[ring])).sum())
        assert lost == pytest.approx(-f, abs=0.02)  # the reference: what the edit did
    for r in found:
        assert r.intensity == pytest.approx(-f, abs=0.05)
    no_light_test(monkeypatch)
    assert compare_arrays(img, b).verdict in SAME_VERDICTS


def _star_window():
    """A 48x48 window of the Hubble deep field around a bright small object (luma, float32)."""
    img = data.hubble_deep_field()
    y = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    m = small_objects(img[:, :, ::-1].copy(), k=1)[0]
    ys, xs = np.nonzero(m)
    cy, cx = int(ys.mean()), int(xs.mean())
    win = y[cy - 24:cy + 24, cx - 24:cx + 24]
    box = (int(xs.min()) - cx + 24, int(ys.min()) - cy + 24, int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    return win, box


def _grads(a):
    return (cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8), cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8))


@pytest.mark.parametrize("how", ["moved 0.7 px", "moved 1 px down", "blurred 0.8 px", "a hot pixel"])
def test_light_moved_about_is_no_change_of_light(how):
    """The same real star displaced by up to the slack, blurred, or beside a hot pixel of 200 DN,
    with 0.5 DN of white noise: the light's z stays under Z_STRONG. The same star dimmed by 15 %
    reads a share of -0.15 (the literal edit) at z beyond -Z_STRONG."""
    a, box = _star_window()
    if how.startswith("moved"):
        dx, dy = (0.7, 0.0) if "0.7" in how else (0.0, 1.0)
        b = cv2.warpAffine(a, np.float32([[1, 0, dx], [0, 1, dy]]), a.shape[::-1], flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    elif how.startswith("blurred"):
        b = cv2.GaussianBlur(a, (0, 0), 0.8)
    else:
        b = a.copy()
        b[box[1] + box[3] // 2, box[0] + box[2] // 2] += 200
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.5, a.shape).astype(np.float32)
    z, share, _ = specks._flux_z(b - a + noise, a, *_grads(a), 0.5, box, 1.0)
    assert abs(z) < Z_STRONG, (how, z, share)
    bg = float(np.median(a))
    dim = a.copy()
    inside = np.zeros(a.shape, bool)
    inside[box[1]:box[1] + box[3], box[0]:box[0] + box[2]] = True
    dim[inside] = bg + (a[inside] - bg) * 0.85
    z, share, _ = specks._flux_z(dim - a + noise, a, *_grads(a), 0.5, box, 1.0)
    assert z < -Z_STRONG and share == pytest.approx(-0.15, abs=0.02)


def test_same_field_pairs_keep_reading_same_with_their_small_objects():
    """Real same-field pairs with small bright objects: W2S one shot against the mean of 400
    (fixtures/real, widefield fluorescence) and the Hubble deep field against its JPEG q80 and a
    copy shifted by 0.4 px: `same` (the candidates their noise seeds carry no change of light)."""
    shot = cv2.imread(os.path.join(REAL, "w2s_avg1_003_0.png"), cv2.IMREAD_UNCHANGED)
    mean = cv2.imread(os.path.join(REAL, "w2s_avg400_003_0.png"), cv2.IMREAD_UNCHANGED)
    assert compare_arrays(shot, mean).verdict in SAME_VERDICTS
    hubble = data.hubble_deep_field()[:, :, ::-1].copy()
    ok, q80 = cv2.imencode(".jpg", hubble, [cv2.IMWRITE_JPEG_QUALITY, 80])
    c = compare_arrays(hubble, cv2.imdecode(q80, cv2.IMREAD_UNCHANGED))
    assert c.verdict in SAME_VERDICTS, c.reason
    shifted = cv2.warpAffine(hubble, np.float32([[1, 0, 0.4], [0, 1, 0]]), hubble.shape[1::-1], flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REFLECT)
    c = compare_arrays(hubble, shifted)
    assert c.verdict in SAME_VERDICTS, c.reason


def test_a_few_percent_of_light_is_the_illumination(monkeypatch):
    """The Hubble deep field's three smallest objects dimmed by 7 %: `same` -- a share under
    LIGHT_MIN (10 %) is what illumination does between acquisitions. With a 3 % minimum the light
    test reads them "dimmed"."""
    img = data.hubble_deep_field()[:, :, ::-1].copy()
    b = dimmed(img, small_objects(img), 0.07)
    assert specks.LIGHT_MIN == 0.10
    assert compare_arrays(img, b).verdict in SAME_VERDICTS
    monkeypatch.setattr(specks, "LIGHT_MIN", 0.03)
    c = compare_arrays(img, b)
    assert c.verdict not in SAME_VERDICTS and "dimmed" in c.reason, c.reason


@pytest.mark.parametrize("smoothing", [0.0, 1.0, 2.0])
def test_the_sum_gain_is_how_much_more_tile_sums_spread_than_white_noise(smoothing):
    """Plain numpy: the standard deviation of the 8x8 tile sums of white noise (smoothed by a
    Gaussian, as demosaicing and codecs correlate neighbours) over the pixels' standard deviation
    times 8 -- what the sums of independent pixels would spread. _sum_gain (robust spreads of 4x4
    and 8x8 tile sums, the larger) agrees within 5 %; 1 for white noise."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (1024, 1024)).astype(np.float32)
    if smoothing:
        x = cv2.GaussianBlur(x, (0, 0), smoothing)
    sigma = float(x.std())
    tiles = x.reshape(128, 8, 128, 8).sum(axis=(1, 3), dtype=np.float64)
    want = max(1.0, float(tiles.std()) / (sigma * 8))
    assert specks._sum_gain(x, np.ones(x.shape, bool), sigma) == pytest.approx(want, rel=0.05)

"""Two mappings of the same data (compare.levels.range_map, used by compare.align.analyse): a 16-bit
frame against its 8-bit export with the display range stretched (ImageJ's "8-bit"), a 12-bit camera's
samples stored from the high bit of a 16-bit container. References: numpy quantiles, the export
made here from the real frame by the formula ImageJ documents, and the changed fields' truth."""
from __future__ import annotations

import os
import re

import cv2
import numpy as np
import pytest

from scopecheck.compare.levels import RANGE_TAIL, RESCALE_RATIO, range_map
from scopecheck.compare.pair import SAME_VERDICTS, Verdict, compare_files

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def real(name):
    return os.path.join(REAL, name)


def export8(a: np.ndarray) -> np.ndarray:
    """ImageJ's 16 -> 8 bit conversion with the display range set to the frame's min..max."""
    lo, hi = float(a.min()), float(a.max())
    return np.clip(np.rint((a.astype(np.float64) - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def write(tmp_path, name, arr):
    p = str(tmp_path / name)
    assert cv2.imwrite(p, arr)
    return p


def test_range_map_puts_b_on_a_by_the_quantiles():
    r = np.random.default_rng(3)
    a = r.uniform(0.9, 2.1, (80, 90))
    b = a * 180.0 - 150.0
    qa = np.quantile(a, [RANGE_TAIL, 1 - RANGE_TAIL])
    qb = np.quantile(b, [RANGE_TAIL, 1 - RANGE_TAIL])
    k, c, clip_a, clip_b, _ = range_map(a, b, steps=(1 / 257, 1.0))
    assert clip_a == clip_b == (None, None)  # uniform samples: no end holds a pile
    assert k == pytest.approx((qa[1] - qa[0]) / (qb[1] - qb[0]), rel=1e-6)
    assert k * b.ravel()[:50] + c == pytest.approx(a.ravel()[:50], rel=1e-6)  # exactly linear data


def test_range_map_leaves_an_exposure_change_to_the_fit():
    a = np.linspace(10.0, 200.0, 5000)
    assert range_map(a, a * (RESCALE_RATIO * 0.99), steps=(1.0, 1.0)) is None
    assert range_map(a, a / (RESCALE_RATIO * 0.99), steps=(1.0, 1.0)) is None
    assert range_map(a, a * RESCALE_RATIO, steps=(1.0, 1.0)) is not None


def test_16bit_frame_against_its_8bit_export_is_the_same_field(tmp_path):
    # yeast YFP, values ~240-850 of 65535: the export spans 0-255, 257x its steps
    src = real("rcell2_yfp_pos12_t10_crop512.png")
    a = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    assert a.dtype == np.uint16 and a.max() < 1000
    b = write(tmp_path, "export.png", export8(a))
    for pa, pb in ((src, b), (b, src)):
        c = compare_files(pa, pb)
        assert c.verdict in SAME_VERDICTS, c.reason
        assert "levels: B = " in c.reason and "display range" in c.reason and "exposure drifted" not in c.reason, c.reason
    # the stored-value relation reported is the export's formula: 255 / (max - min), -min times that
    g = 255.0 / (float(a.max()) - float(a.min()))
    fit = compare_files(src, b).to_json()["levels_map"]
    assert fit["gain"] == pytest.approx(g, rel=0.01)  # a fit through the rounding: within 1 %
    assert fit["offset"] == pytest.approx(-float(a.min()) * g, rel=0.02)


def test_another_time_point_exported_to_8bit_is_still_different(tmp_path):
    # cells grew and budded between time points 10 and 20; before the range map, B's 8-bit
    # rounding step (a 257th of the 16-bit frame's whole structure) was the pair's floor: a false "same"
    a = real("rcell2_yfp_pos12_t10_crop512.png")
    later = cv2.imread(real("rcell2_yfp_pos12_t20_crop512.png"), cv2.IMREAD_UNCHANGED)
    b = write(tmp_path, "t20_export.png", export8(later))
    for pa, pb in ((a, b), (b, a)):
        c = compare_files(pa, pb)
        assert c.verdict is Verdict.DIFFERENT, c.reason


def test_12bit_samples_stored_from_the_high_bit_are_the_same_field(tmp_path):
    # colloids stuck to glass, 16-bit, noise-dominated; x16 = a 12-bit camera's samples shifted 4 bits
    src = real("trackpy_stuck_t0.png")
    a = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    assert a.dtype == np.uint16 and int(a.max()) * 16 <= 65535
    shifted = write(tmp_path, "x16.png", (a.astype(np.uint32) * 16).astype(np.uint16))
    c = compare_files(src, shifted)
    assert c.verdict in SAME_VERDICTS, c.reason
    assert c.same_field
    # a repeat of the field, shifted too: the same field (truth: nothing moved between t0 and t1)
    t1 = cv2.imread(real("trackpy_stuck_t1.png"), cv2.IMREAD_UNCHANGED)
    c = compare_files(src, write(tmp_path, "t1x16.png", (t1.astype(np.uint32) * 16).astype(np.uint16)))
    assert c.verdict in SAME_VERDICTS, c.reason


def auto_export8(a: np.ndarray) -> np.ndarray:
    """ImageJ's "Auto" display range (0.35 % of the pixels saturated at each end), then 8-bit."""
    lo, hi = np.quantile(a, [0.0035, 0.9965])
    return np.clip(np.rint((a.astype(np.float64) - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def test_an_export_that_saturates_the_brightest_cells_is_the_same_field(tmp_path):
    # the export clipped the brightest 0.35 % (the cells' cores): the 16-bit side is clipped at the
    # matching level before judging, so both lose the same detail. Without it: "focus changed: B
    # blurred by 3 px" (the flattened cores) or "objects dimmed" (their rims, area-averaged)
    src = real("rcell2_yfp_pos12_t10_crop512.png")
    a = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    b = auto_export8(a)
    assert np.count_nonzero(b == 255) / b.size > 0.003
    pb = write(tmp_path, "auto.png", b)
    for pa, pb_ in ((src, pb), (pb, src)):
        c = compare_files(pa, pb_)
        assert c.verdict in SAME_VERDICTS, c.reason


def test_another_time_point_exported_with_saturation_is_still_different(tmp_path):
    a = real("rcell2_yfp_pos12_t10_crop512.png")
    later = cv2.imread(real("rcell2_yfp_pos12_t20_crop512.png"), cv2.IMREAD_UNCHANGED)
    b = write(tmp_path, "t20_auto.png", auto_export8(later))
    for pa, pb in ((a, b), (b, a)):
        assert compare_files(pa, pb).verdict is Verdict.DIFFERENT


def test_range_map_matches_the_quantiles_past_a_clipped_end():
    # B is A stretched and clipped at both ends (0.5 % each): k and c come from the quantiles both
    # resolve, and A is to be clipped where B was (reference: the export's own formula)
    r = np.random.default_rng(8)
    a = r.gamma(2.0, 1.0, 60_000).astype(np.float32) + 1.0  # skewed, like fluorescence
    lo, hi = np.quantile(a, [0.005, 0.995])
    g = 255.0 / (hi - lo)
    b = np.clip(np.rint((a - lo) * g), 0, 255).astype(np.float32)
    m = range_map(a * np.float32(1 / 257), b, steps=(1 / 257, 1.0))
    assert m is not None
    assert m.k == pytest.approx(1 / (257 * g), rel=0.01)
    assert m.clip_a[0] == pytest.approx(lo / 257, rel=0.01)
    assert m.clip_a[1] == pytest.approx(hi / 257, rel=0.01)
    assert m.clip_b == (None, None)


def _masks():
    """Binary masks of real micrographs: Otsu thresholds of scikit-image's cell (3 % foreground,
    660x550: a working factor of 2) and coins (39 %)."""
    import skimage.data
    from skimage.filters import threshold_otsu
    for img in (skimage.data.cell(), skimage.data.coins()):
        yield (img > threshold_otsu(img)).astype(np.uint8)


def test_range_map_matches_two_levels_directly():
    m = next(_masks())
    got = range_map(m.astype(np.float32), m.astype(np.float32) * 255.0, steps=(1.0, 1.0))
    assert got is not None and got.two_level
    assert got.k == pytest.approx(1 / 255) and got.c == pytest.approx(0.0)
    assert (got.clip_a, got.clip_b) == ((None, None), (None, None))
    assert range_map(m.astype(np.float32), m.astype(np.float32) * 3.0, steps=(1.0, 1.0)) is None  # within two stops
    three = m.astype(np.float32) * 255.0
    three[:40, :40] = 128.0  # a third level: not a mask, the quantiles decide
    got = range_map(m.astype(np.float32), three, steps=(1.0, 1.0))
    assert got is None or not got.two_level


@pytest.mark.parametrize("ones,high", [(1, 255), (255, 1), (1, 65535)])
def test_a_mask_stored_0_1_and_0_255_is_the_same_picture(tmp_path, ones, high):
    for i, m in enumerate(_masks()):
        a = m * np.uint8(ones) if ones < 256 else m.astype(np.uint16) * np.uint16(ones)
        b = m * np.uint8(high) if high < 256 else m.astype(np.uint16) * np.uint16(high)
        c = compare_files(write(tmp_path, f"a{i}.png", a), write(tmp_path, f"b{i}.png", b))
        assert c.verdict is Verdict.NEAR_IDENTICAL, c.reason
        got = re.search(r"levels: B = ([0-9.e+-]+) x A", c.reason)
        assert got is not None and float(got.group(1)) == pytest.approx(high / ones, rel=1e-3), c.reason


def test_a_mask_with_an_object_removed_is_still_different(tmp_path):
    from skimage.measure import label, regionprops
    m = list(_masks())[1]
    lab = label(m)
    big = max(regionprops(lab), key=lambda p: p.area)
    b = (m * 255).astype(np.uint8)
    b[lab == big.label] = 0
    c = compare_files(write(tmp_path, "a.png", m), write(tmp_path, "b.png", b))
    assert c.verdict is Verdict.DIFFERENT, c.reason

"""The verdict on real captures from more instruments (issue 9): a fast subset of the
``bench/bench_real_sources2.py`` categories.

Files: ``fixtures/real`` (sources and licences in its README, "More sources"), written by
``bench_real_sources2.write_fixtures`` from the published captures.
"""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from scopecheck.compare.pair import SAME_VERDICTS, Verdict, compare_arrays, compare_files
from tests.conftest import scene

REAL = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "real")


def real(name):
    return os.path.join(REAL, name)


def test_scmos_frames_5ms_apart_are_the_same_field():
    # two raw sCMOS TIRF frames of one field, 16-bit, values 24-181, noise-dominated
    a = cv2.imread(real("acsn_tirf_t00.png"), cv2.IMREAD_UNCHANGED)
    assert a.dtype == np.uint16 and a.max() < 256
    c = compare_files(real("acsn_tirf_t00.png"), real("acsn_tirf_t01.png"))
    assert c.verdict is Verdict.NEAR_IDENTICAL, c.reason
    assert c.same_field


@pytest.mark.parametrize("fx,fy", [(0.12, 0.0), (0.3, 0.3)])
def test_neighbouring_field_in_noise_dominated_16bit_is_different(tmp_path, fx, fy):
    # the stage moved by 12-30 % of the frame: two windows of one raw sCMOS frame
    img = cv2.imread(real("acsn_tirf_t00.png"), cv2.IMREAD_UNCHANGED)
    h, w = img.shape
    ch, cw = int(h * 0.6), int(w * 0.6)
    ox, oy = int(fx * w), int(fy * h)
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    assert cv2.imwrite(a, img[:ch, :cw]) and cv2.imwrite(b, img[oy:oy + ch, ox:ox + cw])
    c = compare_files(a, b)
    assert c.verdict not in SAME_VERDICTS, c.reason


def test_widefield_shot_against_mean_of_400_is_same():
    c = compare_files(real("w2s_avg1_003_0.png"), real("w2s_avg400_003_0.png"))
    assert c.verdict is Verdict.NEAR_IDENTICAL, c.reason


def test_noisy_widefield_shot_against_mean_of_400_is_same():
    # SNR ~2: the aligned SSIM takes the pair's own (correlated) noise out of its structure term
    c = compare_files(real("w2s_avg1_002_2.png"), real("w2s_avg400_002_2.png"))
    assert c.verdict is Verdict.NEAR_IDENTICAL, c.reason


def test_camera_shot_against_mean_of_many_is_same():
    c = compare_files(real("polyu_Canon80D_8_8_3200_ball_1_real.jpg"), real("polyu_Canon80D_8_8_3200_ball_1_mean.jpg"))
    assert c.verdict is Verdict.NEAR_IDENTICAL, c.reason


def test_phase_contrast_time_lapse_with_migrating_cells_is_different():
    # consecutive frames, 16-bit phase contrast: cells move and change shape
    a = cv2.imread(real("t98g_t01_crop512.png"), cv2.IMREAD_UNCHANGED)
    assert a.dtype == np.uint16
    c = compare_files(real("t98g_t01_crop512.png"), real("t98g_t02_crop512.png"))
    assert c.verdict is Verdict.DIFFERENT, c.reason


def test_low_contrast_16bit_fluorescence_time_lapse_is_different():
    # yeast YFP, 16-bit, values ~240-850 of 65535: cells grew and budded between time points 10 and 20
    a = cv2.imread(real("rcell2_yfp_pos12_t10_crop512.png"), cv2.IMREAD_UNCHANGED)
    assert a.dtype == np.uint16 and a.max() < 1000
    c = compare_files(real("rcell2_yfp_pos12_t10_crop512.png"), real("rcell2_yfp_pos12_t20_crop512.png"))
    assert c.verdict is Verdict.DIFFERENT, c.reason


def test_another_field_in_low_contrast_16bit_fluorescence_is_not_the_same_field():
    c = compare_files(real("rcell2_yfp_pos04_t10_crop512.png"), real("rcell2_yfp_pos12_t10_crop512.png"))
    assert c.verdict is Verdict.DIFFERENT, c.reason
    assert not c.same_field


# -------------------------------------------------- levels: the pair's own used range (compare.levels)

def _tirf():
    a = cv2.imread(real("acsn_tirf_t00.png"), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(real("acsn_tirf_t01.png"), cv2.IMREAD_UNCHANGED)
    return a, b


def _same_judgement(c1, c2):
    a1, a2 = c1.analysis, c2.analysis
    assert c1.verdict is c2.verdict, (c1.reason, c2.reason)
    assert a1.ssim_aligned == pytest.approx(a2.ssim_aligned, abs=2e-3)
    assert a1.correlation == pytest.approx(a2.correlation, abs=2e-3)
    assert a1.sharpness_change == pytest.approx(a2.sharpness_change, abs=0.02)
    assert len(a1.regions) == len(a2.regions)


def test_verdict_and_figures_hold_when_both_frames_are_multiplied_by_200():
    # values 66-174 of 65535: before, SSIM was judged on 255/65535 levels (C2 dominated: 1.000 at
    # x1, 0.993 at x200); now on the pair's used range, the same at both scales
    a, b = _tirf()
    c1 = compare_arrays(a, b)
    c200 = compare_arrays(a * 200, b * 200)
    assert c1.verdict is Verdict.NEAR_IDENTICAL, c1.reason
    _same_judgement(c1, c200)
    assert c1.analysis.ssim_aligned < 0.9995  # SSIM measures structure now, not its stabiliser
    assert c200.analysis.noise_sigma == pytest.approx(200 * c1.analysis.noise_sigma, rel=0.02)  # 8-bit DN


@pytest.mark.parametrize("k", [1, 200])
def test_blurred_scmos_frame_is_a_refocus_at_any_scale(k):
    a, _ = _tirf()
    blurred = np.rint(cv2.GaussianBlur(a.astype(np.float32), (0, 0), 1.5) * k).astype(np.uint16)
    c = compare_arrays(a * k, blurred)
    assert c.verdict is Verdict.DIFFERENT and "focus changed" in c.reason, c.reason


def test_two_fields_of_low_contrast_16bit_fluorescence_fail_the_ssim_test_too():
    # values ~240-850 of 65535; before the used range, aligned SSIM was 1.000 for two different fields
    a = cv2.imread(real("rcell2_yfp_pos04_t10_crop512.png"), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(real("rcell2_yfp_pos12_t10_crop512.png"), cv2.IMREAD_UNCHANGED)
    c = compare_arrays(a, b)
    assert c.analysis.ssim_aligned < 0.9, c.analysis.ssim_aligned  # Thresholds.ssim_min
    # independent reference: scikit-image's SSIM on the raw frames with their own range is low too
    from skimage.metrics import structural_similarity
    ref = structural_similarity(a.astype(np.float64), b.astype(np.float64),
                                data_range=float(max(a.max(), b.max()) - min(a.min(), b.min())))
    assert ref < 0.9


def _synthetic16(seed, *, spot=False):
    base = scene(seed, channels=1) * 2.0 + 300.0  # 300-810 of 65535
    r = np.random.default_rng(seed + 100)
    b = base.copy()
    if spot:
        b[100:116, 150:166] += 120.0  # a new object, 16 x 16 px
    noise = lambda f, s: np.rint(f + r.normal(0, 4.0, f.shape))  # noqa: E731
    return noise(base, 1), noise(b, 2)


@pytest.mark.parametrize("spot", [False, True])
def test_synthetic_16bit_pair_judged_alike_at_x1_and_x60(spot):
    a, b = _synthetic16(7, spot=spot)
    c1 = compare_arrays(a.astype(np.uint16), b.astype(np.uint16))
    c60 = compare_arrays((a * 60).astype(np.uint16), (b * 60).astype(np.uint16))
    assert c1.same is (not spot), c1.reason
    _same_judgement(c1, c60)


@pytest.mark.parametrize("k", [1, 50])
def test_truly_flat_16bit_frames_stay_flat_at_any_scale(k):
    r = np.random.default_rng(11)
    a = np.rint(1000 + r.normal(0, 3, (200, 240))) * k
    b = np.rint(1000 + r.normal(0, 3, (200, 240))) * k
    c = compare_arrays(a.astype(np.uint16), b.astype(np.uint16))
    assert c.analysis.blank == (True, True) and c.verdict is Verdict.NEAR_IDENTICAL, c.reason
    b2 = b.copy()
    b2[90:110, 100:120] += 12 * k  # a faint square, 4x the noise
    c = compare_arrays(a.astype(np.uint16), b2.astype(np.uint16))
    assert c.verdict is Verdict.DIFFERENT, c.reason


def test_shot_at_snr_1_against_mean_of_400_takes_its_gain_from_the_mean():
    # W2S field 68 (channel 2), central 256x256: the shot's fine structure is below its noise, the
    # mean's is not, and each was stretched to its own range; an offset-only fit left the mean's
    # structure ~3x too strong (aligned SSIM 0.57, "different"). The gain is that of regressing
    # the shot on the (nearly noiseless) mean -- plain numpy, unbiased by the shot's noise.
    pa, pb = real("w2s_avg1_068_2_crop256.png"), real("w2s_avg400_068_2_crop256.png")
    c = compare_files(pa, pb)
    assert c.verdict is Verdict.NEAR_IDENTICAL, c.reason
    a = cv2.imread(pa, cv2.IMREAD_UNCHANGED).astype(np.float64).ravel()
    m = cv2.imread(pb, cv2.IMREAD_UNCHANGED).astype(np.float64).ravel()
    reference = np.var(m, ddof=1) / np.cov(a, m)[0, 1]  # 2.885
    assert c.analysis.gain == pytest.approx(reference, rel=0.03)
    assert c.analysis.ssim_aligned > 0.95

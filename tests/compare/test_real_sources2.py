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

from scopecheck.compare.pair import SAME_VERDICTS, Verdict, compare_files

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

"""Stacking: rounding, depth, median, stale frames, and the sqrt(N) noise law on real replays."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

from scopecheck.capture.opencv import OpenCVCamera
from scopecheck.capture.session import CaptureOptions, CaptureSession
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.capture.stack import Stacker, brightness, clipping, focus_measure, stack, warm_up
from scopecheck.compare.errors import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REC = os.path.join(ROOT, "fixtures", "recordings")
STILL_A = os.path.join(REC, "ihc_still_a", "frame_%04d.png")
STILL_B = os.path.join(REC, "ihc_still_b", "frame_%04d.png")
SETTLING = os.path.join(REC, "ihc_settling", "frame_%04d.png")


def frames(pattern, n):
    with OpenCVCamera(pattern) as c:
        return [c.read() for _ in range(n)]


def test_mean_is_rounded_once_not_truncated():
    r = stack([np.full((2, 3), v, np.uint8) for v in (1, 2, 3, 2, 1, 2)])  # mean 11/6 = 1.83
    assert r.image.dtype == np.uint8 and (r.image == 2).all()
    r = stack([np.full((2, 2), v, np.uint8) for v in (1, 0, 1)])  # 0.667 (no two equal in a row: those are stale)
    assert (r.image == 1).all()


def test_depth16_keeps_the_fraction():
    r = stack([np.full((2, 2), v, np.uint8) for v in (1, 0, 1)], depth=16)
    assert r.image.dtype == np.uint16 and (r.image == round(2 / 3 * 257)).all()  # 171
    r = stack([np.full((2, 2), 255, np.uint8)] * 2, depth=16)
    assert (r.image == 65535).all()
    r = stack([np.full((2, 2), 1000, np.uint16), np.full((2, 2), 1001, np.uint16)], depth=8)
    assert (r.image == 4).all()  # 1000.5 / 257 = 3.89


def test_median_option():
    fs = [np.full((3, 3, 3), v, np.uint8) for v in (10, 200, 12, 11, 13)]
    assert (stack(fs, method="median").image == 12).all()
    assert (stack(fs, method="mean").image == 49).all()  # 246/5 = 49.2


def test_stale_repeated_frames_are_rejected_and_counted():
    a = np.zeros((4, 4), np.uint8)
    b = a + 1
    s = Stacker()
    assert [s.add(f) for f in (a, a, b, b, b, a)] == [True, False, True, False, False, True]
    r = s.result()
    assert (r.frames_stacked, r.frames_rejected) == (3, 3)


def test_stacker_validates():
    with pytest.raises(InputError, match="--stack 'mode'"):
        Stacker(method="mode")
    s = Stacker()
    s.add(np.zeros((4, 4), np.uint8))
    with pytest.raises(InputError, match="changed mode mid-stack"):
        s.add(np.zeros((4, 5), np.uint8))
    with pytest.raises(InputError, match="--depth 12"):
        s.result(depth=12)


def test_simulated_stale_buffers_are_rejected_while_stacking():
    cam = SimulatedCamera("v4l2", seed=2, size=(64, 48), repeat_every=3)
    with CaptureSession(cam, CaptureOptions(frames=9, warmup=0, controls=())) as s:
        r = s.stack()
    assert r.frames_stacked == 9 and r.frames_rejected >= 4


def test_noise_estimate_matches_the_replayed_recording():
    # The sensor model gives sqrt(e-)*255/4000 shot noise + 1.5 DN read noise; at the field's
    # mean (~162 DN) that is about 3.4 DN. The estimator must land near it.
    r = stack(frames(STILL_A, 12))
    assert 2.8 < r.noise_frame < 4.0, r.noise_frame
    assert r.noise_stack == pytest.approx(r.noise_frame / math.sqrt(12))


@pytest.mark.parametrize("n", [2, 4, 8, 12])
def test_difference_of_two_averages_shrinks_by_sqrt_n_on_replayed_recordings(n):
    # Two recordings of the same field with independent noise, replayed through cv2.VideoCapture.
    # Noise of (avg_A(N) - avg_B(N)) vs (A_0 - B_0): theory says 1/sqrt(N). The depth-16 output keeps
    # the fraction, so rounding adds < 0.1 %. Tolerance 2 %: each std over 76 800 pixels is good to
    # ~0.3 % (1 sigma), so the ratio to ~0.4 %; measured -0.2 %..+0.1 % for N = 2..12.
    a, b = frames(STILL_A, n), frames(STILL_B, n)
    single = np.std(a[0].astype(np.float64) - b[0]) / math.sqrt(2)
    avg = np.std(stack(a, depth=16).image / 257.0 - stack(b, depth=16).image / 257.0) / math.sqrt(2)
    assert single / avg == pytest.approx(math.sqrt(n), rel=0.02), (n, single, avg)


@pytest.mark.parametrize("n", [4, 16, 64])
def test_sqrt_n_law_through_the_simulated_camera(n):
    # Same law through a full session (lock, flush, stack): two back-to-back single frames vs two
    # back-to-back N-frame shots of one locked camera. Tolerance 4 %: at 128x96x3 samples each std is
    # good to ~0.37 % (1 sigma), the ratio to ~0.5 %, so 4 % is 8 sigma; measured -0.1 %..+1.4 %.
    cam = SimulatedCamera("v4l2", seed=n, size=(128, 96))
    with CaptureSession(cam, CaptureOptions(frames=n, warmup="auto", depth=16)) as s:
        s.start()
        a1, b1 = (s.camera.read().astype(np.float64) for _ in range(2))
        an, bn = (s.stack().image / 257.0 for _ in range(2))
    ratio = np.std(a1 - b1) / np.std(an - bn)
    assert ratio == pytest.approx(math.sqrt(n), rel=0.04), (n, ratio)


def test_auto_warmup_removes_the_settling_bias():
    # Reference: the same field at the settled exposure (ihc_still_a, all 12 frames).
    ref = stack(frames(STILL_A, 12), depth=16).image / 257.0

    def bias(warmup):
        with OpenCVCamera(SETTLING) as c:
            w, kept = warm_up(c, warmup)
            s = Stacker()
            for f in kept[:8]:
                s.add(f)
            while s.count < 8:
                s.add(c.read())
            return float(np.mean(s.result(depth=16).image / 257.0 - ref)), w

    raw_bias, _ = bias(0)
    auto_bias, w = bias("auto")
    assert raw_bias > 5.0, raw_bias           # the first frames are up to 35 % too bright
    assert abs(auto_bias) < 0.3, auto_bias    # within the 0.5 DN settling tolerance
    assert w.settled and 4 <= w.discarded <= 9, w


def test_auto_warmup_that_never_settles_stops_at_the_cap_with_a_message():
    cam = SimulatedCamera("v4l2", seed=1, size=(64, 48), ae_start=1.4)
    cam.ae_settle = 1.0  # never converges
    cam.ae_wander = 0.05
    w, kept = warm_up(cam, "auto", cap=12)
    assert not w.settled and w.discarded == 12 and kept == []
    assert "did not settle" in w.message


def test_preview_measures():
    sharp = np.zeros((32, 32), np.uint8)
    sharp[:, 16:] = 255
    blurred = np.clip(np.linspace(0, 255, 32), 0, 255).astype(np.uint8)[None, :].repeat(32, 0)
    assert focus_measure(sharp) > focus_measure(blurred)
    assert clipping(sharp) == (0.5, 0.5)
    assert brightness(np.full((2, 2, 3), 514, np.uint16)) == 2.0

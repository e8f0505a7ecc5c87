"""Dark-frame and flat-field correction on a vignetting simulated camera (issue 11.3).

Reference numbers come from plain numpy: corner/centre means of the images, and the first-order
propagation of noise through C = (I - D) * m / (F - D) with each term's noise measured on the
images themselves (horizontal pixel differences / sqrt(2), which ignore smooth shading).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from scopecheck.capture.flatfield import Correction, make_reference
from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.digest import pixel_sha256
from scopecheck.compare.errors import InputError
from scopecheck.compare.load import load

SIZE = (160, 120)
VIG = dict(size=SIZE, vignette=0.35, black=8.0)


def cam(scene, seed, **kw):
    return SimulatedCamera("v4l2", seed=seed, scene=scene, **{**VIG, **kw})


@pytest.fixture(scope="module")
def refs(tmp_path_factory):
    d = tmp_path_factory.mktemp("refs")
    opts = CaptureOptions(frames=32, depth=16)
    make_reference(cam("dark", 1), str(d / "dark.png"), "dark", opts)
    make_reference(cam("blank", 2), str(d / "flat.png"), "flat", opts)
    return d


def corner_to_centre(a):
    h, w = a.shape[:2]
    c = [a[:12, :12].mean(), a[:12, -12:].mean(), a[-12:, :12].mean(), a[-12:, -12:].mean()]
    return float(np.mean(c) / a[h // 2 - 12:h // 2 + 12, w // 2 - 12:w // 2 + 12].mean())


def hp_sigma(a):
    a = a.astype(np.float64)
    return float(np.std(np.diff(a, axis=1)) / np.sqrt(2))


def test_reference_manifests_say_what_they_are(refs):
    m = json.loads((refs / "flat.manifest.json").read_text())
    assert m["reference"] == {"kind": "flat", "frame_depth": 8, "device": "sim:v4l2"}
    assert m["image"]["depth"] == 16 and load(str(refs / "flat.png")).pixels.dtype == np.uint16


def test_flat_field_corner_to_centre_within_2_percent(refs, tmp_path):
    corr = Correction.from_files(dark=str(refs / "dark.png"), flat=str(refs / "flat.png"))
    raw = capture(cam("blank", 3), str(tmp_path / "raw.png"), CaptureOptions(frames=16, depth=16))
    fixed = capture(cam("blank", 3), str(tmp_path / "fixed.png"), CaptureOptions(frames=16, depth=16, correction=corr))
    r_raw = corner_to_centre(load(raw.path).pixels.astype(float))
    r_fixed = corner_to_centre(load(fixed.path).pixels.astype(float))
    assert r_raw < 0.75  # the vignetting is real: (1 - 0.35) of the signal above the black level
    assert abs(r_fixed - 1.0) <= 0.02, (r_raw, r_fixed)
    m = fixed.manifest.to_json()["correction"]
    flat = load(str(refs / "flat.png")).pixels
    assert m["flat"]["pixel_sha256"] == pixel_sha256(flat) and m["dark"]["file"].endswith("dark.png")
    assert m["formula"].startswith("(I - D) * mean(F - D) / (F - D)")


def test_noise_not_amplified_beyond_what_the_flat_explains(refs, tmp_path):
    corr = Correction.from_files(dark=str(refs / "dark.png"), flat=str(refs / "flat.png"))
    o16 = CaptureOptions(frames=16, depth=16)
    u = load(capture(cam("blank", 5), str(tmp_path / "u.png"), o16).path).pixels.astype(np.float64)
    c = load(capture(cam("blank", 5), str(tmp_path / "c.png"),
                     CaptureOptions(frames=16, depth=16, correction=corr)).path).pixels.astype(np.float64)
    f = load(str(refs / "flat.png")).pixels.astype(np.float64)
    d = load(str(refs / "dark.png")).pixels.astype(np.float64)
    m = (f - d).mean(axis=(0, 1))
    for ys, xs in [(slice(0, 16), slice(0, 16)), (slice(52, 68), slice(72, 88)), (slice(-16, None), slice(-16, None))]:
        pu, pc, pf, pd = u[ys, xs], c[ys, xs], f[ys, xs], d[ys, xs]
        g = float((m / (pf - pd)).mean())
        s = float((pu - pd).mean())
        expected = np.sqrt(g ** 2 * (hp_sigma(pu) ** 2 + hp_sigma(pd) ** 2)
                           + (s * g / float((pf - pd).mean())) ** 2 * (hp_sigma(pf) ** 2 + hp_sigma(pd) ** 2))
        measured = hp_sigma(pc)
        assert measured <= 1.1 * expected, (ys, measured, expected)
        assert measured >= 0.8 * g * hp_sigma(pu)  # not smoothed away either


def test_references_of_another_size_device_or_depth_are_refused(refs, tmp_path):
    corr = Correction.from_files(dark=str(refs / "dark.png"), flat=str(refs / "flat.png"))
    with pytest.raises(InputError, match="160x120x3, the camera delivers 96x72"):
        capture(cam("blank", 1, size=(96, 72)), str(tmp_path / "x.png"), CaptureOptions(frames=2, correction=corr))
    with pytest.raises(InputError, match="come from sim:v4l2, not sim:msmf"):
        capture(SimulatedCamera("msmf", seed=1, **VIG), str(tmp_path / "x.png"),
                CaptureOptions(frames=2, correction=corr))
    with pytest.raises(InputError, match="frames are 8-bit, the references were made from 16-bit"):
        corr16 = Correction.from_files(flat=str(refs / "flat.png"))
        object.__setattr__(corr16, "frame_depth", 16)
        corr16.check_frame(np.zeros((120, 160, 3), np.uint8))
    with pytest.raises(InputError, match="not a flat reference"):
        Correction.from_files(flat=str(refs / "dark.png"))
    assert not os.path.exists(tmp_path / "x.png")


def test_a_refused_reference_closes_the_camera_untouched(refs, tmp_path):
    corr = Correction.from_files(flat=str(refs / "flat.png"))
    c = cam("blank", 1, size=(96, 72))
    with pytest.raises(InputError):
        capture(c, str(tmp_path / "x.png"), CaptureOptions(frames=2, correction=corr))
    assert c.closed and c.frames_read == 0 and c.writes == []

"""The simulator behaves like the forum's camera: fresh noise per open, lost and found, vignetting;
``record`` warms up and marks recordings that never settled (issue 11.5)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from scopecheck.capture.devices import open_device
from scopecheck.capture.recording import record
from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.pair import compare_files

OPTS = CaptureOptions(frames=4)


def test_sim_draws_fresh_noise_per_open_and_seed_makes_it_repeatable(tmp_path):
    a = capture(open_device("sim?size=96x72"), str(tmp_path / "a.png"), OPTS)
    b = capture(open_device("sim?size=96x72"), str(tmp_path / "b.png"), OPTS)
    assert a.sha256 != b.sha256 and a.manifest.device["seed"] != b.manifest.device["seed"]
    assert compare_files(a.path, b.path).verdict == "near-identical"
    c = capture(open_device("sim?size=96x72&seed=5"), str(tmp_path / "c.png"), OPTS)
    d = capture(open_device("sim?size=96x72&seed=5"), str(tmp_path / "d.png"), OPTS)
    assert c.sha256 == d.sha256 and c.manifest.device["seed"] == 5


def test_lost_and_found_comes_back_and_forget_resets_to_power_on():
    cam = SimulatedCamera("v4l2", seed=1, size=(32, 24), drop_at=3, forget=True)
    for _ in range(3):
        cam.read()
    cam.set("auto_exposure", 1.0)
    cam.set("exposure", 100.0)
    from scopecheck.capture.camera import DeviceLostError

    with pytest.raises(DeviceLostError):
        cam.read()
    cam.reconnect()
    cam.read()
    assert cam.get("auto_exposure") == 3.0 and cam.get("exposure") != 100.0
    gone = SimulatedCamera("v4l2", seed=1, size=(32, 24), lose_after=1)
    gone.read()
    with pytest.raises(DeviceLostError):
        gone.read()
    with pytest.raises(Exception, match="gone for good"):
        gone.reconnect()


def test_vignette_follows_its_formula():
    cam = SimulatedCamera("v4l2", seed=1, size=(81, 61), scene="blank", vignette=0.3)
    f = cam._field()[:, :, 1]
    # centre 0.75, corners 0.75 * (1 - 0.3), midpoint of an edge 0.75 * (1 - 0.3 * w^2 / (w^2 + h^2))
    assert f[30, 40] == pytest.approx(0.75) and f[0, 0] == pytest.approx(0.75 * 0.7, rel=1e-5)
    assert f[30, 0] == pytest.approx(0.75 * (1 - 0.3 * 40 ** 2 / (40 ** 2 + 30 ** 2)), rel=1e-5)


def test_record_warms_up_by_default_and_marks_recordings_that_never_settled(tmp_path):
    ok = record(SimulatedCamera("v4l2", seed=4, size=(64, 48)), str(tmp_path / "ok"), frames=3)
    assert ok.settled and ok.warmup_frames > 0
    # auto exposure that keeps wandering by 5 % a frame never settles within the cap
    wild = SimulatedCamera("v4l2", seed=4, size=(64, 48), ae_wander=0.05)
    rec = record(wild, str(tmp_path / "wild"), frames=3)
    doc = json.loads(open(rec.controls_path).read())
    assert rec.settled is False and doc["warmup"]["settled"] is False
    logs = []
    capture(open_device(rec.pattern), str(tmp_path / "s.png"), CaptureOptions(frames=2, warmup=0), log=logs.append)
    assert any("before the camera settled" in m for m in logs)
    logs.clear()
    capture(open_device(ok.pattern), str(tmp_path / "t.png"), CaptureOptions(frames=2, warmup=0), log=logs.append)
    assert not any("settled" in m for m in logs)


def test_record_into_an_unwritable_place_is_one_input_error(tmp_path):
    from scopecheck.compare.errors import InputError

    target = "/sys/scopecheck_rec" if os.path.isdir("/sys/kernel") else None
    if target is None:
        pytest.skip("needs Linux sysfs")
    cam = SimulatedCamera("v4l2", seed=1, size=(32, 24))
    with pytest.raises(InputError, match="cannot create the recording directory"):
        record(cam, target, frames=2)
    assert cam.closed and cam.frames_read == 0


def test_two_sim_frames_differ_by_noise_only():
    cam = SimulatedCamera("v4l2", seed=1, size=(64, 48), ae_start=1.0, ae_wander=0.0)
    a, b = cam.read().astype(float), cam.read().astype(float)
    assert 0 < np.std(a - b) < 8

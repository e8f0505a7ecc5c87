"""One contract, every Camera: the simulated UVC camera (each backend profile) and the OpenCV camera
replaying recordings through the real ``cv2.VideoCapture`` (image sequence and video file).

Each implementation only provides :meth:`CameraContract.make_camera` (python-microscope's
testsuite pattern: a shared test class, backends differ only in setUp).
"""
from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest

from scopecheck.capture.camera import Camera, DeviceLostError
from scopecheck.capture.controls import STATUSES, USER_CONTROLS, ControlSession, Request
from scopecheck.capture.opencv import OpenCVCamera
from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.digest import file_sha256, pixel_sha256
from scopecheck.compare.errors import DeviceError, InputError
from scopecheck.compare.load import load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REC = os.path.join(ROOT, "fixtures", "recordings")
STILL_A = os.path.join(REC, "ihc_still_a", "frame_%04d.png")


class CameraContract:
    """What every Camera must do. Subclasses implement ``make_camera(tmp_path, lose_after=None)``."""

    frames_available = 10  # a camera must deliver at least this many frames

    def make_camera(self, tmp_path, lose_after=None) -> Camera:  # pragma: no cover - abstract
        raise NotImplementedError

    @pytest.fixture
    def cam(self, tmp_path):
        c = self.make_camera(tmp_path)
        yield c
        c.close()

    def test_frames_match_declared_info(self, cam):
        info = cam.info
        f = cam.read()
        assert f.shape[:2] == (info.height, info.width), (f.shape, info)
        assert f.dtype in (np.uint8, np.uint16)
        assert info.kind in ("camera", "recording", "simulated")
        assert cam.frames_read == 1

    def test_consecutive_frames_carry_independent_noise(self, cam):
        a, b = cam.read().astype(np.float64), cam.read().astype(np.float64)
        assert not np.array_equal(a, b)
        sigma = np.std(a - b) / np.sqrt(2)
        assert 0.5 < sigma < 20, sigma

    def test_public_methods_validate_before_the_backend(self, cam):
        with pytest.raises(InputError, match="unknown control 'shutter'"):
            cam.get("shutter")
        with pytest.raises(InputError, match="finite"):
            cam.set("exposure", float("nan"))
        with pytest.raises(InputError, match="finite"):
            cam.set("exposure", True)
        with pytest.raises(InputError):
            cam.flush(-1)

    def test_get_returns_float_or_none(self, cam):
        for name in ("auto_exposure", "exposure", "gain", "focus"):
            v = cam.get(name)
            assert v is None or isinstance(v, float)

    def test_flush_discards_the_buffered_frames(self, cam):
        before = cam.frames_read
        n = cam.flush()
        assert n == cam.buffer_frames and cam.frames_read == before + n

    def test_closed_camera_refuses_to_read(self, cam):
        cam.close()
        with pytest.raises(DeviceError, match="closed"):
            cam.read()
        cam.close()  # idempotent

    def test_lost_device_raises_device_lost(self, tmp_path):
        c = self.make_camera(tmp_path, lose_after=3)
        with c:
            for _ in range(3):
                c.read()
            with pytest.raises(DeviceLostError, match="after 3 frame"):
                c.read()

    def test_reconnect_brings_frames_back_or_says_why_not(self, tmp_path, monkeypatch):
        # After a loss, reconnect() either delivers frames again or raises one DeviceError; never
        # anything else, never a wait without end (reopen attempts are bounded).
        import scopecheck.capture.opencv as ocv

        monkeypatch.setattr(ocv.time, "sleep", lambda s: None)
        c = self.make_camera(tmp_path, lose_after=3)
        with c:
            for _ in range(3):
                c.read()
            with pytest.raises(DeviceLostError):
                c.read()
            try:
                c.reconnect()
            except DeviceError as e:
                assert str(e)
            else:
                assert c.read().shape[:2] == (c.info.height, c.info.width)

    def test_control_outcomes_are_honest(self, cam):
        reqs = [Request.parse(c, "lock") for c in USER_CONTROLS]
        cs = ControlSession(cam)
        cs.prepare(reqs)
        for _ in range(6):
            cam.read()
        outcomes = cs.apply(reqs)
        assert [o.control for o in outcomes] == list(USER_CONTROLS)
        for o in outcomes:
            assert o.status in STATUSES
            if o.status == "locked":  # never claimed without a confirming read-back
                assert o.raw_readback is not None
                assert o.auto_readback is False or o.control == "gain"
        cs.restore()

    def test_capture_writes_png_whose_digests_compare_agrees_with(self, cam, tmp_path):
        out = tmp_path / "shot.png"
        shot = capture(cam, str(out), CaptureOptions(frames=4, warmup=0))
        img = load(out)
        assert shot.sha256 == file_sha256(img.data)
        assert shot.pixel_sha256 == pixel_sha256(img.pixels)
        assert cam.closed


class TestSimulatedV4L2(CameraContract):
    profile = "v4l2"

    def make_camera(self, tmp_path, lose_after=None):
        return SimulatedCamera(self.profile, seed=7, size=(96, 64), lose_after=lose_after)


class TestSimulatedMSMF(TestSimulatedV4L2):
    profile = "msmf"


class TestSimulatedDShow(TestSimulatedV4L2):
    profile = "dshow"


class TestSimulatedAVFoundation(TestSimulatedV4L2):
    profile = "avfoundation"


class TestOpenCVImageSequence(CameraContract):
    def make_camera(self, tmp_path, lose_after=None):
        if lose_after is None:
            return OpenCVCamera(STILL_A)
        d = tmp_path / "short"
        d.mkdir()
        for i in range(lose_after):
            shutil.copy(STILL_A % i, d / f"frame_{i:04d}.png")
        return OpenCVCamera(str(d / "frame_%04d.png"))

    def test_replay_is_exact(self):
        with OpenCVCamera(STILL_A) as c:
            for i in range(3):
                assert np.array_equal(c.read(), load(STILL_A % i).pixels)
            assert c.info.backend == "images" and c.info.kind == "recording"


class TestOpenCVVideoFile(CameraContract):
    """A video-file recording (MJPG in AVI, written by OpenCV's own writer)."""

    def make_camera(self, tmp_path, lose_after=None):
        n = self.frames_available if lose_after is None else lose_after
        path = str(tmp_path / f"rec_{n}.avi")
        if not os.path.exists(path):
            w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
            if not w.isOpened():
                pytest.skip("this OpenCV build cannot write MJPG AVI")
            for i in range(n):
                w.write(cv2.cvtColor(cv2.resize(load(STILL_A % i).pixels, (160, 120),
                                                interpolation=cv2.INTER_AREA), cv2.COLOR_GRAY2BGR))
            w.release()
        return OpenCVCamera(path)

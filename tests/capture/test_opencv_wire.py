"""The OpenCV camera's *camera* code paths (formats, controls, flush) over a mock of the wire.

``cv2.VideoCapture`` is replaced by :class:`FakeV4L2Capture`, which speaks VideoCapture's API
(``get``/``set`` with ``CAP_PROP_*`` ids, ``read``, ``getBackendName``) on top of the simulated
V4L2 camera, so the real :class:`capture.opencv.OpenCVCamera` code runs as it would on Linux
(python-microscope's "mock the wire" pattern). It also runs the shared camera contract.
"""
from __future__ import annotations

import cv2
import pytest
from test_contract import CameraContract  # tests/capture is on sys.path (pytest rootdir-relative import)

from scopecheck.capture.opencv import OpenCVCamera
from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.errors import DeviceError

_RAW = {cv2.CAP_PROP_AUTO_EXPOSURE: "auto_exposure", cv2.CAP_PROP_EXPOSURE: "exposure",
        cv2.CAP_PROP_AUTO_WB: "auto_wb", cv2.CAP_PROP_WB_TEMPERATURE: "wb_temperature",
        cv2.CAP_PROP_GAIN: "gain", cv2.CAP_PROP_AUTOFOCUS: "autofocus", cv2.CAP_PROP_FOCUS: "focus"}
MODES = {(160, 120), (320, 240)}


class FakeV4L2Capture:
    """VideoCapture's surface over a SimulatedCamera('v4l2'); modes 160x120 and 320x240, MJPG/YUYV."""

    instances: list = []
    lose_after = None

    def __init__(self, target, api=cv2.CAP_ANY):
        self.target = target
        self.opened = True
        self.size = (160, 120)
        self.pending = dict(zip(("w", "h"), self.size))
        self.fourcc = cv2.VideoWriter_fourcc(*"YUYV")
        self.restarts = 0
        self.sim = SimulatedCamera("v4l2", seed=5, size=self.size, lose_after=self.lose_after)
        FakeV4L2Capture.instances.append(self)

    def isOpened(self):
        return self.opened

    def getBackendName(self):
        return "V4L2"

    def release(self):
        self.opened = False

    def read(self):
        try:
            return True, self.sim.read()
        except DeviceError:
            return False, None

    def get(self, prop):
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self.size[0])
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self.size[1])
        if prop == cv2.CAP_PROP_FOURCC:
            return float(self.fourcc)
        if prop == cv2.CAP_PROP_FPS:
            return 30.0
        if prop == cv2.CAP_PROP_BUFFERSIZE:
            return float(self.sim.buffer_frames)
        if prop in _RAW:
            v = self.sim.get(_RAW[prop])
            return -1.0 if v is None else v
        return -1.0

    def set(self, prop, value):
        if prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT):
            self.pending["w" if prop == cv2.CAP_PROP_FRAME_WIDTH else "h"] = int(value)
            want = (self.pending["w"], self.pending["h"])
            if want in MODES and want != self.size:  # renegotiate only for a mode the camera offers
                self.size = want
                self.sim = SimulatedCamera("v4l2", seed=6, size=want)
            return True
        if prop == cv2.CAP_PROP_FOURCC:
            if int(value) in (cv2.VideoWriter_fourcc(*"MJPG"), cv2.VideoWriter_fourcc(*"YUYV")):
                self.fourcc = int(value)
                self.restarts += 1
            return True
        if prop == cv2.CAP_PROP_FPS:
            return True
        if prop in _RAW:
            return self.sim.set(_RAW[prop], value)
        return False


@pytest.fixture(autouse=True)
def fake_wire(monkeypatch):
    FakeV4L2Capture.instances = []
    FakeV4L2Capture.lose_after = None
    monkeypatch.setattr(cv2, "VideoCapture", FakeV4L2Capture)
    yield FakeV4L2Capture


class TestOpenCVCameraOverTheWire(CameraContract):
    def make_camera(self, tmp_path, lose_after=None):
        FakeV4L2Capture.lose_after = lose_after
        return OpenCVCamera("0")


def test_camera_is_recognised_as_v4l2_with_its_buffer():
    with OpenCVCamera("0") as c:
        info = c.info
        assert (info.kind, info.backend, info.backend_name, info.fourcc) == ("camera", "v4l2", "V4L2", "YUYV")
        assert c.buffer_frames == 4


def test_size_sets_width_and_height_together_and_reads_back():
    with OpenCVCamera("0", size=(320, 240)) as c:
        (o,) = c.format_outcomes
        assert (o.control, o.status, o.readback) == ("size", "set", "320x240")
        assert c.read().shape[:2] == (240, 320)
    with OpenCVCamera("0", size=(640, 480)) as c:  # not a mode the camera offers
        (o,) = c.format_outcomes
        assert (o.status, o.readback) == ("refused", "160x120") and "nearest mode" in o.note


def test_fourcc_change_restarts_the_stream_and_flushes():
    with OpenCVCamera("0", fourcc="mjpg") as c:
        (o,) = c.format_outcomes
        assert (o.control, o.status, o.readback) == ("fourcc", "set", "MJPG")
        fake = FakeV4L2Capture.instances[-1]
        assert fake.restarts == 1 and c.frames_read == c.buffer_frames  # queued frames discarded


def test_capture_through_opencv_locks_v4l2_controls(tmp_path):
    shot = capture(OpenCVCamera("0"), str(tmp_path / "s.png"), CaptureOptions(frames=4))
    status = {o.control: o.status for o in shot.controls}
    assert status == {"exposure": "locked", "white_balance": "locked", "gain": "locked", "focus": "locked"}
    sim = FakeV4L2Capture.instances[-1].sim
    assert sim.ae_auto and sim.wb_auto  # restored on exit
    assert shot.manifest.device["backend"] == "v4l2"
    assert any(q["backend"] == "v4l2" for q in shot.manifest.quirks)


def test_first_read_waits_for_a_slow_camera(monkeypatch):
    import scopecheck.capture.opencv as ocv

    monkeypatch.setattr(ocv.time, "sleep", lambda s: None)
    with OpenCVCamera("0") as c:
        fake = FakeV4L2Capture.instances[-1]
        real, fails = fake.read, iter([True, True, True])
        fake.read = lambda: (False, None) if next(fails, False) else real()
        assert c.read().shape == (120, 160, 3)


def test_a_camera_chosen_by_name_is_found_again_under_a_new_index_after_a_replug(monkeypatch):
    import scopecheck.capture.opencv as ocv
    from scopecheck.capture.devices import DeviceEntry, open_device

    monkeypatch.setattr(ocv.time, "sleep", lambda s: None)
    listing = [DeviceEntry("Plugable USB Microscope", 0x0AC8, 0x3420, None, "gstreamer", 2, "test")]
    cam = open_device("usb:0ac8:3420", lister=lambda: listing)
    assert FakeV4L2Capture.instances[-1].target == 2
    cam.read()
    listing[:] = [DeviceEntry("Plugable USB Microscope", 0x0AC8, 0x3420, None, "gstreamer", 4, "test")]
    cam.reconnect()  # unplugged and plugged into another port: index 4 now
    assert FakeV4L2Capture.instances[-1].target == 4 and cam.read().ndim == 3
    listing.clear()
    with pytest.raises(DeviceError, match="not back after"):
        cam.reconnect()
    cam.close()

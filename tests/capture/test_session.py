"""Sessions end to end: determinism, no overwrite, digests, templates, series, faults, record, calibrate."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from scopecheck.capture.camera import Camera, CameraInfo
from scopecheck.capture.devices import open_device
from scopecheck.capture.opencv import OpenCVCamera
from scopecheck.capture.output import manifest_path_for
from scopecheck.capture.profile import PROFILE_KIND, calibrate, read_profile, write_profile
from scopecheck.capture.recording import record
from scopecheck.capture.session import CaptureOptions, capture, capture_series
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.digest import file_sha256, pixel_sha256
from scopecheck.compare.errors import DeviceError, InputError, OutputExistsError
from scopecheck.compare.load import load

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STILL_A = os.path.join(ROOT, "fixtures", "recordings", "ihc_still_a", "frame_%04d.png")
OPTS = CaptureOptions(frames=8, warmup=0)


def test_same_recording_and_options_give_byte_identical_png(tmp_path):
    a = capture(OpenCVCamera(STILL_A), str(tmp_path / "a.png"), OPTS)
    b = capture(OpenCVCamera(STILL_A), str(tmp_path / "b.png"), OPTS)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert a.sha256 == b.sha256
    # ... while the manifests differ only by time and file name
    ma, mb = a.manifest.to_json(), b.manifest.to_json()
    for m in (ma, mb):
        m.pop("time")
        m["image"].pop("file")
    assert ma == mb


def test_manifest_digests_equal_what_compare_computes_from_the_file(tmp_path):
    shot = capture(OpenCVCamera(STILL_A), str(tmp_path / "s.png"), CaptureOptions(frames=8, warmup=0, depth=16))
    img = load(shot.path)
    with open(shot.manifest_path) as f:
        m = json.load(f)
    assert m["image"]["sha256"] == file_sha256(img.data) == shot.sha256
    assert m["image"]["pixel_sha256"] == pixel_sha256(img.pixels) == shot.pixel_sha256
    assert img.pixels.dtype == np.uint16 and m["image"]["depth"] == 16
    assert m["kind"] == "scopecheck-capture/1"
    assert m["device"]["backend"] == "images" and m["device"]["size"] == "320x240"
    assert m["stack"] == {"method": "mean", "frames_stacked": 8, "frames_rejected": 0, "frames_flushed": 0}
    assert {c["status"] for c in m["controls"]} == {"unsupported"}
    assert 2.5 < m["noise"]["frame_sigma_dn"] < 4.5
    assert m["software"]["opencv"] and m["software"]["zlib"]
    assert shot.manifest_path == str(tmp_path / "s.manifest.json")


def test_existing_output_is_refused_and_kept(tmp_path):
    out = tmp_path / "s.png"
    out.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        capture(OpenCVCamera(STILL_A), str(out), OPTS)
    assert out.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["s.png"]
    capture(OpenCVCamera(STILL_A), str(out), CaptureOptions(frames=8, warmup=0, overwrite=True))
    assert load(out).width == 320


def test_existing_manifest_is_refused_too(tmp_path):
    (tmp_path / "s.manifest.json").write_text("{}")
    with pytest.raises(OutputExistsError):
        capture(OpenCVCamera(STILL_A), str(tmp_path / "s.png"), OPTS)
    assert not (tmp_path / "s.png").exists()


def test_name_template_picks_the_next_free_name(tmp_path):
    (tmp_path / "shot_001.png").write_bytes(b"x")
    (tmp_path / "shot_002.manifest.json").write_text("{}")
    shots = capture_series(SimulatedCamera("v4l2", seed=1, size=(64, 48)), str(tmp_path / "shot_{n:03d}.png"),
                           CaptureOptions(frames=2, warmup=0), count=2)
    assert [os.path.basename(s.path) for s in shots] == ["shot_003.png", "shot_004.png"]
    assert [s.manifest.time["series_index"] for s in shots] == [0, 1]
    assert (tmp_path / "shot_001.png").read_bytes() == b"x"


def test_series_waits_the_interval_and_needs_a_template(tmp_path):
    waits = []
    capture_series(SimulatedCamera("v4l2", seed=1, size=(64, 48)), str(tmp_path / "s{n}.png"),
                   CaptureOptions(frames=2, warmup=0), count=3, interval=5.0, sleep=waits.append)
    assert len(waits) == 2 and all(4.0 < w <= 5.0 for w in waits)
    with pytest.raises(InputError, match="template"):
        capture_series(SimulatedCamera("v4l2", size=(64, 48)), str(tmp_path / "x.png"), OPTS, count=2)


@pytest.mark.parametrize("bad, match", [("out.jpg", "must be a .png"), ("s_{k}.png", "field {k} is not allowed"),
                                        ("nodir/s.png", "does not exist")])
def test_output_validated_before_any_frame(tmp_path, bad, match):
    cam = SimulatedCamera("v4l2", size=(64, 48))
    with pytest.raises(InputError, match=match):
        capture(cam, str(tmp_path / bad), OPTS)
    assert cam.frames_read == 0


def test_options_validated():
    with pytest.raises(InputError, match="--frames 0"):
        CaptureOptions(frames=0)
    with pytest.raises(InputError, match="--depth 12"):
        CaptureOptions(depth=12)


# --------------------------------------------------------------------------- faults

def assert_nothing_written(d):
    assert sorted(os.listdir(d)) == [], os.listdir(d)


def test_no_device(tmp_path):
    with pytest.raises(DeviceError, match="no recording"):
        open_device(str(tmp_path / "missing_%04d.png"))
    with pytest.raises(DeviceError, match="no such device"):
        open_device(str(tmp_path / "missing.avi"))
    with pytest.raises(DeviceError):
        open_device("/dev/video99")
    if os.path.exists("/dev/null"):
        with pytest.raises(DeviceError, match="busy or not a capture device"):
            open_device("/dev/null")


def test_recording_that_ends_early_leaves_no_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DeviceError, match="ended after 12 frame"):
        capture(OpenCVCamera(STILL_A), str(out / "s.png"), CaptureOptions(frames=20, warmup=0))
    assert_nothing_written(out)


def test_device_lost_mid_stack_leaves_no_output_and_still_restores(tmp_path):
    cam = SimulatedCamera("v4l2", seed=1, size=(64, 48), lose_after=30)
    with pytest.raises(DeviceError, match="stopped delivering frames after 30"):
        capture(cam, str(tmp_path / "s.png"), CaptureOptions(frames=64, warmup=5))
    assert_nothing_written(tmp_path)
    assert cam.closed


class _Interrupting(Camera):
    """Delivers frames, then Ctrl-C arrives during the stack."""

    def __init__(self, after):
        super().__init__()
        self.after = after
        self.rng = np.random.default_rng(0)

    @property
    def info(self):
        return CameraInfo("fake", "simulated", "images", "FAKE", 16, 8, None, None)

    def _do_read(self):
        if self.frames_read >= self.after:
            raise KeyboardInterrupt
        return self.rng.integers(0, 256, (8, 16), dtype=np.uint8)

    def _do_get(self, name):
        return None

    def _do_set(self, name, raw):
        return False


def test_ctrl_c_leaves_no_partial_file(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        capture(_Interrupting(5), str(tmp_path / "s.png"), CaptureOptions(frames=8, warmup=0))
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("fail_on", [".png", ".json"])
def test_png_and_manifest_appear_together_or_not_at_all(tmp_path, monkeypatch, fail_on):
    # Ctrl-C while publishing either file (the manifest goes first): neither file, no temp file.
    import scopecheck.capture.output as out_mod

    real = out_mod._publish

    def failing(tmp, path, overwrite):
        if path.endswith(fail_on):
            raise KeyboardInterrupt
        real(tmp, path, overwrite)

    monkeypatch.setattr(out_mod, "_publish", failing)
    with pytest.raises(KeyboardInterrupt):
        capture(OpenCVCamera(STILL_A), str(tmp_path / "s.png"), OPTS)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- record and calibrate

def test_record_then_replay(tmp_path):
    rec = record(SimulatedCamera("v4l2", seed=4, size=(64, 48)), str(tmp_path / "rec"), frames=5)
    assert sorted(os.listdir(rec.directory)) == ["controls.json"] + [f"frame_{i:04d}.png" for i in range(5)]
    doc = json.loads((tmp_path / "rec" / "controls.json").read_text())
    assert doc["raw_controls"]["auto_exposure"] == 3.0 and len(doc["sha256"]) == 5
    shot = capture(open_device(rec.pattern), str(tmp_path / "s.png"), CaptureOptions(frames=5, warmup=0))
    assert shot.frames_stacked == 5
    with pytest.raises(OutputExistsError, match="already holds a recording"):
        record(SimulatedCamera("v4l2", size=(64, 48)), rec.directory, frames=2)


def test_record_failure_removes_what_it_wrote(tmp_path):
    with pytest.raises(DeviceError):
        record(SimulatedCamera("v4l2", size=(64, 48), lose_after=3), str(tmp_path / "rec"), frames=5)
    assert_nothing_written(tmp_path)


def test_calibrate_writes_a_noise_profile(tmp_path):
    prof = calibrate(OpenCVCamera(STILL_A), CaptureOptions(frames=3, warmup=0), shots=4)
    doc = write_profile(prof, str(tmp_path / "p.json"))
    back = read_profile(str(tmp_path / "p.json"))
    assert back["kind"] == PROFILE_KIND == doc["kind"]
    for key in ("device", "size", "noise_sigma", "ssim", "dhash_distance", "shots", "frame_noise_sigma"):
        assert key in back
    assert back["size"] == "320x240" and back["shots"] == 4 and back["pairs"] == 6
    # 3-frame shots of ~3.4 DN frames: about 3.4 / sqrt(3) ~ 2 DN per shot
    assert 1.5 < back["noise_sigma"] < 2.6, back["noise_sigma"]
    assert 0.9 < back["ssim"]["min"] <= back["ssim"]["median"] < 1.0
    assert back["dhash_distance"]["max"] <= 4
    with pytest.raises(OutputExistsError):
        write_profile(prof, str(tmp_path / "p.json"))


def test_manifest_path():
    assert manifest_path_for("/a/b/shot_001.png") == "/a/b/shot_001.manifest.json"


def test_sixteen_bit_recording_is_averaged_at_full_precision(tmp_path):
    import cv2

    rng = np.random.default_rng(9)
    frames = [rng.integers(1000, 60000, (24, 32), dtype=np.uint16) for _ in range(4)]
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"frame_{i:04d}.png"), f)
    shot = capture(open_device(str(tmp_path / "frame_%04d.png")), str(tmp_path / "s.png"),
                   CaptureOptions(frames=4, warmup=0, depth=16))
    want = np.rint(np.mean(np.stack(frames).astype(np.float64), axis=0)).astype(np.uint16)
    assert np.array_equal(load(shot.path).pixels, want)


def test_opencv_camera_validates_its_options(tmp_path):
    with pytest.raises(InputError, match="--backend v4l2 applies to cameras"):
        OpenCVCamera(STILL_A, backend="v4l2")
    with pytest.raises(InputError, match="--fourcc 'H264'"):
        OpenCVCamera(STILL_A, fourcc="H264")
    with pytest.raises(InputError, match="--backend 'vfw'"):
        OpenCVCamera("0", backend="vfw")
    with OpenCVCamera(STILL_A, size=(640, 480)) as c:  # a recording plays back as recorded
        (o,) = c.format_outcomes
        assert (o.control, o.status) == ("size", "unsupported")


def test_frozen_device_is_an_error_not_an_endless_stack(tmp_path):
    cam = SimulatedCamera("v4l2", seed=1, size=(64, 48), repeat_every=1)  # every read repeats the last frame
    with pytest.raises(DeviceError, match="not delivering new frames"):
        capture(cam, str(tmp_path / "s.png"), CaptureOptions(frames=4, warmup=0, controls=()))
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("count, interval, words", [
    (10 ** 12, 0.0, "--count 1000000000000: must be between 1 and 100000"),
    (0, 0.0, "--count 0: must be between 1 and 100000"),
    (2, float("inf"), "--interval inf: must be between 0 and 604800 seconds (a week)"),
    (2, float("nan"), "--interval nan: must be between 0 and 604800 seconds"),
    (2, -1.0, "--interval -1.0: must be between 0"),
])
def test_a_series_is_bounded_before_its_first_shot(tmp_path, count, interval, words):
    """``--interval inf`` waited out the first shot and then failed inside the sleep; NaN read as 0;
    ``--count 10**12`` ran until killed. Nothing is captured or written."""
    from scopecheck.capture.session import capture_series
    from scopecheck.capture.simulated import SimulatedCamera

    with pytest.raises(InputError) as e:
        capture_series(SimulatedCamera(), str(tmp_path / "s_{n}.png"), count=count, interval=interval)
    assert words in str(e.value)
    assert os.listdir(tmp_path) == []


def test_warmup_is_bounded():
    from scopecheck.capture.stack import parse_warmup

    with pytest.raises(InputError, match="--warmup '1000000000000': must be between 0 and 100000"):
        parse_warmup("1000000000000")
    assert parse_warmup("100000") == 100000 and parse_warmup("auto") == "auto"

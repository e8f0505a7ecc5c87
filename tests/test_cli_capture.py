"""The real command line for capture, controls, calibrate, record and preview."""
from __future__ import annotations

import json
import os

import pytest

from scopecheck.compare.digest import file_sha256, pixel_sha256
from scopecheck.compare.load import load
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

STILL_A = os.path.join(FIXTURES, "recordings", "ihc_still_a", "frame_%04d.png")
SETTLING = os.path.join(FIXTURES, "recordings", "ihc_settling", "frame_%04d.png")


def test_capture_json_summary_and_files(tmp_path):
    out = tmp_path / "shot.png"
    r = run_cli("capture", "--device", STILL_A, "--frames", "8", "--warmup", "0", "-o", out, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) >= {"path", "manifest", "sha256", "pixel_sha256", "frames", "controls"}
    img = load(out)
    assert doc["sha256"] == file_sha256(img.data) and doc["pixel_sha256"] == pixel_sha256(img.pixels)
    assert doc["frames"] == {"stacked": 8, "rejected": 0, "warmup": 0}
    assert os.path.exists(doc["manifest"])
    # the same digests `scopecheck hash` reports for the file
    h = run_cli("hash", out, "--json", "--pixels")
    if h.returncode == 0:
        assert doc["sha256"] in h.stdout and doc["pixel_sha256"] in h.stdout


def test_capture_onto_existing_file_exits_2_and_keeps_it(tmp_path):
    out = tmp_path / "shot.png"
    out.write_bytes(b"keep me")
    r = run_cli("capture", "--device", STILL_A, "--frames", "4", "--warmup", "0", "-o", out)
    assert_one_line_error(r, contains="already exists")
    assert out.read_bytes() == b"keep me"


def test_capture_auto_warmup_and_series_from_the_settling_recording(tmp_path):
    r = run_cli("capture", "--device", SETTLING, "--frames", "4", "-o", tmp_path / "s_{n:02d}.png",
                "--count", "2", "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [os.path.basename(d["path"]) for d in lines] == ["s_01.png", "s_02.png"]
    assert lines[0]["frames"]["warmup"] > 0


def test_capture_from_the_simulated_camera_reports_locks(tmp_path):
    r = run_cli("capture", "--device", "sim:msmf?seed=2&size=96x64&readback=until_written", "--frames", "4",
                "-o", tmp_path / "m.png")
    assert r.returncode == 0, r.stderr
    assert "exposure drifted" in r.stdout and "gain locked" in r.stdout


@pytest.mark.parametrize("device, contains", [
    ("nowhere/frame_%04d.png", "no recording"),
    ("/dev/video97", "no such device"),
    ("sim:v4l2?lose_after=12&size=64x48", "stopped delivering frames"),
])
def test_device_faults_exit_2_with_one_line_and_no_output(tmp_path, device, contains):
    r = run_cli("capture", "--device", device, "--frames", "16", "--warmup", "4", "-o", tmp_path / "x.png")
    assert_one_line_error(r, contains=contains)
    assert os.listdir(tmp_path) == []


def test_recording_ending_early_exits_2(tmp_path):
    r = run_cli("capture", "--device", STILL_A, "--frames", "13", "--warmup", "0", "-o", tmp_path / "x.png")
    assert_one_line_error(r, contains="ended after 12 frame")
    assert os.listdir(tmp_path) == []


def test_bad_options_exit_2(tmp_path):
    r = run_cli("capture", "--device", STILL_A, "--exposure", "bright", "-o", tmp_path / "x.png")
    assert_one_line_error(r, contains="--exposure 'bright'")
    r = run_cli("capture", "--device", "0", "--size", "big", "-o", tmp_path / "x.png")
    assert_one_line_error(r, contains="--size 'big'")


def test_controls_lists_a_simulated_camera_and_a_recording():
    r = run_cli("controls", "--device", "sim:v4l2", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["opencv"]["auto_exposure"] == 3.0 and doc["quirks"]
    r = run_cli("controls", "--device", STILL_A)
    assert r.returncode == 0 and "no controls" in r.stdout


def test_record_and_calibrate(tmp_path):
    r = run_cli("record", "--device", "sim:v4l2?size=64x48", "--frames", "3", tmp_path / "rec")
    assert r.returncode == 0, r.stderr
    assert "frame_%04d.png" in r.stdout
    r = run_cli("calibrate", "--device", os.path.join(tmp_path, "rec", "frame_%04d.png"), "--frames", "1",
                "--warmup", "0", "--shots", "3", "-o", tmp_path / "p.json", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "scopecheck-noise-profile/1" and doc["shots"] == 3


def test_preview_without_a_display_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = run_cli("preview", "--device", "sim", env=env)
    assert_one_line_error(r, contains="no display")


@pytest.mark.parametrize("command", ["capture", "controls", "calibrate", "record", "preview", "devices"])
def test_every_command_has_help(command):
    r = run_cli(command, "--help")
    assert r.returncode == 0 and ("--device" in r.stdout or command == "devices") and len(r.stdout) > 300


def test_preview_picture_has_focus_histogram_and_clipping_warning():
    import numpy as np

    from scopecheck.commands.preview import render_preview

    frame = np.zeros((120, 160), np.uint8)
    frame[:, 80:] = 255  # half black, half white: sharp edge, heavily clipped
    view, focus, (lo, hi) = render_preview(frame)
    assert view.shape == (120, 160, 3) and view.dtype == np.uint8
    assert focus > 100 and lo == hi == 0.5
    assert (view[:, :, 2] > 200).any() and not (view[:, :, 2] == view[:, :, 1]).all()  # red warning drawn
    soft, f2, clip = render_preview(np.full((120, 160, 3), 128, np.uint16) * 257)
    assert f2 == 0 and clip == (0.0, 0.0)


def test_preview_loop_shoots_on_space(tmp_path, monkeypatch, capsys):
    # The window calls are replaced; everything else (camera, overlay, shot) is real.
    import cv2

    from scopecheck import cli
    from scopecheck.commands import preview as cmd

    shown = []
    monkeypatch.setattr(cmd, "has_display", lambda: True)
    monkeypatch.setattr(cv2, "namedWindow", lambda *a: None)
    monkeypatch.setattr(cv2, "imshow", lambda name, img: shown.append(img.shape))
    keys = iter([0xFF, 0xFF, ord(" ")])
    monkeypatch.setattr(cv2, "waitKey", lambda delay: next(keys))
    monkeypatch.setattr(cv2, "destroyAllWindows", lambda: None)
    out = tmp_path / "p_{n:03d}.png"
    assert cli.main(["preview", "--device", "sim:v4l2?size=96x64", "--frames", "4", "-o", str(out)]) == 0
    assert len(shown) == 3 and shown[0] == (64, 96, 3)
    assert (tmp_path / "p_001.png").exists() and (tmp_path / "p_001.manifest.json").exists()
    assert "p_001.png" in capsys.readouterr().out


# --------------------------------------------------------------------------- issue 8 C/D and issue 11

def _main(capsys, *args):
    """The CLI in-process (fast): exit status, stdout, stderr lines."""
    from scopecheck import cli

    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("template", ["{n.foo}.png", "x{n[0]}.png", "{n}/x.png", "{k}.png", "{n!r}.png"])
def test_bad_output_templates_exit_2_with_one_line(tmp_path, capsys, template):
    code, out, err = _main(capsys, "capture", "--device", "sim?size=32x24", "-o", str(tmp_path) + "/" + template)
    assert code == 2 and len(err) == 1 and "-o" in err[0] and "Traceback" not in err[0] and out == ""
    assert os.listdir(tmp_path) == []


def test_record_into_an_unwritable_directory_exits_2(capsys):
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("needs Linux sysfs")
    code, out, err = _main(capsys, "record", "--device", "sim?size=32x24", "/sys/foo")
    assert code == 2 and err == ["scopecheck record: /sys/foo: cannot create the recording directory: "
                                 "permission denied"]


def test_save_settings_then_reapply_and_a_mismatch_exits_1(tmp_path, capsys):
    bench = tmp_path / "bench.json"
    code, out, err = _main(capsys, "capture", "--device", "sim?size=64x48&seed=1", "--frames", "2", "-o",
                           tmp_path / "a.png", "--save-settings", bench)
    assert code == 0, err
    code, out, err = _main(capsys, "capture", "--device", "sim?size=64x48&seed=2&drop_at=30&forget=1", "--frames", "4", "-o",
                           tmp_path / "s{n}.png", "--count", "3", "--settings", bench)
    assert code == 0, err
    assert "1 reconnect so far" in out and any("lost and came back" in e for e in err)
    assert any("exposure, white_balance differed from" in e for e in err)
    doc = json.loads(bench.read_text())
    doc["controls"]["exposure"] = {"value": 0.01, "unit": "ms", "raw": 0.1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    r = run_cli("capture", "--device", "sim?size=64x48", "--frames", "2", "-o", tmp_path / "m.png", "--settings",
                bad, "--json")  # the real process: its exit status says "settings differ"
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["settings_ok"] is False and out["settings"]["ok"] is False
    assert {c["control"]: c["status"] for c in out["controls"]}["exposure"] == "mismatch"
    assert os.path.exists(tmp_path / "m.png") and os.path.exists(tmp_path / "m.manifest.json")


def test_calibrate_dark_and_flat_then_capture_corrected(tmp_path, capsys):
    dev = "sim?size=96x72&vignette=0.3&black=6&seed={}&scene={}"
    assert _main(capsys, "calibrate", "--dark", "--device", dev.format(1, "dark"), "--frames", "8", "-o",
                 tmp_path / "d.png")[0] == 0
    code, out, err = _main(capsys, "calibrate", "--flat", "--device", dev.format(2, "blank"), "--frames", "8", "-o",
                           tmp_path / "f.png", "--json")
    assert code == 0, err
    assert json.loads(out)["path"].endswith("f.png")
    code, out, err = _main(capsys, "capture", "--device", dev.format(3, "blank"), "--frames", "8", "--dark",
                           tmp_path / "d.png", "--flat", tmp_path / "f.png", "--depth", "16", "-o", tmp_path / "c.png")
    assert code == 0, err
    assert "corrected with dark and flat" in out
    assert load(tmp_path / "c.png").pixels.dtype.itemsize == 2
    code, out, err = _main(capsys, "capture", "--device", dev.format(3, "blank"), "--flat", tmp_path / "d.png", "-o",
                           tmp_path / "x.png")
    assert code == 2 and len(err) == 1 and "not a flat reference" in err[0]
    code, out, err = _main(capsys, "calibrate", "--flat", "--device", "sim", "-o", tmp_path / "f.json")
    assert code == 2 and len(err) == 1 and "is a .png file" in err[0]


def test_devices_on_this_machine_is_a_list_and_exit_0(capsys):
    code, out, err = _main(capsys, "devices", "--json")
    assert code == 0 and isinstance(json.loads(out)["cameras"], list)


def test_missing_references_and_existing_settings_file_are_refused_before_any_frame(tmp_path, capsys):
    code, out, err = _main(capsys, "capture", "--device", "sim?size=32x24", "--dark", tmp_path / "nope.png", "-o",
                           tmp_path / "q.png")
    assert code == 2 and err == [f"scopecheck capture: {tmp_path / 'nope.png'}: --dark: no such file; make one with "
                                 "scopecheck calibrate --dark -o dark.png"]
    (tmp_path / "bench.json").write_text("keep")
    code, out, err = _main(capsys, "capture", "--device", "sim?size=32x24&lose_after=0", "--save-settings",
                           tmp_path / "bench.json", "-o", tmp_path / "q.png")
    assert code == 2 and len(err) == 1 and "already exists" in err[0]  # lose_after=0: no frame was needed
    assert (tmp_path / "bench.json").read_text() == "keep" and not (tmp_path / "q.png").exists()

"""Settings that stay put: save, re-apply, check after every shot and after a reconnect (issue 11.2)."""
from __future__ import annotations

import json

import pytest

from scopecheck.capture.controls import ControlStatus
from scopecheck.capture.session import CaptureOptions, capture, capture_series
from scopecheck.capture.settings import SETTINGS_KIND, load_settings
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.errors import InputError

SIZE = (64, 48)


def _saved(tmp_path, profile="v4l2"):
    path = str(tmp_path / "bench.json")
    capture(SimulatedCamera(profile, seed=1, size=SIZE), str(tmp_path / "first.png"),
            CaptureOptions(frames=2, save_settings=path))
    return path


def test_saved_settings_are_the_values_read_back_after_locking(tmp_path):
    path = _saved(tmp_path)
    doc = json.loads(open(path).read())
    first = json.loads((tmp_path / "first.manifest.json").read_text())
    locked = {c["control"]: c["raw_readback"] for c in first["controls"]}
    assert doc["kind"] == SETTINGS_KIND and doc["backend"] == "v4l2"
    assert {k: v["raw"] for k, v in doc["controls"].items()} == locked
    assert doc["controls"]["exposure"]["value"] == locked["exposure"] / 10.0  # 100 us units -> ms


def test_reapplied_on_a_fresh_camera_and_checked_after_every_shot(tmp_path):
    saved = load_settings(_saved(tmp_path))
    cam = SimulatedCamera("v4l2", seed=7, size=SIZE, ae_start=2.0)  # power-on state far from the saved one
    shots = capture_series(cam, str(tmp_path / "s{n}.png"), CaptureOptions(frames=2, settings=saved), count=3)
    assert all(s.settings_ok for s in shots)
    assert {c.control: c.status for c in shots[0].controls} == {c: ControlStatus.SET for c in
                                                               ("exposure", "white_balance", "gain", "focus")}
    m = shots[-1].manifest.to_json()["settings"]
    assert [c["after"] for c in m["checks"]] == ["shot 1", "shot 2", "shot 3"] and m["ok"]
    assert m["sha256"] == saved.sha256


@pytest.mark.parametrize("forget", [True, False])
def test_lost_and_found_mid_series(tmp_path, forget):
    saved = load_settings(_saved(tmp_path))
    cam = SimulatedCamera("v4l2", seed=3, size=SIZE, drop_at=40, forget=forget)
    logs = []
    shots = capture_series(cam, str(tmp_path / "s{n}.png"), CaptureOptions(frames=8, settings=saved), count=4,
                           log=logs.append)
    assert cam.reconnects == 1 and any("lost and came back" in m for m in logs)
    m = shots[-1].manifest.to_json()["settings"]
    (rc,) = m["reconnects"]
    found = {f["control"] for f in rc["found"]}
    # a camera that forgets comes back with auto exposure/white balance at power-on values
    assert found == ({"exposure", "white_balance"} if forget else set())
    assert "reconnect 1" in [c["after"] for c in m["checks"]]
    assert m["ok"] and all(s.settings_ok for s in shots)  # re-applied and read back as saved
    assert cam.exposure_ms == pytest.approx(saved.controls[0].value)


def test_a_value_the_camera_will_not_take_is_a_mismatch(tmp_path):
    path = _saved(tmp_path)
    doc = json.loads(open(path).read())
    doc["controls"]["exposure"] = {"value": 0.01, "unit": "ms", "raw": 0.1}  # below 100 us: clamped to 0.1 ms
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    shot = capture(SimulatedCamera("v4l2", seed=2, size=SIZE), str(tmp_path / "m.png"),
                   CaptureOptions(frames=2, settings=load_settings(str(tmp_path / "edited.json"))))
    ex = next(c for c in shot.controls if c.control == "exposure")
    assert ex.status == ControlStatus.MISMATCH and "saved 0.01 ms" in ex.note
    assert not shot.settings_ok
    m = shot.manifest.to_json()
    assert m["settings"]["ok"] is False
    assert m["settings"]["checks"][0]["mismatch"] == [{"control": "exposure", "saved_raw": 0.1,
                                                       "readback_raw": 1.0}]


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"kind": "other"}', "not a scopecheck-settings/1 file"),
    ('{"kind": "scopecheck-settings/1", "controls": {"zoom": {"value": 1, "raw": 1}}}', "unknown control 'zoom'"),
    ('{"kind": "scopecheck-settings/1", "controls": {"exposure": {"value": -1, "raw": 1}}}', "positive"),
    ('{"kind": "scopecheck-settings/1", "controls": {"exposure": {"value": 1e308, "raw": 1}}}', "out of range"),
    ('{"kind": "scopecheck-settings/1", "controls": {"exposure": {"value": "20", "raw": 200}}}', "numeric value and raw"),
    ('{"kind": "scopecheck-settings/1", "controls": {"gain": {"value": 3, "raw": true}}}', "numeric value and raw"),
    ('{"kind": "scopecheck-settings/1", "controls": {"gain": [3, 3]}}', "numeric value and raw"),
])
def test_bad_settings_files_are_one_input_error(tmp_path, content, message):
    p = tmp_path / "s.json"
    p.write_text(content)
    with pytest.raises(InputError, match=message):
        load_settings(str(p))


def test_lost_during_warm_up_is_reopened_and_warmed_up_again(tmp_path):
    cam = SimulatedCamera("v4l2", seed=3, size=SIZE, drop_at=5, forget=True)
    logs = []
    shot = capture(cam, str(tmp_path / "w.png"), CaptureOptions(frames=4), log=logs.append)
    assert cam.reconnects == 1 and any("lost during warm-up" in m for m in logs)
    assert {c.control: c.status for c in shot.controls}["exposure"] == ControlStatus.LOCKED
    assert shot.manifest.to_json()["settings"]["reconnects"][0]["during"] == "warm-up"
    gone = SimulatedCamera("v4l2", seed=3, size=SIZE, lose_after=5)
    with pytest.raises(Exception, match="reconnecting failed: .*gone for good"):
        capture(gone, str(tmp_path / "x.png"), CaptureOptions(frames=4))

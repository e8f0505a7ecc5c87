"""v4l2-ctl output parsing keyed on control IDs, across the Linux 5.16 control renames."""
from __future__ import annotations

import os
import shutil

import pytest

from scopecheck.capture.v4l2 import KNOWN_IDS, V4L2Unavailable, list_controls, parse_list_ctrls

# Shape of `v4l2-ctl -d /dev/video0 --list-ctrls-menus` for a UVC camera, before and after Linux 5.16
# (same control IDs, new names).
OLD = """
User Controls

                     brightness 0x00980900 (int)    : min=-64 max=64 step=1 default=0 value=0
 white_balance_temperature_auto 0x0098090c (bool)   : default=1 value=1
           power_line_frequency 0x00980918 (menu)   : min=0 max=2 default=1 value=1
\t\t\t\t0: Disabled
\t\t\t\t1: 50 Hz
\t\t\t\t2: 60 Hz
      white_balance_temperature 0x0098091a (int)    : min=2800 max=6500 step=1 default=4600 value=4600 flags=inactive

Camera Controls

                  exposure_auto 0x009a0901 (menu)   : min=0 max=3 default=3 value=3
\t\t\t\t1: Manual Mode
\t\t\t\t3: Aperture Priority Mode
              exposure_absolute 0x009a0902 (int)    : min=1 max=5000 step=1 default=157 value=157 flags=inactive
"""
NEW = (OLD.replace("exposure_auto ", "auto_exposure ").replace("exposure_absolute", "exposure_time_absolute")
       .replace("white_balance_temperature_auto", "white_balance_automatic"))


@pytest.mark.parametrize("text", [OLD, NEW], ids=["before-5.16", "after-5.16"])
def test_parse_keys_on_ids_not_names(text):
    ctrls = {c.name: c for c in parse_list_ctrls(text) if c.name}
    assert set(ctrls) == {"brightness", "auto_wb", "power_line_frequency", "wb_temperature", "auto_exposure",
                          "exposure"}
    ae = ctrls["auto_exposure"]
    assert (ae.id, ae.min, ae.max, ae.value) == (0x009A0901, 0, 3, 3)
    assert ae.menu == {1: "Manual Mode", 3: "Aperture Priority Mode"}
    assert ctrls["exposure"].flags == ("inactive",) and ctrls["exposure"].default == 157
    assert ctrls["power_line_frequency"].menu[1] == "50 Hz"
    assert ctrls["auto_wb"].to_json()["id"] == "0x0098090c"


def test_missing_or_non_integer_fields_are_none():
    (c,) = parse_list_ctrls("                           gain 0x00980913 (int)    : min=0 max=x step=1 value=12\n")
    assert (c.name, c.min, c.max, c.step, c.default, c.value, c.flags) == ("gain", 0, None, 1, None, 12, ())


def test_known_ids_cover_the_controls_scopecheck_uses():
    assert {"auto_exposure", "exposure", "auto_wb", "wb_temperature", "gain", "autofocus", "focus",
            "power_line_frequency"} <= set(KNOWN_IDS.values())


@pytest.mark.skipif(shutil.which("v4l2-ctl") is not None, reason="v4l2-ctl is installed here")
def test_absent_v4l2_ctl_says_how_to_get_it():
    with pytest.raises(V4L2Unavailable, match="install v4l-utils"):
        list_controls("/dev/video0")


FAKE = r'''#!{python}
"""A stand-in for v4l2-ctl: state in $FAKE_V4L2_STATE; new (5.16+) control names."""
import json, os, sys
state_path = os.environ["FAKE_V4L2_STATE"]
state = json.load(open(state_path))
for arg in sys.argv[1:]:
    if arg.startswith("--set-ctrl="):
        name, value = arg[len("--set-ctrl="):].split("=")
        if name == "power_line_frequency" and int(value) in (0, 1, 2) and not state.get("refuse"):
            state["plf"] = int(value)
        json.dump(state, open(state_path, "w"))
        sys.exit(0)
print("           power_line_frequency 0x00980918 (menu)   : min=0 max=2 default=1 value=%d" % state["plf"])
print("\t\t\t\t0: Disabled\n\t\t\t\t1: 50 Hz\n\t\t\t\t2: 60 Hz")
print("                  auto_exposure 0x009a0901 (menu)   : min=0 max=3 default=3 value=3")
'''


@pytest.fixture
def fake_v4l2(tmp_path, monkeypatch):
    import json
    import sys

    exe = tmp_path / "bin" / "v4l2-ctl"
    exe.parent.mkdir()
    exe.write_text(FAKE.replace("{python}", sys.executable))
    exe.chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"plf": 1}))
    monkeypatch.setenv("PATH", f"{exe.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_V4L2_STATE", str(state))
    return state


def test_power_line_is_set_by_id_read_back_and_restorable(fake_v4l2):
    import json

    from scopecheck.capture.v4l2 import POWER_LINE_ID, apply_power_line, set_control

    outcome, original = apply_power_line("/dev/video0", "60")
    assert (outcome.status, outcome.readback, outcome.raw_readback, original) == ("set", "60 Hz", 2.0, 1)
    assert json.loads(fake_v4l2.read_text())["plf"] == 2
    set_control("/dev/video0", POWER_LINE_ID, original)  # what the session does on exit
    assert json.loads(fake_v4l2.read_text())["plf"] == 1
    outcome, original = apply_power_line("/dev/video0", "50")  # already 50 Hz: nothing to restore
    assert outcome.status == "set" and original is None


def test_power_line_refused_when_the_read_back_disagrees(fake_v4l2):
    import json

    from scopecheck.capture.v4l2 import apply_power_line

    fake_v4l2.write_text(json.dumps({"plf": 1, "refuse": True}))
    outcome, original = apply_power_line("/dev/video0", "off")
    assert outcome.status == "refused" and original is None and "read back 1" in outcome.note


def test_power_line_on_a_recording_is_unsupported(tmp_path):
    from scopecheck.capture.session import CaptureOptions, capture

    rec = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "recordings", "ihc_still_a", "frame_%04d.png")
    from scopecheck.capture.opencv import OpenCVCamera

    shot = capture(OpenCVCamera(rec), str(tmp_path / "s.png"), CaptureOptions(frames=2, warmup=0, power_line="50"))
    (pl,) = [c for c in shot.controls if c.control == "power_line_frequency"]
    assert pl.status == "unsupported"

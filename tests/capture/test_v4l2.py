"""v4l2-ctl output parsing keyed on control IDs, across the Linux 5.16 control renames."""
from __future__ import annotations

import shutil

import pytest

from capture.v4l2 import KNOWN_IDS, V4L2Unavailable, list_controls, parse_list_ctrls

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
    assert ctrls["auto_wb"].as_dict()["id"] == "0x0098090c"


def test_known_ids_cover_the_controls_scopecheck_uses():
    assert {"auto_exposure", "exposure", "auto_wb", "wb_temperature", "gain", "autofocus", "focus",
            "power_line_frequency"} <= set(KNOWN_IDS.values())


@pytest.mark.skipif(shutil.which("v4l2-ctl") is not None, reason="v4l2-ctl is installed here")
def test_absent_v4l2_ctl_says_how_to_get_it():
    with pytest.raises(V4L2Unavailable, match="install v4l-utils"):
        list_controls("/dev/video0")

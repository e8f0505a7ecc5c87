"""auto-freeze: the camera's loop where it can be trusted, scopecheck's own loop where not (issue 11.4).

The reference for scopecheck's loop is numpy's percentile of the saved shot: its 99.5th percentile
(brightest channel) must sit at the 200 DN target within the loop's 4 % tolerance (plus the
stack's noise), with no clipped samples.
"""
from __future__ import annotations

import numpy as np
import pytest

from scopecheck.capture.autofreeze import TARGET_DN
from scopecheck.capture.controls import ControlStatus, Request
from scopecheck.capture.session import CaptureOptions, capture
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.load import load

FREEZE = tuple(Request.parse(c, m) for c, m in (("exposure", "auto-freeze"), ("white_balance", "auto-freeze"),
                                                 ("gain", "auto-freeze"), ("focus", "lock")))
OPTS = CaptureOptions(frames=4, controls=FREEZE)


def shot(tmp_path, name, **kw):
    return capture(SimulatedCamera(seed=3, size=(160, 120), **kw), str(tmp_path / f"{name}.png"), OPTS)


def p995(path):
    a = load(path).pixels
    return float(np.percentile(a.max(axis=2), 99.5)), float((a >= 255).mean())


def test_trusted_camera_loop_is_frozen_where_it_settled(tmp_path):
    s = shot(tmp_path, "v4l2", profile="v4l2")
    af = s.manifest.to_json()["auto_freeze"]
    assert {k: v["loop"] for k, v in af.items()} == {"exposure": "camera", "white_balance": "camera", "gain": "camera"}
    st = {c.control: c for c in s.controls}
    assert st["exposure"].status == ControlStatus.LOCKED and st["exposure"].requested == "auto-freeze"
    assert st["exposure"].readback == pytest.approx(20.0, rel=0.02)  # the sim's loop target


def test_a_loop_that_clips_is_replaced_by_scopechecks_own(tmp_path):
    s = shot(tmp_path, "bias", profile="v4l2", ae_bias=1.8)  # the camera's loop settles 80 % too bright
    af = s.manifest.to_json()["auto_freeze"]["exposure"]
    assert af["loop"] == "scopecheck" and "clips" in af["why"] and af["steps"][0]["clipped"] > 0.01
    p, clipped = p995(s.path)
    assert abs(p / TARGET_DN - 1) <= 0.06 and clipped == 0.0, (p, clipped)
    ex = next(c for c in s.controls if c.control == "exposure")
    assert ex.status == ControlStatus.LOCKED and ex.auto_readback is False


def test_unconfirmable_lock_uses_scopechecks_loop_and_says_so(tmp_path):
    # DirectShow: the auto flag reads -1, so the camera's lock is never confirmed
    s = shot(tmp_path, "dshow", profile="dshow")
    af = s.manifest.to_json()["auto_freeze"]
    assert af["exposure"]["loop"] == "scopecheck" and "not confirmed" in af["exposure"]["why"]
    # gain: scopecheck's loop too, already at the driver's lowest gain (0) with the image above target
    assert af["gain"]["loop"] == "scopecheck" and [st["raw"] for st in af["gain"]["steps"]] == [0.0]
    # log2-second steps: the nearest power of two to the target without clipping
    p, clipped = p995(s.path)
    assert clipped == 0.0 and TARGET_DN / 2 ** 0.5 <= p <= 255


def test_a_driver_that_reads_back_defaults_triggers_scopechecks_loops(tmp_path):
    # MSMF reading back defaults until written: the lock moves the image -> drifted -> not trusted
    s = shot(tmp_path, "msmf", profile="msmf", readback="until_written")
    af = s.manifest.to_json()["auto_freeze"]
    assert af["exposure"]["loop"] == "scopecheck" and af["white_balance"]["loop"] == "scopecheck"
    steps = af["white_balance"]["steps"]
    # grey world moved red/blue towards 1 until the driver's 6500 K limit stopped it
    b, r = (float(load(s.path).pixels[:, :, i].mean()) for i in (0, 2))
    assert abs(r / b - 1) < 0.5 * abs(steps[0]["red_mean"] / steps[0]["blue_mean"] - 1)
    assert steps[-1]["kelvin"] == 6500.0 and len(steps) == 2


def test_focus_auto_freeze_is_refused_on_the_command_line(tmp_path):
    from tests.conftest import assert_one_line_error, run_cli

    r = run_cli("capture", "--device", "sim", "--focus", "auto-freeze", "-o", tmp_path / "x.png")
    assert_one_line_error(r, contains="--focus auto-freeze")


def test_gain_by_scopechecks_loop_when_exposure_is_fixed_and_unconfirmed(tmp_path):
    # DirectShow, exposure fixed by the user at 2^-6 s (the image sits near 115 DN): the lock cannot
    # be confirmed, so scopecheck raises the gain until the percentile reaches the target.
    reqs = (Request.parse("exposure", 15.625), Request.parse("white_balance", "lock"),
            Request.parse("gain", "auto-freeze"), Request.parse("focus", "lock"))
    s = capture(SimulatedCamera("dshow", seed=3, size=(160, 120)), str(tmp_path / "g.png"),
                CaptureOptions(frames=4, controls=reqs))
    af = s.manifest.to_json()["auto_freeze"]["gain"]
    assert af["loop"] == "scopecheck" and af["steps"][0]["p99_5_dn"] < 0.8 * TARGET_DN
    p, clipped = p995(s.path)
    assert abs(p / TARGET_DN - 1) <= 0.06 and clipped == 0.0, (p, af["steps"])
    gain = next(c for c in s.controls if c.control == "gain")
    assert gain.status == ControlStatus.LOCKED and gain.readback > 0

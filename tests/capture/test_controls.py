"""Request -> write -> read back -> record, against the simulated camera's backend quirks."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scopecheck.capture.controls import (
    PROFILES,
    QUIRKS,
    USER_CONTROLS,
    ControlSession,
    Request,
    frame_check,
    profile_for,
    quirks_for,
)
from scopecheck.capture.session import CaptureOptions, CaptureSession
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.errors import InputError

SMALL = dict(size=(96, 64), seed=3)


def lock_all():
    return tuple(Request.parse(c, "lock") for c in USER_CONTROLS)


def started(profile, requests=None, **kw):
    cam = SimulatedCamera(profile, **{**SMALL, **kw})
    s = CaptureSession(cam, CaptureOptions(frames=4, warmup="auto", controls=requests or lock_all()))
    s.start()
    return cam, s


def by_control(outcomes):
    return {o.control: o for o in outcomes}


def test_quirk_table_names_a_source_for_every_row():
    for q in QUIRKS:
        assert q.source.strip() and q.behaviour.strip(), q
    backends = {q.backend for q in QUIRKS}
    for name in ("v4l2", "dshow", "msmf", "avfoundation", "images"):
        assert name in backends
    assert any("1 = manual, 3 = aperture priority" in q["behaviour"] for q in quirks_for("v4l2"))
    assert any("0.25" in q["behaviour"] and "legacy" in q["behaviour"] for q in quirks_for("v4l2"))


def test_exposure_units_per_backend():
    assert PROFILES["v4l2"].exposure_to_raw(20.0) == 200.0          # 100 us units
    assert PROFILES["dshow"].exposure_to_raw(31.25) == -5.0          # log2(1/32 s)
    assert PROFILES["msmf"].exposure_from_raw(-5.0) == pytest.approx(31.25)
    assert PROFILES["v4l2"].auto_is_on("auto_exposure", 1.0) is False
    assert PROFILES["v4l2"].auto_is_on("auto_exposure", 3.0) is True
    assert PROFILES["v4l2"].auto_is_on("auto_exposure", 0.25) is False  # legacy read-back
    assert PROFILES["msmf"].auto_is_on("auto_exposure", 0.5) is True    # any non-zero = auto
    assert PROFILES["dshow"].auto_is_on("auto_exposure", -1.0) is None  # unreadable
    with pytest.raises(InputError, match="unknown backend"):
        profile_for("vfw")


def test_request_parsing_names_the_fix():
    assert Request.parse("exposure", "LOCK").mode == "lock"
    assert Request.parse("exposure", "12.5") == Request("exposure", "value", 12.5)
    with pytest.raises(InputError, match="--white-balance 'warm': expected auto, lock, auto-freeze, leave or a number"):
        Request.parse("white_balance", "warm")
    with pytest.raises(InputError, match="positive"):
        Request.parse("exposure", "-3")


def test_v4l2_lock_is_confirmed_and_restored_on_exit():
    cam, s = started("v4l2")
    o = by_control(s.outcomes)
    assert {k: v.status for k, v in o.items()} == {c: "locked" for c in USER_CONTROLS}
    assert o["exposure"].auto_readback is False and o["exposure"].unit == "ms"
    assert ("auto_exposure", 1.0, True) in cam.writes  # menu index 1 = manual
    assert s.flushed == cam.buffer_frames             # queued frames discarded after the change
    assert not cam.ae_auto
    s.close()
    assert cam.ae_auto and cam.wb_auto and cam.af_auto  # settings restored
    assert ("auto_exposure", 3.0, True) in cam.writes[-3:]  # auto flags restored last


def test_keep_settings_leaves_the_lock_in_place():
    cam = SimulatedCamera("v4l2", **SMALL)
    s = CaptureSession(cam, CaptureOptions(frames=2, warmup=10, keep_settings=True))
    s.start()
    s.close()
    assert not cam.ae_auto


def test_v4l2_legacy_value_returns_true_but_is_ignored_so_the_lock_is_refused():
    cam = SimulatedCamera("v4l2", **SMALL)
    cs = ControlSession(cam, profile=replace(PROFILES["v4l2"], ae_off=0.25))
    req = [Request.parse("exposure", "lock")]
    cs.prepare(req)
    for _ in range(20):
        cam.read()
    (o,) = cs.apply(req)
    assert o.status == "refused", o
    assert "kept automatic mode on" in o.note
    assert ("auto_exposure", 0.25, True) in cam.writes  # set() said True


def test_dshow_lock_is_not_claimed_when_the_auto_flag_cannot_be_read():
    _, s = started("dshow")
    o = by_control(s.outcomes)["exposure"]
    assert o.status == "set" and "not confirmed" in o.note
    assert o.readback == pytest.approx(31.25)


def test_msmf_default_readback_in_auto_mode_is_corrected_once_auto_is_off():
    # MSMF reads back its default (-6) while auto is on; once auto is off it reports the frozen
    # automatic value (-5), which is what must be locked.
    cam, s = started("msmf")
    o = by_control(s.outcomes)
    assert o["exposure"].status == "locked" and o["exposure"].raw_readback == -5.0
    assert "automatic-mode read-back was a default" in o["exposure"].note
    assert o["white_balance"].status == "locked" and o["white_balance"].readback == pytest.approx(5000, abs=20)
    s.close()


def test_a_default_readback_that_never_clears_is_caught_by_the_image():
    # Firmware that reports the default until written: the lock writes the default back, the
    # read-back agrees with the write, and only the image shows the exposure halved.
    cam, s = started("msmf", readback="until_written")
    o = by_control(s.outcomes)
    assert o["exposure"].status == "drifted" and "default" in o["exposure"].note
    assert o["white_balance"].status == "drifted"
    assert o["gain"].status == "locked" and o["focus"].status == "locked"
    s.close()


def test_avfoundation_offers_nothing():
    _, s = started("avfoundation")
    assert {o.status for o in s.outcomes} == {"unsupported"}


def test_numeric_exposure_is_set_and_clamping_is_refused():
    cam, s = started("v4l2", (Request.parse("exposure", "10"),))
    (o,) = s.outcomes
    assert (o.status, o.raw_requested, o.readback) == ("set", 100.0, 10.0)
    s.close()
    cam, s = started("v4l2", (Request.parse("exposure", "900"),))  # 9000 > max 5000
    (o,) = s.outcomes
    assert o.status == "refused" and o.raw_readback == 5000.0 and "set() returned True" in o.note


def test_auto_request_is_confirmed_by_the_auto_flag():
    cam, s = started("v4l2", (Request.parse("exposure", "auto"), Request.parse("gain", "auto")))
    o = by_control(s.outcomes)
    assert o["exposure"].status == "set" and o["exposure"].auto_readback is True
    assert o["gain"].status == "unsupported"  # no automatic gain through VideoCapture


def test_value_that_moves_after_locking_is_reported_drifted():
    cam, s = started("v4l2")
    cam.exposure_ms *= 1.5  # firmware moved it behind our back
    o = by_control(s.controls.verify(s.outcomes))
    assert o["exposure"].status == "drifted" and o["white_balance"].status == "locked"


def test_frames_after_a_control_change_use_the_new_setting():
    # Halving the exposure must show in every stacked frame: the queued (brighter) frames are flushed.
    cam = SimulatedCamera("v4l2", **SMALL)
    s = CaptureSession(cam, CaptureOptions(frames=8, warmup="auto", controls=(Request.parse("exposure", "lock"),)))
    s.start()
    locked_ms = cam.exposure_ms
    s.close()
    cam = SimulatedCamera("v4l2", **SMALL)
    s = CaptureSession(cam, CaptureOptions(frames=8, warmup="auto",
                                           controls=(Request.parse("exposure", str(locked_ms / 2)),)))
    s.start()
    before = np.mean(s.warmup.brightness[-3:])
    img = s.stack().image
    assert img.mean() == pytest.approx(before / 2, rel=0.03)
    s.close()


def test_frame_check_thresholds():
    locked = by_control(started("v4l2")[1].outcomes)
    outs = tuple(locked.values())
    assert frame_check(outs, (100.0, 100.0, 100.0), (101.0, 101.0, 101.0)) == outs
    moved = by_control(frame_check(outs, (100.0, 100.0, 100.0), (80.0, 80.0, 80.0)))
    assert moved["exposure"].status == "drifted" and moved["white_balance"].status == "locked"
    tinted = by_control(frame_check(outs, (100.0, 100.0, 100.0), (90.0, 100.0, 100.0)))
    assert tinted["white_balance"].status == "drifted"


def test_restore_puts_back_the_values_found_at_the_start_not_the_automatic_ones():
    # The user had manual exposure 5 ms; lock switches auto on to settle (exposure moves to ~20 ms),
    # then locks. On exit the camera must be back at manual 5 ms, not at the automatic value.
    cam = SimulatedCamera("v4l2", **SMALL)
    cam.ae_auto, cam.exposure_ms = False, 5.0
    s = CaptureSession(cam, CaptureOptions(frames=2, warmup="auto", controls=(Request.parse("exposure", "lock"),)))
    s.start()
    assert cam.exposure_ms == pytest.approx(20.0, rel=0.05)
    s.close()
    assert not cam.ae_auto and cam.exposure_ms == pytest.approx(5.0)
    assert [r.name for r in s.restored] == ["exposure", "auto_exposure"] and all(r.ok for r in s.restored)


def test_gain_lock_is_only_claimed_with_auto_exposure_confirmed_off():
    _, s = started("dshow")  # auto flag unreadable
    assert by_control(s.outcomes)["gain"].status == "set"
    _, s = started("v4l2", (Request.parse("exposure", "leave"), Request.parse("gain", "lock")))
    g = by_control(s.outcomes)["gain"]
    assert g.status == "set" and "may still move the gain" in g.note
    _, s = started("v4l2", (Request.parse("exposure", "lock"), Request.parse("gain", "lock")))
    assert by_control(s.outcomes)["gain"].status == "locked"


def test_exposure_between_log2_steps_says_which_step_was_set():
    _, s = started("dshow", (Request.parse("exposure", "10"),))
    (o,) = s.outcomes
    assert o.status == "set" and o.raw_readback == -7.0 and o.readback == pytest.approx(7.8125)
    assert "nearest" in o.note


def test_a_value_goes_with_mode_value_only():
    assert Request.parse("gain", "7").label == 7.0 and Request.parse("gain", "lock").label == "lock"
    assert Request("gain", "value", 2.0).number == 2.0
    with pytest.raises(InputError, match="Request.parse"):
        Request("gain", "value")  # would have reached arithmetic with None
    with pytest.raises(InputError, match="Request.parse"):
        Request("gain", "lock", 2.0)
    with pytest.raises(InputError, match="no number"):
        _ = Request.parse("gain", "lock").number


def test_auto_flag_values_come_from_the_profile():
    # V4L2_CID_EXPOSURE_AUTO menu (linux/v4l2-controls.h): 3 aperture priority = auto, 1 manual
    assert PROFILES["v4l2"].auto_values("auto_exposure") == (3.0, 1.0)
    assert PROFILES["dshow"].auto_values("auto_exposure") == (1.0, 0.0)
    assert PROFILES["v4l2"].auto_values("autofocus") == (1.0, 0.0)
    cam = SimulatedCamera("v4l2", **SMALL)
    cs = ControlSession(cam, profile=replace(PROFILES["v4l2"], ae_off=None))
    with pytest.raises(InputError, match="backend v4l2 has no raw values .* ae_on and ae_off"):
        cs.apply([Request.parse("exposure", "5")])
    assert cs.writes == 0  # refused before anything reached the camera


@pytest.mark.parametrize("control, text, words", [
    ("exposure", "1e308", "--exposure '1e308': out of range (0 to 3.6e+06 ms)"),
    ("exposure", 1e308, "out of range"),
    ("white_balance", "1e9", "--white-balance '1e9': out of range (0 to 100000 K)"),
    ("gain", "-1e20", "--gain '-1e20': out of range"),
    ("focus", "inf", "must be a positive finite number"),
])
def test_control_numbers_are_bounded(control, text, words):
    """A number a driver cannot hold is refused with one line: ``--exposure 1e308`` overflowed
    converting to the driver's integer, an internal error."""
    with pytest.raises(InputError) as e:
        Request.parse(control, text)
    assert words in str(e.value)

"""The backend quirk table and the per-backend profiles that implement it.

:data:`QUIRKS` records what each OpenCV backend does with camera controls and where that is
documented; :data:`PROFILES` turns those rows into data the state machine in
:mod:`capture.controls` reads: which raw controls exist, their units, which raw values switch the
automatic loops, and how an auto-flag read-back is interpreted (V4L2's menu indices are a table,
not a special case in code). Both go into the manifest (:func:`quirks_for`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from scopecheck.compare.errors import InputError


@dataclass(frozen=True)
class Quirk:
    """One row of the backend quirk table: what a backend does, and the source saying so."""

    backend: str
    control: str
    behaviour: str
    source: str


QUIRKS: tuple[Quirk, ...] = (
    Quirk("v4l2", "auto_exposure",
          "raw menu index of V4L2_CID_EXPOSURE_AUTO (0x009a0901): 1 = manual, 3 = aperture priority "
          "(auto); UVC cameras usually offer only 1 and 3",
          "Linux kernel docs, userspace-api/media/v4l/ext-ctrls-camera.rst (V4L2_CID_EXPOSURE_AUTO)"),
    Quirk("v4l2", "auto_exposure",
          "0.25 (manual) / 0.75 (auto) are a legacy mapping from OpenCV's old normalised V4L/libv4l path; "
          "a read-back of 0.25/0.75 is interpreted in that legacy mode",
          "opencv/opencv#9738 and #14494 (0.25 works on some builds, not on 4.x V4L2)"),
    Quirk("v4l2", "exposure",
          "V4L2_CID_EXPOSURE_ABSOLUTE (0x009a0902) in 100 us units; only writable with auto exposure "
          "off (the write may be accepted and ignored while auto is on)",
          "Linux kernel docs, ext-ctrls-camera.rst (V4L2_CID_EXPOSURE_ABSOLUTE); opencv/opencv#5516"),
    Quirk("v4l2", "exposure",
          "while auto exposure is on some firmware reads back the default, not the current exposure",
          "opencv/opencv#5516 (Logitech C525 report)"),
    Quirk("v4l2", "white_balance",
          "V4L2_CID_AUTO_WHITE_BALANCE (0x0098090c) 0/1; V4L2_CID_WHITE_BALANCE_TEMPERATURE "
          "(0x0098091a) in kelvin, writable with auto off",
          "Linux kernel docs, userspace-api/media/v4l/control.rst"),
    Quirk("v4l2", "size",
          "width and height must both be set: the format is renegotiated per call and a lone width "
          "can leave a mode the camera does not offer",
          "OpenCV modules/videoio/src/cap_v4l.cpp (setProperty CAP_PROP_FRAME_WIDTH/HEIGHT)"),
    Quirk("v4l2", "fourcc",
          "a FOURCC change stops and restarts the stream (buffers re-allocated); queued frames are stale",
          "OpenCV cap_v4l.cpp (CAP_PROP_FOURCC -> streamOff/reinitialize)"),
    Quirk("dshow", "exposure",
          "CameraControl_Exposure in log2 seconds (-5 = 1/32 s), integers only; writing it switches "
          "the camera to manual",
          "Microsoft docs, CameraControlProperty enumeration; shimat/opencvsharp#1476"),
    Quirk("dshow", "auto_exposure",
          "the auto flag usually reads back -1 (not readable), so a lock cannot be confirmed",
          "shimat/opencvsharp#1399"),
    Quirk("msmf", "exposure", "log2 seconds, like DirectShow (KSPROPERTY_CAMERACONTROL_EXPOSURE)",
          "OpenCV modules/videoio/src/cap_msmf.cpp; Microsoft docs, KSPROPERTY_CAMERACONTROL_EXPOSURE"),
    Quirk("msmf", "auto_exposure",
          "any non-zero value means auto; while auto the exposure may read back the default",
          "OpenCV cap_msmf.cpp (CAP_PROP_AUTO_EXPOSURE: value != 0 -> auto flag)"),
    Quirk("avfoundation", "*",
          "exposure, white balance, gain and focus are not exposed through VideoCapture",
          "OpenCV modules/videoio/src/cap_avfoundation_mac.mm (getProperty/setProperty)"),
    Quirk("images", "*", "an image-sequence recording has no controls; every request is unsupported",
          "OpenCV modules/videoio/src/cap_images.cpp"),
    Quirk("file", "*", "a video-file recording has no controls; every request is unsupported",
          "OpenCV cap_ffmpeg_impl.hpp"),
    Quirk("*", "power_line_frequency",
          "no VideoCapture property; listed by `scopecheck controls` via v4l2-ctl (0x00980918) only",
          "OpenCV videoio VideoCaptureProperties; Linux kernel docs control.rst"),
)


# --------------------------------------------------------------------------- profiles

def _log2_seconds_to_ms(raw: float) -> float:
    return 1000.0 * 2.0 ** raw


def _ms_to_log2_seconds(ms: float) -> float:
    return float(round(math.log2(ms / 1000.0)))


@dataclass(frozen=True)
class Profile:
    """How one backend speaks: which raw controls exist, their units, how auto flags read back.

    ``exposure_unit`` names the raw unit (``100us`` or ``log2 s``); ``ae_on``/``ae_off`` are the
    raw auto-exposure values to write. How an auto-exposure read-back is interpreted is data:

    * ``ae_states``: when given, the complete table ``raw value -> auto on?``; any other value
      says nothing (V4L2's menu indices plus OpenCV's legacy 0.25/0.75 mapping);
    * otherwise any non-zero value means auto, and a negative value means "not readable"
      when ``ae_negative_unreadable`` (DirectShow reports -1).

    Other auto flags (white balance, focus) are 0/1, negative when unreadable, on every backend.
    """

    name: str
    controls: frozenset
    ae_on: float | None = None
    ae_off: float | None = None
    exposure_unit: str | None = None
    ae_states: tuple[tuple[float, bool], ...] | None = None
    ae_negative_unreadable: bool = False

    def supports(self, raw_name: str) -> bool:
        return raw_name in self.controls

    def exposure_to_raw(self, ms: float) -> float:
        if self.exposure_unit == "100us":
            return float(round(ms * 10.0))
        if self.exposure_unit == "log2 s":
            return _ms_to_log2_seconds(ms)
        raise InputError(f"backend {self.name} has no exposure control")

    def exposure_from_raw(self, raw: float) -> float:
        if self.exposure_unit == "100us":
            return raw / 10.0
        return _log2_seconds_to_ms(raw)

    def auto_values(self, raw_name: str) -> tuple[float, float]:
        """The raw ``(on, off)`` values to write to auto flag ``raw_name``.

        Auto exposure uses this backend's ``ae_on``/``ae_off``; the other flags are 0/1 everywhere.
        """
        if raw_name != "auto_exposure":
            return 1.0, 0.0
        if self.ae_on is None or self.ae_off is None:
            raise InputError(f"backend {self.name} has no raw values for switching auto exposure on and off "
                             "(profile needs ae_on and ae_off)")
        return self.ae_on, self.ae_off

    def auto_is_on(self, raw_name: str, raw: float | None) -> bool | None:
        """Interpret an auto-flag read-back; None when it says nothing (unreadable, -1, unknown)."""
        if raw is None:
            return None
        if raw_name == "auto_exposure":
            if self.ae_states is not None:
                return next((on for value, on in self.ae_states if abs(raw - value) < 1e-6), None)
            if self.ae_negative_unreadable and raw < 0:
                return None
            return raw != 0.0
        if raw < 0:
            return None
        return raw != 0.0


_ALL = frozenset({"auto_exposure", "exposure", "auto_wb", "wb_temperature", "gain", "autofocus", "focus"})
#: V4L2_CID_EXPOSURE_AUTO menu: 0 auto, 1 manual, 2 shutter priority, 3 aperture priority; and the
#: legacy normalised values of OpenCV's old V4L path (0.25 manual, 0.75 auto). See QUIRKS.
V4L2_AE_STATES = ((0.0, True), (1.0, False), (2.0, True), (3.0, True), (0.25, False), (0.75, True))
PROFILES: dict[str, Profile] = {
    "v4l2": Profile("v4l2", _ALL, ae_on=3.0, ae_off=1.0, exposure_unit="100us", ae_states=V4L2_AE_STATES),
    "dshow": Profile("dshow", _ALL, ae_on=1.0, ae_off=0.0, exposure_unit="log2 s", ae_negative_unreadable=True),
    "msmf": Profile("msmf", _ALL, ae_on=1.0, ae_off=0.0, exposure_unit="log2 s"),
    "gstreamer": Profile("gstreamer", frozenset()),
    "avfoundation": Profile("avfoundation", frozenset()),
    "images": Profile("images", frozenset()),
    "file": Profile("file", frozenset()),
}


def profile_for(backend: str) -> Profile:
    try:
        return PROFILES[backend]
    except KeyError:
        raise InputError(f"unknown backend profile {backend!r}; known: {', '.join(PROFILES)}") from None


def quirks_for(backend: str) -> list[dict]:
    """Rows of :data:`QUIRKS` that apply to ``backend`` (for the manifest)."""
    return [asdict(q) for q in QUIRKS if q.backend in (backend, "*")]


__all__ = ["QUIRKS", "PROFILES", "Profile", "Quirk", "V4L2_AE_STATES", "profile_for", "quirks_for"]

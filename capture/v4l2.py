"""List a V4L2 device's controls (ranges, defaults, values, flags) through ``v4l2-ctl``.

``v4l2-ctl`` (v4l-utils, GPL-2.0) is run as a separate program -- nothing is linked or copied,
so its licence does not reach scopecheck. When it is absent (not Linux, not installed) the caller
gets :class:`V4L2Unavailable` with the install hint, and ``scopecheck controls`` falls back to
what OpenCV can read.

Controls are keyed on their **control IDs**, not names: Linux 5.16 renamed several UVC controls
(``exposure_auto`` -> ``auto_exposure``, ``exposure_absolute`` -> ``exposure_time_absolute``,
``white_balance_temperature_auto`` -> ``white_balance_automatic``, ``focus_auto`` ->
``focus_automatic_continuous``), so :data:`KNOWN_IDS` maps IDs to scopecheck's names and the
kernel's name is only reported.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from scopecheck.compare.errors import DeviceError

if TYPE_CHECKING:
    from .controls import ControlOutcome

KNOWN_IDS = {  # V4L2 control ID -> scopecheck raw control name (linux/v4l2-controls.h)
    0x009A0901: "auto_exposure",        # V4L2_CID_EXPOSURE_AUTO (menu: 1 manual, 3 aperture priority)
    0x009A0902: "exposure",             # V4L2_CID_EXPOSURE_ABSOLUTE, 100 us units
    0x0098090C: "auto_wb",              # V4L2_CID_AUTO_WHITE_BALANCE
    0x0098091A: "wb_temperature",       # V4L2_CID_WHITE_BALANCE_TEMPERATURE, kelvin
    0x00980913: "gain",                 # V4L2_CID_GAIN
    0x009A090C: "autofocus",            # V4L2_CID_FOCUS_AUTO
    0x009A090A: "focus",                # V4L2_CID_FOCUS_ABSOLUTE
    0x00980918: "power_line_frequency",  # V4L2_CID_POWER_LINE_FREQUENCY (menu: 0 off, 1 50 Hz, 2 60 Hz)
    0x00980900: "brightness",
    0x00980901: "contrast",
    0x00980902: "saturation",
}

_LINE = re.compile(r"^\s*(?P<name>\w+)\s+(?P<id>0x[0-9a-fA-F]{8})\s+\((?P<type>\w+)\)\s*:\s*(?P<rest>.*)$")
_MENU = re.compile(r"^\s+(?P<index>-?\d+):\s+(?P<label>.+?)\s*$")


class V4L2Unavailable(DeviceError):
    """``v4l2-ctl`` is not installed or the device is not a V4L2 node."""


@dataclass(frozen=True)
class V4L2Control:
    id: int
    kernel_name: str
    name: str | None          # scopecheck's name for the control ID, None when not one we use
    type: str
    min: int | None = None
    max: int | None = None
    step: int | None = None
    default: int | None = None
    value: int | None = None
    flags: tuple[str, ...] = ()
    menu: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"id": f"0x{self.id:08x}", "kernel_name": self.kernel_name, "name": self.name, "type": self.type,
                "min": self.min, "max": self.max, "step": self.step, "default": self.default, "value": self.value,
                "flags": list(self.flags), "menu": {str(k): v for k, v in self.menu.items()}}


def _int(kv: dict[str, str], key: str) -> int | None:
    """``key=<int>`` from a control line; None when absent or not an integer."""
    try:
        return int(kv[key]) if key in kv else None
    except ValueError:
        return None


def parse_list_ctrls(text: str) -> list[V4L2Control]:
    """Parse the output of ``v4l2-ctl --list-ctrls-menus``."""
    controls: list[V4L2Control] = []
    current = None
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            kv: dict[str, str] = dict(re.findall(r"(\w+)=(\S+)", m.group("rest")))
            cid = int(m.group("id"), 16)
            current = V4L2Control(cid, m.group("name"), KNOWN_IDS.get(cid), m.group("type"),
                                  min=_int(kv, "min"), max=_int(kv, "max"), step=_int(kv, "step"),
                                  default=_int(kv, "default"), value=_int(kv, "value"),
                                  flags=tuple(f for f in kv.get("flags", "").split(",") if f))
            controls.append(current)
            continue
        mm = _MENU.match(line)
        if mm and current is not None and current.type in ("menu", "intmenu"):
            current.menu[int(mm.group("index"))] = mm.group("label")
    return controls


def list_controls(device: str, *, timeout: float = 10.0) -> list[V4L2Control]:
    """The controls of a V4L2 device (``/dev/videoN`` or an index) via ``v4l2-ctl``."""
    exe = shutil.which("v4l2-ctl")
    if exe is None:
        raise V4L2Unavailable("v4l2-ctl not found; install v4l-utils (e.g. apt install v4l-utils) "
                              "to list V4L2 controls with ranges and flags")
    dev = f"/dev/video{device}" if str(device).isdigit() else str(device)
    try:
        r = subprocess.run([exe, "-d", dev, "--list-ctrls-menus"], capture_output=True, text=True,
                           timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DeviceError(f"v4l2-ctl did not answer for {dev} within {timeout:g} s") from None
    except OSError as e:
        raise V4L2Unavailable(f"cannot run v4l2-ctl: {e.strerror or e}") from None
    if r.returncode != 0:
        msg = (r.stderr.strip().splitlines() or ["failed"])[-1]
        raise DeviceError(f"v4l2-ctl -d {dev}: {msg}")
    return parse_list_ctrls(r.stdout)


POWER_LINE_ID = 0x00980918
POWER_LINE_VALUES = {"off": 0, "50": 1, "60": 2}


def set_control(device: str, control_id: int, value: int, *, timeout: float = 10.0) -> V4L2Control | None:
    """Write one control by **ID** (its current kernel name is looked up first) and read it back.

    Returns the control as read back, or None when the device has no control with that ID.
    """
    found = {c.id: c for c in list_controls(device, timeout=timeout)}
    if control_id not in found:
        return None
    ctrl = found[control_id]
    dev = f"/dev/video{device}" if str(device).isdigit() else str(device)
    try:
        subprocess.run([shutil.which("v4l2-ctl") or "v4l2-ctl", "-d", dev, f"--set-ctrl={ctrl.kernel_name}={int(value)}"],
                       capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DeviceError(f"v4l2-ctl could not set {ctrl.kernel_name} on {dev}: {e}") from None
    return {c.id: c for c in list_controls(device, timeout=timeout)}.get(control_id)


def apply_power_line(device: str, want: str) -> tuple[ControlOutcome, int | None]:
    """Set the anti-flicker filter (``off``, ``50``, ``60``) by control ID; request -> read back -> record.

    Returns ``(ControlOutcome, original)`` where ``original`` is the raw menu value found before
    (None when nothing was changed, so nothing needs restoring).
    """
    from .controls import ControlOutcome

    if want not in POWER_LINE_VALUES:
        raise DeviceError(f"--power-line {want!r}: use off, 50 or 60")
    base = partial(ControlOutcome, control="power_line_frequency", requested=want, unit="Hz",
                   raw_requested=float(POWER_LINE_VALUES[want]))
    try:
        before = {c.id: c for c in list_controls(device)}.get(POWER_LINE_ID)
        if before is None:
            return base(status="unsupported", note="the device has no power_line_frequency control "
                        "(0x00980918)"), None
        after = set_control(device, POWER_LINE_ID, POWER_LINE_VALUES[want])
    except V4L2Unavailable as e:
        return base(status="unsupported", note=str(e)), None
    rb = None if after is None else after.value
    ok = rb == POWER_LINE_VALUES[want]
    label = None if after is None or rb is None else after.menu.get(rb, rb)
    outcome = base(status="set" if ok else "refused", readback=label, raw_readback=None if rb is None else float(rb),
                   note="" if ok else f"read back {rb!r} after writing {POWER_LINE_VALUES[want]}")
    changed = before.value is not None and before.value != rb
    return outcome, (before.value if changed else None)

"""Finding and opening capture devices: ``--device`` specs, cameras by name or USB id.

A ``--device`` value is one of

* ``sim``, ``sim:PROFILE``, ``sim?seed=N&...``: the simulated camera (:mod:`capture.simulated`);
* ``name:TEXT``: the one listed camera whose name contains TEXT (case-insensitive);
* ``usb:VVVV:PPPP``: the one listed camera with that USB vendor and product id (hex);
* anything else OpenCV opens: an index (``0``), a path (``/dev/video2``), a recording
  (``dir/frame_%04d.png``) or a video file.

Cameras are listed by :func:`list_cameras` through `cv2-enumerate-cameras
<https://pypi.org/project/cv2-enumerate-cameras/>`_ (MIT licence; V4L2 on Linux, Media Foundation
and DirectShow on Windows, AVFoundation on macOS) with name, VID:PID, path, backend and the index
OpenCV opens. Where that package is missing or fails, Linux falls back to
``/sys/class/video4linux`` (name, the USB ids of the parent device, primary nodes only). No camera
is an empty list, not an error; a name or id that matches none, or several, is a
:class:`DeviceError` that lists what there is.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from scopecheck.compare.errors import DeviceError, InputError

from .camera import Camera

#: OpenCV's VideoCaptureAPIs numbers -> our backend (quirk-table) names
CV_BACKENDS = {200: "v4l2", 1800: "gstreamer", 700: "dshow", 1400: "msmf", 1200: "avfoundation"}
_PREFERRED = {"linux": (200,), "win32": (1400, 700), "darwin": (1200,)}
_USB = re.compile(r"usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")


@dataclass(frozen=True)
class DeviceEntry:
    """One camera the system lists."""

    name: str
    vid: int | None
    pid: int | None
    path: str | None
    backend: str
    index: int
    source: str  # "cv2-enumerate-cameras" or "sysfs"

    @property
    def usb_id(self) -> str | None:
        return None if self.vid is None or self.pid is None else f"{self.vid:04x}:{self.pid:04x}"

    def to_json(self) -> dict:
        return {"name": self.name, "usb": self.usb_id, "path": self.path, "backend": self.backend,
                "index": self.index, "source": self.source}

    def label(self) -> str:
        return f"{self.index} {self.name!r} ({self.usb_id or 'no USB id'}, {self.path or 'no path'}, {self.backend})"


def _from_enumerator(platform: str) -> list[DeviceEntry]:
    import cv2_enumerate_cameras as ce

    for api in _PREFERRED.get(platform, tuple(ce.supported_backends)):
        if api not in ce.supported_backends:
            continue
        found = [DeviceEntry(str(c.name), c.vid, c.pid, c.path, CV_BACKENDS.get(api, str(api)), int(c.index),
                             "cv2-enumerate-cameras") for c in ce.enumerate_cameras(api)]
        if found:  # the first backend that sees cameras (Windows: MSMF, else DirectShow): no duplicates
            return found
    return []


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(256).strip() or None
    except OSError:
        return None


def _from_sysfs(root: str = "/sys/class/video4linux", dev: str = "/dev") -> list[DeviceEntry]:
    """Primary V4L2 nodes (``index`` 0: metadata nodes are skipped) under ``root``."""
    try:
        names = sorted(n for n in os.listdir(root) if re.fullmatch(r"video\d+", n))
    except OSError:
        return []
    out = []
    for n in sorted(names, key=lambda s: int(s[5:])):
        node = os.path.join(root, n)
        if (_read(os.path.join(node, "index")) or "0") != "0":
            continue
        vid = pid = None
        usb = os.path.realpath(os.path.join(node, "device"))
        if ":" in os.path.basename(usb):  # an interface; the USB device is its parent
            usb = os.path.dirname(usb)
        v, p = _read(os.path.join(usb, "idVendor")), _read(os.path.join(usb, "idProduct"))
        try:
            vid, pid = (int(v, 16), int(p, 16)) if v and p else (None, None)
        except ValueError:
            pass
        out.append(DeviceEntry(_read(os.path.join(node, "name")) or n, vid, pid, os.path.join(dev, n), "v4l2",
                               int(n[5:]), "sysfs"))
    return out


def list_cameras(*, platform: str | None = None, sysfs_root: str = "/sys/class/video4linux") -> list[DeviceEntry]:
    """Every camera the system lists (an empty list when there is none)."""
    platform = platform or sys.platform
    plat = "linux" if platform.startswith("linux") else platform
    try:
        return _from_enumerator(plat)
    except Exception:  # noqa: BLE001 - package missing or failing: fall back where we can
        if plat == "linux":
            return _from_sysfs(sysfs_root)
        return []


#: Longest ``name:TEXT`` / ``usb:...`` accepted (V4L2 card names are at most 32 bytes).
MAX_SPEC = 256


def find_camera(spec: str, cameras: list[DeviceEntry]) -> DeviceEntry:
    """The one camera ``name:TEXT`` or ``usb:VVVV:PPPP`` designates."""
    if len(spec) > MAX_SPEC:
        raise InputError(f"--device {spec[:40]!r}...: {len(spec)} characters, over the {MAX_SPEC} a camera "
                         "name or USB id can need")
    if spec.startswith("name:"):
        text = spec[5:].strip()
        if not text:
            raise InputError(f"--device {spec!r}: give part of the camera's name after name:")
        hits = [c for c in cameras if text.lower() in c.name.lower()]
        what = f"name containing {text!r}"
    else:
        m = _USB.fullmatch(spec)
        if not m:
            raise InputError(f"--device {spec!r}: use usb:VVVV:PPPP with 4 hex digits each, e.g. usb:046d:0825")
        vid, pid = int(m.group(1), 16), int(m.group(2), 16)
        hits = [c for c in cameras if c.vid == vid and c.pid == pid]
        what = f"USB id {vid:04x}:{pid:04x}"
    if len(hits) == 1:
        return hits[0]
    listed = "; ".join(c.label() for c in cameras) or "none"
    if not hits:
        raise DeviceError(f"--device {spec!r}: no camera with a {what} (cameras: {listed}); see scopecheck devices")
    raise DeviceError(f"--device {spec!r}: {len(hits)} cameras with a {what}: "
                      f"{'; '.join(c.label() for c in hits)}; pick one by its path or index")


def is_sim(device: str) -> bool:
    return device == "sim" or device.startswith("sim:") or device.startswith("sim?")


def open_device(device: str, *, backend: str = "auto", size: tuple[int, int] | None = None,
                fourcc: str | None = None, fps: float | None = None, lister=list_cameras) -> Camera:
    """A :class:`Camera` for a ``--device`` value (see the module docstring)."""
    d = str(device)
    if is_sim(d):
        from .simulated import SimulatedCamera

        if backend != "auto" or fourcc or fps is not None:
            raise InputError("--backend/--fourcc/--fps do not apply to a simulated device; "
                             "pick the profile in the spec, e.g. sim:msmf")
        return SimulatedCamera.from_spec(d if size is None else f"{d}{'&' if '?' in d else '?'}size={size[0]}x{size[1]}")
    from .opencv import BACKENDS, OpenCVCamera

    if d.startswith("name:") or d.startswith("usb:"):
        def target_of(entry: DeviceEntry) -> str:
            return entry.path if entry.path and entry.backend == "v4l2" else str(entry.index)

        entry = find_camera(d, lister())
        if backend == "auto" and entry.backend in BACKENDS:
            backend = entry.backend
        cam = OpenCVCamera(target_of(entry), backend=backend, size=size, fourcc=fourcc, fps=fps)
        cam.selected = {"spec": d, **entry.to_json()}
        cam.relocate = lambda: target_of(find_camera(d, lister()))  # after a replug: look it up again
        return cam
    return OpenCVCamera(d, backend=backend, size=size, fourcc=fourcc, fps=fps)


__all__ = ["CV_BACKENDS", "DeviceEntry", "find_camera", "is_sim", "list_cameras", "open_device"]

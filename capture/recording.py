"""Recordings: raw frames saved as ``DIR/frame_%04d.png`` plus ``DIR/controls.json``, replayable with
``--device DIR/frame_%04d.png`` (OpenCV's image-sequence backend).

:func:`record` warms up like ``capture`` (``auto`` by default: until the brightness is stable) and
writes whether the warm-up settled into ``controls.json`` (``warmup.settled``); a recording whose
camera never settled is marked, and :func:`recording_warning` makes a capture from it say so.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass

from scopecheck.compare.digest import file_sha256
from scopecheck.compare.errors import InputError, OutputExistsError
from scopecheck.compare.jsonfile import read_json

from . import png
from .camera import Camera
from .manifest import software_versions
from .quirks import PROFILES, quirks_for
from .stack import warm_up

RECORDING_KIND = "scopecheck-recording/1"
CONTROLS_FILE = "controls.json"


@dataclass(frozen=True)
class Recording:
    """A recording written by :func:`record`."""

    directory: str
    pattern: str
    frames: int
    controls_path: str
    sha256: tuple[str, ...]
    settled: bool
    warmup_frames: int

    def to_json(self) -> dict:
        return {"directory": self.directory, "pattern": self.pattern, "frames": self.frames,
                "controls": self.controls_path, "settled": self.settled, "warmup_frames": self.warmup_frames}


def _prepare_directory(d: str) -> bool:
    """Check ``d`` and create it if missing; True if created. Unwritable places are one InputError."""
    if os.path.exists(d) and not os.path.isdir(d):
        raise InputError("exists and is not a directory", path=d)
    for p in (os.path.join(d, "frame_0000.png"), os.path.join(d, CONTROLS_FILE)):
        if os.path.lexists(p):
            raise OutputExistsError("already holds a recording; choose a new directory", path=d)
    if os.path.isdir(d):
        if not os.access(d, os.W_OK | os.X_OK):
            raise InputError("cannot write: permission denied", path=d)
        return False
    try:
        os.makedirs(d)
    except OSError as e:
        why = "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e))
        raise InputError(f"cannot create the recording directory: {why}", path=d) from None
    return True


def record(camera: Camera, directory: str, *, frames: int, warmup: int | str = "auto", log=None) -> Recording:
    """Save ``frames`` raw frames as ``DIR/frame_%04d.png`` (+ ``DIR/controls.json``).

    The directory may exist but must not already hold a recording; on any failure (or Ctrl-C)
    the frames written so far are removed again, and the directory too if this call created it.
    The camera is closed on return.
    """
    if not isinstance(frames, int) or frames < 1 or frames > 100_000:
        camera.close()
        raise InputError(f"--frames {frames!r}: must be between 1 and 100000")
    d = os.fspath(directory)
    try:
        created = _prepare_directory(d)
    except BaseException:
        camera.close()
        raise
    controls_path = os.path.join(d, CONTROLS_FILE)
    written: list[str] = []
    try:
        with camera:
            info = camera.info
            wres, kept = warm_up(camera, warmup)
            if wres.message and log:
                log(wres.message)
            prof = PROFILES.get(info.backend)
            raw = {name: camera.get(name) for name in sorted(prof.controls)} if prof else {}
            digests = []
            for i in range(frames):
                frame = kept.pop(0) if kept else camera.read()
                data = png.encode_png(frame)
                path = os.path.join(d, f"frame_{i:04d}.png")
                png.write_new(path, data)
                written.append(path)
                digests.append(file_sha256(data))
            doc = {"kind": RECORDING_KIND, "device": info.to_json(), "pattern": "frame_%04d.png",
                   "frames": frames, "warmup": {"mode": wres.mode, "frames_discarded": wres.discarded,
                                                "settled": wres.settled, "message": wres.message},
                   "raw_controls": raw, "quirks": quirks_for(info.backend), "sha256": digests,
                   "software": software_versions(),
                   "time": {"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")}}
            png.write_new(controls_path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
            written.append(controls_path)
    except BaseException:
        for p in written:
            try:
                os.unlink(p)
            except OSError:
                pass
        if created:
            try:
                os.rmdir(d)
            except OSError:
                pass
        raise
    return Recording(d, os.path.join(d, "frame_%04d.png"), frames, controls_path, tuple(digests), wres.settled,
                     wres.discarded)


def read_recording_info(device: str) -> dict | None:
    """``controls.json`` of the recording a ``--device`` pattern replays, or None (bounded to 4 MiB)."""
    path = os.path.join(os.path.dirname(os.fspath(device)) or ".", CONTROLS_FILE)
    try:
        doc = read_json(path, what=CONTROLS_FILE, max_bytes=4 << 20)
    except InputError:
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == RECORDING_KIND else None


def device_identity(info) -> str:
    """Which physical device frames come from: the camera itself, or the camera a recording was made with."""
    if info.kind == "recording":
        doc = read_recording_info(info.device)
        dev = (doc or {}).get("device")
        if isinstance(dev, dict) and isinstance(dev.get("device"), str):
            return dev["device"]
    return info.device


def recording_warning(device: str) -> str | None:
    """A warning when the recording ``device`` replays was made before its camera settled."""
    doc = read_recording_info(device)
    if doc is None:
        return None
    w = doc.get("warmup") or {}
    if w.get("settled") is False:
        return (f"{device}: this recording was made before the camera settled (warm-up of "
                f"{w.get('frames_discarded', '?')} frames did not stabilise); shots from it may differ from "
                "a settled camera's")
    return None


__all__ = ["CONTROLS_FILE", "RECORDING_KIND", "Recording", "device_identity", "read_recording_info", "record", "recording_warning"]

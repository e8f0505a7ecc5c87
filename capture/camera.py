"""The one Camera interface every capture device implements.

Modelled on python-microscope's device ABC: the public methods validate their arguments and the
camera's state, then call exactly one private hook that a backend implements:

* :meth:`Camera.read` -> ``_do_read()``: the next frame, or ``None`` when the device delivered
  nothing (lost, busy, recording ended). ``read`` turns ``None`` into a :class:`DeviceLostError`.
* :meth:`Camera.get` -> ``_do_get(name)``: the *raw* backend value of a control (the number the
  driver speaks: a V4L2 menu index, 100 us units, log2 seconds ...), or ``None`` when unreadable.
* :meth:`Camera.set` -> ``_do_set(name, raw)``: write a raw value; returns the driver's bool, which
  callers must not trust (see :mod:`capture.controls`, which reads every value back).

Control names are the keys of :data:`CONTROL_NAMES`; which of them a backend really honours, and
in which units, is the business of the quirk table in :mod:`capture.controls`, not of this class.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from scopecheck.compare.errors import DeviceError, InputError

#: Controls a camera may expose, by backend-neutral name (raw values, see capture.controls).
CONTROL_NAMES = (
    "auto_exposure", "exposure",
    "auto_wb", "wb_temperature",
    "gain",
    "autofocus", "focus",
)


class DeviceLostError(DeviceError):
    """The device stopped delivering frames (unplugged, lost, busy) or a recording ended."""


@dataclass(frozen=True)
class CameraInfo:
    """What a camera is, for the manifest.

    ``kind`` is ``camera`` (a live device), ``recording`` (image sequence or video file replayed
    through ``cv2.VideoCapture``) or ``simulated``. ``backend`` is the quirk-table profile:
    ``v4l2``, ``dshow``, ``msmf``, ``avfoundation``, ``images``, ``file`` or ``gstreamer``.
    """

    device: str
    kind: str
    backend: str
    backend_name: str  # what OpenCV (or the simulator) calls itself, e.g. "V4L2", "CV_IMAGES"
    width: int
    height: int
    fourcc: str | None
    fps: float | None

    def to_json(self) -> dict:
        return {"device": self.device, "kind": self.kind, "backend": self.backend,
                "backend_name": self.backend_name, "size": f"{self.width}x{self.height}",
                "width": self.width, "height": self.height, "fourcc": self.fourcc, "fps": self.fps}


class Camera(ABC):
    """A source of frames with readable/writable controls. Use as a context manager.

    Frames are ``uint8`` or ``uint16`` arrays, ``(h, w)`` gray or ``(h, w, 3)`` BGR, of the size
    :attr:`info` declares.
    """

    #: frames a driver may hold queued; :meth:`flush` discards this many after a control change
    buffer_frames: int = 4
    #: how the device was chosen (``--device name:...``/``usb:...``): the listing entry, for the manifest
    selected: dict | None = None

    def __init__(self):
        self._closed = False
        self.frames_read = 0

    # ------------------------------------------------------------------ public API (validates)
    @property
    @abstractmethod
    def info(self) -> CameraInfo:
        """Device, backend, size, FOURCC and fps as the device reports them now."""

    def read(self) -> np.ndarray:
        """The next frame. Raises :class:`DeviceLostError` when none comes."""
        self._check_open()
        frame = self._do_read()
        if frame is None:
            raise DeviceLostError(self._lost_message())
        if frame.dtype not in (np.uint8, np.uint16) or frame.ndim not in (2, 3):
            raise DeviceError(f"{self.info.device}: unsupported frame {frame.shape} {frame.dtype} "
                              "(expected 8/16-bit gray or BGR)")
        self.frames_read += 1
        return frame

    def get(self, name: str) -> float | None:
        """Raw value of control ``name`` as the driver reports it, ``None`` when unreadable."""
        self._check_open()
        self._check_name(name)
        value = self._do_get(name)
        if value is None or not math.isfinite(value):
            return None
        return float(value)

    def set(self, name: str, raw: float) -> bool:
        """Write raw value ``raw`` to control ``name``; returns the driver's (untrusted) answer."""
        self._check_open()
        self._check_name(name)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise InputError(f"control {name}: value must be a finite number, got {raw!r}")
        return bool(self._do_set(name, float(raw)))

    def flush(self, count: int | None = None) -> int:
        """Read and discard ``count`` (default :attr:`buffer_frames`) queued frames.

        Call after any control change: the frames already queued were exposed with the old
        settings. Returns the number of frames discarded.
        """
        self._check_open()
        n = self.buffer_frames if count is None else int(count)
        if n < 0:
            raise InputError(f"flush count must be >= 0, got {n}")
        for _ in range(n):
            self.read()
        return n

    def reconnect(self) -> None:
        """Reopen a device that was lost (unplugged and plugged back); raises DeviceError if it stays away.

        What the device remembers across the reconnect is the device's business: UVC cameras
        usually keep their controls, some forget them (check them afterwards).
        """
        self._check_open()
        self._do_reconnect()

    def _do_reconnect(self) -> None:
        raise DeviceError(f"{self.info.device}: this kind of device cannot be reopened")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._do_close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------ backend hooks
    @abstractmethod
    def _do_read(self) -> np.ndarray | None:
        """Next frame or None."""

    @abstractmethod
    def _do_get(self, name: str) -> float | None:
        """Raw control value or None."""

    @abstractmethod
    def _do_set(self, name: str, raw: float) -> bool:
        """Write a raw control value; return what the driver answered."""

    def _do_close(self) -> None:
        """Release the device."""

    def _lost_message(self) -> str:
        info = self.info
        if info.kind == "recording":
            return (f"recording {info.device} ended after {self.frames_read} frame(s); "
                    "record more frames or lower --frames/--warmup")
        return (f"device {info.device} stopped delivering frames after {self.frames_read} frame(s) "
                "(unplugged, lost or busy); reconnect it and retry")

    # ------------------------------------------------------------------ helpers
    def _check_open(self):
        if self._closed:
            raise DeviceError("camera is closed; open it again")

    @staticmethod
    def _check_name(name: str):
        if name not in CONTROL_NAMES:
            raise InputError(f"unknown control {name!r}; known: {', '.join(CONTROL_NAMES)}")

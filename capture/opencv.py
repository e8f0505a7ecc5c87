"""The OpenCV camera: the only user of ``cv2.VideoCapture`` in scopecheck.

``device`` may be

* a camera index (``0``) or a device path (``/dev/video2``): a live camera;
* an image-sequence pattern (``rec/frame_%04d.png``): a recording, opened with ``CAP_IMAGES``;
* a video file (``rec.avi``): a recording, opened with OpenCV's default file backend.

Recordings go through the very same ``VideoCapture`` read path as cameras, so the whole pipeline is
tested without hardware. For cameras, ``backend`` picks OpenCV's API (``auto``, ``v4l2``, ``dshow``,
``msmf``, ``avfoundation``); ``fourcc`` is applied first (it restarts the stream), then width *and*
height together, then fps, each read back and recorded in :attr:`OpenCVCamera.format_outcomes`.
"""
from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Callable

import cv2
import numpy as np

from scopecheck.compare.errors import DeviceError, InputError

from .camera import Camera, CameraInfo
from .controls import ControlOutcome

try:  # OpenCV's own warnings ("can't open camera by index") would duplicate our one-line errors
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
except AttributeError:  # pragma: no cover - older OpenCV builds
    pass

BACKENDS = {"auto": cv2.CAP_ANY, "v4l2": cv2.CAP_V4L2, "dshow": cv2.CAP_DSHOW, "msmf": cv2.CAP_MSMF,
            "avfoundation": cv2.CAP_AVFOUNDATION}
FOURCCS = ("MJPG", "YUYV")
_FIRST_READ_ATTEMPTS = 20  # x 50 ms: how long a freshly opened camera may take to deliver a frame
_PROPS = {
    "auto_exposure": cv2.CAP_PROP_AUTO_EXPOSURE, "exposure": cv2.CAP_PROP_EXPOSURE,
    "auto_wb": cv2.CAP_PROP_AUTO_WB, "wb_temperature": cv2.CAP_PROP_WB_TEMPERATURE,
    "gain": cv2.CAP_PROP_GAIN, "autofocus": cv2.CAP_PROP_AUTOFOCUS, "focus": cv2.CAP_PROP_FOCUS,
}
_PROFILE_OF = {"V4L2": "v4l2", "V4L": "v4l2", "DSHOW": "dshow", "MSMF": "msmf", "AVFOUNDATION": "avfoundation",
               "CV_IMAGES": "images", "GSTREAMER": "gstreamer"}


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"640x480"`` -> ``(640, 480)``; None stays None."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(text))
    if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
        raise InputError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x720")
    return int(m.group(1)), int(m.group(2))


def classify(device: str | int) -> tuple[str, str | int]:
    """``(kind, target)`` for a ``--device`` value: kind is index, path, sequence or file."""
    if isinstance(device, int):
        return "index", device
    d = str(device).strip()
    if re.fullmatch(r"\d+", d):
        return "index", int(d)
    if "%" in d:
        return "sequence", d
    if d.startswith("/dev/"):
        return "path", d
    return "file", d


def _fourcc_text(value: float) -> str | None:
    v = int(value)
    if v <= 0:
        return None
    text = "".join(chr((v >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else None


def _first_sequence_frame(pattern: str) -> int | None:
    """The index of a sequence's first frame file (OpenCV's image backend starts at 0, 1 or 2)."""
    try:
        candidates = [pattern % i for i in range(0, 3)]
    except (TypeError, ValueError):
        raise InputError(f"--device {pattern!r}: an image-sequence pattern needs one integer field "
                         "such as %04d") from None
    for i, c in enumerate(candidates):
        if os.path.isfile(c):
            return i
    return None


def _guard_frame(path: str) -> None:
    """A recording's frame file passes the same guard as every image :mod:`compare.load` decodes
    (bytes, structure, pixels), before OpenCV's image backend reads it: a hostile frame is one
    clear error, never a decoder crash or a hang. A missing file is the recording's end."""
    from scopecheck.compare.load import check_header, read_file

    if os.path.isfile(path):
        data, _ = read_file(path)
        check_header(data, path=path)


class OpenCVCamera(Camera):
    """A camera or recording read through ``cv2.VideoCapture``. See the module docstring."""

    def __init__(self, device: str | int, *, backend: str = "auto", size: tuple[int, int] | None = None,
                 fourcc: str | None = None, fps: float | None = None):
        super().__init__()
        if backend not in BACKENDS:
            raise InputError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")
        if fourcc is not None:
            fourcc = fourcc.upper()
            if fourcc not in FOURCCS:
                raise InputError(f"--fourcc {fourcc!r}: use MJPG or YUYV")
        if fps is not None and not (0 < fps <= 1000):
            raise InputError(f"--fps {fps!r}: must be between 0 and 1000")
        kind, target = classify(device)
        self.device = str(device)
        self.kind = "camera" if kind in ("index", "path") else "recording"
        self.format_outcomes: tuple[ControlOutcome, ...] = ()
        if self.kind == "recording" and backend != "auto":
            raise InputError(f"--backend {backend} applies to cameras; {self.device} is a recording")
        self._next_frame: int | None = None  # a sequence's next frame index (its file is guarded first)
        if kind == "sequence":
            first = _first_sequence_frame(str(target))
            if first is None:
                raise DeviceError(f"no recording at {target}: no frame file matches the pattern "
                                  f"(looked for {target % 0} and {target % 1}); check the path")
            _guard_frame(str(target) % first)  # opening reads it
            self._next_frame = first
            api = cv2.CAP_IMAGES
        elif kind == "file":
            if not os.path.isfile(target):
                hint = " (a pattern like dir/frame_%04d.png replays an image sequence)" if os.path.isdir(target) else ""
                raise DeviceError(f"no such device or recording: {target}{hint}; pass a camera index, "
                                  "/dev/videoN, an image-sequence pattern or a video file")
            api = cv2.CAP_ANY
        else:
            if kind == "path" and not os.path.exists(target):
                found = sorted(glob.glob("/dev/video*"))
                raise DeviceError(f"no such device: {target} (present: {', '.join(found) or 'none'})")
            api = BACKENDS[backend]
            if api != cv2.CAP_ANY and not cv2.videoio_registry.hasBackend(api):
                raise DeviceError(f"this OpenCV build has no {backend} backend; try --backend auto")
        self._target, self._api, self._format = target, api, (size, fourcc, fps)
        self.relocate: Callable[[], str] | None = None  # set by devices.open_device for name:/usb: specs: where is it now?
        try:
            self._cap = cv2.VideoCapture(target, api)
        except cv2.error as e:
            raise DeviceError(f"cannot open {self.device}: {str(e).strip().splitlines()[-1]}") from None
        if not self._cap.isOpened():
            self._cap.release()
            if self.kind == "camera":
                node = target if kind == "path" else f"/dev/video{target}"
                if os.path.exists(node) and not os.access(node, os.R_OK | os.W_OK):
                    raise DeviceError(f"cannot open camera {self.device}: permission denied on {node}; add "
                                      "your user to the 'video' group (then log in again)")
                if os.path.exists(node):
                    raise DeviceError(f"cannot open camera {self.device} (backend {backend}): {node} exists but "
                                      "is busy or not a capture device; close other programs using it")
                raise DeviceError(f"cannot open camera {self.device} (backend {backend}): absent or busy; "
                                  "check the cable and close other programs using it")
            raise DeviceError(f"cannot open recording {self.device}: OpenCV cannot decode it")
        name = self._cap.getBackendName()
        self.backend_name = name
        if self.kind == "recording":
            self.backend = "images" if name == "CV_IMAGES" else "file"
            self.buffer_frames = 0
        else:
            self.backend = _PROFILE_OF.get(name, "gstreamer")
            rb = self._cap.get(cv2.CAP_PROP_BUFFERSIZE)
            self.buffer_frames = int(rb) if rb and rb > 0 else 4
        self.format_outcomes = self._apply_format(size, fourcc, fps)

    # ------------------------------------------------------------------ format
    def _apply_format(self, size, fourcc, fps) -> tuple[ControlOutcome, ...]:
        out = []
        cap = self._cap
        if self.kind == "recording":
            for control, req in (("fourcc", fourcc), ("size", size), ("fps", fps)):
                if req is not None:
                    label = f"{req[0]}x{req[1]}" if control == "size" else req
                    out.append(ControlOutcome(control=control, requested=label, status="unsupported",
                                              note="a recording plays back as recorded"))
            return tuple(out)
        if fourcc is not None:
            ok = cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fourcc))
            rb = _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
            out.append(ControlOutcome(control="fourcc", requested=fourcc, readback=rb, set_returned=ok,
                                      status="set" if rb == fourcc else "refused",
                                      note="stream restarted; queued frames flushed"))
            self.flush()
        if size is not None:
            ok_w = cap.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
            ok_h = cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
            w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
            out.append(ControlOutcome(control="size", requested=f"{size[0]}x{size[1]}", readback=f"{w}x{h}",
                                      set_returned=ok_w and ok_h,
                                      status="set" if (w, h) == tuple(size) else "refused",
                                      note="" if (w, h) == tuple(size) else "the camera chose the nearest mode it offers"))
            self.flush()
        if fps is not None:
            ok = cap.set(cv2.CAP_PROP_FPS, fps)
            rb_fps = cap.get(cv2.CAP_PROP_FPS)
            out.append(ControlOutcome(control="fps", requested=fps, readback=rb_fps, set_returned=ok,
                                      status="set" if rb_fps and abs(rb_fps - fps) <= 0.01 * fps else "refused"))
        return tuple(out)

    # ------------------------------------------------------------------ Camera hooks
    @property
    def info(self) -> CameraInfo:
        cap = self._cap
        fps = cap.get(cv2.CAP_PROP_FPS) if not self._closed else 0.0
        return CameraInfo(device=self.device, kind=self.kind, backend=self.backend,
                          backend_name=self.backend_name,
                          width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) if not self._closed else 0,
                          height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) if not self._closed else 0,
                          fourcc=_fourcc_text(cap.get(cv2.CAP_PROP_FOURCC)) if not self._closed else None,
                          fps=float(fps) if fps and fps > 0 else None)

    def _do_read(self) -> np.ndarray | None:
        # A camera that was just opened (or restarted by a FOURCC change) may need a moment before
        # its first frame; later failures mean the device is gone. Recordings never wait.
        attempts = _FIRST_READ_ATTEMPTS if self.kind == "camera" and self.frames_read == 0 else 1
        if self._next_frame is not None:
            _guard_frame(str(self._target) % self._next_frame)
            self._next_frame += 1
        for attempt in range(attempts):
            try:
                ok, frame = self._cap.read()
            except cv2.error:
                ok, frame = False, None
            if ok and frame is not None:
                break
            if attempt + 1 < attempts:
                time.sleep(0.05)
        else:
            return None
        if frame.ndim == 3 and frame.shape[2] == 1:
            frame = frame[:, :, 0]
        if frame.ndim == 3 and frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        return frame

    def _do_get(self, name):
        if self.kind == "recording":
            return None
        v = self._cap.get(_PROPS[name])
        if self.backend == "v4l2" and v == -1.0:
            return None
        return v

    def _do_set(self, name, raw):
        if self.kind == "recording":
            return False
        return self._cap.set(_PROPS[name], raw)

    def _do_reconnect(self, *, attempts: int = 10, wait: float = 0.5):
        """Release and reopen the same target (index or path), then apply the stream format again."""
        if self.kind == "recording":
            raise DeviceError(f"{self.device}: a recording that ended cannot be reopened")
        self._cap.release()
        for _ in range(attempts):
            if self.relocate is not None:  # a camera chosen by name may come back under another index
                try:
                    self._target = classify(self.relocate())[1]
                except DeviceError:
                    time.sleep(wait)
                    continue
            self._cap = cv2.VideoCapture(self._target, self._api)
            if self._cap.isOpened():
                self.frames_read = 0  # the first read may wait again
                self.format_outcomes = self._apply_format(*self._format)
                return
            self._cap.release()
            time.sleep(wait)
        raise DeviceError(f"{self.device}: not back after {attempts * wait:.0f} s")

    def _do_close(self):
        self._cap.release()

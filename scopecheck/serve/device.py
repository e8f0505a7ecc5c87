"""One owner for the capture device while ``scopecheck serve`` runs.

A single thread reads the live view; every other use of the device (a shot, a control change, a
status read) takes the same lock, so any number of browsers can watch and shoot at once without
two readers on one camera. A shot closes the live camera and runs
:func:`capture.session.capture_series` on a freshly opened one -- exactly what ``scopecheck
capture`` does (warm-up, lock, stack, deterministic PNG, manifest, restore) -- then the live view
reopens.

When the device stops delivering (a recording that ended, a camera unplugged) the live thread
records a message, closes the camera and reopens it after ``reopen_delay`` seconds, for as long as
the server runs; the message stays in :meth:`DeviceOwner.status` until frames flow again.
:meth:`DeviceOwner.close` (on Ctrl-C) stops the thread, restores every control the workstation
changed and releases the camera.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from scopecheck.compare.errors import InputError, ScopecheckError

from .pictures import LiveFrame, live_frame

STATES = ("opening", "live", "lost", "shooting", "closed")


@dataclass(frozen=True)
class DeviceStatus:
    """What the live view shows above the picture."""

    device: str
    state: str              # one of STATES
    message: str | None     # why there is no picture, or what just happened (recording restarted ...)
    camera: dict | None     # CameraInfo.to_json() of the open camera (as in `scopecheck controls --json`)
    frames: int             # live frames delivered since the server started
    reopened: int           # times the device was reopened after it was lost
    controls: tuple[dict, ...]  # per user control: the request shots use, the last outcome, as found

    def to_json(self) -> dict:
        return {"device": self.device, "state": self.state, "message": self.message, "camera": self.camera,
                "frames": self.frames, "reopened": self.reopened, "controls": list(self.controls)}


class DeviceOwner:
    """See the module docstring. ``opener(device)`` returns a :class:`capture.camera.Camera`."""

    def __init__(self, device: str, *, opener=None, fps: float = 8.0, reopen_delay: float = 1.0,
                 max_side: int = 1280, log=None):
        from scopecheck.capture.controls import USER_CONTROLS, Request
        from scopecheck.capture.session import open_device

        if not 0 < fps <= 60:  # NaN too (an unthrottled live view)
            raise InputError(f"live view fps {fps!r}: must be within (0, 60]")
        self.device = device
        self.opener = opener or open_device
        self.fps = fps
        self.reopen_delay = reopen_delay
        self.max_side = max_side
        self.log = log or (lambda msg: None)
        self.requests = {c: Request.parse(c, "lock") for c in USER_CONTROLS}
        self.outcomes: dict[str, dict] = {}    # last outcome applied here or recorded by the last shot
        self.found: dict[str, dict] = {}       # read back (mode leave) when the device was opened
        self._lock = threading.RLock()          # the device: one user at a time
        self._frame_ready = threading.Condition()
        self._stop = threading.Event()
        self._cam: Any = None                   # the live Camera
        self._controls: Any = None              # its ControlSession (what to restore on close)
        self._info: dict | None = None          # its CameraInfo.to_json()
        self._state = "opening"
        self._message: str | None = None
        self._latest: LiveFrame | None = None
        self._frames = 0
        self._reopened = 0
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> DeviceOwner:
        self._thread = threading.Thread(target=self._run, name="scopecheck-live", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the live view, restore the controls changed here, release the camera."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        with self._lock:
            self._release()
            self._state = "closed"
        with self._frame_ready:
            self._frame_ready.notify_all()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def _open(self) -> None:
        from scopecheck.capture.controls import ControlSession, Request

        cam = self._cam = self.opener(self.device)
        cs = self._controls = ControlSession(cam)
        self._info = cam.info.to_json()
        # read every control back as found (no write), so the table is honest before any change
        found = cs.apply([Request.parse(c, "leave") for c in self.requests])
        self.found = {o.control: o.to_json() for o in found}

    def _release(self) -> None:
        cam, cs = self._cam, self._controls
        self._cam = self._controls = self._info = None
        if cam is None:
            return
        try:
            if cs is not None and cs.changed:
                failed = [r.name for r in cs.restore() if not r.ok]
                if failed:
                    self.log(f"could not restore {', '.join(failed)}; check them with scopecheck controls")
        except ScopecheckError as e:
            self.log(f"restoring controls: {e}")
        finally:
            try:
                cam.close()
            except Exception as e:  # noqa: BLE001 - a dying driver must not stop the server
                self.log(f"closing the device: {e}")

    # ------------------------------------------------------------------ the live thread
    def _run(self) -> None:
        period = 1.0 / self.fps
        while not self._stop.is_set():
            t0 = time.monotonic()
            frame = None
            with self._lock:
                if self._cam is None:
                    try:
                        self._open()
                        if self._state == "lost":
                            self._reopened += 1
                        self._state = "opening"
                    except ScopecheckError as e:
                        self._lost(f"cannot open {self.device}: {e}; retrying every {self.reopen_delay:g} s")
                if self._cam is not None:
                    try:
                        frame = self._cam.read()
                    except ScopecheckError as e:
                        self._lost(f"{e}; reopening {self.device}")
                        self._release()
            if frame is not None:
                lf = live_frame(frame, seq=self._frames + 1, time=time.time(), max_side=self.max_side)
                with self._frame_ready:
                    self._frames += 1
                    self._latest = lf
                    if self._state in ("opening", "lost"):
                        self._state = "live"
                        self._message = None if not self._reopened else (
                            f"device reopened ({self._reopened} time(s)) after: {self._last_loss}")
                    self._frame_ready.notify_all()
                self._stop.wait(max(0.0, period - (time.monotonic() - t0)))
            else:
                self._stop.wait(self.reopen_delay)

    _last_loss = ""

    def _lost(self, message: str) -> None:
        self._state = "lost"
        self._message = message
        self._last_loss = message
        self.log(message)

    # ------------------------------------------------------------------ readers
    def latest(self) -> LiveFrame | None:
        return self._latest

    def wait_frame(self, after: int = 0, *, timeout: float = 5.0) -> LiveFrame | None:
        """The first live frame with ``seq > after``, or None after ``timeout`` s (or on close)."""
        deadline = time.monotonic() + timeout
        with self._frame_ready:
            while not self._stop.is_set():
                lf = self._latest
                if lf is not None and lf.seq > after:
                    return lf
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._frame_ready.wait(left)
        return None

    def status(self) -> DeviceStatus:
        info = self._info  # read at open: never ask a camera the live thread may be releasing
        rows = tuple({"control": c, "requested": r.label, "outcome": self.outcomes.get(c),
                      "found": self.found.get(c)} for c, r in self.requests.items())
        return DeviceStatus(self.device, self._state, self._message, info, self._frames, self._reopened, rows)

    # ------------------------------------------------------------------ actions
    def set_control(self, control: str, mode: str | float) -> dict:
        """Request ``mode`` (auto, lock, leave or a number) for ``control`` now and for later shots.

        Applied to the live camera with :class:`capture.controls.ControlSession` (automatic loop
        on, a short warm-up for ``lock``, then lock/set and read back); returns the recorded
        outcome (``ControlOutcome.to_json()``) with its honest status.
        """
        from scopecheck.capture.controls import Request
        from scopecheck.capture.stack import warm_up

        req = Request.parse(control, mode)
        with self._lock:
            if self._cam is None:
                raise InputError(f"{self.device}: no device open ({self._message or 'opening'}); try again")
            self._controls.prepare([req])
            if req.mode == "lock":
                warm_up(self._cam, "auto", cap=60)
            outcome = self._controls.apply([req])[0].to_json()
            if self._controls.changed:
                self._cam.flush()
            self.requests[control] = req
            self.outcomes[control] = outcome
        return outcome

    def shoot(self, template: str, options) -> object:
        """One shot into ``template`` (``{n}`` name template) with ``options`` (CaptureOptions).

        The live camera is released (its settings restored), :func:`capture.session.capture_series`
        runs on a freshly opened device, and the live view reopens. Returns the :class:`Shot`.
        """
        from dataclasses import replace

        from scopecheck.capture.session import capture_series

        with self._lock:
            if self.closed:
                raise InputError("the server is shutting down")
            self._release()
            self._state, self._message = "shooting", None
            try:
                opts = replace(options, controls=tuple(self.requests.values()))
                shot = capture_series(self.opener(self.device), template, opts, count=1, log=self.log)[0]
                self.outcomes.update({o.control: o.to_json() for o in shot.controls if o.control in self.requests})
                return shot
            except ScopecheckError as e:
                self._message = f"shot failed: {e}"
                raise
            finally:
                if self._state == "shooting":
                    self._state = "opening"

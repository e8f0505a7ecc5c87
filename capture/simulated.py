"""A simulated UVC microscope camera (pure Python) that misbehaves the way real drivers do.

Frames come from :mod:`capture.sensor` (a real micrograph through the documented sensor model).
The simulation is deterministic for a given ``seed``. It models, per backend ``profile``:

* **Auto exposure / auto white balance that drift until locked**: while auto is on, the exposure
  starts ``ae_start`` times too bright and converges geometrically (factor ``ae_settle`` per frame)
  to the loop's target, then keeps wandering by ``ae_wander`` (relative, per frame). White balance
  does the same around 5000 K.
* **Writes accepted / ignored / clamped** with the backend's raw units:

  ============  ===================================  ================================================
  profile       auto exposure                        exposure value
  ============  ===================================  ================================================
  v4l2          menu index: 1 manual, 3 auto;        100 us units, clamped to [1, 5000]; a write
                0.25/0.75 return True and are        while auto is on returns True and is ignored
                ignored (legacy values)
  dshow         not readable (-1); set() returns     log2 s integers clamped to [-13, -1]; writing
                False; writing exposure turns auto   it switches to manual
                off
  msmf          any non-zero value = auto            log2 s integers clamped to [-11, -1]; while
                                                     auto, get() returns the default (-6), not the
                                                     current value (``readback="until_written"``:
                                                     until the first write, even with auto off)
  avfoundation  nothing: get() -> None, set() -> False
  ============  ===================================  ================================================

* **Stale buffered frames**: ``buffer_frames`` frames are queued; after a control change the next
  ``buffer_frames`` reads still show the old settings.
* **Repeated buffers**: every ``repeat_every``-th read returns the previous frame again.
* **Sensor noise** (shot + read noise of :class:`capture.sensor.SensorModel`).
* **Device lost** after ``lose_after`` reads: reads return nothing, for good. **Lost and found**:
  at read ``drop_at`` the device disappears once; :meth:`~Camera.reconnect` brings it back.
  With ``forget`` the camera comes back with its power-on settings (automatic loops on, defaults),
  as some UVC cameras do after a replug; without it, it keeps them (as most UVC cameras do).
* **Fresh noise per open**: without ``seed`` every camera draws a new seed (recorded in
  :attr:`seed` and the manifest), so two captures are near-identical, not identical files;
  ``seed=N`` makes every frame reproducible.
* **Vignetting and black level** for dark/flat tests: ``vignette=V`` darkens the field towards the
  corners as ``1 - V * (r / r_corner)**2``; ``black=B`` adds a black level of B DN; scenes
  ``blank`` (a uniform bright field, for flat references) and ``dark`` (lens capped).

A device spec for the command line: ``sim`` or ``sim:PROFILE[?key=value&...]`` with keys
``seed``, ``scene``, ``size`` (WxH), ``lose_after``, ``drop_at``, ``forget``, ``repeat_every``,
``buffer``, ``gray``, ``ae_start``, ``readback`` (``auto`` or ``until_written``), ``vignette``,
``black``, ``ae_wander`` (relative drift per frame of the automatic exposure), ``ae_bias`` (the camera's own exposure loop settles this many times too bright, e.g. 1.6
clips), e.g. ``sim:msmf?seed=3&lose_after=20``.
"""
from __future__ import annotations

import math
import secrets
from collections import deque
from urllib.parse import parse_qs

import numpy as np

from scopecheck.compare.errors import InputError

from . import sensor
from .camera import Camera, CameraInfo

_PROFILES = ("v4l2", "dshow", "msmf", "avfoundation")
_TARGET_MS = {"v4l2": 20.0, "dshow": 31.25, "msmf": 31.25, "avfoundation": 20.0}
_MSMF_DEFAULT_EXPOSURE = -6.0
_MSMF_DEFAULT_WB = 4600.0
_SCENES: dict[str, np.ndarray] = {}


def _scene(name: str) -> np.ndarray:
    if name not in _SCENES:
        _SCENES[name] = sensor.load_scene(name)
    return _SCENES[name]


def _wb_gains(kelvin: float) -> tuple[float, float, float]:
    """Per-channel (B, G, R) gains of a white-balance setting; 5000 K is neutral."""
    r = kelvin / 5000.0
    return (float(np.clip(r ** 0.5, 0.5, 1.5)), 1.0, float(np.clip(r ** -0.5, 0.5, 1.5)))


class SimulatedCamera(Camera):
    """See the module docstring. All randomness comes from ``seed``."""

    def __init__(self, profile: str = "v4l2", *, seed: int | None = None, scene: str = "immunohistochemistry",
                 size: tuple[int, int] = (320, 240), origin: tuple[float, float] = (96.0, 128.0),
                 model: sensor.SensorModel = sensor.SensorModel(), buffer_frames: int = 4,
                 repeat_every: int = 0, lose_after: int | None = None, gray: bool = False,
                 ae_start: float = 1.4, ae_settle: float = 0.6, ae_wander: float = 0.002,
                 readback: str = "auto", drop_at: int | None = None, forget: bool = False,
                 vignette: float = 0.0, black: float = 0.0, ae_bias: float = 1.0):
        super().__init__()
        if profile not in _PROFILES:
            raise InputError(f"simulated profile {profile!r} unknown; use one of {', '.join(_PROFILES)}")
        w, h = size
        if w < 8 or h < 8 or w > 4096 or h > 4096:
            raise InputError(f"simulated size {w}x{h} out of range 8..4096")
        if buffer_frames < 0 or repeat_every < 0 or (lose_after is not None and lose_after < 0):
            raise InputError("buffer_frames, repeat_every and lose_after must be >= 0")
        if not 0.0 <= vignette < 1.0 or not 0.0 <= black <= 64.0:
            raise InputError("vignette must be in [0, 1) and black in [0, 64] DN")
        if not 0.1 <= ae_bias <= 10.0:
            raise InputError("ae_bias must be in [0.1, 10]")
        if drop_at is not None and drop_at < 0:
            raise InputError("drop_at must be >= 0")
        if readback not in ("auto", "until_written"):
            raise InputError(f"simulated readback {readback!r}: use auto or until_written")
        self.profile = profile
        self.readback = readback
        self._written: set[str] = set()
        self.size = (int(w), int(h))
        self.model = model
        self.gray = gray
        self.buffer_frames = int(buffer_frames)
        self.repeat_every = int(repeat_every)
        self.lose_after = lose_after
        self.seed = int(secrets.randbits(32)) if seed is None else int(seed)
        self._rng = np.random.default_rng(self.seed)
        self.scene_name = scene
        self._scene = None if scene in ("blank", "dark") else _scene(scene)
        self.drop_at, self.forget, self._dropped = drop_at, bool(forget), False
        self.vignette, self.black = float(vignette), float(black)
        self.reconnects = 0
        self._origin = origin
        self._fields: dict[float, np.ndarray] = {}
        # physical state
        self.nominal_ms = _TARGET_MS[profile]  # the exposure at which the scene renders as calibrated
        self.target_ms = self.nominal_ms * ae_bias  # where the camera's own loop settles
        self.ae_start = ae_start
        self.ae_settle = ae_settle
        self.ae_wander = ae_wander
        self.best_focus = 120.0
        self._power_on()
        self._reads = 0
        self._last: np.ndarray | None = None
        self._queue: deque[np.ndarray] = deque(self._render() for _ in range(self.buffer_frames))
        self.writes: list[tuple[str, float, bool]] = []  # (name, raw, returned) for tests

    def _power_on(self) -> None:
        """The settings a camera has when it is plugged in: automatic loops on, defaults."""
        self.ae_auto = True
        self.exposure_ms = self.target_ms * self.ae_start
        self.wb_auto = True
        self.wb_kelvin = 6500.0
        self.gain = 0.0
        self.af_auto = True
        self.focus = 120.0
        self._written.clear()

    def _do_reconnect(self) -> None:
        if self.lose_after is not None and self._reads >= self.lose_after:
            from scopecheck.compare.errors import DeviceError

            raise DeviceError(f"{self.info.device}: gone for good (lose_after={self.lose_after})")
        self.reconnects += 1
        if self.forget:
            self._power_on()
        self._queue = deque(self._render() for _ in range(self.buffer_frames))
        self._last = None

    @classmethod
    def from_spec(cls, spec: str) -> SimulatedCamera:
        """Build from ``sim[:PROFILE][?key=value&...]`` (see the module docstring)."""
        body = spec[len("sim"):]
        profile, _, query = body.lstrip(":").partition("?")
        kw: dict = {}
        for key, values in parse_qs(query, strict_parsing=False).items():
            v = values[-1]
            try:
                if key in ("seed", "lose_after", "repeat_every", "drop_at"):
                    kw[key] = int(v)
                elif key in ("vignette", "black", "ae_bias", "ae_wander"):
                    kw[key] = float(v)
                elif key == "forget":
                    kw[key] = v not in ("0", "false", "no")
                elif key == "buffer":
                    kw["buffer_frames"] = int(v)
                elif key in ("ae_start",):
                    kw[key] = float(v)
                elif key in ("scene", "readback"):
                    kw[key] = v
                elif key == "gray":
                    kw[key] = v not in ("0", "false", "no")
                elif key == "size":
                    w, h = v.lower().split("x")
                    kw["size"] = (int(w), int(h))
                else:
                    raise InputError(f"simulated device {spec!r}: unknown option {key!r}")
            except ValueError:
                raise InputError(f"simulated device {spec!r}: bad value {v!r} for {key}") from None
        return cls(profile or "v4l2", **kw)

    # ------------------------------------------------------------------ model
    @property
    def info(self) -> CameraInfo:
        return CameraInfo(device=f"sim:{self.profile}", kind="simulated", backend=self.profile,
                          backend_name=f"SIMULATED-{self.profile.upper()}", width=self.size[0],
                          height=self.size[1], fourcc="MJPG" if self.model.jpeg_quality else "YUYV", fps=30.0)

    def _step(self):
        """Advance the automatic loops by one frame."""
        if self.ae_auto:
            err = self.exposure_ms / self.target_ms - 1.0
            err = err * self.ae_settle + self._rng.normal(0.0, self.ae_wander)
            self.exposure_ms = self.target_ms * (1.0 + err)
        if self.wb_auto:
            self.wb_kelvin = 5000.0 + (self.wb_kelvin - 5000.0) * self.ae_settle + self._rng.normal(0.0, 5.0)
        if self.af_auto:
            self.focus = self.best_focus + (self.focus - self.best_focus) * self.ae_settle

    def _field(self) -> np.ndarray:
        blur = round(self.model.optics_blur + abs(self.focus - self.best_focus) / 40.0, 2)
        if blur not in self._fields:
            w, h = self.size
            if self._scene is None:  # blank or dark: no texture, focus does not matter
                f = np.full((h, w, 3), 0.0 if self.scene_name == "dark" else 0.75, np.float32)
            else:
                f = sensor.view(self._scene, origin=self._origin, size=self.size, blur=blur)
            if self.vignette:
                y, x = np.mgrid[0:h, 0:w].astype(np.float32)
                r2 = ((x - (w - 1) / 2) ** 2 + (y - (h - 1) / 2) ** 2) / (((w - 1) / 2) ** 2 + ((h - 1) / 2) ** 2)
                f = f * (1.0 - np.float32(self.vignette) * r2)[:, :, None]
            self._fields[blur] = f
        return self._fields[blur]

    def _render(self) -> np.ndarray:
        mult = (self.exposure_ms / self.nominal_ms) * 2.0 ** (self.gain / 20.0)
        frame = sensor.expose(self._field(), rng=self._rng, model=self.model, exposure=mult,
                              wb=_wb_gains(self.wb_kelvin), black=self.black)
        if self.gray:
            frame = np.ascontiguousarray(frame[:, :, 1])
        return frame

    # ------------------------------------------------------------------ Camera hooks
    def _do_read(self):
        if self.lose_after is not None and self._reads >= self.lose_after:
            return None
        if self.drop_at is not None and not self._dropped and self._reads >= self.drop_at:
            self._dropped = True
            return None
        self._reads += 1
        if self.repeat_every and self._last is not None and self._reads % self.repeat_every == 0:
            return self._last.copy()
        self._step()
        self._queue.append(self._render())
        frame = self._queue.popleft()
        self._last = frame
        return frame.copy()

    def _log2(self, ms: float) -> float:
        return float(round(math.log2(ms / 1000.0)))

    def _do_get(self, name):
        p = self.profile
        if p == "avfoundation":
            return None
        if name == "auto_exposure":
            if p == "v4l2":
                return 3.0 if self.ae_auto else 1.0
            if p == "dshow":
                return -1.0
            return 1.0 if self.ae_auto else 0.0
        if name == "exposure":
            if p == "v4l2":
                return float(round(self.exposure_ms * 10.0))
            if p == "msmf" and self._reports_default("exposure", self.ae_auto):
                return _MSMF_DEFAULT_EXPOSURE
            return self._log2(self.exposure_ms)
        if name == "auto_wb":
            return 1.0 if self.wb_auto else 0.0
        if name == "wb_temperature":
            if p == "msmf" and self._reports_default("wb_temperature", self.wb_auto):
                return _MSMF_DEFAULT_WB
            return float(round(self.wb_kelvin / 10.0) * 10)
        if name == "gain":
            return float(self.gain)
        if name == "autofocus":
            return 1.0 if self.af_auto else 0.0
        if name == "focus":
            return float(round(self.focus))
        return None

    def _reports_default(self, name: str, auto: bool) -> bool:
        if self.readback == "until_written":
            return name not in self._written
        return auto

    def _do_set(self, name, raw):
        ok = self._set(name, raw)
        self._written.add(name)
        self.writes.append((name, raw, ok))
        return ok

    def _set(self, name, raw) -> bool:
        p = self.profile
        if p == "avfoundation":
            return False
        if name == "auto_exposure":
            if p == "v4l2":
                if raw in (0.25, 0.75):
                    return True  # legacy value: accepted and ignored
                if raw not in (1.0, 3.0):
                    return False
                self.ae_auto = raw == 3.0
                return True
            if p == "dshow":
                return False
            self.ae_auto = raw != 0.0
            return True
        if name == "exposure":
            if p == "v4l2":
                if self.ae_auto:
                    return True  # accepted, ignored while auto exposure runs
                self.exposure_ms = float(np.clip(round(raw), 1, 5000)) / 10.0
                return True
            lo = -13 if p == "dshow" else -11
            if p == "dshow":
                self.ae_auto = False
            elif self.ae_auto:
                return True
            self.exposure_ms = 1000.0 * 2.0 ** float(np.clip(round(raw), lo, -1))
            return True
        if name == "auto_wb":
            self.wb_auto = raw != 0.0
            return True
        if name == "wb_temperature":
            if self.wb_auto:
                return True
            self.wb_kelvin = float(np.clip(round(raw / 10.0) * 10, 2800, 6500))
            return True
        if name == "gain":
            self.gain = float(np.clip(raw, 0, 100))
            return True
        if name == "autofocus":
            self.af_auto = raw != 0.0
            return True
        if name == "focus":
            if self.af_auto:
                return True
            self.focus = float(np.clip(round(raw / 5.0) * 5, 0, 250))
            return True
        return False

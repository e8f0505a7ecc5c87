"""One capture session: open, warm up, lock, stack, save PNG + manifest, restore.

Sequence (:class:`CaptureSession`):

1. ``prepare``: switch automatic loops on for controls requested as ``auto`` or ``lock``;
2. warm-up (:func:`capture.stack.warm_up`): N frames, or ``auto`` until brightness is stable;
3. ``apply``: lock / set each control, read back, record (:mod:`capture.controls`);
   if anything was written, flush the queued frames and compare the brightness before and after
   the lock (a jump means the driver's read-back was a default: the lock becomes ``drifted``);
4. stack ``frames`` frames (stale repeats rejected and counted), read the controls back again
   (``drifted`` if they moved);
5. encode a deterministic PNG, compute the digests ``scopecheck compare``/``hash`` report
   (:func:`compare.digest.file_sha256` of the bytes, :func:`compare.digest.pixel_sha256` of the
   pixels), write PNG then manifest without clobbering; if the manifest cannot be written, the PNG
   this session just created is removed again (no partial output, also on Ctrl-C);
6. on close, restore every setting the session changed unless ``keep_settings``.

The manifest (``<name>.manifest.json`` beside ``<name>.png``, ``kind: scopecheck-capture/1``)
holds: ``image`` (file name, sha256, pixel_sha256, size, channels, depth, chunks), ``device``
(device, kind, backend, backend name, size, fourcc, fps), ``controls`` (one outcome per format
setting and control: requested, readback, raw values, status, note), ``quirks`` (the rows of the
quirk table that apply), ``warmup``, ``stack`` (method, frames stacked / rejected / flushed),
``noise`` (temporal sigma of one frame and of the stack, DN on the 8-bit scale), ``software``
(versions) and ``time`` (UTC). Time is only in the manifest, never in the image.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from scopecheck.compare.digest import PIXEL_DIGEST_VERSION, file_sha256, pixel_sha256
from scopecheck.compare.errors import DeviceError, InputError, OutputExistsError

from . import png
from .camera import Camera
from .controls import USER_CONTROLS, ControlOutcome, ControlSession, Request, Restored, frame_check, quirks_for
from .stack import Stacker, StackResult, WarmupResult, channel_means, warm_up

MANIFEST_KIND = "scopecheck-capture/1"
MANIFEST_SUFFIX = ".manifest.json"


def open_device(device: str, *, backend: str = "auto", size: tuple[int, int] | None = None,
                fourcc: str | None = None, fps: float | None = None) -> Camera:
    """A :class:`Camera` for a ``--device`` value: ``sim[:profile...]`` or anything OpenCV opens."""
    d = str(device)
    if d == "sim" or d.startswith("sim:") or d.startswith("sim?"):
        from .simulated import SimulatedCamera

        if backend != "auto" or fourcc or fps:
            raise InputError("--backend/--fourcc/--fps do not apply to a simulated device; "
                             "pick the profile in the spec, e.g. sim:msmf")
        cam = SimulatedCamera.from_spec(d if size is None else f"{d}{'&' if '?' in d else '?'}size={size[0]}x{size[1]}")
        return cam
    from .opencv import OpenCVCamera

    return OpenCVCamera(d, backend=backend, size=size, fourcc=fourcc, fps=fps)


@dataclass(frozen=True)
class CaptureOptions:
    """Everything that changes a shot. Validated on construction."""

    frames: int = 16
    warmup: int | str = "auto"
    method: str = "mean"
    depth: int = 8
    controls: tuple[Request, ...] = field(default_factory=lambda: tuple(Request(c, "lock") for c in USER_CONTROLS))
    keep_settings: bool = False
    overwrite: bool = False
    power_line: str = "leave"  # leave | off | 50 | 60 (V4L2 cameras, through v4l2-ctl)
    warmup_tolerance: float = 0.5
    warmup_k: int = 5
    warmup_cap: int = 150

    def __post_init__(self):
        if not isinstance(self.frames, int) or self.frames < 1:
            raise InputError(f"--frames {self.frames!r}: must be an integer >= 1")
        if self.frames > 100_000:
            raise InputError(f"--frames {self.frames}: more than 100000 frames is not supported")
        if self.method not in ("mean", "median"):
            raise InputError(f"--stack {self.method!r}: use mean or median")
        if self.depth not in (8, 16):
            raise InputError(f"--depth {self.depth!r}: use 8 or 16")
        if self.power_line not in ("leave", "off", "50", "60"):
            raise InputError(f"--power-line {self.power_line!r}: use leave, off, 50 or 60")
        if self.warmup != "auto" and (not isinstance(self.warmup, int) or self.warmup < 0):
            raise InputError(f"--warmup {self.warmup!r}: use auto or a count >= 0")


@dataclass(frozen=True)
class Shot:
    """One saved shot: where it went, its digests and the manifest written beside it."""

    path: str
    manifest_path: str
    sha256: str
    pixel_sha256: str
    width: int
    height: int
    frames_stacked: int
    frames_rejected: int
    warmup_frames: int
    noise_frame: float | None
    noise_stack: float | None
    controls: tuple[ControlOutcome, ...]
    manifest: dict

    def summary(self) -> dict:
        """The ``--json`` document."""
        return {"path": self.path, "manifest": self.manifest_path, "sha256": self.sha256,
                "pixel_sha256": self.pixel_sha256, "width": self.width, "height": self.height,
                "frames": {"stacked": self.frames_stacked, "rejected": self.frames_rejected,
                           "warmup": self.warmup_frames},
                "noise": {"frame_sigma_dn": self.noise_frame, "stack_sigma_dn": self.noise_stack},
                "controls": [c.as_dict() for c in self.controls]}


# --------------------------------------------------------------------------- output names

def manifest_path_for(path: str) -> str:
    root, _ = os.path.splitext(path)
    return root + MANIFEST_SUFFIX


def is_template(output: str) -> bool:
    """Any ``{`` makes ``-o`` a name template; it must then use ``{n}`` (checked by check_output)."""
    return "{" in output


def check_output(output: str) -> None:
    """Validate ``-o`` before any frame is read."""
    if not output.lower().endswith(".png"):
        raise InputError(f"-o {output!r}: the output must be a .png file")
    if is_template(output):
        try:
            a, b = output.format(n=1), output.format(n=2)
        except (KeyError, IndexError, ValueError) as e:
            raise InputError(f"-o {output!r}: bad name template ({e}); use e.g. shot_{{n:03d}}.png") from None
        if a == b:
            raise InputError(f"-o {output!r}: the template must change with n")
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise InputError(f"-o {output!r}: directory {directory} does not exist; create it first")


def next_free(template: str, *, start: int = 1) -> str:
    """First ``template.format(n=k)``, k >= start, whose PNG and manifest are both absent."""
    k = start
    while k < start + 1_000_000:
        p = template.format(n=k)
        if not os.path.lexists(p) and not os.path.lexists(manifest_path_for(p)):
            return p
        k += 1
    raise OutputExistsError(f"no free name for {template!r}")


def _refuse_existing(path: str, overwrite: bool) -> None:
    if overwrite:
        return
    for p in (path, manifest_path_for(path)):
        if os.path.lexists(p):
            raise OutputExistsError("already exists; not overwriting it (pass --overwrite to replace it, "
                                    "or use a name template such as shot_{n:03d}.png)", path=p)


def software_versions() -> dict:
    import cv2

    from scopecheck.compare import __version__

    return {"scopecheck": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "opencv": cv2.__version__, "zlib": zlib.ZLIB_RUNTIME_VERSION, "platform": sys.platform,
            "pixel_digest": PIXEL_DIGEST_VERSION}


# --------------------------------------------------------------------------- the session

class CaptureSession:
    """Warm-up and lock once (:meth:`start`), then :meth:`shoot` one or more times, then close."""

    def __init__(self, camera: Camera, options: CaptureOptions, *, log=None):
        self.camera = camera
        self.options = options
        self.log = log or (lambda msg: None)
        self.controls = ControlSession(camera)
        self.outcomes: tuple[ControlOutcome, ...] = ()
        self.warmup: WarmupResult | None = None
        self.flushed = 0
        self.restored: tuple[Restored, ...] = ()
        self._pending: list[np.ndarray] = []
        self._started = False
        self._power_line_original: int | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _power_line(self) -> tuple[ControlOutcome, ...]:
        want = self.options.power_line
        if want == "leave":
            return ()
        info = self.camera.info
        if info.kind != "camera" or info.backend != "v4l2":
            return (ControlOutcome("power_line_frequency", want, "unsupported", unit="Hz",
                                   note=f"only reachable through v4l2-ctl on a V4L2 camera, not {info.backend}"),)
        from .v4l2 import apply_power_line

        outcome, self._power_line_original = apply_power_line(info.device, want)
        return (outcome,)

    def start(self) -> None:
        o = self.options
        power = self._power_line()
        self.controls.prepare(o.controls)
        prep_writes = self.controls.writes + (1 if self._power_line_original is not None else 0)
        self.warmup, kept = warm_up(self.camera, o.warmup, tolerance=o.warmup_tolerance, k=o.warmup_k,
                                    cap=o.warmup_cap)
        if self.warmup.message:
            self.log(self.warmup.message)
        before = self.warmup.last_channel_means
        outcomes = self.controls.apply(o.controls)
        applied = self.controls.writes > prep_writes
        stale_left = prep_writes > 0 and len(self.warmup.brightness) < self.camera.buffer_frames
        if applied or stale_left:
            # Frames queued before the change were exposed with the old settings.
            self.flushed = self.camera.flush()
            kept = []
            if applied and before:
                frame = self.camera.read()
                outcomes = frame_check(outcomes, before, channel_means(frame))
                kept = [frame]
        self._pending = list(kept)
        self.outcomes = tuple(getattr(self.camera, "format_outcomes", ())) + power + outcomes
        self._started = True

    def stack(self) -> StackResult:
        o = self.options
        s = Stacker(method=o.method, expected=o.frames)
        pending, self._pending = self._pending, []
        for f in pending[: o.frames]:
            s.add(f)
        while s.count < o.frames:
            s.add(self.camera.read())
            if s.rejected > max(o.frames, 16):
                raise DeviceError(f"{self.camera.info.device}: {s.rejected} repeated frames while stacking "
                                  f"{s.count}; the device is not delivering new frames (or the picture is "
                                  "perfectly constant, e.g. a capped lens)")
        return s.result(depth=o.depth)

    def shoot(self, output: str, *, series_index: int | None = None) -> Shot:
        """Stack and save one shot to ``output`` (a path or a ``{n}`` template)."""
        if not self._started:
            self.start()
        check_output(output)
        o = self.options
        path = next_free(output) if is_template(output) else output
        _refuse_existing(path, o.overwrite)
        result = self.stack()
        self.outcomes = self.controls.verify(self.outcomes)
        data = png.encode_png(result.image)
        sha, psha = file_sha256(data), pixel_sha256(result.image)
        info = self.camera.info
        img = result.image
        manifest = {
            "kind": MANIFEST_KIND,
            "image": {"file": os.path.basename(path), "sha256": sha, "pixel_sha256": psha,
                      "width": int(img.shape[1]), "height": int(img.shape[0]),
                      "channels": 1 if img.ndim == 2 else int(img.shape[2]), "depth": o.depth,
                      "format": "png", "png_chunks": ["IHDR", "IDAT", "IEND"],
                      "png_encoder": {"filter": "paeth", **{k: v for k, v in png.ZLIB_SETTINGS.items()}}},
            "device": info.as_dict(),
            "controls": [c.as_dict() for c in self.outcomes],
            "restore_on_exit": not o.keep_settings,
            "quirks": quirks_for(info.backend),
            "warmup": {"mode": self.warmup.mode, "frames_discarded": self.warmup.discarded,
                       "settled": self.warmup.settled, "message": self.warmup.message,
                       "tolerance_dn": o.warmup_tolerance, "window": o.warmup_k},
            "stack": {"method": result.method, "frames_stacked": result.frames_stacked,
                      "frames_rejected": result.frames_rejected, "frames_flushed": self.flushed},
            "noise": {"frame_sigma_dn": _r(result.noise_frame), "stack_sigma_dn": _r(result.noise_stack),
                      "estimator": "std of consecutive-frame differences / sqrt(2), ~64 evenly spaced rows of the first 8 pairs; "
                                   "stack = frame / sqrt(N) (x1.2533 for median)"},
            "software": software_versions(),
            "time": {"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
                     "series_index": series_index},
        }
        manifest_path = manifest_path_for(path)
        text = (json.dumps(manifest, indent=2, sort_keys=False) + "\n").encode("utf-8")
        if is_template(output) and not o.overwrite:
            path, manifest_path = self._write_template(output, path, data, text, manifest)
        else:
            self._write_pair(path, manifest_path, data, text, o.overwrite)
        return Shot(path, manifest_path, sha, psha, int(img.shape[1]), int(img.shape[0]), result.frames_stacked,
                    result.frames_rejected, self.warmup.discarded, result.noise_frame, result.noise_stack,
                    self.outcomes, manifest)

    @staticmethod
    def _write_pair(path, manifest_path, data, text, overwrite):
        png.write_new(path, data, overwrite=overwrite)
        try:
            png.write_new(manifest_path, text, overwrite=overwrite)
        except BaseException:
            try:
                os.unlink(path)
            except OSError:
                pass
            raise

    def _write_template(self, template, path, data, text, manifest):
        """Write at the next free template name, moving on if another writer took it."""
        for _ in range(1000):
            mpath = manifest_path_for(path)
            try:
                if os.path.lexists(mpath):
                    raise OutputExistsError("taken", path=mpath)
                manifest["image"]["file"] = os.path.basename(path)
                body = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
                self._write_pair(path, mpath, data, body, False)
                return path, mpath
            except OutputExistsError:
                path = next_free(template)
        raise OutputExistsError(f"no free name for {template!r}")

    def close(self) -> None:
        try:
            if not self.options.keep_settings and self._power_line_original is not None:
                from .v4l2 import POWER_LINE_ID, set_control

                try:
                    set_control(self.camera.info.device, POWER_LINE_ID, self._power_line_original)
                except DeviceError:
                    self.log("could not restore power_line_frequency; check it with scopecheck controls")
            if not self.options.keep_settings and self.controls.changed:
                self.restored = self.controls.restore()
                failed = [r.name for r in self.restored if not r.ok]
                if failed:
                    self.log(f"could not restore {', '.join(failed)} to the values found at start; check the "
                             "camera's settings (they persist in the device)")
        finally:
            self.camera.close()


def _r(v):
    return None if v is None else round(float(v), 4)


def capture(camera: Camera, output: str, options: CaptureOptions = CaptureOptions(), *, log=None) -> Shot:
    """Take one shot with ``camera`` into ``output``; closes the camera (restoring settings)."""
    check_output(output)
    if not is_template(output):
        _refuse_existing(output, options.overwrite)
    with CaptureSession(camera, options, log=log) as s:
        return s.shoot(output)


def capture_series(camera: Camera, output: str, options: CaptureOptions = CaptureOptions(), *, count: int,
                   interval: float = 0.0, log=None, sleep=time.sleep, on_shot=None) -> list[Shot]:
    """``count`` shots, ``interval`` seconds apart (start to start), controls locked once."""
    if count < 1:
        raise InputError(f"--count {count!r}: must be >= 1")
    if interval < 0:
        raise InputError(f"--interval {interval!r}: must be >= 0")
    check_output(output)
    if count > 1 and not is_template(output):
        raise InputError(f"--count {count} needs a name template for -o, e.g. shot_{{n:03d}}.png "
                         f"(got {output!r})")
    if not is_template(output):
        _refuse_existing(output, options.overwrite)
    shots = []
    with CaptureSession(camera, options, log=log) as s:
        s.start()
        for i in range(count):
            t0 = time.monotonic()
            shot = s.shoot(output, series_index=i)
            shots.append(shot)
            if on_shot:
                on_shot(shot)
            if i + 1 < count and interval > 0:
                sleep(max(0.0, interval - (time.monotonic() - t0)))
    return shots



@dataclass(frozen=True)
class Recording:
    """A recording written by :func:`record`."""

    directory: str
    pattern: str
    frames: int
    controls_path: str
    sha256: tuple[str, ...]


def record(camera: Camera, directory: str, *, frames: int, warmup: int | str = 0, log=None) -> Recording:
    """Save ``frames`` raw frames as ``DIR/frame_%04d.png`` (+ ``DIR/controls.json``).

    The directory may exist but must not already hold a recording; on any failure (or Ctrl-C)
    the frames written so far are removed again, and the directory too if this call created it.
    """
    if not isinstance(frames, int) or frames < 1 or frames > 100_000:
        raise InputError(f"--frames {frames!r}: must be between 1 and 100000")
    d = os.fspath(directory)
    controls_path = os.path.join(d, "controls.json")
    if os.path.exists(d) and not os.path.isdir(d):
        raise InputError(f"{d}: exists and is not a directory")
    for p in (os.path.join(d, "frame_0000.png"), controls_path):
        if os.path.lexists(p):
            raise OutputExistsError("already holds a recording; choose a new directory", path=d)
    created = not os.path.isdir(d)
    written: list[str] = []
    try:
        if created:
            os.makedirs(d)
        with camera:
            info = camera.info
            wres, kept = warm_up(camera, warmup)
            if wres.message and log:
                log(wres.message)
            from .controls import PROFILES

            prof = PROFILES.get(info.backend)
            readable = sorted(prof.controls) if prof else []
            raw = {name: camera.get(name) for name in readable}
            digests = []
            for i in range(frames):
                frame = kept.pop(0) if kept else camera.read()
                data = png.encode_png(frame)
                path = os.path.join(d, f"frame_{i:04d}.png")
                png.write_new(path, data)
                written.append(path)
                digests.append(file_sha256(data))
            doc = {"kind": "scopecheck-recording/1", "device": info.as_dict(), "pattern": "frame_%04d.png",
                   "frames": frames, "warmup": {"mode": wres.mode, "frames_discarded": wres.discarded},
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
    return Recording(d, os.path.join(d, "frame_%04d.png"), frames, controls_path, tuple(digests))

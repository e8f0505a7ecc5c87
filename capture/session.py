"""One capture session: open, warm up, lock, stack, save PNG + manifest, restore.

Sequence (:class:`CaptureSession`):

1. ``prepare``: switch automatic loops on for controls requested as ``auto``, ``lock`` or
   ``auto-freeze``;
2. warm-up (:func:`capture.stack.warm_up`): N frames, or ``auto`` until brightness is stable;
3. ``apply``: lock / set each control, read back, record (:mod:`capture.controls`);
   if anything was written, flush the queued frames and compare the brightness before and after
   the lock (a jump means the driver's read-back was a default: the lock becomes ``drifted``);
   ``auto-freeze`` controls whose camera loop cannot be trusted are settled by scopecheck's own
   loop on the image (:mod:`capture.autofreeze`); saved settings (``--settings``) are re-applied
   and checked (:mod:`capture.settings`);
4. stack ``frames`` frames (stale repeats rejected and counted), with dark/flat correction applied
   to the float mean when references are given (:mod:`capture.flatfield`); read the controls back
   again (``drifted`` if they moved) and check saved settings after every shot; a device lost
   mid-series is reopened (``reconnect`` attempts), its settings checked, re-applied and checked;
5. encode a deterministic PNG, compute the digests, write PNG and manifest together
   (:func:`capture.output.write_pair`: both or neither, also on Ctrl-C);
6. on close, restore every setting the session changed unless ``keep_settings``.

The manifest is described in :mod:`capture.manifest`.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from scopecheck.compare.digest import file_sha256, pixel_sha256
from scopecheck.compare.errors import DeviceError, InputError, OutputExistsError

from . import png
from .camera import Camera, DeviceLostError
from .controls import USER_CONTROLS, ControlOutcome, ControlSession, Request, Restored, frame_check
from .devices import open_device
from .manifest import MANIFEST_KIND, Manifest, shot_manifest, software_versions
from .output import check_output, is_template, manifest_path_for, next_free, refuse_existing, write_pair
from .stack import Stacker, StackResult, WarmupResult, channel_means, warm_up

if TYPE_CHECKING:
    from .flatfield import Correction
    from .settings import SavedSettings

__all__ = ["CaptureOptions", "CaptureSession", "Shot", "capture", "capture_series", "open_device",
           "manifest_path_for", "check_output", "software_versions", "MANIFEST_KIND"]


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
    settings: SavedSettings | None = None  # saved settings to re-apply and check
    save_settings: str | None = None    # write the locked values here after locking
    correction: Correction | None = None  # dark and/or flat references
    reconnect: int = 3                  # attempts to reopen a camera lost mid-series
    reference: str | None = None        # "dark" or "flat": this shot is a correction reference

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
        if self.warmup != "auto" and (not isinstance(self.warmup, int) or not 0 <= self.warmup <= 100_000):
            raise InputError(f"--warmup {self.warmup!r}: use auto or a count from 0 to 100000")
        if self.reference not in (None, "dark", "flat"):
            raise InputError(f"reference {self.reference!r}: use dark or flat")
        if self.reference is not None and self.depth != 16:
            raise InputError("a dark/flat reference is written with --depth 16")
        if not isinstance(self.reconnect, int) or not 0 <= self.reconnect <= 100:
            raise InputError(f"--reconnect {self.reconnect!r}: use 0..100 attempts")


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
    manifest: Manifest
    settings_ok: bool = True

    def to_json(self) -> dict:
        """The ``--json`` document."""
        doc = {"path": self.path, "manifest": self.manifest_path, "sha256": self.sha256,
               "pixel_sha256": self.pixel_sha256, "width": self.width, "height": self.height,
               "frames": {"stacked": self.frames_stacked, "rejected": self.frames_rejected,
                          "warmup": self.warmup_frames},
               "noise": {"frame_sigma_dn": self.noise_frame, "stack_sigma_dn": self.noise_stack},
               "controls": [c.to_json() for c in self.controls], "settings_ok": self.settings_ok}
        m = self.manifest
        for k in ("settings", "correction", "auto_freeze"):
            if getattr(m, k) is not None:
                doc[k] = m.to_json()[k]
        return doc


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
        self.freeze: dict | None = None
        self.settings_log: list[dict] = []
        self.reconnects: list[dict] = []
        self._pending: list[np.ndarray] = []
        self._started = False
        self._power_line_original: int | None = None
        self._requests = self._merge_requests()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _merge_requests(self) -> tuple[Request, ...]:
        reqs = tuple(self.options.controls)
        saved = self.options.settings
        if saved is None:
            return reqs
        from_file = {r.control: r for r in saved.requests()}
        return tuple(from_file.get(r.control, r) for r in reqs)

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
        """Warm up, lock, check; a camera lost meanwhile is reopened and warmed up again."""
        while True:
            try:
                return self._start_once()
            except DeviceLostError as e:
                self._reopen(e)
                self.log(f"{self.camera.info.device} was lost during warm-up and came back; warming up again")
                self.reconnects.append({"shot": None, "during": "warm-up", "found": None, "reapplied": None})

    def _reopen(self, error: DeviceLostError) -> None:
        if self.camera.info.kind == "recording" or len(self.reconnects) >= self.options.reconnect:
            raise error
        try:
            self.camera.reconnect()
        except DeviceError as e:
            raise DeviceError(f"{error}; reconnecting failed: {e}") from None

    def _start_once(self) -> None:
        o = self.options
        if o.correction is not None:  # before any frame: references of another size/device are refused
            o.correction.check_camera(self.camera.info)
        if self.camera.info.kind == "recording":
            from .recording import recording_warning

            warning = recording_warning(self.camera.info.device)
            if warning:
                self.log(warning)
        power = self._power_line()
        self.controls.prepare(self._requests)
        prep_writes = self.controls.writes + (1 if self._power_line_original is not None else 0)
        self.warmup, kept = warm_up(self.camera, o.warmup, tolerance=o.warmup_tolerance, k=o.warmup_k,
                                    cap=o.warmup_cap)
        if self.warmup.message:
            self.log(self.warmup.message)
        before = self.warmup.last_channel_means
        outcomes = self.controls.apply(self._requests)
        applied = self.controls.writes > prep_writes
        stale_left = prep_writes > 0 and len(self.warmup.brightness) < self.camera.buffer_frames
        frame = None
        if applied or stale_left:
            # Frames queued before the change were exposed with the old settings.
            self.flushed = self.camera.flush()
            kept = []
            if applied and before:
                frame = self.camera.read()
                outcomes = frame_check(outcomes, before, channel_means(frame))
                kept = [frame]
        if any(r.mode == "auto-freeze" for r in self._requests):
            from .autofreeze import freeze

            outcomes, self.freeze, flushed = freeze(self.camera, self.controls, outcomes, self._requests,
                                                   settled=self.warmup.settled,
                                                   frame=frame if frame is not None else (kept[-1] if kept else None))
            if flushed:
                self.flushed += flushed
                kept = []
        if o.settings is not None:
            outcomes = o.settings.mark(outcomes)
        self._pending = list(kept)
        self.outcomes = tuple(getattr(self.camera, "format_outcomes", ())) + power + outcomes
        if o.save_settings:
            from .settings import save_settings

            save_settings(o.save_settings, self.outcomes, self.camera.info, overwrite=o.overwrite)
            self.log(f"saved the locked settings to {o.save_settings}")
        self._started = True

    # ------------------------------------------------------------------ settings and reconnects
    def _check_settings(self, when: str) -> bool:
        saved = self.options.settings
        if saved is None:
            return True
        mismatch = saved.check(self.controls)
        self.settings_log.append({"after": when, "mismatch": mismatch})
        if mismatch:
            names = ", ".join(m["control"] for m in mismatch)
            self.log(f"settings differ from {saved.path} after {when}: {names}")
        return not mismatch

    def _reconnect(self, error: DeviceLostError) -> None:
        info = self.camera.info
        self._reopen(error)
        self.log(f"{info.device} was lost and came back (reconnect {len(self.reconnects) + 1} of at most "
                 f"{self.options.reconnect}); checking and re-applying its settings")
        entry: dict = {"shot": self._shot_index, "found": None, "reapplied": None}
        saved = self.options.settings
        found = saved.check(self.controls) if saved is not None else None
        entry["found"] = found
        # The camera may have forgotten everything: apply the locked values again, then check.
        again = tuple(Request(o.control, "value", float(o.readback))
                      for o in self.outcomes if o.control in USER_CONTROLS and o.readback is not None
                      and o.status in ("locked", "set", "mismatch") and isinstance(o.readback, (int, float)))
        outcomes = self.controls.apply(again) if again else ()
        self.flushed += self.camera.flush()
        if saved is not None and found:
            self.log(f"after the reconnect {', '.join(m['control'] for m in found)} differed from "
                     f"{saved.path} (the camera forgot them); re-applied")
        entry["reapplied"] = [o.to_json() for o in outcomes]
        self.reconnects.append(entry)
        self._check_settings(f"reconnect {len(self.reconnects)}")

    def stack(self) -> StackResult:
        while True:
            try:
                return self._stack_once()
            except DeviceLostError as e:
                self._pending = []
                self._reconnect(e)

    def _stack_once(self) -> StackResult:
        o = self.options
        s = Stacker(method=o.method, expected=o.frames)
        pending, self._pending = self._pending, []
        corr = o.correction
        if corr is not None and pending:  # warm-up frames kept for the stack are checked too
            corr.check_frame(pending[0])
        for f in pending[: o.frames]:
            s.add(f)
        while s.count < o.frames:
            frame = self.camera.read()
            if corr is not None and s.count == 0:
                corr.check_frame(frame)
            s.add(frame)
            if s.rejected > max(o.frames, 16):
                raise DeviceError(f"{self.camera.info.device}: {s.rejected} repeated frames while stacking "
                                  f"{s.count}; the device is not delivering new frames (or the picture is "
                                  "perfectly constant, e.g. a capped lens)")
        return s.result(depth=o.depth, correct=corr.apply if corr is not None else None)

    _shot_index = 0

    def shoot(self, output: str, *, series_index: int | None = None) -> Shot:
        """Stack and save one shot to ``output`` (a path or a ``{n}`` template)."""
        self._shot_index = series_index or 0
        if not self._started:
            self.start()
        check_output(output)
        o = self.options
        path = next_free(output) if is_template(output) else output
        refuse_existing(path, o.overwrite)
        result = self.stack()
        self.outcomes = self.controls.verify(self.outcomes)
        ok = self._check_settings(f"shot {(series_index or 0) + 1}")
        ok = ok and not any(c.status == "mismatch" for c in self.outcomes)
        data = png.encode_png(result.image)
        sha, psha = file_sha256(data), pixel_sha256(result.image)
        manifest = self._manifest(path, result, sha, psha, series_index)
        for _ in range(1000):
            mpath = manifest_path_for(path)
            try:
                write_pair(path, data, mpath, manifest.to_bytes(), overwrite=o.overwrite)
                break
            except OutputExistsError:
                if not is_template(output) or o.overwrite:
                    raise
                path = next_free(output)  # another writer took the name: move on
                manifest = manifest.with_file(os.path.basename(path))
        else:  # pragma: no cover
            raise OutputExistsError(f"no free name for {output!r}")
        img = result.image
        assert self.warmup is not None
        return Shot(path, mpath, sha, psha, int(img.shape[1]), int(img.shape[0]), result.frames_stacked,
                    result.frames_rejected, self.warmup.discarded, result.noise_frame, result.noise_stack,
                    self.outcomes, manifest, ok)

    def _manifest(self, path, result, sha, psha, series_index) -> Manifest:
        assert self.warmup is not None  # start() ran
        return shot_manifest(self, os.path.basename(path), result, sha, psha, series_index)

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


def capture(camera: Camera, output: str, options: CaptureOptions = CaptureOptions(), *, log=None) -> Shot:
    """Take one shot with ``camera`` into ``output``; closes the camera (restoring settings)."""
    try:
        check_output(output)
        if not is_template(output):
            refuse_existing(output, options.overwrite)
    except BaseException:
        camera.close()
        raise
    with CaptureSession(camera, options, log=log) as s:
        return s.shoot(output)


MAX_SERIES = 100_000       # shots in one series
MAX_INTERVAL = 7 * 86_400  # seconds between series shots: a week


def check_series(count, interval) -> None:
    """A series' count and interval, bounded before the first shot (``--interval inf`` waited out
    the first shot and then failed; NaN compares false with everything and read as 0)."""
    if not isinstance(count, int) or not 1 <= count <= MAX_SERIES:
        raise InputError(f"--count {count!r}: must be between 1 and {MAX_SERIES}")
    if not (isinstance(interval, (int, float)) and 0 <= interval <= MAX_INTERVAL):
        raise InputError(f"--interval {interval!r}: must be between 0 and {MAX_INTERVAL} seconds (a week)")


def capture_series(camera: Camera, output: str, options: CaptureOptions = CaptureOptions(), *, count: int,
                   interval: float = 0.0, log=None, sleep=time.sleep, on_shot=None) -> list[Shot]:
    """``count`` shots, ``interval`` seconds apart (start to start), controls locked once."""
    try:
        check_series(count, interval)
        check_output(output)
        if count > 1 and not is_template(output):
            raise InputError(f"--count {count} needs a name template for -o, e.g. shot_{{n:03d}}.png "
                             f"(got {output!r})")
        if not is_template(output):
            refuse_existing(output, options.overwrite)
    except BaseException:
        camera.close()
        raise
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


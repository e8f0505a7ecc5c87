"""Camera controls: request -> write -> read back -> record, one status per control.

Users ask for four controls -- ``exposure``, ``white_balance``, ``gain``, ``focus`` -- each as

* ``auto``: switch the automatic loop on and leave it there;
* ``lock``: let the automatic loop settle during warm-up, read the value it chose, switch auto off,
  write the value back (the default: the most repeatable shot the hardware allows). The value is
  read again once auto is off: UVC cameras keep the automatic value, and drivers that read back a
  default in automatic mode report the real one then; if the two differ the latter is locked and
  a note says so;
* a number in the control's user unit (exposure in milliseconds, white balance in kelvin, gain and
  focus in the driver's raw units);
* ``auto-freeze``: like ``lock``, and where the camera's loop cannot be trusted scopecheck runs its
  own loop on the image before locking (:mod:`capture.autofreeze`); the manifest says which;
* ``leave``: do not touch it.

Drivers disagree about units and about what ``VideoCapture.set()``'s ``True`` means, so every write
is read back and each control gets one **status**:

``locked``       lock requested; the driver confirmed auto off *and* the value read back unchanged.
``set``          the requested value (or auto) read back as asked, but a lock could not be
                 confirmed (e.g. the auto flag is unreadable) or none was asked for.
``unsupported``  the backend has no such control, or it cannot be read back.
``refused``      the read-back value (or auto flag) is not what was written -- ignored, clamped,
                 or the driver reports a default instead of the current value.
``drifted``      confirmed at first, but a later read-back (after the stack) or the image
                 brightness shows the setting moved.

A lock is never claimed unless the driver confirmed it. The caller must flush queued frames after
any write (:meth:`ControlSession.changed`), and :meth:`ControlSession.restore` puts every raw value
this session wrote back to what it read before writing (UVC settings persist in the device).

The quirk table and the per-backend profiles live in :mod:`capture.quirks`; this module only reads
them.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from functools import partial

from scopecheck.compare.errors import InputError, ScopecheckError

from .camera import Camera
from .quirks import PROFILES, QUIRKS, Profile, Quirk, profile_for, quirks_for

USER_CONTROLS = ("exposure", "white_balance", "gain", "focus")
MODES = ("auto", "lock", "leave", "auto-freeze")
FREEZING = ("lock", "auto-freeze")  # let the automatic loop settle, then lock what it chose


# --------------------------------------------------------------------------- requests

@dataclass(frozen=True)
class Request:
    """What the user asked for one control: mode ``auto``, ``lock``, ``leave`` or ``value``."""

    control: str
    mode: str
    value: float | None = None

    def __post_init__(self) -> None:
        if (self.mode == "value") != (self.value is not None):
            raise InputError(f"{self.control}: mode {self.mode!r} with value {self.value!r}; a value goes "
                             "with mode 'value' only (use Request.parse)")

    @classmethod
    def parse(cls, control: str, text: str | float) -> Request:
        if control not in USER_CONTROLS:
            raise InputError(f"unknown control {control!r}; known: {', '.join(USER_CONTROLS)}")
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            value = float(text)
        else:
            t = str(text).strip().lower()
            if t in MODES:
                return cls(control, t)
            try:
                value = float(t)
            except ValueError:
                raise InputError(f"--{control.replace('_', '-')} {text!r}: expected auto, lock, auto-freeze, leave or a "
                                 f"number ({USER_UNITS[control]})") from None
        if not math.isfinite(value) or (control in ("exposure", "white_balance") and value <= 0):
            raise InputError(f"--{control.replace('_', '-')} {text!r}: must be a positive finite number "
                             f"({USER_UNITS[control]})")
        lo, hi = USER_RANGES[control]
        if not lo <= value <= hi:  # a driver's integer (an exposure of 1e308 ms overflowed)
            raise InputError(f"--{control.replace('_', '-')} {text!r}: out of range ({lo:g} to {hi:g} "
                             f"{USER_UNITS[control]})")
        return cls(control, "value", value)

    @property
    def label(self) -> str | float:
        return self.mode if self.value is None else self.value  # a value only with mode "value"

    @property
    def number(self) -> float:
        """The requested number (mode ``value``)."""
        if self.value is None:
            raise InputError(f"{self.control}: mode {self.mode!r} has no number")
        return self.value


USER_UNITS = {"exposure": "ms", "white_balance": "K", "gain": "raw", "focus": "raw"}
#: What a number given for a control may be: an exposure up to an hour, a colour temperature up to
#: 100,000 K, a driver's raw gain or focus within a 32-bit integer's range.
USER_RANGES = {"exposure": (0.0, 3_600_000.0), "white_balance": (0.0, 100_000.0),
               "gain": (-2.0 ** 31, 2.0 ** 31 - 1), "focus": (-2.0 ** 31, 2.0 ** 31 - 1)}
_RAW = {  # user control -> (auto flag raw name or None, value raw name)
    "exposure": ("auto_exposure", "exposure"),
    "white_balance": ("auto_wb", "wb_temperature"),
    "gain": (None, "gain"),
    "focus": ("autofocus", "focus"),
}


class ControlStatus(StrEnum):
    """The outcome of one control (see the module docstring); compares equal to its text."""

    LOCKED = "locked"
    SET = "set"
    UNSUPPORTED = "unsupported"
    REFUSED = "refused"
    DRIFTED = "drifted"
    MISMATCH = "mismatch"  # a saved setting (--settings) that did not read back as saved


@dataclass(frozen=True)
class ControlOutcome:
    """The recorded result for one control (or one stream format setting)."""

    control: str
    requested: str | float | None
    status: ControlStatus | str  # coerced to ControlStatus on construction
    unit: str | None = None
    readback: float | str | None = None
    raw_requested: float | None = None
    raw_readback: float | None = None
    auto_readback: bool | None = None
    set_returned: bool | None = None
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "status", ControlStatus(self.status))

    def to_json(self) -> dict:
        d = asdict(self)
        d["status"] = ControlStatus(self.status).value
        return d


STATUSES = tuple(ControlStatus)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= 1e-6 + 0.005 * abs(b)


@dataclass(frozen=True)
class Restored:
    """One raw control put back on exit."""

    name: str
    original: float
    readback: float | None
    ok: bool


class ControlSession:
    """Applies requests to one camera, remembers what it changed, restores it on exit.

    >>> from capture.simulated import SimulatedCamera
    >>> cam = SimulatedCamera(profile="v4l2", seed=1)
    >>> cs = ControlSession(cam)
    >>> cs.prepare([Request.parse("exposure", "lock")])
    >>> _ = [cam.read() for _ in range(30)]          # warm-up: auto exposure settles
    >>> [str(o.status) for o in cs.apply([Request.parse("exposure", "lock")])]
    ['locked']
    >>> _ = cs.restore()
    """

    def __init__(self, camera: Camera, *, profile: Profile | None = None):
        self.camera = camera
        self.profile = profile or profile_for(camera.info.backend)
        self._original: dict[str, float] = {}
        self._order: list[str] = []
        self._snapshot: dict[str, float] | None = None
        self.writes = 0

    # ------------------------------------------------------------------ low level
    def _readable(self, raw_name: str) -> bool:
        return self.profile.supports(raw_name)

    def _get(self, raw_name: str) -> float | None:
        if not self._readable(raw_name):
            return None
        return self.camera.get(raw_name)

    def _take_snapshot(self) -> dict[str, float]:
        """Read every readable raw control once, before the first write (what restore puts back).

        Taken up front because a write changes others: switching auto exposure on moves the
        exposure value, so reading it just before writing it would record the automatic value.
        """
        snapshot: dict[str, float] = {}
        for name in sorted(self.profile.controls):
            v = self.camera.get(name)
            if v is not None and (not name.startswith("auto") or self.profile.auto_is_on(name, v) is not None):
                snapshot[name] = v
        self._snapshot = snapshot
        return snapshot

    def _write(self, raw_name: str, raw: float) -> tuple[bool, float | None]:
        """Write, remembering the value found at the start; returns (set(), read-back)."""
        snapshot = self._snapshot if self._snapshot is not None else self._take_snapshot()
        if raw_name not in self._original and raw_name in snapshot:
            self._original[raw_name] = snapshot[raw_name]
            self._order.append(raw_name)
        ok = self.camera.set(raw_name, raw)
        self.writes += 1
        return ok, self.camera.get(raw_name)

    def read_raw(self, raw_name: str) -> float | None:
        """Read one raw control now (None when this backend cannot read it)."""
        return self._get(raw_name)

    def write_raw(self, raw_name: str, raw: float) -> tuple[bool, float | None]:
        """Write one raw control (remembered for :meth:`restore`); returns (set(), read-back)."""
        return self._write(raw_name, raw)

    def user_value(self, control: str, raw: float | None) -> float | None:
        """A raw read-back in the user's unit (exposure in ms)."""
        return self._user(control, raw)

    @property
    def changed(self) -> bool:
        """True once anything was written (the caller must flush queued frames)."""
        return self.writes > 0

    # ------------------------------------------------------------------ phases
    def prepare(self, requests) -> None:
        """Before warm-up: switch the automatic loops on for ``auto`` and ``lock`` requests."""
        for req in requests:
            auto_name, _ = _RAW[req.control]
            if req.mode in ("auto", *FREEZING) and auto_name and self._readable(auto_name):
                current = self.camera.get(auto_name)
                if self.profile.auto_is_on(auto_name, current) is not True:
                    on, _ = self.profile.auto_values(auto_name)
                    self._write(auto_name, on)

    def apply(self, requests) -> tuple[ControlOutcome, ...]:
        """After warm-up: lock / set / leave each control, read back and record the outcome.

        Gain has no automatic flag of its own, but UVC auto exposure may drive it: a gain "lock"
        is only claimed when automatic exposure was confirmed off (``exposure`` locked or set to a
        number with auto read back off); otherwise it is recorded as ``set``.
        """
        outcomes = [self._apply_one(r) for r in requests]
        ae_off = any(o.control == "exposure" and o.status in (ControlStatus.LOCKED, ControlStatus.SET) and o.auto_readback is False
                     for o in outcomes)
        if not ae_off:
            ae_state = self.profile.auto_is_on("auto_exposure", self._get("auto_exposure"))
            ae_off = ae_state is False
        return tuple(replace(o, status=ControlStatus.SET, note="automatic exposure is not confirmed off and may still move "
                             "the gain; lock not confirmed") if o.control == "gain" and o.status == ControlStatus.LOCKED
                     and not ae_off else o for o in outcomes)

    def _user(self, control: str, raw: float | None) -> float | None:
        if raw is None:
            return None
        if control == "exposure" and self.profile.exposure_unit:
            return round(self.profile.exposure_from_raw(raw), 6)
        return raw

    def _apply_one(self, req: Request) -> ControlOutcome:
        auto_name, value_name = _RAW[req.control]
        unit = USER_UNITS[req.control]
        base = partial(ControlOutcome, control=req.control, requested=req.label, unit=unit)
        if not self._readable(value_name):
            return base(status=ControlStatus.UNSUPPORTED, note=f"backend {self.profile.name} has no "
                        f"{req.control} control")
        if req.mode == "leave":
            rb = self._get(value_name)
            return base(status=ControlStatus.UNSUPPORTED if rb is None else ControlStatus.SET,
                        readback=self._user(req.control, rb), raw_readback=rb, note="left as found")
        auto = auto_name if auto_name is not None and self._readable(auto_name) else None  # None: no auto flag
        has_auto = auto is not None

        if req.mode == "auto":
            if auto is None:
                return base(status=ControlStatus.UNSUPPORTED, note=f"no automatic {req.control} on "
                            f"{self.profile.name}")
            on, _ = self.profile.auto_values(auto)
            ok, rb_auto = self._write(auto, on)
            state = self.profile.auto_is_on(auto, rb_auto)
            rb = self._get(value_name)
            status = (ControlStatus.SET if state is True else ControlStatus.UNSUPPORTED if state is None
                      else ControlStatus.REFUSED)
            note = "" if state is True else (f"auto flag read back {rb_auto!r}" if state is not None
                                             else "auto flag cannot be read back; auto not confirmed")
            return base(status=status, readback=self._user(req.control, rb), raw_readback=rb,
                        auto_readback=state, set_returned=ok, note=note)

        # lock or value
        if req.mode in FREEZING:
            target = self._get(value_name)
            if target is None:
                return base(status=ControlStatus.UNSUPPORTED, note=f"{req.control} cannot be read back, "
                            "so there is no value to lock")
        else:
            target = (self.profile.exposure_to_raw(req.number) if req.control == "exposure"
                      else float(req.number))
        state = None
        notes = []
        if auto is not None:
            _, off = self.profile.auto_values(auto)
            _, rb_auto = self._write(auto, off)
            state = self.profile.auto_is_on(auto, rb_auto)
            if req.mode in FREEZING and state is False:
                # UVC keeps the automatic value when auto is switched off; some drivers only report
                # it then (in auto mode they read back a default). Prefer the frozen value.
                frozen = self._get(value_name)
                if frozen is not None and not _close(frozen, target):
                    notes.append(f"read back {target:g} in automatic mode but {frozen:g} once it was off; "
                                 "locked the latter (the automatic-mode read-back was a default)")
                    target = frozen
        ok, rb = self._write(value_name, target)
        common = partial(ControlOutcome, control=req.control, requested=req.label, unit=unit,
                         readback=self._user(req.control, rb), raw_requested=target, raw_readback=rb,
                         auto_readback=state, set_returned=ok)
        if rb is None:
            return common(status=ControlStatus.UNSUPPORTED, note="value cannot be read back after writing")
        if state is True:
            notes.append("driver kept automatic mode on after auto-off was written")
            return common(status=ControlStatus.REFUSED, note="; ".join(notes))
        if not _close(rb, target):
            why = (f"read back {rb:g}, wrote {target:g}"
                   + ("; set() returned True anyway" if ok else "")
                   + "; the driver ignored or clamped the value, or reports a default")
            return common(status=ControlStatus.REFUSED, note=why)
        if req.mode in FREEZING:
            if has_auto and state is False:
                return common(status=ControlStatus.LOCKED, note="; ".join(notes))
            if not has_auto:
                return common(status=ControlStatus.LOCKED, note="no automatic mode; value held")
            return common(status=ControlStatus.SET, note="auto flag cannot be read back; lock not confirmed")
        if req.mode == "value" and req.control == "exposure":
            got = self._user("exposure", rb)
            if got is not None and abs(got - req.number) > 0.01 * req.number:
                notes.append(f"{req.number:g} ms is not a step of this backend ({self.profile.exposure_unit}); "
                             f"the nearest, {got:g} ms, was set")
        return common(status=ControlStatus.SET, note="; ".join(notes))

    def verify(self, outcomes) -> tuple[ControlOutcome, ...]:
        """After the stack: read values again; a confirmed value that moved becomes ``drifted``."""
        out = []
        for o in outcomes:
            if o.status in (ControlStatus.LOCKED, ControlStatus.SET) and o.raw_readback is not None and o.control in _RAW:
                _, value_name = _RAW[o.control]
                now = self._get(value_name)
                if now is not None and not _close(now, o.raw_readback):
                    o = replace(o, status=ControlStatus.DRIFTED, readback=self._user(o.control, now), raw_readback=now,
                                note=f"read back {o.raw_readback:g} after locking, {now:g} after the stack")
            out.append(o)
        return tuple(out)

    def restore(self) -> tuple[Restored, ...]:
        """Write every changed raw control back to the value found at the start.

        Values first, automatic-mode flags last (a value is only writable with auto off, and
        switching auto back on must come after it).
        """
        done = []
        order = [n for n in self._order if not n.startswith("auto")] + [n for n in self._order if n.startswith("auto")]
        for name in order:
            original = self._original[name]
            try:
                self.camera.set(name, original)
                rb = self.camera.get(name)
            except ScopecheckError:  # a lost device cannot be restored; reported, not raised
                rb = None
            done.append(Restored(name, original, rb, _close(rb, original)))
        self._original.clear()
        self._order.clear()
        return tuple(done)


def frame_check(outcomes, before: tuple[float, ...], after: tuple[float, ...], *, rel: float = 0.04,
                abs_dn: float = 2.0, balance: float = 0.03) -> tuple[ControlOutcome, ...]:
    """Check confirmed locks against the image: per-channel means before and after locking.

    Only ``lock`` requests are checked (a requested number is meant to change the picture): a lock
    that wrote the value the driver *read back* should not change it. When the
    mean brightness moves more than ``max(abs_dn, rel * before)`` the exposure lock is downgraded
    to ``drifted``; when a colour ratio (B/G or R/G) moves more than ``balance`` (relative) the
    white-balance lock is. Typical cause: the driver reports a default instead of the current value.
    """
    if not before or len(before) != len(after):
        return tuple(outcomes)
    b0, b1 = sum(before) / len(before), sum(after) / len(after)
    notes = {}
    if abs(b1 - b0) > max(abs_dn, rel * abs(b0)):
        notes["exposure"] = (f"image brightness moved from {b0:.1f} to {b1:.1f} DN across the lock; the value "
                             "read back before locking was probably a default, not the current setting")
    if len(before) == 3 and min(before[1], after[1]) > 8:
        moved = [abs((after[c] / after[1]) / (before[c] / before[1]) - 1.0) for c in (0, 2) if before[c] > 8]
        if moved and max(moved) > balance:
            notes["white_balance"] = (f"colour balance moved by {100 * max(moved):.1f}% across the lock; the "
                                      "white balance read back before locking was probably a default")
    return tuple(replace(o, status=ControlStatus.DRIFTED, note=notes[o.control])
                 if o.control in notes and o.requested in FREEZING and o.status in (ControlStatus.LOCKED, ControlStatus.SET) else o
                 for o in outcomes)


__all__ = ["QUIRKS", "PROFILES", "Profile", "Quirk", "Request", "ControlOutcome", "ControlSession",
           "Restored", "ControlStatus", "profile_for", "quirks_for", "USER_CONTROLS", "STATUSES", "frame_check"]

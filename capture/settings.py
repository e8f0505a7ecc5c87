"""Settings that stay put: save the values read back after locking, re-apply them, check them.

``capture --save-settings bench.json`` writes (``kind: scopecheck-settings/1``) one entry per user
control that was locked or set and read back: the value in the user's unit (exposure ms, white
balance K, gain/focus raw) and the backend's raw value, with the device and backend they came
from. ``--settings bench.json`` turns each entry into a ``value`` request (automatic loop off,
value written, read back); :meth:`SavedSettings.mark` gives every such control the status
``mismatch`` when its read-back is not the saved value, and :meth:`SavedSettings.check` reads the
camera again (after every shot, after a reconnect) and lists what moved. Any mismatch goes into
the manifest's ``settings`` section and makes ``capture`` exit 1.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass, replace

from scopecheck.compare.atomic import write_atomic
from scopecheck.compare.errors import InputError
from scopecheck.compare.jsonfile import read_json_bytes

from .controls import USER_CONTROLS, USER_UNITS, ControlSession, ControlStatus, Request

SETTINGS_KIND = "scopecheck-settings/1"
_RAW_VALUE = {"exposure": "exposure", "white_balance": "wb_temperature", "gain": "gain", "focus": "focus"}
_MAX_BYTES = 1 << 20


def _close(a, b) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-6 + 0.005 * abs(b)


@dataclass(frozen=True)
class SavedControl:
    control: str
    value: float      # user unit
    raw: float        # backend raw value read back after locking
    unit: str


@dataclass(frozen=True)
class SavedSettings:
    """A settings file: where it came from and the saved value of each control."""

    path: str
    sha256: str
    device: str
    backend: str
    controls: tuple[SavedControl, ...]

    def requests(self) -> tuple[Request, ...]:
        return tuple(Request(c.control, "value", c.value) for c in self.controls)

    def to_json(self) -> dict:
        return {"file": self.path, "sha256": self.sha256, "saved_from": {"device": self.device, "backend": self.backend},
                "saved": {c.control: {"value": c.value, "unit": c.unit, "raw": c.raw} for c in self.controls}}

    def _saved(self, control: str) -> SavedControl | None:
        return next((c for c in self.controls if c.control == control), None)

    def mark(self, outcomes) -> tuple:
        """Outcomes after applying: a saved control that did not read back as saved becomes ``mismatch``."""
        out = []
        for o in outcomes:
            s = self._saved(o.control)
            if s is not None:
                good = o.status in (ControlStatus.SET, ControlStatus.LOCKED) and _close(o.raw_readback, s.raw)
                if not good:
                    o = replace(o, status=ControlStatus.MISMATCH,
                                note=f"saved {s.value:g} {s.unit} (raw {s.raw:g}), read back "
                                     f"{o.readback if o.readback is not None else 'nothing'} ({ControlStatus(o.status).value}"
                                     f"{': ' + o.note if o.note else ''})")
            out.append(o)
        return tuple(out)

    def check(self, controls: ControlSession) -> list[dict]:
        """Read every saved control now; the ones that differ from the saved raw value."""
        bad = []
        for c in self.controls:
            now = controls.read_raw(_RAW_VALUE[c.control])
            if not _close(now, c.raw):
                bad.append({"control": c.control, "saved_raw": c.raw, "readback_raw": now})
        return bad


def settings_document(outcomes, info) -> dict:
    saved = {}
    for o in outcomes:
        if (o.control in USER_CONTROLS and o.status in (ControlStatus.LOCKED, ControlStatus.SET)
                and isinstance(o.readback, (int, float)) and o.raw_readback is not None
                and o.requested != "auto"):
            saved[o.control] = {"value": float(o.readback), "unit": USER_UNITS[o.control], "raw": float(o.raw_readback)}
    return {"kind": SETTINGS_KIND, "device": info.device, "backend": info.backend, "controls": saved,
            "time": {"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}}


def save_settings(path: str, outcomes, info, *, overwrite: bool = False) -> dict:
    """Write the locked values of ``outcomes`` to ``path`` (no clobber unless ``overwrite``)."""
    doc = settings_document(outcomes, info)
    if not doc["controls"]:
        raise InputError(f"--save-settings {path}: no control was locked and read back on {info.backend}; "
                         "nothing to save")
    write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), overwrite=overwrite)
    return doc


def load_settings(path: str) -> SavedSettings:
    """Read and validate a settings file (bounded to 1 MiB, see :func:`compare.jsonfile.read_json`)."""
    fix = "write one with capture --save-settings"
    doc, data = read_json_bytes(path, what="--settings", max_bytes=_MAX_BYTES, fix=fix)
    if doc.get("kind") != SETTINGS_KIND or not isinstance(doc.get("controls"), dict):
        raise InputError(f"--settings: not a {SETTINGS_KIND} file; {fix}", path=path)
    controls = []
    for name, entry in doc["controls"].items():
        if name not in USER_CONTROLS:
            raise InputError(f"--settings: unknown control {name!r}; known: {', '.join(USER_CONTROLS)}", path=path)
        numbers = [entry.get(k) if isinstance(entry, dict) else None for k in ("value", "raw")]
        value, raw = (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None  # not "20", true
                      for v in numbers)
        if value is None or raw is None:
            raise InputError(f"--settings: {name} needs numeric value and raw", path=path)
        if not (math.isfinite(value) and math.isfinite(raw)):
            raise InputError(f"--settings: {name} is not finite", path=path)
        Request.parse(name, value)  # same validation as on the command line
        controls.append(SavedControl(name, value, raw, USER_UNITS[name]))
    return SavedSettings(str(path), hashlib.sha256(data).hexdigest(), str(doc.get("device")), str(doc.get("backend")),
                         tuple(controls))


__all__ = ["SETTINGS_KIND", "SavedControl", "SavedSettings", "load_settings", "save_settings", "settings_document"]

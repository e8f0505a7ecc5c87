"""``auto-freeze``: let an automatic loop settle, then lock what it chose -- the camera's loop where it
can be trusted, scopecheck's own loop on the image where it cannot.

The camera's loop is trusted for a control when, after warm-up and the lock,

* the warm-up settled (brightness stable),
* the lock was confirmed (status ``locked``: auto read back off, value read back as written),
* the image did not move across the lock (not ``drifted``, see :func:`capture.controls.frame_check`),
* and, for exposure, the frozen image is not clipped (under 0.1 % of samples at full scale).

Otherwise scopecheck runs its own loop with the automatic mode off:

* **exposure**: set the exposure so that the image's 99.5th percentile (brightest channel, 8-bit
  scale) sits at ``target`` (200 DN), with under 0.1 % clipped; each step scales the exposure
  by ``target / p`` (halving while clipped), at most 8 steps, stopping within 4 % or when the
  backend's step size cannot get closer (DirectShow/MSMF step in powers of two);
* **white balance**: grey-world on the colour means: the temperature is scaled by
  ``mean(R) / mean(B)`` until the two agree within 2 % (at most 6 steps);
* **gain** has no automatic flag through VideoCapture: where the camera's exposure loop was trusted
  it is frozen where that loop left it (``loop: camera``); otherwise scopecheck moves it (after
  its own exposure loop, if any) by a secant search on the same percentile target, measuring the
  response because raw gain units are the driver's (at most 8 steps, stopping within 4 % or at
  the driver's limit).

The result is locked and read back like any lock; the manifest's ``auto_freeze`` section says
per control which loop was used, why, and the steps scopecheck's loop took.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .controls import ControlOutcome, ControlSession, ControlStatus

TARGET_DN = 200.0
PERCENTILE = 99.5
CLIP_FRACTION = 0.001


def _measure(frame: np.ndarray) -> tuple[float, float]:
    """(99.5th percentile of the brightest channel, fraction of samples at full scale), 8-bit scale."""
    f = frame.astype(np.float32) / (257.0 if frame.dtype == np.uint16 else 1.0)
    top = f.max(axis=2) if f.ndim == 3 else f
    sample = top[:: max(1, top.shape[0] // 240), :: max(1, top.shape[1] // 320)]
    return float(np.percentile(sample, PERCENTILE)), float(np.mean(f >= 254.5))


def _fresh(camera) -> np.ndarray:
    camera.flush()
    return camera.read()


def _own_exposure(camera, cs: ControlSession, outcome: ControlOutcome) -> tuple[ControlOutcome, dict, int]:
    prof = cs.profile
    flushed = 0
    if prof.supports("auto_exposure") and prof.ae_off is not None:
        cs.write_raw("auto_exposure", prof.ae_off)
    start = cs.read_raw("exposure")
    if start is None:
        return replace(outcome, note="exposure cannot be read back; not frozen"), {"steps": []}, 0
    raw: float = start
    steps = []
    for _ in range(8):
        frame = _fresh(camera)
        flushed += camera.buffer_frames
        p, clipped = _measure(frame)
        steps.append({"raw": raw, "ms": cs.user_value("exposure", raw), "p99_5_dn": round(p, 2),
                      "clipped": round(clipped, 5)})
        if clipped < CLIP_FRACTION and abs(p / TARGET_DN - 1.0) <= 0.04:
            break
        ratio = 0.5 if clipped >= CLIP_FRACTION else min(4.0, max(0.25, TARGET_DN / max(p, 1.0)))
        new_raw = prof.exposure_to_raw(prof.exposure_from_raw(raw) * ratio)
        if new_raw == raw:  # the backend's step cannot get closer
            if clipped >= CLIP_FRACTION and prof.exposure_unit == "log2 s":
                new_raw = raw - 1.0
            else:
                break
        _, rb = cs.write_raw("exposure", new_raw)
        raw = rb if rb is not None else new_raw
    rb = cs.read_raw("exposure")
    auto = prof.auto_is_on("auto_exposure", cs.read_raw("auto_exposure"))
    ok = rb is not None and bool(steps) and abs(rb - raw) <= 1e-6 + 0.005 * abs(raw)
    status = ControlStatus.LOCKED if ok and auto is False else ControlStatus.SET if ok else ControlStatus.REFUSED
    last = steps[-1] if steps else {}
    note = (f"scopecheck's loop: p{PERCENTILE:g} at {last.get('p99_5_dn')} DN (target {TARGET_DN:g}) after "
            f"{len(steps)} step(s)" + ("" if status == ControlStatus.LOCKED else "; auto-off not confirmed"))
    out = replace(outcome, status=status, readback=cs.user_value("exposure", rb), raw_readback=rb,
                  raw_requested=raw, auto_readback=auto, note=note)
    return out, {"steps": steps}, flushed


def _own_gain(camera, cs: ControlSession, outcome: ControlOutcome) -> tuple[ControlOutcome, dict, int]:
    """Secant search on the gain (raw units are the driver's, so the response is measured, not assumed)."""
    start = cs.read_raw("gain")
    if start is None:
        return replace(outcome, note="gain cannot be read back; not frozen"), {"steps": []}, 0
    g: float = start
    steps: list[dict] = []
    flushed, prev = 0, None
    for _ in range(8):
        frame = _fresh(camera)
        flushed += camera.buffer_frames
        p, clipped = _measure(frame)
        steps.append({"raw": g, "p99_5_dn": round(p, 2), "clipped": round(clipped, 5)})
        if clipped < CLIP_FRACTION and abs(p / TARGET_DN - 1.0) <= 0.04:
            break
        if clipped >= CLIP_FRACTION:
            p = max(p, 1.5 * TARGET_DN)  # a clipped percentile understates: push down firmly
        if prev is None or abs(p - prev[1]) < 0.5:
            new = g + (1.0 if p < TARGET_DN else -1.0) * max(5.0, 0.2 * abs(g))  # probe the response
        else:
            new = g + (TARGET_DN - p) * (g - prev[0]) / (p - prev[1])
        prev = (g, p)
        _, rb = cs.write_raw("gain", float(round(new, 3)))
        if rb is None or abs(rb - g) < 1e-9:  # clamped at the driver's limit
            break
        g = rb
    rb = cs.read_raw("gain")
    ok = rb is not None and abs(rb - g) <= 1e-6 + 0.005 * abs(g)
    last = steps[-1] if steps else {}
    out = replace(outcome, status=ControlStatus.LOCKED if ok else ControlStatus.REFUSED, readback=rb,
                  raw_readback=rb, raw_requested=g,
                  note=f"scopecheck's loop: p{PERCENTILE:g} at {last.get('p99_5_dn')} DN (target {TARGET_DN:g}) after "
                       f"{len(steps)} step(s); gain has no automatic mode to switch off")
    return out, {"steps": steps}, flushed


def _own_white_balance(camera, cs: ControlSession, outcome: ControlOutcome) -> tuple[ControlOutcome, dict, int]:
    cs.write_raw("auto_wb", 0.0)
    kelvin = cs.read_raw("wb_temperature") or 5000.0
    steps, flushed = [], 0
    for _ in range(6):
        frame = _fresh(camera)
        flushed += camera.buffer_frames
        if frame.ndim != 3:
            break
        b, r = float(frame[:, :, 0].mean()), float(frame[:, :, 2].mean())
        steps.append({"kelvin": kelvin, "blue_mean": round(b, 2), "red_mean": round(r, 2)})
        if b > 0 and abs(r / b - 1.0) <= 0.02:
            break
        new = float(np.clip(round(kelvin * (r / max(b, 1e-3)) / 10.0) * 10.0, 2000.0, 10000.0))
        if new == kelvin:
            break
        _, rb = cs.write_raw("wb_temperature", new)
        if rb is None or rb == kelvin:  # the driver clamps here: this is as close as it goes
            break
        kelvin = rb
    rb = cs.read_raw("wb_temperature")
    auto = cs.profile.auto_is_on("auto_wb", cs.read_raw("auto_wb"))
    ok = rb is not None and abs(rb - kelvin) <= 1e-6 + 0.005 * kelvin
    status = ControlStatus.LOCKED if ok and auto is False else ControlStatus.SET if ok else ControlStatus.REFUSED
    out = replace(outcome, status=status, readback=rb, raw_readback=rb, raw_requested=kelvin, auto_readback=auto,
                  note=f"scopecheck's loop: grey world after {len(steps)} step(s)")
    return out, {"steps": steps}, flushed


def _untrusted_because(o: ControlOutcome, settled: bool, frame) -> str | None:
    if o.status == ControlStatus.UNSUPPORTED:
        return "the control is not available"
    if not settled:
        return "the warm-up did not settle"
    if o.status == ControlStatus.DRIFTED:
        return "the image moved across the lock (the read-back was probably a default)"
    if o.status != ControlStatus.LOCKED:
        return f"the lock was not confirmed ({ControlStatus(o.status).value}: {o.note})"
    if o.control == "exposure" and frame is not None and _measure(frame)[1] >= CLIP_FRACTION:
        return "the camera's exposure clips the image"
    return None


def freeze(camera, cs: ControlSession, outcomes, requests, *, settled: bool, frame=None):
    """Apply ``auto-freeze`` to the outcomes of :meth:`ControlSession.apply`.

    Returns ``(outcomes, manifest section, frames flushed)``.
    """
    wanted = {r.control for r in requests if r.mode == "auto-freeze"}
    by = {o.control: o for o in outcomes}
    section: dict = {}
    flushed = 0
    exposure_trusted = None
    for control in ("exposure", "white_balance", "gain", "focus"):
        if control not in wanted or control not in by:
            continue
        o = by[control]
        why = _untrusted_because(o, settled, frame)
        if control == "gain":
            trusted = exposure_trusted if exposure_trusted is not None else why is None
            if trusted:
                section[control] = {"loop": "camera", "why": "the camera's exposure loop, trusted, set it"}
                continue
            if o.status == ControlStatus.UNSUPPORTED or not cs.profile.supports("gain"):
                section[control] = {"loop": "none", "why": why or "the control is not available"}
                continue
            new, info, n = _own_gain(camera, cs, o)
            flushed += n
            by[control] = new
            section[control] = {"loop": "scopecheck", "why": why or "the exposure loop was not trusted", **info}
            continue
        if why is None:
            section[control] = {"loop": "camera", "why": "settled, lock confirmed, image steady"}
            if control == "exposure":
                exposure_trusted = True
            continue
        own = {"exposure": _own_exposure, "white_balance": _own_white_balance}.get(control)
        if own is None or o.status == ControlStatus.UNSUPPORTED or not cs.profile.supports(
                {"exposure": "exposure", "white_balance": "wb_temperature"}[control]):
            section[control] = {"loop": "none", "why": why}
            continue
        new, info, n = own(camera, cs, o)
        flushed += n
        by[control] = new
        section[control] = {"loop": "scopecheck", "why": why, **info}
        if control == "exposure":
            exposure_trusted = False
    return tuple(by[o.control] for o in outcomes), section, flushed


__all__ = ["freeze", "TARGET_DN", "PERCENTILE"]

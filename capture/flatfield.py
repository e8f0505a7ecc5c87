"""Dark-frame and flat-field correction.

References: ``scopecheck calibrate --dark -o dark.png`` (lens capped) and ``--flat -o flat.png``
(a blank, evenly lit field) stack frames like ``capture`` and always write a 16-bit PNG (the mean
keeps its precision) with a manifest whose ``reference`` section says the kind, the frames' own
bit depth and the device.

Correction (:class:`Correction`), applied to the float64 mean of the stack before its one
rounding, per channel, on the frames' own scale::

    C = (I - D) * mean(F - D) / (F - D)

with ``D`` the dark and ``F`` the flat reference (a missing dark is 0, a missing flat is no gain).
Pixels where ``F - D`` is below 2 % of its mean (dead or unlit) get gain 1 rather than an
explosion. References of another size, channel count, frame bit depth or device are refused; the
manifest's ``correction`` section records each reference's file and digests and the formula.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from scopecheck.compare.digest import file_sha256, pixel_sha256
from scopecheck.compare.errors import InputError

from .manifest import read_manifest
from .output import manifest_path_for

KINDS = ("dark", "flat")
FORMULA = "(I - D) * mean(F - D) / (F - D), per channel, float64, before rounding"
_MIN_FLAT = 0.02


@dataclass(frozen=True)
class Reference:
    kind: str
    path: str
    sha256: str
    pixel_sha256: str
    device: str
    frame_depth: int
    frames: int
    pixels: np.ndarray  # float64 on the frames' own scale

    def to_json(self) -> dict:
        return {"file": self.path, "sha256": self.sha256, "pixel_sha256": self.pixel_sha256,
                "device": self.device, "frame_depth": self.frame_depth, "frames": self.frames}


def load_reference(path: str, kind: str) -> Reference:
    """Read a reference PNG and its manifest; refuse anything that is not a ``kind`` reference."""
    from scopecheck.compare.load import decode, read_bytes

    if not os.path.lexists(path):
        raise InputError(f"--{kind}: no such file; make one with scopecheck calibrate --{kind} -o {kind}.png", path=path)
    data = read_bytes(path)  # bounded; folders, FIFOs and devices refused without being opened
    man = read_manifest(manifest_path_for(path)) if os.path.exists(manifest_path_for(path)) else None
    ref = man.reference if man is not None and isinstance(man.reference, Mapping) else None
    if ref is None or ref.get("kind") != kind:
        found = "no manifest" if man is None else f"a {ref.get('kind') if ref else 'plain capture'} manifest"
        raise InputError(f"--{kind}: not a {kind} reference ({found}); make one with scopecheck calibrate "
                         f"--{kind} -o {kind}.png", path=path)
    assert man is not None and ref is not None
    decoded = decode(data, path=path)
    if decoded.images > 1:
        raise InputError(f"--{kind}: a reference is one image, this file holds {decoded.images}", path=path)
    img = decoded.pixels
    if img.dtype != np.uint16:
        raise InputError(f"--{kind}: a reference is a 16-bit PNG, this is {img.dtype}", path=path)
    depth = ref.get("frame_depth", 8)
    if depth not in (8, 16) or isinstance(depth, bool):
        raise InputError(f"--{kind}: the manifest's reference.frame_depth is {depth!r}, not 8 or 16; make the "
                         f"reference again with scopecheck calibrate --{kind}", path=path)
    scale = 1.0 / 257.0 if depth == 8 else 1.0
    return Reference(kind, path, file_sha256(data), pixel_sha256(img), str(ref.get("device")), depth,
                     _count(man.stack.get("frames_stacked") if isinstance(man.stack, Mapping) else None), img.astype(np.float64) * scale)


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def make_reference(camera, output: str, kind: str, options, *, log=None):
    """Stack a ``kind`` ("dark" or "flat") reference from ``camera`` into ``output`` (16-bit PNG + manifest)."""
    from dataclasses import replace

    from .session import capture

    if kind not in KINDS:
        raise InputError(f"reference kind {kind!r}: use dark or flat")
    if options.correction is not None:
        raise InputError("a reference is made from uncorrected frames; drop --dark/--flat")
    return capture(camera, output, replace(options, depth=16, reference=kind), log=log)


class Correction:
    """Dark and/or flat references checked against each other; :meth:`apply` corrects a float mean."""

    def __init__(self, *, dark: Reference | None = None, flat: Reference | None = None):
        if dark is None and flat is None:
            raise InputError("--dark/--flat: give at least one reference")
        self.dark, self.flat = dark, flat
        refs = [r for r in (dark, flat) if r is not None]
        a = refs[0]
        for b in refs[1:]:
            if b.pixels.shape != a.pixels.shape:
                raise InputError(f"--dark {a.path} is {_shape(a.pixels)} but --flat {b.path} is {_shape(b.pixels)}; "
                                 "make both references with the same camera and size")
            if b.frame_depth != a.frame_depth or b.device != a.device:
                raise InputError(f"--dark and --flat come from different devices or depths ({a.device}, "
                                 f"{a.frame_depth}-bit vs {b.device}, {b.frame_depth}-bit)")
        self.shape, self.device, self.frame_depth = a.pixels.shape, a.device, a.frame_depth
        d = dark.pixels if dark is not None else 0.0
        if flat is not None:
            signal = flat.pixels - d
            axes = (0, 1)
            mean = signal.mean(axis=axes, keepdims=True) if signal.ndim == 3 else signal.mean()
            if np.any(np.asarray(mean) <= 0):
                raise InputError(f"--flat {flat.path}: no signal above the dark frame; shoot the flat on a lit, "
                                 "blank field")
            ok = signal > _MIN_FLAT * mean
            self.gain: np.ndarray | None = np.where(ok, mean / np.where(ok, signal, 1.0), 1.0)
        else:
            self.gain = None
        self._dark = d

    @classmethod
    def from_files(cls, *, dark: str | None = None, flat: str | None = None) -> Correction:
        return cls(dark=load_reference(dark, "dark") if dark else None,
                   flat=load_reference(flat, "flat") if flat else None)

    def check_camera(self, info) -> None:
        """Refuse a camera of another size or device than the references'."""
        want = (info.height, info.width)
        if tuple(self.shape[:2]) != want:
            raise InputError(f"--dark/--flat references are {_shape_hw(self.shape)}, the camera delivers "
                             f"{info.width}x{info.height}; make references at this size")
        from .recording import device_identity

        here = device_identity(info)
        if self.device != here:
            raise InputError(f"--dark/--flat references come from {self.device}, not {here}; make "
                             "references with this device")

    def check_frame(self, frame: np.ndarray) -> None:
        depth = 16 if frame.dtype == np.uint16 else 8
        if frame.shape != self.shape:
            raise InputError(f"frames are {frame.shape}, the references {self.shape}; make references with this "
                             "camera mode")
        if depth != self.frame_depth:
            raise InputError(f"frames are {depth}-bit, the references were made from {self.frame_depth}-bit frames")

    def apply(self, mean: np.ndarray) -> np.ndarray:
        out = np.subtract(mean, self._dark, dtype=np.float64)
        if self.gain is not None:
            out *= self.gain
        return np.clip(out, 0.0, None, out=out)

    def to_json(self) -> dict:
        return {"formula": FORMULA, "dark": self.dark.to_json() if self.dark else None,
                "flat": self.flat.to_json() if self.flat else None}


def _shape(a: np.ndarray) -> str:
    return _shape_hw(a.shape)


def _shape_hw(shape) -> str:
    return f"{shape[1]}x{shape[0]}" + (f"x{shape[2]}" if len(shape) == 3 else "")


__all__ = ["Correction", "FORMULA", "KINDS", "Reference", "load_reference", "make_reference"]

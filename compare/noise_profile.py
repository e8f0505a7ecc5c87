"""The one device noise profile: written by ``scopecheck calibrate``, read by ``compare --profile``.

:class:`NoiseProfile` is both the measurement ``capture.profile.calibrate`` makes and what
``compare`` reads back (``compare`` never imports ``capture``; the capture side builds this class).
The JSON (``kind: scopecheck-noise-profile/1``, all pixel values on the 8-bit scale, DN):

``kind``              ``"scopecheck-noise-profile/1"``
``device``            device, kind, backend, backend_name, size, width, height, fourcc, fps
``size``              ``"WxH"`` of the shots
``noise_sigma``       noise of one shot (DN): median over pairs of ``std(a - b) / sqrt(2)``
``frame_noise_sigma`` temporal noise of one raw frame (DN), median over shots
``ssim``              ``{"min", "median"}`` over pairs, Gaussian SSIM (sigma 1.5) on BT.601 luma
``dhash_distance``    ``{"max", "median"}`` Hamming distance of the 8x8 dHash
``shots``             K; ``pairs`` = K (K - 1) / 2
``frames_per_shot``, ``stack``, ``depth``, ``warmup``   the capture options used
``controls``          the control outcomes (status per control), as in a capture manifest
``software``, ``time``  versions and UTC time of the calibration

Reading checks ``kind`` and ``noise_sigma`` (a profile of another kind or version is refused with
a message to re-calibrate, never guessed at); the other keys are kept as written.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from .errors import InputError
from .load import read_bytes

PROFILE_KIND = "scopecheck-noise-profile/1"


@dataclass(frozen=True)
class NoiseProfile:
    """The measured shot-to-shot spread of one device with one set of capture options."""

    noise_sigma: float
    device: dict = field(default_factory=dict)
    width: int = 0
    height: int = 0
    shots: int = 0
    frame_noise_sigma: float | None = None
    ssim_min: float | None = None
    ssim_median: float | None = None
    dhash_max: int | None = None
    dhash_median: float | None = None
    options: dict = field(default_factory=dict)   # frames_per_shot, stack, depth, warmup
    controls: tuple = ()
    software: dict = field(default_factory=dict)
    time: dict = field(default_factory=dict)
    path: str | None = None                       # where it was read from

    def to_json(self) -> dict:
        return {"kind": PROFILE_KIND, "device": self.device, "size": f"{self.width}x{self.height}",
                "noise_sigma": round(self.noise_sigma, 4),
                "frame_noise_sigma": None if self.frame_noise_sigma is None else round(self.frame_noise_sigma, 4),
                "ssim": {"min": _round6(self.ssim_min), "median": _round6(self.ssim_median)},
                "dhash_distance": {"max": self.dhash_max, "median": self.dhash_median},
                "shots": self.shots, "pairs": self.shots * (self.shots - 1) // 2, **self.options,
                "controls": list(self.controls), "software": self.software, "time": self.time}

    @classmethod
    def from_json(cls, doc, *, path: str | None = None) -> NoiseProfile:
        """Check and read a profile document (see the module docstring)."""
        if not isinstance(doc, dict) or doc.get("kind") != PROFILE_KIND:
            kind = doc.get("kind") if isinstance(doc, dict) else None
            raise InputError(f"profile kind is {kind!r}, expected {PROFILE_KIND!r}; re-run scopecheck calibrate",
                             path=path)
        sigma = doc.get("noise_sigma")
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma < 0:
            raise InputError(f"profile noise_sigma must be a non-negative number, got {sigma!r}", path=path)
        w, _, h = str(doc.get("size", "0x0")).partition("x")
        ssim_d = doc.get("ssim")
        ssim_d = ssim_d if isinstance(ssim_d, dict) else {}
        dh = doc.get("dhash_distance")
        dh = dh if isinstance(dh, dict) else {}
        opts = {k: doc[k] for k in ("frames_per_shot", "stack", "depth", "warmup") if k in doc}
        return cls(noise_sigma=float(sigma), device=doc.get("device") or {},
                   width=int(w) if w.isdigit() else 0, height=int(h) if h.isdigit() else 0,
                   shots=int(doc.get("shots") or 0), frame_noise_sigma=doc.get("frame_noise_sigma"),
                   ssim_min=ssim_d.get("min"), ssim_median=ssim_d.get("median"), dhash_max=dh.get("max"),
                   dhash_median=dh.get("median"), options=opts, controls=tuple(doc.get("controls") or ()),
                   software=doc.get("software") or {}, time=doc.get("time") or {}, path=path)


def _round6(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def load_profile(path) -> NoiseProfile:
    """Read a profile file written by ``scopecheck calibrate``."""
    try:
        doc = json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"not a JSON noise profile ({e.__class__.__name__})", path=str(path)) from None
    return NoiseProfile.from_json(doc, path=str(path))

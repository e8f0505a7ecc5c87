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

from dataclasses import dataclass, field

from .errors import InputError
from .jsonfile import read_json

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
        sigma = _number(doc, "noise_sigma", path, required=True)
        size = doc.get("size", "0x0")
        w, _, h = (size if isinstance(size, str) else "").partition("x")
        if not (w.isdigit() and h.isdigit() and len(w) <= 6 and len(h) <= 6):
            raise InputError(f"profile size must be WIDTHxHEIGHT, got {size!r}; re-run scopecheck calibrate", path=path)
        ssim_d, dh = _section(doc, "ssim", path), _section(doc, "dhash_distance", path)
        for key in ("device", "software", "time"):
            _section(doc, key, path)
        if not isinstance(doc.get("controls", []), list):
            raise InputError("profile controls must be a list; re-run scopecheck calibrate", path=path)
        opts = {k: doc[k] for k in ("frames_per_shot", "stack", "depth", "warmup") if k in doc}
        shots = _number(doc, "shots", path, integer=True)
        dhash_max = _number(dh, "max", path, integer=True, name="dhash_distance.max")
        return cls(noise_sigma=float(sigma or 0.0), device=doc.get("device") or {}, width=int(w), height=int(h),
                   shots=int(shots or 0), frame_noise_sigma=_number(doc, "frame_noise_sigma", path),
                   ssim_min=_number(ssim_d, "min", path, top=1.0, name="ssim.min"), ssim_median=_number(ssim_d, "median", path, top=1.0, name="ssim.median"),
                   dhash_max=None if dhash_max is None else int(dhash_max),
                   dhash_median=_number(dh, "median", path, name="dhash_distance.median"), options=opts, controls=tuple(doc.get("controls") or ()),
                   software=doc.get("software") or {}, time=doc.get("time") or {}, path=path)


#: Noise on the 8-bit scale cannot exceed half the range; a larger value is not a measurement.
_MAX_SIGMA = 255.0


def _section(doc: dict, key: str, path: str | None) -> dict:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise InputError(f"profile {key} must be an object, got {type(value).__name__}; re-run scopecheck calibrate",
                         path=path)
    return value


def _number(doc: dict, key: str, path: str | None, *, required: bool = False, integer: bool = False,
            top: float = _MAX_SIGMA * 1e4, name: str | None = None) -> float | None:
    """``doc[key]`` as a finite number in ``[0, top]`` (``None`` when absent and not required)."""
    value = doc.get(key)
    if value is None and not required:
        return None
    kinds = (int,) if integer else (int, float)
    if key == "noise_sigma":
        top = _MAX_SIGMA
    if isinstance(value, bool) or not isinstance(value, kinds) or not 0 <= value <= top:  # NaN, inf fail too
        what = "a whole number" if integer else "a number"
        raise InputError(f"profile {name or key} must be {what} from 0 to {top:g}, got {value!r}"[:200], path=path)
    return float(value)


def _round6(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def load_profile(path) -> NoiseProfile:
    """Read a profile file written by ``scopecheck calibrate``."""
    doc = read_json(path, what="noise profile", max_bytes=1 << 20, fix="re-run scopecheck calibrate")
    return NoiseProfile.from_json(doc, path=str(path))

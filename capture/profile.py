"""Device noise profile: K shots of a still scene -> the shot-to-shot spread to expect.

:func:`calibrate` warms up and locks once, takes ``shots`` stacked shots (each exactly as
``scopecheck capture`` would make it with the same options, kept in memory) and measures every
pair of shots. ``scopecheck compare --profile FILE`` reads the result to set its thresholds: two
captures of an unchanged specimen with this device and these options differ by about this much.

Profile JSON (``kind: scopecheck-noise-profile/1``), all pixel values on the 8-bit scale (DN):

``kind``              ``"scopecheck-noise-profile/1"``
``device``            device, kind, backend, backend_name, size, width, height, fourcc, fps
``size``              ``"WxH"`` of the shots
``noise_sigma``       noise of one shot (DN): median over pairs of ``std(a - b) / sqrt(2)``
``frame_noise_sigma`` temporal noise of one raw frame (DN), median over shots
``ssim``              ``{"min", "median"}`` over pairs, Gaussian SSIM (sigma 1.5) on BT.601 luma,
                      ``data_range`` 255 (65535 for 16-bit shots), via :func:`compare.similarity.ssim`
``dhash_distance``    ``{"max", "median"}`` Hamming distance of :func:`compare.hashing.dhash` (8x8)
``shots``             K; ``pairs`` = K (K - 1) / 2
``frames_per_shot``, ``stack``, ``depth``, ``warmup``   the capture options used
``controls``          the control outcomes (status per control), as in a capture manifest
``software``, ``time``  versions and UTC time of the calibration
"""
from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
from dataclasses import dataclass

import numpy as np

from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import dhash, luma
from scopecheck.compare.similarity import ssim

from . import png
from .camera import Camera
from .session import CaptureOptions, CaptureSession, software_versions

PROFILE_KIND = "scopecheck-noise-profile/1"


@dataclass(frozen=True)
class NoiseProfile:
    """The measured spread; :meth:`as_dict` is the JSON written to disk."""

    device: dict
    width: int
    height: int
    shots: int
    noise_sigma: float
    frame_noise_sigma: float | None
    ssim_min: float
    ssim_median: float
    dhash_max: int
    dhash_median: float
    options: dict
    controls: tuple

    def as_dict(self) -> dict:
        return {"kind": PROFILE_KIND, "device": self.device, "size": f"{self.width}x{self.height}",
                "noise_sigma": round(self.noise_sigma, 4),
                "frame_noise_sigma": None if self.frame_noise_sigma is None else round(self.frame_noise_sigma, 4),
                "ssim": {"min": round(self.ssim_min, 6), "median": round(self.ssim_median, 6)},
                "dhash_distance": {"max": self.dhash_max, "median": self.dhash_median},
                "shots": self.shots, "pairs": self.shots * (self.shots - 1) // 2, **self.options,
                "controls": list(self.controls), "software": software_versions(),
                "time": {"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")}}


def spread(images: list[np.ndarray]) -> dict:
    """Pairwise shot-to-shot statistics of equal-shape images (see the module docstring)."""
    if len(images) < 2:
        raise InputError(f"calibration needs at least 2 shots, got {len(images)}")
    rng = 65535 if images[0].dtype == np.uint16 else 255
    scale = 257.0 if images[0].dtype == np.uint16 else 1.0
    lumas = [luma(im).astype(np.float64) for im in images]
    hashes = [dhash(im) for im in images]
    sims, dists, sigmas = [], [], []
    for i, j in itertools.combinations(range(len(images)), 2):
        sims.append(float(ssim(lumas[i], lumas[j], data_range=rng).mean))
        dists.append(hashes[i] - hashes[j])
        d = images[i].astype(np.float64) - images[j]
        sigmas.append(float(np.std(d)) / math.sqrt(2.0) / scale)
    return {"ssim_min": min(sims), "ssim_median": float(np.median(sims)), "dhash_max": int(max(dists)),
            "dhash_median": float(np.median(dists)), "noise_sigma": float(np.median(sigmas))}


def calibrate(camera: Camera, options: CaptureOptions = CaptureOptions(), *, shots: int = 5,
              log=None) -> NoiseProfile:
    """Take ``shots`` shots with ``camera`` (closed afterwards, settings restored) and measure them."""
    if not isinstance(shots, int) or shots < 2:
        raise InputError(f"--shots {shots!r}: calibration needs at least 2 shots")
    if shots > 100:
        raise InputError(f"--shots {shots}: at most 100")
    with CaptureSession(camera, options, log=log) as s:
        s.start()
        results = [s.stack() for _ in range(shots)]
        outcomes = s.controls.verify(s.outcomes)
        info = camera.info
    images = [r.image for r in results]
    st = spread(images)
    frame_sigmas = [r.noise_frame for r in results if r.noise_frame is not None]
    h, w = images[0].shape[:2]
    opts = {"frames_per_shot": options.frames, "stack": options.method, "depth": options.depth,
            "warmup": options.warmup}
    return NoiseProfile(info.to_json(), int(w), int(h), shots, st["noise_sigma"],
                        float(np.median(frame_sigmas)) if frame_sigmas else None, st["ssim_min"],
                        st["ssim_median"], st["dhash_max"], st["dhash_median"], opts,
                        tuple(o.to_json() for o in outcomes))


def write_profile(profile: NoiseProfile, path: str, *, overwrite: bool = False) -> dict:
    """Write the profile JSON without clobbering; returns the dict written."""
    if not str(path).lower().endswith(".json"):
        raise InputError(f"-o {path!r}: a noise profile is a .json file")
    doc = profile.as_dict()
    png.write_new(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), overwrite=overwrite)
    return doc


def read_profile(path: str) -> dict:
    """Read and check a profile written by :func:`write_profile` (for ``compare --profile``)."""
    from scopecheck.compare.load import read_bytes

    try:
        doc = json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"not a noise profile (bad JSON: {e})", path=path) from None
    if not isinstance(doc, dict) or doc.get("kind") != PROFILE_KIND:
        raise InputError(f"not a noise profile: kind {doc.get('kind') if isinstance(doc, dict) else None!r}, "
                         f"expected {PROFILE_KIND!r}; re-run scopecheck calibrate", path=path)
    return doc

"""Device noise profile: K shots of a still scene -> the shot-to-shot spread to expect.

:func:`calibrate` warms up and locks once, takes ``shots`` stacked shots (each exactly as
``scopecheck capture`` would make it with the same options, kept in memory) and measures every
pair of shots. ``scopecheck compare --profile FILE`` reads the result to set its thresholds: two
captures of an unchanged specimen with this device and these options differ by about this much.
The result is the one :class:`scopecheck.compare.noise_profile.NoiseProfile` (its docstring
describes the JSON); SSIM via :func:`compare.similarity.ssim` (``data_range`` 255, 65535 for
16-bit shots) and the 8x8 dHash of :func:`compare.hashing.dhash`.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import json
import math

import numpy as np

from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import dhash, luma
from scopecheck.compare.noise_profile import PROFILE_KIND, NoiseProfile, load_profile
from scopecheck.compare.similarity import ssim

from . import png
from .camera import Camera
from .session import CaptureOptions, CaptureSession, software_versions

_DEFAULT_OPTIONS = CaptureOptions()

__all__ = ["PROFILE_KIND", "NoiseProfile", "calibrate", "read_profile", "spread", "write_profile"]


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


def calibrate(camera: Camera, options: CaptureOptions = _DEFAULT_OPTIONS, *, shots: int = 5,
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
    return NoiseProfile(noise_sigma=st["noise_sigma"], device=info.to_json(), width=int(w), height=int(h),
                        shots=shots, frame_noise_sigma=float(np.median(frame_sigmas)) if frame_sigmas else None,
                        ssim_min=st["ssim_min"], ssim_median=st["ssim_median"], dhash_max=st["dhash_max"],
                        dhash_median=st["dhash_median"], options=opts,
                        controls=tuple(o.to_json() for o in outcomes), software=software_versions(),
                        time={"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")})


def write_profile(profile: NoiseProfile, path: str, *, overwrite: bool = False) -> dict:
    """Write the profile JSON without clobbering; returns the dict written."""
    if not str(path).lower().endswith(".json"):
        raise InputError(f"-o {path!r}: a noise profile is a .json file")
    doc = profile.to_json()
    png.write_new(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"), overwrite=overwrite)
    return doc


def read_profile(path: str) -> dict:
    """Read and check a profile written by :func:`write_profile`; the document as a dict."""
    return load_profile(path).to_json()

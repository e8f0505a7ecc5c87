"""Read a device noise profile written by ``scopecheck calibrate`` (``capture.profile``).

Only what ``compare`` needs is read: ``kind`` must be ``scopecheck-noise-profile/1`` and
``noise_sigma`` the noise of one captured shot (after the calibration's frame stacking) in 8-bit
digital numbers -- the same kind of image ``compare`` is given. A profile of another kind
or version is refused with a message to re-calibrate, never guessed at.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from .errors import InputError
from .load import read_bytes

PROFILE_KIND = "scopecheck-noise-profile/1"


@dataclass(frozen=True)
class NoiseProfile:
    path: str
    noise_sigma: float
    device: object  # as written by calibrate (a dict describing the device)


def load_profile(path) -> NoiseProfile:
    try:
        doc = json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"not a JSON noise profile ({e.__class__.__name__})", path=str(path)) from None
    if not isinstance(doc, dict) or doc.get("kind") != PROFILE_KIND:
        kind = doc.get("kind") if isinstance(doc, dict) else None
        raise InputError(f"profile kind is {kind!r}, expected {PROFILE_KIND!r}; re-run scopecheck calibrate",
                         path=str(path))
    sigma = doc.get("noise_sigma")
    if not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"profile noise_sigma must be a non-negative number, got {sigma!r}", path=str(path))
    return NoiseProfile(path=str(path), noise_sigma=float(sigma), device=doc.get("device"))

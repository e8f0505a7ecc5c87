"""The manifest written beside every shot: a frozen :class:`Manifest` with one :meth:`~Manifest.to_json`.

``<name>.manifest.json`` beside ``<name>.png``, ``kind: scopecheck-capture/1``. Sections:
``image`` (file name, sha256, pixel_sha256, size, channels, depth, chunks), ``device`` (device,
kind, backend, backend name, size, fourcc, fps), ``controls`` (one outcome per format setting and
control), ``restore_on_exit``, ``quirks`` (rows of the quirk table that apply), ``warmup``,
``stack``, ``noise``, ``software`` and ``time``; and, when used, ``settings`` (a saved settings
file re-applied and checked, with any mismatch), ``correction`` (dark/flat references and their
digests), ``reference`` (this shot is a dark or flat reference) and ``auto_freeze`` (which loop settled each control before it was locked). Time is only
in the manifest, never in the image.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from scopecheck.compare.digest import PIXEL_DIGEST_VERSION
from scopecheck.compare.errors import InputError
from scopecheck.compare.jsonfile import read_json

MANIFEST_KIND = "scopecheck-capture/1"
_MAX_MANIFEST_BYTES = 4 << 20


def _frozen(value: Any) -> Any:
    """Deep read-only copy: dicts become mapping proxies, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """Back to JSON types (str Enums become their text)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value.value) if hasattr(value, "value") else value
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


@dataclass(frozen=True)
class Manifest:
    """Everything that describes one shot. Sections are read-only mappings; build with keywords."""

    image: Mapping
    device: Mapping
    controls: Sequence = ()
    restore_on_exit: bool = True
    quirks: Sequence = ()
    warmup: Mapping = field(default_factory=dict)
    stack: Mapping = field(default_factory=dict)
    noise: Mapping = field(default_factory=dict)
    software: Mapping = field(default_factory=dict)
    time: Mapping = field(default_factory=dict)
    settings: Mapping | None = None
    correction: Mapping | None = None
    auto_freeze: Mapping | None = None
    reference: Mapping | None = None
    kind: str = MANIFEST_KIND

    def __post_init__(self):
        for name in ("image", "device", "controls", "quirks", "warmup", "stack", "noise", "software", "time",
                     "settings", "correction", "auto_freeze", "reference"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, _frozen(v))

    def with_file(self, name: str) -> Manifest:
        """The same manifest for an image saved under another file name."""
        return replace(self, image={**self.image, "file": name})

    def to_json(self) -> dict:
        """The manifest as plain JSON types, sections in a fixed order; absent options omitted."""
        order = ("kind", "image", "device", "controls", "restore_on_exit", "quirks", "warmup", "stack", "noise",
                 "settings", "correction", "auto_freeze", "reference", "software", "time")
        return {k: _plain(getattr(self, k)) for k in order if getattr(self, k) is not None}

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, doc: Mapping) -> Manifest:
        if not isinstance(doc, Mapping) or doc.get("kind") != MANIFEST_KIND:
            raise InputError(f"not a scopecheck capture manifest (kind {doc.get('kind')!r}, expected "
                             f"{MANIFEST_KIND})" if isinstance(doc, Mapping) else "not a JSON object")
        known = {f for f in cls.__dataclass_fields__}
        try:
            return cls(**{k: v for k, v in doc.items() if k in known})
        except TypeError as e:
            raise InputError(f"incomplete capture manifest: {e}") from None


def shot_manifest(session, name: str, result, sha: str, psha: str, series_index: int | None) -> Manifest:
    """The manifest of one shot of a :class:`capture.session.CaptureSession` saved as ``name``."""
    from . import png
    from .quirks import quirks_for
    from .recording import device_identity

    o, info, img = session.options, session.camera.info, result.image
    device = info.to_json()
    if session.camera.selected:
        device["selected"] = session.camera.selected
    seed = getattr(session.camera, "seed", None)
    if seed is not None:
        device["seed"] = seed
    settings = None
    if o.settings is not None:
        settings = {**o.settings.to_json(), "checks": list(session.settings_log), "reconnects": list(session.reconnects),
                    "ok": not any(c["mismatch"] for c in session.settings_log)
                    and not any(c.status == "mismatch" for c in session.outcomes)}
    elif session.reconnects:
        settings = {"file": None, "checks": [], "reconnects": list(session.reconnects), "ok": True}
    return Manifest(
        image={"file": name, "sha256": sha, "pixel_sha256": psha,
               "width": int(img.shape[1]), "height": int(img.shape[0]),
               "channels": 1 if img.ndim == 2 else int(img.shape[2]), "depth": o.depth,
               "format": "png", "png_chunks": ["IHDR", "IDAT", "IEND"],
               "png_encoder": {"filter": "paeth", **dict(png.ZLIB_SETTINGS)}},
        device=device,
        controls=[c.to_json() for c in session.outcomes],
        restore_on_exit=not o.keep_settings,
        quirks=quirks_for(info.backend),
        warmup={"mode": session.warmup.mode, "frames_discarded": session.warmup.discarded,
                "settled": session.warmup.settled, "message": session.warmup.message,
                "tolerance_dn": o.warmup_tolerance, "window": o.warmup_k},
        stack={"method": result.method, "frames_stacked": result.frames_stacked,
               "frames_rejected": result.frames_rejected, "frames_flushed": session.flushed},
        noise={"frame_sigma_dn": _r(result.noise_frame), "stack_sigma_dn": _r(result.noise_stack),
               "estimator": "std of consecutive-frame differences / sqrt(2), ~64 evenly spaced rows of the "
                            "first 8 pairs; stack = frame / sqrt(N) (x1.2533 for median)"},
        settings=settings,
        correction=o.correction.to_json() if o.correction is not None else None,
        auto_freeze=session.freeze,
        reference=None if o.reference is None else {"kind": o.reference, "frame_depth": result.frame_depth,
                                                    "device": device_identity(info)},
        software=software_versions(),
        time={"utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
              "series_index": series_index},
    )


def _r(v):
    return None if v is None else round(float(v), 4)


def read_manifest(path: str) -> Manifest:
    """Read and check a ``.manifest.json`` (bounded to 4 MiB, see :func:`compare.jsonfile.read_json`)."""
    doc = read_json(path, what="manifest", max_bytes=_MAX_MANIFEST_BYTES)
    try:
        return Manifest.from_json(doc)
    except InputError as e:
        raise InputError(str(e), path=path) from None


def software_versions() -> dict:
    import cv2

    from scopecheck.compare import __version__

    return {"scopecheck": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "opencv": cv2.__version__, "zlib": zlib.ZLIB_RUNTIME_VERSION, "platform": sys.platform,
            "pixel_digest": PIXEL_DIGEST_VERSION}


__all__ = ["MANIFEST_KIND", "Manifest", "read_manifest", "shot_manifest", "software_versions"]

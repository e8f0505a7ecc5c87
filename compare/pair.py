"""Compare two shots: exact bytes, exact pixels, perceptual sameness, and a verdict in words.

The pipeline does each piece of work once. Each file is read, decoded, digested, reduced to luma
and hashed in its own thread (OpenCV and hashlib release the GIL), then the pair is compared:

* ``identical-file``  -- the file bytes are equal (SHA-256);
* ``identical-pixels`` -- the decoded stored pixels are equal (pixel SHA-256) although the files
  differ; the reason names what differs (metadata entries, container, encoding);
* ``near-identical`` -- the same scene within noise: SSIM of the luma at least ``ssim_min`` and dHash
  distance at most ``dhash_max`` (see :class:`Thresholds` for the defaults and how they were chosen);
* ``different`` -- anything else, with the figure that decided it.

``ssim`` is always the raw Gaussian SSIM of the two luma images as given (after resizing the
larger to the smaller when sizes differ, flagged ``resized``).
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from .digest import file_sha256, pixel_sha256
from .errors import InputError
from .hashing import DEFAULT_HASH_SIZE, DHash, dhash_from_luma, luma
from .load import DEFAULT_MAX_PIXELS, Image, load
from .metadata import describe_differences, diff_metadata, read_metadata
from .similarity import diff_stats, psnr, ssim

REPORT_VERSION = 1
VERDICTS = ("identical-file", "identical-pixels", "near-identical", "different")
SAME_VERDICTS = frozenset(VERDICTS[:3])


@dataclass(frozen=True)
class Thresholds:
    """When two different-pixel shots count as ``near-identical``.

    Defaults measured on ``fixtures/compare`` (``fixtures/compare/README.md`` lists every pair's
    figures): repeat shots of one field under the sensor model score SSIM 0.93-0.99 and dHash
    distance 0-3; a neighbouring field or another specimen scores SSIM below 0.6 and distance 14+.
    """

    ssim_min: float = 0.90
    dhash_max: int = 6


@dataclass(frozen=True, eq=False)
class Side:
    """One file of the pair, prepared once."""

    image: Image
    sha256: str
    pixel_sha256: str
    luma: np.ndarray
    dhash: DHash
    metadata: dict

    def to_json(self) -> dict:
        img = self.image
        return {"path": img.path, "sha256": self.sha256, "pixel_sha256": self.pixel_sha256,
                "dhash": str(self.dhash), "flat": self.dhash.flat, "width": img.width,
                "height": img.height, "channels": img.channels, "dtype": img.dtype,
                "format": img.format, "bytes": len(img.data), "metadata": self.metadata}


def prepare(path: str | os.PathLike, *, hash_size: int = DEFAULT_HASH_SIZE,
            max_pixels: int = DEFAULT_MAX_PIXELS) -> Side:
    """Load one file and compute everything a comparison needs from it alone."""
    img = load(path, max_pixels=max_pixels)
    y = luma(img.pixels)
    return Side(image=img, sha256=file_sha256(img.data), pixel_sha256=pixel_sha256(img.pixels),
                luma=y, dhash=dhash_from_luma(y, hash_size=hash_size, max_value=img.max_value),
                metadata=read_metadata(img.data, img.format))


@dataclass(frozen=True, eq=False)
class Comparison:
    a: Side
    b: Side
    verdict: str
    reason: str
    file_equal: bool
    pixels_equal: bool
    metadata_differences: list
    dhash_distance: int
    ssim: float
    psnr: float
    max_abs_diff: float
    diff_fraction: float
    resized: bool
    common_luma: bool
    notes: tuple[str, ...]
    thresholds: Thresholds
    ssim_map: np.ndarray | None = field(default=None, repr=False)

    @property
    def same(self) -> bool:
        return self.verdict in SAME_VERDICTS

    @property
    def exit_code(self) -> int:
        return 0 if self.same else 1

    def to_json(self) -> dict:
        return {
            "version": REPORT_VERSION,
            "verdict": self.verdict,
            "reason": self.reason,
            "file_equal": self.file_equal,
            "pixels_equal": self.pixels_equal,
            "metadata_differences": [d.to_json() for d in self.metadata_differences],
            "dhash_distance": self.dhash_distance,
            "ssim": round(self.ssim, 6),
            "psnr": None if math.isinf(self.psnr) else round(self.psnr, 3),  # null = infinite
            "max_abs_diff": self.max_abs_diff,
            "diff_fraction": round(self.diff_fraction, 6),
            "resized": self.resized,
            "common_luma": self.common_luma,
            "notes": list(self.notes),
            "thresholds": {"ssim_min": self.thresholds.ssim_min, "dhash_max": self.thresholds.dhash_max},
            "a": self.a.to_json(),
            "b": self.b.to_json(),
        }


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2)
    return _POOL


def compare_files(path_a, path_b, *, thresholds: Thresholds = Thresholds(),
                  hash_size: int = DEFAULT_HASH_SIZE, max_pixels: int = DEFAULT_MAX_PIXELS,
                  want_map: bool = False) -> Comparison:
    """Compare two image files. Raises :class:`InputError` for unusable input.

    The two files are prepared concurrently; the first error in argument order is raised.
    """
    fa = _pool().submit(prepare, path_a, hash_size=hash_size, max_pixels=max_pixels)
    fb = _pool().submit(prepare, path_b, hash_size=hash_size, max_pixels=max_pixels)
    try:
        a = fa.result()
    finally:
        b_exc = fb.exception()
    if b_exc is not None:
        raise b_exc
    return compare_sides(a, fb.result(), thresholds=thresholds, want_map=want_map)


def _common_luma(a: Side, b: Side) -> tuple[np.ndarray, np.ndarray, float, list[str]]:
    """Luma of both on one scale: the shared depth, or 8-bit scale when depths differ."""
    notes = []
    ya, yb = a.luma, b.luma
    if a.image.channels != b.image.channels:
        notes.append(f"channels differ ({a.image.channels} vs {b.image.channels}); compared on luma")
    if ya.dtype != yb.dtype:
        notes.append(f"bit depths differ ({a.image.dtype} vs {b.image.dtype}); compared on 8-bit-scale luma")
        ya = ya.astype(np.float32) * np.float32(255.0 / a.image.max_value)
        yb = yb.astype(np.float32) * np.float32(255.0 / b.image.max_value)
        return ya, yb, 255.0, notes
    return ya, yb, float(a.image.max_value), notes


def compare_sides(a: Side, b: Side, *, thresholds: Thresholds = Thresholds(),
                  want_map: bool = False) -> Comparison:
    """Compare two prepared sides (see :func:`prepare`)."""
    if a.dhash.size != b.dhash.size:
        raise InputError(f"hash sizes differ ({a.dhash.size} vs {b.dhash.size})")
    notes: list[str] = []
    file_equal = a.sha256 == b.sha256
    pixels_equal = a.pixel_sha256 == b.pixel_sha256
    meta = diff_metadata(a.metadata, b.metadata) if not file_equal else []
    distance = a.dhash - b.dhash
    shape_a, shape_b = a.image.pixels.shape, b.image.pixels.shape
    resized = False
    common = False
    if pixels_equal:
        s, p, mx, frac = 1.0, math.inf, 0, 0.0
        smap = np.ones(a.luma.shape, np.float32) if want_map else None
    else:
        ya, yb, data_range, luma_notes = _common_luma(a, b)
        notes += luma_notes
        common = bool(luma_notes)
        if ya.shape != yb.shape:
            resized = True
            (ha, wa), (hb, wb) = ya.shape, yb.shape
            notes.append(f"sizes differ ({wa}x{ha} vs {wb}x{hb}); the larger was resized to the smaller for SSIM")
            if ha * wa > hb * wb:
                ya = cv2.resize(ya, (wb, hb), interpolation=cv2.INTER_AREA)
            else:
                yb = cv2.resize(yb, (wa, ha), interpolation=cv2.INTER_AREA)
        r = ssim(ya, yb, data_range=data_range, want_map=want_map)
        s, smap = r.mean, (r.map if want_map else None)
        p = psnr(ya, yb, data_range=data_range)
        if shape_a == shape_b and a.image.dtype == b.image.dtype:
            st = diff_stats(a.image.pixels, b.image.pixels)
            mx, frac = st.max_abs_diff, st.diff_fraction
            p = psnr(a.image.pixels, b.image.pixels, data_range=data_range)
        else:
            d = np.abs(ya.astype(np.float32) - yb.astype(np.float32))
            mx, frac = float(d.max()), float(np.count_nonzero(d)) / d.size
    verdict, reason = _verdict(a, b, file_equal=file_equal, pixels_equal=pixels_equal, meta=meta,
                               distance=distance, s=s, thresholds=thresholds, resized=resized)
    return Comparison(a=a, b=b, verdict=verdict, reason=reason, file_equal=file_equal,
                      pixels_equal=pixels_equal, metadata_differences=meta, dhash_distance=distance,
                      ssim=float(s), psnr=float(p), max_abs_diff=mx, diff_fraction=frac,
                      resized=resized, common_luma=common, notes=tuple(notes),
                      thresholds=thresholds, ssim_map=smap)


def _container_words(a: Side, b: Side) -> str:
    if a.image.format != b.image.format:
        return f"containers differ ({a.image.format.upper()} vs {b.image.format.upper()})"
    return f"{a.image.format.upper()} encoding differs (compression or chunk layout)"


def _verdict(a: Side, b: Side, *, file_equal, pixels_equal, meta, distance, s, thresholds, resized):
    if file_equal:
        return "identical-file", "files are byte-identical (same SHA-256)"
    if pixels_equal:
        what = describe_differences(meta) if meta else _container_words(a, b)
        return "identical-pixels", f"pixels identical; {what}"
    figures = f"SSIM {s:.4f}, dHash distance {distance}"
    if a.dhash.flat or b.dhash.flat:
        which = "both are" if a.dhash.flat and b.dhash.flat else ("A is" if a.dhash.flat else "B is")
        if s >= thresholds.ssim_min and a.dhash.flat and b.dhash.flat:
            return "near-identical", f"flat frames ({which} blank), same within noise: {figures}"
        return "different", f"{which} a flat/blank frame, dHash cannot vouch for sameness: {figures}"
    size_note = " after resizing" if resized else ""
    if s >= thresholds.ssim_min and distance <= thresholds.dhash_max:
        return "near-identical", f"same scene within noise{size_note}: {figures}"
    why = []
    if s < thresholds.ssim_min:
        why.append(f"SSIM {s:.4f} < {thresholds.ssim_min}")
    if distance > thresholds.dhash_max:
        why.append(f"dHash distance {distance} > {thresholds.dhash_max}")
    return "different", "pixels differ beyond noise" + size_note + ": " + ", ".join(why)

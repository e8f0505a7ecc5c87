"""Compare two shots: exact bytes, exact pixels, sameness within noise, and a verdict in words.

The pipeline does each piece of work once. Each file is read, decoded, digested, reduced to luma
and hashed in its own thread (OpenCV and hashlib release the GIL), then the pair is compared:

* ``identical-file``  -- the file bytes are equal (SHA-256);
* ``identical-pixels`` -- the decoded stored pixels are equal (pixel SHA-256) although the files
  differ; the reason names what differs (metadata entries, container, encoding);
* ``near-identical`` -- the same field within noise: after registration and photometric
  normalisation (:mod:`compare.align`) B lies within the noise floor of A everywhere -- no field
  move beyond ``max_shift``, no changed region of ``min_region`` or more, aligned correlation at
  least ``min_correlation`` and aligned SSIM at least ``ssim_min`` (and, if asked for, dHash
  distance at most ``dhash_max``);
* ``different`` -- anything else, with the figure that decided it and where.

``ssim`` is always the raw Gaussian SSIM of the two luma images as given (after resizing the
larger to the smaller when sizes differ, flagged ``resized``); the aligned, normalised figures
have keys of their own (``ssim_aligned``, ``shift``, ``exposure_change``, ``regions`` ...).
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from .align import Analysis, analyse, working_image
from .codec_noise import JpegTables, jpeg_tables
from .digest import file_sha256, pixel_sha256
from .errors import InputError
from .hashing import DEFAULT_HASH_SIZE, DHash, dhash_from_luma, image_dhash, luma
from .load import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, Image, load
from .metadata import describe_differences, diff_metadata, read_metadata
from .requantise import refocus_at_quantisation
from .similarity import diff_stats, psnr, psnr_from_mse, ssim
from .verdict import SAME_VERDICTS, VERDICTS, Thresholds, Verdict, decide, where

__all__ = ["SAME_VERDICTS", "VERDICTS", "Comparison", "Side", "Thresholds", "Verdict", "compare_arrays",
           "compare_files", "compare_sides", "prepare", "side_from_pixels"]

REPORT_VERSION = 1
MIN_SIDE = 16  # the SSIM window (11) plus registration margins; thinner images get the exact tests only
RESAMPLE_SLACK = 0.5  # edge slack (pixels of the smaller) when two resampling filters met
DEFAULT_THRESHOLDS = Thresholds()
BAND_LIMIT = 1.0  # Gaussian sigma (pixels of the smaller) applied to both sides of a rescaled pair


@dataclass(frozen=True, eq=False)
class Side:
    """One file of the pair, prepared once."""

    image: Image
    sha256: str
    pixel_sha256: str
    luma: np.ndarray
    dhash: DHash
    metadata: dict
    work: np.ndarray | None = field(default=None, repr=False)  # compare.align.working_image
    codec: JpegTables | None = field(default=None, repr=False)  # quantisation tables of a JPEG

    def to_json(self) -> dict:
        img = self.image
        return {"path": img.path, "sha256": self.sha256, "pixel_sha256": self.pixel_sha256,
                "dhash": str(self.dhash), "flat": self.dhash.flat, "width": img.width,
                "height": img.height, "channels": img.channels, "dtype": img.dtype,
                "format": img.format, "bytes": len(img.data), "metadata": self.metadata}


def prepare(path: str | os.PathLike, *, hash_size: int = DEFAULT_HASH_SIZE,
            max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES) -> Side:
    """Load one file and compute everything a comparison needs from it alone."""
    img = load(path, max_pixels=max_pixels, max_bytes=max_bytes)
    y = luma(img.pixels)
    return Side(image=img, sha256=file_sha256(img.data), pixel_sha256=pixel_sha256(img.pixels),
                luma=y, dhash=image_dhash(img, hash_size=hash_size, y=y),  # the reduction rule (hashing)
                metadata=read_metadata(img.data, img.format), work=working_image(img.pixels),
                codec=jpeg_tables(img.data) if img.format == "jpeg" else None)


@dataclass(frozen=True, eq=False)
class Comparison:
    a: Side
    b: Side
    verdict: Verdict
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
    analysis: Analysis | None = None
    ssim_map: np.ndarray | None = field(default=None, repr=False)
    same_field: bool = False

    @property
    def regions(self):
        return self.analysis.regions if self.analysis is not None else ()

    @property
    def same(self) -> bool:
        return self.verdict in SAME_VERDICTS

    @property
    def exit_code(self) -> int:
        return 0 if self.same else 1

    def to_json(self) -> dict:
        return {
            "version": REPORT_VERSION,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "same_field": self.same_field,
            "file_equal": self.file_equal,
            "pixels_equal": self.pixels_equal,
            "metadata_differences": [d.to_json() for d in self.metadata_differences],
            "dhash_distance": self.dhash_distance,
            "ssim": None if math.isnan(self.ssim) else round(self.ssim, 6),  # null: too small
            "psnr": None if math.isinf(self.psnr) else round(self.psnr, 3),  # null = infinite
            "max_abs_diff": self.max_abs_diff,
            "diff_fraction": round(self.diff_fraction, 6),
            "resized": self.resized,
            "common_luma": self.common_luma,
            "notes": list(self.notes),
            **_analysis_json(self.analysis),
            "thresholds": self.thresholds.to_json(),
            "a": self.a.to_json(),
            "b": self.b.to_json(),
        }


def _analysis_json(an: Analysis | None) -> dict:
    if an is None:  # equal pixels: nothing moved, nothing drifted, nothing changed
        return {"shift": {"dx": 0.0, "dy": 0.0}, "exposure_change": None, "noise_sigma": None,
                "ssim_aligned": 1.0, "correlation_aligned": 1.0, "changed_fraction": 0.0, "regions": []}
    return an.to_json()


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2)
    return _POOL


_ANALYSIS_POOL: ThreadPoolExecutor | None = None


def _analysis_pool() -> ThreadPoolExecutor:
    """Threads for :func:`compare.align.analyse` and the raw SSIM only (neither waits on this pool,
    so callers that are themselves pool threads cannot deadlock it)."""
    global _ANALYSIS_POOL
    if _ANALYSIS_POOL is None:
        _ANALYSIS_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="analyse")
    return _ANALYSIS_POOL


def compare_files(path_a, path_b, *, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                  hash_size: int = DEFAULT_HASH_SIZE, max_pixels: int = DEFAULT_MAX_PIXELS,
                  max_bytes: int = DEFAULT_MAX_BYTES,
                  want_map: bool = False) -> Comparison:
    """Compare two image files. Raises :class:`InputError` for unusable input.

    The two files are prepared concurrently; the first error in argument order is raised.
    """
    fa = _pool().submit(prepare, path_a, hash_size=hash_size, max_pixels=max_pixels, max_bytes=max_bytes)
    fb = _pool().submit(prepare, path_b, hash_size=hash_size, max_pixels=max_pixels, max_bytes=max_bytes)
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


def compare_sides(a: Side, b: Side, *, thresholds: Thresholds = DEFAULT_THRESHOLDS,
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
    analysis = None
    if pixels_equal:
        s, p, mx, frac = 1.0, math.inf, 0, 0.0
        smap = np.ones(a.luma.shape, np.float32) if want_map else None
    else:
        ya, yb, data_range, luma_notes = _common_luma(a, b)
        notes += luma_notes
        common = bool(luma_notes)
        scales = (1.0, 1.0)
        original = None
        if ya.shape != yb.shape:
            resized = True
            (ha, wa), (hb, wb) = ya.shape, yb.shape
            notes.append(f"sizes differ ({wa}x{ha} vs {wb}x{hb}); compared at the smaller size, the larger "
                         f"reduced with an area filter and both band-limited alike")
            scales = (max(1.0, wa / wb), max(1.0, wb / wa))
            big = ya if ha * wa > hb * wb else yb
            original = big.astype(np.float32) * np.float32(255.0 / data_range)  # 8-bit scale, full size
            if ha * wa > hb * wb:
                ya = cv2.resize(ya, (wb, hb), interpolation=cv2.INTER_AREA)
            else:
                yb = cv2.resize(yb, (wa, ha), interpolation=cv2.INTER_AREA)
        pa, pb = a.image.pixels, b.image.pixels
        works = (a.work, b.work)
        if pa.shape[:2] != pb.shape[:2]:
            works = (None, None)
            if ya.shape == pb.shape[:2]:
                pa = cv2.resize(pa, (pb.shape[1], pb.shape[0]), interpolation=cv2.INTER_AREA)
            else:
                pb = cv2.resize(pb, (pa.shape[1], pa.shape[0]), interpolation=cv2.INTER_AREA)
        if min(ya.shape) < MIN_SIDE:
            # too small for an SSIM window or a registration: only the exact tests can answer
            st = diff_stats(ya, yb) if ya.dtype == yb.dtype else None
            notes.append(f"images of {ya.shape[1]}x{ya.shape[0]} are too small for SSIM and alignment "
                         f"(need {MIN_SIDE}x{MIN_SIDE})")
            mx = st.max_abs_diff if st else float(np.abs(ya.astype(np.float64) - yb).max())
            return Comparison(a=a, b=b, verdict=Verdict.DIFFERENT, reason="pixels differ; " + notes[-1],
                              file_equal=False, pixels_equal=False, metadata_differences=meta,
                              dhash_distance=distance, ssim=math.nan, psnr=psnr(ya, yb, data_range=data_range),
                              max_abs_diff=mx, diff_fraction=st.diff_fraction if st else 1.0,
                              resized=resized, common_luma=common, notes=tuple(notes), thresholds=thresholds,
                              ssim_map=np.zeros(ya.shape, np.float32) if want_map else None)
        # the analysis (mostly one core, working scale) runs beside the full-resolution SSIM and
        # difference statistics (which fill both cores in bands); the same calls, in parallel
        pending = _analysis_pool().submit(
            analyse, pa, pb, noise_sigma=thresholds.noise_sigma,
            min_region_px=int(thresholds.min_region / 100 * pa.shape[0] * pa.shape[1]),
            a_work=works[0], b_work=works[1], codecs=(a.codec, b.codec),
            codec_scales=scales, band_limit=BAND_LIMIT if resized else 0.0,
            lumas=(ya, yb) if ya.shape == pa.shape[:2] else None,
            resampled_from=original,
            **({"edge_slack": RESAMPLE_SLACK} if resized else {}))
        # the SSIM (in bands on its own threads) beside the difference statistics of this thread
        pending_ssim = _analysis_pool().submit(ssim, ya, yb, data_range=data_range, want_map=want_map)
        if shape_a == shape_b and a.image.dtype == b.image.dtype:
            st = diff_stats(a.image.pixels, b.image.pixels)
            mx, frac = st.max_abs_diff, st.diff_fraction
            p = psnr_from_mse(st.mse, data_range=data_range)
        else:
            p = psnr(ya, yb, data_range=data_range)
            d = np.abs(ya.astype(np.float32) - yb.astype(np.float32))
            mx, frac = float(d.max()), float(np.count_nonzero(d)) / d.size
        r = pending_ssim.result()
        s, smap = r.mean, (r.map if want_map else None)
        analysis = pending.result()
        if ya.shape == pa.shape[:2]:  # a re-encode's double rounding is no refocus (compare.requantise)
            analysis = refocus_at_quantisation(analysis, (ya, yb), (a.codec, b.codec), scales, thresholds)
        scale_a = a.image.width / pa.shape[1]
        if scale_a != 1.0:
            analysis = _rescale(analysis, scale_a)
    verdict, reason, same_field = _verdict(a, b, file_equal=file_equal, pixels_equal=pixels_equal, meta=meta,
                                           distance=distance, analysis=analysis, thresholds=thresholds,
                                           resized=resized)
    return Comparison(a=a, b=b, verdict=verdict, reason=reason, file_equal=file_equal, same_field=same_field,
                      pixels_equal=pixels_equal, metadata_differences=meta, dhash_distance=distance,
                      ssim=float(s), psnr=float(p), max_abs_diff=mx, diff_fraction=frac,
                      resized=resized, common_luma=common, notes=tuple(notes),
                      thresholds=thresholds, analysis=analysis, ssim_map=smap)


def _container_words(a: Side, b: Side) -> str:
    if a.image.format != b.image.format:
        return f"containers differ ({a.image.format.upper()} vs {b.image.format.upper()})"
    return f"{a.image.format.upper()} encoding differs (compression or chunk layout)"


def _rescale(an: Analysis, k: float) -> Analysis:
    """Express an analysis made on a downscaled A in A's own pixels."""
    regs = tuple(replace(r, x=round(r.x * k), y=round(r.y * k), width=round(r.width * k),
                         height=round(r.height * k), area=round(r.area * k * k)) for r in an.regions)
    tiles = tuple(replace(t, x=round(t.x * k), y=round(t.y * k), size=round(t.size * k)) for t in an.focus_tiles)
    return replace(an, shift=(an.shift[0] * k, an.shift[1] * k), regions=regs, focus_tiles=tiles)


def _verdict(a: Side, b: Side, *, file_equal, pixels_equal, meta, distance, analysis, thresholds,
             resized) -> tuple[Verdict, str, bool]:
    if file_equal:
        return Verdict.IDENTICAL_FILE, "files are byte-identical (same SHA-256)", True
    if pixels_equal:
        what = describe_differences(meta) if meta else _container_words(a, b)
        return Verdict.IDENTICAL_PIXELS, f"pixels identical; {what}", True
    size_note = ""
    if resized:
        k = min(a.image.width, b.image.width) / max(a.image.width, b.image.width)
        size_note = f" (rescaled {k:.2f}x)"
    d = decide(analysis, distance=distance, thresholds=thresholds, size_note=size_note,
               frame_area=a.image.width * a.image.height, codec_note=_codec_note(a, b, analysis))
    return d.verdict, d.reason, d.same_field


def _codec_note(a: Side, b: Side, an: Analysis) -> str:
    lossy = [(n, s.codec) for n, s in (("A", a), ("B", b)) if s.codec is not None]
    if not lossy or not an.codec_bound:
        return ""
    q = ", ".join(f"{n} quality ~{c.quality}" for n, c in lossy)
    return f"; within JPEG quantisation noise ({q})"


_where = where  # kept for callers of the old private name


def side_from_pixels(pixels: np.ndarray, *, name: str = "<array>", hash_size: int = DEFAULT_HASH_SIZE) -> Side:
    """A :class:`Side` for an in-memory image (encoded as PNG in memory for the file digest)."""
    ok, buf = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise InputError(f"cannot encode an array of shape {pixels.shape} and dtype {pixels.dtype}")
    img = Image(path=name, data=buf.tobytes(), format="png", pixels=pixels)
    y = luma(pixels)
    return Side(image=img, sha256=file_sha256(img.data), pixel_sha256=pixel_sha256(pixels), luma=y,
                dhash=dhash_from_luma(y, hash_size=hash_size, max_value=img.max_value), metadata={})


def compare_arrays(a: np.ndarray, b: np.ndarray, *, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                   want_map: bool = False) -> Comparison:
    """Compare two in-memory images (uint8/uint16, gray/BGR/BGRA) as :func:`compare_files` would."""
    return compare_sides(side_from_pixels(a, name="A"), side_from_pixels(b, name="B"),
                         thresholds=thresholds, want_map=want_map)

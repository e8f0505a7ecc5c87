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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from .align import Analysis
from .codec_noise import CodecTables, jpeg_tables
from .digest import file_sha256, pages_sha256, pixel_sha256
from .errors import InputError
from .hashing import DEFAULT_HASH_SIZE, DHash, dhash_from_luma, image_dhash, luma
from .layouts import layout_change
from .load import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, Image, load
from .metadata import describe_differences, diff_metadata, read_metadata
from .pixel_pair import Started, start, surely_differ
from .second_look import as_reencode, displayed_alike
from .similarity import diff_stats, psnr, psnr_from_mse
from .transparency import AlphaDifference, alpha_difference
from .verdict import SAME_VERDICTS, VERDICTS, Thresholds, Verdict, decide, where
from .vp8_quant import webp_tables
from .working import working_image

__all__ = ["SAME_VERDICTS", "VERDICTS", "Comparison", "Side", "Thresholds", "Verdict", "compare_arrays",
           "compare_files", "compare_sides", "prepare", "side_from_pixels"]

REPORT_VERSION = 1
DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, eq=False)
class Side:
    """One file of the pair, prepared once."""

    image: Image
    sha256: str
    pixel_sha256: str
    luma: np.ndarray
    dhash: DHash
    metadata: dict
    work: np.ndarray | None = field(default=None, repr=False)  # compare.working.working_image
    codec: CodecTables | None = field(default=None, repr=False)  # a lossy file's quantisation (JPEG, WebP)

    def to_json(self) -> dict:
        img = self.image
        return {"path": img.path, "sha256": self.sha256, "pixel_sha256": self.pixel_sha256,
                "dhash": str(self.dhash), "flat": self.dhash.flat, "width": img.width,
                "height": img.height, "channels": img.channels, "dtype": img.dtype,
                "format": img.format, "bytes": len(img.data), "metadata": self.metadata}


def prepare(path: str | os.PathLike, *, hash_size: int = DEFAULT_HASH_SIZE,
            max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES) -> Side:
    """Load one file and compute everything a comparison needs from it alone."""
    return _finish_side(_decode(path, max_pixels=max_pixels, max_bytes=max_bytes), hash_size=hash_size)


@dataclass(frozen=True, eq=False)
class _Decoded:
    """One file decoded, before its digests: all the pixel comparison needs of it."""

    image: Image
    luma: np.ndarray
    work: np.ndarray | None
    codec: CodecTables | None


def _decode(path: str | os.PathLike, *, max_pixels: int, max_bytes: int) -> _Decoded:
    img = load(path, max_pixels=max_pixels, max_bytes=max_bytes)
    return _Decoded(image=img, luma=luma(img.pixels), work=working_image(img.pixels),
                    codec=codec_tables(img.data, img.format))


def codec_tables(data: bytes, fmt: str) -> CodecTables | None:
    """The quantisation model a lossy file carries (JPEG tables, WebP's VP8 quantisers), or None."""
    if fmt == "jpeg":
        return jpeg_tables(data)
    return webp_tables(data) if fmt == "webp" else None


def _finish_side(d: _Decoded, *, hash_size: int) -> Side:
    """The file's digests, dHash (the reduction rule, :mod:`compare.hashing`) and metadata."""
    img, y = d.image, d.luma
    return Side(image=img, sha256=file_sha256(img.data), pixel_sha256=pages_sha256(img.digest_pages()), luma=y,
                dhash=image_dhash(img, hash_size=hash_size, y=y), metadata=read_metadata(img.data, img.format),
                work=d.work, codec=d.codec)


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
    displayed: dict | None = None  # EXIF Orientation applied (compare.second_look.displayed_alike), when same
    reencode: dict | None = None   # the WebP side reproduced from the other (compare.second_look.as_reencode)
    window: dict | None = None     # the smaller side is a window of the larger (compare.window): where
    images: dict | None = None     # a stack or an animation on a side (compare.stacks): pages, which differ
    page: int = 0                  # the image (0-based) the figures, regions and map are of
    alpha: AlphaDifference | None = None  # the alpha channels differ (compare.transparency)

    def compared_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """A's and B's pixels as compared: the larger cut to the window when one is a crop of it
        (what the SSIM map and, less the window's offset, the regions refer to)."""
        # a stack's page (compare.stacks); a single image against a stack's page is itself
        pa, pb = (s.image.page(self.page if s.image.images > 1 else 0) for s in (self.a, self.b))
        w = self.window
        if w is not None:
            sl = (slice(w["y"], w["y"] + w["height"]), slice(w["x"], w["x"] + w["width"]))
            pa, pb = (pa[sl], pb) if w["side"] == "A" else (pa, pb[sl])
        return pa, pb

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
            "displayed": self.displayed,
            "reencode": self.reencode,
            "window": self.window,
            "images": self.images,
            "alpha": None if self.alpha is None else self.alpha.to_json(),
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
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="prepare")
    return _POOL


def compare_files(path_a, path_b, *, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                  hash_size: int = DEFAULT_HASH_SIZE, max_pixels: int = DEFAULT_MAX_PIXELS,
                  max_bytes: int = DEFAULT_MAX_BYTES,
                  want_map: bool = False, progress=None) -> Comparison:
    """Compare two image files. Raises :class:`InputError` for unusable input.

    ``progress(done, total, errors)`` is called as the pages of a stack are compared
    (:mod:`compare.stacks`; never for two single images).

    The two files are prepared concurrently; the first error in argument order is raised. As soon
    as both are decoded, the pixel comparison (SSIM, analysis) starts beside their digests, dHashes
    and metadata when the pixels visibly differ (:func:`compare.pixel_pair.surely_differ`); the digests still decide.
    """
    limits = {"max_pixels": max_pixels, "max_bytes": max_bytes}
    decoded: tuple[Future, Future] = (Future(), Future())
    fa, fb = (_pool().submit(_prepare_telling, p, d, hash_size=hash_size, **limits)
              for p, d in zip((path_a, path_b), decoded))
    started = None
    if decoded[0].exception() is None and decoded[1].exception() is None:
        da, db = decoded[0].result(), decoded[1].result()
        if da.image.images == db.image.images == 1 and surely_differ(da, db):
            started = start(da, db, thresholds=thresholds, want_map=want_map)
    try:
        a = fa.result()
    finally:
        b_exc = fb.exception()
    if b_exc is not None:
        raise b_exc
    return compare_sides(a, fb.result(), thresholds=thresholds, want_map=want_map, _started=started,
                         progress=progress)


def _prepare_telling(path, decoded: Future, *, hash_size: int, max_pixels: int, max_bytes: int) -> Side:
    """:func:`prepare`, setting ``decoded`` to the :class:`_Decoded` file as soon as there is one."""
    try:
        d = _decode(path, max_pixels=max_pixels, max_bytes=max_bytes)
    except BaseException as e:
        decoded.set_exception(e)
        raise
    decoded.set_result(d)
    return _finish_side(d, hash_size=hash_size)


def compare_sides(a: Side, b: Side, *, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                  want_map: bool = False, _started: Started | None = None, progress=None) -> Comparison:
    """Compare two prepared sides (see :func:`prepare`). ``_started``: :func:`compare.pixel_pair.start` of the same
    pair, already under way (:func:`compare_files`)."""
    if a.dhash.size != b.dhash.size:
        raise InputError(f"hash sizes differ ({a.dhash.size} vs {b.dhash.size})")
    file_equal = a.sha256 == b.sha256
    pixels_equal = a.pixel_sha256 == b.pixel_sha256
    layout = None
    if (not pixels_equal and a.image.images == b.image.images == 1
            and a.image.source is None and b.image.source is None):  # 8/16-bit samples, one image each
        layout = layout_change(a.image.pixels, b.image.pixels)  # gray as RGB, an opaque alpha: equal values
        pixels_equal = layout is not None
    if not pixels_equal and (a.image.images > 1 or b.image.images > 1):  # page by page (compare.stacks)
        from .stacks import compare_stacks

        return compare_stacks(a, b, compare_one=compare_sides, thresholds=thresholds, want_map=want_map,
                              progress=progress)
    meta = diff_metadata(a.metadata, b.metadata) if not file_equal else []
    distance = a.dhash - b.dhash
    shape_a, shape_b = a.image.pixels.shape, b.image.pixels.shape
    alpha = None
    if pixels_equal:
        notes: list[str] = []
        resized = common = False
        analysis = None
        s, p, mx, frac = 1.0, math.inf, 0, 0.0
        smap = np.ones(a.luma.shape, np.float32) if want_map else None
    else:
        st0 = _started or start(a, b, thresholds=thresholds, want_map=want_map)
        ya, yb, data_range, notes, resized, common = st0.ya, st0.yb, st0.data_range, st0.notes, st0.resized, st0.common
        if st0.analysis is None or st0.ssim is None:
            # too small for an SSIM window or a registration: only the exact tests can answer
            st = diff_stats(ya, yb) if ya.dtype == yb.dtype else None
            mx = st.max_abs_diff if st else float(np.abs(ya.astype(np.float64) - yb).max())
            return Comparison(a=a, b=b, verdict=Verdict.DIFFERENT, reason="pixels differ; " + notes[-1],
                              file_equal=False, pixels_equal=False, metadata_differences=meta,
                              dhash_distance=distance, ssim=math.nan, psnr=psnr(ya, yb, data_range=data_range),
                              max_abs_diff=mx, diff_fraction=st.diff_fraction if st else 1.0,
                              resized=resized, common_luma=common, notes=tuple(notes), thresholds=thresholds,
                              ssim_map=np.zeros(ya.shape, np.float32) if want_map else None)
        # the difference statistics in this thread, beside the SSIM and the analysis
        if shape_a == shape_b and a.image.dtype == b.image.dtype:
            st = diff_stats(a.image.pixels, b.image.pixels)
            mx, frac = st.max_abs_diff, st.diff_fraction
            p = psnr_from_mse(st.mse, data_range=data_range)
        else:
            p = psnr(ya, yb, data_range=data_range)
            d = np.abs(ya.astype(np.float32) - yb.astype(np.float32))
            mx, frac = float(d.max()), float(np.count_nonzero(d)) / d.size
        r = st0.ssim.result()  # (this thread takes SSIM chunks too, as the analysis's thread when done)
        s, smap = r.mean, (r.map if want_map else None)
        analysis = st0.analysis.result()
        win0 = st0.window
        alpha = alpha_difference(*st0.alpha, shift=analysis.shift, min_region_px=st0.min_region_px, scale=st0.scale_a,
                                 offset=(win0[1].x, win0[1].y) if win0 is not None and win0[0] == "A" else (0, 0))
        if st0.scale_a != 1.0:
            analysis = _rescale(analysis, st0.scale_a)
    window = None if pixels_equal else st0.window
    if window is not None and window[0] == "A":  # regions in A's own pixels: the window's offset added
        analysis = _offset(analysis, window[1].x, window[1].y)
    # a shift and a window's margins are in A's stored pixels; max_shift is in the sensor's
    stored = replace(thresholds, max_shift=thresholds.max_shift * thresholds.native_scale)
    verdict, reason, same_field = _verdict(a, b, file_equal=file_equal, pixels_equal=pixels_equal, meta=meta,
                                           distance=distance, analysis=analysis, thresholds=stored,
                                           resized=resized, layout=layout)
    window_json = None
    if window is not None:
        verdict, reason, same_field, window_json = _judge_window(window, a, b, verdict, reason, same_field,
                                                                 stored)
    displayed = reencode = None
    if verdict not in SAME_VERDICTS and _one_field(analysis, stored):  # a re-encode moves no field
        again = as_reencode(a, b, thresholds)
        if again is not None:  # the WebP side is what libwebp makes of the other side
            c, reencode = again
            verdict, same_field = Verdict.NEAR_IDENTICAL, True
            # the figures of the comparison that decided; reproduced pixel for pixel: nothing changed
            analysis = c.analysis or replace(analysis, regions=(), changed_fraction=0.0)
            how = "pixel for pixel" if c.pixels_equal else f"({c.reason})"
            if reencode["codec"] == "JPEG":
                reason = (f"{reencode['side']} is {reencode['of']} re-encoded as a JPEG: {reencode['of']} through "
                          f"{reencode['side']}'s quantisation tables (quality ~{reencode['quality']}) reproduces it {how}")
            else:
                reason = (f"{reencode['side']} is {reencode['of']} re-encoded as a WebP: libwebp at "
                          f"{reencode['side']}'s quantisers (base {reencode['quantisers'][0]}) reproduces it {how}")
    if alpha is not None:  # transparency is part of the picture (compare.transparency)
        if alpha.decides and verdict in SAME_VERDICTS:
            verdict, reason = Verdict.DIFFERENT, "same field; " + alpha.words()
        elif alpha.decides:
            reason += "; also " + alpha.words()
        else:
            notes.append(alpha.words())
    if verdict == Verdict.NEAR_IDENTICAL and window is None and not common and analysis is not None:
        from .colour_mix import MIX_MAX, mix, words as mix_words

        mixed = mix(a.image.pixels, b.image.pixels, shift=analysis.shift)
        if mixed is not None and mixed[0] > MIX_MAX:  # a hue or saturation edit: no white balance
            verdict, same_field, reason = Verdict.DIFFERENT, True, "same field; " + mix_words(*mixed)
    if verdict not in SAME_VERDICTS:
        displayed = displayed_alike(a, b, thresholds)
    if displayed is not None:
        reason += f"; as displayed (EXIF Orientation applied: {displayed['applied']}) {displayed['verdict']}"
    return Comparison(a=a, b=b, verdict=verdict, reason=reason, file_equal=file_equal, same_field=same_field,
                      displayed=displayed, reencode=reencode, window=window_json, alpha=alpha,
                      pixels_equal=pixels_equal, metadata_differences=meta, dhash_distance=distance,
                      ssim=float(s), psnr=float(p), max_abs_diff=mx, diff_fraction=frac,
                      resized=resized, common_luma=common, notes=tuple(notes),
                      thresholds=thresholds, analysis=analysis, ssim_map=smap)


def _one_field(an: Analysis | None, t: Thresholds) -> bool:
    """The aligned pair shows one field (correlated, not shifted beyond ``max_shift``): what a
    re-encode of one side could be, whatever changed in it."""
    return an is not None and an.correlation >= t.min_correlation and max(map(abs, an.shift)) <= t.max_shift


def _container_words(a: Side, b: Side) -> str:
    if a.image.format != b.image.format:
        return f"containers differ ({a.image.format.upper()} vs {b.image.format.upper()})"
    return f"{a.image.format.upper()} encoding differs (compression or chunk layout)"


def _rescale(an: Analysis, k: float) -> Analysis:
    """Express an analysis made on a downscaled A in A's own pixels."""
    regs = tuple(replace(r, x=round(r.x * k), y=round(r.y * k), width=round(r.width * k),
                         height=round(r.height * k), area=round(r.area * k * k)) for r in an.regions)
    tiles = tuple(replace(t, x=round(t.x * k), y=round(t.y * k), size=round(t.size * k)) for t in an.focus_tiles)
    objs = tuple(replace(o, x=round(o.x * k), y=round(o.y * k), width=round(o.width * k), height=round(o.height * k),
                         px=o.px * k) for o in an.moved_objects_at)
    return replace(an, shift=(an.shift[0] * k, an.shift[1] * k), regions=regs, focus_tiles=tiles, moved_objects_at=objs)


def _judge_window(window, a: Side, b: Side, verdict: Verdict, reason: str, same_field: bool,
                  t: Thresholds) -> tuple[Verdict, str, bool, dict]:
    """A crop pair: the window's verdict stands when the crop trimmed at most ``max_shift`` off every
    side (a field of view moved no further than a shift may); trimmed more, another field of view.
    Returns the verdict, reason and ``same_field``, and the JSON ``window``."""
    side, win = window
    big_shape = (a if side == "A" else b).image.pixels.shape
    margins = win.margins(big_shape)
    share = win.share(big_shape)
    doc = {"side": side, "x": win.x, "y": win.y, "width": win.width, "height": win.height,
           "share": round(share, 6), "trimmed": dict(zip(("left", "top", "right", "bottom"), margins)),
           "correlation": round(win.correlation, 5), "resize_correlation": round(win.resize_correlation, 5)}
    where = f"{'B' if side == 'A' else 'A'} is {side}'s window at ({win.x}, {win.y}), {win.width}x{win.height}"
    if max(margins) > t.max_shift:
        return (Verdict.DIFFERENT, f"field of view differs: {where} ({100 * share:.0f} % of {side}'s field); "
                f"within it, {reason}", False, doc)
    if verdict in SAME_VERDICTS:
        reason += f"; {side}'s border trimmed by up to {max(margins)} px ({where})"
    return verdict, reason, same_field, doc


def _offset(an: Analysis, x: int, y: int) -> Analysis:
    """An analysis made on a window of A, its regions and focus tiles in A's own pixels."""
    regs = tuple(replace(r, x=r.x + x, y=r.y + y) for r in an.regions)
    tiles = tuple(replace(t, x=t.x + x, y=t.y + y) for t in an.focus_tiles)
    objs = tuple(replace(o, x=o.x + x, y=o.y + y) for o in an.moved_objects_at)
    return replace(an, regions=regs, focus_tiles=tiles, moved_objects_at=objs)


def _verdict(a: Side, b: Side, *, file_equal, pixels_equal, meta, distance, analysis, thresholds,
             resized, layout: str | None = None) -> tuple[Verdict, str, bool]:
    if file_equal:
        return Verdict.IDENTICAL_FILE, "files are byte-identical (same SHA-256)", True
    if pixels_equal:
        what = describe_differences(meta) if meta else _container_words(a, b)
        every = f" (all {a.image.images} images)" if a.image.images > 1 else ""
        how = f" ({layout})" if layout else ""
        return Verdict.IDENTICAL_PIXELS, f"pixels identical{every}{how}; {what}", True
    size_note = ""
    if resized:
        k = min(a.image.width, b.image.width) / max(a.image.width, b.image.width)
        size_note = f" (rescaled {k:.2f}x)"
    if thresholds.native_scale > 1.0:
        size_note += f" (at the sensor's scale, 1/{thresholds.native_scale:g})"
    stretched = a.image.stretched is not None or b.image.stretched is not None  # levels of their own
    d = decide(analysis, distance=distance, thresholds=thresholds, size_note=size_note,
               frame_area=a.image.width * a.image.height, codec_note=_codec_note(a, b, analysis),
               levels=not stretched, dn=stored_dn(a.image, b.image))
    return d.verdict, d.reason, d.same_field


def stored_dn(a: Image, b: Image) -> float:
    """Stored levels per 8-bit level of a pair compared in its own units: 257 when both sides hold
    16-bit samples (not a stretched rendering), else 1 (the pair is compared on the 8-bit scale)."""
    same16 = a.dtype == b.dtype == "uint16" and a.stretched is None and b.stretched is None
    return 257.0 if same16 else 1.0


def _codec_note(a: Side, b: Side, an: Analysis) -> str:
    lossy = [(n, s.codec) for n, s in (("A", a), ("B", b)) if s.codec is not None and s.codec.in_floor]
    if (not lossy or not an.codec_bound) and an.copied_blocks > 0:  # PNGs of decoded video (cause 29)
        pct = 100 * an.copied_blocks  # never "100 %" for a share that is not all of them
        share = f"{pct:.0f}" if pct < 99.5 or an.copied_blocks >= 1.0 else f"{min(pct, 99.9):.1f}"
        return (f"; within the codec's noise in the blocks it coded ({share} % of blocks "
                f"bit-identical: decoded frames of a block codec)")
    if not lossy or not an.codec_bound:
        return ""
    q = ", ".join(f"{n} {c.label}" for n, c in lossy)
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

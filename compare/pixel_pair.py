"""The pixel comparison of a pair: both images on one scale, then the noise-aware analysis
(:func:`compare.align.analyse`) started in a thread and the full-resolution SSIM set up as a job
that the caller computes beside it (the analysis's thread joins when done).

:func:`compare.pair.compare_files` starts it as soon as both files are decoded, beside their
digests, dHashes and metadata; :func:`compare.pair.compare_sides` finishes it.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

from .align import Analysis, analyse
from .codec_noise import CodecTables
from .layouts import layout_change
from .load import Image
from .photometric import LUMA_BGR
from .requantise import refocus_at_quantisation
from .similarity import SSIMJob, ssim_job
from .transparency import alpha_plane
from .verdict import Thresholds
from .window import Window, find_window
from .zoom import similarity, undo

MIN_SIDE = 16  # the SSIM window (11) plus registration margins; thinner images get the exact tests only
RESAMPLE_SLACK = 0.5  # edge slack (pixels of the smaller) when two resampling filters met
BAND_LIMIT = 1.0  # Gaussian sigma (pixels of the smaller) applied to both sides of a rescaled pair


class Decoded(Protocol):
    """What the pixel comparison needs of a side (a :class:`compare.pair.Side` has it)."""

    @property
    def image(self) -> Image: ...
    @property
    def luma(self) -> np.ndarray: ...
    @property
    def work(self) -> np.ndarray | None: ...
    @property
    def codec(self) -> CodecTables | None: ...


_ANALYSIS_POOL: ThreadPoolExecutor | None = None


def _analysis_pool() -> ThreadPoolExecutor:
    """Threads for :func:`compare.align.analyse`, each then helping its pair's raw SSIM (nothing
    run here waits on this pool, so callers that are themselves pool threads cannot deadlock it)."""
    global _ANALYSIS_POOL
    if _ANALYSIS_POOL is None:
        _ANALYSIS_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="analyse")
    return _ANALYSIS_POOL


def surely_differ(a: Decoded, b: Decoded) -> bool:
    """The stored pixels differ, by a cheap look (every 61st row): the pair needs the pixel
    comparison whatever the digests say. False when unsure (then the digests decide first)."""
    pa, pb = a.image.pixels, b.image.pixels
    if pa.shape[:2] == pb.shape[:2] and pa.dtype == pb.dtype and pa.shape != pb.shape:
        return layout_change(pa[::61], pb[::61]) is None  # gray stored as RGB, an opaque alpha: the same values?
    if pa.shape != pb.shape or pa.dtype != pb.dtype:
        return True
    return a.image.data != b.image.data and not np.array_equal(pa[::61], pb[::61])


def _common_luma(a: Decoded, b: Decoded) -> tuple[np.ndarray, np.ndarray, float, list[str]]:
    """Luma of both on one scale: the shared depth, or 8-bit scale when depths differ."""
    notes = []
    ya, yb = a.luma, b.luma
    for name, img in (("A", a.image), ("B", b.image)):
        if img.stretched is not None:  # compare.load.render16: a processed image in its own units
            lo, hi = img.stretched
            notes.append(f"{name}'s {img.dtype} samples ({lo:.6g} to {hi:.6g}) are compared stretched over their "
                         f"own range: brightness up to a gain and an offset")
    if a.image.channels != b.image.channels:
        notes.append(f"channels differ ({a.image.channels} vs {b.image.channels}); compared on luma")
    if ya.dtype != yb.dtype:
        notes.append(f"bit depths differ ({a.image.dtype} vs {b.image.dtype}); compared on 8-bit-scale luma")
        ya = ya.astype(np.float32) * np.float32(255.0 / a.image.max_value)
        yb = yb.astype(np.float32) * np.float32(255.0 / b.image.max_value)
        return ya, yb, 255.0, notes
    return ya, yb, float(a.image.max_value), notes


def achromatic(pixels: np.ndarray) -> bool:
    """A colour image whose colour channels are all equal: a gray picture stored as colour (a gray
    + alpha PNG decodes so, as do gray exports saved as RGB). A sparse grid is looked at first; only
    when it is gray is every pixel."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        return False
    for c in (pixels[::7, ::7, :3], pixels[..., :3]):
        if not (np.array_equal(c[..., 0], c[..., 1]) and np.array_equal(c[..., 1], c[..., 2])):
            return False
    return True


#: Correlation of every colour channel with the image's own luma at which its colour is a cast on
#: one gray picture (each channel a scaling of it: a white-balance drift of a gray shot), not colour
#: structure of its own.
TINT_CORRELATION = 0.999


def tinted_gray(pixels: np.ndarray) -> bool:
    """A colour image each of whose channels is (within 0.1 %) a scaling of one gray picture: its
    colour is a cast, which a per-channel gain describes (judged on an even grid of ~50k pixels)."""
    h, w = pixels.shape[:2]
    k = max(1, int((h * w / 50_000) ** 0.5))
    x = pixels[::k, ::k, :3].reshape(-1, 3).astype(np.float64)
    y = x @ np.array(LUMA_BGR)
    y -= y.mean()
    x -= x.mean(axis=0)
    vy, vx = float(y @ y), (x * x).sum(axis=0)
    if vy <= 0 or (vx <= 0).any():
        return True
    return bool(((y @ x) / np.sqrt(vy * vx)).min() >= TINT_CORRELATION)


@dataclass(frozen=True, eq=False)
class Started:
    """The pixel comparison of a pair under way: the lumas compared, their range, the notes, and
    the SSIM and analysis futures (None when the images are too small for either)."""

    ya: np.ndarray
    yb: np.ndarray
    data_range: float
    notes: list[str]
    resized: bool
    common: bool
    scale_a: float
    ssim: SSIMJob | None
    analysis: Future | None
    window: tuple[str, Window] | None = None  # ("A" or "B": the larger side, cut to the window)
    alpha: tuple[np.ndarray | None, np.ndarray | None] = (None, None)  # alpha samples on the compared grid
    min_region_px: int = 0  # the thresholds' min_region on the compared grid


def start(a: Decoded, b: Decoded, *, thresholds: Thresholds, want_map: bool) -> Started:
    """Bring both onto one scale and start the SSIM and the analysis (:func:`compare.pair.compare_sides`)."""
    ya, yb, data_range, notes = _common_luma(a, b)
    common = bool(notes)
    resized = False
    scales = (1.0, 1.0)
    original = original_side = None
    pa, pb = a.image.pixels, b.image.pixels
    alphas: list[np.ndarray | None] = [alpha_plane(pa), alpha_plane(pb)]  # brought onto the compared grid as the pixels are
    works = (a.work, b.work)
    if pa.ndim == 3 and pb.ndim == 3:
        gray = (achromatic(pa), achromatic(pb))
        # colour against a gray copy: each channel's gain fit would read its colour as a drift (a
        # colour that is only a cast on the gray picture stays channel by channel: a white balance)
        if gray[0] != gray[1] and not tinted_gray(pb if gray[0] else pa):
            notes.append(f"{'AB'[gray[1]]} is gray (its colour channels are equal); compared on luma")
            common = True
            pa, pb, works = a.luma, b.luma, (None, None)
    native = thresholds.native_scale
    if native > 1.0:  # a camera's interpolated size: both judged at the sensor's pixels (native_frame)
        ya, yb, pa, pb = (native_frame(x, native) for x in (ya, yb, pa, pb))
        alphas = [None if x is None else native_frame(x, native) for x in alphas]
        works = (None, None)
        notes.append(f"judged at the sensor's scale: both reduced 1/{native:g} with an area filter "
                     f"(native scale {native:g}: an interpolated size)")
    cut = reduced = None
    if ya.shape != yb.shape:  # one may be a window of the other (a crop), not a resized copy
        larger = 0 if ya.size > yb.size else 1
        big, small = (ya, yb)[larger], (yb, ya)[larger]
        # the larger reduced by area to the smaller's size: the resize hypothesis, and the compared
        # luma below when it wins
        reduced = cv2.resize(big, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
        win = find_window(big, small, reduced=reduced)
        if win is not None:
            reduced = None
            sl = (slice(win.y, win.y + win.height), slice(win.x, win.x + win.width))
            if larger == 0:
                ya, pa = ya[sl], pa[sl]
            else:
                yb, pb = yb[sl], pb[sl]
            cut_alpha = alphas[larger]
            if cut_alpha is not None:
                alphas[larger] = cut_alpha[sl]
            works = (None, None)
            if native > 1.0:  # the window in the larger's stored pixels
                win = win._replace(x=round(win.x * native), y=round(win.y * native),
                                   width=round(win.width * native), height=round(win.height * native))
            cut = ("AB"[larger], win)
            left, top, right, bottom = win.margins((a.image.pixels, b.image.pixels)[larger].shape)
            notes.append(f"{'BA'[larger]} is a window of {'AB'[larger]}: {'AB'[larger]} cropped to ({win.x}, {win.y}) "
                         f"{win.width}x{win.height} (trimmed left {left}, top {top}, right {right}, bottom {bottom} px)")
    if ya.shape != yb.shape:
        resized = True
        (ha, wa), (hb, wb) = ya.shape, yb.shape
        notes.append(f"sizes differ ({wa}x{ha} vs {wb}x{hb}); compared at the smaller size, the larger "
                     f"reduced with an area filter and both band-limited alike")
        scales = (max(1.0, wa / wb), max(1.0, wb / wa))
        big = ya if ha * wa > hb * wb else yb
        original_side = 0 if ha * wa > hb * wb else 1
        original = big.astype(np.float32) * np.float32(255.0 / data_range)  # 8-bit scale, full size
        assert reduced is not None  # made above for the window test: the same reduction
        if ha * wa > hb * wb:
            ya = reduced
        else:
            yb = reduced
    if pa.shape[:2] != pb.shape[:2]:
        works = (None, None)
        if ya.shape == pb.shape[:2]:
            pa = cv2.resize(pa, (pb.shape[1], pb.shape[0]), interpolation=cv2.INTER_AREA)
        else:
            pb = cv2.resize(pb, (pa.shape[1], pa.shape[0]), interpolation=cv2.INTER_AREA)
    size = (ya.shape[1], ya.shape[0])
    alphas = [x if x is None or x.shape == ya.shape else cv2.resize(np.ascontiguousarray(x), size,
                                                                     interpolation=cv2.INTER_AREA)
              for x in alphas]
    scale_a = a.image.width / pa.shape[1] if cut is None else native
    if min(ya.shape) < MIN_SIDE:
        notes.append(f"images of {ya.shape[1]}x{ya.shape[0]} are too small for SSIM and alignment "
                     f"(need {MIN_SIDE}x{MIN_SIDE})")
        return Started(ya, yb, data_range, notes, resized, common, scale_a, None, None, cut)
    # the analysis (mostly one core, working scale) runs beside the full-resolution SSIM, which the
    # caller's thread computes in chunks when it asks for it (compare_sides, after the digests and
    # the difference statistics) and the analysis's thread joins when done (SSIMJob): the SSIM
    # fills whatever the analysis leaves of the cores. No thread of its own from the start: with
    # two cores there is always another thread to run then (the files' digests, the analysis and
    # its parts), and each extra SSIM thread only added context switches and a strip's scratch
    # (10 MB) to the caches shared with the analysis (a 5 MP compare's CPU 15-60 ms lower without
    # the two early helpers in five interleaved runs)
    job = ssim_job(ya, yb, data_range=data_range, want_map=want_map)
    min_region_px = int(thresholds.min_region / 100 * pa.shape[0] * pa.shape[1])
    pending = _analysis_pool().submit(
        _analyse_then_help, job, thresholds, pa, pb, noise_sigma=thresholds.noise_sigma,
        min_region_px=min_region_px,
        a_work=works[0], b_work=works[1], codecs=(a.codec, b.codec),
        codec_scales=(scales[0] * native, scales[1] * native), band_limit=BAND_LIMIT if resized else 0.0,
        lumas=(ya, yb) if ya.shape == pa.shape[:2] else None,
        resampled_from=original, resampled_side=original_side,
        **({"edge_slack": RESAMPLE_SLACK} if resized else {}))
    return Started(ya, yb, data_range, notes, resized, common, scale_a, job, pending, cut, (alphas[0], alphas[1]),
                   min_region_px)


def native_frame(x: np.ndarray, native: float) -> np.ndarray:
    """``x`` (an image, a luma or an alpha plane) reduced by ``native`` with an area filter: a
    camera's interpolated size brought back to its sensor's pixels, where its noise, a blur and a
    stage's jitter are what they are on the sensor (an enlargement spreads each by the factor and
    smooths the noise the tests measure per pixel; ``bench/bench_interpolated.py``)."""
    h, w = x.shape[:2]
    size = (max(1, round(w / native)), max(1, round(h / native)))
    return cv2.resize(np.ascontiguousarray(x), size, interpolation=cv2.INTER_AREA)


def _analyse_then_help(job: SSIMJob, thresholds: Thresholds, a_pixels: np.ndarray, b_pixels: np.ndarray,
                       **kw) -> Analysis:
    """The analysis, with the quantisation of the sides whose codec is part of the floor
    (:attr:`compare.codec_noise.CodecTables.in_floor`; a WebP's is reproduced instead, by
    :mod:`compare.second_look`); its focus judged again at a coarser lossy side's quantisation when
    near a verdict (:mod:`compare.requantise`: a re-encode's double rounding is no refocus)."""
    try:
        codecs = kw.pop("codecs")
        sim = None
        if kw["lumas"] is not None and kw["band_limit"] == 0 and kw["resampled_from"] is None:
            # a magnification (zoom, a refocus's breathing) between two shots of one field: both resampled
            # half-way by it, as the registration does for a translation (compare.zoom)
            works = kw["a_work"], kw["b_work"]
            if works[0] is not None and works[1] is not None and works[0].shape == works[1].shape:
                # the working images the analysis takes anyway (a 5 MP pair's lumas cost 50 ms more)
                sim = similarity(*(x if x.ndim == 2 else cv2.cvtColor(x, cv2.COLOR_BGR2GRAY) for x in works),
                                 scale=a_pixels.shape[1] / works[0].shape[1], max_px=thresholds.max_shift)
            else:
                sim = similarity(*kw["lumas"], max_px=thresholds.max_shift)
            if sim is not None:
                a_pixels, b_pixels = undo(a_pixels, sim, -0.5), undo(b_pixels, sim, 0.5)
                kw["lumas"] = (undo(kw["lumas"][0], sim, -0.5), undo(kw["lumas"][1], sim, 0.5))
                kw["a_work"] = kw["b_work"] = None
        an = analyse(a_pixels, b_pixels, codecs=tuple(t if t is not None and t.in_floor else None for t in codecs),
                     **kw)
        if kw["lumas"] is not None:
            an = refocus_at_quantisation(an, kw["lumas"], codecs, kw["codec_scales"], thresholds)
        return an if sim is None else replace(an, zoom=sim)
    finally:
        job.help()

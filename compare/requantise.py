"""Focus judged at the coarser lossy side's quantisation: a re-encode is no refocus.

A re-encode rounds DCT coefficients that the first encode had already rounded (double
quantisation). The new steps round the smallest coefficients up as often as down, so the copy's
fine band can carry more energy than the original's, and that extra energy is correlated with
the picture. Measured on opencv's apple and orange (q85 originals), a q75 copy reads +19 % sharper
at the sharpness test's finest band, against a threshold of 20 %. A noise allowance cannot take this
out. Both the q^2/12 figure and the coherence test assume errors that are independent of the
picture, and here they are not.

So when the focus figures of a pair come near a verdict and one side is a JPEG with coarser
tables than the other, the finer side's luma is passed through that side's own luma quantiser
(a gray baseline JPEG with exactly its table, decoded by OpenCV like every JPEG here). Then the
focus is judged again on the two lumas. Both sides then carry the same rounding, so a re-encode
compares as itself (pixel-equal when the encoder is the same), while a blur or a refocus still
shows.

* Only the luma is re-quantised. JPEG codes Y apart from the chroma, and the focus test reads
  luma alone.
* Only the focus figures are replaced: ``sharpness_change``, ``blur`` and ``focus_tiles``. Every
  other figure of the analysis stays as it was.

A WebP side (session 10) blurs as well as rounds: VP8's in-loop deblocking filter smooths the
block edges of every frame it decodes, so a re-encode of a soft, grainy micrograph (scikit-image's
``cell``) at q70-85 reads "B blurred by 1.0-1.3 px" although its sharpness fell by 3-5 % only. The
finer side's luma then goes through libwebp itself (OpenCV's encoder) at the quality whose
quantisers (the frame's base and each segment's) are the WebP side's (:func:`requantised_webp`):
the same rounding and the same filter. A refocus keeps the detail the re-encode of the sharper side
still has. With the sides lossy by two codecs, each is tried as the source (:func:`quantiser_sides`).

:func:`coarser_side` and :func:`quantiser_sides` pick the side, :func:`requantised_luma` applies the tables, and
:func:`refocus_at_quantisation` redoes the focus figures.
"""
from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np

from .align import Analysis, analyse
from .codec_noise import CodecTables
from .vp8_quant import webp_tables

NEAR = 0.5   # focus figures at this fraction of their thresholds are judged again
WEBP_SEARCH = 512  # the WebP quality is searched on a central square of this many pixels a side
WEBP_NEAR = 4      # ... its segments matched among this many qualities above the first with its base
WEBP_STEPS = 3     # ... then moved by at most this many steps to the whole picture's quantisers


def coarser_side(codecs, scales) -> int | None:
    """Index (0 = A, 1 = B) of the lossy side (JPEG or WebP) whose luma quantisation noise is larger
    than the other side's (a lossless side has none), or None: neither is lossy, both quantise
    alike, or the sides are compared at another scale than their own (a resized pair: its grids
    differ)."""
    if any(s != 1.0 for s in scales):
        return None
    sig = [t.pixel_sigma() if isinstance(t, CodecTables) else 0.0 for t in codecs]
    if sig[0] == sig[1]:
        return None
    return 0 if sig[0] > sig[1] else 1


def requantised_luma(luma: np.ndarray, tables: CodecTables) -> np.ndarray | None:
    """``luma`` (2-D uint8) through the quantiser ``tables`` describe: :func:`requantised_jpeg`
    or :func:`requantised_webp`."""
    if tables.codec == "WebP":
        return requantised_webp(luma, tables.quantisers)
    return requantised_jpeg(luma, tables)


def requantised_jpeg(luma: np.ndarray, tables: CodecTables) -> np.ndarray | None:
    """``luma`` (2-D uint8) encoded as a gray baseline JPEG with ``tables.luma`` and decoded by
    OpenCV, or None when the table has steps beyond 8 bits (Pillow writes 8-bit tables only).
    Pillow is the encoder because OpenCV's takes a quality number, not a table.

    >>> from scopecheck.compare.codec_noise import CodecTables
    >>> flat = np.full((16, 16), 100, np.uint8)
    >>> t = CodecTables(luma=np.full((8, 8), 16.0), chroma=None, quality=50)
    >>> int(requantised_jpeg(flat, t)[3, 3])   # a flat block's DC (800) is a multiple of 16
    100
    """
    if luma.ndim != 2 or luma.dtype != np.uint8:
        return None
    return _jpeg_roundtrip(luma, [tables.luma])


def requantised_jpeg_pixels(pixels: np.ndarray, tables: CodecTables) -> np.ndarray | None:
    """``pixels`` (uint8 gray or BGR) encoded as a baseline JPEG with ``tables``' luma and chroma
    tables and chroma subsampling, decoded by OpenCV like the file (gray stays gray:
    :func:`requantised_jpeg`); None when a table has steps beyond 8 bits, a colour picture meets a
    gray table set, or the subsampling is not one Pillow writes (4:4:4, 4:2:2, 4:2:0)."""
    if pixels.ndim == 2:
        return requantised_jpeg(pixels, tables)
    sampling = {(1, 1): 0, (2, 1): 1, (2, 2): 2}.get((int(tables.chroma_step[0]), int(tables.chroma_step[1])))
    if tables.chroma is None or sampling is None or pixels.dtype != np.uint8 or pixels.shape[2] != 3:
        return None
    return _jpeg_roundtrip(pixels, [tables.luma, tables.chroma], subsampling=sampling)


def _jpeg_roundtrip(pixels: np.ndarray, steps: list[np.ndarray], **options) -> np.ndarray | None:
    """``pixels`` (uint8 gray or BGR) through Pillow's JPEG encoder with these quantisation tables
    (``options``: Pillow's, e.g. ``subsampling``), decoded by OpenCV; None when a table has steps
    beyond 8 bits (Pillow writes 8-bit tables only). Pillow is the encoder because OpenCV's takes a
    quality number, not a table."""
    from PIL import Image as PILImage  # only on this path: the import costs ~30 ms

    tables = [np.rint(t).astype(int).ravel() for t in steps]
    if min(int(t.min()) for t in tables) < 1 or max(int(t.max()) for t in tables) > 255:
        return None
    gray = pixels.ndim == 2
    img = PILImage.fromarray(pixels, "L") if gray else PILImage.fromarray(np.ascontiguousarray(pixels[:, :, ::-1]), "RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", qtables=[t.tolist() for t in tables], **options)
    out = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    return out if out is not None and out.shape == pixels.shape else None


def _webp_roundtrip(pixels: np.ndarray, quality: int) -> tuple[np.ndarray, tuple[int, ...]] | None:
    """``pixels`` (gray or BGR) through OpenCV's libwebp at ``quality`` and back, as gray or BGR:
    (decoded pixels, the encode's quantisers)."""
    ok, buf = cv2.imencode(".webp", pixels, [cv2.IMWRITE_WEBP_QUALITY, quality])
    tables = webp_tables(buf.tobytes()) if ok else None
    out = (cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE if pixels.ndim == 2 else cv2.IMREAD_COLOR)
           if tables is not None else None)
    if out is None or tables is None or out.shape != pixels.shape:
        return None
    return out, tables.quantisers


def _mismatch(got: tuple[int, ...], want: tuple[int, ...]) -> int:
    """How far an encode's quantisers (base, then per segment) are from the file's."""
    return sum(abs(g - w) for g, w in zip(got, want)) + 128 * abs(len(got) - len(want))


def webp_quality_for(pixels: np.ndarray, want: tuple[int, ...]) -> int:
    """The libwebp quality setting (0-100) whose encode of ``pixels`` has the quantisers ``want``
    (base, then per segment: :attr:`compare.codec_noise.CodecTables.quantisers`), or the nearest.
    The base quantiser falls as the quality rises, but how depends on the picture (libwebp's segment
    analysis), so the quality is found by bisection on the base and then the segments are matched
    among the next ``WEBP_NEAR`` qualities (neighbouring qualities can share a base) -- all on the
    central ``WEBP_SEARCH`` pixels square of the picture, whose texture sets them like the whole's."""
    h, w = pixels.shape[:2]
    k = WEBP_SEARCH
    y0, x0 = max(0, (h - k) // 2), max(0, (w - k) // 2)
    crop = np.ascontiguousarray(pixels[y0:y0 + k, x0:x0 + k])
    lo, hi = 0, 100  # the smallest quality whose base is no coarser than the file's
    while lo < hi:
        mid = (lo + hi) // 2
        got = _webp_roundtrip(crop, mid)
        if got is None:
            return mid
        if got[1][0] > want[0]:
            lo = mid + 1
        else:
            hi = mid
    best, best_d = lo, None
    for q in range(lo, min(100, lo + WEBP_NEAR) + 1):
        got = _webp_roundtrip(crop, q)
        if got is None or got[1][0] != want[0]:
            break
        d = _mismatch(got[1], want)
        if best_d is None or d < best_d:
            best, best_d = q, d
    return best


def requantised_webp(pixels: np.ndarray, want: tuple[int, ...]) -> np.ndarray | None:
    """``pixels`` (uint8 gray or BGR) as libwebp encodes it at the quality whose quantisers are ``want``
    (:func:`webp_quality_for`; OpenCV's encoder takes a quality, not quantisers), decoded: the
    quantisation and the in-loop deblocking filter a WebP of this picture carries, both. The
    whole picture's quantisers are checked and the quality moved a step at a time (at most
    ``WEBP_STEPS``) while that brings them nearer the file's."""
    if (pixels.dtype != np.uint8 or not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3))
            or min(pixels.shape[:2]) < 16 or max(pixels.shape[:2]) > 16383 or not want):
        return None
    quality = webp_quality_for(pixels, want)
    got = _webp_roundtrip(pixels, quality)
    for _ in range(WEBP_STEPS):
        if got is None or _mismatch(got[1], want) == 0:
            break
        step = 1 if got[1][0] > want[0] or (got[1][0] == want[0] and got[1] > want) else -1
        if not 0 <= quality + step <= 100:
            break
        nxt = _webp_roundtrip(pixels, quality + step)
        if nxt is None or _mismatch(nxt[1], want) >= _mismatch(got[1], want):
            break
        quality, got = quality + step, nxt
    return None if got is None else got[0]


def near_focus_verdict(an: Analysis, thresholds) -> bool:
    """The focus figures are within ``NEAR`` of a focus verdict's thresholds (or name tiles)."""
    return (abs(an.sharpness_change) >= NEAR * thresholds.refocus or abs(an.blur) >= NEAR * thresholds.refocus_blur
            or bool(an.focus_tiles))


def quantiser_sides(codecs, scales) -> tuple[int, ...]:
    """The sides (0 = A, 1 = B) whose quantiser the other side's luma is passed through: the
    :func:`coarser_side` when both use one codec or one is lossless; both, each through the other's,
    when A and B are lossy by different codecs (a WebP of a decoded JPEG carries both, and which
    one is the copy the files do not say)."""
    kinds = [t.codec if isinstance(t, CodecTables) else None for t in codecs]
    if None not in kinds and kinds[0] != kinds[1] and all(s == 1.0 for s in scales):
        return (0, 1)
    side = coarser_side(codecs, scales)
    return () if side is None else (side,)


def refocus_at_quantisation(an: Analysis, lumas, codecs, scales, thresholds) -> Analysis:
    """``an`` with its focus figures judged again at the coarser lossy side's luma quantisation,
    when a side is coarser and the figures are near a verdict (``thresholds``: the
    :class:`compare.verdict.Thresholds` of the comparison). With two codecs, each way round
    (:func:`quantiser_sides`), and the weaker focus figures count: a copy matches its source
    one way, while a refocus stays a refocus both ways."""
    sides = quantiser_sides(codecs, scales)
    if not sides or not near_focus_verdict(an, thresholds):
        return an
    ya, yb = lumas
    if ya.dtype != np.uint8 or yb.dtype != np.uint8 or ya.shape != yb.shape:
        return an
    best = None
    for side in sides:
        tables = codecs[side]
        qa = requantised_luma(ya, tables) if side == 1 else ya
        qb = requantised_luma(yb, tables) if side == 0 else yb
        if qa is None or qb is None:
            continue
        both = (tables, tables) if tables.in_floor else (None, None)
        again = analyse(qa, qb, noise_sigma=thresholds.noise_sigma, codecs=both, codec_scales=(1.0, 1.0),
                        lumas=(qa, qb))
        strength = max(abs(again.blur) / thresholds.refocus_blur, abs(again.sharpness_change) / thresholds.refocus,
                       1.0 if again.focus_tiles else 0.0)
        if best is None or strength < best[0]:
            best = (strength, again)
    if best is None:
        return an
    again = best[1]
    return replace(an, sharpness_change=again.sharpness_change, blur=again.blur, focus_tiles=again.focus_tiles)

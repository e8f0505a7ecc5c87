"""Focus judged at the coarser JPEG side's quantisation: a re-encode is no refocus.

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

:func:`coarser_side` picks the side, :func:`requantised_luma` applies the tables, and
:func:`refocus_at_quantisation` redoes the focus figures.
"""
from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np

from .align import Analysis, analyse
from .codec_noise import CodecTables

NEAR = 0.5   # focus figures at this fraction of their thresholds are judged again


def coarser_side(codecs, scales) -> int | None:
    """Index (0 = A, 1 = B) of the JPEG side whose luma quantisation noise is larger than the
    other side's (a lossless side has none), or None: neither is a JPEG, both quantise alike, or
    the sides are compared at another scale than their own (a resized pair: its grids differ)."""
    if any(s != 1.0 for s in scales):
        return None
    sig = [t.pixel_sigma() if isinstance(t, CodecTables) and t.codec == "JPEG" else 0.0 for t in codecs]
    if sig[0] == sig[1]:
        return None
    return 0 if sig[0] > sig[1] else 1


def requantised_luma(luma: np.ndarray, tables: CodecTables) -> np.ndarray | None:
    """``luma`` (2-D uint8) encoded as a gray baseline JPEG with ``tables.luma`` and decoded by
    OpenCV, or None when the table has steps beyond 8 bits (Pillow writes 8-bit tables only).
    Pillow is the encoder because OpenCV's takes a quality number, not a table.

    >>> from scopecheck.compare.codec_noise import CodecTables
    >>> flat = np.full((16, 16), 100, np.uint8)
    >>> t = CodecTables(luma=np.full((8, 8), 16.0), chroma=None, quality=50)
    >>> int(requantised_luma(flat, t)[3, 3])   # a flat block's DC (800) is a multiple of 16
    100
    """
    from PIL import Image as PILImage  # only on this path: the import costs ~30 ms

    table = np.rint(tables.luma).astype(int).ravel()
    if luma.ndim != 2 or luma.dtype != np.uint8 or table.min() < 1 or table.max() > 255:
        return None
    buf = io.BytesIO()
    PILImage.fromarray(luma, "L").save(buf, "JPEG", qtables=[table.tolist()])
    out = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    return out if out is not None and out.shape == luma.shape else None


def near_focus_verdict(an: Analysis, thresholds) -> bool:
    """The focus figures are within ``NEAR`` of a focus verdict's thresholds (or name tiles)."""
    return (abs(an.sharpness_change) >= NEAR * thresholds.refocus or abs(an.blur) >= NEAR * thresholds.refocus_blur
            or bool(an.focus_tiles))


def refocus_at_quantisation(an: Analysis, lumas, codecs, scales, thresholds) -> Analysis:
    """``an`` with its focus figures judged again at the coarser JPEG side's luma quantisation,
    when a side is coarser and the figures are near a verdict (``thresholds``: the
    :class:`compare.verdict.Thresholds` of the comparison)."""
    side = coarser_side(codecs, scales)
    if side is None or not near_focus_verdict(an, thresholds):
        return an
    ya, yb = lumas
    if ya.dtype != np.uint8 or yb.dtype != np.uint8 or ya.shape != yb.shape:
        return an
    tables = codecs[side]
    if side == 1:
        ya = requantised_luma(ya, tables)
    else:
        yb = requantised_luma(yb, tables)
    if ya is None or yb is None:
        return an
    again = analyse(ya, yb, noise_sigma=thresholds.noise_sigma, codecs=(tables, tables), codec_scales=(1.0, 1.0),
                    lumas=(ya, yb))
    return replace(an, sharpness_change=again.sharpness_change, blur=again.blur, focus_tiles=again.focus_tiles)

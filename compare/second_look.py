"""Second looks at a pair the stored pixels call different: as displayed, and as a WebP re-encode.

* :func:`displayed_alike` -- the two pictures with their EXIF Orientation applied
  (:mod:`compare.orientation`). The verdict stays the stored pixels'; the reason says how they
  look on screen.
* :func:`as_reencode` -- a lossy WebP side judged as what libwebp makes of the other side. A WebP
  rounds 4x4 transform coefficients with one step for all 15 AC coefficients and then smooths
  block edges with its in-loop deblocking filter, so its error is neither independent of the
  picture nor confined to fine detail: a noise allowance large enough for a re-encode (q^2/12
  per coefficient, :mod:`compare.vp8_quant`, 0.9 DN after the comparison's smoothing at q85)
  also covers a patch of 2 DN, and one too small calls re-encodes of smooth micrographs changed.
  Instead the other side's pixels go through OpenCV's libwebp at the quality whose quantisers
  (base and per segment) are the file's (:func:`compare.requantise.requantised_webp`) and are
  compared with the WebP side's as an in-memory pair. A re-encode of the other side then reads
  pixel-equal or near-identical (another encoder's choices differ by noise the comparison
  measures); a change that the WebP side holds and the other side lacks still shows, because
  the other side's re-encode does not hold it. Only when that comparison is the same does it
  replace the verdict ("near-identical: B is A re-encoded as a WebP: libwebp at B's quantisers (base
  39) reproduces it pixel for pixel").
  A lossy JPEG side the same way (session 19, cause 33): the other side through its own tables and
  chroma subsampling (:func:`compare.requantise.requantised_jpeg_pixels`; a re-encode moves a
  binarised edge where its block's coefficients round, which read as "1 object moved"), and only
  when the JPEG side is within one step of its coarsest coefficient of that (:func:`_reproduced`)
  is the second comparison asked.
"""
from __future__ import annotations

import numpy as np

from .orientation import as_displayed, describe, orientation
from .requantise import requantised_jpeg_pixels, requantised_webp
from .verdict import SAME_VERDICTS, Verdict


def displayed_alike(a, b, thresholds) -> dict | None:
    """The comparison of ``a`` and ``b`` (:class:`compare.pair.Side`) as displayed, when their EXIF
    Orientation tags differ and, so applied, they are the same: ``{"orientation": [A's, B's],
    "applied": ..., "verdict": ..., "reason": ...}``; None otherwise."""
    from .pair import compare_arrays

    tags = (orientation(a.metadata), orientation(b.metadata))
    if tags[0] == tags[1]:
        return None
    c = compare_arrays(as_displayed(a.image.pixels, tags[0]), as_displayed(b.image.pixels, tags[1]),
                       thresholds=thresholds)
    if c.verdict not in SAME_VERDICTS:
        return None
    equal = c.verdict == Verdict.IDENTICAL_FILE  # two arrays, one encoding: equal pixels, not files
    return {"orientation": list(tags), "applied": describe(tags),
            "verdict": Verdict.IDENTICAL_PIXELS.value if equal else c.verdict.value,
            "reason": "pixels identical" if equal else c.reason}


def as_reencode(a, b, thresholds):
    """The comparison of the WebP side of ``a``/``b`` with the other side re-encoded like it, when
    that is the same: ``(comparison, {"side": "B", "of": "A", "codec": "WebP", "quantisers": [...],
    "pixel_equal": bool})``; None when neither side is a lossy WebP of the other's size, the other
    side is not 8-bit gray or BGR, or the re-encode still differs."""
    from .pair import compare_arrays

    for src, dst, name, of in ((a, b, "B", "A"), (b, a, "A", "B")):
        t = dst.codec
        if t is None or t.codec not in ("WebP", "JPEG") or (t.codec == "WebP" and not t.quantisers):
            continue
        sp, dp = src.image.pixels, dst.image.pixels
        if sp.shape[:2] != dp.shape[:2] or sp.dtype != np.uint8 or (sp.ndim == 3 and sp.shape[2] != 3):
            continue
        if t.codec == "JPEG":  # the other side through the JPEG side's own tables and subsampling
            if (sp.ndim == 3) != (dp.ndim == 3):
                continue
            again = requantised_jpeg_pixels(sp, t)
        else:
            again = requantised_webp(sp, t.quantisers)
        if again is None:
            continue
        if dp.ndim == 3 and again.ndim == 2:  # a gray side: libwebp decodes it as BGR like the file
            again = np.repeat(again[:, :, None], 3, axis=2)
        if dp.ndim == 3 and dp.shape[2] == 4:
            dp = np.ascontiguousarray(dp[:, :, :3])
        if t.codec == "JPEG" and not _reproduced(again, dp, t):
            continue
        c = compare_arrays(again, dp, thresholds=thresholds)
        if c.verdict in SAME_VERDICTS:
            info = {"side": name, "of": of, "codec": t.codec, "quantisers": list(t.quantisers),
                    "pixel_equal": bool(c.pixels_equal)}
            if t.codec == "JPEG":
                info["quality"] = t.quality
            return c, info
    return None


def _reproduced(again: np.ndarray, dp: np.ndarray, tables) -> bool:
    """Whether a JPEG side ``dp`` is within one quantisation step of ``again``, the other side through
    its tables: no pixel further apart than a one-step disagreement between two encoders in the
    coarsest coefficient can move it (its step over 4: an 8x8 basis function peaks at 1/4 of its
    coefficient). Only then is the second comparison asked: a change the JPEG holds (a defect of 200
    levels on a binarised board) must not get a second throw of a comparison that missed it once
    (DeepPCB: a full comparison alone let 46 of 300 defective boards through)."""
    steps = [tables.luma] + ([tables.chroma] if tables.chroma is not None and dp.ndim == 3 else [])
    bound = max(2.0, max(float(np.max(x)) for x in steps) / 4.0)
    return float(np.max(np.abs(again.astype(np.int16) - dp.astype(np.int16)))) <= bound

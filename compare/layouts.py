"""Equal pixel values stored in other channel layouts.

The pixel digest (:mod:`compare.digest`) covers the samples as stored, so a gray image and the
same image stored as RGB never share a digest. Their pixels are nevertheless the same: a gray
JPEG read by ``cv2.imread`` (which gives BGR unless told otherwise) and written as PNG holds the
gray three times over, R = G = B; an opaque alpha channel (every sample at full scale) adds
nothing a viewer or a measurement sees. A comparison that called such a pair "same field within
noise: ... within JPEG quantisation noise" would be wrong about *why* it is the same.

:func:`layout_change` answers whether two decoded images hold equal values in layouts that differ
only that way, and says how. Nothing else counts: other sample types (8 against 16 bits, even
``x 257``), a colour image against its gray conversion, or an alpha below full scale anywhere
are different pixels and go to the pixel tests.

>>> import numpy as np
>>> g = np.arange(12, dtype=np.uint8).reshape(3, 4)
>>> layout_change(g, np.dstack([g, g, g]))
'B stores the gray image as RGB with R = G = B'
>>> layout_change(np.dstack([g, g, g, np.full_like(g, 255)]), g)
'A stores the gray image as RGB with R = G = B and adds an opaque alpha channel'
>>> layout_change(g, np.dstack([g, g, g + 1])) is None
True
"""
from __future__ import annotations

import numpy as np


def _canonical(pixels: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """``pixels`` without an opaque alpha channel and, when its colour channels are equal, as one
    gray plane; with the words for what was taken away. ``None`` for a layout this does not
    reduce (an alpha below full scale somewhere, 2 channels, ...)."""
    words: list[str] = []
    if pixels.ndim == 2:
        return pixels, words
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        return None, words
    if pixels.shape[2] == 4:
        if not bool((pixels[..., 3] == np.iinfo(pixels.dtype).max).all()):  # decoded pixels: 8 or 16 bits
            return None, words
        pixels = pixels[..., :3]
        words.append("adds an opaque alpha channel")
    b, g, r = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    if np.array_equal(b, g) and np.array_equal(g, r):
        return b, ["stores the gray image as RGB with R = G = B"] + words
    return pixels, words


def layout_change(a: np.ndarray, b: np.ndarray) -> str | None:
    """How ``b`` (and ``a``) store equal pixel values in another channel layout, as words for the
    verdict's reason; ``None`` when the layouts are the same or the values differ. ``a`` and ``b``
    are decoded images (``(h, w)`` gray, ``(h, w, 3)`` BGR, ``(h, w, 4)`` BGRA) of one sample type;
    only arrays of the same height, width and type and a different channel count are looked at,
    so equal layouts cost nothing."""
    if a.shape[:2] != b.shape[:2] or a.dtype != b.dtype or a.shape == b.shape:
        return None
    ca, wa = _canonical(a)
    cb, wb = _canonical(b)
    if ca is None or cb is None or ca.shape != cb.shape or not np.array_equal(ca, cb):
        return None
    said = []
    for side, words in (("A", wa), ("B", wb)):
        if words:
            said.append(f"{side} " + " and ".join(words))
    return "; ".join(said) if said else None

"""Transparency is part of a picture: the alpha channels of a pair, compared on their own.

The noise-aware analysis (:mod:`compare.align`) compares the colour (or luma) a camera recorded;
alpha is no recording of light, has no noise, and is what an export, an editor or a mask made of
the picture. Two files whose colours agree but whose alpha differs display differently (a hole
cut out, a layer at half opacity), so the pair is not the same picture. The rule:

* a side without an alpha channel is opaque (alpha 1 everywhere), so an opaque alpha channel
  added or dropped is no difference;
* alpha is compared on the grid the colours were compared on (the larger side cut to the window
  or reduced with an area filter, as :func:`compare.pixel_pair.start` does), B moved by the
  registered shift;
* a pixel's alpha differs when the two opacities differ by more than ``ALPHA_TOLERANCE`` (of full
  opacity); a one-pixel rim is opened away (a sub-pixel shift of a mask's edge is no change);
* the differing pixels that form a connected region of at least the thresholds' ``min_region``
  make the pair ``different`` (the same field, another transparency); smaller ones are noted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ALPHA_TOLERANCE = 0.05  # of full opacity: 13 levels of 8-bit alpha
MAX_GRID = 16_000_000  # pixels: a larger grid is judged on area-averaged blocks


@dataclass(frozen=True)
class AlphaRegion:
    x: int
    y: int
    width: int
    height: int
    area: int
    alpha_a: float  # mean opacity inside the region, 0..1
    alpha_b: float

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height, "area": self.area,
                "alpha_a": round(self.alpha_a, 4), "alpha_b": round(self.alpha_b, 4)}


@dataclass(frozen=True)
class AlphaDifference:
    share: float                        # of the compared pixels whose opacity differs
    regions: tuple[AlphaRegion, ...]    # connected regions of at least min_region, largest first
    has_alpha: tuple[bool, bool]        # which sides carry an alpha channel

    @property
    def decides(self) -> bool:
        return bool(self.regions)

    def words(self) -> str:
        if not self.regions:
            return f"transparency (alpha) differs at {100 * self.share:.2f} % of the pixels, in no region as large as a change"
        r = self.regions[0]
        more = f" and {len(self.regions) - 1} more region(s)" if len(self.regions) > 1 else ""
        return (f"transparency (alpha) differs over {100 * self.share:.1f} % of the frame: at ({r.x}, {r.y}) size "
                f"{r.width}x{r.height} px, opacity {100 * r.alpha_a:.0f} % in A, {100 * r.alpha_b:.0f} % in B{more}")

    def to_json(self) -> dict:
        return {"share": round(self.share, 6), "a_has_alpha": self.has_alpha[0], "b_has_alpha": self.has_alpha[1],
                "regions": [r.to_json() for r in self.regions]}


def alpha_plane(pixels: np.ndarray) -> np.ndarray | None:
    """The alpha samples (a view, in the image's own depth) of a decoded BGRA image; None for an
    image without alpha."""
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        return None
    return pixels[:, :, 3]


def alpha_difference(alpha_a: np.ndarray | None, alpha_b: np.ndarray | None, *, shift: tuple[float, float],
                     min_region_px: int, scale: float = 1.0,
                     offset: tuple[int, int] = (0, 0)) -> AlphaDifference | None:
    """Compare two alpha planes (uint8 or uint16, on one grid; None: an opaque side). ``shift``:
    B's registered displacement against A on that grid; regions are reported in A's pixels (grid
    pixels times ``scale``, plus ``offset``; ``min_region_px`` is in grid pixels). None when
    neither side has alpha or they agree everywhere. Memory stays bounded: a grid above
    ``MAX_GRID`` pixels is judged on area-averaged blocks (a region of ``min_region`` there spans
    hundreds of blocks), and an opaque side is never made into a plane."""
    if alpha_a is None and alpha_b is None:
        return None
    planes: list[np.ndarray | None] = [alpha_a, alpha_b]
    if alpha_a is not None and alpha_b is not None:
        if alpha_a.shape != alpha_b.shape:
            raise ValueError(f"alpha planes of different shapes {alpha_a.shape} and {alpha_b.shape}")
        if alpha_a.dtype != alpha_b.dtype:  # 8-bit against 16-bit alpha: both on 16 bits (x 257, exact)
            alpha_a, alpha_b = (p if p.dtype == np.uint16 else p.astype(np.uint16) * np.uint16(257)
                                for p in (alpha_a, alpha_b))
            planes = [alpha_a, alpha_b]
        if np.array_equal(alpha_a, alpha_b):
            return None
    ref = planes[0] if planes[0] is not None else planes[1]
    assert ref is not None
    top = int(np.iinfo(ref.dtype).max)
    if any(p is None for p in planes) and bool(np.all(ref == top)):  # an opaque alpha against none
        return None
    h, w = ref.shape
    k = max(1, math.ceil(math.sqrt(h * w / MAX_GRID)))

    def prepared(p: np.ndarray | None) -> np.ndarray | None:
        if p is None:
            return None
        p = np.ascontiguousarray(p)
        if k > 1:
            p = cv2.resize(p[:h - h % k, :w - w % k], (w // k, h // k), interpolation=cv2.INTER_AREA)
        return p

    a, b = prepared(planes[0]), prepared(planes[1])
    dx, dy = shift[0] / k, shift[1] / k
    if b is not None and (dx, dy) != (0.0, 0.0):
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float64)  # B's content at A's position
        b = cv2.warpAffine(b, m, (b.shape[1], b.shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    if a is None:
        assert b is not None
        d = np.subtract(top, b, dtype=b.dtype)
    elif b is None:
        d = np.subtract(top, a, dtype=a.dtype)
    else:
        d = cv2.absdiff(a, b)
    mask = (d > ALPHA_TOLERANCE * top).view(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count = int(np.count_nonzero(mask))
    if count == 0:
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    regions = []
    f = k * scale  # one judged pixel in A's pixels
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if area * k * k < max(min_region_px, 1):
            continue
        box = (slice(y, y + bh), slice(x, x + bw))
        inside = labels[box] == i
        op_a, op_b = (1.0 if p is None else float(p[box][inside].mean()) / top for p in (a, b))
        regions.append(AlphaRegion(x=round(x * f) + offset[0], y=round(y * f) + offset[1], width=round(bw * f),
                                   height=round(bh * f), area=round(area * f * f), alpha_a=op_a, alpha_b=op_b))
    regions.sort(key=lambda r: -r.area)
    return AlphaDifference(share=count / mask.size, regions=tuple(regions),
                           has_alpha=(alpha_a is not None, alpha_b is not None))

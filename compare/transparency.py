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

from dataclasses import dataclass

import cv2
import numpy as np

ALPHA_TOLERANCE = 0.05  # of full opacity: 13 levels of 8-bit alpha


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

    def words(self, frame_area: int) -> str:
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
    """The opacity (float32, 0..1) of a decoded BGRA image; None for an image without alpha."""
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        return None
    scale = np.float32(1.0 / np.iinfo(pixels.dtype).max)
    return pixels[:, :, 3].astype(np.float32) * scale


def alpha_difference(alpha_a: np.ndarray | None, alpha_b: np.ndarray | None, *, shift: tuple[float, float],
                     min_region_px: int, scale: float = 1.0,
                     offset: tuple[int, int] = (0, 0)) -> AlphaDifference | None:
    """Compare two opacity planes on one grid (None: an opaque side). ``shift``: B's registered
    displacement against A on that grid; regions are reported in A's pixels (grid pixels times
    ``scale``, plus ``offset``; ``min_region_px`` is in grid pixels). None when neither side has
    alpha or they agree everywhere."""
    if alpha_a is None and alpha_b is None:
        return None
    a = alpha_a if alpha_a is not None else np.ones(alpha_b.shape, np.float32)  # type: ignore[union-attr]
    shape = a.shape
    b = alpha_b if alpha_b is not None else np.ones(shape, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"alpha planes of different shapes {a.shape} and {b.shape}")
    if np.array_equal(a, b):
        return None
    dx, dy = shift
    if (dx, dy) != (0.0, 0.0) and not (alpha_b is None or np.all(b == b.flat[0])):
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float64)  # B's content at A's position
        b = cv2.warpAffine(b, m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    diff = (np.abs(a - b) > np.float32(ALPHA_TOLERANCE)).astype(np.uint8)
    diff = cv2.morphologyEx(diff, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count = int(np.count_nonzero(diff))
    if count == 0:
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats(diff, connectivity=8)
    regions = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < max(min_region_px, 1):
            continue
        full = area * scale * scale
        inside = labels[y:y + h, x:x + w] == i
        regions.append(AlphaRegion(x=round(x * scale) + offset[0], y=round(y * scale) + offset[1],
                                   width=round(w * scale), height=round(h * scale), area=round(full),
                                   alpha_a=float(a[y:y + h, x:x + w][inside].mean()),
                                   alpha_b=float(b[y:y + h, x:x + w][inside].mean())))
    regions.sort(key=lambda r: -r.area)
    return AlphaDifference(share=count / diff.size, regions=tuple(regions),
                           has_alpha=(alpha_a is not None, alpha_b is not None))

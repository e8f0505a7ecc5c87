"""A smaller image that is a window of the larger one (a crop), told from a resized copy.

Two sizes used to mean one thing to the comparison: a resized copy, the larger reduced to the
smaller. A copy with its border trimmed (2 px off every side of a screenshot, a region of interest
cut out) was then stretched onto the larger and read as "local motion: 37 % of the field moved by up
to 2.9 px" -- the stretch displaces every sample by up to half the trim.

:func:`find_window` places the smaller image inside the larger at one to one: the normalised
cross-correlation of reduced copies finds the place (``cv2.matchTemplate``), a central patch of the
smaller at full resolution pins it to the pixel, and the crop is taken only when it explains the
smaller image better than the reduction does (the correlation of the window against the smaller,
compared with that of the larger reduced by area to the smaller's size) and at least
:data:`MIN_CORRELATION`. The comparison then judges the window against the smaller image, like two
frames of one size; a window whose edges moved by more than the verdict's ``max_shift`` shows
another field of view, as a shift that large does.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

#: A crop is taken only when the window correlates with the smaller image at least this well (and
#: better than the reduction does): a low-contrast fluorescence frame exported to 8 bits, saved as
#: JPEG q90 and trimmed by 2 px correlates 0.88 with its window, 0.56 with the reduction.
MIN_CORRELATION = 0.5
COARSE_SIDE = 400  # the larger image's longer side in the coarse search
PATCH = 256        # the central patch of the smaller image that pins the place at full resolution
SAMPLES = 250_000  # at most about this many pixels per correlation


class Window(NamedTuple):
    """The smaller image is the larger's pixels ``[y:y + height, x:x + width]``."""

    x: int
    y: int
    width: int
    height: int
    correlation: float       # of the window against the smaller image
    resize_correlation: float  # of the larger reduced by area to the smaller's size

    def margins(self, big_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) trimmed off the larger image, in its pixels."""
        h, w = big_shape[:2]
        return self.x, self.y, w - self.x - self.width, h - self.y - self.height

    def share(self, big_shape: tuple[int, ...]) -> float:
        """The window's share of the larger image's area."""
        return self.width * self.height / float(big_shape[0] * big_shape[1])


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equal-size 2-D images, on an even grid of at most :data:`SAMPLES`."""
    k = max(1, int(math.sqrt(a.size / SAMPLES)))
    x = a[::k, ::k].astype(np.float64).ravel()
    y = b[::k, ::k].astype(np.float64).ravel()
    x -= x.mean()
    y -= y.mean()
    den = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / den if den > 0 else (1.0 if np.array_equal(x, y) else 0.0)


def find_window(big: np.ndarray, small: np.ndarray, *, reduced: np.ndarray | None = None) -> Window | None:
    """Where the 2-D luma ``small`` sits inside ``big`` at one to one, when that explains it better
    than ``big`` reduced to its size (see the module docstring); None otherwise. ``reduced``: that
    reduction (``cv2.resize`` by area to ``small``'s size), when the caller has made it already."""
    H, W = big.shape[:2]
    h, w = small.shape[:2]
    if h > H or w > W or (h, w) == (H, W) or min(h, w) < 16:
        return None
    f = max(1, math.ceil(max(H, W) / COARSE_SIDE))
    if min(h, w) // f < 8:
        return None
    # no full-size float copies: the reductions, the patch and the correlations' grids are small
    bs = cv2.resize(big, (W // f, H // f), interpolation=cv2.INTER_AREA).astype(np.float32)
    ss = cv2.resize(small, (w // f, h // f), interpolation=cv2.INTER_AREA).astype(np.float32)
    if ss.shape[0] > bs.shape[0] or ss.shape[1] > bs.shape[1]:
        return None
    score = cv2.matchTemplate(bs, ss, cv2.TM_CCOEFF_NORMED)
    _, _, _, (cx, cy) = cv2.minMaxLoc(score)
    # pin it at full resolution with a central patch of the smaller image, searched within +-f
    ph, pw = min(PATCH, h), min(PATCH, w)
    py, px = (h - ph) // 2, (w - pw) // 2
    patch = small[py:py + ph, px:px + pw].astype(np.float32)
    x0, y0 = max(0, cx * f - f), max(0, cy * f - f)
    x1, y1 = min(W - w, cx * f + f), min(H - h, cy * f + f)
    region = big[y0 + py:y1 + py + ph, x0 + px:x1 + px + pw].astype(np.float32)
    if region.shape[0] < ph or region.shape[1] < pw:
        return None
    fine = cv2.matchTemplate(region, patch, cv2.TM_SQDIFF)
    (_, _, (fx, fy), _) = cv2.minMaxLoc(fine)
    x, y = x0 + fx, y0 + fy
    crop_c = _corr(big[y:y + h, x:x + w], small)
    if reduced is None:
        reduced = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
    resize_c = _corr(reduced, small)
    if crop_c < MIN_CORRELATION or crop_c <= resize_c:
        return None
    return Window(int(x), int(y), int(w), int(h), crop_c, resize_c)

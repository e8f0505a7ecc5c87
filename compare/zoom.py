"""A small change of magnification between two shots of one field: a zoom or a refocus's breathing.

A USB microscope's optics drift: two shots of an unchanged part taken minutes apart by a Dino-Lite
(``sanahabhimani/mml_dinolite_vision``, 640x480) differ by a scale of 0.22 % about the frame -- 0.9 px
at the corners, more than the registration's single translation absorbs at the sharp edges of
machined cut marks, whose residual then read "2 objects moved on their own by 2.3 px". A refocus
moves the magnification too (a lens breathes) and a zoom knob does nothing else.

:func:`similarity` measures the displacement of 64 px tiles of the two lumas (:func:`tile_shifts`: a
least-squares fit of the residual to the gradient; phase correlation's sub-pixel peak leans towards
whole pixels and read a 0.30 % zoom as 0.22 %) and fits one similarity to them: ``d(p) = t + M (p - c)``, ``M = [[s, -r], [r, s]]`` (``s`` the scale less 1,
``r`` the rotation in radians) about the frame's centre ``c``. The field is a similarity only when the
fit explains it: the tiles' scatter about the fit must be at most ``EXPLAINED`` of the spread the
similarity's own part gives them, with ``Z_SCALE`` standard errors of ``s`` or ``r`` -- cells that crawl
each their own way fit no similarity. A similarity whose largest displacement in the frame is under
``MIN_PX`` is left to the registration's edge slack; one over ``max_px`` (the verdict's ``max_shift``,
4 px: a zoom is held to what a translation is) is no drift of the optics and is judged as it is.
:func:`undo` resamples both sides half-way (each by half of the similarity's own part, as the
registration does for a translation): both take the same interpolation blur, and the translation
is left for the registration to find.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .motion import block_displacements

TILE = 64          # working pixels: a tile whose displacement is measured
WORK = 640         # long side (pixels) on which the tiles are measured
MIN_TILES = 8      # tiles with a displacement needed for a fit
SMOOTH = 1.5       # working pixels: both sides' smoothing before the displacements are measured
EXPLAINED = 0.5    # scatter about the fit, at most this part of the similarity's own spread
Z_SCALE = 8.0      # standard errors of the scale (or rotation) a similarity needs
MIN_PX = 0.6       # full-resolution pixels: the largest displacement the similarity gives, at least
MAX_PX = 4.0       # ... and at most, by default (the verdict's max_shift: what a translation may reach)
REFINE = 3         # passes that refine the fit on the two sides met half-way


@dataclass(frozen=True)
class Similarity:
    scale: float      # B's magnification against A's, less 1 (+0.0024: B's field 0.24 % larger)
    rotation: float   # radians, B against A
    reach: float      # full-resolution pixels: the largest displacement in the frame from these two
    tiles: int        # tiles the fit used

    def words(self) -> str:
        parts = [f"magnification differs by {100 * self.scale:+.2f} %"] if abs(self.scale) * 1e4 >= 0.5 else []
        if abs(math.degrees(self.rotation)) >= 0.005:
            parts.append(f"rotated {math.degrees(self.rotation):+.2f} deg")
        return (" and ".join(parts) or "geometry differs") + \
            f" (up to {self.reach:.1f} px at the corners: a zoom or a refocus); compared resampled half-way"

    def to_json(self) -> dict:
        return {"scale": round(self.scale, 6), "rotation_deg": round(math.degrees(self.rotation), 4),
                "reach_px": round(self.reach, 2), "tiles": self.tiles}


def _reduced(y: np.ndarray) -> tuple[np.ndarray, float]:
    """``y`` as float32 with its long side at most ``WORK`` (area), and the full pixels per pixel."""
    k = max(1, math.ceil(max(y.shape) / WORK))
    y = y.astype(np.float32, copy=False)
    if k > 1:
        y = cv2.resize(y, (y.shape[1] // k, y.shape[0] // k), interpolation=cv2.INTER_AREA)
    return y, float(k)


def tile_shifts(a: np.ndarray, b: np.ndarray, tile: int = TILE):
    """Per tile of ``tile`` px: its centre ``(x, y)`` and the displacement of B's content against A's
    ``(dx, dy)``, for tiles with gradient in two directions. The whole frame's translation first
    (phase correlation), then each tile's least-squares displacement from the residual and the
    gradient (:func:`compare.motion.block_displacements`; unbiased at sub-pixel displacements, where
    phase correlation's peak leans towards whole pixels), twice, on frames smoothed by ``SMOOTH`` and
    with B's levels put on A's."""
    a = cv2.GaussianBlur(a, (0, 0), SMOOTH)
    b = cv2.GaussianBlur(b, (0, 0), SMOOTH)
    sa, sb = float(a.std()), float(b.std())
    if sa < 1e-6 or sb < 1e-6:
        return np.zeros((0, 4))
    b = (b - np.float32(b.mean())) * np.float32(sa / sb) + np.float32(a.mean())
    (tx, ty), _ = cv2.phaseCorrelate(a, b)
    h, w = a.shape
    ny, nx = h // tile, w // tile
    ux, uy = np.full((ny, nx), tx), np.full((ny, nx), ty)
    ok = np.zeros((ny, nx), bool)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(2):  # B sampled back by each tile's displacement so far (bilinear across tiles)
        fx = cv2.resize(ux.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        fy = cv2.resize(uy.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        bw = cv2.remap(b, xs + fx, ys + fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mid = (a + bw) * np.float32(0.5)
        gx = cv2.Sobel(mid, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
        gy = cv2.Sobel(mid, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
        valid = np.ones((h, w), bool)
        m = int(math.ceil(max(abs(tx), abs(ty)))) + 2
        valid[:m], valid[h - m:], valid[:, :m], valid[:, w - m:] = False, False, False, False
        dx, dy, ok, _ = block_displacements(bw - a, gx, gy, valid, block=tile)
        ux, uy = ux + np.where(ok, dx, 0.0), uy + np.where(ok, dy, 0.0)
    ok &= (np.abs(ux - tx) < tile / 8) & (np.abs(uy - ty) < tile / 8)
    jj, ii = np.nonzero(ok)
    return np.column_stack([(ii + 0.5) * tile, (jj + 0.5) * tile, ux[ok], uy[ok]]).astype(np.float64)


def _fit(pts: np.ndarray, c: tuple[float, float]):
    """Least squares ``(tx, ty, s, r)`` of ``d = t + [[s, -r], [r, s]] (p - c)``, the residuals and the
    standard errors of ``s`` and ``r``."""
    x, y = pts[:, 0] - c[0], pts[:, 1] - c[1]
    n = len(pts)
    one, zero = np.ones(n), np.zeros(n)
    design = np.vstack([np.column_stack([one, zero, x, -y]), np.column_stack([zero, one, y, x])])
    obs = np.concatenate([pts[:, 2], pts[:, 3]])
    beta, *_ = np.linalg.lstsq(design, obs, rcond=None)
    res = obs - design @ beta
    dof = max(1, 2 * n - 4)
    var = float(res @ res) / dof
    cov = var * np.linalg.pinv(design.T @ design)
    return beta, res.reshape(2, n).T, math.sqrt(max(cov[2, 2], 0.0)), math.sqrt(max(cov[3, 3], 0.0))


def similarity(ya: np.ndarray, yb: np.ndarray, *, scale: float = 1.0, max_px: float = MAX_PX) -> Similarity | None:
    """The similarity between two same-size lumas (B's content against A's) when one explains their
    tiles' displacements and it reaches ``MIN_PX``-``max_px`` full-resolution pixels; else None.
    ``scale``: full-resolution pixels per pixel of the lumas given (the analysis's working images)."""
    if ya.shape != yb.shape or min(ya.shape) < 2 * TILE:
        return None
    a, k = _reduced(ya)
    b, _ = _reduced(yb)
    k *= scale
    if min(a.shape) < 2 * TILE:
        return None
    pts = tile_shifts(a, b)
    if len(pts) < MIN_TILES:
        return None
    h, w = a.shape
    c = ((w - 1) / 2, (h - 1) / 2)
    beta, res, se_s, se_r = _fit(pts, c)
    # one pass without the tiles far off the fit (a tile where something did move, or a weak peak)
    dev = np.hypot(res[:, 0], res[:, 1])
    keep = dev <= max(0.1, 3.0 * 1.4826 * float(np.median(dev)))
    if keep.sum() >= MIN_TILES and not keep.all():
        pts = pts[keep]
        beta, res, se_s, se_r = _fit(pts, c)
    _, _, s, r = beta
    if max(abs(s) / max(se_s, 1e-12), abs(r) / max(se_r, 1e-12)) < Z_SCALE:
        return None
    rel = np.column_stack([pts[:, 0] - c[0], pts[:, 1] - c[1]])
    own = np.column_stack([s * rel[:, 0] - r * rel[:, 1], r * rel[:, 0] + s * rel[:, 1]])
    spread = float(np.sqrt(np.mean(np.sum((own - own.mean(axis=0)) ** 2, axis=1))))
    scatter = float(np.sqrt(np.mean(np.sum(res ** 2, axis=1))))
    if spread <= 0 or scatter > EXPLAINED * spread:
        return None
    reach = math.hypot(s, r) * math.hypot(*c) * k
    if not MIN_PX <= reach <= max_px:
        return None
    # each tile's displacement is a linearised (gradient) fit, exact only where it is small: the fit is
    # refined on the tiles of the two sides met half-way, where what is left is small, until it moves
    # by under 0.05 px
    for _ in range(REFINE):
        sim = Similarity(scale=float(s), rotation=float(r), reach=0.0, tiles=0)
        more = tile_shifts(undo(a, sim, -0.5), undo(b, sim, 0.5))
        if len(more) < MIN_TILES:
            break
        (_, _, ds, dr), _, _, _ = _fit(more, c)
        s, r = s + ds, r + dr
        if math.hypot(ds, dr) * math.hypot(*c) < 0.05:
            break
    reach = math.hypot(s, r) * math.hypot(*c) * k
    return Similarity(scale=float(s), rotation=float(r), reach=float(reach), tiles=int(len(pts)))


def undo(pixels: np.ndarray, sim: Similarity, half: float) -> np.ndarray:
    """``pixels`` resampled by ``half`` of ``sim``'s own part about the frame's centre (no translation):
    -0.5 for A and +0.5 for B, and the two meet half-way. Same dtype and shape."""
    h, w = pixels.shape[:2]
    c = np.array([(w - 1) / 2, (h - 1) / 2])
    s, r = sim.scale * half, sim.rotation * half
    m = np.array([[s, -r], [r, s]])
    # dst(u) = src(u + m (u - c)): the inverse map, for warpAffine's WARP_INVERSE_MAP
    lin = np.eye(2) + m
    aff = np.hstack([lin, (-(m @ c)).reshape(2, 1)])

    def warp(x: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(x, aff, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
    if pixels.ndim == 3 and pixels.shape[2] > 4:  # OpenCV warps at most 4 channels at once
        return np.dstack([warp(np.ascontiguousarray(pixels[:, :, i])) for i in range(pixels.shape[2])])
    return warp(pixels).reshape(pixels.shape)

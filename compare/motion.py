"""Non-rigid motion: parts of the field that moved against the registered (global) shift.

Registration removes one translation. What a single translation cannot explain -- a foam that
drains, a cell that crawls, a sheet that bends -- leaves a residual of the form ``-u(x) . grad A``:
thin structure moved by a pixel or two gives a dipole at each edge that the residual's smoothing
all but cancels and that the local noise estimate (:func:`compare.noise_floor._local_sigma`)
takes for noise, so no region grows out of it. Here each block of the residual is regressed on
A's gradient (both smoothed alike): the least-squares displacement ``u`` of the block, and its
significance against the frame's noise of the smoothed residual (a block's own noise would be
raised by the motion itself). The noise of the smoothed residual is correlated over the
smoothing's area ``4 pi s^2``, which the significance accounts for. A block moved when its
displacement relative to the median block's (the global shift's own error) exceeds the
misregistration tolerated at edges and the registered shift itself (a field that jitters by
that much as a whole may deform by as much during a scan), and is ``Z_MOVED`` standard errors
from zero. A deformation of the field moves neighbouring blocks alike, while an isolated block
is a local event (the regions judge it) or the noise model's misfit (JPEG blocks, shot noise at
edges): the figure is the largest 8-connected group of moved blocks as a share of the field, and
a group of ``MOVED_SHARE`` of the field is a motion. ``MOVED_SHARE`` is twice the largest group
on the tuning harness's same-truth pairs (4.8 %: a PolyU shot against its mean; FMD confocal
repeats and shots against means up to 3 blocks of 252, JPEG re-encodes up to 3); non-rigid
warps of 0.7-1.5 px of textured scikit-image pictures give 16-72 % (``tests/compare/
test_heldout_causes``); on a picture with little texture (moon) 2-3 %: not caught.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

Z_MOVED = 6.0      # standard errors of the block's displacement: as the region seeds (changes.Z_HIGH)
MOVED_SHARE = 0.10  # the largest connected group of moved blocks, share of the field: a motion


def block_displacements(resid: np.ndarray, gx: np.ndarray, gy: np.ndarray, valid: np.ndarray, *,
                        block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares displacement (``ux``, ``uy``, pixels) of each ``block x block`` block from
    ``resid = -u . (gx, gy)``, the blocks fit to judge (``ok``: inside the overlap, gradient in
    two directions) and the normal matrix ``(sxx, sxy, syy)`` stacked (its inverse scales the
    displacement's variance)."""
    h, w = resid.shape
    ny, nx = h // block, w // block

    vm = valid[:ny * block, :nx * block].astype(np.float32)
    cx, cy = gx[:ny * block, :nx * block] * vm, gy[:ny * block, :nx * block] * vm  # outside: no weight
    rr = resid[:ny * block, :nx * block]

    def sums(x: np.ndarray) -> np.ndarray:  # block sums (area means of float32, times the block)
        return cv2.resize(x, (nx, ny), interpolation=cv2.INTER_AREA).astype(np.float64) * (block * block)

    sxx, sxy, syy = sums(cx * cx), sums(cx * cy), sums(cy * cy)
    sxr, syr = sums(cx * rr), sums(cy * rr)
    full = sums(vm) >= 0.9 * block * block
    det = sxx * syy - sxy * sxy
    ok = full & (det > 1e-9 * np.maximum(sxx * syy, 1e-30))
    d = np.where(ok, det, 1.0)
    ux = -(syy * sxr - sxy * syr) / d   # residual = -u . grad A
    uy = -(sxx * syr - sxy * sxr) / d
    return ux, uy, ok, np.stack([sxx, sxy, syy])


def moved_blocks(resid: np.ndarray, gx: np.ndarray, gy: np.ndarray, valid: np.ndarray, *, sigma,
                 smooth: float, slack: float, block: int) -> tuple[float, float]:
    """Share of the valid blocks in the largest 8-connected group that moved against the rest, and
    the largest displacement in it (working pixels). ``resid`` is the smoothed residual B - A, ``gx``/``gy`` the gradient of A
    smoothed alike (per working pixel), ``sigma`` the frame's noise of ``resid``, ``smooth`` its
    smoothing (Gaussian sigma, pixels), ``slack`` the misregistration (pixels) tolerated."""
    h, w = resid.shape
    if h // block < 2 or w // block < 2 or float(np.max(sigma)) <= 0:
        return 0.0, 0.0
    ux, uy, ok, (sxx, sxy, syy) = block_displacements(resid, gx, gy, valid, block=block)
    if ok.sum() < 4:
        return 0.0, 0.0
    mx, my = float(np.median(ux[ok])), float(np.median(uy[ok]))
    rx, ry = ux - mx, uy - my
    ny, nx = ux.shape
    if np.ndim(sigma) == 0:
        s2 = np.full((ny, nx), float(sigma) ** 2)
    else:  # each block's noise variance
        sg = np.asarray(sigma, np.float32)[:ny * block, :nx * block]
        s2 = cv2.resize(sg * sg, (nx, ny), interpolation=cv2.INTER_AREA).astype(np.float64)
    var = s2 * 4.0 * math.pi * smooth * smooth  # noise of a sum of the smoothed residual
    z2 = (rx * rx * sxx + 2 * rx * ry * sxy + ry * ry * syy) / var
    moved = ok & (z2 > Z_MOVED * Z_MOVED) & (np.hypot(rx, ry) > slack)
    if not moved.any():
        return 0.0, 0.0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(moved.astype(np.uint8), connectivity=8)
    big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    group = labels == big
    return float(group.sum()) / float(ok.sum()), float(np.hypot(rx, ry)[group].max())

"""Non-rigid motion: parts of the field that moved against the registered (global) shift.

Registration removes one translation. What a single translation cannot explain -- a foam that
drains, a cell that crawls, a sheet that bends -- leaves a residual of the form ``-u(x) . grad A``:
thin structure moved by a pixel or two gives a dipole at each edge that the residual's smoothing
all but cancels and that the local noise estimate (:func:`compare.local_noise._local_sigma`)
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


# Objects that moved on their own (cells that crawled between frames): independent motions that no
# single shift explains and too small for a connected group of blocks (MOVED_SHARE) to form.
WINDOW = 24          # working pixels: a window holds an object and its edges (a nucleus and a margin)
#: Displacement against the field that moves an object, in the picture's own pixels (the working
#: scale's test divides it by its factor: a cell that crawled 2 px of a 5 MP frame is 0.4 working
#: pixels). Session 16; it was 1.5 *working* pixels -- 3-10 px of a reduced picture, unseen.
OBJECT_PX = 1.5
Z_OBJECT = 8.0       # robust standard errors of a window's displacement (see moved_objects)
#: Objects moved on their own that make a local motion. One: a cell that crawled is a change. Session 7
#: set 2, when some same pairs of the real harness moved one object; since sessions 8-14's noise
#: model none of the 4,700 non-blind same pairs does but a two-photon kidney window that reads
#: different anyway, and 1 changed no verdict there (session 15; blind split 7's totals equal).
MOVED_OBJECTS = 1
FIELD_WINDOWS = 4    # windows that pin OBJECT_PX, at least, for the field's own displacement


def _window_sums(x: np.ndarray, ny: int, nx: int) -> np.ndarray:
    """Sums of ``x`` over ``WINDOW x WINDOW`` windows at a stride of half a window (float64)."""
    half = WINDOW // 2
    s = cv2.integral(np.ascontiguousarray(x, np.float32), sdepth=cv2.CV_64F)[::half, ::half]
    return s[2:ny + 2, 2:nx + 2] - s[:ny, 2:nx + 2] - s[2:ny + 2, :nx] + s[:ny, :nx]


def window_fits(resid: np.ndarray, level: np.ndarray, gx: np.ndarray, gy: np.ndarray, valid: np.ndarray):
    """Least-squares fit of ``resid = c + k (level - mean) - u . (gx, gy)`` in every ``WINDOW``
    window at a stride of half a window: the coefficients ``(c, k, -ux, -uy)`` per window, the
    inverses of the normal matrices, and the windows fit (inside ``valid``, well conditioned)."""
    h, w = resid.shape
    half = WINDOW // 2
    ny, nx = h // half - 1, w // half - 1
    lv = level - np.float32(level[valid].mean()) if valid.any() else level
    xs = (np.ones_like(resid), lv, gx, gy)  # only windows wholly inside ``valid`` are fit
    m = np.zeros((ny, nx, 4, 4))
    xr = np.zeros((ny, nx, 4))
    for i, xi in enumerate(xs):
        xr[..., i] = _window_sums(xi * resid, ny, nx)
        for j in range(i, 4):
            m[..., i, j] = m[..., j, i] = _window_sums(xi * xs[j], ny, nx)
    full = _window_sums(valid.astype(np.float32), ny, nx) >= WINDOW * WINDOW
    diag = np.prod(np.diagonal(m, axis1=-2, axis2=-1), axis=-1)
    fit = full & (np.linalg.det(m) > 1e-9 * np.maximum(diag, 1e-300))  # not collinear (Hadamard ratio)
    inv = np.linalg.inv(np.where(fit[..., None, None], m, np.eye(4)))
    # a window whose gradients are numerically nothing (a flat label's interior: the smoothing's
    # tails, 1e-10, and a constant level) passes the scale-free ratio test, and its inverse breaks down (negative
    # variances, a standard error of 0): no fit
    fit &= (np.diagonal(inv, axis1=-2, axis2=-1) > 0).all(axis=-1)
    return np.einsum("...ij,...j->...i", inv, xr), inv, fit, lv


def _alias_reach(alias: np.ndarray, inv: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per window: the largest displacement an error of the window's RMS ``alias`` can make its fit
    read, ``a sqrt(n lambda_max)`` (see :func:`moved_objects`)."""
    ny, nx = shape
    n = WINDOW * WINDOW
    a2 = np.maximum(_window_sums(np.square(alias, dtype=np.float32), ny, nx) / n, 0.0)  # integral rounding
    blk = inv[..., 2:, 2:]
    tr, det = blk[..., 0, 0] + blk[..., 1, 1], blk[..., 0, 0] * blk[..., 1, 1] - blk[..., 0, 1] * blk[..., 1, 0]
    lam = 0.5 * tr + np.sqrt(np.maximum(0.25 * tr * tr - det, 0.0))
    return np.sqrt(a2 * n * np.maximum(lam, 0.0))


def robust_cov(resid: np.ndarray, xs, beta: np.ndarray, inv: np.ndarray, y: int, x: int,
               noise_var: float) -> np.ndarray:
    """White's heteroscedasticity-robust covariance of the displacement ``(ux, uy)`` of the window
    at ``(x, y)``: ``inv X^T diag(max(e^2, noise_var)) X inv``, ``e`` the window's residual after
    its fit."""
    win = (slice(y, y + WINDOW), slice(x, x + WINDOW))
    xw = np.stack([np.ones(WINDOW * WINDOW)] + [v[win].ravel().astype(np.float64) for v in xs], 1)
    e = resid[win].ravel().astype(np.float64) - xw @ beta
    meat = (xw * np.maximum(e * e, noise_var)[:, None]).T @ xw
    return (inv @ meat @ inv)[2:, 2:]


def moved_objects(resid: np.ndarray, level: np.ndarray, gx: np.ndarray, gy: np.ndarray,
                  valid: np.ndarray, *, noise_var: float, slack: float,
                  alias: np.ndarray | None = None,
                  field: tuple[float, float] | None = None,
                  object_px: float = OBJECT_PX, boxes: list | None = None) -> tuple[int, float]:
    """Separate objects that moved against the field: how many, and the largest displacement
    (working pixels).

    Each ``WINDOW`` window (half a window apart) regresses the residual ``resid`` (B - A, not
    smoothed: its noise is close to independent from pixel to pixel) on an offset, A's level
    ``level`` (an object that dimmed or brightened: intensity, not motion) and A's gradient
    (``resid = -u . grad A``), the least-squares displacement ``u`` of the window (Lucas-Kanade,
    :func:`window_fits`). The field's own displacement is the median window's; a window moved
    when its displacement against it exceeds ``object_px`` (and ``slack``, the registered shift
    and edge misregistration tolerated) and is ``Z_OBJECT`` standard errors from zero. The errors
    are heteroscedasticity-robust (:func:`robust_cov`: each pixel's squared residual after the
    fit, never below ``noise_var``): shot noise is largest on bright edges, exactly where the
    gradient weights the fit, and a frame-wide noise would take it for motion. ``noise_var`` is
    the white noise that would give the smoothed residual its measured noise: the regressors are
    gradients of A smoothed at ``SMOOTH_SIGMA``, so what counts is the noise's power at that scale,
    correlation (demosaicing, JPEG blocks) included -- with the two frames' own pixel noise
    instead, a real camera shot against its mean (CC15, in ``fixtures/real``) moved 11 "objects".
    Within a window the errors still ignore the correlation, which 4x4 cluster-robust errors put
    at up to about 1.5x in a one-off probe of the tuning harness's windows: ``Z_OBJECT`` = 8 is
    ``Z_HIGH`` = 6 after it (the margins it leaves: ``bench/bench_real.py --figures``).

    The field's displacement is the median of the windows whose noise alone pins a displacement
    to ``OBJECT_PX / Z_OBJECT`` (``FIELD_WINDOWS`` of them at least). Every window is then judged
    on its own displacement: it is a candidate when noise alone pins *that* displacement at
    ``Z_OBJECT`` standard errors (its standard error times ``Z_OBJECT`` at most its displacement
    against the field), and the robust test decides. A window with little texture -- one
    labelled locus, a spot of a few pixels, in a flat nucleus -- cannot see a motion of
    ``OBJECT_PX``, but a spot that moved by 2-4 px it sees far beyond its noise (held-out split
    6's mESC time-lapse, README cause 19: 23 of 1600 windows could pin ``OBJECT_PX``; the loci
    windows, at 0.18-0.25 px of standard error, moved by 2-4 px at 7-18 robust standard errors,
    were never judged while every window had to pin ``OBJECT_PX``). Overlapping moved windows
    are one object (8-connected on the window grid).

    ``alias`` (a rescaled pair: :func:`compare.resample_noise.alias_sigma` on this grid, residual
    units) is the aliasing a resampling may leave. It is no noise: a moire is one pattern over the
    window, as if the texture had shifted, and its fit is a displacement. However it lines up with
    the gradients, an error of RMS ``a`` over the window's ``n`` samples displaces the fit by at
    most ``a sqrt(n lambda)``, ``lambda`` the largest eigenvalue of the inverse normal matrix's
    displacement block (Cauchy-Schwarz); a window moved no further than that is not judged.

    ``field`` is the field's displacement when the caller knows it (a window cut around one object
    at full resolution, registered already: ``(0, 0)``; :mod:`compare.specks`), in place of the
    median of the pinned windows (such a window may hold too few of them). ``object_px`` is
    ``OBJECT_PX`` in the units of ``resid``'s grid (the analysis's working pixels: ``OBJECT_PX``
    divided by its factor); the field is pinned by the windows that see ``OBJECT_PX`` of that grid.
    ``boxes`` collects where each object is: ``(x, y, width, height, displacement)`` on ``resid``'s
    grid, the moved windows' bounding box and the largest displacement among them, the largest
    displacement first."""
    h, w = resid.shape
    half = WINDOW // 2
    if h // half < 2 or w // half < 2 or noise_var <= 0:
        return 0, 0.0
    beta, inv, fit, lv = window_fits(resid, level, gx, gy, valid)
    u = -beta[..., 2:]
    se = np.sqrt(noise_var * np.maximum(np.maximum(inv[..., 2, 2], inv[..., 3, 3]), 0.0))
    # a displacement beyond half a window is no measurement (the object would have left its window,
    # and the gradient's linearisation holds within its smoothing scale): a degenerate fit
    measured = fit & (np.hypot(u[..., 0], u[..., 1]) <= WINDOW / 2)
    if field is None:
        pinned = measured & (se <= OBJECT_PX / Z_OBJECT)  # the field's displacement: windows that see OBJECT_PX
        if pinned.sum() < FIELD_WINDOWS:
            return 0, 0.0
        rel = u - np.median(u[pinned], axis=0)
    else:
        rel = u - np.asarray(field, np.float64)
    mag = np.hypot(rel[..., 0], rel[..., 1])
    # each window judged on its own displacement: noise alone pins it at Z_OBJECT standard errors
    judged = measured & (mag > max(object_px, slack)) & (se * Z_OBJECT <= mag)
    if alias is not None:
        judged &= mag > _alias_reach(alias, inv, mag.shape)
    moved = np.zeros(mag.shape, np.uint8)
    for iy, ix in zip(*np.nonzero(judged)):
        cov = robust_cov(resid, (lv, gx, gy), beta[iy, ix], inv[iy, ix], iy * half, ix * half, noise_var)
        det = float(cov[0, 0] * cov[1, 1] - cov[0, 1] * cov[1, 0])
        if not det > 0:  # no error estimate (a window the fit cannot pin down): not judged
            continue
        dx, dy = rel[iy, ix]
        z2 = (dx * dx * cov[1, 1] - 2 * dx * dy * cov[0, 1] + dy * dy * cov[0, 0]) / det
        if z2 > Z_OBJECT * Z_OBJECT:
            moved[iy, ix] = 1
    if not moved.any():
        return 0, 0.0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(moved, connectivity=8)
    if boxes is not None:
        found = []
        for i in range(1, n):  # window grid -> resid's pixels: window (iy, ix) covers half * (iy, ix) + WINDOW
            gx0, gy0, gw, gh = (int(v) for v in stats[i, :4])
            x, y = gx0 * half, gy0 * half
            found.append((x, y, min(w, (gx0 + gw - 1) * half + WINDOW) - x, min(h, (gy0 + gh - 1) * half + WINDOW) - y,
                          float(mag[labels == i].max())))
        boxes.extend(sorted(found, key=lambda b: -b[4]))
    return n - 1, float(mag[moved > 0].max())

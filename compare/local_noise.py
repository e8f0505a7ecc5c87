"""The residual's noise place by place, part of the noise floor (:mod:`compare.noise_floor`):

* **local noise** (:func:`_local_sigma`): noise varies over a frame (JPEG error gathers in
  texture, shot noise in bright parts); each block is judged against its own robust noise, from
  differences of samples :data:`compare.noise_floor.LOCAL_LAG` apart (:func:`_block_mad`,
  :func:`lag_gain`);
* **what a displacement explains** (:func:`unexplained_by_shift`, cause 34) and **the noise away
  from edges** that judges it (:func:`calm_sigma`, cause 36).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .noise_floor import LOCAL_LAG, _robust_sigma

LOCAL_BLOCK = 32         # working pixels: the noise of the residual is judged per block this size
LOCAL_MAX = 3.0          # ... at most this many times the frame's own (a change cannot hide itself)
SHIFT_REACH = 1          # working pixels: the residual such a displacement explains is not noise (cause 34)
CALM_RANGE = 2.0         # a sample whose 3x3 range is within this many times the frame's noise lies on no edge (cause 36)
CALM_MIN = 64            # ... and the noise away from edges needs this many such samples


def nanmedian_last(data: np.ndarray) -> np.ndarray:
    """``np.nanmedian(data, axis=-1)`` in one sort (NaNs sort last), for rows with at least one
    number: numpy's nanmedian loops over the rows in Python when any NaN is present."""
    s = np.sort(data, axis=-1)
    n = np.count_nonzero(~np.isnan(data), axis=-1)[..., None]
    lo = np.take_along_axis(s, (n - 1) // 2, axis=-1)[..., 0]
    hi = np.take_along_axis(s, n // 2, axis=-1)[..., 0]
    return (lo + hi) / 2


def _block_mad(x: np.ndarray, ok: np.ndarray, b: int) -> np.ndarray:
    """1.4826 x MAD of ``x`` per ``b x b`` block over the samples where ``ok`` (NaN-free blocks)."""
    h, w = x.shape
    ny, nx = h // b, w // b
    blocks = x[:ny * b, :nx * b].reshape(ny, b, nx, b).transpose(0, 2, 1, 3).reshape(ny, nx, b * b)
    oks = ok[:ny * b, :nx * b].reshape(ny, b, nx, b).transpose(0, 2, 1, 3).reshape(ny, nx, b * b)
    data = np.where(oks, blocks, np.nan)
    med = nanmedian_last(data)
    return 1.4826 * nanmedian_last(np.abs(data - med[..., None]))


def lag_gain(smoothing: float, lag: int = LOCAL_LAG) -> float:
    """Spread of differences ``lag`` samples apart of white noise smoothed by a Gaussian of sigma
    ``smoothing``, per unit of the smoothed noise: ``sqrt(2 (1 - rho))``, ``rho = exp(-lag^2 / (4
    smoothing^2))`` its autocorrelation at that lag."""
    return math.sqrt(2.0 * (1.0 - math.exp(-lag * lag / (4.0 * smoothing * smoothing))))


def _local_sigma(smooth: np.ndarray, valid: np.ndarray, sigma: float,
                 by_level: np.ndarray | None = None, floor: float = 0.0) -> np.ndarray:
    """Noise of the smoothed residual per ``LOCAL_BLOCK`` block, never below the frame's ``sigma``
    and at most ``LOCAL_MAX`` times it, spread back to pixels by bilinear interpolation (float32,
    ``smooth``'s shape). With ``by_level`` (:func:`compare.noise_level.level_sigma`, per pixel, with its cap) the
    lower bound is that pixel's: the noise at its level (a dark background is judged at its own
    small noise, bright structure at its shot noise), and the upper bound is the larger of that
    and ``LOCAL_MAX`` times the frame's -- no place is judged noisier than its level, and a level
    noisier than ``LOCAL_MAX`` times the frame only as far as shot noise accounts for it
    (:func:`compare.noise_level.shot_bound`): a change that fills most of a level (a refocus that alters every bright
    filament) would otherwise raise that level's noise and hide itself.

    A block's noise is judged from differences of samples ``LOCAL_LAG`` apart (across and down):
    noise gives them a spread, an offset does not -- so a change as large as a block (a particle
    that darkened) cannot raise its own block's noise and hide itself, as the spread of the
    residual itself would. The block's spread relative to the median block's, times ``sigma``.

    ``floor`` (the spread of differences that the noise floors not measured on these blocks would
    give -- quantisation, a codec's, a profile's: :func:`lag_gain` times that noise) bounds every
    block's spread from below (cause 40): a spread under it measures nothing. A label image's
    residual is exactly flat wherever no object moved, but the registration's interpolation leaves
    it 0.0002-0.003 DN; the median block's such error made a block with a few times more (an
    object's edge) three times as noisy as the frame."""
    h, w = smooth.shape
    b = LOCAL_BLOCK
    ny, nx = h // b, w // b
    if ny < 2 or nx < 2:
        return _flat_local(h, w, sigma, by_level)
    k = LOCAL_LAG
    # one difference per sample: across on the even squares of a checkerboard, down on the odd
    odd = np.zeros((h, w), bool)
    odd[0::2, 1::2] = True
    odd[1::2, 0::2] = True
    d = np.zeros((h, w), np.float32)
    ok = np.zeros((h, w), bool)
    d[:, :-k] = smooth[:, k:] - smooth[:, :-k]
    ok[:, :-k] = valid[:, k:] & valid[:, :-k]
    down, down_ok = smooth[k:] - smooth[:-k], valid[k:] & valid[:-k]
    for r0, c0 in ((0, 1), (1, 0)):  # the odd squares (strided copies, not a masked one)
        d[r0:h - k:2, c0::2] = down[r0::2, c0::2]
        ok[r0:h - k:2, c0::2] = down_ok[r0::2, c0::2]
    ok[-k:] &= ~odd[-k:]
    inside = ok[:ny * b, :nx * b]
    empty = ~inside.reshape(ny, b, nx, b).any(axis=(1, 3))
    if empty.all():
        return _flat_local(h, w, sigma, by_level)
    inside |= np.repeat(np.repeat(empty, b, axis=0), b, axis=1)  # blocks outside the overlap: zeros
    spread = _block_mad(d, ok, b)
    if floor > 0:
        np.maximum(spread, np.float32(floor), out=spread)
    frame = float(np.median(spread[~empty]))  # the frame's spread: the typical block's
    if frame <= 0:
        return _flat_local(h, w, sigma, by_level)
    local = spread * (sigma / frame)
    local[empty] = sigma
    if by_level is None:
        bounded = np.clip(local, sigma, LOCAL_MAX * sigma).astype(np.float32)
        return cv2.resize(bounded, (w, h), interpolation=cv2.INTER_LINEAR)
    spread_px = cv2.resize(local.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    cap = np.float32(LOCAL_MAX * sigma)
    return np.clip(spread_px, by_level, np.maximum(by_level, cap))


def unexplained_by_shift(a: np.ndarray, diff: np.ndarray, reach: int = SHIFT_REACH) -> np.ndarray:
    """What of the residual ``diff = b - a`` (two aligned, smoothed images) no displacement of up to
    ``reach`` pixels explains, signed like ``diff`` (float32).

    A sample of B that lies within the values A takes within ``reach`` pixels of it (and A's within
    B's) is what a local misregistration of that size could make: an edge displaced by a pixel, as
    the edges of two binarised boards or prints are. Only the gap beyond those ranges is kept: a
    spur, a hole, a pasted patch. Since each sample's own value is in its range, the gap is never
    larger than ``|diff|``."""
    b = a + diff
    size = 2 * reach + 1
    k = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    gap = np.maximum(b - cv2.dilate(a, k), cv2.erode(a, k) - b)
    np.maximum(gap, a - cv2.dilate(b, k), out=gap)
    np.maximum(gap, cv2.erode(b, k) - a, out=gap)
    np.maximum(gap, np.float32(0), out=gap)
    return np.copysign(gap, diff).astype(np.float32, copy=False)


def calm_sigma(smooth: np.ndarray, a: np.ndarray, at: np.ndarray, sigma: float, width: int) -> float:
    """The noise of the smoothed residual ``smooth`` away from edges: its robust sigma over those of
    the samples ``at`` (flat indices into images ``width`` wide, each at least a pixel inside) where
    A's own 3x3 range (``a``: A smoothed) is at most ``CALM_RANGE`` times ``sigma``, the frame's
    noise -- where a displacement of up to a pixel, which :func:`unexplained_by_shift` leaves out,
    makes no residual. Never above ``sigma``; ``sigma`` when fewer than ``CALM_MIN`` samples are calm.

    Measured on every sample, the frame's noise counts the edges' misregistration as noise: two
    binarised boards (DeepPCB), whose unclipped samples all lie on edges that jitter by a pixel,
    read 25.4 DN where their residual away from the edges is 3.9 DN (cause 36: `92000005`)."""
    lo = a.ravel().take(at)
    hi = lo.copy()
    for off in (-width - 1, -width, -width + 1, -1, 1, width - 1, width, width + 1):
        v = a.ravel().take(at + off)
        np.minimum(lo, v, out=lo)
        np.maximum(hi, v, out=hi)
    calm = (hi - lo) <= CALM_RANGE * sigma
    if np.count_nonzero(calm) < CALM_MIN:
        return sigma
    return min(sigma, _robust_sigma(smooth.ravel().take(at[calm])))


def _flat_local(h: int, w: int, sigma: float, by_level: np.ndarray | None) -> np.ndarray:
    """:func:`_local_sigma` without blocks to judge: the frame's ``sigma``, or the noise by level
    (bounded by :func:`compare.noise_level.level_sigma`'s cap, as with blocks)."""
    if by_level is None:
        return np.full((h, w), np.float32(sigma))
    return by_level.astype(np.float32, copy=False)

"""Pieces of :func:`compare.align.analyse` that hold none of its state: the thread pool its
independent parts run on (:func:`_tasks`), a residual in tolerances (:func:`_in_tolerances`), the
sides' full-resolution luma samples and their clipping at a range map's levels
(:func:`_sample_luma`, :func:`_clipped_at`; :func:`compare.levels.range_map`), and the
full-resolution fine-detail job (:func:`_fine_of`).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from .focus import FineEnergies, fine_energies
from .hashing import luma
from .levels import SAMPLES
from .noise_floor import _lsb

_TASKS: ThreadPoolExecutor | None = None


def _tasks() -> ThreadPoolExecutor:
    """Threads for independent pieces of one :func:`compare.align.analyse` (channels, the fine-detail tiles, the
    noise estimates). Its tasks never wait on this pool, so they cannot deadlock it."""
    global _TASKS
    if _TASKS is None:
        _TASKS = ThreadPoolExecutor(max_workers=3, thread_name_prefix="analyse-part")
    return _TASKS


def _in_tolerances(resid: np.ndarray, noise: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """``|resid| / sqrt(noise^2 + edge)``: a residual in tolerances (``edge`` the squared
    misregistration error tolerated at edges)."""
    tol = noise * noise
    tol += edge
    np.sqrt(tol, out=tol)
    z = np.abs(resid)
    z /= tol
    return z


def _sample_luma(pixels: np.ndarray) -> np.ndarray:
    """An even grid of at most ~:data:`compare.levels.SAMPLES` full-resolution pixels' luma, on the 8-bit
    scale: what the used range and a clipped end's pile are judged on (a working sample averages a
    saturated pixel with its neighbours)."""
    h, w = pixels.shape[:2]
    k = max(1, int(math.sqrt(h * w / SAMPLES)))
    sub = pixels[::k, ::k]
    if sub.ndim == 3:
        sub = cv2.cvtColor(np.ascontiguousarray(sub[:, :, :3]), cv2.COLOR_BGR2GRAY) if sub.shape[2] >= 3 else sub[:, :, 0]
    return sub.astype(np.float32) * np.float32(_lsb(pixels))


def _clipped_at(x: np.ndarray, levels: tuple[float | None, float | None], lsb: float) -> np.ndarray:
    """``x`` clipped at ``levels`` (low, high; None: not clipped there), given on the 8-bit scale:
    integer samples are stored values one ``lsb`` apart on it (the level rounded to one), float
    samples are on the 8-bit scale already."""
    lo, hi = levels
    if lo is None and hi is None:
        return x
    if x.dtype.kind in "ui":
        top = np.iinfo(x.dtype).max
        lo = None if lo is None else min(max(round(lo / lsb), 0), top)
        hi = None if hi is None else min(max(round(hi / lsb), 0), top)
    if lo is not None and hi is not None and lo > hi:
        return x
    return np.clip(x, lo, hi).astype(x.dtype, copy=False)


def _fine_of(lumas, a_pixels, b_pixels, dx, dy, band_limit) -> FineEnergies | None:
    """:func:`compare.focus.fine_energies` of the inputs' full-resolution luma (``lumas`` when the
    caller has them)."""
    ya, yb = lumas if lumas is not None else (luma(a_pixels), luma(b_pixels))
    return fine_energies(ya, yb, dx, dy, band_limit=band_limit)

"""Focus at full resolution: band energies of tiles over the whole frame, the codec's share of
them, and a focus change that differs across the frame.

* :func:`fine_energies`: :func:`compare.changes.band_energies` of a grid of ``FINE_TILE`` tiles
  spread evenly over the frame (at most ``FINE_PIXELS``), summed for the whole-frame figures and
  kept per tile;
* :func:`codec_band_noise`: the quantisation error a JPEG side's tables allow in each band
  (``q^2 / 12`` per DCT coefficient through the band-pass): a band whose shared detail is below it
  may be the codec's own (a re-encode's block pattern correlates with the original's), so it
  judges no focus (:func:`compare.changes._band_ratio`);
* :func:`tilted_focus`: one part of the frame sharper in A and another sharper in B (a tilted
  specimen refocused: the whole-frame band ratio cancels), each beyond the tile's own noise.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

import cv2
import numpy as np

from .changes import BANDS_SIGMA, band_blurs, band_energies

FINE_TILE = 128          # full-resolution tiles of the sharpness test, pixels
FINE_PIXELS = 500_000    # ... at most this many pixels of them (spread over the whole frame)
TILE_PAD = 8             # pixels of each tile's border left out of its energies (the blur's reach)
TILE_FALSE_ALARM = 1e-3  # chance that noise alone makes any tile of a pair read a significant blur


@dataclass(frozen=True)
class TileFocus:
    """A tile of the compared grid whose detail is blurred on one side beyond its noise."""

    x: int
    y: int
    size: int
    blur: float   # sigma, compared pixels; negative: B the blurrier here (as Analysis.blur)
    z: float      # the blur's energy deficit in standard errors of the tile's noise

    def to_json(self) -> dict:
        return {"x": self.x, "y": self.y, "size": self.size, "blur_px": round(float(self.blur), 3),
                "z": round(float(self.z), 2)}


def _composite(s: float, k: float) -> np.ndarray:
    """1-D kernel, on the coded grid, of an area reduction by ``k`` followed by a Gaussian of
    ``s`` reduced pixels: ``sum_m g_m box_k(x - m k)``, with each reduced pixel the average of the
    coded pixels it overlaps (fractions at its edges). Its energy counts the aliasing the
    reduction folds into the band, which a Gaussian stand-in for the box would miss."""
    taps = math.ceil(4 * s)
    m = np.arange(-taps, taps + 1)
    g = np.exp(-0.5 * (m / s) ** 2) if s > 0 else (m == 0).astype(float)
    g /= g.sum()
    reach = math.ceil((taps + 1) * k)
    x = np.arange(-reach, reach + 1)[:, None]
    lo = np.maximum(x - 0.5, m * k - 0.5)      # reduced pixel m averages coded [m k, (m + 1) k)
    hi = np.minimum(x + 0.5, m * k + k - 0.5)
    return (np.clip(hi - lo, 0, None) / k) @ g


@functools.lru_cache(maxsize=64)
def _basis_energy(s1: float, s2: float, k: float = 1.0, n: int = 8) -> np.ndarray:
    """Energy of each ``n x n`` DCT basis function (orthonormal, row-major ``(v, u)``) through an area
    reduction by ``k`` and the band-pass ``G(s1) - G(s2)`` of reduced pixels: the error of a basis
    spreads over the whole plane, not only at its nominal frequency (a block's flat "DC" error has
    sharp block edges). Separable, so from 1-D inner products: ``|(G1 - G2) phi|^2 = |G1 phi|^2
    + |G2 phi|^2 - 2 <G1 phi, G2 phi>``."""
    x = np.arange(n)
    phi = np.array([math.sqrt((1 if u == 0 else 2) / n) * np.cos(math.pi * (2 * x + 1) * u / (2 * n))
                    for u in range(n)])
    h1, h2 = _composite(s1, k), _composite(s2, k)
    size = max(h1.size, h2.size)
    h1, h2 = (np.pad(h, (size - h.size) // 2) for h in (h1, h2))
    a1, a2 = ([np.convolve(p, h) for p in phi] for h in (h1, h2))
    m11 = np.array([v @ v for v in a1])
    m22 = np.array([v @ v for v in a2])
    m12 = np.array([v @ w for v, w in zip(a1, a2)])
    return np.outer(m11, m11) + np.outer(m22, m22) - 2 * np.outer(m12, m12)


def codec_band_noise(codecs, scales, factor: float, *, band_limit: float = 0.0,
                     gains=(1.0, 1.0)) -> np.ndarray:
    """Quantisation noise energy per sample that each side's codec allows in each band of
    :func:`compare.changes.band_energies` (rows: bands; columns: A, B), in 8-bit DN squared on
    the compared grid.

    A JPEG rounds DCT coefficient ``k`` to a multiple of its step ``q_k``: an error of at most
    ``q_k^2 / 12`` variance (uniform over a step; less for the small coefficients rounded to zero),
    independent from block to block. Through a filter ``h`` the error's variance per pixel is
    ``sum_k q_k^2 / 12 |h * phi_k|^2 / 64`` with ``phi_k`` the (unit) basis function
    (:func:`_basis_energy`). ``factor`` x ``scales[i]`` coded pixels make one compared pixel (an
    area reduction); ``band_limit`` is a Gaussian (compared pixels) applied to both first;
    ``gains`` divide each side (B normalised to A).

    >>> from scopecheck.compare.codec_noise import CodecTables
    >>> t = CodecTables(luma=np.full((8, 8), 12.0), chroma=None, quality=0)
    >>> [round(float(v), 3) for v in codec_band_noise((t, None), (1.0, 1.0), 1)[:, 0]]
    [0.936, 0.219]

    (white noise of variance ``12^2 / 12`` through the two bands; 0.936 and 0.219 measured on
    ``cv2.dct``-rounded blocks of a random picture in ``tests/compare/test_focus.py``).
    """
    out = np.zeros((len(BANDS_SIGMA) - 1, 2))
    for side, (tables, scale, g) in enumerate(zip(codecs, scales, gains)):
        if tables is None:
            continue
        k = round(factor * scale, 3)
        q2 = tables.luma.astype(np.float64) ** 2 / 12.0
        for i in range(len(BANDS_SIGMA) - 1):
            s1, s2 = (round(math.hypot(s, band_limit), 4) for s in BANDS_SIGMA[i:i + 2])
            energy = float(np.sum(_basis_energy(s1, s2, k, q2.shape[0]) * q2) / q2.size)
            out[i, side] = energy / (g * g if abs(g) > 1e-3 else 1.0)
    return out


def with_noise(energies: np.ndarray, noise: np.ndarray | None) -> np.ndarray:
    """Band energies with each side's codec noise (per sample) attached as sums over the band's
    samples (columns 5 and 6), so that tiles still add up."""
    if noise is None or not noise.any():
        return energies
    out = energies.copy()
    out[:, 5:7] = noise * energies[:, 3:4]
    return out


@dataclass(frozen=True)
class FineEnergies:
    total: np.ndarray                                # summed band energies of all tiles
    tiles: tuple[tuple[int, int, int, np.ndarray], ...]  # (x, y, size, band energies) on A's grid


def fine_energies(a_luma: np.ndarray, b_luma: np.ndarray, dx: float, dy: float,
                  band_limit: float = 0.0) -> FineEnergies | None:
    """:func:`band_energies` at full resolution over the whole frame: a grid of ``FINE_TILE``
    tiles spread evenly over it (every one while they hold at most ``FINE_PIXELS``, else every
    k-th), B's tiles taken at the registered shift, both resampled half-way like the analysis and
    blurred alike by ``band_limit`` (a rescaled pair). ``a_luma``/``b_luma`` are the
    full-resolution luma in any units (only ratios of energies count). Returns the sum and each
    tile's energies (:func:`on_gain` puts B on A's gain and adds the codec's noise)."""
    h, w = a_luma.shape[:2]
    t = min(FINE_TILE, h, w)
    if t < 32:
        return None
    ix, iy = round(dx), round(dy)
    ny, nx = h // t, w // t
    cells = [(j, i) for j in range(ny) for i in range(nx)]
    k = max(1, math.ceil(len(cells) * t * t / FINE_PIXELS))
    total = np.zeros((len(BANDS_SIGMA) - 1, 7))
    tiles = []
    for j, i in cells[k // 2::k]:
        x, y = i * t + (w - nx * t) // 2, j * t + (h - ny * t) // 2
        if not (0 <= x + ix and x + ix + t <= w and 0 <= y + iy and y + iy + t <= h):
            continue
        ca, cb = cut_half_way(a_luma, b_luma, (x, y, t, t), (dx, dy), band_limit)
        e = band_energies(ca, cb, crop=TILE_PAD)
        total += e
        tiles.append((x, y, t, e))
    return FineEnergies(total=total, tiles=tuple(tiles))


def cut_half_way(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int], shift: tuple[float, float],
                 band_limit: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A's ``box`` (x, y, width, height) and B's at the registered ``shift`` (B's content relative to
    A, pixels; B's box must lie inside B), float32, each resampled by half the shift's fraction onto
    a common grid (both get the same interpolation blur, as in the analysis) and blurred alike by
    ``band_limit`` (a rescaled pair)."""
    x, y, w, h = box
    dx, dy = shift
    ix, iy = round(dx), round(dy)
    rx, ry = (dx - ix) / 2, (dy - iy) / 2
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    ca = cv2.warpAffine(a[y:y + h, x:x + w].astype(np.float32), np.array([[1, 0, -rx], [0, 1, -ry]], np.float64),
                        (w, h), flags=flags, borderMode=cv2.BORDER_REFLECT)
    cb = cv2.warpAffine(b[y + iy:y + iy + h, x + ix:x + ix + w].astype(np.float32),
                        np.array([[1, 0, rx], [0, 1, ry]], np.float64), (w, h), flags=flags,
                        borderMode=cv2.BORDER_REFLECT)
    if band_limit > 0:
        ca = cv2.GaussianBlur(ca, (0, 0), band_limit)
        cb = cv2.GaussianBlur(cb, (0, 0), band_limit)
    return ca, cb


def on_gain(fine: FineEnergies | None, gain: float, noise: np.ndarray | None = None) -> FineEnergies | None:
    """The energies of ``fine`` with B divided by the photometric ``gain`` (an exposure change is
    no change of focus: B's energy scales by ``1 / gain^2``, the cross and gradient energies by
    ``1 / gain``) and the codec ``noise`` (:func:`codec_band_noise`, per sample) attached."""
    if fine is None:
        return None
    k = 1.0 / gain if abs(gain) > 1e-3 else 1.0

    def scaled(e: np.ndarray) -> np.ndarray:
        out = e.copy()
        out[:, 1] *= k * k
        out[:, 2] *= k
        out[:, 4] *= k
        return with_noise(out, noise)
    return FineEnergies(total=scaled(fine.total), tiles=tuple((x, y, t, scaled(e)) for x, y, t, e in fine.tiles))


def tile_z(tests: int) -> float:
    """Standard errors a tile's energy deficit must reach so that noise alone makes any of
    ``tests`` one-sided tests fire with chance ``TILE_FALSE_ALARM`` (Bonferroni, normal tail).

    >>> round(tile_z(1), 2), round(tile_z(100), 2)
    (3.09, 4.26)
    """
    return -NormalDist().inv_cdf(TILE_FALSE_ALARM / max(1, tests))  # the upper tail's z


def tile_blurs(fine: FineEnergies) -> tuple[list[TileFocus], int]:
    """Each tile's most significant blur (:func:`compare.changes.band_blurs`; tiles without a
    judged band or with no blur left out), and the number of bands judged over all tiles."""
    out, judged = [], 0
    for x, y, t, e in fine.tiles:
        best = None
        for blur, z in band_blurs(e):
            judged += 1
            if blur != 0.0 and (best is None or z > best[1]):
                best = (blur, z)
        if best is not None:
            out.append(TileFocus(x=x, y=y, size=t, blur=best[0], z=best[1]))
    return out, judged


def tilted_focus(fine: FineEnergies | None) -> tuple[TileFocus, ...]:
    """A focus change that differs across the frame: tiles where A is the blurrier and tiles
    where B is, each beyond its noise (:func:`tile_z` over the pair's tests: two signs per judged
    band of every tile). Returns the tile of each sign with the largest blur (A's blurrier
    first), or ``()`` when only one sign (or none) is significant: a blur of the whole frame -- a
    refocus of a flat specimen, a codec's or a resampling's softening -- has one sign everywhere
    and is judged on the whole frame's energies instead. How large a blur makes a refocus is the
    verdict's threshold (``refocus_blur``)."""
    if fine is None:
        return ()
    tiles, judged = tile_blurs(fine)
    zmin = tile_z(2 * judged)
    pos = [t for t in tiles if t.blur > 0 and t.z >= zmin]
    neg = [t for t in tiles if t.blur < 0 and t.z >= zmin]
    if not pos or not neg:
        return ()
    return max(pos, key=lambda t: t.blur), min(neg, key=lambda t: t.blur)

"""Quantisation noise of a lossy file, derived from the file itself (JPEG quantisation tables;
WebP's VP8 quantisers: :mod:`compare.vp8_quant`).

A baseline/progressive JPEG stores each 8x8 block's DCT coefficient ``k`` rounded to a multiple
of its table step ``q_k``. Rounding error is (at most, and close to it in textured areas) uniform
over one step: variance ``q_k^2 / 12`` per coefficient. The 2-D DCT is orthonormal, so the error
of one block in pixel space has variance ``sum_k q_k^2 / 12 / 64`` per pixel (Parseval). A
smoothing filter of the comparison passes basis ``(u, v)`` with gain ``H(u, v)``; the error that
survives it is ``sum_k H_k^2 q_k^2 / 12 / 64``. Chroma (Cb/Cr tables) adds to the colour channels
through the inverse colour transform (R = Y + 1.402 Cr, B = Y + 1.772 Cb). Subsampled chroma
(4:2:0, 4:2:2: the SOF's sampling factors) stores no chroma detail finer than its coarser grid:
that loss is not noise but a band limit, which :mod:`compare.align` applies to both sides alike
(:attr:`CodecTables.chroma_step`). Its quantisation error is still modelled on the luma grid:
measured after the comparison's smoothing (q70-95, four scikit-image photos) it is 1.0-2.0x the
unscaled q^2/12 figure and 0.25-0.5x a figure scaled to the coarser grid -- small chroma
coefficients round to zero with less than q^2/12 of error, which the coarser grid makes up for.

Only the tables are read (a bounded walk over the segments before the first scan); the pixels
come from :mod:`compare.load`. :func:`jpeg_quality` estimates the IJG quality setting that would
produce the luma table (``quality ~70``) for the reason text.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_SEGMENTS = 512  # a JPEG header with more segments than this before the scan is not walked

# JPEG zig-zag order: position i of a DQT table is coefficient ZIGZAG[i] in row-major 8x8
ZIGZAG = np.array([0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48,
                   41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15,
                   23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])
# ITU-T T.81 Annex K.1 luminance table (row-major), the base of the IJG quality scaling
STD_LUMA = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24,
                     40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77,
                     24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95,
                     98, 112, 100, 103, 99], np.float64)


JFIF_CHROMA = (1.772 ** 2, 0.344 ** 2 + 0.714 ** 2, 1.402 ** 2)  # B, G, R levels per chroma level, squared
_BGR = {"B": 0, "G": 1, "R": 2}


@dataclass(frozen=True)
class CodecTables:
    """A lossy file's quantisation steps, as those of an orthonormal ``n x n`` block transform
    (JPEG: its 8x8 DCT tables as stored; WebP: :mod:`compare.vp8_quant`'s 4x4 equivalents)."""

    luma: np.ndarray            # n x n quantisation steps of the luma component (row-major), RGB levels
    chroma: np.ndarray | None   # n x n steps of the chroma components (None: gray)
    quality: int                # JPEG: the IJG quality that reproduces the luma table best (1-100);
                                # WebP: the frame's base quantiser index (0-127)
    chroma_step: tuple[int, int] = (1, 1)  # luma samples per chroma sample (x, y): (2, 2) is 4:2:0
    codec: str = "JPEG"
    chroma_gains: tuple[float, float, float] = JFIF_CHROMA  # B, G, R levels per chroma level, squared
    quantisers: tuple[int, ...] = ()  # WebP: the frame's base quantiser, then each segment's (if any)

    @property
    def in_floor(self) -> bool:
        """Whether the comparison adds this quantisation error to its noise floor: a JPEG's; a WebP's
        is reproduced instead (:mod:`compare.second_look`)."""
        return self.codec != "WebP"

    @property
    def label(self) -> str:
        """How a reason names the setting: ``quality ~70`` (JPEG) or ``quantiser 39`` (WebP)."""
        return f"quality ~{self.quality}" if self.codec == "JPEG" else f"quantiser {self.quality}"

    def pixel_sigma(self, *, smooth_sigma: float = 0.0, channel: str = "Y") -> float:
        """Std of the quantisation error per pixel (8-bit DN) after a Gaussian of ``smooth_sigma``
        full-resolution pixels; ``channel`` ``"Y"`` (luma/gray) or one of ``"B"``, ``"G"``, ``"R"``."""
        var = _filtered_var(self.luma, smooth_sigma)
        if channel != "Y" and self.chroma is not None:
            var += self.chroma_gains[_BGR[channel]] * _filtered_var(self.chroma, smooth_sigma)
        return math.sqrt(var)


def _filtered_var(table: np.ndarray, sigma: float) -> float:
    n = table.shape[0]
    w = math.pi * np.arange(n) / n  # angular frequency of DCT basis u, radians per pixel
    g = np.exp(-0.5 * (sigma * w) ** 2) if sigma > 0 else np.ones(n)
    gain2 = np.outer(g, g) ** 2
    return float(np.sum(gain2 * table.astype(np.float64) ** 2 / 12.0) / (n * n))


def jpeg_quality(luma: np.ndarray) -> int:
    """IJG quality whose scaled Annex K luma table is closest to ``luma`` (8x8, row-major)."""
    best, best_err = 50, math.inf
    for q in range(1, 101):
        s = 5000 / q if q < 50 else 200 - 2 * q
        t = np.clip(np.floor((STD_LUMA * s + 50) / 100), 1, 255)
        err = float(np.abs(t - luma.ravel()).sum())
        if err < best_err:
            best, best_err = q, err
    return best


def jpeg_tables(data: bytes) -> CodecTables | None:
    """The quantisation tables of a JPEG (bounded walk to the first scan), or None if absent."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    tables: dict[int, np.ndarray] = {}
    comp_tables: list[int] = []
    sampling: list[tuple[int, int]] = []
    pos, n = 2, 0
    while pos + 4 <= len(data) and n < MAX_SEGMENTS:
        n += 1
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return None
        body = data[pos + 4:pos + 2 + length]
        if marker == 0xDB:  # DQT: one or more tables
            i = 0
            while i < len(body):
                pq, tq = body[i] >> 4, body[i] & 15
                size = 128 if pq else 64
                raw = body[i + 1:i + 1 + size]
                if len(raw) < size:
                    return None
                vals = np.frombuffer(raw, ">u2" if pq else np.uint8).astype(np.float64)
                t = np.empty(64)
                t[ZIGZAG] = vals
                tables[tq] = t.reshape(8, 8)
                i += 1 + size
        elif marker in (0xC0, 0xC1, 0xC2) and len(body) >= 6:  # SOF: components' table ids
            nc = body[5]
            comp_tables = [body[6 + 3 * c + 2] for c in range(nc) if 6 + 3 * c + 2 < len(body)]
            sampling = [(body[6 + 3 * c + 1] >> 4, body[6 + 3 * c + 1] & 15) for c in range(nc)
                        if 6 + 3 * c + 1 < len(body)]
        elif marker == 0xDA:
            break
        pos += 2 + length
    if not tables:
        return None
    luma = tables.get(comp_tables[0] if comp_tables else 0, next(iter(tables.values())))
    chroma = tables.get(comp_tables[1]) if len(comp_tables) >= 3 else None
    step = (1, 1)
    if chroma is not None and len(sampling) >= 3 and all(h > 0 and v > 0 for h, v in sampling[:3]):
        (hy, vy), (hc, vc) = sampling[0], (min(sampling[1][0], sampling[2][0]), min(sampling[1][1], sampling[2][1]))
        step = (max(1, hy // hc), max(1, vy // vc))
    return CodecTables(luma=luma, chroma=chroma, quality=jpeg_quality(luma), chroma_step=step)

"""Difference hash (dHash): a small value class and a fast, exact area-average computation.

Definition (``n`` = hash size, default 8):

1. **Luma** of the stored pixels: gray images as they are; BGR/BGRA through OpenCV's BT.601
   ``COLOR_BGR2GRAY`` at the native depth (alpha ignored). 16-bit luma is kept at 16 bits, so it is
   scaled with the data, never clipped.
2. **Area average** to ``(n + 1) x n`` (width x height): each cell is the exact mean of the luma over
   its rectangle, fractional edge pixels weighted by their overlap -- what ``cv2.resize`` with
   ``INTER_AREA`` computes in floating point, but 15x faster on 5 MP (see ``bench/``).
3. **Bits**: bit ``(r, c)`` is set where cell ``(r, c + 1)`` is brighter than cell ``(r, c)``; the
   ``n * n`` bits are taken row-major and the first bit is the most significant bit of the hex,
   the layout the ``imagehash`` library prints.

A hash is written self-describing as ``dhash:<n>:<hex>``. Frames whose cells span less than
``FLAT_RANGE`` gray levels (on a 0-255 scale) are **flat**: their bits are noise or all zero and
two blank frames would otherwise "match", so every consumer must treat them apart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from .errors import InputError

DEFAULT_HASH_SIZE = 8
MIN_HASH_SIZE, MAX_HASH_SIZE = 2, 64  # 64: 4096 bits; larger sizes only cost time and memory
FLAT_RANGE = 2.0  # gray levels (0-255 scale) between the darkest and brightest cell

_TEXT = re.compile(r"^dhash:(\d+):([0-9a-fA-F]+)$")


@dataclass(frozen=True, order=False)
class DHash:
    """A dHash value of ``size * size`` bits. ``a - b`` is the Hamming distance.

    >>> h = DHash.parse("dhash:8:00000000000000ff")
    >>> str(h), h - DHash(8, 0)
    ('dhash:8:00000000000000ff', 8)
    """

    size: int
    value: int
    flat: bool = False

    def __post_init__(self):
        if self.size < 2:
            raise InputError(f"hash size must be at least 2, got {self.size}")
        if not 0 <= self.value < (1 << self.bits):
            raise InputError(f"hash value does not fit in {self.bits} bits")

    @property
    def bits(self) -> int:
        return self.size * self.size

    @property
    def hex(self) -> str:
        return format(self.value, f"0{(self.bits + 3) // 4}x")

    def __str__(self) -> str:
        return f"dhash:{self.size}:{self.hex}"

    def __sub__(self, other: DHash) -> int:
        if not isinstance(other, DHash):
            return NotImplemented
        if other.size != self.size:
            raise InputError(f"cannot compare hashes of different sizes ({self.size} vs {other.size})")
        return (self.value ^ other.value).bit_count()

    def __eq__(self, other) -> bool:
        if not isinstance(other, DHash):
            return NotImplemented
        return self.size == other.size and self.value == other.value

    def __hash__(self) -> int:
        return hash((self.size, self.value))

    @classmethod
    def parse(cls, text: str) -> DHash:
        """Parse ``dhash:<n>:<hex>``; the size is never guessed from the hex length."""
        m = _TEXT.match(text.strip())
        if not m:
            raise InputError(f"not a dHash string: {text!r} (expected dhash:<size>:<hex>)")
        size = int(m.group(1))
        digits = m.group(2)
        if len(digits) != (size * size + 3) // 4:
            raise InputError(f"dhash:{size} needs {(size * size + 3) // 4} hex digits, got {len(digits)}")
        return cls(size, int(digits, 16))

    def to_bits(self) -> np.ndarray:
        """The bits as a ``(size, size)`` bool array, row-major, first bit first."""
        s = format(self.value, f"0{self.bits}b")
        return np.frombuffer(s.encode(), dtype=np.uint8).reshape(self.size, self.size) == ord("1")


def luma(pixels: np.ndarray) -> np.ndarray:
    """Luma at the native depth: the array itself for gray, BT.601 for BGR/BGRA (alpha ignored)."""
    if pixels.ndim == 2:
        return pixels
    code = cv2.COLOR_BGRA2GRAY if pixels.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(pixels, code)


def _area_axis0(a: np.ndarray, n: int) -> np.ndarray:
    """Exact area average of the rows of 2-D ``a`` into ``n`` cells (float64, n x a.shape[1])."""
    length = a.shape[0]
    step = length / n
    if length < n:  # upscaling: small images only, a plain weight matrix is fine
        edges = np.arange(n + 1) * step
        lo, hi = edges[:-1, None], edges[1:, None]
        pix = np.arange(length)[None, :]
        w = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0, None) / step
        return w @ a.astype(np.float64)
    edges = np.arange(n + 1) * step
    floors = np.minimum(np.floor(edges).astype(np.int64), length)
    frac = edges - floors
    # Sums of whole rows between consecutive floors, in one SIMD reduction each.
    seg = np.empty((n, a.shape[1]), dtype=np.float64)
    dtype = cv2.CV_32S if a.dtype == np.uint8 else cv2.CV_64F
    for k in range(n):
        lo, hi = floors[k], floors[k + 1]
        if hi > lo:
            seg[k] = cv2.reduce(a[lo:hi], 0, cv2.REDUCE_SUM, dtype=dtype)[0]
        else:
            seg[k] = 0.0
    prefix = np.zeros((n + 1, a.shape[1]), dtype=np.float64)
    np.cumsum(seg, axis=0, out=prefix[1:])
    partial = np.zeros_like(prefix)
    inside = floors < length
    partial[inside] = a[floors[inside]]
    integral = prefix + frac[:, None] * partial  # integral of the profile up to each edge
    return (integral[1:] - integral[:-1]) / step


def area_average(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    """Exact area-average resize of a 2-D array to ``height x width`` cells (float64)."""
    if gray.ndim != 2:
        raise ValueError(f"area_average needs a 2-D array, got shape {gray.shape}")
    if gray.dtype not in (np.uint8, np.uint16):
        gray = gray.astype(np.float64)
    rows = _area_axis0(gray, height)
    return _area_axis0(np.ascontiguousarray(rows.T), width).T


def check_hash_size(hash_size: int) -> int:
    """``hash_size`` if it is within 2..64, else InputError naming ``--hash-size``."""
    if not MIN_HASH_SIZE <= hash_size <= MAX_HASH_SIZE:
        raise InputError(f"--hash-size must be within {MIN_HASH_SIZE}..{MAX_HASH_SIZE}, got {hash_size}")
    return hash_size


def dhash_from_luma(gray: np.ndarray, *, hash_size: int = DEFAULT_HASH_SIZE,
                    max_value: int | None = None) -> DHash:
    """dHash of a 2-D luma array. ``max_value`` (255 or 65535) scales the flatness test."""
    check_hash_size(hash_size)
    cells = area_average(gray, hash_size + 1, hash_size)
    bits = (cells[:, 1:] > cells[:, :-1]).ravel()
    value = int.from_bytes(np.packbits(bits).tobytes(), "big") >> ((-bits.size) % 8)
    if max_value is None:
        max_value = int(np.iinfo(gray.dtype).max) if gray.dtype.kind in "ui" else 255
    spread = (cells.max() - cells.min()) * 255.0 / max_value
    return DHash(hash_size, value, flat=bool(spread < FLAT_RANGE))


def dhash(pixels: np.ndarray, *, hash_size: int = DEFAULT_HASH_SIZE) -> DHash:
    """dHash of a decoded image array (gray, BGR or BGRA; uint8 or uint16)."""
    return dhash_from_luma(luma(pixels), hash_size=hash_size,
                           max_value=int(np.iinfo(pixels.dtype).max))

"""Difference hash (dHash): a small value class and a fast, exact area-average computation.

Definition (``n`` = hash size, default 8; every file also gets a 16x16 one, ``dhash256``):

1. **Luma** of the stored pixels: gray images as they are; BGR/BGRA through OpenCV's BT.601
   ``COLOR_BGR2GRAY`` at the native depth (alpha ignored). 16-bit luma is kept at 16 bits, so it is
   scaled with the data, never clipped.
2. **Area average** to ``(n + 1) x n`` (width x height): each cell is the exact mean of the luma over
   its rectangle, fractional edge pixels weighted by their overlap -- what ``cv2.resize`` with
   ``INTER_AREA`` computes, but in exact integer arithmetic (:func:`area_sums`), so equal cells are
   equal: a 3x nearest-neighbour upscale has the same hash as the original.
3. **Bits**: bit ``(r, c)`` is set where cell ``(r, c + 1)`` is strictly brighter than cell
   ``(r, c)`` (a tie sets no bit); the ``n * n`` bits are taken row-major and the first bit is the
   most significant bit of the hex, the layout the ``imagehash`` library prints.

**The reduction rule (JPEG).** A JPEG's luma is taken from libjpeg's DCT-domain reduced decode
(:func:`compare.load.decode_jpeg_luma`): the largest reduction of 1/8, 1/4 and 1/2 that still leaves
at least ``MIN_PIXELS_PER_CELL`` (4) pixels per cell in each direction for the largest hash computed
-- ``max(n, 16)``, so the 8x8 and the 16x16 hash always share one decode, and a file's dHash does
not depend on which command computed it. A 1600x1200 JPEG is hashed at 1/8 (200x150; a 1/8 pixel is
the mean of its 8x8 block, exactly what the area average needs), a 400x300 one at 1/4, JPEGs
narrower than 135 or lower than 127 pixels at full size. The luma is then the JPEG's own Y
channel; the other steps are unchanged. Other formats (and 12-bit or CMYK JPEGs) use the full
decode. Agreement with the full-decode hash on real photos (scikit-image's, as JPEG at 1600x1200,
800x600 and 400x300, quality 95/75/50): 64-bit mean 0.5-0.7, max 3-4 bits; 256-bit mean about 4,
max 14-19 bits (``tests/compare/test_hashing.py`` reports it on every run).

A hash is written self-describing as ``dhash:<n>:<hex>``. Frames with no structure above their
own noise are **flat** (:func:`is_flat`): their bits are noise or all zero and two blank frames
would otherwise "match", so every consumer must treat them apart. A flat hash never stands in for
a pixel test: ``compare`` still judges the aligned residual.
"""
from __future__ import annotations

import functools
import re

from .containers import Header
from .containers.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .errors import InputError
from .flatness import (  # noqa: F401 - re-exported: flatness is part of what a hash says
    FLAT_RANGE,
    FLAT_SAMPLES,
    FLAT_SNR,
    FLATNESS,
    _block,
    flat_samples,
    floor_weights,
    is_flat,
    judge_flat,
    structure_floor,
)
from .frozen import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a warm search never needs it)
if TYPE_CHECKING:  # numpy, OpenCV and the decoder load when a pixel is first touched: a search of
    import numpy as np  # fresh indexes handles DHash values only and needs none of them

    from .load import Image

DEFAULT_HASH_SIZE = 8
MIN_HASH_SIZE, MAX_HASH_SIZE = 2, 64  # 64: 4096 bits; larger sizes only cost time and memory
FINE_HASH_SIZE = 16     # the second hash every record carries (dhash256)
MIN_PIXELS_PER_CELL = 4  # the reduction rule: decoded pixels per hash cell, in each direction

_TEXT = r"^dhash:(\d+):([0-9a-fA-F]+)$"  # compiled on first use (re caches it): a search never parses one


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
        m = re.match(_TEXT, text.strip())
        if not m:
            raise InputError(f"not a dHash string: {text!r} (expected dhash:<size>:<hex>)")
        size = int(m.group(1))
        digits = m.group(2)
        if len(digits) != (size * size + 3) // 4:
            raise InputError(f"dhash:{size} needs {(size * size + 3) // 4} hex digits, got {len(digits)}")
        return cls(size, int(digits, 16))

    def to_bits(self) -> np.ndarray:
        """The bits as a ``(size, size)`` bool array, row-major, first bit first."""
        import numpy as np

        s = format(self.value, f"0{self.bits}b")
        return np.frombuffer(s.encode(), dtype=np.uint8).reshape(self.size, self.size) == ord("1")


def luma(pixels: np.ndarray) -> np.ndarray:
    """Luma at the native depth: the array itself for gray, BT.601 for BGR/BGRA (alpha ignored)."""
    if pixels.ndim == 2:
        return pixels
    import cv2

    code = cv2.COLOR_BGRA2GRAY if pixels.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(pixels, code)


@functools.lru_cache(maxsize=64)
def _weights(length: int, n: int, dtype: str = "float64") -> np.ndarray:
    """Integer overlap weights (``n x length``, held in float64 or float32) of ``length`` pixels in ``n`` cells.

    Lengths are counted in units of ``1/n`` pixel, so every boundary is an integer: cell ``k`` covers
    ``[k * length, (k + 1) * length)`` and pixel ``p`` covers ``[p * n, (p + 1) * n)``. The weight is
    their overlap (0..n), every cell's weights sum to ``length``.
    """
    import numpy as np

    lo = np.arange(n, dtype=np.int64)[:, None] * length
    pix = np.arange(length, dtype=np.int64)[None, :] * n
    w = np.clip(np.minimum(lo + length, pix + n) - np.maximum(lo, pix), 0, None).astype(dtype)
    w.flags.writeable = False
    return w


_SMALL = 1 << 16  # pixels: below this, one matrix product per axis is the fastest exact path


def _row_sums(a: np.ndarray, n: int) -> np.ndarray:
    """``_weights(a.shape[0], n) @ a`` for a large integer image, in one pass of SIMD row reductions.

    Whole rows inside a cell are summed by ``cv2.reduce`` (int32 for 8-bit, float64 for 16-bit:
    exact either way) and weighted ``n``; the two edge rows get their integer partial weights.
    """
    import cv2
    import numpy as np

    length = a.shape[0]
    out = np.empty((n, a.shape[1]), dtype=np.float64)
    dtype = cv2.CV_32S if a.dtype == np.uint8 else cv2.CV_64F
    for k in range(n):
        lo, hi = k * length, (k + 1) * length
        p0, p1 = -(-lo // n), hi // n  # first whole pixel, end of the whole pixels
        row = cv2.reduce(a[p0:p1], 0, cv2.REDUCE_SUM, dtype=dtype)[0].astype(np.float64) * n
        if p0 * n > lo:
            row += (p0 * n - lo) * a[p0 - 1].astype(np.float64)
        if hi > p1 * n:
            row += (hi - p1 * n) * a[p1].astype(np.float64)
        out[k] = row
    return out


def area_sums(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area sums of a 2-D integer array over ``height x width`` cells, exactly.

    ``area_sums(g, w, h) / (g.shape[0] * g.shape[1])`` is the area average (each cell's mean over
    its rectangle, fractional edge pixels weighted by their overlap). The sums are integers (with
    the weights of :func:`_weights`) held exactly in float64: every partial sum stays below 2**53
    for 16-bit images up to 100 megapixels; so equal means give equal sums, never a rounding tie-break.
    """
    import numpy as np

    if gray.ndim != 2:
        raise ValueError(f"area sums need a 2-D array, got shape {gray.shape}")
    if gray.dtype not in (np.uint8, np.uint16):
        gray = gray.astype(np.float64)  # not an integer image: plain float arithmetic
    h, w = gray.shape
    if gray.size <= _SMALL or h < 4 * height or gray.dtype == np.float64:
        rows = _weights(h, height) @ gray.astype(np.float64)
    else:
        rows = _row_sums(gray, height)
    return rows @ _weights(w, width).T


def area_average(gray: np.ndarray, width: int, height: int) -> np.ndarray:
    """Exact area-average resize of a 2-D array to ``height x width`` cells (float64): what
    ``cv2.resize`` with ``INTER_AREA`` computes, without its rounding."""
    return area_sums(gray, width, height) / float(gray.shape[0] * gray.shape[1])


def check_hash_size(hash_size: int) -> int:
    """``hash_size`` if it is within 2..64, else InputError naming ``--hash-size``."""
    if not MIN_HASH_SIZE <= hash_size <= MAX_HASH_SIZE:
        raise InputError(f"--hash-size must be within {MIN_HASH_SIZE}..{MAX_HASH_SIZE}, got {hash_size}")
    return hash_size


def dhashes_from_luma(gray: np.ndarray, *, sizes: tuple[int, ...], max_value: int | None = None) -> tuple[DHash, ...]:
    """:func:`dhash_from_luma` for several hash sizes, sharing one pass over a small image (and
    their flatness, decided early from the same product when the frame has structure)."""
    return hashes_and_thumbnail(gray, sizes=sizes, thumb=False)[0]


def hashes_and_thumbnail(gray: np.ndarray, *, sizes: tuple[int, ...],
                         thumb: bool = True) -> tuple[tuple[DHash, ...], bytes]:
    """What a record takes from its luma: the dHash of each size (one flatness for all) and the
    :func:`compare.thumbs.thumbnail` (``b""`` when ``thumb`` is False). A small integer image (the
    reduced JPEG decode) gets every cell sum and the flatness floor from two shared matrix
    products (:mod:`compare.cellsums`); the values are those of the separate computations."""
    import numpy as np

    from .thumbs import THUMB_SIZE, stretch, thumbnail

    sizes = tuple(sizes)
    for n in sizes:
        check_hash_size(n)
    samples = floor = packed = None
    t = b""
    if gray.ndim == 2 and gray.dtype in (np.uint8, np.uint16) and gray.size <= _SMALL:
        from .cellsums import small_sums

        whole = _block(gray) == 1 and min(gray.shape) >= 5  # flat_samples(gray) is the image itself
        sums, tsums, as32, floor, packed = small_sums(gray, sizes, thumb=THUMB_SIZE, floor=whole, bits=True)
        if whole:
            samples = as32
        if thumb:
            t = stretch(tsums)
    else:
        sums = [area_sums(gray, n + 1, n) for n in sizes]
        if thumb:
            t = thumbnail(gray)
    flat = judge_flat(gray, cell_range=_range(sums[0], gray.shape[0] * gray.shape[1]), samples=samples, floor=floor)
    nbits = sum(n * n for n in sizes)
    if packed is None:  # the bits of every size from one packbits: in order, the first bit first
        packed = np.packbits(np.concatenate([(s[:, 1:] > s[:, :-1]).ravel() for s in sums])).tobytes()
    rest = int.from_bytes(packed, "big") >> ((-nbits) % 8)  # exact sums: a tie sets no bit
    values = []
    for n in reversed(sizes):
        values.append(rest & ((1 << (n * n)) - 1))
        rest >>= n * n
    return tuple(DHash(n, v, flat=flat) for n, v in zip(sizes, reversed(values))), t  # one image, one flatness


def _range(sums: np.ndarray, pixels: int) -> float:
    """``cells.max() - cells.min()`` of the cell means ``cells = sums / pixels``, from one pass over the
    sums: the quotient of the largest sum is the largest quotient (rounding is monotonic), the
    same float64 division either way."""
    import cv2

    lo, hi = cv2.minMaxLoc(sums)[:2]
    return hi / float(pixels) - lo / float(pixels)


def _dhash_of_sums(sums: np.ndarray, hash_size: int, flat: bool) -> DHash:
    import numpy as np

    bits = (sums[:, 1:] > sums[:, :-1]).ravel()  # exact sums: a tie is a tie, never a set bit
    value = int.from_bytes(np.packbits(bits).tobytes(), "big") >> ((-bits.size) % 8)
    return DHash(hash_size, value, flat=flat)


def dhash_from_luma(gray: np.ndarray, *, hash_size: int = DEFAULT_HASH_SIZE,
                    max_value: int | None = None, sums: np.ndarray | None = None,
                    flat: bool | None = None) -> DHash:
    """dHash of a 2-D luma array; ``flat`` from :func:`is_flat` (``max_value`` is accepted for
    callers that pass it; flatness is judged in the image's own units and needs no scale).
    (``sums``: its :func:`area_sums`, ``flat``: its :func:`is_flat`, when already computed.)"""
    check_hash_size(hash_size)
    if sums is None:
        sums = area_sums(gray, hash_size + 1, hash_size)  # exact: a tie is a tie, never a set bit
    if flat is None:
        flat = is_flat(gray, cells=sums / float(gray.shape[0] * gray.shape[1]))
    return _dhash_of_sums(sums, hash_size, flat)


def dhash(pixels: np.ndarray, *, hash_size: int = DEFAULT_HASH_SIZE) -> DHash:
    """dHash of a decoded image array (gray, BGR or BGRA; uint8 or uint16)."""
    import numpy as np

    return dhash_from_luma(luma(pixels), hash_size=hash_size,
                           max_value=int(np.iinfo(pixels.dtype).max))


# --------------------------------------------------------------------------- the reduction rule

def jpeg_reduction(width: int, height: int, *, hash_size: int = DEFAULT_HASH_SIZE) -> int:
    """The DCT reduction (8, 4, 2, or 1 = full decode) the hashes of a ``width x height`` JPEG use.

    The largest that leaves at least :data:`MIN_PIXELS_PER_CELL` decoded pixels per cell in each
    direction for a ``max(hash_size, 16)`` hash.

    >>> jpeg_reduction(1600, 1200), jpeg_reduction(400, 300), jpeg_reduction(200, 150), jpeg_reduction(120, 90)
    (8, 4, 2, 1)
    """
    n = max(hash_size, FINE_HASH_SIZE)
    for f in (8, 4, 2):
        if -(-width // f) >= MIN_PIXELS_PER_CELL * (n + 1) and -(-height // f) >= MIN_PIXELS_PER_CELL * n:
            return f
    return 1


@dataclass(frozen=True)
class ReducedLuma:
    luma: np.ndarray  # uint8, ceil(width / reduction) x ceil(height / reduction)
    reduction: int    # 2, 4 or 8
    components: int   # of the JPEG frame: 1 (gray) or 3 (colour)


def hash_luma(data: bytes, header: Header, *, hash_size: int = DEFAULT_HASH_SIZE, path: str = "<bytes>",
              max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES,
              checked: tuple[Header, bytes] | None = None) -> ReducedLuma | None:
    """The reduced JPEG luma the reduction rule hashes for these bytes (``header``: what
    :func:`compare.load.check_header` returned for them; ``checked``: what
    :func:`compare.load.check_input` did, if called), or None when the full decode's luma is the one
    to hash."""
    if header.format != "jpeg":
        return None
    from .load import decode_jpeg_luma, jpeg_frame

    r = jpeg_reduction(header.width, header.height, hash_size=hash_size)
    frame = jpeg_frame(data) if r > 1 else None
    if frame is None or frame[0] != 8 or frame[1] not in (1, 3):
        return None
    luma_ = decode_jpeg_luma(data, reduction=r, path=path, max_pixels=max_pixels, max_bytes=max_bytes,
                             checked=checked)
    return ReducedLuma(luma_, r, frame[1])


def image_dhash(img: Image, *, hash_size: int = DEFAULT_HASH_SIZE, y: np.ndarray | None = None) -> DHash:
    """The dHash of a decoded file under the reduction rule (``y``: its full luma, if already made)."""
    header = Header(img.format, img.width, img.height)
    reduced = hash_luma(img.data, header, hash_size=hash_size, path=img.path, max_pixels=img.width * img.height,
                        max_bytes=len(img.data))
    if reduced is not None:
        return dhash_from_luma(reduced.luma, hash_size=hash_size, max_value=255)
    return dhash_from_luma(luma(img.pixels) if y is None else y, hash_size=hash_size, max_value=img.max_value)

"""The working scale of :func:`compare.align.analyse` (step 1 of its module docstring): the integer
area-averaging factor that brings the long side to at most ``WORK_SIDE`` pixels
(:func:`working_factor`), the working image itself (:func:`working_image`; 8-bit samples averaged
finely, :func:`_area_fine`), and the two image operations analyse runs on it: luma and a cheap
Gaussian blur of large sigma.
"""
from __future__ import annotations

import math
import threading

import cv2
import numpy as np

WORK_SIDE = 640          # long side of the working image, pixels
MIN_WORK = 16            # shortest side of the working image, pixels


def working_factor(shape) -> int:
    """Integer area-averaging factor that brings the long side to at most ``WORK_SIDE``, but never
    below ``MIN_WORK`` pixels on the short side (a 640:1 strip keeps its width for registration)."""
    long_side, short_side = max(shape[0], shape[1]), min(shape[0], shape[1])
    return max(1, min(math.ceil(long_side / WORK_SIDE), short_side // MIN_WORK))


def working_image(pixels: np.ndarray) -> np.ndarray:
    """The image at its working scale (see :func:`working_factor`); one image's share of
    :func:`compare.align.analyse`, so callers can compute it while the other file is still decoding."""
    return _working(pixels, working_factor(pixels.shape))


def _working(pixels: np.ndarray, factor: int) -> np.ndarray:
    """Area-averaged float32 image on an 8-bit scale (channels kept; alpha dropped)."""
    img = pixels
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    if factor > 1:  # whole factor x factor blocks (the last h % factor rows and w % factor columns
        h, w = img.shape[:2]  # cover no whole working pixel): the area average
        img = img[:h - h % factor, :w - w % factor]
        if img.dtype == np.uint8:
            return _area_fine(img, factor)
        img = cv2.resize(img, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    out = img.astype(np.float32)
    if pixels.dtype == np.uint16:
        out *= np.float32(255.0 / 65535.0)
    return out


#: 8-bit samples are averaged as 16-bit ones shifted up by this many bits: OpenCV's area average
#: rounds to the sample type, and a mean of 25 samples rounded to a whole level loses the averaging
#: (the difference of two shots with 2 levels of noise, reduced by 5, is within half a level in 62 %
#: of the working pixels: the residual's MAD was 0 and every noise estimate fell to the rounding's)
FINE_BITS = 6
_FINE = threading.local()  # each thread's strip buffer (fresh pages cost more than the averaging)


def _area_fine(img: np.ndarray, factor: int) -> np.ndarray:
    """The ``factor x factor`` area average of 8-bit ``img`` (whole blocks), float32, to 1/128 of a
    level: in strips of rows, each widened to 16 bits in a reused buffer."""
    h, w = img.shape[:2]
    rows = factor * 32
    shape = (rows, w) + img.shape[2:]
    buf = getattr(_FINE, "buf", None)
    if buf is None or buf.shape != shape:
        buf = _FINE.buf = np.empty(shape, np.uint16)
    out = np.empty((h // factor, w // factor) + img.shape[2:], np.float32)
    for y in range(0, h, rows):
        n = min(rows, h - y)
        np.left_shift(img[y:y + n], FINE_BITS, out=buf[:n], dtype=np.uint16)
        out[y // factor:(y + n) // factor] = cv2.resize(buf[:n], (w // factor, n // factor),
                                                        interpolation=cv2.INTER_AREA)
    out *= np.float32(1.0 / (1 << FINE_BITS))
    return out


def _luma(img: np.ndarray) -> np.ndarray:
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def _coarse(x: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of large ``sigma`` computed on a reduced image (cheap), at full size."""
    h, w = x.shape
    k = max(1, int(sigma // 4))
    small = cv2.resize(x, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / k), (w, h), interpolation=cv2.INTER_LINEAR)

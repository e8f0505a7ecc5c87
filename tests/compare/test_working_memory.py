"""Formats without a compressed-size floor are bounded by the memory their decode holds.

Lossless WebP codes a one-colour image of any size in 32 bytes, and a GIF frame of 1x1 may sit
on a canvas of any size, so no bytes-per-pixel floor can tell a bomb from a real file. Instead
``--max-pixels`` stands for max_pixels x 3 bytes (an 8-bit RGB decode), and a decoder that keeps
a whole-image working copy (libwebp's 4-byte ARGB for VP8L; OpenCV's index image + BGRA canvas
for GIF) must fit that budget. Expected edges are computed here from that formula.
"""
from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from scopecheck.compare.containers import Limits, inspect
from scopecheck.compare.errors import DecodeError, LimitError
from scopecheck.compare.load import decode
from tests.hostile import vp8l_one_colour

BUDGET = 3  # bytes per allowed pixel


def gif_screen(width: int, height: int) -> bytes:
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + bytes(6)
            + b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + bytes([2, 2, 0x44, 1, 0]) + b";")


def vp8x_lossless(width: int, height: int, *, alpha_flag: bool) -> bytes:
    """An extended (VP8X) file whose image is lossless, the alpha flag in VP8X only."""
    inner = vp8l_one_colour(width, height)[12:]  # the VP8L chunk
    vp8x = bytes([0x10 if alpha_flag else 0, 0, 0, 0]) + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    riff = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + inner
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def largest_square(bytes_per_pixel: int, max_pixels: int) -> int:
    side = int((max_pixels * BUDGET / bytes_per_pixel) ** 0.5)
    assert side * side * bytes_per_pixel <= max_pixels * BUDGET < (side + 1) ** 2 * bytes_per_pixel
    return side


@pytest.mark.parametrize(("make", "bpp", "what"), [
    (lambda s: vp8l_one_colour(s, s), 4 + 3, "lossless or animated WebP"),
    (lambda s: vp8l_one_colour(s, s, alpha=True), 4 + 4, "lossless or animated WebP"),
    (lambda s: vp8x_lossless(s, s, alpha_flag=True), 4 + 4, "lossless or animated WebP"),
    (lambda s: vp8x_lossless(s, s, alpha_flag=False), 4 + 3, "lossless or animated WebP"),
    (lambda s: gif_screen(s, s), 1 + 4 + 3, "GIF"),
])
@pytest.mark.parametrize("max_pixels", [100_000_000, 10_000_000])
def test_budget_edge_is_max_pixels_times_three_bytes(make, bpp, what, max_pixels):
    side = largest_square(bpp, max_pixels)
    limits = Limits(max_pixels=max_pixels)
    assert inspect(make(side), limits=limits)[0].width == side
    with pytest.raises(LimitError, match=f"{what} {side + 1}x{side + 1} needs about .* raise --max-pixels"):
        inspect(make(side + 1), limits=limits)
    # Raising --max-pixels (as the message says) admits it.
    inspect(make(side + 1), limits=Limits(max_pixels=max_pixels * bpp // BUDGET + bpp))


def test_formats_with_a_floor_keep_the_plain_pixel_limit():
    png = cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes()
    ihdr = png.index(b"IHDR") + 4
    big = png[:ihdr] + struct.pack(">II", 9950, 9950) + png[ihdr + 8:]  # CRC now wrong: walker only
    with pytest.raises(DecodeError) as e:  # refused for its data (truncated), never for working memory
        inspect(big, limits=Limits())
    assert "needs about" not in str(e.value)
    lossy = cv2.imencode(".webp", np.zeros((16, 16, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 80])[1].tobytes()
    i = lossy.index(b"\x9d\x01\x2a") + 3
    lossy_99mp = lossy[:i] + struct.pack("<HH", 9950, 9950) + lossy[i + 4:]
    assert inspect(lossy_99mp, limits=Limits())[0].width == 9950  # decodes into its output only


def test_real_lossless_webp_and_gif_still_decode_the_same():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    data = cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes()
    assert b"VP8L" in data
    assert np.array_equal(decode(data).pixels, img)
    one = decode(vp8l_one_colour(64, 48)).pixels
    assert one.shape[:2] == (48, 64) and not one.any()
    gif = decode(gif_screen(5, 3)).pixels
    assert gif.shape[:2] == (3, 5)

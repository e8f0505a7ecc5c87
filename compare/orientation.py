"""The picture as displayed: EXIF Orientation applied, for a reason that says so.

``compare`` judges stored pixels (:mod:`compare.load`): a phone photo stored sideways with
Orientation 6 and a copy an editor saved upright differ pixel for pixel, and read "another scene".
Both look the same on screen, though. When the two sides' Orientation tags differ and the stored
pixels differ, the comparison is made again on the pictures as displayed. The verdict stays the
stored pixels' verdict, and the reason adds what the displayed comparison found: "as displayed
(EXIF Orientation applied: A rotate 90 CW) near-identical".

:func:`as_displayed` follows the EXIF 2.3 definition of the tag (row 0 and column 0 of the stored
image are at the named sides of the displayed one), which is what OpenCV's ``imread`` applies by
default. The tests check it against that reference for all eight values.
"""
from __future__ import annotations

import numpy as np

from .exif import _ORIENTATION

KEY = "EXIF Orientation"


def orientation(metadata: dict) -> int:
    """The Orientation tag (1-8) of a file's metadata (:func:`compare.metadata.read_metadata`);
    1 (stored as displayed) when absent or unreadable."""
    value = str(metadata.get(KEY, "1")).split(" ", 1)[0]
    return int(value) if value.isdigit() and int(value) in _ORIENTATION else 1


def as_displayed(pixels: np.ndarray, tag: int) -> np.ndarray:
    """``pixels`` (rows x columns [x channels]) as a viewer shows them under Orientation ``tag``."""
    if tag in (5, 6, 7, 8):  # the stored rows are the displayed columns
        pixels = np.swapaxes(pixels, 0, 1)
    if tag in (2, 3, 6, 7):  # ... then mirrored left to right
        pixels = pixels[:, ::-1]
    if tag in (3, 4, 7, 8):  # ... and/or top to bottom
        pixels = pixels[::-1]
    return np.ascontiguousarray(pixels)


def describe(tags: tuple[int, int]) -> str:
    """``A rotate 90 CW`` / ``A rotate 90 CW, B mirror horizontal``: the tags that are applied."""
    return ", ".join(f"{side} {_ORIENTATION[t]}" for side, t in zip("AB", tags) if t != 1)

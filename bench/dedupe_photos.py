"""Other photos for ``bench/bench_dedupe.py --photos``: each file one 8-bit BGR source picture.

16-bit pictures are scaled to 8 bits (x / 257, rounded), an alpha channel is dropped, grayscale is
kept as three equal channels, and a picture larger than ``max_mp`` megapixels (a desktop wallpaper)
is downscaled by area (INTER_AREA, aspect kept) to that size first, so a set of a few hundred
sources is built and measured in minutes. Bad input: one stderr line, exit 2.
"""
from __future__ import annotations

import os
import sys

import cv2
import numpy as np

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pgm", ".ppm", ".pnm", ".bmp", ".webp")


def bad_input(msg: str):
    print(msg, file=sys.stderr)
    sys.exit(2)


def photo_files(paths: list[str]) -> list[str]:
    """The source photos named by ``--photos``: files as given, folders as their images, sorted."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p) if f.lower().endswith(IMAGE_EXTS))
        elif os.path.isfile(p):
            out.append(p)
        else:
            bad_input(f"--photos: {p!r} is neither a file nor a folder")
    return out


def photo_sources(files: list[str], *, max_mp: float):
    """Each file as an 8-bit BGR picture, downscaled (INTER_AREA) to ``max_mp`` megapixels if larger."""
    seen = set()
    for fn in files:
        img = cv2.imread(fn, cv2.IMREAD_UNCHANGED)
        if img is None:
            print(f"{fn}: not readable by OpenCV, left out", file=sys.stderr)
            continue
        if img.dtype == np.uint16:
            img = np.round(img / 257.0).astype(np.uint8)
        if img.dtype != np.uint8:
            print(f"{fn}: {img.dtype} pixels, left out", file=sys.stderr)
            continue
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        h, w = img.shape[:2]
        if h * w > max_mp * 1e6:
            f = (max_mp * 1e6 / (h * w)) ** 0.5
            img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        name = os.path.splitext(os.path.basename(fn))[0]
        if name in seen:
            bad_input(f"--photos: two sources named {name!r}; pass files with distinct names")
        seen.add(name)
        yield name, img

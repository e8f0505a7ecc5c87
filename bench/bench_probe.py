"""Probe of lab situations the real harness does not hold (session 15; README "What a probe ...").

Edits of scikit-image's real photographs and micrographs, each compared with ``compare_files``
and counted against its truth:

* ``speck``  -- a black (or white) square speck of 3, 5 or 7 px on the picture enlarged to 1.5, 5
  and 12 MP, two shots with their own noise (sigma 2): different (a 3x3 speck of 9 px is under the
  small-strong rule of 12 px and is listed, not counted);
* ``speck-free`` -- the same two shots without the speck, as PNG and as a JPEG q70: same;
* ``mask``   -- an Otsu mask stored 0/1 against 0/255 (and 0/65535): same; with its largest object
  removed: different;
* ``tone``   -- gamma 0.85 or 1.3 on the left half of the frame: different (a known miss, kept to
  measure it);
* ``rows``   -- 1-3 rows duplicated mid-frame, with and without noise: different (known misses);
* ``move``   -- one segmented object moved 2 px: different;
* ``move-5mp`` -- the same on the picture enlarged to 5 MP, moved by 2, 4 or 6x6 px: different.

usage: .venv/bin/python bench/bench_probe.py [--only KIND] [--show]
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile

import cv2
import numpy as np
import skimage.data as data
from skimage import filters, measure

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scopecheck.compare.pair import compare_files  # noqa: E402


def _bgr(img: np.ndarray) -> np.ndarray:
    return img[:, :, ::-1] if img.ndim == 3 else img


def _noisy(img: np.ndarray, sigma: float, rng) -> np.ndarray:
    top = 255 if img.dtype == np.uint8 else 65535
    out = img.astype(np.float32) + rng.normal(0, sigma * (top / 255), img.shape).astype(np.float32)
    return np.clip(out + 0.5, 0, top).astype(img.dtype)


def speck(tmp, rng):
    for name in ("astronaut", "coffee", "chelsea", "camera", "moon"):
        img = _bgr(getattr(data, name)())
        for mp in (1.5, 5.0, 12.0):
            s = (mp * 1e6 / (img.shape[0] * img.shape[1])) ** 0.5
            big = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
            a, b0 = _noisy(big, 2, rng), _noisy(big, 2, rng)
            pa = _write(tmp, "a.png", a)
            yield "speck-free", f"{name} {mp} MP png", True, pa, _write(tmp, "b.png", b0)
            yield "speck-free", f"{name} {mp} MP jpeg q70", True, pa, _write(tmp, "b.jpg", b0, quality=70)
            for side in (3, 5, 7):
                b = b0.copy()
                y, x = big.shape[0] // 3, big.shape[1] // 3
                b[y:y + side, x:x + side] = 0 if big[y:y + side, x:x + side].mean() > 100 else 255
                yield ("speck" if side > 3 else "speck-3x3"), f"{name} {mp} MP {side}x{side}", False, pa, \
                    _write(tmp, "b.png", b)


def mask(tmp, rng):
    for name in ("coins", "camera", "cell", "moon", "text", "page", "horse", "binary_blobs"):
        img = getattr(data, name)()
        if img.dtype == bool:
            m = img.astype(np.uint8)
        else:
            g = img if img.ndim == 2 else img[:, :, 0]
            m = (g > filters.threshold_otsu(g)).astype(np.uint8)
        pa = _write(tmp, "a.png", m)
        yield "mask", f"{name} 0/1 vs 0/255", True, pa, _write(tmp, "b.png", m * np.uint8(255))
        yield "mask", f"{name} 0/1 vs 0/65535", True, pa, _write(tmp, "b.png", m.astype(np.uint16) * np.uint16(65535))
        lab = measure.label(m)
        props = measure.regionprops(lab)
        if props:
            big = max(props, key=lambda p: p.area)
            b = m * np.uint8(255)
            b[lab == big.label] = 0
            yield "mask-changed", f"{name} largest object removed", False, pa, _write(tmp, "b.png", b)


def tone(tmp, rng):
    for name in ("astronaut", "coffee", "chelsea", "camera", "moon", "text", "page", "hubble_deep_field",
                 "retina", "cell", "coins", "brick", "immunohistochemistry", "microaneurysms"):
        img = _bgr(getattr(data, name)())
        for gamma in (0.85, 1.3):
            lut = np.clip(255 * (np.arange(256) / 255) ** gamma + 0.5, 0, 255).astype(np.uint8)
            b = img.copy()
            w = img.shape[1] // 2
            b[:, :w] = lut[img[:, :w]]
            yield "tone", f"{name} gamma {gamma} left half", False, _write(tmp, "a.png", img), _write(tmp, "b.png", b)


def rows(tmp, rng):
    for name in ("astronaut", "coffee", "chelsea", "camera", "moon", "text", "page", "hubble_deep_field",
                 "retina", "cell", "coins", "brick"):
        img = _bgr(getattr(data, name)())
        r = img.shape[0] // 2
        for k in (1, 2, 3):
            dup = np.concatenate([img[:r], np.repeat(img[r:r + 1], k, axis=0), img[r:-k]])
            for sigma in (0, 2):
                a, b = (img, dup) if sigma == 0 else (_noisy(img, sigma, rng), _noisy(dup, sigma, rng))
                yield "rows", f"{name} {k} rows noise {sigma}", False, _write(tmp, "a.png", a), _write(tmp, "b.png", b)


def _moves(tmp, rng, category: str, mp: float | None, steps):
    for name in ("coins", "cell", "hubble_deep_field", "moon", "astronaut", "coffee"):
        img = _bgr(getattr(data, name)())
        if mp is not None:
            s = (mp * 1e6 / (img.shape[0] * img.shape[1])) ** 0.5
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
        g = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        lab = measure.label(g > filters.threshold_otsu(g))
        props = sorted((p for p in measure.regionprops(lab) if p.area > 30), key=lambda p: -p.area)
        for p in props[:2]:
            m = cv2.dilate((lab == p.label).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            ys, xs = np.nonzero(m)
            for mx, my in steps:
                b = img.copy()
                ok = (ys + my < img.shape[0]) & (xs + mx < img.shape[1])
                b[ys[ok] + my, xs[ok] + mx] = img[ys[ok], xs[ok]]
                yield category, f"{name} object of {int(p.area)} px by ({mx}, {my})", False, \
                    _write(tmp, "a.png", _noisy(img, 2, rng)), _write(tmp, "b.png", _noisy(b, 2, rng))


def move(tmp, rng):
    yield from _moves(tmp, rng, "move", None, ((2, 0), (0, 2)))


def move_5mp(tmp, rng):
    yield from _moves(tmp, rng, "move-5mp", 5.0, ((2, 0), (0, 4), (6, 6)))


def _write(tmp: str, name: str, img: np.ndarray, quality: int | None = None) -> str:
    path = os.path.join(tmp, name)
    cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, quality] if quality else [cv2.IMWRITE_PNG_COMPRESSION, 1])
    return path


KINDS = {"speck": speck, "mask": mask, "tone": tone, "rows": rows, "move": move, "move-5mp": move_5mp}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=sorted(KINDS))
    ap.add_argument("--show", action="store_true", help="print every pair, not only the misses")
    args = ap.parse_args(argv)
    table = collections.defaultdict(collections.Counter)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, make in KINDS.items():
            if args.only and kind != args.only:
                continue
            rng = np.random.default_rng(15)
            for category, name, truth, a, b in make(tmp, rng):
                c = compare_files(a, b)
                right = c.verdict.same == truth
                table[category]["right" if right else "wrong"] += 1
                if args.show or not right:
                    print(f"{'    ' if right else 'miss'} {category:13} {name:40} {c.verdict.value:15} {c.reason[:110]}")
    print(f"\n{'category':13} {'right':>6} {'wrong':>6}")
    for category, row in table.items():
        print(f"{category:13} {row['right']:6d} {row['wrong']:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hashing throughput of ``compare.record.hash_file`` against the straightforward reference.

    .venv/bin/python bench/bench_hashing.py               # throughput table, shift robustness
    .venv/bin/python bench/bench_hashing.py --distances   # also the measurement behind --max-distance

Reference (what a first implementation does): ``cv2.imread`` (colour), ``cvtColor`` to gray,
``cv2.resize`` to 9x8 with ``INTER_LINEAR``, then a Python loop over the 64 comparisons.

Measured per format (JPEG q90, PNG) and size (640x480, 1600x1200), files warm in the page cache,
OpenCV limited to one thread per process:

* ``decode``: read the file and ``cv2.imdecode`` it at full size -- the floor for anything that
  must see every pixel.
* ``reference``: as above.
* ``hash_file``: the index's per-file work: file SHA-256, the JPEG reduction rule's DCT-reduced
  decode (full decode for PNG), luma, exact area average, the 8x8 and 16x16 dHashes. The pixel
  SHA-256 is lazy (computed by search/dedupe only for candidates), so it is not part of it.
* ``dhash only``: full decode + luma + area-average dHash, no digests.
* ``reduced``: JPEG only, ``IMREAD_REDUCED_GRAYSCALE_k`` + area-average dHash, with the number of
  bits that differ from the full-decode hash (the reduction rule picks k; see compare/hashing.py).

Then images/s with two worker processes (a warm pool) for hash_file and the reference, and the
bits a one-pixel shift moves under each definition. Ratios are printed; nothing is asserted.
Both sides run with the heap tuning the index workers use (``compare.batch.tune_malloc``);
``BENCH_TUNE_MALLOC=0`` measures glibc's defaults instead.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

import cv2
import numpy as np
import skimage.data

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scopecheck.compare.hashing import DHash, dhash, dhash_from_luma  # noqa: E402
from scopecheck.compare.batch import tune_malloc  # noqa: E402
from scopecheck.compare.load import load  # noqa: E402
from scopecheck.compare.record import hash_file  # noqa: E402

SOURCES = ("astronaut", "coffee", "chelsea", "immunohistochemistry", "retina", "rocket", "cell", "camera")


def scenes(w, h, count, seed=0):
    """Photographic content at w x h with mild sensor noise, each a different crop."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        src = getattr(skimage.data, SOURCES[k % len(SOURCES)])()
        if src.ndim == 2:
            src = np.dstack([src] * 3)
        src = cv2.cvtColor(np.ascontiguousarray(src[..., :3]), cv2.COLOR_RGB2BGR)
        sh, sw = src.shape[:2]
        cy, cx = rng.integers(0, sh // 5 + 1), rng.integers(0, sw // 5 + 1)
        crop = src[cy:cy + sh * 4 // 5, cx:cx + sw * 4 // 5]
        img = cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        img += rng.normal(0, 2.0, img.shape)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def reference_hash(path: str) -> int:
    img = cv2.imread(path)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_LINEAR)
    value = 0
    for r in range(8):
        for c in range(8):
            value = (value << 1) | int(small[r, c + 1] > small[r, c])
    return value


def reference_bits(gray: np.ndarray) -> int:
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_LINEAR)
    return int.from_bytes(np.packbits((small[:, 1:] > small[:, :-1]).ravel()).tobytes(), "big")


def decode_only(path: str):
    with open(path, "rb") as f:
        data = f.read()
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def dhash_only(path: str):
    return dhash(load(path).pixels)


REDUCED = {2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


def reduced_factor(w: int) -> int:
    return 8 if w >= 1200 else 4


def reduced_decode(path: str, k: int):
    with open(path, "rb") as f:
        data = f.read()
    return cv2.imdecode(np.frombuffer(data, np.uint8), REDUCED[k])


def reduced_hash(path: str, k: int) -> DHash:
    return dhash_from_luma(reduced_decode(path, k), max_value=255)


def per_second(fn, paths, repeats=3):
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for p in paths:
            fn(p)
        rates.append(len(paths) / (time.perf_counter() - t))
    return statistics.median(rates)


def _init():
    cv2.setNumThreads(1)
    if TUNE:
        tune_malloc()


TUNE = os.environ.get("BENCH_TUNE_MALLOC", "1") == "1"  # what compare.batch workers do; 0 = glibc defaults


def spin(n: int) -> float:
    """Pure-Python busy loop: what two processes can get out of this machine at best."""
    t = time.perf_counter()
    s = 0
    for i in range(n):
        s += i
    return time.perf_counter() - t


def machine_scaling(pool) -> float:
    pool.map(spin, [1000, 1000])
    one = spin(10_000_000)
    t = time.perf_counter()
    pool.map(spin, [10_000_000] * 2, chunksize=1)
    return 2 * one / (time.perf_counter() - t)


def pool_rate(pool, fn, paths, repeats=3):
    pool.map(fn, paths[:4])  # warm
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        pool.map(fn, paths, chunksize=4)
        rates.append(len(paths) / (time.perf_counter() - t))
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=24, help="files per format and size (default 24)")
    ap.add_argument("--distances", action="store_true", help="also measure copy/non-copy dHash distances")
    args = ap.parse_args()
    _init()
    print(f"opencv {cv2.__version__}, numpy {np.__version__}, {os.cpu_count()} cpus; {args.count} files per set; "
          f"malloc tuned like the index workers: {TUNE} (BENCH_TUNE_MALLOC=0 for glibc defaults)")
    tmp = tempfile.mkdtemp(prefix="bench-hashing-")
    ctx = multiprocessing.get_context("forkserver")
    pool = ctx.Pool(2, initializer=_init)
    rows = []
    print(f"\n{'set':16s} {'decode':>8s} {'reference':>10s} {'hash_file':>10s} {'dhash only':>11s} "
          f"{'reduced':>8s}   images/s, one process")
    for (w, h) in ((640, 480), (1600, 1200)):
        imgs = scenes(w, h, args.count, seed=w)
        for fmt, params in (("jpg", [cv2.IMWRITE_JPEG_QUALITY, 90]), ("png", [])):
            paths = []
            for k, img in enumerate(imgs):
                p = os.path.join(tmp, f"{w}x{h}_{k:03d}.{fmt}")
                cv2.imwrite(p, img, params)
                paths.append(p)
            per_second(decode_only, paths, 1)  # warm the page cache
            r_dec = per_second(decode_only, paths)
            r_ref = per_second(reference_hash, paths)
            r_rec = per_second(hash_file, paths)
            r_dh = per_second(dhash_only, paths)
            red = ""
            disagree = None
            if fmt == "jpg":
                k = reduced_factor(w)
                r_red = per_second(lambda p: reduced_hash(p, k), paths)
                r_red_dec = per_second(lambda p: reduced_decode(p, k), paths)
                bits = [reduced_hash(p, k) - dhash(load(p).pixels) for p in paths]
                disagree = (k, statistics.mean(bits), max(bits), r_red_dec)
                red = f"{r_red:8.0f}"
            many = paths * max(2, 240 // len(paths))  # enough work that pool overheads do not dominate
            r2_rec = pool_rate(pool, hash_file, many)
            r2_ref = pool_rate(pool, reference_hash, many)
            name = f"{fmt.upper()} {w}x{h}"
            size_kb = statistics.mean(os.path.getsize(p) for p in paths) / 1024
            print(f"{name:16s} {r_dec:8.0f} {r_ref:10.0f} {r_rec:10.0f} {r_dh:11.0f} {red:>8s}   ({size_kb:.0f} KiB/file)")
            rows.append((name, r_dec, r_ref, r_rec, r_dh, r2_rec, r2_ref, disagree))
    calib = machine_scaling(pool)
    pool.close()
    pool.join()

    print("\nratios (one process unless stated):")
    print(f"{'set':16s} {'hash_file/ref':>14s} {'dhash/ref':>10s} {'hash_file time/decode':>22s} "
          f"{'2 proc: hash_file':>18s} {'ref':>6s} {'hash_file 2p/ref 2p':>20s}")
    for name, r_dec, r_ref, r_rec, r_dh, r2_rec, r2_ref, _ in rows:
        print(f"{name:16s} {r_rec / r_ref:14.2f} {r_dh / r_ref:10.2f} {r_dec / r_rec:22.2f} "
              f"{r2_rec / r_rec:17.2f}x {r2_ref / r_ref:5.2f}x {r2_rec / r2_ref:20.2f}")
    print(f"(calibration: a pure-Python loop runs {calib:.2f}x faster in two processes than in one on this "
          "machine, the ceiling for any 2-process ratio above)")
    print("\nreduced-size JPEG decode (not used; consistency with the full-decode definition):")
    for name, *_, dis in rows:
        if dis:
            k, mean, mx, r_red_dec = dis
            print(f"  {name}: IMREAD_REDUCED_GRAYSCALE_{k}: {mean:.2f} bits differ on average, max {mx}; "
                  f"decoding alone at that size {r_red_dec:.0f} images/s")

    print("\none-pixel shift (crop 1 px top-left), bits moved, 640x480 scenes:")
    imgs = scenes(640, 480, 40, seed=99)
    ref_moves, ours = [], []
    for img in imgs:
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        ref_moves.append(bin(reference_bits(g) ^ reference_bits(np.ascontiguousarray(g[1:, 1:]))).count("1"))
        ours.append(dhash(img) - dhash(np.ascontiguousarray(img[1:, 1:])))
    print(f"  reference INTER_LINEAR: mean {statistics.mean(ref_moves):.2f}, max {max(ref_moves)}")
    print(f"  scopecheck area average: mean {statistics.mean(ours):.2f}, max {max(ours)}")
    if args.distances:
        distances()


# --------------------------------------------------------------------------- default distance

def distances():
    """Distances between copies (re-encoded, resized, shifted, metadata) and between different
    pictures, on scikit-image's images: the measurement behind DEFAULT_MAX_DISTANCE."""
    import itertools

    names = ["astronaut", "camera", "cell", "coffee", "immunohistochemistry", "retina", "chelsea", "coins",
             "moon", "page", "rocket", "hubble_deep_field", "microaneurysms", "text", "clock", "horse", "brick",
             "grass", "gravel", "colorwheel"]
    imgs = {}
    for n in names:
        a = getattr(skimage.data, n)()
        if a.ndim == 3:
            a = cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_RGB2BGR)
        if a.dtype != np.uint8:
            a = cv2.normalize(a.astype(np.float32), None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        imgs[n] = np.ascontiguousarray(a)

    def jpg(a, q):
        return cv2.imdecode(cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_UNCHANGED)

    copies: dict[str, list[int]] = {}
    hashes = {n: dhash(a) for n, a in imgs.items()}
    for n, a in imgs.items():
        h0, w0 = a.shape[:2]
        variants = {
            "JPEG q95": jpg(a, 95), "JPEG q75": jpg(a, 75), "JPEG q50": jpg(a, 50),
            "1/2 area": cv2.resize(a, (w0 // 2, h0 // 2), interpolation=cv2.INTER_AREA),
            "1/2 linear": cv2.resize(a, (w0 // 2, h0 // 2), interpolation=cv2.INTER_LINEAR),
            "1/4 + JPEG 80": jpg(cv2.resize(a, (w0 // 4, h0 // 4), interpolation=cv2.INTER_AREA), 80),
            "3/2 linear": cv2.resize(a, (w0 * 3 // 2, h0 * 3 // 2), interpolation=cv2.INTER_LINEAR),
            "1 px shift": np.ascontiguousarray(a[1:, 1:]),
            "brightness +10": cv2.add(a, np.full_like(a, 10)),
            "metadata only": a,
        }
        for k, b in variants.items():
            copies.setdefault(k, []).append(dhash(b) - hashes[n])
    print("\ndistances between a picture and its copy (bits of 64), 20 scikit-image pictures:")
    for k, v in copies.items():
        print(f"  {k:15s} mean {statistics.mean(v):5.2f}  max {max(v):2d}")
    different = [hashes[a] - hashes[b] for a, b in itertools.combinations(hashes, 2)]
    fields, separate = [], []
    for n in ("immunohistochemistry", "retina", "cell", "hubble_deep_field", "astronaut", "coffee"):
        a = imgs[n]
        h0, w0 = a.shape[:2]
        th, tw = h0 // 3, w0 // 3
        tiles = {(y, x): dhash(a[y:y + th, x:x + tw]) for y in range(0, h0 - th + 1, th // 2)
                 for x in range(0, w0 - tw + 1, tw // 2)}
        for (p, hp), (q, hq) in itertools.combinations(tiles.items(), 2):
            if hp.flat or hq.flat:
                continue
            overlap = abs(p[0] - q[0]) < th and abs(p[1] - q[1]) < tw
            (fields if overlap else separate).append(hp - hq)
    print(f"different pictures: min {min(different)} ({len(different)} pairs)")
    print(f"fields of view of one specimen, half overlapping: min {min(fields)} ({len(fields)} pairs)")
    print(f"fields of view of one specimen, not overlapping: min {min(separate)} ({len(separate)} pairs)")
    allc = [d for v in copies.values() for d in v]
    for t in (4, 5, 6, 7, 8, 10, 12):
        print(f"  max distance {t:2d}: copies found {np.mean([d <= t for d in allc]):.3f}, "
              f"overlapping fields matched {np.mean([d <= t for d in fields]):.4f}, "
              f"separate fields matched {np.mean([d <= t for d in separate]):.4f}, "
              f"different pictures matched {np.mean([d <= t for d in different]):.4f}")


if __name__ == "__main__":
    main()

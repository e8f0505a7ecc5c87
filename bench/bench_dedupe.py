"""Near-duplicate grouping on real photos: scopecheck dedupe against imagededup and imagehash.

    .venv/bin/python bench/bench_dedupe.py                 # build the set under out/, measure
    .venv/bin/python bench/bench_dedupe.py --radius 7      # the radius the comparison is made at
    .venv/bin/python bench/bench_dedupe.py --edits         # the link test on edits the set lacks

The peers are a bench-only extra (imagededup pulls in PyTorch): ``.venv/bin/pip install -e '.[bench]'``.

**The set** (written under ``out/bench_dedupe/``, rebuilt when missing). Real photos that ship in
Python packages: scikit-image's bundled pictures (its synthetic ones left out, except the colour
wheel, the issue's hard case), scikit-learn's two sample photos, matplotlib's two sample photos and
40 faces of scikit-image's LFW subset (25x25, upscaled 4x with INTER_CUBIC: different people that
look alike). Each source is written as a PNG original plus 7 versions: JPEG q95/75/50, resized 0.5x,
cropped 4 % on each side, brightened (+25 gray levels) and metadata only (a PNG tEXt chunk added:
the same pixels). Truth: two files are duplicates when they come from the same source.

Separately, **stage-scan tiles**: about 1700 overlapping tiles cut from two large real pictures
(scikit-image's retina fundus photo, 256 px tiles every 40 px, and the Hubble deep field, 200 px
tiles every 25 px). Consecutive tiles are near-duplicates of each other, so a chaining dedupe makes
one group of a whole row or scan; the check is that no group has a member farther than D from its
representative, and how large groups get.

**Measured**: pair precision and recall (pairs of files put in one group, or within the radius for
the pairwise tools) over a sweep of radii for every method, the precision of each method at the
recall scopecheck reaches at the default radius, and the distribution of the link test -- the
thumbnail correlation over crops and shifts (``compare.thumbs``) -- over candidate links (64-bit
dHash within 16) that are true copies vs strangers: the numbers behind ``DEFAULT_MIN_CORRELATION``
(the midpoint in Fisher's z of the lowest copy and the highest stranger within 12 bits), beside the
16x16 dHash distance the previous version confirmed links with (within 64 bits of 256).
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import struct
import sys
import time
import zlib

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scopecheck.compare.dedupe import connected_groups, find_duplicates, hamming256, star_groups  # noqa: E402
from scopecheck.compare.pairs import radius_pairs  # noqa: E402
from scopecheck.compare.hashing import dhash  # noqa: E402
from scopecheck.compare.haystack import DEFAULT_MAX_DISTANCE, Entry, Haystack  # noqa: E402
from scopecheck.compare.record import hash_file  # noqa: E402
from scopecheck.compare.thumbs import DEFAULT_MIN_CORRELATION, link_correlations, thumbnail  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "out", "bench_dedupe")
SKIMAGE = ["astronaut", "brick", "camera", "cell", "chelsea", "clock_motion", "coffee", "coins", "color",
           "grass", "gravel", "hubble_deep_field", "ihc", "microaneurysms", "moon", "motorcycle_left",
           "motorcycle_right", "page", "retina", "rocket", "text"]
VERSIONS = ["orig", "q95", "q75", "q50", "half", "crop", "bright", "meta"]


# --------------------------------------------------------------------------- the set

def _sources():
    import skimage

    sk = os.path.join(os.path.dirname(skimage.__file__), "data")
    for name in SKIMAGE:
        fn = next(f for f in os.listdir(sk) if f.split(".")[0] == name)
        yield f"skimage-{name}", cv2.imread(os.path.join(sk, fn), cv2.IMREAD_COLOR)
    try:  # installed with the bench extra (imagededup needs both): pip install -e '.[bench]'
        import matplotlib
        import sklearn.datasets
    except ImportError:
        print("scikit-learn / matplotlib not installed: their 4 sample photos left out", file=sys.stderr)
    else:
        skl = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
        for fn in ("china.jpg", "flower.jpg"):
            yield f"sklearn-{fn.split('.')[0]}", cv2.imread(os.path.join(skl, fn), cv2.IMREAD_COLOR)
        mpl = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")
        for fn in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png"):
            yield f"mpl-{fn.split('.')[0]}", cv2.imread(os.path.join(mpl, fn), cv2.IMREAD_COLOR)
    faces = np.load(os.path.join(sk, "lfw_subset.npy"))
    for k in range(0, 80, 2):  # 40 faces
        f = np.clip(faces[k] * 255.0, 0, 255).astype(np.uint8)
        yield f"lfw-{k:03d}", cv2.resize(f, (100, 100), interpolation=cv2.INTER_CUBIC)


def _png_with_text(png: bytes) -> bytes:
    body = b"Comment\x00bench_dedupe: metadata-only copy"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return png[:33] + chunk + png[33:]  # after the signature (8) and IHDR (25)


def build_set(folder: str) -> dict[str, str]:
    """Write the photo set; returns {path: source}."""
    truth = {}
    os.makedirs(folder, exist_ok=True)
    for name, img in _sources():
        h, w = img.shape[:2]
        png = cv2.imencode(".png", img)[1].tobytes()
        files = {
            "orig.png": png,
            "q95.jpg": cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes(),
            "q75.jpg": cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes(),
            "q50.jpg": cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 50])[1].tobytes(),
            "half.png": cv2.imencode(".png", cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA))[1]
            .tobytes(),
            "crop.png": cv2.imencode(".png", img[h * 4 // 100: h - h * 4 // 100, w * 4 // 100: w - w * 4 // 100])[1]
            .tobytes(),
            "bright.png": cv2.imencode(".png", cv2.add(img, np.full_like(img, 25)))[1].tobytes(),
            "meta.png": _png_with_text(png),
        }
        for suffix, data in files.items():
            p = os.path.join(folder, f"{name}__{suffix}")
            if not os.path.exists(p):
                with open(p, "wb") as f:
                    f.write(data)
            truth[p] = name
    return truth


def tiles() -> list[tuple[str, np.ndarray]]:
    import skimage

    sk = os.path.join(os.path.dirname(skimage.__file__), "data")
    out = []
    for fn, size, step in (("retina.jpg", 256, 40), ("hubble_deep_field.jpg", 200, 25)):
        img = cv2.imread(os.path.join(sk, fn), cv2.IMREAD_GRAYSCALE)
        for y in range(0, img.shape[0] - size + 1, step):
            for x in range(0, img.shape[1] - size + 1, step):
                out.append((f"{fn}@{x},{y}", np.ascontiguousarray(img[y:y + size, x:x + size])))
    return out


# --------------------------------------------------------------------------- scoring

def pairs_of_groups(groups) -> set[tuple[str, str]]:
    out = set()
    for g in groups:
        for a, b in itertools.combinations(sorted(g), 2):
            out.add((a, b))
    return out


def score(pred: set, truth_pairs: set) -> tuple[float, float]:
    tp = len(pred & truth_pairs)
    return (tp / len(pred) if pred else 1.0), tp / len(truth_pairs)


def scopecheck_groups(hay, *, radius, min_correlation):
    res = find_duplicates(hay, max_distance=radius, min_correlation=min_correlation)
    return [[m.path for m in g.members] for g in res.groups]


def dhash256_groups(hay, entries, *, radius, confirm=64):
    """The previous version: stars of links confirmed by the 16x16 dHash (within 64 bits of 256)."""
    i, j, d = radius_pairs(hay.hashes, max_distance=radius)
    ok = hamming256(hay.dhash256[i], hay.dhash256[j]) <= confirm
    return [[entries[k].path for k in [r, *m.tolist()]] for r, m in star_groups(len(entries), i[ok], j[ok], d[ok])]


def chain_groups(hay, entries, *, radius):
    """The previous behaviour: connected components of 64-bit links (plus same-pixel copies)."""
    i, j, _ = radius_pairs(hay.hashes, max_distance=radius)
    return [[entries[k].path for k in comp] for comp in connected_groups(len(entries), i, j)]


def imagededup_pairs(folder, kind, radius, cache={}):  # noqa: B006 - encodings cached per method
    import logging

    from imagededup.methods import DHash, PHash

    logging.getLogger("imagededup").setLevel(logging.WARNING)
    for h in logging.getLogger().handlers:
        h.setLevel(logging.WARNING)

    method = {"dhash": DHash, "phash": PHash}[kind](verbose=False)
    if kind not in cache:
        cache[kind] = method.encode_images(image_dir=folder, num_enc_workers=0)
    dups = method.find_duplicates(encoding_map=cache[kind], max_distance_threshold=radius, num_dist_workers=0)
    return {tuple(sorted((os.path.join(folder, a), os.path.join(folder, b)))) for a, bs in dups.items() for b in bs}


def imagehash_pairs(paths, kind, radius, cache={}):  # noqa: B006
    import imagehash
    from PIL import Image

    if kind not in cache:
        fn = {"dhash": imagehash.dhash, "phash": imagehash.phash}[kind]
        cache[kind] = [fn(Image.open(p)) for p in paths]
    hs = cache[kind]
    return {tuple(sorted((paths[a], paths[b]))) for a, b in itertools.combinations(range(len(paths)), 2)
            if hs[a] - hs[b] <= radius}


def unseen_edits(y: np.ndarray) -> dict[str, np.ndarray]:
    """Edits the photo set does not contain, applied to a luma array (what a held-out set may hold)."""
    h, w = y.shape
    f = y.astype(np.float64)
    rot = cv2.warpAffine(y, cv2.getRotationMatrix2D((w / 2, h / 2), 2, 1.0), (w, h), borderMode=cv2.BORDER_REFLECT)
    out = {"gamma 0.6": 255 * (f / 255) ** 0.6, "gamma 1.6": 255 * (f / 255) ** 1.6,
           "contrast x0.5": 128 + 0.5 * (f - 128),
           "JPEG q30": cv2.imdecode(cv2.imencode(".jpg", y, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], 0),
           "quarter size": cv2.resize(y, (max(w // 4, 8), max(h // 4, 8)), interpolation=cv2.INTER_AREA),
           "blur sigma 2": cv2.GaussianBlur(y, (0, 0), 2),
           "noise sigma 5": f + np.random.default_rng(0).normal(0, 5, f.shape),
           "crop 8 % left": y[:, int(w * .08):], "crop 6 % corner": y[int(h * .06):, int(w * .06):],
           "crop 10 % all round": y[int(h * .1):h - int(h * .1), int(w * .1):w - int(w * .1)],
           "crop 8 % top+bottom": y[int(h * .08):h - int(h * .08), :], "rotated 2 deg": rot}
    return {k: np.clip(np.round(v), 0, 255).astype(np.uint8) for k, v in out.items()}


def report_unseen_edits(min_correlation: float):
    from scopecheck.compare.hashing import dhash_from_luma, luma

    print(f"\nedits the set does not contain, on each source's luma; copies within 12 bits of 64 kept at "
          f"correlation >= {min_correlation} (and by the 16x16 dHash within 64):")
    kept: dict[str, list] = {}
    for _, img in _sources():
        y = luma(img)
        h0, f0, t0 = dhash_from_luma(y), dhash_from_luma(y, hash_size=16), np.frombuffer(thumbnail(y), np.uint8)
        for name, v in unseen_edits(y).items():
            if dhash_from_luma(v) - h0 > 12:
                continue
            r = link_correlations(np.stack([t0, np.frombuffer(thumbnail(v), np.uint8)]), [0], [1])[0]
            kept.setdefault(name, []).append((r, dhash_from_luma(v, hash_size=16) - f0))
    for name, rs in kept.items():
        r = np.array([x for x, _ in rs])
        print(f"  {name:20s} {int((r >= min_correlation).sum()):2d} of {r.size:2d} (lowest {r.min():.3f}); "
              f"16x16 dHash: {sum(d <= 64 for _, d in rs):2d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius", type=int, default=DEFAULT_MAX_DISTANCE)
    ap.add_argument("--min-correlation", type=float, default=DEFAULT_MIN_CORRELATION)
    ap.add_argument("--sweep", default="2,4,5,6,7,8,10,12,14")
    ap.add_argument("--edits", action="store_true", help="only the link test on edits the set does not contain")
    args = ap.parse_args()
    if args.edits:
        report_unseen_edits(args.min_correlation)
        return
    radii = [int(r) for r in args.sweep.split(",")]
    folder = os.path.join(OUT, "photos")
    truth = build_set(folder)
    paths = sorted(truth)
    t0 = time.perf_counter()
    entries = [Entry.of(hash_file(p)) for p in paths]
    print(f"{len(paths)} files from {len(set(truth.values()))} real photos x {len(VERSIONS)} versions; "
          f"hashed in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f}")
    hay = Haystack.of(entries, source=folder)
    truth_pairs = {(a, b) for a, b in itertools.combinations(paths, 2) if truth[a] == truth[b]}

    # 1. The link test: thumbnail correlations of candidate links, copies vs strangers.
    i, j, d = radius_pairs(hay.hashes, max_distance=16)
    thumbs = np.frombuffer(b"".join(e.thumb for e in entries), dtype=np.uint8).reshape(len(entries), -1)
    t0 = time.perf_counter()
    corr = link_correlations(thumbs, i, j)
    took = time.perf_counter() - t0
    d256 = hamming256(hay.dhash256[i], hay.dhash256[j])
    same = np.array([truth[paths[a]] == truth[paths[b]] for a, b in zip(i.tolist(), j.tolist())], dtype=bool)
    print(f"\ncandidate links within 16 bits of 64: {same.sum()} between copies, {(~same).sum()} between strangers "
          f"(correlations of all {i.size} in {took:.2f} s)")
    for within in (12, 16):
        sel = d <= within
        for label, s_ in (("copies", same & sel), ("strangers", ~same & sel)):
            v = np.sort(corr[s_])
            if v.size:
                q = np.percentile(v, [0, 1, 5, 50, 95, 99, 100]).round(3).tolist()
                print(f"  within {within}: correlation of {label:9s}: min/1%/5%/median/95%/99%/max = {q}")
    sel = d <= 12
    lo, hi = float(corr[same & sel].min()), float(corr[~same & sel].max())
    mid = float(np.tanh((np.arctanh(lo) + np.arctanh(hi)) / 2))
    print(f"  within 12: lowest copy {lo:.3f} (z {np.arctanh(lo):.2f}), highest stranger {hi:.3f} "
          f"(z {np.arctanh(hi):.2f}); midpoint in Fisher's z: {mid:.3f} (DEFAULT_MIN_CORRELATION "
          f"{DEFAULT_MIN_CORRELATION}); margins {np.arctanh(lo) - np.arctanh(DEFAULT_MIN_CORRELATION):.2f} and "
          f"{np.arctanh(DEFAULT_MIN_CORRELATION) - np.arctanh(hi):.2f} in z")
    for label, s_ in (("strangers", ~same), ("copies", same)):
        k = np.flatnonzero(s_)
        top = k[np.argsort(corr[k])[::-1][:3]] if label == "strangers" else k[np.argsort(corr[k])[:3]]
        print(f"  {'highest' if label == 'strangers' else 'lowest'} {label}: " + "; ".join(
            f"{corr[t]:.3f} ({d[t]} bits) {os.path.basename(paths[i[t]])} / {os.path.basename(paths[j[t]])}" for t in top))
    for c in (0.90, 0.93, 0.95, DEFAULT_MIN_CORRELATION, 0.97):
        print(f"  correlation >= {c:.2f}: keeps {np.mean(corr[same & sel] >= c):6.1%} of copy links within 12, "
              f"{np.mean(corr[~same & sel] >= c):6.1%} of stranger links")
    print(f"  (the previous test, 16x16 dHash within 64 of 256: keeps {np.mean(d256[same & sel] <= 64):6.1%} of copy "
          f"links, {np.mean(d256[~same & sel] <= 64):6.1%} of stranger links)")

    # 2. Precision / recall sweep.
    methods = {"scopecheck dedupe": lambda r: pairs_of_groups(
                   scopecheck_groups(hay, radius=r, min_correlation=args.min_correlation)),
               "scopecheck, 16x16 dHash (s3)": lambda r: pairs_of_groups(dhash256_groups(hay, entries, radius=r)),
               "scopecheck, chained (s2)": lambda r: pairs_of_groups(chain_groups(hay, entries, radius=r))}
    try:
        import imagededup  # noqa: F401
        methods["imagededup dHash"] = lambda r: imagededup_pairs(folder, "dhash", r)
        methods["imagededup PHash"] = lambda r: imagededup_pairs(folder, "phash", r)
    except ImportError:
        print("imagededup not installed: pip install imagededup")
    try:
        import imagehash  # noqa: F401
        methods["imagehash dhash"] = lambda r: imagehash_pairs(paths, "dhash", r)
        methods["imagehash phash"] = lambda r: imagehash_pairs(paths, "phash", r)
    except ImportError:
        print("imagehash not installed: pip install imagehash")
    curves = {}
    print(f"\npair precision / recall ({len(truth_pairs)} true pairs), radius in bits of 64:")
    print(f"  {'method':30s} " + " ".join(f"{'r=' + str(r):>11s}" for r in radii))
    for name, fn in methods.items():
        curves[name] = {r: score(fn(r), truth_pairs) for r in radii}
        print(f"  {name:30s} " + " ".join(f"{p:.3f}/{rc:.3f}" for p, rc in curves[name].values()))
    ours = score(methods["scopecheck dedupe"](args.radius), truth_pairs)
    print(f"\nat the recall scopecheck reaches with radius {args.radius} ({ours[1]:.3f}; precision {ours[0]:.3f}),"
          " the best precision of each method at that recall or more (over the sweep):")
    for name, pts in curves.items():
        ok = [(p, r) for r, (p, rc) in pts.items() if rc >= ours[1]]
        best = max(ok, key=lambda t: (t[0], -t[1])) if ok else None  # best precision, smallest radius
        print(f"  {name:30s} " + (f"precision {best[0]:.3f} (radius {best[1]})" if best else "never reaches it"))

    # 3. Stage-scan tiles.
    ts = tiles()
    tent = []
    for name, px in ts:
        h64, h256 = dhash(px), dhash(px, hash_size=16)
        dig = hashlib.sha256(px.tobytes()).hexdigest()
        tent.append(Entry(path=name, dhash=h64, flat=h64.flat, sha256=dig, pixel_sha256=dig, dhash256=h256,
                          thumb=thumbnail(px)))
    th = Haystack.of(tent, source="tiles")
    by = {e.path: e for e in tent}
    for radius in sorted({args.radius, 12}):
        res = find_duplicates(th, max_distance=radius, min_correlation=args.min_correlation)
        worst = 0
        for g in res.groups:
            rep = by[g.representative].dhash
            worst = max([worst] + [by[m.path].dhash - rep for m in g.members])
        sizes = sorted((len(g.members) for g in res.groups), reverse=True)
        print(f"\n{len(ts)} overlapping stage-scan tiles, radius {radius}: {len(res.groups)} groups "
              f"(largest {sizes[:5]}), farthest member from its representative {worst} bits; "
              f"{res.candidate_links} candidate links, {res.confirmed_links} confirmed")
    comps = chain_groups(th, tent, radius=args.radius)
    if comps:
        big = max(comps, key=len)
        hb = th.hashes[np.array([k for k, e in enumerate(tent) if e.path in set(big)])]
        span = int(np.bitwise_count(hb[:, None] ^ hb[None, :]).max())
        print(f"  chained (s2), radius {args.radius}: {len(comps)} groups, the largest {len(big)} tiles whose members are up to "
              f"{span} bits apart")


if __name__ == "__main__":
    main()

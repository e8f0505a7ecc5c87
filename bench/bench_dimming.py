"""Small objects whose light changed -- truth `different` -- and the same pictures moved about, re-encoded
or blurred a little -- truth `same` -- on real pictures (cause 41, session 23).

Bleaching takes light from small bright objects: diffraction-limited spots, bacteria, small nuclei,
stars. Such an object is all edge, so its dimming lies everywhere within the misregistration slack
that the pixel test allows at edges; before cause 41, 3 objects of 20-400 px dimmed by 15 % read
`same` in 13 of 26 pairs, by 40 % in 3 of 26. Eleven real pictures from ``bench_real.py``'s cache
(its sources and licences: ``fixtures/real/README.md``): fluorescence means and single shots
(bacteria, FMD two-photon and confocal BPAE cells, mahotas' nuclei, yeast YFP and TFP), scikit-image's
Hubble deep field, coins, cell, moon and IHC, and a CC15 mean of 500 shots. In each, two draws of
3 small objects (20-400 px above 6 robust sigmas of the picture less its 31-px median) are dimmed
towards the median of a ring around each by 15, 25 and 40 %. The controls, each picture against
itself moved 0.4 px (cubic), blurred by a Gaussian of 0.5 px, re-encoded as JPEG q90, and as two
shots with their own white noise of 2 DN: light moved about, not lost. (A blur of 0.5 px on a clean
mean is a change of focus the refocus test may see; what it must not be is an object dimmed.)

Tone curves (cause 43, session 25): each picture against itself through a gamma of 0.8, 0.9, 1.1
and 1.25 on its own range (a camera's gamma or contrast setting; truth `same`, no object dimmed or
brightened), and each draw's objects dimmed by 15 and 25 % and the picture then put through each
gamma (truth `different`: the tone curve must not hide the objects' dimming).

    .venv/bin/python bench/bench_dimming.py [--cache out/real-cache] [--show-misses]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from bench_real_pairs import _dim

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["src/skimage_hubble_deep_field.jpg", "src2/bacteria_avg_16bit.png", "src2/bacteria_avg1_16bit.png",
           "src2/fmd_tp_bpae_r_1_avg50.png", "src2/fmd_bpae_r_gt_rgb.png", "src/mahotas_nuclear.png",
           "src2/rcell2_yfp_pos12_t10.tif", "src/skimage_coins.png", "src/skimage_cell.png", "src/skimage_moon.png",
           "src2/rcell2_tfp_pos04_t10.tif", "src/skimage_ihc.png", "src/cc15_d800_iso3200_1_mean.png"]
SHARES = (0.15, 0.25, 0.4)


def small_objects(img: np.ndarray, k: int = 3, lo: int = 20, hi: int = 400, rng=None) -> list[np.ndarray]:
    """Masks of ``k`` small bright objects (``lo``-``hi`` px above 6 robust sigmas of the lightly
    smoothed luma less its 31-px median), each dilated by a pixel: a random draw with ``rng``, else
    the smallest."""
    y = (img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)).astype(np.float32)
    s = cv2.normalize(cv2.GaussianBlur(y, (0, 0), 1.0), None, 0, 255, cv2.NORM_MINMAX)
    d = s - cv2.medianBlur(s.astype(np.uint8), 31).astype(np.float32)
    sig = 1.4826 * float(np.median(np.abs(d - np.median(d))))
    n, lab, st, _ = cv2.connectedComponentsWithStats((d > max(6 * sig, 10.0)).astype(np.uint8))
    ok = [i for i in range(1, n) if lo <= st[i, cv2.CC_STAT_AREA] <= hi]
    if rng is None:
        ok.sort(key=lambda i: int(st[i, cv2.CC_STAT_AREA]))
    else:
        rng.shuffle(ok)
    return [cv2.dilate((lab == i).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0 for i in ok[:k]]


def dimmed(img: np.ndarray, masks, share: float) -> np.ndarray:
    """Each object's light above the median of an 11-px ring around it scaled by ``1 - share``
    (``bench_real_pairs._dim``, the tuning set's dimming, with a ring that fits small objects)."""
    return _dim(img, masks, [share] * len(masks), ring_px=11)


def _picture(path: Path) -> np.ndarray | None:
    if not path.exists():
        return None
    if path.suffix == ".tif":
        import tifffile

        x = tifffile.imread(str(path))
        while x.ndim > 2 and x.shape[0] < 8:
            x = x[0]
        return x
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def _controls(img: np.ndarray, rng) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The picture against itself with its light moved about, not lost (truth `same`)."""
    info = np.iinfo(img.dtype)
    lsb = (info.max + 1) / 256

    def rounded(x):
        return np.clip(np.rint(x), info.min, info.max).astype(img.dtype)

    f = img.astype(np.float32)
    h, w = img.shape[:2]
    out = [("moved 0.4 px", img, rounded(cv2.warpAffine(f, np.float32([[1, 0, 0.4], [0, 1, 0]]), (w, h),
                                                         flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT))),
           ("blurred 0.5 px", img, rounded(cv2.GaussianBlur(f, (0, 0), 0.5))),
           ("two shots, noise 2 DN", rounded(f + rng.normal(0, 2 * lsb, f.shape)), rounded(f + rng.normal(0, 2 * lsb, f.shape)))]
    if img.dtype == np.uint8:
        ok, q = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        out.append(("JPEG q90", img, cv2.imdecode(q, cv2.IMREAD_UNCHANGED)))
    return out


def toned(img: np.ndarray, gamma: float) -> np.ndarray:
    """``img`` through a gamma on its own range (0 to its maximum), rounded to its type."""
    top = float(img.max()) or 1.0
    f = top * (img.astype(np.float64) / top) ** gamma
    info = np.iinfo(img.dtype)
    return np.clip(np.rint(f), info.min, info.max).astype(img.dtype)


TONES = (0.8, 0.9, 1.1, 1.25)  # the tone controls' gammas
TONE_SHARES = (0.15, 0.25)     # ... and the shares dimmed under each


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=str(ROOT / "out" / "real-cache"), help="bench_real.py's cache (its sources)")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays

    rng = np.random.default_rng(5)
    caught = {s: [0, 0] for s in SHARES}
    under_tone = {(s, g): [0, 0] for s in TONE_SHARES for g in TONES}
    kept = {}
    for rel in SOURCES:
        img = _picture(Path(args.cache) / rel)
        name = Path(rel).stem
        if img is None:
            print(f"{name}: not in the cache (run bench/bench_real.py first)", file=sys.stderr)
            continue
        for draw in range(2):
            masks = small_objects(img, rng=rng)
            if not masks:
                break
            for share in SHARES:
                c = compare_arrays(img, dimmed(img, masks, share))
                caught[share][1] += 1
                caught[share][0] += c.verdict not in SAME_VERDICTS
                if args.show_misses and c.verdict in SAME_VERDICTS:
                    print(f"miss: {name}, draw {draw}, {len(masks)} objects dimmed {share:.0%}: {c.reason[:110]}")
            for (share, gamma), row in under_tone.items():
                c = compare_arrays(img, toned(dimmed(img, masks, share), gamma))
                row[1] += 1
                row[0] += c.verdict not in SAME_VERDICTS
                if args.show_misses and c.verdict in SAME_VERDICTS:
                    print(f"miss: {name}, draw {draw}, {len(masks)} objects dimmed {share:.0%} under gamma {gamma}: {c.reason[:110]}")
        for kind, a, b in _controls(img, rng) + [(f"gamma {g}", img, toned(img, g)) for g in TONES]:
            c = compare_arrays(a, b)
            row = kept.setdefault(kind, [0, 0, 0])
            row[2] += 1
            row[0] += c.verdict in SAME_VERDICTS
            light = [r for r in c.analysis.regions if r.kind in ("dimmed", "brightened")] if c.analysis else []
            row[1] += not light
            if args.show_misses and (c.verdict not in SAME_VERDICTS or light):
                print(f"false change: {name}, {kind}: {c.reason[:110]}")
    print(f"{'small objects dimmed (truth different)':40s} pairs read different")
    for share, (n, total) in caught.items():
        print(f"  by {share:.0%}{'':33s} {n}/{total}")
    for (share, gamma), (n, total) in under_tone.items():
        print(f"  {f'by {share:.0%} under gamma {gamma}':39s} {n}/{total}")
    print(f"{'controls (truth same)':40s} pairs read same, pairs with no object dimmed or brightened")
    for kind, (n, clean, total) in kept.items():
        print(f"  {kind:38s} {n}/{total}  {clean}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

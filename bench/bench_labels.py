"""Label images and masks whose objects moved -- truth `different` -- from real segmentations.

What a lab compares after segmenting a micrograph (Cellpose, StarDist, a threshold): a label image,
0 background and 1..N objects, often stored in 16 bits, or a 0/255 mask. Seven real pictures from
``bench_real.py``'s cache (its sources and licences: ``fixtures/real/README.md``): scikit-image's
coins, mahotas' fluorescent nuclei, a zebrafish nuclei frame (Cell Image Library 11813), a trackpy
colloid frame, scikit-image's microaneurysms and Hubble deep field, mahotas' department store. Each
is smoothed (sigma 1), thresholded (Otsu), objects under 20 px dropped and the rest labelled; a copy
moves a share of the objects (a third by 3 px, a tenth by 2, a twentieth by 4, a fifth by 1 px
diagonally) and each pair is compared as 16-bit labels, 8-bit labels (capped at 255) and a 0/255
mask: 84 pairs. Found in session 21: 25 of 84 read `near-identical` before causes 37 and 38 --
every one taken for two frames of a video stream (cause 37), and 16-bit labels 1-4 counted as
clipped black (cause 38).

    .venv/bin/python bench/bench_labels.py [--cache out/real-cache] [--show-misses]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [("coins", "skimage_coins.png"), ("nuclei (mahotas)", "mahotas_nuclear.png"),
           ("zebrafish nuclei (CIL 11813)", "cil11813_ysl_nuclei.tif"), ("colloids (trackpy)", "trackpy_T76S3F00002.png"),
           ("microaneurysms", "skimage_microaneurysms.png"), ("Hubble deep field", "skimage_hubble_deep_field.jpg"),
           ("department store (mahotas)", "mahotas_DepartmentStore.jpg")]
MOVES = [(3, 1 / 3), (2, 0.1), (4, 0.05), (1, 0.2)]  # (px, share of the objects)


def segmented(img: np.ndarray, *, blur: float = 0.0, smallest: int = 20) -> np.ndarray:
    """A label image of a picture as a lab makes one (uint16, 0 background): Otsu's threshold of the
    picture (smoothed by ``blur`` first, if any), objects up to ``smallest`` px dropped, connected
    components labelled. (The tests' helper too: ``tests/conftest.py``.)"""
    from skimage import filters, measure, morphology

    g = cv2.GaussianBlur(img, (0, 0), blur) if blur > 0 else img
    return measure.label(morphology.remove_small_objects(g > filters.threshold_otsu(g), max_size=smallest)).astype(np.uint16)


def moved_objects(lab: np.ndarray, labels, by: tuple[int, int] = (3, 2)) -> np.ndarray:
    """``lab`` with the objects ``labels`` moved by ``by`` (rows, columns), onto background only."""
    out = lab.copy()
    for k in labels:
        obj = lab == k
        out[obj] = 0
        out[np.roll(np.roll(obj, by[0], 0), by[1], 1) & (out == 0)] = k
    return out


def labels_of(img: np.ndarray) -> np.ndarray:
    """Otsu's threshold of the smoothed picture (sigma 1), objects under 20 px dropped, labelled (uint16)."""
    return segmented(img, blur=1.0)


def moved(lab: np.ndarray, px: int, share: float, seed: int = 0) -> np.ndarray:
    """``share`` of the objects moved by ``px`` down and ``px - 1`` (at least 1) across, onto background."""
    n = int(lab.max())
    ks = np.random.default_rng(seed).choice(np.arange(1, n + 1), size=max(1, int(n * share)), replace=False)
    return moved_objects(lab, ks, by=(px, max(1, px - 1)))


def _picture(path: Path) -> np.ndarray | None:
    if path.suffix == ".tif":
        import tifffile

        return tifffile.imread(str(path))[0] if path.exists() else None
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=str(ROOT / "out" / "real-cache"), help="bench_real.py's cache (its sources)")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays

    rows = []
    for name, file in SOURCES:
        img = _picture(Path(args.cache) / "src" / file)
        if img is None:
            print(f"{name}: {file} not in the cache (run bench/bench_real.py first)", file=sys.stderr)
            continue
        lab = labels_of(img)
        caught = total = 0
        for px, share in MOVES:
            b = moved(lab, px, share)
            for kind, x, y in (("16-bit labels", lab, b),
                               ("8-bit labels", np.minimum(lab, 255).astype(np.uint8), np.minimum(b, 255).astype(np.uint8)),
                               ("0/255 mask", (lab > 0).astype(np.uint8) * 255, (b > 0).astype(np.uint8) * 255)):
                c = compare_arrays(x, y)
                total += 1
                caught += c.verdict not in SAME_VERDICTS
                if args.show_misses and c.verdict in SAME_VERDICTS:
                    print(f"miss: {name}, {kind}, {share:.2f} of {lab.max()} objects moved {px} px: {c.reason[:120]}")
        rows.append((name, int(lab.max()), caught, total))
    print(f"{'segmentation':30s} {'objects':>7s}  pairs read different")
    for name, n, caught, total in rows:
        print(f"{name:30s} {n:7d}  {caught}/{total}")
    print(f"{'all':30s} {'':7s}  {sum(r[2] for r in rows)}/{sum(r[3] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

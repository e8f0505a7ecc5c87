"""Real same-field pairs as a cheap USB microscope's "interpolated" sizes deliver them.

Many cheap USB microscopes offer sizes above their sensor's (a 640x480 sensor delivered as
1600x1200): the driver enlarges every frame by interpolation before the MJPG encoder or the file
sees it. Two shots of an unchanged field at such a size are the same field as at the native one;
a change is still a change. Session 19 measured this as a spot check (12 of 42 same-field pairs
read ``different``); this bench keeps it.

Sources, all real captures read from the caches of the other benches (nothing here is shipped):

* ``bench_usbscope.py``'s cache: the Dino-Lite's shots of one field and after the stage moved, and
  the Raspberry Pi camera's own H.264 frames of a still slide (1 and 10 frames apart);
* ``bench_real.py``'s cache (``--real-cache``): CC15's single shots against their means of 500,
  PolyU's shots against their means, and as changes the CC15 means with a real patch pasted
  (1.5 %, JPEG q90) or blurred 1.5 px, the zebrafish nuclei time-lapse's neighbouring frames, and
  objects dimmed as the tuning set dims them (its nuclei by 20 and 40 %; mahotas' nuclei, the
  Hubble deep field's stars and scikit-image's coins by 30 %).

Each pair's two sides are enlarged alike by ``FACTORS`` with OpenCV's bilinear and bicubic
filters and saved as PNG and as JPEG q85 (an MJPG frame), then compared with the default
thresholds, or with ``--told`` with the factor given as the camera's native scale (``compare
--native-scale``: both judged reduced by it). Prints, per source and truth, the pairs read as
truth has it, and the misses with ``--show-misses``. About 5 minutes on two cores.

    .venv/bin/python bench/bench_interpolated.py --usb-cache out/usbscope --real-cache out/real [--told] [--native] [--show-misses]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

FACTORS = (1.5, 2.0, 2.5)
FILTERS = (("bilinear", cv2.INTER_LINEAR), ("bicubic", cv2.INTER_CUBIC))
FORMATS = (("PNG", ".png", []), ("JPEG q85", ".jpg", [cv2.IMWRITE_JPEG_QUALITY, 85]))
PIVID_STARTS = (0, 60, 120, 180, 240)   # frames of the Pi camera's video that start a pair
PIVID_LAGS = (1, 10)
CC15_N = 15                            # CC15 pairs (all)
POLYU_N = 10                           # PolyU pairs, the first in name order
YSL_FRAMES = tuple(range(20, 30))      # nuclei time-lapse frames: neighbours are pairs


def source_pairs(usb: Path, real: Path):
    """``(source, name, path A, path B, truth same)`` for the sources found in the caches."""
    pairs = []
    dino = usb / "sanahabhimani+mml_dinolite_vision"
    same = ("firstlab_photo.png", "image_20260203_152758.png", "second_image_lab.png", "thirdimage.png")
    other = ("image_20260203_153818.png",)
    if dino.is_dir():
        for i, a in enumerate(same):
            for b in same[i + 1:]:
                pairs.append(("Dino-Lite", f"{a} v {b}", dino / a, dino / b, True))
            for b in other:
                pairs.append(("Dino-Lite", f"{a} v {b} (stage moved)", dino / a, dino / b, False))
    frames = usb / "pivid_frames"
    if frames.is_dir():
        for s in PIVID_STARTS:
            for lag in PIVID_LAGS:
                a, b = frames / f"f{s:03d}.png", frames / f"f{s + lag:03d}.png"
                if a.exists() and b.exists():
                    pairs.append(("Pi camera H.264", f"frame {s} v {s + lag}", a, b, True))
    src, src2, derived = real / "src", real / "src2", real / "pairs"
    for shot in sorted(src.glob("cc15_*_real.png"))[:CC15_N]:
        mean = shot.with_name(shot.name.replace("_real", "_mean"))
        stem = mean.stem
        pairs.append(("CC15 shot v mean", shot.stem, shot, mean, True))
        for tag, truth_name in (("paste0.015.jpg", "a patch pasted"), ("blur1.5.png", "blurred 1.5 px")):
            d = derived / f"{stem}__{tag}"
            if d.exists():
                pairs.append(("CC15 changed", f"{shot.stem} v {truth_name}", shot, d, False))
    for shot in sorted(src2.glob("polyu_*_real.jpg"))[:POLYU_N]:
        pairs.append(("PolyU shot v mean", shot.stem, shot, shot.with_name(shot.name.replace("_real", "_mean")), True))
    ysl = {t: derived / f"ysl_t{t:02d}.png" for t in YSL_FRAMES}
    for t in YSL_FRAMES[:-1]:
        if ysl[t].exists() and ysl[t + 1].exists():
            pairs.append(("nuclei time-lapse", f"t{t} v t{t + 1}", ysl[t], ysl[t + 1], False))
    for dim in ("0.2", "0.4"):
        a, b = derived / "ysl_t03.png", derived / f"ysl_t3__dim{dim}.png"
        if a.exists() and b.exists():
            pairs.append(("objects dimmed", f"nuclei t3 v dimmed {dim}", a, b, False))
    for still in ("mahotas_nuclear.png", "skimage_hubble_deep_field.jpg", "skimage_coins.png"):
        a, b = src / still, derived / f"{Path(still).stem}__dim0.3.png"
        if a.exists() and b.exists():
            pairs.append(("objects dimmed", f"{a.stem} v dimmed 0.3", a, b, False))
    return pairs


def enlarged(path: Path, factor: float, interp: int, ext: str, params: list, out: Path) -> Path:
    """``path``'s picture enlarged by ``factor`` with ``interp``, written to ``out`` with ``ext``."""
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img.dtype != np.uint8 and ext == ".jpg":
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(1, int(img.max())))
    h, w = img.shape[:2]
    big = cv2.resize(img, (round(w * factor), round(h * factor)), interpolation=interp)
    target = out.with_suffix(ext)
    cv2.imwrite(str(target), big, params)
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--usb-cache", default="out/usbscope", help="bench_usbscope.py's --cache")
    ap.add_argument("--real-cache", default="out/real", help="bench_real.py's --cache")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--native", action="store_true", help="also read each pair as captured")
    ap.add_argument("--told", action="store_true",
                    help="compare each enlarged pair with its factor as the native scale (--native-scale)")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, Thresholds, compare_files

    pairs = source_pairs(Path(args.usb_cache), Path(args.real_cache))
    if not pairs:
        print("no source found: run bench_usbscope.py and bench_real.py with these caches first")
        return 0
    table: dict[tuple[str, bool, str], list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for source, name, a, b, truth in pairs:
            for factor in FACTORS:
                for fname, interp in FILTERS:
                    for form, ext, params in FORMATS:
                        pa = enlarged(a, factor, interp, ext, params, Path(tmp) / "a")
                        pb = enlarged(b, factor, interp, ext, params, Path(tmp) / "b")
                        c = compare_files(pa, pb, thresholds=Thresholds(native_scale=factor if args.told else 1.0))
                        ok = (c.verdict in SAME_VERDICTS) == truth
                        row = table.setdefault((source, truth, f"{factor}x"), [0, 0])
                        row[0] += ok
                        row[1] += 1
                        if not ok and args.show_misses:
                            print(f"miss: {source}: {name}: {factor}x {fname} {form}: {c.verdict}: {c.reason[:160]}",
                                  flush=True)
            if args.native:
                c = compare_files(a, b)
                ok = (c.verdict in SAME_VERDICTS) == truth
                row = table.setdefault((source, truth, "1x"), [0, 0])
                row[0] += ok
                row[1] += 1
    columns = (["1x"] if args.native else []) + [f"{x}x" for x in FACTORS]
    print(f"{'source':22} {'truth':9} " + " ".join(f"{f:>9}" for f in columns))
    for source, truth in dict.fromkeys((s, t) for s, t, _ in table):
        cells = [table.get((source, truth, f), [0, 0]) for f in columns]
        print(f"{source:22} {'same' if truth else 'different':9} "
              + " ".join(f"{g:>4}/{n:<4}" for g, n in cells))
    for truth in (True, False):
        g = sum(v[0] for k, v in table.items() if k[1] == truth and k[2] != "1x")
        n = sum(v[1] for k, v in table.items() if k[1] == truth and k[2] != "1x")
        print(f"enlarged, truth {'same' if truth else 'different'}: {g}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

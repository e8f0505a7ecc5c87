"""Re-encodes and resized copies made with Pillow and scikit-image, not OpenCV -- truth `same` --
on the real stills of ``bench_real.py``'s cache (session 23).

The harness makes its derived copies with OpenCV (``cv2.imwrite``, ``cv2.resize``); a lab's copies
often come from Pillow (``Image.save``, ``Image.resize``, ``Image.thumbnail``, which decodes a JPEG
at a DCT reduction first) or scikit-image (``transform.rescale``/``resize``, with or without
anti-aliasing, nearest, linear or cubic). Every 8-bit still of the cache (its sources and licences:
``fixtures/real/README.md``) is re-encoded by Pillow as JPEG q70, q75, q85 and q95 (4:2:0), q90
4:4:4, q80 progressive and optimised, and WebP q80; resized by Pillow's six filters at 0.5, 0.6,
0.75 and 0.8 (half of the 24 per picture, alternately), by ``thumbnail`` to half size from the
decoded pixels and from the file (a JPEG's draft mode), and halved and saved as JPEG q85; rescaled
by scikit-image to 0.5 (nearest, linear and cubic without anti-aliasing, linear and cubic with it)
and resized to 0.7 (anti-aliased).

    .venv/bin/python bench/bench_other_tools.py [--cache out/real-cache] [--every N] [--show-misses]
"""
from __future__ import annotations

import argparse
import collections
import io
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def variants(path: Path, k: int):
    """(kind, encoded bytes) of the copies of one still; ``k`` picks which half of the resize grid."""
    from PIL import Image
    from skimage import transform, util

    im = Image.open(path)
    im.load()
    if im.mode not in ("L", "RGB"):
        return
    w, h = im.size

    def saved(img, fmt="PNG", **kw) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        return buf.getvalue()

    for q in (70, 75, 85, 95):
        yield f"Pillow JPEG q{q}", saved(im, "JPEG", quality=q)
    yield "Pillow JPEG q90 4:4:4", saved(im, "JPEG", quality=90, subsampling=0)
    yield "Pillow JPEG q80 progressive", saved(im, "JPEG", quality=80, progressive=True, optimize=True)
    yield "Pillow WebP q80", saved(im, "WEBP", quality=80)
    filters = {"nearest": Image.NEAREST, "box": Image.BOX, "bilinear": Image.BILINEAR, "hamming": Image.HAMMING,
               "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}
    i = 0
    for s in (0.5, 0.6, 0.75, 0.8):
        for name, f in filters.items():
            i += 1
            if i % 2 == k % 2:
                yield f"Pillow resize {name}", saved(im.resize((round(w * s), round(h * s)), f))
    t = im.copy()
    t.thumbnail((w // 2, h // 2))
    yield "Pillow thumbnail", saved(t)
    t = Image.open(path)
    t.thumbnail((w // 2, h // 2))
    yield "Pillow thumbnail from the file", saved(t.convert(im.mode))
    yield "Pillow halved, JPEG q85", saved(im.resize((w // 2, h // 2), Image.BICUBIC), "JPEG", quality=85)
    a = np.asarray(im)
    axis = -1 if a.ndim == 3 else None
    for order, aa in ((0, False), (1, False), (3, False), (1, True), (3, True)):
        r = transform.rescale(a, 0.5, order=order, anti_aliasing=aa, channel_axis=axis, preserve_range=True)
        yield (f"scikit-image rescale order {order}{' anti-aliased' if aa else ''}",
               saved(Image.fromarray(np.clip(np.rint(r), 0, 255).astype(np.uint8))))
    r = transform.resize(a, (int(h * 0.7), int(w * 0.7)), anti_aliasing=True)
    yield "scikit-image resize 0.7", saved(Image.fromarray(util.img_as_ubyte(np.clip(r, 0, 1))))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=str(ROOT / "out" / "real-cache"), help="bench_real.py's cache (its sources)")
    ap.add_argument("--every", type=int, default=1, help="every Nth still only")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, compare_files

    stills = sorted(p for p in (Path(args.cache) / "src").glob("*") if p.suffix in (".png", ".jpg"))[::args.every]
    if not stills:
        print("no stills in the cache (run bench/bench_real.py first)", file=sys.stderr)
        return 2
    rows: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    with tempfile.TemporaryDirectory() as tmp:
        for k, path in enumerate(stills):
            for kind, data in variants(path, k):
                copy = Path(tmp) / ("copy" + (".jpg" if data[:2] == b"\xff\xd8" else ".webp" if data[8:12] == b"WEBP" else ".png"))
                copy.write_bytes(data)
                c = compare_files(path, copy)
                copy.unlink()
                rows[kind][1] += 1
                rows[kind][0] += c.verdict in SAME_VERDICTS
                if args.show_misses and c.verdict not in SAME_VERDICTS:
                    print(f"miss: {path.stem}, {kind}: {c.reason[:120]}")
    print(f"{'copy (truth same)':44s} pairs read same")
    for kind, (n, total) in rows.items():
        print(f"{kind:44s} {n}/{total}")
    print(f"{'all':44s} {sum(r[0] for r in rows.values())}/{sum(r[1] for r in rows.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

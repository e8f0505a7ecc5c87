"""Repeated real frames through lossy codecs that leave no tables in the file: what ``compare`` says.

A PNG of a decoded video frame carries no quantiser, so the comparison cannot put the codec's error
in its noise floor as it does for a JPEG or WebP file (``compare/codec_noise.py``). This measures
how far that matters, on real repeated frames of an unchanged field (the tuning set's sources, see
``fixtures/real/README.md``): the 20-frame TIRF recording (ACSN, 200 Hz) and trackpy's 5 frames of
colloids stuck to glass, each stretched to 8 bits over its own 0.05-99.95 percentiles; and a
large frame, scikit-image's astronaut photo enlarged to 1280 x 1280 in 8 shots each with its own
Gaussian noise of 2 levels (made here, not a real capture: the working scale halves such a frame,
and the full-resolution speck test reads it).

* **MJPG-like** -- every frame through a JPEG encoder (OpenCV) at quality 50-90, decoded and saved
  as PNG: what a USB camera streaming MJPG gives a tool that saves PNG.
* **H.264** -- the frames as one video (libx264, yuv420p, 25 fps) at several CRF and GOP lengths
  (an I-frame every ``g`` frames; ``zl``: ``-tune zerolatency -bf 0``), decoded by ffmpeg; the
  green plane of each decoded frame is the gray frame.

Each row is consecutive decoded frames (every pair is truly the same field) and how many read
``same``. The rows marked *moving* are the same streams with one object moving through the still
field -- a disc 10 px across, ``MOVE_DN`` levels brighter than the frame there, 3 px further each
frame (a car through a still street): every pair of those is truly different, and the count is of
pairs read ``different`` (first without a codec, the frames as PNG: the disc against the frames'
own noise), among the pairs whose decoded frames still carry the move (the pixels
the disc entered and left changed by half its contrast between them: at CRF 35 the codec often
copies the blocks the disc moved through, and then no comparison can see it; those are counted
apart). Needs an ffmpeg with libx264: ``pip install imageio-ffmpeg`` (bench only) or ``--ffmpeg``.

    .venv/bin/python bench/bench_video_codec.py --cache out/real-cache
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

H264 = ((18, 250, False), (23, 250, False), (28, 250, False), (28, 4, True), (30, 5, False), (35, 5, False),
        (35, 250, False), (40, 10, False))
JPEG_QUALITIES = (50, 60, 70, 80, 90)
MOVE_DN = (25, 60)       # the moving disc's contrast, 8-bit levels
MOVE_CODECS = ((23, 250, False), (28, 250, False), (35, 5, False), (35, 250, False), (40, 10, False))


def _ffmpeg(given: str | None) -> str:
    if given:
        return given
    try:
        import imageio_ffmpeg
    except ImportError:  # `make bench` runs every bench: this one says why it did nothing
        print("bench_video_codec: skipped: needs ffmpeg with libx264 (pip install imageio-ffmpeg, or --ffmpeg PATH)")
        sys.exit(0)
    return imageio_ffmpeg.get_ffmpeg_exe()


def _to8(stack: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(stack, [0.05, 99.95])
    out = np.clip((stack.astype(np.float64) - lo) / max(hi - lo, 1e-9) * 255, 0, 255).round().astype(np.uint8)
    return out[:, : out.shape[1] // 2 * 2, : out.shape[2] // 2 * 2]  # even sides for yuv420p


def _sequences(cache: Path) -> dict[str, np.ndarray]:
    seqs = {}
    for name, rel in (("tirf", "src2/acsn_tirf_200hz.tif"), ("colloids", "src/trackpy_stuck.tif")):
        p = cache / rel
        if not p.exists():
            print(f"bench_video_codec: skipped: {p} is missing (run bench/bench_real.py --cache {cache} once first)")
            sys.exit(0)
        ok, pages = cv2.imreadmulti(str(p), flags=cv2.IMREAD_UNCHANGED)
        if not ok:
            sys.exit(f"bench_video_codec: cannot read {p}")
        seqs[name] = _to8(np.stack(pages))
    # a large frame (the working scale halves it): scikit-image's photo enlarged to 1280 px wide,
    # 8 shots each with its own camera noise (Gaussian, 2 levels: made here, not a real capture)
    from skimage import data
    rng = np.random.default_rng(0)
    photo = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), (1280, 1280),
                       interpolation=cv2.INTER_CUBIC).astype(np.float64)
    seqs["photo-hd"] = np.stack([np.clip(np.rint(photo + rng.normal(0, 2.0, photo.shape)), 0, 255).astype(np.uint8)
                                 for _ in range(8)])
    return seqs


def _h264(ff: str, frames: np.ndarray, d: Path, crf: int, gop: int, zerolatency: bool) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    dec = [d / f"dec_{i + 1}.png" for i in range(len(frames))]
    if all(p.exists() for p in dec):
        return dec
    for i, f in enumerate(frames):
        cv2.imwrite(str(d / f"in_{i + 1}.png"), f)
    extra = ["-tune", "zerolatency", "-bf", "0"] if zerolatency else []
    subprocess.run([ff, "-y", "-loglevel", "error", "-framerate", "25", "-i", str(d / "in_%d.png"), "-c:v", "libx264",
                    "-crf", str(crf), "-g", str(gop), *extra, "-pix_fmt", "yuv420p", str(d / "v.mp4")], check=True)
    subprocess.run([ff, "-y", "-loglevel", "error", "-i", str(d / "v.mp4"), str(d / "dec_%d.png")], check=True)
    for p in dec:
        cv2.imwrite(str(p), cv2.imread(str(p))[:, :, 1])
    return dec


def _disc(shape: tuple[int, int], i: int) -> np.ndarray:
    """Where the moving disc (radius 5 px) is in frame ``i`` (0-based): 3 px further each frame."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = h // 4 + 3 * i * h // w, w // 4 + 3 * i
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= 25


def _moving(frames: np.ndarray, dn: int) -> np.ndarray:
    """The frames with the disc ``dn`` levels brighter than the frame there."""
    out = frames.astype(np.int16)
    for i in range(len(frames)):
        out[i][_disc(frames.shape[1:], i)] += dn
    return np.clip(out, 0, 255).astype(np.uint8)


def _carried(p: Path, q: Path, i: int, dn: int) -> bool:
    """Whether decoded frames ``i`` and ``i + 1`` still carry the disc's move: the mean brightening
    of the pixels it entered and the mean darkening of those it left add up to at least ``dn / 2``
    (a codec may copy the blocks it moved through from the reference: then no comparison can see it)."""
    a, b = (cv2.imread(str(x), cv2.IMREAD_GRAYSCALE).astype(np.float64) for x in (p, q))
    was, now = _disc(a.shape, i), _disc(a.shape, i + 1)
    d = b - a
    return float(d[now & ~was].mean() - d[was & ~now].mean()) >= dn / 2


def _lossless(frames: np.ndarray, d: Path) -> list[Path]:
    """The frames as PNG: what a comparison sees of them without a codec."""
    d.mkdir(parents=True, exist_ok=True)
    out = [d / f"f_{i + 1}.png" for i in range(len(frames))]
    for p, f in zip(out, frames):
        if not p.exists():
            cv2.imwrite(str(p), f)
    return out


def _mjpg(frames: np.ndarray, d: Path, q: int) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i, f in enumerate(frames):
        p = d / f"q{q}_{i}.png"
        if not p.exists():
            ok, buf = cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, q])
            cv2.imwrite(str(p), cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
        out.append(p)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=str(ROOT / "out" / "real-cache"), help="bench_real.py's cache (its sources)")
    ap.add_argument("--ffmpeg", help="an ffmpeg with libx264 (default: imageio-ffmpeg's)")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, compare_files

    cache = Path(args.cache)
    work = cache / "video-codec"
    ff = _ffmpeg(args.ffmpeg)
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    lost: collections.Counter = collections.Counter()  # moving pairs whose decoded frames lost the move
    for name, frames in _sequences(cache).items():
        runs = [(f"MJPG-like q{q}, saved as PNG", _mjpg(frames, work / name / "mjpg", q)) for q in JPEG_QUALITIES]
        runs += [(f"H.264 CRF {crf}, GOP {gop}{' zl' if zl else ''}",
                  _h264(ff, frames, work / name / f"crf{crf}_g{gop}{'_zl' if zl else ''}", crf, gop, zl))
                 for crf, gop, zl in H264]
        runs = [(label, paths, 0) for label, paths in runs]
        for dn in MOVE_DN:
            moving = _moving(frames, dn)
            runs.append((f"moving {dn} DN, lossless (PNG)", _lossless(moving, work / name / f"moving{dn}_png"), dn))
            runs += [(f"moving {dn} DN, H.264 CRF {crf}, GOP {gop}",
                      _h264(ff, moving, work / name / f"moving{dn}_crf{crf}_g{gop}{'_zl' if zl else ''}", crf, gop, zl),
                      dn) for crf, gop, zl in MOVE_CODECS]
        for label, paths, dn in runs:
            truth = dn == 0
            for i, (p, q) in enumerate(zip(paths, paths[1:])):
                if dn and not _carried(p, q, i, dn):
                    lost[label] += 1
                    continue
                c = compare_files(p, q)
                ok = (c.verdict in SAME_VERDICTS) == truth
                rows[label][f"{name} ok" if ok else f"{name} bad"] += 1
                if not ok and args.show_misses:
                    print(f"miss: {label} {name} {p.name} {q.name}: {c.verdict}: {c.reason[:140]}")
    names = ("tirf", "colloids", "photo-hd")
    print(f"{'codec (moving: pairs read different)':40} {'TIRF same':>10} {'colloids same':>14} {'photo HD same':>14}")
    for label, n in rows.items():
        cells = [f"{n[f'{s} ok']}/{n[f'{s} ok'] + n[f'{s} bad']}" for s in names]
        print(f"{label:40} {cells[0]:>10} {cells[1]:>14} {cells[2]:>14}"
              + (f"   ({lost[label]} lost the move)" if lost[label] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

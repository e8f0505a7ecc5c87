"""Repeated real frames through lossy codecs that leave no tables in the file: what ``compare`` says.

A PNG of a decoded video frame carries no quantiser, so the comparison cannot put the codec's error
in its noise floor as it does for a JPEG or WebP file (``compare/codec_noise.py``). This measures
how far that matters, on real repeated frames of an unchanged field (the tuning set's sources, see
``fixtures/real/README.md``): the 20-frame TIRF recording (ACSN, 200 Hz) and trackpy's 5 frames of
colloids stuck to glass, each stretched to 8 bits over its own 0.05-99.95 percentiles.

* **MJPG-like** -- every frame through a JPEG encoder (OpenCV) at quality 50-90, decoded and saved
  as PNG: what a USB camera streaming MJPG gives a tool that saves PNG.
* **H.264** -- the frames as one video (libx264, yuv420p, 25 fps) at several CRF and GOP lengths
  (an I-frame every ``g`` frames; ``zl``: ``-tune zerolatency -bf 0``), decoded by ffmpeg; the
  green plane of each decoded frame is the gray frame.

Each row is consecutive decoded frames (every pair is truly the same field) and how many read
``same``. Needs an ffmpeg with libx264: ``pip install imageio-ffmpeg`` (bench only) or ``--ffmpeg``.

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
    for name, frames in _sequences(cache).items():
        runs = [(f"MJPG-like q{q}, saved as PNG", _mjpg(frames, work / name / "mjpg", q)) for q in JPEG_QUALITIES]
        runs += [(f"H.264 CRF {crf}, GOP {gop}{' zl' if zl else ''}",
                  _h264(ff, frames, work / name / f"crf{crf}_g{gop}{'_zl' if zl else ''}", crf, gop, zl))
                 for crf, gop, zl in H264]
        for label, paths in runs:
            for p, q in zip(paths, paths[1:]):
                c = compare_files(p, q)
                ok = c.verdict in SAME_VERDICTS
                rows[label][f"{name} ok" if ok else f"{name} bad"] += 1
                if not ok and args.show_misses:
                    print(f"miss: {label} {name} {p.name} {q.name}: {c.verdict}: {c.reason[:140]}")
    print(f"{'codec':34} {'TIRF same':>10} {'colloids same':>14}")
    for label, n in rows.items():
        cells = [f"{n[f'{s} ok']}/{n[f'{s} ok'] + n[f'{s} bad']}" for s in ("tirf", "colloids")]
        print(f"{label:34} {cells[0]:>10} {cells[1]:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

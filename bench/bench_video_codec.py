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

Two more tables, real streams only:

* **A traffic camera's own stream** -- the 51 frames ``bgslibrary`` ships as its demo input
  (``dataset/frames``: a fixed Washington State DOT camera over the I-5 motorway, 320 x 240, as
  decoded from that camera's lossy stream; 54-98 % of the textured 8x8 blocks of two frames are
  bit-identical). Three windows where nothing moves over the 51 frames (the trees and the
  embankment at the left, the sky and the tree line at the top; blurred at 1.5 px no frame is
  further than ``STILL_DN`` from the frames' per-pixel median anywhere in them: 19-24 levels, at a
  colour fringe the codec re-codes, against 100-130 on the carriageway): every pair there
  is truly the same field, and the count is of pairs read ``same``. Two windows on the carriageway:
  the count is of pairs read ``different`` among those where a vehicle moved (the two frames,
  blurred, differ by at least ``VEHICLE_DN`` somewhere in the window). Frames 1 and 3 apart, and
  10 apart. Then the same stream re-encoded by H.264 (colour, CRF ``BGS_H264``), as a web video
  of such a camera is: two codecs, the camera's flicker carried through the second.
* **Time-lapses through H.264** -- two real time-lapses of the tuning set whose cells move all
  over the field (the CIL 11813 yeast nuclei, 30 frames; the T98G phase-contrast frames), as
  PNG and as H.264 at CRF 23-35: every consecutive pair is truly different, and the count is of
  pairs read ``different`` (the guard: a codec's noise measured on a stream whose every cell
  changed must not hide the change).

Each row of the first table is consecutive decoded frames (every pair is truly the same field) and how many read
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
# a traffic camera's own decoded stream (bgslibrary's demo frames): the repository's pinned snapshot
BGS = ("andrewssobral/bgslibrary", "4622bc9cded1c5504cec6db47db07b3e3c782ecc", 51)
BGS_STILL = {"trees and embankment": (0, 130, 112, 110), "tree line, top left": (0, 0, 130, 40),
             "sky and tree line, top right": (130, 0, 190, 35)}   # x, y, w, h
BGS_ROAD = {"carriageway": (130, 60, 120, 100), "far lanes": (0, 80, 110, 50)}
BGS_LAGS = (1, 3, 10)
BGS_H264 = (23, 28)  # the stream re-encoded at these CRF
STILL_DN = 25     # a still window: no frame further than this from the per-pixel median (blurred; 19-24 in them)
VEHICLE_DN = 30   # a vehicle moved: the two frames (blurred) differ by this somewhere in the window
TIMELAPSE_CODECS = ((23, 250), (28, 250), (35, 250), (35, 5))


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


def _h264(ff: str, frames: np.ndarray | list[np.ndarray], d: Path, crf: int, gop: int, zerolatency: bool, colour: bool = False) -> list[Path]:
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
    if not colour:
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


def _bgs_frames(cache: Path, mirrors: str) -> list[np.ndarray] | None:
    """The traffic camera's 51 frames (BGR), copied once from the snapshot under ``mirrors``."""
    from bench_real_fetch import git_members
    repo, rev, n = BGS
    src = cache / "src-video"
    src.mkdir(parents=True, exist_ok=True)
    git_members(mirrors, repo, [(rev, f"dataset/frames/{i}.png", f"bgs_frame{i:02d}.png") for i in range(1, n + 1)],
                str(src), print)
    paths = [src / f"bgs_frame{i:02d}.png" for i in range(1, n + 1)]
    if not all(p.exists() for p in paths):
        return None
    frames = [cv2.imread(str(p)) for p in paths]
    return None if any(f is None for f in frames) else frames


def _blurred(x: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(x.astype(np.float32), (0, 0), 1.5)


def _bgs_rows(frames: list[np.ndarray], work: Path, right) -> dict[str, tuple[int, int, int]]:
    """Per window: (pairs read as truth has it, pairs judged, pairs left out: a carriageway pair
    no vehicle moved in); ``right(a, b, same)`` compares two files against the truth."""
    median = np.median(np.stack(frames), axis=0).astype(np.float32)
    far = np.max([np.abs(_blurred(f.astype(np.float32) - median)).max(axis=2) for f in frames], axis=0)
    rows = {}
    for still, windows in ((True, BGS_STILL), (False, BGS_ROAD)):
        for name, (x, y, w, h) in windows.items():
            cut = [f[y:y + h, x:x + w] for f in frames]
            if still:  # the window's own check: nothing moved in it over the whole stream
                most = float(far[y:y + h, x:x + w].max())
                assert most < STILL_DN, f"{name}: a frame is {most:.0f} levels from the median"
            d = work / "bgs" / name.replace(" ", "_").replace(",", "")
            d.mkdir(parents=True, exist_ok=True)
            paths = []
            for i, c in enumerate(cut):
                p = d / f"f{i + 1:02d}.png"
                if not p.exists():
                    cv2.imwrite(str(p), c)
                paths.append(p)
            blurred = None if still else [_blurred(c) for c in cut]  # each frame once
            good = judged = apart = 0
            for lag in BGS_LAGS:
                for i in range(0, len(cut) - lag, 1 if lag == 1 else lag):
                    if blurred is not None and float(np.abs(blurred[i + lag] - blurred[i]).max()) < VEHICLE_DN:
                        apart += 1
                        continue
                    judged += 1
                    good += right(paths[i], paths[i + lag], still)
            rows[name] = (good, judged, apart)
    return rows


def _timelapses(cache: Path) -> dict[str, np.ndarray]:
    ok, ysl = cv2.imreadmulti(str(cache / "src" / "cil11813_ysl_nuclei.tif"), flags=cv2.IMREAD_UNCHANGED)
    t98 = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted((cache / "src2").glob("t98g_t*.tif"))]
    out = {}
    if ok and ysl:
        out["yeast nuclei (CIL 11813)"] = _to8(np.stack(ysl))
    if t98 and all(t is not None for t in t98):
        out["T98G phase contrast"] = _to8(np.stack(t98))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default=str(ROOT / "out" / "real-cache"), help="bench_real.py's cache (its sources)")
    ap.add_argument("--ffmpeg", help="an ffmpeg with libx264 (default: imageio-ffmpeg's)")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--mirrors", default="/work/.mirror", help="git snapshots (the search tool's fetch): bgslibrary's")
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

    def right(p: Path, q: Path, truth_same: bool) -> bool:
        c = compare_files(p, q)
        ok = (c.verdict in SAME_VERDICTS) == truth_same
        if not ok and args.show_misses:
            print(f"miss: {p.parent.name} {p.name} {q.name}: {c.verdict}: {c.reason[:140]}")
        return ok

    def table(rows: dict[str, tuple[int, int, int]], indent: str = "") -> None:
        for name, (good, judged, apart) in rows.items():
            what = "read same" if name in BGS_STILL else "read different"
            print(f"{indent}{name:{40 - len(indent)}} {good:>4}/{judged:<4} {what}"
                  + (f"   ({apart} pairs no vehicle moved in)" if apart else ""))

    bgs = _bgs_frames(cache, args.mirrors)
    if bgs is None:
        print(f"\ntraffic camera: skipped: fetch github:{BGS[0]} under --mirrors")
    else:
        print(f"\ntraffic camera's own stream (bgslibrary), frames {', '.join(map(str, BGS_LAGS))} apart")
        table(_bgs_rows(bgs, work, right))
        for crf in BGS_H264:  # that stream re-encoded, as a web video of the camera would be
            dec = _h264(ff, bgs, work / "bgs-h264" / f"crf{crf}", crf, 250, False, colour=True)
            print(f"the same stream through H.264 CRF {crf}, GOP 250 (colour)")
            table(_bgs_rows([cv2.imread(str(p)) for p in dec], work / "bgs-h264" / f"crf{crf}", right), "  ")
    print("\ntime-lapses whose cells move (pairs read different)")
    for name, frames in _timelapses(cache).items():
        key = name.split()[0].lower()
        runs = [("PNG", _lossless(frames, work / "timelapse" / key / "png"))]
        runs += [(f"H.264 CRF {crf}, GOP {gop}", _h264(ff, frames, work / "timelapse" / key / f"crf{crf}_g{gop}", crf, gop, False))
                 for crf, gop in TIMELAPSE_CODECS]
        cells = [f"{label}: {sum(right(p, q, False) for p, q in zip(paths, paths[1:]))}/{len(paths) - 1}"
                 for label, paths in runs]
        print(f"{name:28} " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Real captures by cheap microscopes -- USB, Dino-Lite, Raspberry Pi cameras -- as their users left them.

The device class scopecheck is for, found in public repositories (session 19; read from pinned
git snapshots under ``--mirrors``, the search tool's ``fetch``; nothing here is shipped):

* ``sanahabhimani/mml_dinolite_vision`` (0ce6440, no licence file: read in place, not copied):
  a Dino-Lite USB microscope, 640x480 PNG, the cut marks on a machined part. Four shots of one
  field (one at another exposure and white balance), one after the stage moved, one of a ruler.
* ``OGraffeuille/RaspberryPi-Microscope`` (daf5c1b, no licence file): a Raspberry Pi camera on a
  microscope, ``Videos/example_vid.m4v`` -- 300 frames of a still slide, 640x480, the camera's own
  H.264 -- and ``Images/example.jpg``, a still of the same field. Frame pairs 1, 10 and 100 apart.
* ``LaughingOakFarm/CNCMicroscope`` (2a572d5, no licence file): an AmScope MU1003 USB camera on a
  microscope, 1792x1372 JPEG, pond debris: 25 shots, the stage moved between every two but one
  (where a worm moved in the field).
* ``la3lma/focusstack`` (c96074b, the README puts the images under Apache-2.0): a Raspberry Pi
  camera v1 on a microscope, 2592x1944 (JPEG at quality 100 named ``.png``), a pseudoscorpion shot
  every 2 s while the focus was turned: neighbouring shots are a refocus.
* ``rwb27/openflexure_microscope_software`` (991e1b7, GPL-3.0): three OpenFlexure shots of three
  fields (328x247 JPEG).

Truth by looking, one label per pair: ``same`` (an unchanged field, whatever the exposure or the
camera's stream did) or ``different`` (something moved, the stage moved, the focus was turned,
another field). Prints each source's pairs read as truth has it, and the misses with
``--show-misses``.

    .venv/bin/python bench/bench_usbscope.py [--mirrors /work/.mirror] [--cache out/usbscope] [--show-misses]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


sys.path.insert(0, os.path.dirname(__file__))
from bench_real_fetch import git_blob, put, video_frames, write_png  # noqa: E402

DINO = ("sanahabhimani/mml_dinolite_vision", "0ce6440dd813fd93069eb668060368dd378e470a")
PIVID = ("OGraffeuille/RaspberryPi-Microscope", "daf5c1b38295399f2941e5fa95b4893329ad7f12")
AMSCOPE = ("LaughingOakFarm/CNCMicroscope", "2a572d57ebd232a9976ee3e96723cea609d87a05")
SCORPION = ("la3lma/focusstack", "c96074b1c2e8a0593d49845b3c2c14292ccd79f7")
OPENFLEX = ("rwb27/openflexure_microscope_software", "991e1b72b94d796a05caf4c896c0b001ea5a2c97")

DINO_SAME = ("firstlab_photo.png", "image_20260203_152758.png", "second_image_lab.png", "thirdimage.png")
DINO_OTHER = ("image_20260203_153818.png", "image_20260127_172625.png")  # the stage moved; a ruler
AMSCOPE_DIR = "images/mr friendly/20240528/"
# the session's 25 shots in order: the stage moved between every two (another field of pond debris),
# except 20-41-45 -> 20-42-01, where a worm moved in one field
AMSCOPE_SHOTS = tuple(f"24-05-28-20-{t}.jpg" for t in (
    "12-01", "13-21", "14-29", "14-50", "16-11", "16-39", "17-34", "18-37", "19-22", "19-53", "20-22", "21-10",
    "22-26", "23-30", "31-22", "33-30", "35-36", "41-45", "42-01", "43-34", "43-50", "46-09", "46-30", "47-40",
    "50-48"))
SCORPION_SHOTS = 14           # data/scorpion-lapse/scorpion_lapse_{1..14}.png, focus turned between
PIVID_FRAMES = 300            # frames in the pinned video
PIVID_LAGS = (1, 10, 100)     # frames apart
PIVID_STEP = 10               # every 10th frame starts a pair


def _blob(mirrors: str, repo: tuple[str, str], path: str, cache: Path) -> Path | None:
    """The file at ``path`` of ``repo``'s pinned snapshot, copied into ``cache`` once."""
    out = cache / repo[0].replace("/", "+") / path.replace("/", "_").replace(" ", "_")
    if not out.exists():
        data = git_blob(os.path.join(mirrors, repo[0].replace("/", "+")), repo[1], path)
        if data is None:
            return None
        out.parent.mkdir(parents=True, exist_ok=True)
        put(str(out), data)
    return out


def _video_frames(video: Path, cache: Path) -> list[Path]:
    """The video's frames as PNG files (decoded by OpenCV's FFmpeg backend), each written once."""
    out = cache / "pivid_frames"
    out.mkdir(parents=True, exist_ok=True)
    frames = video_frames(str(video), set(range(PIVID_FRAMES)))
    return [Path(write_png(str(out), f"f{i:03d}", frames[i])) for i in sorted(frames)]


def labelled_pairs(mirrors: str, cache: Path, log=print):
    """``(source, name, path A, path B, truth same)`` for every source found under ``mirrors``."""
    pairs = []

    def need(repo, path):
        p = _blob(mirrors, repo, path, cache)
        if p is None:
            log(f"note: {repo[0]}:{path} not found under {mirrors} (fetch github:{repo[0]}); skipped")
        return p

    dino = {n: need(DINO, n) for n in DINO_SAME + DINO_OTHER}
    if all(dino.values()):
        for i, a in enumerate(DINO_SAME):
            for b in DINO_SAME[i + 1:]:
                pairs.append(("Dino-Lite", f"{a} v {b}", dino[a], dino[b], True))
            for b in DINO_OTHER:
                pairs.append(("Dino-Lite", f"{a} v {b}", dino[a], dino[b], False))
    video, still = need(PIVID, "Videos/example_vid.m4v"), need(PIVID, "Images/example.jpg")
    if video is not None:
        frames = _video_frames(video, cache)
        for lag in PIVID_LAGS:
            for i in range(0, len(frames) - lag, PIVID_STEP):
                pairs.append(("Pi camera H.264", f"frame {i} v {i + lag}", frames[i], frames[i + lag], True))
        if still is not None and frames:
            pairs.append(("Pi camera H.264", "frame 0 v its still JPEG", frames[0], still, True))
    am = [need(AMSCOPE, AMSCOPE_DIR + n) for n in AMSCOPE_SHOTS]
    for (a, pa), (b, pb) in zip(zip(AMSCOPE_SHOTS, am), zip(AMSCOPE_SHOTS[1:], am[1:])):
        if pa is not None and pb is not None:
            pairs.append(("AmScope MU1003", f"{a} v {b}", pa, pb, False))
    shots = [need(SCORPION, f"data/scorpion-lapse/scorpion_lapse_{i}.png") for i in range(1, SCORPION_SHOTS + 1)]
    for i in range(len(shots) - 1):
        if shots[i] is not None and shots[i + 1] is not None:
            pairs.append(("Pi camera focus series", f"shot {i + 1} v {i + 2}", shots[i], shots[i + 1], False))
    ofx = [need(OPENFLEX, f"microscope_characterisation/example_images/example_{n}.jpg")
           for n in ("h_edge", "v_edge", "usaf")]
    for i in range(len(ofx)):
        for j in range(i + 1, len(ofx)):
            if ofx[i] is not None and ofx[j] is not None:
                pairs.append(("OpenFlexure", f"{ofx[i].name} v {ofx[j].name}", ofx[i], ofx[j], False))
    return pairs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", default="/work/.mirror", help="git snapshots (the search tool's fetch)")
    ap.add_argument("--cache", default="out/usbscope", help="where the files read are copied")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, compare_files

    pairs = labelled_pairs(args.mirrors, Path(args.cache))
    if not pairs:
        print("no source found: fetch the repositories named in this file's docstring under --mirrors")
        return 0
    table: dict[tuple[str, bool], list[int]] = {}
    for source, name, a, b, truth in pairs:
        c = compare_files(a, b)
        ok = (c.verdict in SAME_VERDICTS) == truth
        table.setdefault((source, truth), [0, 0])
        table[(source, truth)][0] += ok
        table[(source, truth)][1] += 1
        if not ok and args.show_misses:
            print(f"miss: {source}: {name}: {c.verdict}: {c.reason[:150]}")
    print(f"{'source':26} {'truth':9} {'right':>8}")
    for (source, truth), (good, n) in table.items():
        print(f"{source:26} {'same' if truth else 'different':9} {good:>4}/{n:<4}")
    good = sum(v[0] for v in table.values())
    total = sum(v[1] for v in table.values())
    print(f"{'all':26} {'':9} {good:>4}/{total:<4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

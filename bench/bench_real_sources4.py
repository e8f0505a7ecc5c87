"""Second held-out real split for the real-data harness (issue 9): validation pairs nobody tunes on.

``bench/bench_real.py --split heldout2`` runs these pairs apart from the tuning set
(``bench_real_pairs``, ``bench_real_sources2``) and from the first held-out split
(``bench_real_sources3``), into their own cache (default ``out/heldout2-cache``). None of these
sources (package, repository or file) is used by those three. Every image is a real capture as
published; derived copies (JPEG re-encodes, resized copies, windows) are made here from those real
pixels, each named by what was done. Nothing comes from our sensor model. Sources and licences:
``fixtures/real/README.md`` ("Held-out split 2"). Keep these pairs out of ``tests/`` and out of any
threshold choice, or the split stops being held out.

Categories (truth in brackets; names as the harness uses them):

* ``repeat-camera`` [same] -- consecutive and non-consecutive frames of a fixed machine-vision
  camera (ViSP ``cube`` sequence, 384x288, 8-bit) before the robot starts moving: frames 0-16
  of the sequence, where every consecutive pair differs by the same ~1.4 levels of mean absolute
  difference (sensor noise) and the servoing has not started (it starts at frame 17, after which
  consecutive frames differ by 5-30 levels).
* ``repeat-video`` [same] -- the same stretch of the sequence (frames 0-16) as ViSP also ships it,
  an MPEG-1 video (``video/cube.mpeg``): lossy repeats (intra- and predicted frames), decoded and
  stored as PNG, as a user would grab frames from a camera's compressed stream.
* ``identical-file``, ``identical-pixels`` [same] -- a copy; a PGM/PNG/TIFF stored again as PNG
  at another compression level; a JPEG against its decode stored as PNG.
* ``reencode`` [same] -- real photos and micrographs against JPEG re-encodes at q70-95 and q90 vs
  q70; plus ``flower.png`` against the third-party q85 JPEG encodes shipped with it in the JPEG XL
  test data (4:2:0, 4:2:0 progressive, with restart markers, 4:2:2, 4:4:0, 4:4:4, 4:4:4 1x2,
  asymmetric sampling, RGB-coded, RGB with subsampled blue). The grayscale and luma-subsampled
  encodes of the set are left out: they are not a re-encode of the same colour picture.
* ``resized`` [same] -- the same images resized 0.5-0.8x (area, cubic, Lanczos, linear).
* ``another-field`` [different] -- the ViSP camera after it moved: frames of the servoing
  sequences (``cube`` after frame 17, ``mire-2``, ``mbt/cube``, ``castel``, ``ellipse-1``,
  ``line``) far enough apart that the view changed; and windows of one micrograph offset by
  15-40 % of its width.
* ``another-scene`` [different] -- two photos of the same size from one set (KDE Plasma
  photographs; JPEG XL test photographs).
* ``refocus`` [different] -- two planes of a real focus stack (camera on a stand, only the focus
  moved between shots): a PCB under a macro/microscope lens (``PetteriAimonen/focus-stack``, two
  stacks of 10 and 7 planes), ``cmcguinness/focusstack`` (6 planes), ``stephenswetonic/FSCLI``
  (close, middle and far focus); neighbouring planes and 2-3 steps apart.

``gather4(root)`` copies the source files into ``root/src4`` from Debian packages
(``apt-get download``, unpacked with ``dpkg-deb``) and git snapshots under ``--mirrors`` (the
search tool's ``fetch``, pinned commits); a missing source is skipped with a note, never faked.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from bench_real_fetch import LabelledPair, gather_sources, offset_windows, read, video_frames, pair_tools, resized_copies, copy_once

SAME4 = ("identical-file", "identical-pixels", "repeat-camera", "repeat-video", "reencode", "resized")
DIFFERENT4 = ("another-field", "another-scene", "refocus")
CATEGORIES4 = SAME4 + DIFFERENT4

_VISP = "./usr/share/visp-images-data/ViSP-images/"
CUBE_STATIC = range(0, 17)  # cube frames before the robot moves (see the module docstring)
# ViSP sequence -> (member pattern, frames used)
VISP_SEQ: dict[str, tuple[str, tuple[int, ...]]] = {
    "cube": ("cube/image.{:04d}.pgm", tuple(range(0, 80))),
    "mire2": ("mire-2/image.{:04d}.pgm", tuple(range(40, 501, 60))),
    "mbtcube": ("mbt/cube/image{:04d}.pgm", tuple(range(0, 218, 50))),
    "castel": ("mbt-depth/castel/castel/image_{:04d}.pgm", (0, 10, 20, 29)),
    "ellipse": ("ellipse-1/image.{:04d}.pgm", (1, 20, 35, 50)),
    "line": ("line/image.{:04d}.pgm", (1, 12, 22, 33)),
}
_JXL = "./usr/share/libjxl-testdata/"
JXL_PHOTOS = {"jxl_keong_macan": "external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png",
              "jxl_riaphotographs": "external/wesaturate/500px/tmshre_riaphotographs_srgb8.png",
              "jxl_bliznaca": "external/wesaturate/500px/u76c0g_bliznaca_srgb8.png",
              "jxl_flower": "jxl/flower/flower.png",
              "jxl_hdr_room16": "jxl/hdr_room.png"}
JXL_Q85 = ("420", "420_R13B", "420_progr", "422", "440", "444", "444_1x2", "asymmetric", "rgb", "rgb_subsample_blue")
_KDE = "./usr/share/wallpapers/{}/contents/images/2560x1600.jpg"
KDE_PHOTOS = ("Autumn", "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
              "Grey", "Kite", "OneStandsOut", "Path", "summer_1am")
# Debian package -> [(member in the package, name in src4)]
DEB4: dict[str, list[tuple[str, str]]] = {
    "visp-images-data": ([(_VISP + pat.format(t), f"visp_{seq}_{t:04d}.pgm")
                          for seq, (pat, frames) in VISP_SEQ.items() for t in frames]
                         + [(_VISP + "video/cube.mpeg", "visp_cube.mpeg")]),
    "libjxl-testdata": ([(_JXL + path, name + ".png") for name, path in JXL_PHOTOS.items()]
                        + [(_JXL + f"jxl/flower/flower.png.im_q85_{v}.jpg", f"jxl_flower_q85_{v}.jpg") for v in JXL_Q85]),
    "plasma-workspace-wallpapers": [(_KDE.format(n), f"kde_{n}.jpg") for n in KDE_PHOTOS],
}
IGC_REPO, IGC_REV = ("IGC-Advanced-Imaging-Resource/image-analysis-python-napari",
                     "aed26cd50587001ee2cf86619720a704fb1b4fce")
# real focus stacks (camera on a stand, only the focus moved): repository -> (revision, [(path, name in src4)])
FOCUS_STACKS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "PetteriAimonen/focus-stack": ("d8532c82b33ed2123c655c4d2482db55e2e0fc9e",
                                   [(f"examples/depthmap/pcb_{i:03d}.JPG", f"fstack_pcbdepth_{i}.jpg") for i in range(10)]
                                   + [(f"examples/pcb/pcb_{i:03d}.jpg", f"fstack_pcb_{i}.jpg") for i in range(1, 8)]),
    "cmcguinness/focusstack": ("4159421da9503b6a75de1cc4003e6b9ebd3e5ee8",
                               [(f"Input/step{i}.jpg", f"fstack_step_{i}.jpg") for i in range(6)]),
    "stephenswetonic/FSCLI": ("ede1be71157944d2305525b54c9508e7d0d04a73",
                              [(f"examples/DSC_{i}.JPG", f"fstack_dsc_{i}.jpg") for i in (2426, 2427, 2428)]),
}
# repository -> [(revision, path in repo, name in src4)]
GIT4: dict[str, list[tuple[str, str, str]]] = {
    IGC_REPO: [(IGC_REV, "data/FluorescentCells_3channel.tif", "igc_fluorescent_cells_3ch.tif"),
               (IGC_REV, "data/hela-cells_rgb.tif", "igc_hela_cells_rgb.tif"),
               (IGC_REV, "data/hela.tif", "igc_hela16.tif")],
    **{repo: [(rev, path, name) for path, name in files] for repo, (rev, files) in FOCUS_STACKS.items()},
}


class Heldout2Pair(LabelledPair):
    SAME = SAME4


def gather4(root: str, *, mirrors: str = "/work/.mirror", log: Callable[[str], object] = print) -> str:
    """Copy the sources into ``root/src4`` (files already there are kept); return that folder."""
    return gather_sources(root, "src4", git=GIT4, debs=DEB4, mirrors=mirrors, log=log)


def labelled_pairs4(root: str, *, quick: bool = False, mirrors: str = "/work/.mirror",
                    log: Callable[[str], object] = print) -> Iterator[Heldout2Pair]:
    """Yield :class:`Heldout2Pair` for the second held-out split (pair files under ``root/pairs4``)."""
    src = gather4(root, mirrors=mirrors, log=log)
    out = os.path.join(root, "pairs4")
    s, have, png, jpg = pair_tools(src, out)
    P = Heldout2Pair

    def visp(seq: str, t: int) -> str:
        return f"visp_{seq}_{t:04d}.pgm"

    # ------------------------------------------------------------------ same
    # a fixed camera before the robot moves: consecutive frames, 4 and 16 frames apart
    static = [t for t in CUBE_STATIC if have(visp("cube", t))]
    steps = ((1, 8),) if quick else ((1, 1), (4, 2), (16, 1))
    for lag, stride in steps:
        for t in static[:len(static) - lag:stride]:
            yield P("repeat-camera", f"ViSP cube fixed camera frame {t} vs {t + lag}",
                    s(visp("cube", t)), s(visp("cube", t + lag)))

    # the same fixed-camera stretch as published in ViSP's MPEG-1 video of the sequence (frames 0-16:
    # lossy repeats, intra- and predicted frames), decoded and stored losslessly as PNG
    vid = video_frames(s("visp_cube.mpeg"), set(CUBE_STATIC))
    vstatic = [t for t in CUBE_STATIC if t in vid]
    for lag, stride in steps:
        for t in vstatic[:len(vstatic) - lag:stride]:
            yield P("repeat-video", f"ViSP cube.mpeg fixed camera frame {t} vs {t + lag}",
                    png(f"visp_mpeg_t{t:02d}", vid[t]), png(f"visp_mpeg_t{t + lag:02d}", vid[t + lag]))

    # stills: photos (JPEG XL test data, KDE photographs), micrographs (ImageJ samples), camera frames
    stills: dict[str, np.ndarray] = {}
    paths: dict[str, str] = {}
    for name in JXL_PHOTOS:
        if have(name + ".png"):
            paths[name] = s(name + ".png")
    for n in KDE_PHOTOS:
        if have(f"kde_{n}.jpg"):
            paths[f"kde_{n}"] = s(f"kde_{n}.jpg")
    cells = read(s("igc_fluorescent_cells_3ch.tif"))  # (channel, y, x), 8-bit
    if cells is not None:
        for c in range(cells.shape[0]):
            paths[f"igc_cells_ch{c}"] = png(f"igc_cells_ch{c}", cells[c])
    hela_rgb = read(s("igc_hela_cells_rgb.tif"))  # RGB as stored in the TIFF
    if hela_rgb is not None:
        paths["igc_hela_rgb"] = png("igc_hela_rgb", cv2.cvtColor(hela_rgb, cv2.COLOR_RGB2BGR))
    hela16 = read(s("igc_hela16.tif"))
    if hela16 is not None:
        paths["igc_hela16"] = png("igc_hela16", hela16)
    for seq in ("cube", "mire2", "castel"):
        t = VISP_SEQ[seq][1][0]
        if have(visp(seq, t)):
            paths[f"visp_{seq}_{t:04d}"] = s(visp(seq, t))
    if quick:
        paths = dict(list(paths.items())[:2])
    for k, (n, p) in enumerate(paths.items()):
        img = read(p)
        if img is None:
            continue
        stills[n] = img
        big = img.shape[0] * img.shape[1] > 2_000_000
        yield P("identical-file", n, p, copy_once(p, os.path.join(out, f"{n}__copy{os.path.splitext(p)[1]}")))
        if p.endswith(".jpg"):
            yield P("identical-pixels", n, p, png(f"{n}__decoded", img, 1))
        else:
            yield P("identical-pixels", n, png(f"{n}__c1", img, 1), png(f"{n}__c9", img, 9))
        if img.dtype == np.uint8:  # JPEG holds 8 bits; a 16-bit frame is not re-encoded
            qs = (70,) if quick else ((70, 95) if big else (70, 75, 80, 85, 90, 95))
            for q in qs:
                yield P("reencode", f"{n} q{q}", p, jpg(f"{n}__q{q}", img, q))
            if not quick and not big:
                yield P("reencode", f"{n} q90 vs q70", jpg(f"{n}__q90", img, 90), jpg(f"{n}__q70", img, 70))
        scales = (0.5,) if quick or big else (0.5, 0.6, 0.75, 0.8)
        yield from resized_copies(P, png, n, p, img, scales, k)
    # third-party q85 encodes of flower.png shipped with the JPEG XL test data
    for v in JXL_Q85[:1] if quick else JXL_Q85:
        if have("jxl_flower.png", f"jxl_flower_q85_{v}.jpg"):
            yield P("reencode", f"jxl flower.png vs its libjpeg q85 {v} encode",
                    s("jxl_flower.png"), s(f"jxl_flower_q85_{v}.jpg"))

    # ------------------------------------------------------------- different
    # the camera moved: servoing sequences, frames far enough apart that the view changed
    moved: list[tuple[str, int, int]] = []
    cube_moving = [t for t in VISP_SEQ["cube"][1] if t >= 20]
    moved += [("cube", t, t + 10) for t in cube_moving[:len(cube_moving) - 10:5]]
    moved += [("cube", 16, t) for t in (25, 40, 79)]  # the last fixed frame against the moving camera
    for seq in ("mire2", "mbtcube", "castel", "ellipse", "line"):
        fr = VISP_SEQ[seq][1]
        moved += [(seq, a, b) for a, b in zip(fr, fr[1:])]
    for seq, a, b in moved[:2] if quick else moved:
        if have(visp(seq, a), visp(seq, b)):
            yield P("another-field", f"ViSP {seq} camera moved frame {a} vs {b}", s(visp(seq, a)), s(visp(seq, b)))
    # windows of one micrograph offset by 15-40 % of its width (the stage moved)
    yield from offset_windows(P, png, stills, ("igc_cells_ch0", "igc_cells_ch2", "igc_hela_rgb", "igc_hela16"), quick=quick)

    # refocus: two planes of a real focus stack (camera fixed, the focus moved), neighbours and 2-3 steps apart
    for stack, idx, lags in (("pcbdepth", range(10), (1, 3)), ("pcb", range(1, 8), (1, 3)), ("step", range(6), (1, 2)),
                             ("dsc", (2426, 2427, 2428), (1, 2))):
        fs = [i for i in idx if have(f"fstack_{stack}_{i}.jpg")]
        for lag in lags[:1] if quick else lags:
            for a, b in list(zip(fs, fs[lag:]))[:1] if quick else zip(fs, fs[lag:]):
                yield P("refocus", f"focus stack {stack} plane {a} vs {b} ({lag} step{'s' if lag > 1 else ''})",
                        s(f"fstack_{stack}_{a}.jpg"), s(f"fstack_{stack}_{b}.jpg"))

    # another scene: photos of one set and one size
    for group in ([f"kde_{n}" for n in KDE_PHOTOS], ["jxl_keong_macan", "jxl_riaphotographs", "jxl_bliznaca"]):
        ps = [n for n in group if n in stills]
        for a, b in list(zip(ps, ps[1:]))[:1] if quick else zip(ps, ps[1:]):
            if stills[a].shape[:2] == stills[b].shape[:2]:
                yield P("another-scene", f"{a} vs {b}", paths[a], paths[b])


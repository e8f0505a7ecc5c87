"""Fourth held-out real split for the real-data harness (issue 9): raw shots of one camera burst,
one microscope shot against the mean of several of a fixed specimen, and other fields, specimens
and stains of the same instruments.

``bench/bench_real.py --split heldout4`` runs these pairs apart from the tuning set
(``bench_real_pairs``, ``bench_real_sources2``) and from held-out splits 1-3
(``bench_real_sources3``, ``bench_real_sources4``, ``bench_real_sources5``), into their own cache
(default ``out/heldout4-cache``). None of these repositories or files is used by those five
(``tests/test_bench_real_split4.py`` checks the source lists; the FMD ``BPAE_B`` pair that
``jason-lequyer/Noise2Fast`` also ships is left out because its pixels are split 1's field 1).
Every image is a real capture as published; the only derived pairs are windows cut from those
pixels, each named by what was done. Nothing comes from our sensor model. Sources and licences:
``fixtures/real/README.md`` ("Held-out split 4"). Keep these pairs out of ``tests/``, out of any
threshold choice and out of notes the tuning work reads, or the split stops being held out.

The search for this split looked for *repeated* microscope captures (frame against frame) of an
unchanged field in sources not used before and found none that can be fetched here (the report of
the session that built it lists what was checked); the one repeated-capture source is a camera's
raw bursts of a flat target (``repeat-camera-raw``), the microscopy pairs are one shot against the
mean of several.

Categories (truth in brackets; names as the harness uses them):

* ``repeat-camera-raw`` [same] -- two raw shots of one burst: a Nikon D7000 (ISO 100, 90 mm)
  photographing a uniformly lit, slightly defocused white card for sensor-noise profiling; the
  raw Bayer mosaic (14-bit values in 16-bit) cut to the same 64x64 window of every shot by the
  author of the R package ``imgnoiser`` (``inst/samples/samples.zip``, FITS). The author shot three
  frames per setting, numbered in shooting order; a burst is the shots of one such triplet whose
  FITS headers give the same exposure time and whose start times span at most 30 s (2-8 s apart
  in practice). Nothing in the scene changes; the frame means within a burst differ by 0.2-2.8 %
  (the lamp; 4.4 % in the darkest burst, mean level 29). 28 bursts (26 of three shots, 2 of two:
  80 pairs), exposure times 1/30 s to 1/10000 s, mean levels 29-12200 of 16383: a noise-only
  check on a featureless target with a strong 2x2 colour-filter pattern. Shots of the same
  exposure time minutes apart are not paired: the lamp was changed in between.
* ``shot-vs-mean-fluo`` [same] -- one raw capture of a fixed specimen against the mean of several
  captures of the same field, nothing moved in between:
  FMD (Zhang et al., CVPR 2019) confocal test images as shipped in ``jason-lequyer/Noise2Fast``:
  a raw frame against the mean of 50 (fixed BPAE cells, green and red channel; fixed zebrafish
  embryo; fixed mouse brain section), 512x512, 8-bit;
  two-photon FLIM intensity images of fixed specimens (``ND-HowardGroup/FLIM_Denoising_using_
  Pretrained_CNNs``): one acquisition (``Ax1``) against the average of five (``Ax5``) for two BPAE
  cell fields and two mouse kidney sections (float32 as published, a photon-count scale times
  2.196e-6: stored here as the integer counts, ``round(value / FLIM_STEP)``, one factor for both
  sides); and a mouse-kidney shot against its average as shipped in ``ND-HowardGroup/Application-
  Specific-Super-resolution`` (16-bit, each image stretched to its own range by its authors).
  Left out: the third BPAE FLIM pair (``BPAE_sample3``: the average sits 13 px from the shot, the
  scan field moved) and the plant pairs (``Plant images``: shot and average correlate at 0.07, not
  the same field; the "top" and "mid" layer files are byte-identical).
* ``shot-vs-mean-fluo-window`` [same] -- the same pairs cut into four quadrants, the same window
  on both sides (a user cropping both alike); not independent of the full frames, so kept apart.
* ``another-field-fluo`` [different] -- windows of one capture (the mean, and the shot) offset by
  15, 25 and 40 % of the width: the stage moved.
* ``another-specimen`` [different] -- two specimens under the same microscope and settings
  (zebrafish vs mouse brain, BPAE vs zebrafish or mouse brain; BPAE field 1 vs 2, kidney section
  2 vs 3, BPAE vs kidney), shot vs shot and mean vs mean, cut to the smaller size.
* ``another-channel`` [different] -- the same FMD BPAE field in two stains (green: F-actin, red:
  mitochondria), shot vs shot and mean vs mean: the same place, other structures.

``gather6(root)`` copies the source files into ``root/src6`` from git snapshots under
``--mirrors`` (the search tool's ``fetch``, pinned commits; the raw crops are unpacked from the
snapshot's ``samples.zip``); a missing source is skipped with a note, never faked.
"""
from __future__ import annotations

import itertools
import os
import zipfile
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from bench_real_fetch import LabelledPair, gather_sources, read, pair_tools

SAME6 = ("repeat-camera-raw", "shot-vs-mean-fluo", "shot-vs-mean-fluo-window")
DIFFERENT6 = ("another-field-fluo", "another-specimen", "another-channel")
CATEGORIES6 = SAME6 + DIFFERENT6

N2F_REPO, N2F_REV = "jason-lequyer/Noise2Fast", "8b244699ee84eb057b77cbcedc9dc6f5a4a434b8"
# FMD confocal test images: name -> what (raw in Confocal_gaussianpoisson/, mean of 50 in Confocal/)
FMD_N2F = {"BPAE_G": "BPAE cells, F-actin (green)", "BPAE_R": "BPAE cells, mitochondria (red)",
           "fish": "zebrafish embryo", "mice": "mouse brain section"}
FLIM_REPO, FLIM_REV = ("ND-HowardGroup/FLIM_Denoising_using_Pretrained_CNNs",
                       "9b3fd7b5bc258b6c5cf54268db5a50dbfe001f1c")
# FLIM intensity: name -> (folder, one acquisition, average of five)
FLIM = {"bpae1": ("Datasets/BPAE_Sample1", "W800_P200_5mW_Ax1_I_t5.tif", "W800_P200_5mW_Ax5_I.tif"),
        "bpae2": ("Datasets/BPAE_sample2_largeFOV", "W800_P200_3mW_Ax1_I_t5.tif", "W800_P200_3mW_Ax5_I.tif"),
        "kidney2": ("Datasets/Mousekidney_sample2", "W800_P200_3.3mW_Ax1_I_t5.tif", "W800_P200_3.3mW_Ax5_I.tif"),
        "kidney3": ("Datasets/Mousekidney_sample3_largerFOV", "W800_P200_4mW_Ax1_I_t5.tif",
                    "W800_P200_4mW_Ax5_I.tif")}
FLIM_STEP = 2.1960586e-06  # one count of the published float32 intensities (the spacing of a shot's values)
ASR_REPO, ASR_REV = ("ND-HowardGroup/Application-Specific-Super-resolution",
                     "f4f3b9cc573b08329a91c0e403f26fb494f22148")
_ASR = "Python/Transfer_learning/W800_P200_5mW_MK_{}_FOV_01_I_t01.tif"
IMGNOISER_REPO, IMGNOISER_REV = "oscardelama/imgnoiser", "f29e2648253b59742168a14fa8591a2971952fe4"
RAW_CROPS = range(1, 85)  # crop_1.fit .. crop_84.fit in inst/samples/samples.zip
BURST_GAP_S = 30  # shots of one exposure time further apart than this are not one burst
# repository -> [(revision, path in repo, name in src6)]
GIT6: dict[str, list[tuple[str, str, str]]] = {
    N2F_REPO: [(N2F_REV, f"{d}/{n}.tif", f"n2f_fmd_{n}_{kind}.tif") for n in FMD_N2F
               for d, kind in (("Confocal_gaussianpoisson", "raw"), ("Confocal", "avg50"))],
    FLIM_REPO: [(FLIM_REV, f"{folder}/{f}", f"flim_{n}_{kind}.tif") for n, (folder, shot, mean) in FLIM.items()
                for f, kind in ((shot, "ax1"), (mean, "ax5"))],
    ASR_REPO: [(ASR_REV, _ASR.format(k), f"asr_kidney_{k.lower()}.tif") for k in ("Ax1", "Avg")],
    IMGNOISER_REPO: [(IMGNOISER_REV, "inst/samples/samples.zip", "imgnoiser_samples.zip")],
}
# pairs of different specimens under one microscope (another-specimen)
SPECIMENS = (("fmd", "fish", "mice"), ("fmd", "BPAE_G", "fish"), ("fmd", "BPAE_R", "mice"),
             ("flim", "bpae1", "bpae2"), ("flim", "kidney2", "kidney3"), ("flim", "bpae1", "kidney2"),
             ("flim", "bpae2", "kidney3"))
WINDOW_OFFSETS = (0.15, 0.25, 0.4)


class Heldout4Pair(LabelledPair):
    SAME = SAME6


def gather6(root: str, *, mirrors: str = "/work/.mirror", log: Callable[[str], object] = print) -> str:
    """Copy the sources into ``root/src6`` (files already there are kept); return that folder."""
    src = gather_sources(root, "src6", git=GIT6, mirrors=mirrors, log=log)
    zpath = os.path.join(src, "imgnoiser_samples.zip")
    if os.path.exists(zpath) and not all(os.path.exists(os.path.join(src, f"imgnoiser_crop_{i}.fit")) for i in RAW_CROPS):
        with zipfile.ZipFile(zpath) as z:
            for i in RAW_CROPS:
                with open(os.path.join(src, f"imgnoiser_crop_{i}.fit"), "wb") as fh:
                    fh.write(z.read(f"crop_{i}.fit"))
    return src


def read_fits(path: str) -> tuple[dict[str, str], np.ndarray] | None:
    """(header cards, 2-D uint16 image) of a simple FITS file (BITPIX 16, BZERO/BSCALE applied)."""
    if not os.path.exists(path):
        return None
    raw = open(path, "rb").read()
    cards: dict[str, str] = {}
    off = 0
    while off + 2880 <= len(raw):
        block = raw[off:off + 2880].decode("ascii", "replace")
        off += 2880
        for j in range(0, 2880, 80):
            card = block[j:j + 80]
            if card[8:10] == "= ":
                cards[card[:8].strip()] = card[10:].split("/")[0].strip().strip("'").strip()
        if any(block[j:j + 80].startswith("END ") for j in range(0, 2880, 80)):
            break
    if cards.get("BITPIX") != "16" or cards.get("NAXIS") != "2":
        return None
    nx, ny = int(cards["NAXIS1"]), int(cards["NAXIS2"])
    data = np.frombuffer(raw, ">i2", nx * ny, off).reshape(ny, nx).astype(np.float64)
    data = data * float(cards.get("BSCALE", 1)) + float(cards.get("BZERO", 0))
    return cards, np.clip(np.rint(data), 0, 65535).astype(np.uint16)


def raw_bursts(src: str) -> list[list[tuple[int, str, np.ndarray]]]:
    """The imgnoiser crops grouped into bursts of (crop number, start time, image): the author shot
    three frames per setting and the crops are numbered in shooting order, so a burst is the shots
    of one triplet (crops 3k+1..3k+3) whose FITS headers give the same exposure time and whose start
    times span at most ``BURST_GAP_S`` (a triplet that mixes settings keeps only its agreeing shots;
    the header's exposure time, rounded to 0.1 ms, cannot tell 1/3200 s from 1/4000 s alone)."""
    shots = []
    for i in RAW_CROPS:
        got = read_fits(os.path.join(src, f"imgnoiser_crop_{i}.fit"))
        if got is not None:
            cards, img = got
            h, m, sec = (int(v) for v in cards["UT-START"].split(":"))
            shots.append(((i - 1) // 3, cards["EXPTIME"], h * 3600 + m * 60 + sec, i, cards["UT-START"], img))
    bursts = []
    for _, group in itertools.groupby(shots, key=lambda s: (s[0], s[1])):
        burst = sorted(group, key=lambda s: s[2])
        if len(burst) > 1 and burst[-1][2] - burst[0][2] <= BURST_GAP_S:
            bursts.append([(i, start, img) for _, _, _, i, start, img in burst])
    return bursts


def read_flim_counts(path: str) -> np.ndarray | None:
    """A FLIM intensity image as uint16 counts: the published float32 values (LZW-compressed TIFF,
    read with OpenCV) divided by ``FLIM_STEP`` and rounded."""
    if not os.path.exists(path):
        return None
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None or img.dtype != np.float32:
        return None
    return np.clip(np.rint(img.astype(np.float64) / FLIM_STEP), 0, 65535).astype(np.uint16)


def read_uint16_tif(path: str) -> np.ndarray | None:
    """A 16-bit TIFF as stored (OpenCV, which also decodes the LZW the ImageJ files use)."""
    if not os.path.exists(path):
        return None
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    return img if img is not None and img.dtype == np.uint16 and img.ndim == 2 else None


def _quadrants(img: np.ndarray) -> list[tuple[str, np.ndarray]]:
    h, w = img.shape[:2]
    return [(f"q{r}{c}", img[r * h // 2:(r + 1) * h // 2, c * w // 2:(c + 1) * w // 2]) for r in (0, 1) for c in (0, 1)]


def labelled_pairs6(root: str, *, quick: bool = False, mirrors: str = "/work/.mirror",
                    log: Callable[[str], object] = print) -> Iterator[Heldout4Pair]:
    """Yield :class:`Heldout4Pair` for the fourth held-out split (pair files under ``root/pairs6``)."""
    src = gather6(root, mirrors=mirrors, log=log)
    out = os.path.join(root, "pairs6")
    s, _, png, _ = pair_tools(src, out)
    P = Heldout4Pair

    # every shot/mean pair: key -> (what, shot, mean)
    captures: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
    for n, what in FMD_N2F.items():
        raw, avg = read(s(f"n2f_fmd_{n}_raw.tif")), read(s(f"n2f_fmd_{n}_avg50.tif"))
        if raw is not None and avg is not None:
            captures[f"fmd_{n}"] = (f"FMD confocal {what}: raw frame vs mean of 50", raw, avg)
    for n, (folder, _, _) in FLIM.items():
        shot, mean = read_flim_counts(s(f"flim_{n}_ax1.tif")), read_flim_counts(s(f"flim_{n}_ax5.tif"))
        if shot is not None and mean is not None:
            captures[f"flim_{n}"] = (f"two-photon FLIM intensity {folder.split('/')[-1]}: one acquisition vs average of 5",
                                     shot, mean)
    shot, mean = read_uint16_tif(s("asr_kidney_ax1.tif")), read_uint16_tif(s("asr_kidney_avg.tif"))
    if shot is not None and mean is not None:
        captures["asr_kidney"] = ("two-photon mouse kidney FOV 1: one acquisition vs average", shot, mean)
    if quick:  # the FMD captures alone reach every category
        captures = {k: v for k, v in captures.items() if k.startswith("fmd_")}

    def side_of(key: str, side: str) -> np.ndarray:
        return captures[key][1] if side == "shot" else captures[key][2]

    def pngs(key: str) -> tuple[str, str]:
        _, a, b = captures[key]
        return png(f"{key}_shot", a), png(f"{key}_mean", b)

    # ------------------------------------------------------------------ same
    # raw shots of one burst of a flat white card (seconds apart, one exposure time)
    for burst in raw_bursts(src)[:1] if quick else raw_bursts(src):
        for (i, ti, a), (j, tj, b) in itertools.combinations(burst, 2):
            yield P("repeat-camera-raw", f"Nikon D7000 raw white card crop {i} ({ti}) vs crop {j} ({tj}), same exposure",
                    png(f"imgnoiser_crop_{i:02d}", a), png(f"imgnoiser_crop_{j:02d}", b))
    for key, (what, _, _) in captures.items():
        yield P("shot-vs-mean-fluo", what, *pngs(key))
    for key, (what, a, b) in captures.items():
        for (q, qa), (_, qb) in list(zip(_quadrants(a), _quadrants(b)))[:1 if quick else None]:
            yield P("shot-vs-mean-fluo-window", f"{what}, quadrant {q}",
                    png(f"{key}_shot_{q}", qa), png(f"{key}_mean_{q}", qb))

    # ------------------------------------------------------------- different
    # windows of one capture offset by 15-40 % of its width (the stage moved)
    for key, (_, a, b) in captures.items():
        for side, img in (("mean", b), ("shot", a)):
            h, w = img.shape[:2]
            ww = w * 3 // 5
            for frac in WINDOW_OFFSETS[:1] if quick else WINDOW_OFFSETS:
                dx = round(w * frac)
                yield P("another-field-fluo", f"{key} {side} window offset {frac:.0%}",
                        png(f"{key}_{side}_win0", img[:, :ww]), png(f"{key}_{side}_win{dx}", img[:, dx:dx + ww]))
    # two specimens under one microscope, cut to the smaller size
    for kind, m, n in SPECIMENS:
        ka, kb = f"{kind}_{m}", f"{kind}_{n}"
        if ka not in captures or kb not in captures:
            continue
        for side in ("shot", "mean"):
            a, b = side_of(ka, side), side_of(kb, side)
            h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
            yield P("another-specimen", f"{ka} vs {kb} ({side} vs {side})",
                    png(f"{ka}_{side}_{h}x{w}", a[:h, :w]), png(f"{kb}_{side}_{h}x{w}", b[:h, :w]))
    # one FMD BPAE field in two stains
    if "fmd_BPAE_G" in captures and "fmd_BPAE_R" in captures:
        for side in ("shot", "mean"):
            yield P("another-channel", f"FMD BPAE field, F-actin vs mitochondria ({side} vs {side})",
                    png(f"fmd_BPAE_G_{side}", side_of("fmd_BPAE_G", side)),
                    png(f"fmd_BPAE_R_{side}", side_of("fmd_BPAE_R", side)))

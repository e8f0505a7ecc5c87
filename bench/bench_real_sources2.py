"""More real sources for the real-data harness (issue 9): other instruments, other cameras.

Added to the pairs of ``bench_real_pairs.labelled_pairs`` (which yields these after its own).
Every image here is a real capture as published; nothing comes from our sensor model, and
no change is synthesised: each pair is two captures (or a capture and a published mean of
many captures) exactly as shipped, at most cut to one window or stored losslessly as PNG.
Sources and licences: ``fixtures/real/README.md`` ("More sources").

Categories (truth in brackets):

* ``repeat-scmos`` [same] -- frames of one TIRF field (fixed microtubules) from an sCMOS camera
  at 200 Hz (5 ms apart; 16-bit, values 24-181, noise-dominated), consecutive and up to 19
  frames apart; the mean brightness of the 20 frames varies by 0.2 %: nothing moved, nothing
  bleached. Also one frame of the same field at 100 Hz and at 9 Hz (other exposures).
* ``shot-vs-mean-fluo`` [same] -- one raw fluorescence capture against the published mean of
  many captures of the same field: W2S widefield (mean of 400; 8-bit as converted by the
  redistributing repository, each image stretched to its own range), FMD two-photon (mean of
  50), a two-photon bacteria field (16-bit, mean of a stack), and the TIRF frames against the
  mean of the 19 others (16-bit).
* ``timelapse-phase`` [different] -- transmitted light: consecutive frames (and 5 apart) of a
  16-bit phase-contrast time-lapse of migrating T98G glioblastoma cells (1022x1024), cells move
  and change shape between frames; and brightfield frames of growing yeast (below).
* ``timelapse-fluo16`` [different] -- 16-bit widefield fluorescence of yeast (YFP, values
  ~240-850 of 65535; TFP ~3200-16400), 1392x1040, frames 10 or 20 time points apart at three
  positions: cells grow and bud, and the stage drifted by ~4.7 px.
* ``shot-vs-mean-photo`` [same] -- PolyU real-noise set: 100 crops (512x512) of one shot
  against the mean of the shots of a static scene, five cameras (Canon 5D II, 80D, 600D, Nikon
  D800, Sony A7 II), ISO 800-12800, JPEG as shipped.
* ``another-field-fluo`` [different] -- two fields of the same kind of specimen on the same
  widefield microscope (W2S field *i* against field *i+1*, same channel): mean against mean and
  single shot against the other field's mean; and, in the noise-dominated 16-bit frames (TIRF,
  bacteria), two windows of one capture 12-40 % of the frame apart (the stage moved); and two
  positions of the yeast time-lapse at the same time point (YFP, TFP; brightfield goes to the
  existing ``another-field``).

``gather(root)`` copies the source files into ``root/src2`` from git snapshots under
``--mirrors`` (the search tool's ``fetch``); a missing source is skipped with a note, never
faked.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from bench_real_fetch import git_members
from bench_real_fetch import read as _read

SAME2 = ("repeat-scmos", "shot-vs-mean-fluo", "shot-vs-mean-photo", "levels-mapped", "levels-saturated")
DIFFERENT2 = ("timelapse-phase", "timelapse-fluo16", "another-field-fluo", "levels-mapped-changed")

_IID = "Plugins/Model_validation"
W2S_FIELDS = range(1, 121)
# W2S fields f whose next field f+1 shows the same cell again (re-imaged, other focus): left out of
# "another-field-fluo". Found with an independent check (skimage phase correlation, then Pearson
# correlation of the two means > 0.8) and confirmed by eye; the other 116 neighbours are other cells
# or the stage moved by 13-249 px.
W2S_SAME_CELL_AS_NEXT = frozenset({33, 36, 61})
T98G_FRAMES = range(1, 38)
# repository -> [(revision, path in repo, name in src2)]; revisions pinned where a file was
# later deleted from the repository.
SOURCES2: dict[str, list[tuple[str, str, str]]] = {
    "ShuJiaLab/ACsN": [("22e100a1d787bd51c88fce64c773162ff8513f2d", f"Test Images/TIRF_{r}.tif", f"acsn_tirf_{r.lower()}.tif")
                       for r in ("200Hz", "100Hz", "9Hz")],
    "ND-HowardGroup/Instant-Image-Denoising": (
        [("HEAD", f"{_IID}/W2S_data_analysis/W2S_dataset_8bit/images_avg1_8bit/input_avg1_{f:03d}_{c}.tif",
          f"w2s_avg1_{f:03d}_{c}.tif") for f in W2S_FIELDS for c in range(3)]
        + [("HEAD", f"{_IID}/W2S_data_analysis/W2S_dataset_8bit/images_avg400_8bit/target_avg400_{f:03d}_{c}.tif",
            f"w2s_avg400_{f:03d}_{c}.tif") for f in W2S_FIELDS for c in range(3)]
        + [("HEAD", f"{_IID}/Bias_free_out_of_distribution_noise/FMD_bias_free_test/image_R_1_001.png",
            "fmd_tp_bpae_r_1_raw001.png"),
           ("HEAD", f"{_IID}/Bias_free_out_of_distribution_noise/FMD_bias_free_test/image_R_1_avg50.png",
            "fmd_tp_bpae_r_1_avg50.png"),
           ("HEAD", f"{_IID}/N2V_Comparison/FMD_dataset/BPAE_R_Channel_noisy_image.png", "fmd_bpae_r_noisy_rgb.png"),
           ("HEAD", f"{_IID}/N2V_Comparison/FMD_dataset/BPAE_R_Channel_gt_image.png", "fmd_bpae_r_gt_rgb.png"),
           ("HEAD", f"{_IID}/Bacteria_dataset/16bit_images/Noisy_images_avg1_16bit.png", "bacteria_avg1_16bit.png"),
           ("HEAD", f"{_IID}/Bacteria_dataset/16bit_images/AVG_2mw_OD=0_Myxo_1mM Ferri in 240mM KNO3_CV_9_16bit_target.png",
            "bacteria_avg_16bit.png")]),
    "csjunxu/PolyU-Real-World-Noisy-Images-Dataset": [],  # filled below from its CroppedImages/ listing
    "darksideoftheshmoo/rcell2.examples": (
        [("HEAD", f"inst/extdata/sample_datasets/sample_time_series/{c}_Position{p}_time{t}.tif",
          f"rcell2_{c.lower()}_pos{p:02d}_t{t}.tif") for c in ("YFP", "TFP", "BF") for p in (4, 12) for t in (10, 20, 30)]
        + [("HEAD", f"inst/extdata/sample_datasets/flat_dark_correction/{c}_Position07_time{t}.tif",
            f"rcell2_{c.lower()}_pos07_t{t}.tif") for c in ("YFP", "BF") for t in ("01", "11")]),
    "oist/Usiigaci": [("HEAD", f"ExampleData/T98G_sample/20180101ef002xy01t{t:02d}.tif", f"t98g_t{t:02d}.tif")
                      for t in T98G_FRAMES],
}


def _polyu_listing(mirror: str) -> list[str]:
    """Names of the 100 cropped shot/mean pairs (``CroppedImages/<name>_real.JPG``) in the snapshot."""
    gd = os.path.join(mirror, "repo")
    r = subprocess.run(["git", "--git-dir", gd, "ls-tree", "--name-only", "HEAD", "CroppedImages/"],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        return []
    return sorted(n[len("CroppedImages/"):-len("_real.JPG")] for n in r.stdout.splitlines() if n.endswith("_real.JPG"))


def gather(root: str, *, mirrors: str = "/work/.mirror", log: Callable[[str], object] = print) -> str:
    """Copy the sources into ``root/src2`` (files already there are kept); return that folder."""
    src = os.path.join(root, "src2")
    os.makedirs(src, exist_ok=True)
    for repo, files in SOURCES2.items():
        mirror = os.path.join(mirrors, repo.replace("/", "+"))
        if repo == "csjunxu/PolyU-Real-World-Noisy-Images-Dataset":
            files = [("HEAD", f"CroppedImages/{n}_{k}.JPG", f"polyu_{n}_{k}.jpg")
                     for n in _polyu_listing(mirror) for k in ("real", "mean")]
            if not files:
                log(f"note: {repo} not found under {mirrors} (fetch github:{repo}); skipped")
        git_members(mirrors, repo, files, src, log)
    return src


def labelled_pairs2(root: str, *, quick: bool = False, mirrors: str = "/work/.mirror",
                    log: Callable[[str], object] = print, pair=None) -> Iterator:
    """Yield ``pair(category, name, a, b)`` for the sources above (``pair`` defaults to a tuple)."""
    mk = pair or (lambda *t: t)
    src = gather(root, mirrors=mirrors, log=log)
    out = os.path.join(root, "pairs2")
    os.makedirs(out, exist_ok=True)

    def png(name: str, img: np.ndarray) -> str:
        p = os.path.join(out, name + ".png")
        if not os.path.exists(p):
            cv2.imwrite(p + ".part.png", img, [cv2.IMWRITE_PNG_COMPRESSION, 3])
            os.replace(p + ".part.png", p)
        return p

    def s(name: str) -> str:
        return os.path.join(src, name)

    # repeats of an unchanged field: sCMOS TIRF frames 5 ms apart
    tirf = _read(s("acsn_tirf_200hz.tif"))
    if tirf is not None:
        frames = [png(f"acsn_tirf_t{i:02d}", tirf[i]) for i in range(len(tirf))]
        lags = (1,) if quick else (1, 3, 9, 19)
        for lag in lags:
            for i in range(0, len(frames) - lag):
                yield mk("repeat-scmos", f"TIRF sCMOS t{i}-t{i + lag}", frames[i], frames[i + lag])
                if quick:
                    break
        # the same field at other exposures: one frame at 100 Hz (10 ms) and at 9 Hz (~110 ms)
        others = {r: _read(s(f"acsn_tirf_{r}.tif")) for r in ("100hz", "9hz")}
        op = {r: png(f"acsn_tirf_{r}", im) for r, im in others.items() if im is not None}
        for r, p in op.items():
            yield mk("repeat-scmos", f"TIRF sCMOS 200 Hz t0 vs one {r[:-2]} Hz frame (other exposure)", frames[0], p)
        if len(op) == 2 and not quick:
            yield mk("repeat-scmos", "TIRF sCMOS one 100 Hz vs one 9 Hz frame (other exposure)", op["100hz"], op["9hz"])
        # each frame against the mean of the other 19 (16-bit, rounded once)
        for i in range(len(tirf)):
            m = np.delete(tirf, i, axis=0).astype(np.float64).mean(axis=0)
            mp = png(f"acsn_tirf_mean19_without_t{i:02d}", np.rint(m).astype(np.uint16))
            yield mk("shot-vs-mean-fluo", f"TIRF sCMOS t{i} vs mean of 19 (16-bit)", frames[i], mp)
            if quick:
                break

    # one shot vs the mean of many: W2S widefield (mean of 400), FMD (mean of 50), bacteria
    fields = list(W2S_FIELDS)[:3] if quick else list(W2S_FIELDS)
    for f in fields:
        c = f % 3  # one channel a field: 120 pairs over the three channels
        a, m = s(f"w2s_avg1_{f:03d}_{c}.tif"), s(f"w2s_avg400_{f:03d}_{c}.tif")
        if os.path.exists(a) and os.path.exists(m):
            yield mk("shot-vs-mean-fluo", f"W2S widefield field {f:03d} ch{c} shot vs mean of 400", a, m)
    for a, m, what in (("fmd_tp_bpae_r_1_raw001.png", "fmd_tp_bpae_r_1_avg50.png", "FMD BPAE R shot vs mean of 50"),
                       ("fmd_bpae_r_noisy_rgb.png", "fmd_bpae_r_gt_rgb.png", "FMD BPAE R shot vs mean of 50 (RGB)"),
                       ("bacteria_avg1_16bit.png", "bacteria_avg_16bit.png", "bacteria 16-bit shot vs mean")):
        if os.path.exists(s(a)) and os.path.exists(s(m)):
            yield mk("shot-vs-mean-fluo", what, s(a), s(m))

    # one shot vs the mean of many, photographs: PolyU (5 cameras, 512x512 crops, JPEG as shipped)
    polyu = sorted(n[6:-9] for n in os.listdir(src) if n.startswith("polyu_") and n.endswith("_real.jpg"))
    for n in polyu[:2] if quick else polyu:
        if os.path.exists(s(f"polyu_{n}_mean.jpg")):
            yield mk("shot-vs-mean-photo", f"PolyU {n} shot vs mean", s(f"polyu_{n}_real.jpg"), s(f"polyu_{n}_mean.jpg"))

    # another field of the same kind of specimen, same microscope and channel
    for f in list(W2S_FIELDS)[:-1][: (2 if quick else 119)]:
        if f in W2S_SAME_CELL_AS_NEXT:
            continue
        c = f % 3
        m1, m2 = s(f"w2s_avg400_{f:03d}_{c}.tif"), s(f"w2s_avg400_{f + 1:03d}_{c}.tif")
        a1 = s(f"w2s_avg1_{f:03d}_{c}.tif")
        if not all(os.path.exists(p) for p in (m1, m2, a1)):
            continue
        if f % 2:
            yield mk("another-field-fluo", f"W2S field {f:03d} vs {f + 1:03d} ch{c} mean vs mean", m1, m2)
        else:
            yield mk("another-field-fluo", f"W2S field {f:03d} shot vs field {f + 1:03d} mean ch{c}", a1, m2)

    # a neighbouring field in the noise-dominated 16-bit frames: two windows of one capture, the
    # second 12-40 % of the frame away (the stage moved; what a verifier must never call the same)
    wins = ((0.12, 0.0), (0.0, 0.2), (0.3, 0.3)) if not quick else ((0.3, 0.3),)
    for tag, img in (("TIRF sCMOS t0", tirf[0] if tirf is not None else None),
                     ("bacteria 16-bit shot", _read(s("bacteria_avg1_16bit.png")))):
        if img is None:
            continue
        h, wd = img.shape[:2]
        cw, ch = int(wd * 0.6), int(h * 0.6)
        key = tag.split()[0].lower()
        for fx, fy in wins:
            ox, oy = int(fx * wd), int(fy * h)
            a = png(f"{key}_win0", img[0:ch, 0:cw])
            b = png(f"{key}_win{ox}_{oy}", img[oy:oy + ch, ox:ox + cw])
            yield mk("another-field-fluo", f"{tag} window offset {fx:.2f},{fy:.2f} (16-bit)", a, b)

    # time-lapse, yeast (16-bit widefield): YFP (values ~240-850) and TFP fluorescence and
    # brightfield, frames 10 apart; cells grow, bud and drift. Positions 4 and 12 are two fields.
    def rc(c: str, pos: int, t: object) -> str:
        return s(f"rcell2_{c}_pos{pos:02d}_t{t}.tif")
    for c in ("yfp", "tfp", "bf"):
        cat = "timelapse-fluo16" if c != "bf" else "timelapse-phase"
        what = {"yfp": "YFP", "tfp": "TFP", "bf": "brightfield"}[c]
        for pos in (4, 12) if not quick else (12,):
            for t1, t2 in ((10, 20), (20, 30), (10, 30)) if not quick else ((10, 20),):
                if os.path.exists(rc(c, pos, t1)) and os.path.exists(rc(c, pos, t2)):
                    yield mk(cat, f"yeast {what} position {pos} t{t1}-t{t2}", rc(c, pos, t1), rc(c, pos, t2))
        if c != "tfp" and not quick and os.path.exists(rc(c, 7, "01")) and os.path.exists(rc(c, 7, "11")):
            yield mk(cat, f"yeast {what} position 7 t1-t11", rc(c, 7, "01"), rc(c, 7, "11"))
        for t in (10, 20, 30) if not quick else (10,):
            if os.path.exists(rc(c, 4, t)) and os.path.exists(rc(c, 12, t)):
                yield mk("another-field-fluo" if c != "bf" else "another-field", f"yeast {what} position 4 vs 12, t{t}",
                         rc(c, 4, t), rc(c, 12, t))

    # time-lapse, phase contrast, 16-bit: cells migrate and change shape
    t98 = [s(f"t98g_t{t:02d}.tif") for t in T98G_FRAMES]
    t98 = [p for p in t98 if os.path.exists(p)]
    if t98:
        last = 2 if quick else len(t98)
        for i in range(last - 1):
            yield mk("timelapse-phase", f"T98G phase contrast t{i + 1}-t{i + 2}", t98[i], t98[i + 1])
        if not quick:
            for i in range(0, len(t98) - 5, 5):
                yield mk("timelapse-phase", f"T98G phase contrast t{i + 1}-t{i + 6}", t98[i], t98[i + 5])
    if not quick:
        yield from _levels_mapped(mk, png, s, t98)


def export8(img: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """ImageJ's 16 -> 8 bit conversion with the display range ``lo .. hi``: linear, rounded, clipped."""
    x = (img.astype(np.float64) - lo) * (255.0 / max(hi - lo, 1.0))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def auto_range(img: np.ndarray) -> tuple[float, float]:
    """ImageJ's "Auto" display range: 0.35 % of the pixels saturated at each end."""
    lo, hi = np.quantile(img, [0.0035, 0.9965])
    return float(lo), float(hi)


def _levels_mapped(mk, png, s, t98) -> Iterator:
    """Session 11: the same 16-bit frames as their 8-bit exports with the display range stretched
    (min..max: "levels-mapped"; ImageJ's Auto, 0.35 % saturated at each end: "levels-saturated"),
    frames below 4096 with their samples shifted 4 bits (a 12-bit camera's high-bit storage), and
    against another time point exported or shifted the same way ("levels-mapped-changed")."""
    series = {}
    for c in ("yfp", "tfp", "bf"):
        for pos, ts in ((4, (10, 20, 30)), (12, (10, 20, 30)), (7, ("01", "11"))):
            for t in ts:
                series.setdefault(f"rcell2_{c}_pos{pos:02d}", []).append(s(f"rcell2_{c}_pos{pos:02d}_t{t}.tif"))
    series["t98g"] = list(t98[:3])
    series["acsn_tirf_9hz"] = [s("acsn_tirf_9hz.tif")]
    for paths in series.values():
        frames = [(p, _read(p)) for p in paths if os.path.exists(p)]
        frames = [(p, img if img.ndim == 2 else img[0]) for p, img in frames if img is not None and img.dtype == np.uint16]
        made = []
        for p, img in frames:
            tag = os.path.basename(p)[:-4]
            a = png(f"{tag}__16", img)
            mm = png(f"{tag}__8minmax", export8(img, float(img.min()), float(img.max())))
            auto = png(f"{tag}__8auto", export8(img, *auto_range(img)))
            x16 = png(f"{tag}__x16", (img.astype(np.uint32) * 16).astype(np.uint16)) if int(img.max()) < 4096 else None
            yield mk("levels-mapped", f"{tag} vs its 8-bit export (min-max)", a, mm)
            yield mk("levels-saturated", f"{tag} vs its 8-bit export (auto, 0.35 % saturated)", a, auto)
            if x16 is not None:
                yield mk("levels-mapped", f"{tag} vs its samples x16", a, x16)
            made.append((tag, a, mm, auto, x16))
        for (t1, a1, _, _, _), (t2, _, mm2, auto2, x2) in zip(made, made[1:]):
            yield mk("levels-mapped-changed", f"{t1} vs {t2}'s 8-bit export (min-max)", a1, mm2)
            yield mk("levels-mapped-changed", f"{t1} vs {t2}'s 8-bit export (auto)", a1, auto2)
            if x2 is not None:
                yield mk("levels-mapped-changed", f"{t1} vs {t2}'s samples x16", a1, x2)


def write_fixtures(root: str, dst: str) -> list[str]:
    """Write the small subset used by ``tests/compare/test_real_sources2.py`` into ``dst``.

    Run ``bench/bench_real.py`` (or :func:`gather`) first. Each file is a real capture as
    published, stored as PNG (lossless) or copied (JPEG), the T98G and yeast frames cut to
    their central 512x512 window. Returns the paths written.
    """
    src = os.path.join(root, "src2")
    out = []

    def put(name: str, img: np.ndarray) -> None:
        p = os.path.join(dst, name)
        cv2.imwrite(p, img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        out.append(p)

    tirf = _read(os.path.join(src, "acsn_tirf_200hz.tif"))
    if tirf is not None:
        put("acsn_tirf_t00.png", tirf[0])
        put("acsn_tirf_t01.png", tirf[1])
    for f, c in ((3, 0), (2, 2)):  # W2S: one called the same (aligned SSIM 0.93), a typical miss (0.83)
        for k in ("avg1", "avg400"):
            img = _read(os.path.join(src, f"w2s_{k}_{f:03d}_{c}.tif"))
            if img is not None:
                put(f"w2s_{k}_{f:03d}_{c}.png", img)
    for k in ("avg1", "avg400"):  # W2S field 68: a shot at SNR ~1 whose gain the mean carries
        img = _read(os.path.join(src, f"w2s_{k}_068_2.tif"))
        if img is not None:
            put(f"w2s_{k}_068_2_crop256.png", img[128:384, 128:384])
    for t in (1, 2):
        img = _read(os.path.join(src, f"t98g_t{t:02d}.tif"))
        if img is not None:
            h, w = img.shape
            put(f"t98g_t{t:02d}_crop512.png", img[h // 2 - 256:h // 2 + 256, w // 2 - 256:w // 2 + 256])
    for pos, t in ((12, 10), (12, 20), (4, 10)):  # yeast YFP, 16-bit, values ~240-850
        img = _read(os.path.join(src, f"rcell2_yfp_pos{pos:02d}_t{t}.tif"))
        if img is not None:
            h, w = img.shape
            put(f"rcell2_yfp_pos{pos:02d}_t{t}_crop512.png", img[h // 2 - 256:h // 2 + 256, w // 2 - 256:w // 2 + 256])
    n = "Canon80D_8_8_3200_ball_1"
    for k in ("real", "mean"):
        p = os.path.join(src, f"polyu_{n}_{k}.jpg")
        if os.path.exists(p):
            q = os.path.join(dst, f"polyu_{n}_{k}.jpg")
            with open(p, "rb") as fi, open(q, "wb") as fo:
                fo.write(fi.read())
            out.append(q)
    return out

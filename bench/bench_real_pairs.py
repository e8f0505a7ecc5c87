"""Real images for the real-data harness (issue 9): where they come from and the labelled pairs.

Every source image is a real capture (camera, microscope); none comes from our sensor model.
Derived copies (JPEG re-encodes, resized copies, crops, a pasted patch, dimmed objects, a blur)
are made here from those real pixels, each named by what was done. Sources and licences:
``fixtures/real/README.md``.

``build_cache(root)`` gathers the sources into ``root/src`` from

* the installed ``scikit-image`` package (its bundled ``skimage/data``, BSD-3-Clause);
* the ``mahotas`` wheel on PyPI (``mahotas/demos/data``, MIT) -- ``pip download mahotas``;
* git snapshots of public repositories under ``--mirrors`` (default ``/work/.mirror``), made
  with the search tool's ``fetch``: ``soft-matter/trackpy`` (BSD-3-Clause),
  ``mianalysis/mia-examples`` (Cell Image Library 11813, CC BY-NC-SA 3.0),
  ``imageio/imageio-binaries`` (BSD-2-Clause), ``csjunxu/MCWNNM-ICCV2017`` (the CC15 real-noise
  set of Nam et al. 2016, non-commercial research use) and
  ``csjunxu/PolyU-Real-world-Noisy-Image-Dataset`` (non-commercial research use).

A missing source is skipped with a note, never faked. ``labelled_pairs(root)`` writes the pair
files under ``root/pairs`` (deterministic, seed fixed) and yields :class:`RealPair`.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import zipfile

import cv2
import numpy as np

from bench_real_fetch import LabelledPair, webp_reencodes, write_webp
from bench_real_sources2 import DIFFERENT2, SAME2, labelled_pairs2  # more instruments and cameras

SAME = ("identical-file", "identical-pixels", "repeat", "shot-vs-mean", "reencode", "reencode-webp", "resized",
        "resized-nearest", "cropped-border") + SAME2
DIFFERENT = ("timelapse", "another-field", "another-scene", "local-change", "dimming", "refocus") + DIFFERENT2
CATEGORIES = SAME + DIFFERENT

SKIMAGE = ["astronaut.png", "brick.png", "camera.png", "cell.png", "chelsea.png", "coffee.png",
           "coins.png", "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png",
           "microaneurysms.png", "moon.png", "motorcycle_left.png", "motorcycle_right.png", "page.png",
           "retina.jpg", "rocket.jpg", "text.png"]
MIRRORS = {  # repository -> [(path in repo, name in src)]
    "soft-matter/trackpy": [("trackpy/tests/video/stuck.tif", "trackpy_stuck.tif"),
                            ("trackpy/tests/video/image_sequence/T76S3F00002.png", "trackpy_T76S3F00002.png"),
                            ("trackpy/tests/video/image_sequence/T76S3F00005.png", "trackpy_T76S3F00005.png")],
    "mianalysis/mia-examples": [("Ex2_ObjectTracking/Ex2_Cell-Image-Library-11813.tif", "cil11813_ysl_nuclei.tif")],
    "imageio/imageio-binaries": [("images/fei-sem-rbc.tif", "imageio_fei-sem-rbc.tif"),
                                 ("images/rommel.jpg", "imageio_rommel.jpg"),
                                 ("images/wood.jpg", "imageio_wood.jpg"),
                                 ("images/bricks.jpg", "imageio_bricks.jpg"),
                                 ("images/meadow_cube.jpg", "imageio_meadow_cube.jpg")],
    "csjunxu/MCWNNM-ICCV2017": [(f"Real_ccnoise_denoised_part/{c}_{k}.png", f"cc15_{c}_{k}.png")
                                for c in ("5dmark3_iso3200_1", "5dmark3_iso3200_2", "5dmark3_iso3200_3",
                                          "d600_iso3200_1", "d600_iso3200_2", "d600_iso3200_3",
                                          "d800_iso1600_1", "d800_iso1600_2", "d800_iso1600_3",
                                          "d800_iso3200_1", "d800_iso3200_2", "d800_iso3200_3",
                                          "d800_iso6400_1", "d800_iso6400_2", "d800_iso6400_3")
                                for k in ("real", "mean")],
    "csjunxu/PolyU-Real-world-Noisy-Image-Dataset": [("STJDD/DSC01764.JPG", "polyu_DSC01764.jpg"),
                                                     ("STJDD/DSC01814.JPG", "polyu_DSC01814.jpg")],
}


class RealPair(LabelledPair):
    SAME = SAME


def _git_show(mirror: str, path: str) -> bytes | None:
    for gd in (os.path.join(mirror, "repo"), os.path.join(mirror, "repo", ".git")):
        if os.path.isdir(gd):
            r = subprocess.run(["git", "--git-dir", gd, "show", f"HEAD:{path}"], capture_output=True, check=False)
            if r.returncode == 0:
                return r.stdout
    return None


def build_cache(root: str, *, mirrors: str = "/work/.mirror", log=print) -> None:
    """Gather the real source images into ``root/src`` (see the module docstring)."""
    src = os.path.join(root, "src")
    os.makedirs(src, exist_ok=True)
    import skimage
    skd = os.path.join(os.path.dirname(skimage.__file__), "data")
    for f in SKIMAGE:
        if os.path.exists(os.path.join(skd, f)):
            shutil.copyfile(os.path.join(skd, f), os.path.join(src, "skimage_" + f))
    wheels = glob.glob(os.path.join(root, "mahotas-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", root, "mahotas"],
                       capture_output=True, check=False)
        wheels = glob.glob(os.path.join(root, "mahotas-*.whl"))
    if wheels:
        with zipfile.ZipFile(wheels[0]) as z:
            for f in ("nuclear.png", "DepartmentStore.jpg", "luispedro.jpg"):
                with open(os.path.join(src, "mahotas_" + f), "wb") as fh:
                    fh.write(z.read(f"mahotas/demos/data/{f}"))
    else:
        log("note: mahotas wheel not available; its demo images are skipped")
    for repo, files in MIRRORS.items():
        mirror = os.path.join(mirrors, repo.replace("/", "+"))
        for path, name in files:
            data = _git_show(mirror, path)
            if data is None:
                log(f"note: {repo}:{path} not found under {mirrors} (fetch github:{repo}); skipped")
                continue
            with open(os.path.join(src, name), "wb") as fh:
                fh.write(data)


# --------------------------------------------------------------------------------------- pairs

def _read(path: str) -> np.ndarray:
    if path.endswith(".tif"):
        import tifffile
        return tifffile.imread(path)
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise OSError(f"cannot read {path}")
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    return img


def _png(path: str, img: np.ndarray, level: int = 3) -> str:
    if not os.path.exists(path):
        cv2.imwrite(path, img, [cv2.IMWRITE_PNG_COMPRESSION, level])
    return path


def _jpg(path: str, img: np.ndarray, q: int) -> str:
    if not os.path.exists(path):
        cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, q])
    return path


class _Writer:
    def __init__(self, root: str):
        self.dir = os.path.join(root, "pairs")
        os.makedirs(self.dir, exist_ok=True)

    def png(self, name, img, level=3):
        return _png(os.path.join(self.dir, name + ".png"), img, level)

    def jpg(self, name, img, q):
        return _jpg(os.path.join(self.dir, name + ".jpg"), img, q)

    def copy(self, name, src):
        dst = os.path.join(self.dir, name + os.path.splitext(src)[1])
        if not os.path.exists(dst):
            shutil.copyfile(src, dst)
        return dst


def _stills(src: str) -> dict[str, str]:
    """Single real images usable as a field: name -> path (PNG/JPEG as shipped)."""
    out = {}
    for p in sorted(glob.glob(os.path.join(src, "*"))):
        n = os.path.basename(p)
        if n.endswith((".png", ".jpg", ".tif")) and not n.startswith(("cc15_", "trackpy_", "cil")):
            out[os.path.splitext(n)[0]] = p
    for p in sorted(glob.glob(os.path.join(src, "cc15_*_mean.png"))):
        out[os.path.splitext(os.path.basename(p))[0]] = p
    return out


def _bright_blobs(img: np.ndarray, k: int, rng) -> list[np.ndarray]:
    """Masks of up to ``k`` distinct bright objects (Otsu on the smoothed luma, largest first)."""
    y = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    y = y.astype(np.float32)
    s = cv2.GaussianBlur(y, (0, 0), 2.0)
    s8 = cv2.normalize(s, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    _, th = cv2.threshold(s8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, lab, st, _ = cv2.connectedComponentsWithStats(th)
    area = st[1:, cv2.CC_STAT_AREA]
    ok = [i + 1 for i in np.argsort(-area) if 30 <= area[i] <= 0.02 * y.size]
    rng.shuffle(ok)
    return [cv2.dilate((lab == i).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0 for i in ok[:k]]


def _dim(img: np.ndarray, masks, factors, ring_px: int = 15) -> np.ndarray:
    """Objects dimmed towards the local background (the median of a ``ring_px`` ring around each)."""
    out = img.astype(np.float32)
    for m, f in zip(masks, factors):
        ring = cv2.dilate(m.astype(np.uint8), np.ones((ring_px, ring_px), np.uint8)).astype(bool) & ~m
        bg = np.median(out[ring], axis=0) if ring.any() else 0
        out[m] = bg + (out[m] - bg) * (1 - f)
    info = np.iinfo(img.dtype)
    return np.clip(np.rint(out), info.min, info.max).astype(img.dtype)


def labelled_pairs(root: str, *, quick: bool = False, seed: int = 9, mirrors: str = "/work/.mirror"):
    """Yield :class:`RealPair` for every category from the sources in ``root/src`` (and ``root/src2``)."""
    yield from _labelled_pairs1(root, quick=quick, seed=seed)
    yield from labelled_pairs2(root, quick=quick, mirrors=mirrors, pair=RealPair,
                               log=lambda m: print(m, file=sys.stderr))


def _labelled_pairs1(root: str, *, quick: bool = False, seed: int = 9):
    src = os.path.join(root, "src")
    w = _Writer(root)
    rng = np.random.default_rng(seed)
    stills = _stills(src)
    if quick:
        stills = {k: v for k, v in stills.items() if k in QUICK_STILLS}
    big = {k for k, v in stills.items() if os.path.getsize(v) > 1_000_000}

    stuck_p = os.path.join(src, "trackpy_stuck.tif")
    stuck = _read(stuck_p) if os.path.exists(stuck_p) else None
    ysl_p = os.path.join(src, "cil11813_ysl_nuclei.tif")
    ysl = _read(ysl_p) if os.path.exists(ysl_p) else None

    # identical-file / identical-pixels
    for n, p in stills.items():
        yield RealPair("identical-file", n, p, w.copy(f"{n}__copy", p))
        img = _read(p)
        if p.endswith(".png"):
            yield RealPair("identical-pixels", n, w.png(f"{n}__c1", img, 1), w.png(f"{n}__c9", img, 9))
        else:  # the JPEG against its decoded pixels stored losslessly
            yield RealPair("identical-pixels", n, p, w.png(f"{n}__decoded", img, 1))

    # repeat: frames of an unchanged field (16-bit, low contrast)
    frames = []
    if stuck is not None:
        frames = [w.png(f"stuck_t{i}", stuck[i]) for i in range(len(stuck))]
        for i in range(len(frames)):
            for j in range(i + 1, len(frames)):
                yield RealPair("repeat", f"stuck t{i}-t{j}", frames[i], frames[j])
                if quick:
                    break
            if quick:
                break

    # shot vs mean of many
    for p in sorted(glob.glob(os.path.join(src, "cc15_*_real.png"))):
        n = os.path.basename(p)[5:-9]
        yield RealPair("shot-vs-mean", f"cc15 {n}", p, p.replace("_real.png", "_mean.png"))
        if quick:
            break
    if stuck is not None:
        for i in range(len(stuck)):
            others = np.delete(stuck, i, axis=0).astype(np.float64).mean(axis=0)
            m = w.png(f"stuck_mean_without_t{i}", np.rint(others).astype(np.uint16))
            yield RealPair("shot-vs-mean", f"stuck t{i} vs mean of 4", frames[i], m)
            if quick:
                break

    # lossy re-encodes, q >= 70
    qs = (70, 75, 80, 85, 90, 95)
    for n, p in stills.items():
        img = _read(p)
        if img.dtype != np.uint8:
            continue
        for q in (qs if n not in big else (70, 95)):
            if quick and q not in (70,):
                continue
            yield RealPair("reencode", f"{n} q{q}", p, w.jpg(f"{n}__q{q}", img, q))
        if not quick:  # a lossy copy of a lossy copy
            yield RealPair("reencode", f"{n} q90 vs q70", w.jpg(f"{n}__q90", img, 90), w.jpg(f"{n}__q70", img, 70))
            yield from webp_reencodes(RealPair, w.dir, n, p, img)

    # resized copies >= 0.5x
    interps = {"area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4,
               "linear": cv2.INTER_LINEAR}
    for k, (n, p) in enumerate(stills.items()):
        img = _read(p)
        scales = (0.5, 0.6, 0.75, 0.8) if n not in big else (0.5,)
        for j, s in enumerate(scales if not quick else (0.5,)):
            iname = list(interps)[(j + k) % len(interps)]
            h, wd = img.shape[:2]
            r = cv2.resize(img, (round(wd * s), round(h * s)), interpolation=interps[iname])
            yield RealPair("resized", f"{n} {s:.2f}x {iname}", p, w.png(f"{n}__{s:.2f}{iname}", r))
        if not quick and n not in big:  # no prefilter at all (session 10): nearest neighbour at 0.9x and 0.6x
            h, wd = img.shape[:2]
            for s in (0.6, 0.9):
                r = cv2.resize(img, (round(wd * s), round(h * s)), interpolation=cv2.INTER_NEAREST)
                yield RealPair("resized-nearest", f"{n} {s:.2f}x nearest", p, w.png(f"{n}__{s:.2f}nearest", r))
    # copies with their border trimmed (session 11): 1-4 px off the sides, as PNG
    for k, (n, p) in enumerate(stills.items() if not quick else ()):
        img = _read(p)
        t = (1, 2, 3, 4)
        left, top, right, bottom = t[k % 4], t[(k + 1) % 4], t[(k + 2) % 4], t[(k + 3) % 4]
        h, wd = img.shape[:2]
        r = img[top:h - bottom, left:wd - right]
        yield RealPair("cropped-border", f"{n} trimmed {left},{top},{right},{bottom} px", p,
                       w.png(f"{n}__trim{left}{top}{right}{bottom}", r))
    if stuck is not None:
        r = cv2.resize(stuck[1], (256, 256), interpolation=cv2.INTER_AREA)
        yield RealPair("resized", "stuck t1 0.50x area (16-bit)", frames[0], w.png("stuck_t1__0.50area", r))

    # ---------------------------------------------------------------- different
    if ysl is not None:
        yf = [w.png(f"ysl_t{i:02d}", ysl[i]) for i in range(len(ysl))]
        for i in range(0, len(ysl) - 5, 3 if not quick else 100):
            for d in (1, 2, 5):
                yield RealPair("timelapse", f"ysl nuclei t{i}-t{i + d}", yf[i], yf[i + d])
        # the same frames as low-contrast 16-bit fluorescence (values 32978-36863, the span)
        for i in range(0, len(ysl) - 1, 4 if not quick else 100):
            lo = [w.png(f"ysl16_t{t:02d}", (32978 + ysl[t].astype(np.uint32) * 3885 // 255).astype(np.uint16))
                  for t in (i, i + 1)]
            yield RealPair("timelapse", f"ysl nuclei 16-bit low-contrast t{i}-t{i + 1}", lo[0], lo[1])
    tp = [os.path.join(src, f"trackpy_T76S3F0000{i}.png") for i in (2, 5)]
    if all(os.path.exists(p) for p in tp):
        yield RealPair("timelapse", "trackpy colloids F2-F5", tp[0], tp[1])

    # another field of the same specimen: windows of one capture offset by 12-40 %
    for n, p in stills.items():
        img = _read(p)
        h, wd = img.shape[:2]
        cw, ch = int(wd * 0.6), int(h * 0.6)
        for frac in ((0.12, 0.0), (0.0, 0.2), (0.3, 0.3)) if not quick else ((0.3, 0.3),):
            ox, oy = int(frac[0] * wd), int(frac[1] * h)
            a = img[0:ch, 0:cw]
            b = img[oy:oy + ch, ox:ox + cw]
            yield RealPair("another-field", f"{n} offset {frac[0]:.2f},{frac[1]:.2f}",
                           w.png(f"{n}__win0", a), w.png(f"{n}__win{ox}_{oy}", b))
    if ysl is not None:
        h, wd = ysl[0].shape
        a = ysl[0][:, : wd - 60]
        b = ysl[7][:, 60:]
        yield RealPair("another-field", "ysl t0 vs t7 panned 60 px", w.png("ysl_t0_left", a), w.png("ysl_t7_right", b))

    # another scene: two different captures at one size
    names = list(stills)
    order = rng.permutation(len(names))
    for i in range(0, len(order) - 1, 1 if not quick else 100):
        n1, n2 = names[order[i]], names[order[i + 1]]
        a, b = _read(stills[n1]), _read(stills[n2])
        if a.dtype != b.dtype:
            continue
        hh, ww = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        if a.ndim != b.ndim:
            a = a if a.ndim == 2 else cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
            b = b if b.ndim == 2 else cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
        yield RealPair("another-scene", f"{n1} vs {n2}", w.png(f"{n1}__cut{ww}x{hh}", a[:hh, :ww]),
                       w.png(f"{n2}__cut{ww}x{hh}", b[:hh, :ww]))

    # local change: a real patch of the same image pasted elsewhere (1.5-4 % of the frame),
    # into a noisy repeat where there is one
    def pasted(img, frac, r):
        h, wd = img.shape[:2]
        side = int(np.sqrt(frac * h * wd))
        for _ in range(50):
            sy, sx = r.integers(0, h - side), r.integers(0, wd - side)
            dy, dx = r.integers(0, h - side), r.integers(0, wd - side)
            if abs(sy - dy) > side or abs(sx - dx) > side:
                patch = img[sy:sy + side, sx:sx + side]
                dst = img[dy:dy + side, dx:dx + side]
                # a visible change: the smoothed patch differs from what it covers by 2 % of the
                # smoothed frame's range (noise pasted over noise is no change at all)
                sm = [cv2.GaussianBlur(x.astype(np.float32), (0, 0), 2.0) for x in (patch, dst, img)]
                span = float(np.percentile(sm[2], 99.5) - np.percentile(sm[2], 0.5))
                if np.abs(sm[0] - sm[1]).mean() > 0.02 * max(span, 1e-6):
                    out = img.copy()
                    out[dy:dy + side, dx:dx + side] = patch
                    return out
        return None
    for n, p in stills.items():
        img = _read(p)
        for frac in ((0.015, 0.04) if not quick else (0.04,)):
            b = pasted(img, frac, rng)
            if b is not None:
                bq = w.jpg(f"{n}__paste{frac}", b, 90) if img.dtype == np.uint8 else w.png(f"{n}__paste{frac}", b)
                yield RealPair("local-change", f"{n} patch {100 * frac:.1f} %{' (JPEG q90)' if bq.endswith('jpg') else ''}",
                               p, bq)
                if img.dtype == np.uint8 and not quick:  # the changed shot saved as a WebP
                    yield RealPair("local-change", f"{n} patch {100 * frac:.1f} % (WebP q85)", p,
                                   write_webp(w.dir, f"{n}__paste{frac}_webp85", b, 85))
    if stuck is not None:
        b = pasted(stuck[1], 0.02, rng)
        if b is not None:
            yield RealPair("local-change", "stuck t0 vs t1 with a patch", frames[0], w.png("stuck_t1__paste", b))
    for p in sorted(glob.glob(os.path.join(src, "cc15_*_real.png")))[: (1 if quick else 15)]:
        real = _read(p)
        b = pasted(_read(p.replace("_real.png", "_mean.png")), 0.02, rng)
        if b is not None:
            n = os.path.basename(p)[5:-9]
            yield RealPair("local-change", f"cc15 {n} shot vs mean with a patch", p, w.png(f"cc15_{n}__mean_paste", b))
        del real

    # dimming: a few objects 15-50 % dimmer (bleaching / focus drift), nothing moved
    dim_src = {n: p for n, p in stills.items() if n in DIM_STILLS}
    for n, p in dim_src.items():
        img = _read(p)
        masks = _bright_blobs(img, 3, rng)
        if not masks:
            continue
        for f in ((0.15, 0.3, 0.5) if not quick else (0.3,)):
            b = _dim(img, masks, [f] * len(masks))
            yield RealPair("dimming", f"{n} {len(masks)} objects -{100 * f:.0f} %", p, w.png(f"{n}__dim{f}", b))
    if ysl is not None:
        masks = _bright_blobs(ysl[3], 4, rng)
        for f in (0.2, 0.4):
            b = _dim(ysl[3], masks, [f] * len(masks))
            yield RealPair("dimming", f"ysl t3 {len(masks)} nuclei -{100 * f:.0f} %", yf[3], w.png(f"ysl_t3__dim{f}", b))

    # refocus: the same field defocused (Gaussian blur of the real pixels)
    for n, p in stills.items():
        img = _read(p)
        for s in ((1.5, 3.0) if not quick else (3.0,)):
            b = cv2.GaussianBlur(img, (0, 0), s)
            yield RealPair("refocus", f"{n} blur sigma {s}", p, w.png(f"{n}__blur{s}", b))
            if s == 1.5 and not quick and img.dtype == np.uint8:  # the defocused shot saved as a WebP
                yield RealPair("refocus", f"{n} blur sigma {s} (WebP q80)", p,
                               write_webp(w.dir, f"{n}__blur{s}_webp80", b, 80))
    if stuck is not None:
        b = cv2.GaussianBlur(stuck[1], (0, 0), 2.0)
        yield RealPair("refocus", "stuck t0 vs t1 defocused", frames[0], w.png("stuck_t1__blur2", b))


QUICK_STILLS = {"skimage_cell", "skimage_coffee", "mahotas_nuclear", "cc15_d800_iso3200_1_mean"}
DIM_STILLS = {"skimage_cell", "skimage_coins", "mahotas_nuclear", "imageio_fei-sem-rbc", "skimage_microaneurysms",
              "skimage_ihc", "skimage_hubble_deep_field", "skimage_moon"}

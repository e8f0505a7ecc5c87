"""The sixth held-out real split (``bench/bench_real_sources8.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by held-out splits 1-5.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather8`` expects, in the sources' storage types: 8- and 16-bit TIFF frames, a 34-page
16-bit z-series, an RGB TIFF, a 16-bit PNG, JPEG flat-field shots, JPEG photographs of one size per
panorama and one over 2 MP), so nothing is downloaded and no held-out pixel is looked at here: only the plumbing (source
lists, readers, crops, pair construction, categories, labels) is checked. No verdict is run on the
split.
"""
from __future__ import annotations

import collections
import os
import sys

import cv2
import numpy as np
import pytest
import tifffile

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
sys.path.insert(0, BENCH)

import bench_real_pairs  # noqa: E402
import bench_real_sources2  # noqa: E402
import bench_real_sources3  # noqa: E402
import bench_real_sources4  # noqa: E402
import bench_real_sources5  # noqa: E402
import bench_real_sources6  # noqa: E402
import bench_real_sources7  # noqa: E402
import bench_real_sources8 as s8  # noqa: E402

# stub shapes: the panorama shots share one size (their another-field pairs need it), the two
# spice photos differ (another-scene cuts to the smaller), DFM_4209 is over 2 MP (the large branch)
JPEG_SHAPES = {"skt_spices.jpg": (40, 56), "skt_spice_1.jpg": (36, 60), "skt_dfm_4209.jpg": (1400, 1500)}


def _stub_sources(src: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(8)
    written: dict[str, np.ndarray] = {}
    for files in s8.GIT8.values():
        for _, path, n in files:
            p = os.path.join(src, n)
            if n.endswith(".jpg"):
                img = rng.integers(0, 256, (*JPEG_SHAPES.get(n, (44, 30)), 3), dtype=np.uint8)
                cv2.imwrite(p, img)
            elif n == "bfa_bf_zstack.tif":  # ImageJ z-series: 34 pages
                img = rng.integers(800, 4500, (34, 24, 12), dtype=np.uint16)
                tifffile.imwrite(p, img, imagej=True)
            elif n == "skt_chromosomes.tif":  # RGB
                img = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
                tifffile.imwrite(p, img, photometric="rgb")
                img = img[:, :, ::-1]  # OpenCV reads it as BGR
            elif n.endswith(".png"):
                img = rng.integers(160, 2500, (48, 48), dtype=np.uint16)
                cv2.imwrite(p, img)
            else:
                sixteen = path.split("/")[-2] in ("hiv_motility", "projections")
                img = rng.integers(0, 65536 if sixteen else 256, (40, 48), dtype=np.uint16 if sixteen else np.uint8)
                tifffile.imwrite(p, img)
            written[n] = img
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split6", "src8", _stub_sources)


def test_readers_return_the_stored_values(stubbed):
    root, written = stubbed
    src = os.path.join(root, "src8")
    for n, img in written.items():
        if n.endswith(".jpg"):
            continue  # lossy: the stored pixels are the JPEG's, not the array written
        got = np.stack(s8.read_pages(os.path.join(src, n))) if n == "bfa_bf_zstack.tif" else s8.read_first(os.path.join(src, n))
        assert got is not None and got.dtype == img.dtype and np.array_equal(got, img), n
    assert s8.read_pages(os.path.join(src, "missing.tif")) == [] and s8.read_first(os.path.join(src, "missing.tif")) is None
    # the central window: an axis shorter than asked is kept whole
    a = np.arange(100).reshape(10, 10)
    assert np.array_equal(s8.centre(a, 4, 20), a[3:7, :])


def test_split6_pairs_build_from_stub_sources(stubbed):
    root, _ = stubbed
    notes: list[str] = []
    pairs = list(s8.labelled_pairs8(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 6 flat-field
    # bursts of 10 shots, one split in two (5 + 5), give 53 consecutive pairs, 4 of them left out
    # (the light changed); 6 micrograph
    # stills (3 of them 8-bit: 6 re-encodes + q90 vs q70 each), each resized 4 ways; 8 small photos
    # (copy, decode, q70/q80/q95, 0.5x and 0.75x) and one large (copy, decode, q70, q95, 0.5x);
    # 14 + 4 nuclei and 14 clonogenic frame pairs; 14 + 3 T-cell and 12 microglia frame pairs;
    # 8 + 5 + 5 focus pairs; 4 micrographs x 3 window offsets and 4 panorama neighbours; 3 scenes
    assert counts == {"repeat-flat": 49, "identical-file": 15, "identical-pixels": 15, "reencode": 47, "resized": 41,
                      "timelapse": 32, "timelapse-16bit": 29, "refocus": 18, "another-field": 16,
                      "another-scene": 3}, counts
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s8.SAME8)
    assert not set(s8.SAME8) & set(s8.DIFFERENT8)
    assert set(counts) == set(s8.CATEGORIES8)
    for p in pairs:
        a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
        if p.category in ("repeat-flat", "timelapse", "timelapse-16bit", "refocus", "another-field", "another-scene",
                          "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category == "timelapse-16bit":
            assert a.dtype == np.uint16, p
        if p.category == "identical-file":
            assert open(p.a, "rb").read() == open(p.b, "rb").read(), p
        if p.category == "identical-pixels":
            assert np.array_equal(a, b), p
        if p.category == "resized":  # 0.5-0.8x of the first side
            assert 0.45 <= b.shape[1] / a.shape[1] <= 0.85, p
        if p.category == "reencode":
            assert p.b.endswith(".jpg"), p
    # the z-series pairs are the planes named, 4, 6 and 8 apart
    z = np.stack(s8.read_pages(os.path.join(str(root), "src8", "bfa_bf_zstack.tif")))
    refocus = [p for p in pairs if p.category == "refocus"]
    assert sorted({int(p.b[-6:-4]) - int(p.a[-6:-4]) for p in refocus}) == [4, 6, 8]
    for p in refocus:
        assert np.array_equal(cv2.imread(p.a, cv2.IMREAD_UNCHANGED), z[int(p.a[-6:-4])]), p


def test_split6_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s8.labelled_pairs8(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s8.CATEGORIES8)
    assert len(pairs) < 40


def test_split6_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | set(bench_real_sources4.GIT4) | set(bench_real_sources4.FOCUS_STACKS) | set(bench_real_sources5.GIT5)
                 | set(bench_real_sources6.GIT6) | set(bench_real_sources7.GIT7)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising"})
    assert not {r.lower() for r in s8.GIT8} & {r.lower() for r in old_repos}
    # scikit-image's own repository and wheel (tuning set) are not the tutorials repository used here
    assert "scikit-image/scikit-image" not in {r.lower() for r in s8.GIT8}
    assert all(len(rev) == 40 for files in s8.GIT8.values() for rev, _, _ in files)  # pinned commits
    names = [n for files in s8.GIT8.values() for _, _, n in files]
    assert len(names) == len(set(names))  # one cache name per source file
    # every left-out flat-field pair is a consecutive pair of one burst
    consecutive = {(x, y) for bs in s8.BURSTS.values() for b in bs for x, y in zip(b, b[1:])}
    assert s8.LIGHT_CHANGED <= consecutive

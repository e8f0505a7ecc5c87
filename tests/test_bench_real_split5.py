"""The fifth held-out real split (``bench/bench_real_sources7.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by held-out splits 1-4.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather7`` expects, in the sources' storage types: 8- and 16-bit TIFFs, PyWavelets
``.npz`` arrays, SciPy's bz2 ``face.dat``, JPEG photographs), so nothing is downloaded and no
held-out pixel is looked at here: only the plumbing (source lists, readers, pair construction,
categories, labels) is checked. No verdict is run on the split.
"""
from __future__ import annotations

import bz2
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
import bench_real_sources7 as s7  # noqa: E402

# stub photographs: the another-scene pairs need two sizes (cut to the smaller one)
PHOTO_SHAPES = {"Picture_1A_by_freespace": (36, 44), "Picture_0B_by_freespace": (40, 52)}


def _stub_sources(src: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    written: dict[str, np.ndarray] = {}
    for _, path, n in s7.GIT7[s7.NEUBIAS_REPO]:
        if "16bit" in path or "12bit" in path:
            img = rng.integers(0, 4096 if "12bit" in path else 65536, (40, 48), dtype=np.uint16)
        else:
            img = rng.integers(0, 256, (40, 48), dtype=np.uint8)
        tifffile.imwrite(os.path.join(src, n), img)
        written[n] = img
    for members in s7.WHEELS7.values():
        for _, n in members:
            if n.endswith(".npz"):
                written[n] = rng.integers(0, 256, (32, 32), dtype=np.uint8)
                np.savez(os.path.join(src, n), data=written[n])
            else:  # face.dat: bz2 of 768x1024 RGB bytes
                rgb = rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8)
                open(os.path.join(src, n), "wb").write(bz2.compress(rgb.tobytes(), 1))
                written[n] = rgb[:, :, ::-1]
    for members in s7.DEB7.values():
        for _, n in members:
            shape = PHOTO_SHAPES.get(n[len("lomiri_"):-len(".jpg")], (48, 64))
            cv2.imwrite(os.path.join(src, n), rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split5", "src7", _stub_sources)


def test_readers_return_the_stored_values(stubbed):
    root, written = stubbed
    src = os.path.join(root, "src7")
    for n, img in written.items():
        p = os.path.join(src, n)
        got = s7.read_npz_image(p) if n.endswith(".npz") else s7.read_scipy_face(p) if n.endswith(".dat") else None
        if got is None and n.endswith(".tif"):
            got = tifffile.imread(p)
        assert got is not None and got.dtype == img.dtype and np.array_equal(got, img), n
    # the face reader gives SciPy's RGB order reversed (BGR, what OpenCV writes as RGB again)
    raw = np.frombuffer(bz2.decompress(open(os.path.join(src, "scipy_face.dat"), "rb").read()), np.uint8)
    assert s7.read_scipy_face(os.path.join(src, "scipy_face.dat"))[0, 0, 0] == raw[2]  # type: ignore[index]
    # each reader refuses another storage type and a missing file
    bad = os.path.join(str(root), "short.dat")
    open(bad, "wb").write(bz2.compress(b"\0" * 100))
    assert s7.read_scipy_face(bad) is None
    assert s7.read_scipy_face(os.path.join(src, "missing.dat")) is None
    assert s7.read_npz_image(os.path.join(src, "missing.npz")) is None
    np.savez(os.path.join(str(root), "float.npz"), data=np.zeros((4, 4)))
    assert s7.read_npz_image(os.path.join(str(root), "float.npz")) is None


def test_split5_pairs_build_from_stub_sources(stubbed):
    root, _ = stubbed
    notes: list[str] = []
    pairs = list(s7.labelled_pairs7(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 16 small stills
    # (5 + 8 NEUBIAS micrographs, 2 PyWavelets photos, SciPy's face) of which 8 are 8-bit (6
    # re-encodes + q90 vs q70 each) and all resized 4 ways; 6 photographs (copy, decode, q70, q95,
    # 0.5x); 5 micrographs x 3 window offsets; 2 specimen pairs; 15 + 7 movie pairs and INCENP t1
    # vs t70; 4 scene pairs
    assert counts == {"identical-file": 22, "identical-pixels": 22, "reencode": 68, "resized": 70,
                      "another-field": 15, "another-specimen": 2, "timelapse": 23, "another-scene": 4}, counts
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s7.SAME7)
    assert not set(s7.SAME7) & set(s7.DIFFERENT7)
    assert set(counts) == set(s7.CATEGORIES7)
    for p in pairs:
        a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
        if p.category in ("another-specimen", "another-scene", "timelapse", "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category == "identical-file":
            assert open(p.a, "rb").read() == open(p.b, "rb").read(), p
        if p.category == "identical-pixels":
            assert np.array_equal(a, b), p
        if p.category == "resized":  # 0.5-0.8x of the first side
            assert 0.45 <= b.shape[1] / a.shape[1] <= 0.85, p
        if p.category == "reencode":
            assert p.b.endswith(".jpg"), p


def test_split5_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s7.labelled_pairs7(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s7.CATEGORIES7)
    assert len(pairs) < 40


def test_split5_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | set(bench_real_sources4.GIT4) | set(bench_real_sources4.FOCUS_STACKS) | set(bench_real_sources5.GIT5)
                 | set(bench_real_sources6.GIT6)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising"})
    assert not {r.lower() for r in s7.GIT7} & {r.lower() for r in old_repos}
    old_debs = set(bench_real_sources3.DEB3) | set(bench_real_sources4.DEB4) | set(bench_real_sources5.DEB5)
    assert not set(s7.DEB7) & old_debs
    name = lambda spec: spec.split("==")[0].lower().replace("_", "-")  # noqa: E731
    old_wheels = {name(w) for w in (*bench_real_sources3.WHEELS3, *bench_real_sources5.WHEELS5)} | {"mahotas",
                                                                                                    "scikit-image"}
    assert not {name(w) for w in s7.WHEELS7} & old_wheels
    assert all("==" in w for w in s7.WHEELS7)  # pinned versions
    assert all(len(rev) == 40 for files in s7.GIT7.values() for rev, _, _ in files)  # pinned commits
    used = {m for members in s7.WHEELS7.values() for m, _ in members}
    # PyWavelets' camera is scikit-image's cameraman (tuning set); SciPy's ascent is PyWavelets' ascent
    assert "pywt/data/camera.npz" not in used and "scipy/misc/ascent.dat" not in used
    # the collection's low-contrast 16-bit micrographs in the span of issue 9's own example are left out
    paths = {p for _, p, _ in s7.GIT7[s7.NEUBIAS_REPO]}
    assert not any("scanR_datatype_issue" in p or "nuclei_various_shapes" in p for p in paths)

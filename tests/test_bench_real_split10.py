"""The tenth held-out real split (``bench/bench_real_sources12.py``) builds its pairs, and its
sources are new: none is used by the tuning set, by held-out splits 1-9 or by another bench.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather12`` expects, in the sources' storage types: grey JPEG holograms, 8-bit grey and
colour TIFF fibre-bundle images, 16-bit TIFF E. coli frames, 8-bit TIFF Cell Tracking Challenge
frames, colour JPEG micrographs), so nothing is downloaded and no held-out pixel is looked at here:
only the plumbing (source lists, pair construction, categories, labels) is checked. No verdict is
run on the split.
"""
from __future__ import annotations

import collections
import os
import sys

import cv2
import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
sys.path.insert(0, BENCH)

import bench_real_sources12 as s12  # noqa: E402

from tests.bench_splits import assert_sources_new  # noqa: E402

# stub shapes by cache-name prefix (equal within each pair the split makes, as in the real data)
MB_SHAPES = {1: (30, 40), 4: (30, 40), 2: (32, 40), 3: (32, 40), 5: (32, 40), 6: (36, 48)}


def _stub(name: str, rng: np.random.Generator) -> np.ndarray:
    if name.startswith("holo_ps_"):  # point-source hologram and its background: grey JPEG
        return rng.integers(0, 256, (44, 44), dtype=np.uint8)
    if name.startswith("holo_"):  # sphere hologram and the empty-field backgrounds: grey JPEG
        return rng.integers(0, 256, (40, 48), dtype=np.uint8)
    if name.startswith("pfb_bundle_colour"):  # colour fibre-bundle images: 8-bit RGB TIFF
        return rng.integers(0, 256, (35, 35, 3), dtype=np.uint8)
    if name.startswith("pfb_"):  # grey fibre-bundle images: 8-bit TIFF
        return rng.integers(0, 256, (48, 64), dtype=np.uint8)
    if name.startswith("ss_"):  # E. coli phase and fluorescence frames: 16-bit TIFF
        return rng.integers(300, 47000, (33, 36), dtype=np.uint16)
    if name.startswith("ctc_"):  # Cell Tracking Challenge frames: 8-bit TIFF, one shape a data set
        return rng.integers(0, 256, (36 + 2 * len(name) % 7, 40), dtype=np.uint8)
    k = int(name[len("mb_example"):-len(".jpg")])  # ESP32 micrographs: colour JPEG
    return rng.integers(0, 256, (*MB_SHAPES[k], 3), dtype=np.uint8)


def _read(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img


def _stub_sources(src: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12)
    written: dict[str, np.ndarray] = {}
    for files in s12.GIT12.values():
        for _, path, n in files:
            p = os.path.join(src, n)
            img = _stub(n, rng)
            assert cv2.imwrite(p, img), path
            written[n] = _read(p)  # as decoded (the JPEGs are lossy)
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split10", "src12", _stub_sources)


def test_split10_pairs_build_from_stub_sources(stubbed):
    root, written = stubbed
    notes: list[str] = []
    pairs = list(s12.labelled_pairs12(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): the 3 pairs of
    # the 3 backgrounds and each against the mean of the other two; a copy, a lossless re-save or
    # decode, q70/q80/q95, WebP q70/q85/q95 and 0.5x/0.75x of 8 8-bit stills (4 JPEG, 4 PNG) and a
    # copy, a 16-bit PNG and 4 sizes of 2 16-bit frames; the sphere against 3 backgrounds and the
    # point-source pair; 3 bundle pairs; 11 + 5 frame pairs of each E. coli channel; 3 CTC pairs;
    # 4 ESP32 pairs and the bundle's two specimens; 3 stills x 3 window offsets
    assert counts == {"repeat-holo": 3, "shot-vs-mean-holo": 3, "identical-file": 10, "identical-pixels": 10,
                      "reencode": 24, "reencode-webp": 24, "resized": 24, "holo-object": 4, "bundle-object": 3,
                      "timelapse-phase16": 16, "timelapse-fluo16": 16, "timelapse": 3, "another-specimen": 5,
                      "another-field": 9}, counts
    assert sum(counts.values()) == 154
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    assert not set(s12.SAME12) & set(s12.DIFFERENT12)
    assert set(counts) == set(s12.CATEGORIES12)
    src = os.path.join(root, "src12")
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s12.SAME12)
        a, b = _read(p.a), _read(p.b)
        if p.category in ("repeat-holo", "shot-vs-mean-holo", "holo-object", "bundle-object", "timelapse-phase16",
                          "timelapse-fluo16", "timelapse", "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category == "identical-file":
            assert open(p.a, "rb").read() == open(p.b, "rb").read(), p
        if p.category == "identical-pixels":
            assert np.array_equal(a, b), p
        if p.category == "resized":  # 0.5-0.8x of the first side
            assert 0.45 <= b.shape[1] / a.shape[1] <= 0.85, p
        if p.category == "reencode":
            assert p.b.endswith(".jpg"), p
        if p.category == "reencode-webp":
            assert p.b.endswith(".webp") and a.dtype == np.uint8, p
        if p.category.startswith("timelapse-"):  # frames as shipped, 5 or 10 apart, one channel
            c = s12.SS_CHANNELS[p.category.split("-")[1]]
            ta, tb = (int(os.path.basename(f)[4:7]) for f in (p.a, p.b))
            assert tb - ta in (5, 10) and p.a.endswith(f"_c{c}.tif") and p.b.endswith(f"_c{c}.tif"), p
            assert a.dtype == np.uint16, p
        if p.category == "repeat-holo":
            assert os.path.dirname(p.a) == os.path.dirname(p.b) == src, p
        if p.category == "shot-vs-mean-holo":  # the other two backgrounds' mean, rounded once
            n = os.path.basename(p.a)[len("holo_"):-len(".jpg")]
            rest = [written[f"holo_{m}.jpg"].astype(np.float64) for m in s12.HOLO_BGS if m != n]
            assert np.array_equal(b, np.rint((rest[0] + rest[1]) / 2).astype(np.uint8)), p
        if p.category == "bundle-object":  # the specimen's and the empty bundle's pixels as shipped
            obj, back = next((o, k) for o, k in s12.PFB_OBJECTS if p.name.endswith(f"({k})"))
            assert np.array_equal(a, s12.read_cv(os.path.join(src, f"pfb_{obj}.tif"))), p
            assert np.array_equal(b, s12.read_cv(os.path.join(src, f"pfb_{back}.tif"))), p


def test_split10_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s12.labelled_pairs12(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s12.CATEGORIES12)
    assert len(pairs) < 40


def test_split10_pair_lists():
    assert all(1 <= a < b <= 60 and b - a in (5, 10) for a, b in s12.SS_PAIRS)  # tryMe has frames 1-60
    assert len(set(s12.SS_PAIRS)) == len(s12.SS_PAIRS) == 16
    assert set(s12.SS_CHANNELS.values()) == {1, 2}
    assert all(1 <= a < b <= 6 for a, b in s12.MB_PAIRS)
    assert all(MB_SHAPES[a] == MB_SHAPES[b] for a, b in s12.MB_PAIRS)  # the real ones are of equal size too
    assert {b for _, backs in s12.HOLO_OBJECTS for b in backs} >= set(s12.HOLO_BGS)
    assert len({ds for ds, _, _ in s12.CTC_PAIRS}) == 3
    assert s12.ss(6, 2) == "ss_t006_c2.tif"


def test_split10_sources_are_new():
    assert_sources_new(12, "## Held-out split 10")
    # no Debian package or wheel: the split is git snapshots only
    assert not hasattr(s12, "DEB12") and not hasattr(s12, "WHEELS12")

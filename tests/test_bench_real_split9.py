"""The ninth held-out real split (``bench/bench_real_sources11.py``) builds its pairs, and its
sources are new: none is used by the tuning set, by held-out splits 1-8 or by another bench.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather11`` expects, in the sources' storage types: colour JPEG burst frames and 8-bit
RGB PNG tripod shots), so nothing is downloaded and no held-out pixel is looked at here: only the
plumbing (source lists, windows, pair construction, categories, labels) is checked. No verdict is
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

import bench_real_sources11 as s11  # noqa: E402

from tests.bench_splits import assert_sources_new  # noqa: E402

# the burst's windows shrunk to the stubs' size (the real ones are 1024x1024 in 4608x3456 frames)
STUB_WINDOWS = {"facade": (8, 4), "right": (40, 4), "lower": (8, 30)}
STUB_WINDOW = 24
REAL_WINDOWS, REAL_WINDOW = dict(s11.MIC_WINDOWS), s11.MIC_WINDOW  # before any test patches them


def _stub_sources(src: str) -> dict[str, object]:
    rng = np.random.default_rng(11)
    written: dict[str, object] = {}
    for files in s11.GIT11.values():
        for _, path, n in files:
            p = os.path.join(src, n)
            if n.startswith("mic_"):  # the phone's burst frames: colour JPEG
                written[n] = rng.integers(0, 256, (60, 72, 3), dtype=np.uint8)
            else:  # the tripod shots: 8-bit RGB PNG
                written[n] = rng.integers(0, 256, (34, 51, 3), dtype=np.uint8)
            cv2.imwrite(p, written[n])
            assert os.path.exists(p), path
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(s11, "MIC_WINDOWS", STUB_WINDOWS)
        mp.setattr(s11, "MIC_WINDOW", STUB_WINDOW)
        yield stub_tree(tmp_path_factory, "split9", "src11", _stub_sources)


def test_window():
    img = np.arange(100).reshape(10, 10)
    assert np.array_equal(s11.window(img, 3, 2, 4), img[2:6, 3:7])
    assert s11.hdr("street2", 128) == "hdr_street2_0128.png"


def test_split9_pairs_build_from_stub_sources(stubbed):
    root, written = stubbed
    notes: list[str] = []
    pairs = list(s11.labelled_pairs11(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 10 pairs of the
    # 5 burst frames x 3 windows; a copy, a lossless re-save or decode, q70/q80/q95 and 0.5x/0.75x
    # of 7 stills (6 tripod shots, 1 burst frame); 5 frame pairs of the two bursts; 5 living-room
    # view pairs; 3 day-night pairs; 2 scene pairs and 2 stills x 3 window offsets
    assert counts == {"repeat-photo": 30, "identical-file": 7, "identical-pixels": 7, "reencode": 21, "resized": 14,
                      "timelapse": 5, "another-view": 5, "day-night": 3, "another-scene": 2,
                      "another-field": 6}, counts
    assert sum(counts.values()) == 100
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    assert not set(s11.SAME11) & set(s11.DIFFERENT11)
    assert set(counts) == set(s11.CATEGORIES11)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s11.SAME11)
        a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
        if p.category in ("repeat-photo", "timelapse", "another-view", "day-night", "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category == "identical-file":
            assert open(p.a, "rb").read() == open(p.b, "rb").read(), p
        if p.category == "identical-pixels":
            assert np.array_equal(a, b), p
        if p.category == "resized":  # 0.5-0.75x of the first side
            assert 0.45 <= b.shape[1] / a.shape[1] <= 0.8, p
        if p.category == "reencode":
            assert p.b.endswith(".jpg"), p
        if p.category == "timelapse":  # frame k of the earlier burst against frame k of the later one
            assert "210944" in p.a and "210955" in p.b and p.a[-6:] == p.b[-6:], p
    # the repeated shots are the same window of the two burst frames named
    for p in pairs:
        if p.category == "repeat-photo":
            k0, k1 = (int(v) for v in p.name.split("frames ")[1].split(",")[0].split(" and "))
            x, y = STUB_WINDOWS[p.name.split(", ")[1].split()[0]]
            for path, k in ((p.a, k0), (p.b, k1)):
                frame = cv2.imread(os.path.join(root, "src11", f"mic_210955_b{k:02d}.jpg"), cv2.IMREAD_UNCHANGED)
                assert np.array_equal(cv2.imread(path, cv2.IMREAD_UNCHANGED),
                                      frame[y:y + STUB_WINDOW, x:x + STUB_WINDOW]), p


def test_split9_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s11.labelled_pairs11(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s11.CATEGORIES11)
    assert len(pairs) < 30


def test_split9_pair_lists():
    assert 1 not in s11.MIC_FRAMES and 2 not in s11.MIC_FRAMES and 3 not in s11.MIC_FRAMES  # other exposures
    assert all(1 <= k <= 20 for k in s11.MIC_FRAMES) and s11.MIC_PHOTO in s11.MIC_FRAMES
    assert REAL_WINDOW == 1024
    for x, y in REAL_WINDOWS.values():  # inside the 4608x3456 frames, and the windows do not overlap
        assert x + REAL_WINDOW <= 4608 and y + REAL_WINDOW <= 3456
    boxes = list(REAL_WINDOWS.values())
    for (x0, y0), (x1, y1) in [(boxes[i], boxes[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes))]:
        assert abs(x0 - x1) >= REAL_WINDOW or abs(y0 - y1) >= REAL_WINDOW
    for a, b in s11.VIEW_PAIRS:
        assert a in s11.HDR_SHOTS["living_room1"] and b in s11.HDR_SHOTS["living_room2"]
    assert set(s11.DAY_NIGHT) <= set(s11.HDR_SHOTS["street2"])
    for sc, d in s11.HDR_STILLS:
        assert d in s11.HDR_SHOTS[sc]


def test_split9_sources_are_new():
    assert_sources_new(11, "## Held-out split 9",
                       readme_allows="`michal2229/image-align-and-average` was fetched and not examined")
    # no Debian package or wheel: the split is git snapshots only
    assert not hasattr(s11, "DEB11") and not hasattr(s11, "WHEELS11")

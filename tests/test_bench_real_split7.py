"""The seventh held-out real split (``bench/bench_real_sources9.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by held-out splits 1-6.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather9`` expects, in the sources' storage types: JPEG shots of two sizes, a pair of
16-bit raw mosaics, 50-page 16-bit ImageJ stacks, an MP4 video as large as the source's region
needs and as long as its frames), so nothing is downloaded and no held-out pixel is looked at
here: only the plumbing (source lists, readers, colour planes, windows, pair construction,
categories, labels) is checked. No verdict is run on the split.
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
import bench_real_sources8  # noqa: E402
import bench_real_sources9 as s9  # noqa: E402

# the motion events of the traffic video in the source repository's own test notes
# (tests/resources/traffic_camera.txt): frames 10-148, 359-490 and 543-575 of 576
TRAFFIC_EVENTS = ((10, 148), (359, 490), (543, 575))


def _video_stub(path: str) -> dict[int, int]:
    """A 25 fps MP4 as large as the region needs, one grey level per frame inside the region."""
    x, y, w, h = s9.TRAFFIC_ROI
    last = max(t for pair in s9.TRAFFIC_STILL + s9.TRAFFIC_MOVED for t in pair)
    out = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 25, (x + w + 8, y + h + 8))
    levels = {}
    for t in range(last + 1):
        frame = np.full((y + h + 8, x + w + 8, 3), 90, np.uint8)
        levels[t] = 20 + (t * 37) % 200
        frame[y:y + h, x:x + w] = levels[t]
        out.write(frame)
    out.release()
    return levels


def _stub_sources(src: str) -> dict[str, object]:
    rng = np.random.default_rng(9)
    written: dict[str, object] = {}
    for _, _, n in s9.GIT9[s9.MS_REPO]:  # the still-life shots: one size
        cv2.imwrite(os.path.join(src, n), rng.integers(0, 256, (60, 90, 3), dtype=np.uint8))
    for _, _, n in s9.GIT9[s9.FS_REPO]:  # the focus stack: another size
        cv2.imwrite(os.path.join(src, n), rng.integers(0, 256, (30, 44, 3), dtype=np.uint8))
    for _, _, n in s9.GIT9[s9.NEIF_REPO]:  # raw Bayer mosaics
        written[n] = rng.integers(0, 10696, (40, 60), dtype=np.uint16)
        tifffile.imwrite(os.path.join(src, n), written[n])
    for _, _, n in s9.GIT9[s9.LYSO_REPO]:  # 50-frame ImageJ stacks
        written[n] = rng.integers(60, 18000, (s9.LYSO_FRAMES, 16, 20), dtype=np.uint16)
        tifffile.imwrite(os.path.join(src, n), written[n], imagej=True)
    (_, _, n), = s9.GIT9[s9.DVR_REPO]
    written[n] = _video_stub(os.path.join(src, n))
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split7", "src9", _stub_sources)


def test_readers_planes_and_windows(stubbed):
    root, written = stubbed
    src = os.path.join(root, "src9")
    for n, stack in written.items():
        if n.startswith("lyso_"):
            assert np.array_equal(np.stack(s9.read_pages(os.path.join(src, n))), stack), n
        elif n.startswith("neif_"):
            assert np.array_equal(s9.read_first(os.path.join(src, n)), stack), n
    # a colour plane is every second pixel of every second row, nothing interpolated
    mosaic = np.arange(48).reshape(6, 8)
    assert np.array_equal(s9.plane(mosaic, "g1"), mosaic[0::2, 1::2])
    assert np.array_equal(s9.plane(mosaic, "g2"), mosaic[1::2, 0::2])
    assert {s9.plane(mosaic, p)[0, 0] for p in s9.PLANES} == {0, 1, 8, 9}
    quarters = dict(s9.quarters(mosaic))
    assert list(quarters) == ["tl", "tr", "bl", "br"]
    assert np.array_equal(np.block([[quarters["tl"], quarters["tr"]], [quarters["bl"], quarters["br"]]]), mosaic)


def test_split7_pairs_build_from_stub_sources(stubbed):
    root, written = stubbed
    notes: list[str] = []
    pairs = list(s9.labelled_pairs9(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 6 pairs of the
    # 4 still shots, whole and 2 windows; 4 raw planes and 2 x 4 green quarters; 10 quiet road
    # windows; 4 photos (copy, decode, q70/q80/q95, WebP q70/q85/q95, 0.5x and 0.75x, nearest 0.6x and 0.9x) and 4 16-bit stills (copy,
    # re-save, 4 sizes); 10 lysosome stacks x 8 frame pairs; 10 road windows with vehicles; 11
    # focus pairs; 9 neighbouring lysosome stacks; 3 camera moves and 2 stills x 3 window offsets
    assert counts == {"repeat-photo": 18, "repeat-raw-video": 12, "repeat-video": 10, "identical-file": 8,
                      "identical-pixels": 8, "reencode": 12, "reencode-webp": 12, "resized": 24, "resized-nearest": 8, "timelapse-16bit": 80,
                      "timelapse-video": 10, "refocus": 11, "another-stack": 9, "another-field": 9}, counts
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    assert not set(s9.SAME9) & set(s9.DIFFERENT9)
    assert set(counts) == set(s9.CATEGORIES9)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s9.SAME9)
        a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
        if p.category in ("repeat-photo", "repeat-raw-video", "repeat-video", "timelapse-16bit", "timelapse-video",
                          "refocus", "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category in ("repeat-raw-video", "timelapse-16bit"):
            assert a.dtype == np.uint16, p
        if p.category == "identical-file":
            assert open(p.a, "rb").read() == open(p.b, "rb").read(), p
        if p.category == "identical-pixels":
            assert np.array_equal(a, b), p
        if p.category in ("resized", "resized-nearest"):  # 0.5-0.9x of the first side
            assert 0.45 <= b.shape[1] / a.shape[1] <= 0.95, p
        if p.category == "reencode":
            assert p.b.endswith(".jpg"), p
        if p.category == "reencode-webp":  # a lossy WebP of the first side's pixels
            assert open(p.b, "rb").read(16)[8:16] == b"WEBPVP8 " and a.shape[:2] == b.shape[:2], p
    # the raw planes are taken from the two frames as stored
    f0, f1 = written["neif_frame0.tif"], written["neif_frame1.tif"]
    for p in pairs:
        if p.category == "repeat-raw-video" and "quarter" not in p.name:
            name = p.name.rsplit(", ", 1)[1].split()[0]
            assert np.array_equal(cv2.imread(p.a, cv2.IMREAD_UNCHANGED), s9.plane(f0, name)), p
            assert np.array_equal(cv2.imread(p.b, cv2.IMREAD_UNCHANGED), s9.plane(f1, name)), p
    # the lysosome pairs are the frames named, of one cell
    stack = written["lyso_03.tif"]
    for p in pairs:
        if p.category == "timelapse-16bit" and "stack 3," in p.name:
            t0, t1 = (int(v) for v in p.name.split("frames ")[1].split(" and "))
            assert np.array_equal(cv2.imread(p.a, cv2.IMREAD_UNCHANGED), stack[t0]), p
            assert np.array_equal(cv2.imread(p.b, cv2.IMREAD_UNCHANGED), stack[t1]), p
    # the video windows are the region of the frames named (the stub's grey level identifies a frame)
    x, y, w, h = s9.TRAFFIC_ROI
    levels = written["dvr_traffic_camera.mp4"]
    for p in pairs:
        if p.category in ("repeat-video", "timelapse-video"):
            t0, t1 = (int(v) for v in p.name.split("frames ")[1].split(" (")[0].split(" and "))
            a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
            assert a.shape == (h, w, 3), p
            assert abs(float(np.median(a)) - levels[t0]) < 6 and abs(float(np.median(b)) - levels[t1]) < 6, p


def test_split7_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s9.labelled_pairs9(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s9.CATEGORIES9)
    assert len(pairs) < 40


def test_split7_pair_lists():
    # frame pairs inside the stacks and the video; still pairs between motion events, moving pairs in one
    assert all(0 <= t and t + lag < s9.LYSO_FRAMES and lag >= 5 for t, lag in s9.LYSO_PAIRS)
    in_event = lambda t: any(a <= t <= b for a, b in TRAFFIC_EVENTS)  # noqa: E731
    assert not any(in_event(t) for pair in s9.TRAFFIC_STILL for t in pair)
    assert all(in_event(a) or in_event(b) for a, b in s9.TRAFFIC_MOVED)
    assert all(0 <= i < j < len(s9.FS_SHOTS) and j - i >= 4 for i, j in s9.FS_PAIRS)
    assert s9.FS_STILL in s9.FS_SHOTS
    assert set(s9.MS_STILL) < set(s9.MS_SHOTS) and all(a in s9.MS_SHOTS and b in s9.MS_SHOTS for a, b in s9.MS_MOVED)
    assert not set(s9.MS_STILL) & {k for pair in s9.MS_MOVED for k in pair} - {4}  # only shot 4 is in both


def test_split7_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | set(bench_real_sources4.GIT4) | set(bench_real_sources4.FOCUS_STACKS) | set(bench_real_sources5.GIT5)
                 | set(bench_real_sources6.GIT6) | set(bench_real_sources7.GIT7) | set(bench_real_sources8.GIT8)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising",
                    "scikit-image/scikit-image"})
    assert not {r.lower() for r in s9.GIT9} & {r.lower() for r in old_repos}
    assert all(len(rev) == 40 for files in s9.GIT9.values() for rev, _, _ in files)  # pinned commits
    names = [n for files in s9.GIT9.values() for _, _, n in files]
    assert len(names) == len(set(names))  # one cache name per source file
    # no Debian package or wheel: the split is git snapshots only (none of the earlier packages)
    assert not hasattr(s9, "DEB9") and not hasattr(s9, "WHEELS9")

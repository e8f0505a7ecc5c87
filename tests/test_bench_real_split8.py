"""The eighth held-out real split (``bench/bench_real_sources10.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by held-out splits 1-7.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather10`` expects, in the sources' storage types: JPEG shots and photographs, RGB and
grey TIFF frames with the movie's byte-identical duplicates, 8- and 16-bit stills, a Princeton
Instruments SPE stack and a Phantom cine recording written here byte by byte), so nothing is
downloaded and no held-out pixel is looked at here: only the plumbing (source lists, readers,
windows, pair construction, categories, labels) is checked. No verdict is run on the split.
"""
from __future__ import annotations

import collections
import os
import shutil
import struct
import sys

import cv2
import numpy as np
import pytest

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
import bench_real_sources9  # noqa: E402
import bench_real_sources10 as s10  # noqa: E402

# the shots' windows shrunk to the stubs' size (the real ones are 1024x1024 in 2736x3648 upright shots)
STUB_WINDOWS = {"doors": (8, 4), "porch": (30, 20)}
STUB_WINDOW = 24
REAL_WINDOWS, REAL_WINDOW = dict(s10.ELV_WINDOWS), s10.ELV_WINDOW  # before any test patches them


def write_spe(path: str, frames: np.ndarray) -> None:
    """An SPE file (version 2 header of 4100 bytes) of uint16 ``frames`` (n, h, w)."""
    header = bytearray(4100)
    n, h, w = frames.shape
    struct.pack_into("<H", header, 42, w)
    struct.pack_into("<h", header, 108, 3)  # unsigned 16-bit
    struct.pack_into("<H", header, 656, h)
    struct.pack_into("<i", header, 1446, n)
    with open(path, "wb") as fh:
        fh.write(bytes(header) + frames.astype("<u2").tobytes())


def write_cine(path: str, frames: np.ndarray) -> None:
    """A Phantom cine file of uint16 ``frames`` (n, h, w): header, bitmap header, image offsets,
    and each image as an 8-byte annotation block and its rows bottom-up (a positive height)."""
    n, h, w = frames.shape
    off_header, off_offsets = 44, 44 + 40
    first = off_offsets + 8 * n
    size = 8 + 2 * w * h
    head = struct.pack("<2sHHHiIiIIIIII", b"CI", 44, 0, 1, 0, n, 0, n, off_header, 0, off_offsets, 0, 0)  # + trigger time
    bitmap = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 16, 0, 2 * w * h, 0, 0, 0, 4096)
    offsets = struct.pack(f"<{n}q", *(first + k * size for k in range(n)))
    images = b"".join(struct.pack("<II", 8, 0) + f[::-1].astype("<u2").tobytes() for f in frames)
    with open(path, "wb") as fh:
        fh.write(head + bitmap + offsets + images)


def _stub_sources(src: str) -> dict[str, object]:
    rng = np.random.default_rng(10)
    written: dict[str, object] = {}
    for _, _, n in s10.GIT10[s10.ELV_REPO]:  # the night shots: colour JPEG
        written[n] = rng.integers(0, 256, (60, 90, 3), dtype=np.uint8)
        cv2.imwrite(os.path.join(src, n), written[n])
    for _, path, n in s10.GIT10[s10.CP_REPO]:
        p = os.path.join(src, n)
        if n.startswith("cp_fly_"):  # RGB movie frames; a duplicate is a byte copy of the file before
            seq, t = int(n[8]), int(n[11:13])
            if any(t == b for _, b in s10.FLY_DUPLICATES):
                shutil.copyfile(os.path.join(src, f"cp_fly_s{seq}_t{t - 1:02d}.tif"), p)
            else:
                cv2.imwrite(p, rng.integers(0, 256, (26, 54, 3), dtype=np.uint8))
        elif n.endswith(".jpg"):  # photographs
            cv2.imwrite(p, rng.integers(0, 256, (40, 64, 3), dtype=np.uint8))
        elif n.startswith(("cp_transfluor_", "cp_human_", "cp_comet_")):  # 8-bit grey micrographs
            cv2.imwrite(p, rng.integers(0, 256, (32, 40), dtype=np.uint8))
        else:  # 16-bit stills
            cv2.imwrite(p, rng.integers(200, 4096, (30, 36), dtype=np.uint16))
        assert os.path.exists(p), path
    written["spe"] = rng.integers(100, 8000, (5, 12, 16), dtype=np.uint16)
    write_spe(os.path.join(src, "pims_spestack_test.spe"), written["spe"])
    written["cine"] = rng.integers(50, 3036, (15, 20, 24), dtype=np.uint16)
    write_cine(os.path.join(src, "pims_cine_781.cine"), written["cine"])
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(s10, "ELV_WINDOWS", STUB_WINDOWS)
        mp.setattr(s10, "ELV_WINDOW", STUB_WINDOW)
        yield stub_tree(tmp_path_factory, "split8", "src10", _stub_sources)


def test_readers(stubbed):
    root, written = stubbed
    src = os.path.join(root, "src10")
    assert np.array_equal(np.stack(s10.read_spe(os.path.join(src, "pims_spestack_test.spe"))), written["spe"])
    # the cine rows are stored bottom-up; the reader gives them top row first, as written
    assert np.array_equal(np.stack(s10.read_cine(os.path.join(src, "pims_cine_781.cine"))), written["cine"])
    assert s10.read_spe(os.path.join(src, "missing.spe")) == [] and s10.read_cine(os.path.join(src, "x.cine")) == []
    assert s10.read_cine(os.path.join(src, "pims_spestack_test.spe")) == []  # not a cine file
    img = np.arange(100).reshape(10, 10)
    assert np.array_equal(s10.window(img, 3, 2, 4), img[2:6, 3:7])


def test_split8_pairs_build_from_stub_sources(stubbed):
    root, written = stubbed
    notes: list[str] = []
    pairs = list(s10.labelled_pairs10(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 15 pairs of the
    # 6 night shots x 2 windows; 6 pairs of SPE frames 1-4; 2 duplicated files x 3 sequences and a
    # copy of 3 photos and 7 stills; 3 photos (decode, q70/q80/q95, WebP q70/q85/q95, 0.5x and 0.75x,
    # nearest 0.6x and 0.9x), 3 8-bit stills (re-save, q70/q80/q95, 0.5x and 0.75x) and 4 16-bit
    # stills (re-save, 4 sizes); 3 sequences x 8 frame pairs and the wound well; 14 cine pairs; 12
    # Transfluor wells, the colocalisation fields and 2 stills x 3 window offsets
    assert counts == {"repeat-photo": 30, "repeat-spe": 6, "identical-file": 16, "identical-pixels": 10,
                      "reencode": 18, "reencode-webp": 9, "resized-nearest": 6, "resized": 28, "timelapse": 25,
                      "timelapse-highspeed": 14, "another-field": 19}, counts
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    assert not set(s10.SAME10) & set(s10.DIFFERENT10)
    assert set(counts) == set(s10.CATEGORIES10)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s10.SAME10)
        a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
        if p.category in ("repeat-photo", "repeat-spe", "timelapse", "timelapse-highspeed", "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category in ("repeat-spe", "timelapse-highspeed"):
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
    # the repeated shots are the same window of the two shots named
    for p in pairs:
        if p.category == "repeat-photo":
            k0, k1 = (int(v) for v in p.name.split("shots ")[1].split(",")[0].split(" and "))
            x, y = STUB_WINDOWS[p.name.split(", ")[1].split()[0]]
            for path, k in ((p.a, k0), (p.b, k1)):
                shot = cv2.imread(os.path.join(root, "src10", f"elv_img_{k}.jpg"))
                assert np.array_equal(cv2.imread(path), shot[y:y + STUB_WINDOW, x:x + STUB_WINDOW]), p
    # the SPE and cine pairs are the frames named, never the SPE's dark frame 0
    for p in pairs:
        if p.category in ("repeat-spe", "timelapse-highspeed"):
            t0, t1 = (int(v) for v in p.name.split("frames ")[1].split(" and "))
            frames = written["spe" if p.category == "repeat-spe" else "cine"]
            assert np.array_equal(cv2.imread(p.a, cv2.IMREAD_UNCHANGED), frames[t0]), p
            assert np.array_equal(cv2.imread(p.b, cv2.IMREAD_UNCHANGED), frames[t1]), p
            assert p.category != "repeat-spe" or 0 not in (t0, t1)


def test_split8_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s10.labelled_pairs10(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s10.CATEGORIES10)
    assert len(pairs) < 40


def test_split8_pair_lists():
    assert all(0 <= a < b < 15 and b - a >= 3 for a, b in s10.CINE_PAIRS)  # cine_781 has 15 frames
    assert len(set(s10.CINE_PAIRS)) == len(s10.CINE_PAIRS)
    assert all(0 <= t and t + lag < s10.FLY_FRAMES and lag >= 3 for t, lag in s10.FLY_PAIRS)
    assert all(b == a + 1 for a, b in s10.FLY_DUPLICATES)
    assert 0 not in s10.SPE_FRAMES  # the dark frame
    assert REAL_WINDOW == 1024
    for x, y in REAL_WINDOWS.values():  # inside the shots turned upright by their EXIF orientation: 2736x3648
        assert x + REAL_WINDOW <= 2736 and y + REAL_WINDOW <= 3648


def test_split8_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | set(bench_real_sources4.GIT4) | set(bench_real_sources4.FOCUS_STACKS) | set(bench_real_sources5.GIT5)
                 | set(bench_real_sources6.GIT6) | set(bench_real_sources7.GIT7) | set(bench_real_sources8.GIT8)
                 | set(bench_real_sources9.GIT9)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising",
                    "scikit-image/scikit-image", "soft-matter/trackpy", "soft-matter/trackpy-examples"})
    assert not {r.lower() for r in s10.GIT10} & {r.lower() for r in old_repos}
    assert all(len(rev) == 40 for files in s10.GIT10.values() for rev, _, _ in files)  # pinned commits
    names = [n for files in s10.GIT10.values() for _, _, n in files]
    assert len(names) == len(set(names))  # one cache name per source file
    # pims' own copies of trackpy's data (stuck.tif, bulk-water.mov) are not used
    assert not any("stuck" in path or "bulk-water" in path for _, path, _ in s10.GIT10[s10.PIMS_REPO])
    # the illumination-correction image whose values span issue 9's own example is not used
    assert not any("cherry" in path for files in s10.GIT10.values() for _, path, _ in files)
    # no Debian package or wheel: the split is git snapshots only (none of the earlier packages)
    assert not hasattr(s10, "DEB10") and not hasattr(s10, "WHEELS10")

"""The eleventh held-out real split (``bench/bench_real_sources13.py``) builds its pairs, and its
sources are new: none is used by the tuning set, by held-out splits 1-10 or by another bench.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather13`` expects, in the sources' storage types: 8-bit grey PNG frames and means of
the FMD test set, 16-bit PNG and 16-bit TIFF fields of BBBC006; the FMD means of 50 that the
repository ships as byte-identical copies and the two widefield raw files it ships with the same
pixels are stubbed that way too), so nothing is downloaded and no held-out pixel is looked at
here: only the plumbing (source lists, pair construction, categories, labels) is checked. No
verdict is run on the split. The byte-hash and thumbnail comparison of the real source files with
the other splits' caches was made when the split was built (``fixtures/real/README.md``).
"""
from __future__ import annotations

import collections
import os
import shutil
import sys

import cv2
import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
sys.path.insert(0, BENCH)

import bench_real_sources13 as s13  # noqa: E402

from tests.bench_splits import assert_sources_new  # noqa: E402


def _stub(name: str, rng: np.random.Generator) -> np.ndarray:
    if name.startswith("fmd_"):  # FMD test frames and means: 8-bit grey PNG, 512x512 in the real set
        return rng.integers(0, 256, (40, 48), dtype=np.uint8)
    if name.startswith("bbbc006_"):  # BBBC006 U2OS fields: 16-bit PNG (plane 10) and TIFF (plane 0), 696x520
        return rng.integers(100, 4096, (39, 52), dtype=np.uint16)
    raise AssertionError(name)


def _read(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img


def _stub_sources(src: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(13)
    written: dict[str, np.ndarray] = {}
    for files in s13.GIT13.values():
        for _, path, n in files:
            p = os.path.join(src, n)
            assert cv2.imwrite(p, _stub(n, rng)), path
            written[n] = _read(p)
    for c in s13.GT_DUPLICATES:  # shipped as byte-identical copies
        shutil.copyfile(os.path.join(src, s13.fmd("gt", c, 1)), os.path.join(src, s13.fmd("gt", c, 2)))
    c, i, j = s13.SAME_PIXELS_FMD  # shipped as two files with the same pixels (other bytes)
    cv2.imwrite(os.path.join(src, s13.fmd("raw", c, j)), written[s13.fmd("raw", c, i)],
                [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split11", "src13", _stub_sources)


def test_split11_pairs_build_from_stub_sources(stubbed):
    root, _ = stubbed
    notes: list[str] = []
    pairs = list(s13.labelled_pairs13(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 31 repeated raw
    # frames, 21 frames against the mean of 50 and 24 against a mean of 16, 10 means of 16 against
    # the mean of 50; 3 shipped duplicates and
    # 2 copies; 1 shipped same-pixels pair, a PNG re-save and a TIFF's pixels as PNG; q70/q85/q95,
    # WebP q80 and 0.5x/0.75x of 4 8-bit stills and 0.6x/0.8x of a 16-bit one; 7 stain pairs and 3
    # specimen pairs (means and raw frames each); 7 instrument pairs and 8 in-focus well pairs; 12
    # out-of-focus well pairs; 1 refocus
    assert counts == {"repeat-fluo": 31, "shot-vs-mean-fluo": 21, "shot-vs-mean16-fluo": 24, "mean-vs-mean-fluo": 10,
                      "identical-file": 5, "identical-pixels": 3, "reencode": 12, "reencode-webp": 4, "resized": 10,
                      "another-channel": 14, "another-specimen": 6, "another-field": 15,
                      "another-field-defocus": 12, "refocus": 1}, counts
    assert sum(counts.values()) == 168
    derived = sum(counts[k] for k in ("reencode", "reencode-webp", "resized")) + 4  # + copies and re-saves
    assert derived * 3 <= len(pairs)  # derived copies are at most a third of the split
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    assert not set(s13.SAME13) & set(s13.DIFFERENT13)
    assert set(counts) == set(s13.CATEGORIES13)
    src = os.path.join(root, "src13")
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s13.SAME13)
        a, b = _read(p.a), _read(p.b)
        if p.category in ("repeat-fluo", "shot-vs-mean-fluo", "shot-vs-mean16-fluo", "mean-vs-mean-fluo",
                          "another-channel", "another-specimen", "another-field", "another-field-defocus", "refocus",
                          "identical-pixels"):
            assert a.shape == b.shape and a.dtype == b.dtype, p
        if p.category in ("repeat-fluo", "shot-vs-mean-fluo", "shot-vs-mean16-fluo", "mean-vs-mean-fluo",
                          "another-channel", "another-specimen", "another-field-defocus", "refocus"):
            assert os.path.dirname(p.a) == os.path.dirname(p.b) == src, p  # files as shipped
        if p.category == "identical-file":
            assert open(p.a, "rb").read() == open(p.b, "rb").read(), p
        if p.category == "identical-pixels":
            assert np.array_equal(a, b), p
        if p.category == "resized":  # 0.5-0.8x of the first side
            assert 0.45 <= b.shape[1] / a.shape[1] <= 0.85, p
        if p.category == "reencode":
            assert p.b.endswith(".jpg") and a.dtype == np.uint8, p
        if p.category == "reencode-webp":
            assert p.b.endswith(".webp") and a.dtype == np.uint8, p
        if p.category == "repeat-fluo":  # two raw frames of one configuration
            ca, cb = (os.path.basename(f)[len("fmd_raw_"):-len("_1.png")] for f in (p.a, p.b))
            assert ca == cb and p.a != p.b, p
        if p.category in ("shot-vs-mean-fluo", "mean-vs-mean-fluo"):  # against that configuration's mean of 50
            kind = "raw" if p.category == "shot-vs-mean-fluo" else "avg16"
            c = os.path.basename(p.a)[len(f"fmd_{kind}_"):-len("_1.png")]
            assert os.path.basename(p.b) == s13.fmd("gt", c, 1), p
        if p.category == "shot-vs-mean16-fluo":  # against that configuration's mean of 16
            c = os.path.basename(p.a)[len("fmd_raw_"):-len("_1.png")]
            assert os.path.basename(p.b) == s13.fmd("avg16", c, dict(s13.MEAN16_FMD)[c]), p
        if p.category == "refocus":
            assert p.a.endswith(s13.bbbc("a01")) and p.b.endswith(s13.z00("a01_s1")), p
            assert a.dtype == b.dtype == np.uint16, p


def test_split11_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s13.labelled_pairs13(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s13.CATEGORIES13)
    assert len(pairs) < 45


def test_split11_pair_lists():
    configs = set(s13.FMD_CONFIGS)
    assert "Confocal_BPAE_B" not in configs  # split 1's field 19, byte for byte
    assert all(c in configs and 1 <= i < j <= 4 for c, i, j in s13.REPEAT_FMD)
    assert len(set(s13.REPEAT_FMD)) == len(s13.REPEAT_FMD) == 31
    assert all(c in configs and 1 <= k <= 4 for c, k in s13.SHOT_MEAN_FMD + s13.SHOT_MEAN16_FMD + s13.MEAN16_FMD)
    assert {c for c, _ in s13.SHOT_MEAN16_FMD} <= {c for c, _ in s13.MEAN16_FMD}
    assert len({c for c, _ in s13.MEAN16_FMD}) == len(s13.MEAN16_FMD)  # one mean of 16 per configuration
    assert not any(c == "TwoPhoton_MICE" for c, *_ in s13.REPEAT_FMD + s13.SHOT_MEAN_FMD + s13.SHOT_MEAN16_FMD
                   + s13.MEAN16_FMD)
    c, i, j = s13.SAME_PIXELS_FMD  # the shipped same-pixels raw file is in no repeat or shot pair
    assert (c, i, j) not in s13.REPEAT_FMD and (c, j) not in s13.SHOT_MEAN_FMD + s13.SHOT_MEAN16_FMD
    assert not any(cc == c and j in (a, b) for cc, a, b in s13.REPEAT_FMD)
    for pairs in (s13.CHANNEL_PAIRS, s13.SPECIMEN_PAIRS, s13.INSTRUMENT_PAIRS):
        assert all(a in configs and b in configs and a != b for a, b in pairs)
    assert all(a.split("_")[0] == b.split("_")[0] for a, b in s13.CHANNEL_PAIRS)  # one microscope
    assert all(a.split("_")[0] != b.split("_")[0] for a, b in s13.INSTRUMENT_PAIRS)  # two microscopes
    assert all(a in s13.BBBC_WELLS and b in s13.BBBC_WELLS and a != b for a, b in s13.BBBC_FIELD_PAIRS)
    assert all(a in s13.BBBC_Z00 and b in s13.BBBC_Z00 and a[:3] != b[:3] for a, b in s13.DEFOCUS_PAIRS)
    assert s13.fmd("gt", "Confocal_FISH", 1) == "fmd_gt_Confocal_FISH_1.png"


def test_split11_sources_are_new():
    assert_sources_new(13, "## Held-out split 11")
    # the FMD test field of Confocal_BPAE_B (split 1's field 19) is not fetched
    assert not any("Confocal_BPAE_B" in path for files in s13.GIT13.values() for _, path, _ in files)
    # no Debian package or wheel: the split is git snapshots only
    assert not hasattr(s13, "DEB13") and not hasattr(s13, "WHEELS13")

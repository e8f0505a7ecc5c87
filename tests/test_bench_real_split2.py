"""The second held-out real split (``bench/bench_real_sources4.py``) builds its pairs, and its
sources are new: none is used by the tuning set or by the first held-out split.

The pairs are built from stub files standing in for every source file (small random images under
the names ``gather4`` expects), so nothing is downloaded and no held-out pixel is looked at here:
only the plumbing (source lists, pair construction, categories) is checked.
"""
from __future__ import annotations

import os
import sys

import cv2
import numpy as np
import tifffile

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
sys.path.insert(0, BENCH)

import bench_real_pairs  # noqa: E402
import bench_real_sources2  # noqa: E402
import bench_real_sources3  # noqa: E402
import bench_real_sources4 as s4  # noqa: E402


def _stub_sources(src: str) -> None:
    rng = np.random.default_rng(4)
    names = [n for members in s4.DEB4.values() for _, n in members]
    names += [n for files in s4.GIT4.values() for _, _, n in files]
    for n in names:
        p = os.path.join(src, n)
        if n.endswith(".mpeg"):
            open(p, "wb").write(b"not a video")  # no frames decode: its pairs are skipped
        elif n == "igc_fluorescent_cells_3ch.tif":
            tifffile.imwrite(p, rng.integers(0, 256, (3, 48, 64), dtype=np.uint8), photometric="minisblack")
        elif n == "igc_hela_cells_rgb.tif":
            tifffile.imwrite(p, rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
        elif n.endswith(".tif"):
            tifffile.imwrite(p, rng.integers(98, 176, (48, 64), dtype=np.uint16))
        else:
            shape = (48, 64) if n.endswith(".pgm") else (48, 64, 3)
            assert cv2.imwrite(p, rng.integers(0, 256, shape, dtype=np.uint8)), n


def test_split2_pairs_build_from_stub_sources(tmp_path):
    src = tmp_path / "src4"
    src.mkdir()
    _stub_sources(str(src))
    notes: list[str] = []
    pairs = list(s4.labelled_pairs4(str(tmp_path), quick=True, log=notes.append))
    assert notes == []  # every source file was found: nothing fetched, nothing skipped
    cats = {p.category for p in pairs}
    assert cats == set(s4.CATEGORIES4) - {"repeat-video"}, cats
    assert len({(p.category, p.name) for p in pairs}) == len(pairs)
    for p in pairs:
        assert os.path.exists(p.a) and os.path.exists(p.b), p
        assert p.same is (p.category in s4.SAME4)
    assert not set(s4.SAME4) & set(s4.DIFFERENT4)


def test_split2_sources_are_new():
    old_repos = (set(bench_real_pairs.MIRRORS) | set(bench_real_sources2.SOURCES2) | set(bench_real_sources3.GIT3)
                 | {"csjunxu/PolyU-Real-World-Noisy-Images-Dataset", "ND-HowardGroup/Instant-Image-Denoising"})
    old_packages = set(bench_real_sources3.DEB3) | {w.split("==")[0] for w in bench_real_sources3.WHEELS3} | {"mahotas"}
    assert not {r.lower() for r in s4.GIT4} & {r.lower() for r in old_repos}
    assert not set(s4.DEB4) & old_packages

"""``bench/bench_dedupe.py --photos``: other photos become 8-bit BGR sources (16-bit scaled by 1/257,
gray as three equal channels, alpha dropped, large pictures downscaled by area to ``max_mp``), each
written as the bench's 8 versions; bad input is one stderr line and exit 2."""
from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench")
sys.path.insert(0, BENCH)

import bench_dedupe  # noqa: E402
import dedupe_photos  # noqa: E402


def test_sources_are_8bit_bgr_and_downscaled(tmp_path):
    rng = np.random.default_rng(10)
    deep = rng.integers(0, 65536, (40, 60, 3), dtype=np.uint16)
    gray = rng.integers(0, 256, (30, 50), dtype=np.uint8)
    rgba = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    big = rng.integers(0, 256, (400, 1000, 3), dtype=np.uint8)  # 0.4 MP
    for name, img in (("deep.png", deep), ("gray.pgm", gray), ("rgba.png", rgba), ("big.png", big)):
        cv2.imwrite(str(tmp_path / name), img)
    (tmp_path / "notes.txt").write_text("not a picture")
    files = dedupe_photos.photo_files([str(tmp_path)])
    assert [os.path.basename(f) for f in files] == ["big.png", "deep.png", "gray.pgm", "rgba.png"]
    src = dict(dedupe_photos.photo_sources(files, max_mp=0.1))
    assert all(v.dtype == np.uint8 and v.ndim == 3 and v.shape[2] == 3 for v in src.values())
    np.testing.assert_array_equal(src["deep"], np.floor(deep / 257.0 + 0.5).astype(np.uint8))
    assert (src["gray"] == gray[:, :, None]).all()
    np.testing.assert_array_equal(src["rgba"], rgba[:, :, :3])
    # 0.4 MP to 0.1 MP: each side halved (sqrt of a quarter), the area average of 2x2 blocks
    assert src["big"].shape == (200, 500, 3)
    ref = big.astype(np.float64).reshape(200, 2, 500, 2, 3).mean(axis=(1, 3))
    assert np.abs(src["big"] - ref).max() <= 0.5 + 1e-9


def test_build_set_writes_eight_versions_per_source(tmp_path):
    img = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    truth = bench_dedupe.build_set(str(tmp_path / "set"), dedupe_photos.photo_sources([str(tmp_path / "a.png")], max_mp=1))
    assert sorted(os.path.basename(p) for p in truth) == sorted(f"a__{v}" for v in (
        "orig.png", "q95.jpg", "q75.jpg", "q50.jpg", "half.png", "crop.png", "bright.png", "meta.png"))
    assert set(truth.values()) == {"a"}
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "set" / "a__meta.png")), img)


def test_bad_photos_argument_is_one_line_exit_2(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(BENCH, "bench_dedupe.py"), "--photos", str(tmp_path / "none")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "neither a file nor a folder" in r.stderr

"""A search against fresh indexes reads SQLite and stats files: it never loads OpenCV, the decoder
or importlib.metadata (the version is read only for ``--version``)."""
from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np

from tests.conftest import ROOT

PROBE = """
import sys
from scopecheck.cli import main
code = main(sys.argv[1:])
heavy = ("cv2", "scopecheck.compare.load", "scopecheck.compare.pictures", "importlib.metadata")
print("LOADED", [m for m in heavy if m in sys.modules], file=sys.stderr)
sys.exit(code)
"""


def _run(*args):
    return subprocess.run([sys.executable, "-m", "scopecheck", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_warm_search_loads_no_decoder(tmp_path):
    hay, needles = tmp_path / "hay", tmp_path / "needles"
    hay.mkdir()
    needles.mkdir()
    rng = np.random.default_rng(3)
    for k in range(3):
        img = cv2.GaussianBlur(rng.integers(0, 255, (64, 96), dtype=np.uint8), (0, 0), 3)
        cv2.imwrite(str(hay / f"{k}.png"), img)
    cv2.imwrite(str(needles / "0.png"), cv2.imread(str(hay / "0.png")))
    for folder in (hay, needles):
        assert _run("index", folder).returncode == 0
    r = subprocess.run([sys.executable, "-c", PROBE, "search", "--haystack", str(hay), "--needles", str(needles)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [x for x in r.stderr.splitlines() if x.startswith("LOADED")][-1] == "LOADED []", r.stderr
    # and a stale index still works: the decoder loads when a file must be hashed again
    cv2.imwrite(str(hay / "new.png"), np.full((32, 32), 9, np.uint8))
    r = subprocess.run([sys.executable, "-c", PROBE, "search", "--haystack", str(hay), "--needles", str(needles)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and "'cv2'" in r.stderr, r.stderr


def test_opencv_version_without_loading_it():
    code = ("import sys; from scopecheck.compare.index import opencv_version; v = opencv_version(); "
            "print('cv2' in sys.modules); import cv2; print(v == cv2.__version__)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.stdout.split() == ["False", "True"], r.stdout + r.stderr


def test_version_is_read_only_when_asked():
    from importlib.metadata import version

    r = _run("--version")
    assert r.returncode == 0 and r.stdout == f"scopecheck {version('scopecheck')}\n", r.stdout + r.stderr

"""The pytest plugin (scopecheck.testing) as a user meets it: the example test, run through pytester."""
from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest

from tests.conftest import FIXTURES, ROOT

pytest_plugins = ("pytester",)

EXAMPLE = os.path.join(ROOT, "examples", "test_capture_baseline.py")


def _recording(dst, name, *, particle=False):
    src = os.path.join(FIXTURES, "recordings", name)
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(dst)
    for f in sorted(os.listdir(src)):
        if not f.endswith(".png"):
            continue
        img = cv2.imread(os.path.join(src, f), cv2.IMREAD_UNCHANGED)
        if particle:  # a dust particle lands on the slide
            cv2.circle(img, (200, 90), 9, 20, -1)
        cv2.imwrite(os.path.join(dst, f), img)


def test_example_test_writes_checks_and_explains_baselines(pytester):
    pytester.makepyfile(test_capture_baseline=open(EXAMPLE).read())
    rec = pytester.path / "recordings" / "field"
    _recording(rec, "ihc_still_a")
    bt = [f"--basetemp={pytester.path / 'bt'}"]  # the plugin itself comes from the pytest11 entry point

    r = pytester.runpytest(*bt)  # no baseline yet
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*no baseline at*baselines/field.png*--scopecheck-update*"])

    pytester.runpytest("--scopecheck-update", *bt).assert_outcomes(passed=1)
    assert (pytester.path / "baselines" / "field.png").is_file()
    pytester.runpytest(*bt).assert_outcomes(passed=1)  # same recording: identical file

    _recording(rec, "ihc_still_b")  # same field, independent noise
    pytester.runpytest(*bt).assert_outcomes(passed=1)

    _recording(rec, "ihc_still_b", particle=True)
    r = pytester.runpytest(*bt)
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*capture different (allowed: near-identical): *", "*sheet *field.sheet.png*"])
    sheets = list((pytester.path / "bt").rglob("field.sheet.png"))
    diffs = list((pytester.path / "bt").rglob("field.diff.png"))
    assert len(sheets) == 1 and len(diffs) == 1
    assert sheets[0].parent == diffs[0].parent and (sheets[0].parent / "field.png").exists()


def test_stricter_allow_and_bad_arguments(tmp_path):
    from scopecheck.testing import assert_same_capture

    rng = np.random.default_rng(1)
    a = rng.integers(0, 255, (48, 64), np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), a)
    cv2.imwrite(str(tmp_path / "b.png"), np.clip(a.astype(int) + rng.integers(-2, 3, a.shape), 0, 255).astype(np.uint8))
    assert assert_same_capture(tmp_path / "a.png", tmp_path / "a.png", allow="identical-file").verdict == "identical-file"
    with pytest.raises(AssertionError, match=r"capture near-identical \(allowed: identical-pixels\)"):
        assert_same_capture(tmp_path / "b.png", tmp_path / "a.png", allow="identical-pixels")
    assert (tmp_path / "b.sheet.png").exists() and (tmp_path / "b.diff.png").exists()
    with pytest.raises(ValueError, match="allow='different'"):
        assert_same_capture(tmp_path / "a.png", tmp_path / "a.png", allow="different")


def test_readme_shows_the_example_verbatim():
    readme = open(os.path.join(ROOT, "README.md")).read()
    body = open(EXAMPLE).read().split('"""\n', 2)[-1]  # the code after the module docstring
    assert body.strip() in readme


def test_profile_sets_the_noise_floor(tmp_path):
    from scopecheck.capture.opencv import OpenCVCamera
    from scopecheck.capture.profile import calibrate, write_profile
    from scopecheck.capture.session import CaptureOptions, capture
    from scopecheck.testing import assert_same_capture

    rec = os.path.join(FIXTURES, "recordings", "{}", "frame_%04d.png")
    prof = calibrate(OpenCVCamera(rec.format("ihc_still_a")), CaptureOptions(frames=1, warmup=0), shots=3)
    write_profile(prof, str(tmp_path / "p.json"))
    a = capture(OpenCVCamera(rec.format("ihc_still_a")), str(tmp_path / "a.png"), CaptureOptions(frames=4, warmup=0))
    b = capture(OpenCVCamera(rec.format("ihc_still_b")), str(tmp_path / "b.png"), CaptureOptions(frames=4, warmup=0))
    c = assert_same_capture(b.path, a.path, profile=tmp_path / "p.json")
    assert c.verdict == "near-identical" and c.thresholds.noise_sigma == pytest.approx(prof.noise_sigma, abs=1e-4)  # stored rounded


def test_the_plugin_loads_nothing_heavy():
    # it is loaded into every pytest run of an environment with scopecheck installed
    import subprocess
    import sys

    code = "import sys, scopecheck.testing; print(sorted(m for m in ('numpy', 'cv2', 'skimage') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "[]"

import os
import shutil
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures")
COMPARE_FIX = os.path.join(FIXTURES, "compare")

# a label image and its objects moved: bench/bench_labels.py's, one definition for the bench and the tests
sys.path.insert(0, os.path.join(ROOT, "bench"))
from bench_labels import moved_objects, segmented  # noqa: E402,F401


def run_cli(*args, timeout=120, **kw):
    """Run the real command line (python -m scopecheck) and capture its output."""
    return subprocess.run([sys.executable, "-m", "scopecheck", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=kw.pop("cwd", ROOT), **kw)


def sigint_default() -> None:
    """``preexec_fn`` for a child a test interrupts: SIGINT back to its default. A shell starts a
    background job with SIGINT ignored, a child inherits that, and Python then installs no
    KeyboardInterrupt handler: a suite run in the background would see its SIGINT tests "fail"."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def assert_one_line_error(r, *, code=2, contains=None):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    if contains:
        assert contains.lower() in lines[0].lower(), lines[0]


def scene(seed, h=240, w=320, channels=3):
    r = np.random.default_rng(seed)
    base = cv2.GaussianBlur(r.uniform(0, 255, (h // 8, w // 8, channels)).astype(np.float32), (0, 0), 1.2)
    out = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    return out if channels > 1 else out.reshape(h, w)


def noisy(f, sigma, seed):
    r = np.random.default_rng(seed)
    return np.clip(np.rint(f + r.normal(0, sigma, f.shape)), 0, 255).astype(np.uint8)


@pytest.fixture
def fixture_copy(tmp_path):
    """Copy a fixture file into tmp_path (writers always work in tmp_path)."""
    def copy(name, new_name=None):
        dst = tmp_path / (new_name or name)
        shutil.copy(os.path.join(COMPARE_FIX, name), dst)
        return dst
    return copy


@pytest.fixture(scope="session")
def stub_tree():
    """Makes a held-out split's stub source folder ``ROOT/src_name``, filled by ``make(path)`` (the
    split tests build their pairs from stubs): ``stub_tree(tmp_path_factory, split, src_name,
    make) -> (root, what make wrote)``."""
    def make_tree(factory, split: str, src_name: str, make):
        root = factory.mktemp(split)
        src = root / src_name
        src.mkdir()
        return root, make(str(src))
    return make_tree


def no_light_test(monkeypatch) -> None:
    """Switch off cause 41's test of a small candidate's light (compare.specks._flux_z): the
    rule-off controls of tests older than it, whose changes it also finds."""
    from scopecheck.compare import specks

    monkeypatch.setattr(specks, "_flux_z", lambda r, a, gx, gy, sigma, box, slack: (0.0, 0.0, (0, 0, 0, 0, 0)))

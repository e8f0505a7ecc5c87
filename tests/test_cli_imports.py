"""Commands are imported lazily: a compare run loads neither SQLite nor the worker pool."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import COMPARE_FIX, ROOT

PROBE = """
import sys
from scopecheck.cli import main
code = main(sys.argv[1:])
heavy = ("sqlite3", "_sqlite3", "multiprocessing", "scopecheck.compare.index", "scopecheck.capture")
print("LOADED", [m for m in heavy if m in sys.modules], file=sys.stderr)
sys.exit(code)
"""


def loaded_after(*args):
    r = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)
    line = [x for x in r.stderr.splitlines() if x.startswith("LOADED")][-1]
    return r.returncode, line


def test_compare_imports_neither_sqlite_nor_multiprocessing():
    a = os.path.join(COMPARE_FIX, "ihc_shot1.png")
    code, line = loaded_after("compare", a, a, "--json")
    assert code == 0 and line == "LOADED []", line


def test_top_level_help_still_lists_every_command():
    r = subprocess.run([sys.executable, "-m", "scopecheck", "--help"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 0
    for name in ("compare", "hash", "strip", "index", "search", "dedupe", "capture"):
        assert f"    {name} " in r.stdout, name


BLAS_PROBE = """
import os, sys
from scopecheck.cli import main
code = main(sys.argv[1:])
print("BLAS", os.environ.get("OPENBLAS_NUM_THREADS"), file=sys.stderr)
sys.exit(code)
"""


def _blas_after(*args, env=None):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"} | (env or {})
    r = subprocess.run([sys.executable, "-c", BLAS_PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                       timeout=60, env=env)
    return r.returncode, [x for x in r.stderr.splitlines() if x.startswith("BLAS")][-1]


def test_archive_commands_load_numpy_with_one_blas_thread(tmp_path):
    """hash/index/search/dedupe hash on one BLAS thread per process: OpenBLAS is told so before numpy
    loads (its helper threads' set-up is start-up time); a user's own value stands; compare is left alone."""
    a = os.path.join(COMPARE_FIX, "ihc_shot1.png")
    assert _blas_after("hash", a) == (0, "BLAS 1")
    assert _blas_after("hash", a, env={"OPENBLAS_NUM_THREADS": "2"}) == (0, "BLAS 2")
    assert _blas_after("compare", a, a) == (0, "BLAS None")

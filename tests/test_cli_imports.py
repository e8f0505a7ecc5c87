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

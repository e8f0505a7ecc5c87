"""``--max-bytes`` reaches every file that index, search and dedupe read (issue 8 B).

A folder holds a noise PNG (~68 kB, twice: an exact copy) and a small PNG (~2.5 kB). Under
``--max-bytes 20000`` the big files are listed as unreadable with the limit named, and never read;
the same runs without the option hash them (the control that makes each test able to fail).
"""
from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from tests.conftest import run_cli

LIMIT = "20000"
OVER = "over the limit --max-bytes"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("maxbytes")
    hay, needles = d / "hay", d / "needles"
    hay.mkdir()
    needles.mkdir()
    r = np.random.default_rng(8)
    big = r.integers(0, 256, (150, 150, 3), dtype=np.uint8)  # noise: PNG cannot shrink it below 20 kB
    small = cv2.resize(r.integers(0, 256, (8, 8), dtype=np.uint8), (64, 64), interpolation=cv2.INTER_CUBIC)
    assert cv2.imwrite(str(hay / "big.png"), big) and cv2.imwrite(str(hay / "small.png"), small)
    shutil.copy(hay / "big.png", hay / "big_copy.png")
    shutil.copy(hay / "big.png", needles / "big.png")
    shutil.copy(hay / "small.png", needles / "small.png")
    assert (hay / "big.png").stat().st_size > 3 * int(LIMIT) > 3 * (hay / "small.png").stat().st_size
    return d


def errors_by_name(errors) -> dict[str, str]:
    return {e["path"].rsplit("/", 1)[-1] + (f"@{e['side']}" if "side" in e else ""): e["error"] for e in errors}


def test_index_lists_a_file_over_max_bytes_as_unreadable(world, tmp_path):
    r = run_cli("index", world / "hay", "--db", tmp_path / "i.sqlite", "--jobs", "1", "--max-bytes", LIMIT, "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    errs = errors_by_name(res["errors"])
    assert set(errs) == {"big.png", "big_copy.png"} and all(OVER in e for e in errs.values()), errs
    assert res["files"] - len(res["errors"]) == 1  # small.png indexed
    # Control: the default limit reads them; and the earlier failures are tried again.
    r = run_cli("index", world / "hay", "--db", tmp_path / "i.sqlite", "--jobs", "1", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["errors"] == [], r.stdout


def test_search_refuses_needles_and_haystack_files_over_max_bytes(world):
    args = ["search", "--haystack", world / "hay", "--needles", world / "needles", "--jobs", "1", "--json"]
    r = run_cli(*args, "--max-bytes", LIMIT)
    assert r.returncode == 2, (r.stdout, r.stderr)  # an unreadable needle is trouble
    res = json.loads(r.stdout)
    errs = errors_by_name(res["errors"])
    assert set(errs) == {"big.png@needles", "big.png@haystack", "big_copy.png@haystack"}, errs
    assert all(OVER in e for e in errs.values()), errs
    assert [n["path"].rsplit("/", 1)[-1] for n in res["needles"]] == ["small.png"]
    r = run_cli(*args)
    assert r.returncode == 0 and json.loads(r.stdout)["errors"] == [], r.stdout


def test_dedupe_refuses_files_over_max_bytes(world):
    args = ["dedupe", world / "hay", "--jobs", "1", "--json"]
    r = run_cli(*args, "--max-bytes", LIMIT)
    res = json.loads(r.stdout)
    errs = errors_by_name(res["errors"])
    assert set(errs) == {"big.png", "big_copy.png"} and all(OVER in e for e in errs.values()), errs
    assert res["groups"] == [] and r.returncode == 1, (r.returncode, r.stderr)
    r = run_cli(*args)
    res = json.loads(r.stdout)
    assert r.returncode == 0 and res["counts"]["exact"] == 1 and res["errors"] == [], r.stdout

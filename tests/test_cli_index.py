"""The real `scopecheck index / search / dedupe` command lines on a generated haystack/needles set.

The fixture is made at test time from scikit-image's bundled images, resized small, so its
structure is known: which needle is a re-encoded, resized or metadata-changed copy of which
haystack file, which needles are new, which files are broken or blank.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

ROOT = Path(__file__).resolve().parents[1]


def sc(*args, timeout=120):
    """Run the real CLI of this checkout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "scopecheck", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


def one_line_error(r, *, contains: str, code: int = 2):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert contains.lower() in lines[0].lower(), lines[0]


def small(name: str, width: int = 200) -> np.ndarray:
    img = getattr(skimage.data, name)()
    if img.ndim == 3:
        img = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2BGR)
    h, w = img.shape[:2]
    return cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def save(path: Path, img: np.ndarray, quality: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if quality else []
    ok, buf = cv2.imencode(path.suffix, img, params)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def decoded(path: Path) -> np.ndarray:
    return cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)


def with_text_chunk(src: Path, dst: Path, text: bytes):
    """Same PNG pixels, different bytes: a tEXt chunk inserted after IHDR."""
    data = src.read_bytes()
    chunk = b"tEXt" + text
    blob = struct.pack(">I", len(text)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data[:33] + blob + data[33:])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    t = tmp_path_factory.mktemp("search")
    hay, nd = t / "hay", t / "needles"
    save(hay / "2019" / "cell.png", small("cell"))
    save(hay / "2019" / "coffee.jpg", small("coffee"), 90)
    save(hay / "2019" / "retina.png", small("retina"))
    save(hay / "2020" / "astronaut.jpg", small("astronaut"), 90)
    save(hay / "2020" / "camera.png", small("camera"))
    shutil.copy(hay / "2020" / "camera.png", hay / "2020" / "camera copy.png")
    save(hay / "2020" / "immuno.png", small("immunohistochemistry"))
    save(hay / "2020" / "rocket.png", small("rocket"))
    (hay / "broken").mkdir()
    (hay / "broken" / "truncated.jpg").write_bytes((hay / "2019" / "coffee.jpg").read_bytes()[:500])
    (hay / "broken" / "empty.png").write_bytes(b"")
    save(hay / "blank1.png", np.full((120, 160), 128, np.uint8))
    save(hay / "blank2.png", np.full((120, 160, 3), 60, np.uint8))

    save(nd / "reencoded" / "coffee q60.jpg", decoded(hay / "2019" / "coffee.jpg"), 60)
    save(nd / "reencoded" / "cell.jpg", decoded(hay / "2019" / "cell.png"), 85)
    a = decoded(hay / "2020" / "astronaut.jpg")
    save(nd / "resized" / "astronaut_half.png", cv2.resize(a, (100, 100), interpolation=cv2.INTER_AREA))
    r = decoded(hay / "2019" / "retina.png")
    save(nd / "resized" / "retina_small.jpg", cv2.resize(r, (120, 120), interpolation=cv2.INTER_AREA), 85)
    with_text_chunk(hay / "2020" / "camera.png", nd / "metadata" / "camera.png", b"Comment\x00re-saved")
    save(nd / "new" / "chelsea.png", small("chelsea"))
    save(nd / "new" / "coins.jpg", small("coins"), 90)
    (nd / "mixed").mkdir()
    shutil.copy(hay / "2020" / "immuno.png", nd / "mixed" / "immuno copy.png")
    save(nd / "mixed" / "moon.png", small("moon"))
    save(nd / "blank" / "white.png", np.full((100, 100), 230, np.uint8))
    return t


EXPECTED = {  # needle (relative) -> haystack matches (relative), from how the fixture was made
    "reencoded/coffee q60.jpg": {"2019/coffee.jpg"},
    "reencoded/cell.jpg": {"2019/cell.png"},
    "resized/astronaut_half.png": {"2020/astronaut.jpg"},
    "resized/retina_small.jpg": {"2019/retina.png"},
    "metadata/camera.png": {"2020/camera.png", "2020/camera copy.png"},
    "mixed/immuno copy.png": {"2020/immuno.png"},
    "mixed/moon.png": set(),
    "new/chelsea.png": set(),
    "new/coins.jpg": set(),
    "blank/white.png": set(),
}


def relmatches(rep, t: Path) -> dict[str, set[str]]:
    return {os.path.relpath(n["path"], t / "needles"): {os.path.relpath(m["path"], t / "hay") for m in n["matches"]}
            for n in rep["needles"]}


def test_search_dir_haystack_finds_copies_and_exactly_the_unmatched_folders(world):
    r = sc("search", "--haystack", world / "hay", "--needles", world / "needles", "--json")
    assert r.returncode == 1, r.stderr  # some needles are new
    rep = json.loads(r.stdout)
    assert relmatches(rep, world) == EXPECTED
    assert sorted(os.path.relpath(f, world / "needles") for f in rep["unmatched_folders"]) == ["blank", "new"]
    folders = {os.path.relpath(f["folder"], world / "needles"): (f["images"], f["matched"]) for f in rep["folders"]}
    assert folders == {"reencoded": (2, 2), "resized": (2, 2), "metadata": (1, 1), "mixed": (2, 1),
                       "new": (2, 0), "blank": (1, 0)}
    by = {os.path.relpath(n["path"], world / "needles"): n for n in rep["needles"]}
    cam = {os.path.basename(m["path"]): m for m in by["metadata/camera.png"]["matches"]}
    assert cam["camera.png"]["pixel_equal"] and not cam["camera.png"]["file_equal"] and cam["camera.png"]["distance"] == 0
    assert by["mixed/immuno copy.png"]["matches"][0]["file_equal"]
    assert all(m["distance"] <= rep["max_distance"] for m in by["reencoded/coffee q60.jpg"]["matches"])
    assert by["blank/white.png"]["flat"] and rep["flat_needles"] == [by["blank/white.png"]["path"]]
    errs = {(os.path.basename(e["path"]), e["side"]) for e in rep["errors"]}
    assert errs == {("truncated.jpg", "haystack"), ("empty.png", "haystack")}


def test_index_then_search_the_db_gives_the_same_answer(world, tmp_path):
    db = tmp_path / "hay.sqlite"
    r = sc("index", world / "hay", "--db", db, "--json")
    assert r.returncode == 0 and r.stderr == "", r.stderr  # no progress bar when stderr is not a terminal
    rep = json.loads(r.stdout)
    assert (rep["files"], rep["hashed"], rep["unchanged"], rep["flat"]) == (12, 12, 0, 2)
    assert sorted(os.path.basename(e["path"]) for e in rep["errors"]) == ["empty.png", "truncated.jpg"]
    again = json.loads(sc("index", world / "hay", "--db", db, "--json", "--jobs", "1").stdout)
    assert (again["hashed"], again["unchanged"]) == (2, 10)  # the two broken files are retried
    r = sc("search", "--haystack", db, "--needles", world / "needles", "--json", "--jobs", "1")
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)
    assert relmatches(rep, world) == EXPECTED
    assert sorted(os.path.basename(f) for f in rep["unmatched_folders"]) == ["blank", "new"]


def test_search_exit_codes(world, tmp_path):
    r = sc("search", "--haystack", world / "hay", "--needles", world / "needles" / "reencoded",
           "--needles", world / "needles" / "metadata", "--jobs", "1")
    assert r.returncode == 0, r.stdout + r.stderr  # every needle found: nothing new
    assert "3 of 3 found" in r.stdout
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(world / "needles" / "reencoded" / "cell.jpg", bad / "cell.jpg")
    (bad / "cut.png").write_bytes((world / "hay" / "2019" / "cell.png").read_bytes()[:200])
    r = sc("search", "--haystack", world / "hay", "--needles", bad, "--json", "--jobs", "1")
    assert r.returncode == 2  # the answer for cut.png is unknown
    rep = json.loads(r.stdout)
    assert [(os.path.basename(e["path"]), e["side"]) for e in rep["errors"] if e["side"] == "needles"] == \
        [("cut.png", "needles")]
    one_line_error(sc("search", "--haystack", tmp_path / "nowhere", "--needles", bad), contains="no such folder")
    one_line_error(sc("search", "--haystack", world / "hay", "--needles", bad, "--max-distance", "65"),
                   contains="--max-distance must be between 0 and 64 bits, got 65")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(sc("search", "--haystack", world / "hay", "--needles", empty), contains="no image files")


def test_search_csv_and_human_output(world):
    r = sc("search", "--haystack", world / "hay", "--needles", world / "needles", "--csv", "--jobs", "1")
    assert r.returncode == 1
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {"needle", "folder", "match", "distance", "file_equal", "pixel_equal"} <= set(rows[0])
    assert len(rows) == sum(max(1, len(v)) for v in EXPECTED.values())
    coffee = [row for row in rows if row["needle"].endswith("coffee q60.jpg")]
    assert [os.path.basename(row["match"]) for row in coffee] == ["coffee.jpg"]
    r = sc("search", "--haystack", world / "hay", "--needles", world / "needles", "--jobs", "1")
    assert "MISSING" in r.stdout and "folders with no image in the haystack:" in r.stdout
    assert str(world / "needles" / "new") in r.stdout


def test_dedupe_groups_flat_and_escaped_sheet(world, tmp_path):
    d = tmp_path / "d"
    shutil.copytree(world / "hay", d / "hay")
    shutil.copytree(world / "needles", d / "needles")
    odd = d / "needles" / "<b>&'odd\".png"
    shutil.copy(world / "needles" / "resized" / "astronaut_half.png", odd)
    sheet = tmp_path / "sheet.html"
    r = sc("dedupe", d, "--json", "--sheet", sheet, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    rel = [(g["kind"], sorted(os.path.relpath(f["path"], d) for f in g["files"])) for g in rep["groups"]]
    assert ("exact", ["hay/2020/camera copy.png", "hay/2020/camera.png"]) in rel
    assert ("exact", ["hay/2020/immuno.png", "needles/mixed/immuno copy.png"]) in rel
    assert ("pixels", ["hay/2020/camera copy.png", "hay/2020/camera.png", "needles/metadata/camera.png"]) in rel
    near = [files for kind, files in rel if kind == "near"]
    assert ["hay/2019/coffee.jpg", "needles/reencoded/coffee q60.jpg"] in near
    assert ["hay/2020/astronaut.jpg", "needles/<b>&'odd\".png", "needles/resized/astronaut_half.png"] in near
    assert sorted(os.path.relpath(p, d) for p in rep["flat"]) == ["hay/blank1.png", "hay/blank2.png",
                                                                   "needles/blank/white.png"]
    in_groups = {f for _, files in rel for f in files}
    assert not in_groups & {"hay/blank1.png", "hay/blank2.png", "needles/blank/white.png"}
    assert len(rep["errors"]) == 2
    html = sheet.read_text(encoding="utf-8")
    assert "&lt;b&gt;&amp;&#x27;odd&quot;.png" in html and "<b>&'odd" not in html
    assert html.count("data:image/jpeg;base64,") >= sum(len(g["files"]) for g in rep["groups"]) - 1


def test_dedupe_exit_1_when_no_duplicates(world, tmp_path):
    d = tmp_path / "distinct"
    d.mkdir()
    for name in ("cell.png", "retina.png"):
        shutil.copy(world / "hay" / "2019" / name, d / name)
    r = sc("dedupe", d, "--json", "--jobs", "1")
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["groups"] == []


def test_index_cli_mismatch_says_reindex(world, tmp_path):
    db = tmp_path / "i.sqlite"
    assert sc("index", world / "hay" / "2019", "--db", db, "--jobs", "1").returncode == 0
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value = 'opencv 0.0.1' WHERE key = 'decoder'")
    one_line_error(sc("index", world / "hay" / "2019", "--db", db), contains="re-index")
    one_line_error(sc("search", "--haystack", db, "--needles", world / "needles" / "new"), contains="re-index")
    r = sc("index", world / "hay" / "2019", "--db", db, "--rebuild", "--json", "--jobs", "1")
    assert r.returncode == 0 and json.loads(r.stdout)["hashed"] == 3
    one_line_error(sc("index", world / "nope"), contains="no such file or folder")
    one_line_error(sc("index", world / "hay", world / "nope", "--db", db), contains="no such file or folder")
    one_line_error(sc("index", world / "hay", tmp_path), contains="--db is required")


def test_default_db_lives_in_the_folder_and_is_not_indexed(world, tmp_path):
    d = tmp_path / "one"
    shutil.copytree(world / "hay" / "2019", d)
    r = sc("index", d, "--jobs", "1")
    assert r.returncode == 0, r.stderr
    assert (d / ".scopecheck-index.sqlite").is_file()
    r = sc("index", d, "--json", "--jobs", "1")
    assert json.loads(r.stdout)["files"] == 3


@pytest.mark.parametrize("command", ["index", "search", "dedupe"])
def test_every_command_has_help(command):
    r = sc(command, "--help")
    assert r.returncode == 0 and "--json" in r.stdout and "usage:" in r.stdout


def test_progress_bar_only_on_a_terminal():
    from scopecheck.commands.common import Progress

    class Stream(io.StringIO):
        def __init__(self, tty):
            super().__init__()
            self.tty = tty

        def isatty(self):
            return self.tty

    quiet, loud = Stream(False), Stream(True)
    for stream in (quiet, loud):
        bar = Progress("index", stream)
        bar(5, 10, None)
        bar(10, 10, 2)
        bar.close()
    assert quiet.getvalue() == ""
    assert "10/10 files" in loud.getvalue() and "2 errors" in loud.getvalue() and loud.getvalue().endswith("\n")

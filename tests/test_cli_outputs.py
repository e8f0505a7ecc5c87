"""Nothing lost: every output goes through the atomic no-clobber writer, inputs are never outputs,
and interrupted runs leave no temporary file (issue 8 A)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import cv2
import pytest

from scopecheck.cli import main
from scopecheck.compare.atomic import TEMP_MARK, is_temp_name, write_atomic
from tests.conftest import COMPARE_FIX, ROOT, assert_one_line_error, run_cli, sigint_default


def fx(name):
    return os.path.join(COMPARE_FIX, name)


@pytest.fixture
def pair(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    shutil.copy(fx("ihc_shot1.png"), a)
    shutil.copy(fx("ihc_particle.png"), b)
    return a, b


def cli(capsys, *args):
    code = main([str(x) for x in args])
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(d):
    return sorted(n for n in os.listdir(d) if TEMP_MARK in n or n.endswith(".tmp"))


@pytest.mark.parametrize("option", ["--diff", "--sheet"])
def test_compare_output_onto_an_input_is_refused_even_with_overwrite(pair, capsys, option):
    a, b = pair
    before = b.read_bytes()
    for extra in ([], ["--overwrite"]):
        code, out, err = cli(capsys, "compare", a, b, option, b, *extra)
        assert code == 2, err
        assert "names an input" in err and err.count("\n") == 1
        assert b.read_bytes() == before
    link = b.parent / "hard.png"  # another name of the same file is the same input
    os.link(b, link)
    code, _, err = cli(capsys, "compare", a, b, option, link, "--overwrite")
    assert code == 2 and "names an input" in err and b.read_bytes() == before


def test_compare_existing_output_needs_overwrite(pair, tmp_path, capsys):
    a, b = pair
    diff = tmp_path / "diff.png"
    diff.write_bytes(b"precious")
    code, out, err = cli(capsys, "compare", a, b, "--diff", diff)
    assert code == 2 and "exists; pass --overwrite" in err, err
    assert diff.read_bytes() == b"precious"
    code, out, err = cli(capsys, "compare", a, b, "--diff", diff, "--overwrite")
    assert code == 1, err
    assert cv2.imread(str(diff)) is not None and leftovers(tmp_path) == []


@pytest.mark.parametrize("name,magic", [("s.jpg", b"\xff\xd8\xff"), ("s.webp", b"RIFF"), ("s.PNG", b"\x89PNG"),
                                        ("s.tif", b"II*\x00")])
def test_sheet_format_follows_the_extension(pair, tmp_path, capsys, name, magic):
    a, b = pair
    code, _, err = cli(capsys, "compare", a, b, "--sheet", tmp_path / name)
    assert code == 1, err
    assert (tmp_path / name).read_bytes()[:len(magic)] == magic
    assert cv2.imread(str(tmp_path / name)) is not None


@pytest.mark.parametrize("name", ["s.gif", "sheet", "s.jpg.txt"])
def test_sheet_unknown_extension_refused_before_work(pair, tmp_path, capsys, name):
    a, b = pair
    code, _, err = cli(capsys, "compare", a, b, "--sheet", tmp_path / name)
    assert code == 2 and "--sheet" in err and ".png" in err, err
    assert not (tmp_path / name).exists()


def test_output_folder_checked_before_work(pair, tmp_path, capsys):
    a, b = pair
    code, _, err = cli(capsys, "compare", a, b, "--diff", tmp_path / "no" / "d.png")
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


def test_diff_and_sheet_on_one_file_refused(pair, tmp_path, capsys):
    a, b = pair
    code, _, err = cli(capsys, "compare", a, b, "--diff", tmp_path / "x.png", "--sheet", tmp_path / "x.png")
    assert code == 2 and "same file" in err


def test_dedupe_sheet_no_clobber(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    shutil.copy(fx("ihc_shot1.png"), d / "one.png")
    shutil.copy(fx("ihc_shot1.png"), d / "two.png")
    sheet = tmp_path / "groups.html"
    sheet.write_text("mine")
    code, _, err = cli(capsys, "dedupe", d, "--sheet", sheet, "--jobs", "1")
    assert code == 2 and "exists; pass --overwrite" in err, err
    assert sheet.read_text() == "mine"
    code, _, err = cli(capsys, "dedupe", d, "--sheet", sheet, "--jobs", "1", "--overwrite")
    assert code == 0, err
    page = sheet.read_text(encoding="utf-8")
    assert "<!DOCTYPE html>" in page and "2 images, 1 group," in page and "0 flat frames" in page
    code, _, err = cli(capsys, "dedupe", d, "--sheet", tmp_path / "groups.png")
    assert code == 2 and ".html" in err
    db = tmp_path / "i.sqlite"
    assert cli(capsys, "index", d, "--db", db, "--jobs", "1")[0] == 0
    before = db.read_bytes()
    code, _, err = cli(capsys, "dedupe", db, "--sheet", db, "--overwrite")
    assert code == 2 and "names an input" in err and db.read_bytes() == before


# ------------------------------------------------------------------ temporary files

def test_temp_names_are_recognised():
    assert is_temp_name(".shot.png" + TEMP_MARK + "0a1b2c3d4e5f")
    assert is_temp_name(".shot.png.0a1b2c3d4e5f.tmp")  # written by earlier versions
    assert not is_temp_name("shot.png") and not is_temp_name(".hidden.png") and not is_temp_name("a.tmp")


def test_failed_write_leaves_no_temp(tmp_path, monkeypatch):
    from scopecheck.compare import atomic

    def boom(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "x.png", b"data", overwrite=False)
    assert os.listdir(tmp_path) == []


def test_walker_never_takes_a_temp_file_for_an_image(tmp_path, capsys):
    png = open(fx("ihc_shot1.png"), "rb").read()
    (tmp_path / "real.png").write_bytes(png)
    (tmp_path / (".killed.png" + TEMP_MARK + "0123456789ab")).write_bytes(png[:5000])
    (tmp_path / ".old.png.0123456789ab.tmp").write_bytes(png)
    code, out, err = cli(capsys, "hash", tmp_path, "--json")
    assert code == 0, err
    assert [os.path.basename(json.loads(x)["path"]) for x in out.splitlines()] == ["real.png"]
    code, _, err = cli(capsys, "hash", tmp_path / ".old.png.0123456789ab.tmp")
    assert code == 2 and "temporary file" in err


KILLER = """
import os, signal, sys
real = os.fsync
def fsync(fd):  # the signal arrives while the temporary file exists
    os.kill(os.getpid(), signal.{sig})
    real(fd)
os.fsync = fsync
from scopecheck.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig,code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_signal_during_strip_in_place_leaves_input_and_no_temp(tmp_path, sig, code):
    jpg = tmp_path / "forum.jpg"
    shutil.copy(fx("forum_120900.jpg"), jpg)
    before = jpg.read_bytes()
    r = subprocess.run([sys.executable, "-c", KILLER.format(sig=sig), "strip", "--in-place", str(jpg)],
                       capture_output=True, text=True, timeout=60, cwd=ROOT, preexec_fn=sigint_default)
    assert_one_line_error(r, code=code, contains="terminated" if sig == "SIGTERM" else "interrupted")
    assert jpg.read_bytes() == before
    assert os.listdir(tmp_path) == ["forum.jpg"]


def test_sigterm_during_compare_diff_leaves_nothing(tmp_path, pair):
    a, b = pair
    r = subprocess.run([sys.executable, "-c", KILLER.format(sig="SIGTERM"), "compare", str(a), str(b),
                        "--diff", str(tmp_path / "diff.png")], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 143 and "Traceback" not in r.stderr, r.stderr
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]


def test_contract_diff_onto_input_via_real_cli(pair):
    a, b = pair
    before = b.read_bytes()
    r = run_cli("compare", a, b, "--diff", b)
    assert_one_line_error(r, code=2, contains="names an input")
    assert b.read_bytes() == before

"""The real command line: compare and hash, exit codes, JSON, pictures, hostile input."""
import json
import os
import shutil
import struct
import zlib

import cv2
import numpy as np
import pytest

from tests.conftest import COMPARE_FIX, assert_one_line_error, run_cli


def fx(name):
    return os.path.join(COMPARE_FIX, name)


def test_compare_json_contract():
    r = run_cli("compare", fx("forum_120900.jpg"), fx("forum_120905.jpg"), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "identical-pixels"
    assert doc["reason"] == "pixels identical; EXIF DateTime, EXIF DateTimeOriginal differ"
    assert doc["a"]["sha256"] != doc["b"]["sha256"] and doc["a"]["pixel_sha256"] == doc["b"]["pixel_sha256"]
    import hashlib
    assert doc["a"]["sha256"] == hashlib.sha256(open(fx("forum_120900.jpg"), "rb").read()).hexdigest()


@pytest.mark.parametrize("a,b,code,verdict", [
    ("ihc_shot1.png", "ihc_shot1.png", 0, "identical-file"),
    ("ihc_shot1.png", "ihc_shot2.png", 0, "near-identical"),
    ("ihc_shot1.png", "ihc_particle.png", 1, "different"),
])
def test_compare_exit_codes_like_cmp(a, b, code, verdict):
    r = run_cli("compare", fx(a), fx(b))
    assert r.returncode == code, r.stderr
    assert r.stdout.startswith(verdict + ":")


def test_pictures_written(tmp_path):
    diff, sheet = tmp_path / "d i ff.png", tmp_path / "shéet.png"
    r = run_cli("compare", fx("ihc_shot1.png"), fx("ihc_particle.png"), "--diff", diff, "--sheet", sheet)
    assert r.returncode == 1
    d, s = cv2.imread(str(diff)), cv2.imread(str(sheet))
    assert d is not None and d.shape[1] == 320 and d.shape[0] > 240  # map + legend
    assert s is not None and s.shape[1] > 3 * 320
    # the heat map is brightest where the particle is (230, 80)
    heat = cv2.cvtColor(d[:240], cv2.COLOR_BGR2GRAY).astype(float)
    assert heat[70:90, 220:240].mean() > 3 * heat.mean()


def test_pairs_batch(tmp_path):
    lst = tmp_path / "pairs.tsv"
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    lst.write_text(f"{fx('ihc_shot1.png')}\t{fx('ihc_shot2.png')}\n{fx('ihc_shot1.png')}\t{fx('ihc_moved.png')}\n"
                   f"{empty}\t{fx('ihc_shot1.png')}\nonly-one-field\n")
    r = run_cli("compare", "--pairs", lst, "--json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x.get("verdict") for x in lines] == ["near-identical", "different", None, None]
    assert "empty" in lines[2]["error"] and "two tab-separated" in lines[3]["error"]
    assert r.returncode == 2
    lst.write_text(f"{fx('ihc_shot1.png')}\t{fx('ihc_shot2.png')}\n{fx('ihc_shot1.png')}\t{fx('ihc_moved.png')}\n")
    assert run_cli("compare", "--pairs", lst, "--json").returncode == 1


def _bomb(path):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 100_000, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


HOSTILE = {
    "empty": lambda p: p.write_bytes(b""),
    "truncated": lambda p: p.write_bytes(open(fx("ihc_shot1.png"), "rb").read()[:5000]),
    "truncated-jpeg": lambda p: p.write_bytes(open(fx("forum_120900.jpg"), "rb").read()[:-200]),
    "text": lambda p: p.write_text("this is not an image\n"),
    "random": lambda p: p.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()),
    "header-only": lambda p: p.write_bytes(open(fx("ihc_shot1.png"), "rb").read()[:33]),
    "bomb": _bomb,
    "directory": lambda p: p.mkdir(),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE) + ["missing"])
def test_hostile_input_exit_2_one_line(tmp_path, kind):
    bad = tmp_path / f"bad {kind} ✓.png"
    if kind != "missing":
        HOSTILE[kind](bad)
    for args in (("compare", bad, fx("ihc_shot1.png")), ("compare", fx("ihc_shot1.png"), bad),
                 ("hash", bad)):
        r = run_cli(*args, "--json")
        assert_one_line_error(r)
        assert str(bad.name) in r.stderr


def test_unreadable_file(tmp_path, monkeypatch, capsys):
    """A file the OS refuses to read. CI runs as root, which reads anything, so the refusal is
    injected where the loader opens files, and the real CLI entry point runs in-process."""
    import builtins

    import scopecheck.compare.load
    from scopecheck.cli import main
    locked = tmp_path / "locked.png"
    shutil.copy(fx("ihc_shot1.png"), locked)
    real_open = builtins.open

    def refusing_open(path, *a, **k):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)
    monkeypatch.setattr(scopecheck.compare.load, "open", refusing_open, raising=False)
    code = main(["compare", str(locked), fx("ihc_shot2.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "permission denied" in err and "locked.png" in err


def test_max_pixels_option():
    r = run_cli("compare", fx("ihc_shot1.png"), fx("ihc_shot2.png"), "--max-pixels", "1000")
    assert_one_line_error(r, contains="over the limit")


def test_bad_options_exit_2():
    assert_one_line_error(run_cli("compare", fx("ihc_shot1.png")), contains="need two images")
    assert_one_line_error(run_cli("compare", fx("ihc_shot1.png"), fx("ihc_shot2.png"), "--ssim-min", "2"))
    assert run_cli("compare", "--bogus").returncode == 2


def test_hash_json_lines_against_references(tmp_path):
    d = tmp_path / "imgs with space"
    (d / "sub").mkdir(parents=True)
    shutil.copy(fx("ihc_shot1.png"), d / "a.png")
    shutil.copy(fx("forum_120900.jpg"), d / "sub" / "ü.jpg")
    (d / "notes.txt").write_text("not an image")
    r = run_cli("hash", d, "--json", "--pixels")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [os.path.basename(x["path"]) for x in recs] == ["a.png", "ü.jpg"]
    import hashlib
    assert recs[0]["sha256"] == hashlib.sha256((d / "a.png").read_bytes()).hexdigest()
    c = json.loads(run_cli("compare", d / "a.png", fx("forum_120900.jpg"), "--json").stdout)
    assert recs[0]["dhash"] == c["a"]["dhash"] and recs[0]["pixel_sha256"] == c["a"]["pixel_sha256"]


def test_profile_from_calibrate_feeds_compare(tmp_path):
    """The end-to-end loop: calibrate on a recording, capture twice, compare with the profile."""
    rec = os.path.join(os.path.dirname(COMPARE_FIX), "recordings")
    prof = tmp_path / "profile.json"
    r = run_cli("calibrate", "--device", os.path.join(rec, "ihc_still_a", "frame_%04d.png"), "--frames", "2",
                "--warmup", "0", "--shots", "3", "-o", prof)
    assert r.returncode == 0, r.stderr
    shots = []
    for name in ("ihc_still_a", "ihc_still_b"):
        out = tmp_path / f"{name}.png"
        r = run_cli("capture", "--device", os.path.join(rec, name, "frame_%04d.png"), "--frames", "4",
                    "--warmup", "0", "-o", out)
        assert r.returncode == 0, r.stderr
        shots.append(out)
    r = run_cli("compare", *shots, "--profile", prof, "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["verdict"] == "near-identical", doc["reason"]
    assert doc["noise_source"] == "profile"
    assert doc["noise_sigma"] == pytest.approx(json.load(open(prof))["noise_sigma"], abs=1e-3)
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "something-else"}')
    assert_one_line_error(run_cli("compare", *shots, "--profile", bad), contains="re-run scopecheck calibrate")


def test_tiny_images_still_get_pictures(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / name), rng.integers(0, 256, (6, 9), dtype=np.uint8))
    r = run_cli("compare", tmp_path / "a.png", tmp_path / "b.png", "--diff", tmp_path / "d.png",
                "--sheet", tmp_path / "s.png")
    assert r.returncode == 1 and "too small" in r.stdout, r.stderr
    assert cv2.imread(str(tmp_path / "d.png")) is not None and cv2.imread(str(tmp_path / "s.png")) is not None


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_max_shift_must_be_a_finite_number(value):
    """``--max-shift nan`` made a field moved by 80 px read near-identical, and its JSON carried NaN."""
    from tests.conftest import FIXTURES

    a = os.path.join(FIXTURES, "real", "trackpy_stuck_t0.png")
    assert_one_line_error(run_cli("compare", a, a, "--max-shift", value), contains="--max-shift must be a number")


def test_json_never_carries_nan_or_infinity():
    from scopecheck.commands.common import json_text

    assert json.loads(json_text({"a": float("nan"), "b": [1.5, float("-inf")], "c": {"d": float("inf")}}),
                      parse_constant=lambda c: pytest.fail(f"{c} in JSON")) == {"a": None, "b": [1.5, None],
                                                                                  "c": {"d": None}}

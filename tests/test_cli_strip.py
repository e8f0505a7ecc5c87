"""`scopecheck strip`, run as a real process: exit codes, stdout/stderr, files on disk."""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys

import cv2
import numpy as np
import piexif
import pytest

from scopecheck.compare.digest import pixel_sha256
from scopecheck.compare.load import decode

FORUM_A = "2018:08:01 12:09:00"


def run(*args, cwd=None):
    r = subprocess.run([sys.executable, "-m", "scopecheck", "strip", *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, timeout=60)
    return r.returncode, r.stdout, r.stderr


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("scopecheck strip: "), lines
    return lines[0]


def pixels(h=40, w=56, seed=1):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def jpeg_with_exif(when=FORUM_A) -> bytes:
    ok, buf = cv2.imencode(".jpg", pixels())
    exif = piexif.dump({"0th": {piexif.ImageIFD.DateTime: when.encode(),
                                piexif.ImageIFD.Model: b"USB Microscope"}})
    out = io.BytesIO()
    piexif.insert(exif, buf.tobytes(), out)
    return out.getvalue()


def png_with_text() -> bytes:
    import struct
    import zlib
    ok, buf = cv2.imencode(".png", pixels())
    data = buf.tobytes()
    body = b"Comment\x00lamp 80%"
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:33] + chunk + data[33:]


def digest(path) -> str:
    with open(path, "rb") as f:
        return pixel_sha256(decode(f.read()).pixels)


def sha(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def no_exif(path) -> bool:
    ref = piexif.load(str(path))
    return ref["thumbnail"] is None and not any(ref[k] for k in ("0th", "Exif", "GPS", "1st"))


@pytest.fixture
def shot(tmp_path):
    p = tmp_path / "2018-08-01-120900.jpg"
    p.write_bytes(jpeg_with_exif())
    return p


def test_one_file_to_output_file(tmp_path, shot):
    before = sha(shot)
    out = tmp_path / "clean.jpg"
    code, stdout, stderr = run(shot, "-o", out)
    assert (code, stderr) == (0, "")
    assert stdout.startswith(f"{shot} -> {out}: removed 2 metadata entries; ")
    assert "pixels unchanged" in stdout
    assert no_exif(out) and digest(out) == digest(shot)
    assert sha(shot) == before  # the input is never touched without --in-place


def test_json_fields_match_independent_digests(tmp_path, shot):
    out = tmp_path / "clean.jpg"
    code, stdout, _ = run(shot, "-o", out, "--json")
    assert code == 0
    rec = json.loads(stdout)
    assert rec["path"] == str(shot) and rec["output"] == str(out)
    assert rec["removed"] == ["EXIF Model", "EXIF DateTime"]
    assert rec["sha256_before"] == sha(shot)
    assert rec["sha256_after"] == sha(out)
    assert rec["pixel_sha256"] == digest(shot) == digest(out)


def test_several_inputs_into_a_new_directory_with_odd_names(tmp_path):
    names = ["with space.jpg", "größe µm.png", "шум.jpg"]
    for n in names:
        (tmp_path / n).write_bytes(png_with_text() if n.endswith(".png") else jpeg_with_exif())
    outdir = tmp_path / "clean out"
    code, stdout, stderr = run(*[tmp_path / n for n in names], "-o", outdir, "--json")
    assert (code, stderr) == (0, "")
    recs = [json.loads(line) for line in stdout.splitlines()]  # JSON lines, in input order
    assert [os.path.basename(r["output"]) for r in recs] == names
    assert sorted(os.listdir(outdir)) == sorted(names)
    assert recs[1]["removed"] == ["PNG tEXt Comment"]
    for n in names:
        assert digest(outdir / n) == digest(tmp_path / n)
        assert decode((outdir / n).read_bytes()).format in ("jpeg", "png")
    assert no_exif(outdir / names[0])


def test_one_input_into_an_existing_directory(tmp_path, shot):
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, _, _ = run(shot, "-o", outdir)
    assert code == 0 and os.listdir(outdir) == [shot.name]


def test_existing_output_is_not_overwritten(tmp_path, shot):
    out = tmp_path / "taken.jpg"
    out.write_bytes(b"precious")
    code, stdout, stderr = run(shot, "-o", out)
    assert code == 2 and stdout == ""
    line = one_error_line(stderr)
    assert f"{out}: already exists; not overwriting it" in line
    assert out.read_bytes() == b"precious"


def test_output_same_as_input_is_refused(shot):
    before = sha(shot)
    code, _, stderr = run(shot, "-o", shot)
    assert code == 2 and "already exists" in one_error_line(stderr)
    assert sha(shot) == before


def test_in_place_is_atomic_and_keeps_mode(tmp_path, shot):
    os.chmod(shot, 0o640)
    pix = digest(shot)
    code, stdout, stderr = run(shot, "--in-place")
    assert (code, stderr) == (0, "")
    assert stdout.startswith(f"{shot}: removed 2 metadata entries")
    assert no_exif(shot) and digest(shot) == pix
    assert stat.S_IMODE(shot.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == [shot.name]  # no temporary file left
    mtime = shot.stat().st_mtime_ns
    code, stdout, _ = run(shot, "--in-place")
    assert code == 0 and "no metadata to remove; left untouched" in stdout
    assert shot.stat().st_mtime_ns == mtime


def make_hostile(tmp_path, kind):
    p = tmp_path / f"{kind}.jpg"
    good = jpeg_with_exif()
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "truncated":
        p.write_bytes(good[:len(good) // 2])
    elif kind == "not-an-image":
        p.write_text("hello, I am a text file\n")
    elif kind == "random":
        p.write_bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif kind == "header-only":
        p = tmp_path / "header-only.png"
        p.write_bytes(png_with_text()[:33])
    elif kind == "directory":
        p.mkdir()
    elif kind == "bomb":  # declares 100000 x 100000 pixels in a few bytes
        import struct
        import zlib

        def chunk(t, b):
            return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b))
        p = tmp_path / "bomb.png"
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
                      + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    elif kind == "tiff":
        p = tmp_path / "scope.tiff"
        p.write_bytes(cv2.imencode(".tiff", pixels())[1].tobytes())
    # "missing": no file at all
    return p


@pytest.mark.parametrize("kind, words", [
    ("empty", "empty file"), ("truncated", "truncated JPEG"), ("not-an-image", "not an image"),
    ("random", "not an image"), ("header-only", "truncated PNG"), ("missing", "no such file"),
    ("directory", "is a directory"), ("tiff", "strip handles JPEG and PNG only"),
    ("bomb", "over the limit"),
])
def test_hostile_inputs_exit_2_with_one_line(tmp_path, kind, words):
    p = make_hostile(tmp_path, kind)
    out = tmp_path / "out.jpg"
    code, stdout, stderr = run(p, "-o", out)
    assert code == 2 and stdout == ""
    assert words in one_error_line(stderr)
    assert not out.exists()


def test_refuses_when_pixels_would_change(tmp_path):
    """A JPEG labelled R,G,B decodes as YCbCr only because of its JFIF segment."""
    ok, buf = cv2.imencode(".jpg", pixels())
    data, pos = bytearray(buf.tobytes()), 2
    while data[pos + 1] != 0xDA:
        if data[pos + 1] == 0xC0:
            for i in range(3):
                data[pos + 10 + 3 * i] = b"RGB"[i]
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    for i in range(3):
        data[pos + 5 + 2 * i] = b"RGB"[i]
    src = tmp_path / "rgb.jpg"
    src.write_bytes(bytes(data))
    code, _, stderr = run(src, "-o", tmp_path / "out.jpg")
    assert code == 2 and "the decoded pixels would change" in one_error_line(stderr)
    assert not (tmp_path / "out.jpg").exists()


def test_batch_goes_on_after_a_bad_file(tmp_path, shot):
    bad = make_hostile(tmp_path, "truncated")
    outdir = tmp_path / "out"
    code, stdout, stderr = run(bad, shot, "-o", outdir, "--json")
    assert code == 2
    assert "truncated JPEG" in one_error_line(stderr)
    recs = [json.loads(line) for line in stdout.splitlines()]
    assert recs[0]["path"] == str(bad) and "truncated JPEG" in recs[0]["error"]
    assert recs[1]["output"] == str(outdir / shot.name)
    assert os.listdir(outdir) == [shot.name]


def test_same_basename_twice_is_refused_before_writing(tmp_path, shot):
    other = tmp_path / "sub"
    other.mkdir()
    (other / shot.name).write_bytes(shot.read_bytes())
    code, _, stderr = run(shot, other / shot.name, "-o", tmp_path / "out")
    assert code == 2 and "would both be written to" in one_error_line(stderr)
    assert os.listdir(tmp_path / "out") == []


def test_several_inputs_need_a_directory(tmp_path, shot):
    f = tmp_path / "file.jpg"
    f.write_bytes(b"x")
    code, _, stderr = run(shot, shot, "-o", f)
    assert code == 2 and "-o must be a directory" in one_error_line(stderr)


@pytest.mark.parametrize("args", [[], ["-o", "x.jpg", "--in-place"]], ids=["neither", "both"])
def test_output_mode_is_required_and_exclusive(shot, args):
    code, _, stderr = run(shot, *args)
    assert code == 2 and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_help():
    code, stdout, _ = run("--help")
    assert code == 0 and "--in-place" in stdout and "-o OUT" in stdout


def test_in_place_through_a_symlink_rewrites_the_target(tmp_path, shot):
    link = tmp_path / "link.jpg"
    link.symlink_to(shot.name)
    code, _, stderr = run(link, "--in-place")
    assert (code, stderr) == (0, "")
    assert link.is_symlink() and no_exif(shot)

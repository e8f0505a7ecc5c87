"""Second red-team pass (issue 8 rules) over the surfaces added since: settings, profiles,
references, recordings, preview, serve, damaged indexes and Dask scheduler addresses.
Each test failed on main before its fix."""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import threading

import cv2
import numpy as np
import pytest

from scopecheck.cli import main
from scopecheck.compare import batch
from scopecheck.compare.errors import InputError
from scopecheck.compare.jsonfile import read_json
from scopecheck.compare.noise_profile import PROFILE_KIND, NoiseProfile
from tests.conftest import assert_one_line_error, run_cli

SIM = "sim:v4l2?size=64x48"


def cli(capsys, *args):
    code = main([str(x) for x in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err, *, contains):
    assert code == 2, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    assert contains.lower() in lines[0].lower(), lines[0]


@pytest.fixture
def alarm():
    """A hang fails the test instead of stopping the suite."""
    old = signal.signal(signal.SIGALRM, lambda *a: pytest.fail("hung"))
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def hostile_json(tmp_path, kind):
    p = tmp_path / f"{kind}.json"
    if kind == "deep":
        p.write_text("[" * 200_000 + "]" * 200_000)
    elif kind == "huge":
        p.write_bytes(b" " * (5 << 20) + b"{}")
    elif kind == "latin1":
        p.write_bytes(b'{"kind": "caf\xe9"}')
    elif kind == "list":
        p.write_text("[1, 2]")
    elif kind == "fifo":
        os.mkfifo(p)
    elif kind == "dir":
        p.mkdir()
    return p


KINDS = ["deep", "huge", "latin1", "list", "fifo", "dir"]


@pytest.mark.parametrize("kind", KINDS)
def test_read_json_refuses_hostile_files_in_one_line(tmp_path, kind, alarm):
    with pytest.raises(InputError, match="--settings: ") as e:
        read_json(hostile_json(tmp_path, kind), what="--settings", max_bytes=1 << 20)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("kind", ["deep", "fifo"])
def test_capture_settings_and_compare_profile_hostile_json(tmp_path, capsys, kind, alarm):
    bad = hostile_json(tmp_path, kind)
    one_line(*cli(capsys, "capture", "--device", SIM, "--settings", bad, "-o", tmp_path / "a.png")[::2],
             contains="--settings")
    png = tmp_path / "x.png"
    cv2.imwrite(str(png), np.full((8, 8), 7, np.uint8))
    one_line(*cli(capsys, "compare", png, png, "--profile", bad)[::2], contains="noise profile")


@pytest.mark.parametrize("change,word", [
    ({"shots": "x"}, "shots"), ({"ssim": {"min": "x"}}, "ssim.min"), ({"dhash_distance": {"max": 2.5}}, "max"),
    ({"controls": 5}, "controls"), ({"device": [1]}, "device"), ({"size": "99999999999999x5"}, "size"),
    ({"noise_sigma": 1e300}, "noise_sigma"), ({"noise_sigma": 10 ** 400}, "noise_sigma")])
def test_profile_fields_are_type_and_range_checked(change, word):
    doc = {"kind": PROFILE_KIND, "noise_sigma": 1.5, "size": "64x48", **change}
    with pytest.raises(InputError, match=word):
        NoiseProfile.from_json(doc, path="p.json")
    ok = NoiseProfile.from_json({"kind": PROFILE_KIND, "noise_sigma": 1.5, "size": "64x48", "shots": 3})
    assert (ok.noise_sigma, ok.width, ok.height, ok.shots) == (1.5, 64, 48, 3)


def test_capture_never_writes_over_its_inputs(tmp_path, capsys):
    ref = tmp_path / "dark.png"
    ref.write_bytes(b"precious")
    (tmp_path / "dark.manifest.json").write_text("{}")
    settings = tmp_path / "s.json"
    settings.write_text("{}")
    cases = [(["--dark", ref, "-o", ref], "-o names the --dark input"),
             (["--flat", ref, "-o", tmp_path / "." / "dark.png"], "-o names the --flat input"),
             (["--settings", settings, "--save-settings", settings, "-o", tmp_path / "a.png"], "--settings input"),
             (["--dark", ref, "--save-settings", tmp_path / "dark.manifest.json", "-o", tmp_path / "b.png"],
              "--dark's manifest"),
             (["--save-settings", tmp_path / "m.manifest.json", "-o", tmp_path / "m.png"], "manifest that -o writes")]
    for args, words in cases:
        code, _, err = cli(capsys, "capture", "--device", SIM, "--overwrite", *args)
        one_line(code, err, contains=words)
    assert ref.read_bytes() == b"precious" and settings.read_text() == "{}"
    assert not (tmp_path / "m.manifest.json").exists()


def test_reference_with_hostile_manifest_or_wrong_channels(tmp_path, capsys):
    dark = tmp_path / "dark.png"
    code, _, err = cli(capsys, "calibrate", "--device", SIM, "--dark", "-o", dark, "--frames", "2")
    assert code == 0, err
    man = json.loads((tmp_path / "dark.manifest.json").read_text())
    bad = tmp_path / "bad.png"
    bad.write_bytes(dark.read_bytes())
    (tmp_path / "bad.manifest.json").write_text(json.dumps({**man, "reference": 5}))
    one_line(*cli(capsys, "capture", "--device", SIM, "--dark", bad, "-o", tmp_path / "o1.png")[::2],
             contains="not a dark reference")
    (tmp_path / "bad.manifest.json").write_text(json.dumps({**man, "reference": {**man["reference"],
                                                                                 "frame_depth": "x"}}))
    one_line(*cli(capsys, "capture", "--device", SIM, "--dark", bad, "-o", tmp_path / "o2.png")[::2],
             contains="frame_depth")
    gray = tmp_path / "gray.png"  # right size, one channel: refused even when warm-up frames fill the stack
    cv2.imwrite(str(gray), np.zeros((48, 64), np.uint16))
    (tmp_path / "gray.manifest.json").write_text(json.dumps(man))
    one_line(*cli(capsys, "capture", "--device", SIM, "--dark", gray, "-o", tmp_path / "o3.png", "--frames", "2")[::2],
             contains="the references")
    assert not (tmp_path / "o3.png").exists()


def test_record_refuses_a_stray_frame_before_the_camera_starts(tmp_path, capsys):
    d = tmp_path / "rec"
    d.mkdir()
    (d / "frame_0001.png").write_bytes(b"mine")
    one_line(*cli(capsys, "record", "--device", SIM, "--frames", "2", d)[::2], contains="frame_0001.png")
    assert sorted(os.listdir(d)) == ["frame_0001.png"] and (d / "frame_0001.png").read_bytes() == b"mine"


def test_preview_takes_json_and_reports_errors_as_json(capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, out, err = cli(capsys, "preview", "--device", SIM, "--json")
    one_line(code, err, contains="no display")
    assert json.loads(out)["exit"] == 2


def test_serve_port_in_use_and_bad_host_are_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_cli("serve", "--dir", tmp_path, "--port", port, "--json", timeout=30)
        assert_one_line_error(r, contains="choose another --port")
        assert json.loads(r.stdout)["exit"] == 2
    r = run_cli("serve", "--dir", tmp_path, "--host", "no-such-host.invalid", "--token", "x" * 12, timeout=30)
    assert_one_line_error(r, contains="--host")


def test_damaged_index_says_reindex(tmp_path, capsys):
    db = tmp_path / "i.sqlite"
    with sqlite3.connect(db) as c:  # a real SQLite file, then cut short as by a full disk
        c.execute("CREATE TABLE meta (key, value)")
        c.executemany("INSERT INTO meta VALUES (?, ?)", [(str(i), "x" * 500) for i in range(200)])
    c.close()
    with open(db, "r+b") as f:
        f.truncate(3000)
    for args in (["dedupe", db], ["search", "--haystack", db, "--needles", db, "--no-refresh"]):
        one_line(*cli(capsys, *args)[::2], contains="re-index")


def _server(greeting: bytes | None):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve():
        conn, _ = srv.accept()
        if greeting:
            conn.sendall(greeting)
        try:
            conn.recv(1)  # hold the line until the client gives up
        except OSError:
            pass
        conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv, f"tcp://127.0.0.1:{srv.getsockname()[1]}"


@pytest.mark.parametrize("greeting,words", [(None, "no answer within"), (b"HTTP/1.1 400 Bad\r\n", "not as a Dask")])
def test_scheduler_address_that_is_not_dask_fails_in_bounded_time(greeting, words):
    srv, address = _server(greeting)
    with srv, pytest.raises(InputError, match=words):
        batch._probe(address, timeout=0.5)


def test_local_scheduler_worker_count_is_bounded():
    with pytest.raises(InputError, match="at most"):
        batch.check_scheduler("local:99999")
    assert batch.check_scheduler("local:1") == "local:1"

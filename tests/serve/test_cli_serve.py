"""`scopecheck serve` as a user runs it: address printed, API answers, Ctrl-C exits 130; bad options exit 2."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from tests.conftest import ROOT, assert_one_line_error, sigint_default
from tests.serve.conftest import run_cli_many


def test_serve_answers_then_ctrl_c_stops_it(tmp_path):
    shots = tmp_path / "new" / "shots"  # created when missing
    p = subprocess.Popen([sys.executable, "-m", "scopecheck", "serve", "--device", "sim", "--dir", str(shots),
                          "--port", "0", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=ROOT, preexec_fn=sigint_default)
    try:
        lines = []
        while not lines or lines[-1] != "}":
            line = p.stdout.readline()
            assert line, p.stderr.read()
            lines.append(line.rstrip("\n"))
        info = json.loads("\n".join(lines))
        assert info["host"] == "127.0.0.1" and info["port"] > 0 and os.path.isdir(shots)
        t0 = time.monotonic()
        while True:
            with urllib.request.urlopen(info["url"] + "api/device", timeout=5) as r:
                st = json.load(r)
            if st["state"] == "live" or time.monotonic() - t0 > 15:
                break
            time.sleep(0.1)
        assert st["state"] == "live" and st["camera"]["kind"] == "simulated"
        # a live MJPEG client must not hold the shutdown up
        stream = urllib.request.urlopen(info["url"] + "api/live.mjpg", timeout=5)
        assert stream.read(7) == b"--frame"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=15) == 130
        assert time.monotonic() - t0 < 5
        assert "interrupted" in p.stderr.read()
        stream.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_bad_serve_options_are_one_line(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    cases = [(("serve", "--dir", tmp_path, "--host", "0.0.0.0"), "needs --token"),
             (("serve", "--dir", tmp_path, "--host", "0.0.0.0", "--token", "short"), "at least 8"),
             (("serve", "--dir", f), "not a directory"),
             (("serve", "--dir", tmp_path, "--port", "70000"), "--port")]
    for r, (_, message) in zip(run_cli_many(*(a for a, _ in cases)), cases):
        assert_one_line_error(r, contains=message)

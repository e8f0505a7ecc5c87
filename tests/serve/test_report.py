"""`compare --report`: one self-contained HTML file, no clobbering, no FastAPI on the compare path."""
import base64
import json
import re
import subprocess
import sys

import cv2
import numpy as np

from tests.conftest import COMPARE_FIX, assert_one_line_error, run_cli
from tests.serve.conftest import PAIR, run_cli_many

A, B = (f"{COMPARE_FIX}/{n}" for n in PAIR)


def embedded(html, element_id):
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.DOTALL)
    return json.loads(m.group(1))


def test_report_is_self_contained_and_holds_the_cli_json(tmp_path):
    out = tmp_path / "r.html"
    r = run_cli("compare", A, B, "--report", out)
    assert r.returncode == 1, r.stderr  # different, as without --report
    assert f"wrote HTML report {out}" in r.stdout
    html = out.read_text()
    assert embedded(html, "scopecheck-compare") == json.loads(run_cli("compare", A, B, "--json").stdout)
    view = embedded(html, "scopecheck-view")
    # the embedded images are the files' own bytes; the heat map decodes to A's size
    for side, path in (("a", A), ("b", B)):
        with open(path, "rb") as f:
            assert base64.b64decode(view[side]["src"].split(",", 1)[1]) == f.read()
    heat = cv2.imdecode(np.frombuffer(base64.b64decode(view["heat"].split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert heat.shape == (240, 320, 3)
    assert view["regions"] and view["regions"][0]["width"] > 0
    # nothing is fetched: no src/href to anything but data: URIs, and a CSP that forbids it
    assert not re.search(r'(src|href)\s*=\s*"(?!data:)', html)
    assert "default-src 'none'" in html and "ScopeViewer" in html


def test_report_does_not_clobber(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("keep me")
    exists, png, nodir = run_cli_many(("compare", A, B, "--report", out),
                                      ("compare", A, B, "--report", tmp_path / "r.png"),
                                      ("compare", A, B, "--report", tmp_path / "no" / "r.html"))
    assert_one_line_error(exists, contains="exists; pass --overwrite")
    assert out.read_text() == "keep me"
    assert_one_line_error(png, contains=".html")
    assert_one_line_error(nodir, contains="does not exist")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]  # no stray temporary file


def test_identical_pair_report(tmp_path):
    out = tmp_path / "same.html"
    assert run_cli("compare", A, A, "--report", out).returncode == 0
    assert embedded(out.read_text(), "scopecheck-compare")["verdict"] == "identical-file"


def test_compare_and_the_parser_never_import_the_web_stack():
    code = ("import sys; from scopecheck.cli import build_parser; build_parser();"
            "import scopecheck.serve.report, scopecheck.commands.compare;"
            "bad = [m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules]; print(bad)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_report_of_a_crop_shows_the_window_both_were_judged_on(tmp_path):
    # B is A with its border trimmed: the views, the heat map and the region boxes are the window's
    img = cv2.imread(A, cv2.IMREAD_UNCHANGED)
    changed = img.copy()
    changed[100:130, 150:180] = 255 - changed[100:130, 150:180]  # a change, in A's pixels
    b = tmp_path / "b.png"
    assert cv2.imwrite(str(b), changed[3:-2, 2:-4])
    out = tmp_path / "r.html"
    r = run_cli("compare", A, b, "--report", out)
    assert r.returncode == 1, r.stderr
    view = embedded(out.read_text(), "scopecheck-view")
    h, w = img.shape[0] - 5, img.shape[1] - 6
    assert (view["width"], view["height"]) == (w, h)
    with open(A, "rb") as f:  # A's own bytes, shown through the window's box
        assert base64.b64decode(view["a"]["src"].split(",", 1)[1]) == f.read()
    assert view["a"]["box"] == {"x": 2, "y": 3, "full_width": img.shape[1], "full_height": img.shape[0]}
    assert "box" not in view["b"]
    heat = cv2.imdecode(np.frombuffer(base64.b64decode(view["heat"].split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert heat.shape[:2] == (h, w)
    boxes = [(g["x"], g["y"], g["x"] + g["width"], g["y"] + g["height"]) for g in view["regions"]]
    assert any(x0 <= 165 - 2 <= x1 and y0 <= 115 - 3 <= y1 for x0, y0, x1, y1 in boxes), boxes

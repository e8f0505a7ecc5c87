"""The HTTP API through FastAPI's TestClient: same JSON as the CLI, paths confined to --dir, guards."""
import json
import os

import cv2
import numpy as np
import pytest

from scopecheck.compare.digest import pixel_sha256
from scopecheck.compare.errors import InputError
from scopecheck.compare.load import load
from tests.conftest import run_cli
from tests.serve.conftest import PAIR, make_client, run_together


def cli_json(*args):
    r = run_cli(*args, "--json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


# --------------------------------------------------------------------------- same JSON as the CLI

def test_compare_is_the_cli_json(client, shot_dir):
    r = client.post("/api/compare", json={"a": PAIR[0], "b": PAIR[1]})
    assert r.status_code == 200, r.text
    real = [os.path.realpath(shot_dir / n) for n in PAIR]
    assert r.json() == cli_json("compare", *real)
    assert r.json()["verdict"] == "different"


def test_dedupe_is_the_cli_json(client, shot_dir):
    (shot_dir / "copy.png").write_bytes((shot_dir / PAIR[0]).read_bytes())
    r = client.post("/api/dedupe", json={})
    assert r.status_code == 200, r.text
    assert r.json() == cli_json("dedupe", os.path.realpath(shot_dir))
    assert r.json()["counts"]["exact"] == 1


def test_search_finds_the_copy(client, shot_dir):
    (shot_dir / "sub").mkdir()
    (shot_dir / "sub" / "copy.png").write_bytes((shot_dir / PAIR[0]).read_bytes())
    r = client.post("/api/search", json={"needle": "sub/copy.png"})
    assert r.status_code == 200, r.text
    matches = {os.path.basename(m["path"]): m for m in r.json()["needles"][0]["matches"]}
    assert matches[PAIR[0]]["file_equal"] is True


def test_shot_is_the_capture_json_and_lands_in_the_gallery(sim_client, shot_dir):
    r = sim_client.post("/api/shots", json={"frames": 4, "warmup": "auto"})
    assert r.status_code == 200, r.text
    shot = r.json()
    assert set(shot) >= {"path", "manifest", "sha256", "pixel_sha256", "width", "height", "frames", "controls"}
    assert os.path.dirname(shot["path"]) == os.path.realpath(shot_dir)
    # the digest is the one compare computes from the decoded file (independent of the writer)
    assert shot["pixel_sha256"] == pixel_sha256(load(shot["path"]).pixels)
    with open(shot["manifest"]) as f:
        manifest = json.load(f)
    assert manifest["image"]["pixel_sha256"] == shot["pixel_sha256"]
    names = [s["name"] for s in sim_client.get("/api/shots").json()["shots"]]
    assert names[0] == os.path.basename(shot["path"])  # newest first
    m = sim_client.get("/api/manifest", params={"name": names[0]})
    assert m.json() == manifest
    # the table shows the shot's own control outcomes afterwards
    rows = {row["control"]: row for row in sim_client.get("/api/device").json()["controls"]}
    assert rows["exposure"]["outcome"]["status"] == next(c["status"] for c in shot["controls"]
                                                         if c["control"] == "exposure")


def test_two_clients_shoot_at_once(sim_client):
    results, errors = [], []

    def shoot():
        r = sim_client.post("/api/shots", json={"frames": 3, "warmup": "0"})
        (results if r.status_code == 200 else errors).append(r.json())

    run_together(shoot)
    assert not errors, errors
    assert len({r["path"] for r in results}) == 2
    assert all(os.path.exists(r["manifest"]) for r in results)


# --------------------------------------------------------------------------- live view

def test_live_frame_and_numbers(sim_client):
    r = sim_client.get("/api/live.jpg", params={"after": 0})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (240, 320, 3)
    seq = int(r.headers["x-frame-seq"])
    later = sim_client.get("/api/live.jpg", params={"after": seq})
    assert int(later.headers["x-frame-seq"]) > seq
    none = sim_client.get("/api/live.jpg", params={"after": 10**9, "timeout": 0.05})
    assert none.status_code == 204 and none.headers["x-device-state"] == "live"
    frame = sim_client.get("/api/live").json()["frame"]
    assert len(frame["histogram"]) == 64 and sum(frame["histogram"]) == 320 * 240
    assert frame["focus"] > 0 and isinstance(frame["clipping"], bool)


def test_mjpeg_stream(sim_client):
    r = sim_client.get("/api/live.mjpg", params={"frames": 2})
    assert r.headers["content-type"].startswith("multipart/x-mixed-replace; boundary=frame")
    parts = [p for p in r.content.split(b"--frame\r\n") if p]
    assert len(parts) == 2
    for p in parts:
        head, _, body = p.partition(b"\r\n\r\n")
        assert b"image/jpeg" in head
        assert cv2.imdecode(np.frombuffer(body[:-2], np.uint8), cv2.IMREAD_COLOR) is not None


def test_control_outcome_is_read_back(sim_client):
    r = sim_client.post("/api/device/controls", json={"control": "exposure", "mode": "20"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "set" and r.json()["readback"] == pytest.approx(20.0)
    bad = sim_client.post("/api/device/controls", json={"control": "exposure", "mode": "bright"})
    assert bad.status_code == 400 and "expected auto, lock, auto-freeze, leave or a number" in bad.json()["error"]


def test_without_device(client):
    assert client.get("/api/device").json()["state"] == "none"
    r = client.post("/api/shots", json={})
    assert r.status_code == 400 and "--device" in r.json()["error"]


# --------------------------------------------------------------------------- paths confined to --dir

@pytest.mark.parametrize("name", ["../outside.png", "/etc/passwd", "sub/../../outside.png", "link_out.png",
                                  "linkdir/outside.png"])
def test_paths_outside_dir_refused(client, shot_dir, name):
    outside = shot_dir.parent / "outside.png"
    outside.write_bytes((shot_dir / PAIR[0]).read_bytes())
    os.symlink(outside, shot_dir / "link_out.png")
    os.symlink(shot_dir.parent, shot_dir / "linkdir")
    for r in (client.post("/api/compare", json={"a": PAIR[0], "b": name}),
              client.get("/api/image", params={"name": name}),
              client.get("/api/thumb", params={"name": name}),
              client.get("/api/manifest", params={"name": name})):
        assert r.status_code == 403, (name, r.status_code, r.text)
        assert "outside the shot directory" in r.json()["error"]
    listed = [s["name"] for s in client.get("/api/shots").json()["shots"]]
    assert sorted(listed) == sorted(PAIR)


def test_inside_paths_work(client, shot_dir):
    r = client.get("/api/image", params={"name": str(shot_dir / PAIR[0])})
    assert r.status_code == 200 and r.content == (shot_dir / PAIR[0]).read_bytes()
    t = client.get("/api/thumb", params={"name": PAIR[0], "box": 64})
    assert cv2.imdecode(np.frombuffer(t.content, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (48, 64)
    assert client.get("/api/image", params={"name": "missing.png"}).status_code == 400


def test_tiff_is_sent_as_png(client, shot_dir):
    pixels = load(str(shot_dir / PAIR[0])).pixels
    cv2.imwrite(str(shot_dir / "x.tif"), pixels)
    r = client.get("/api/image", params={"name": "x.tif"})
    assert r.headers["content-type"] == "image/png"
    assert np.array_equal(cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED), pixels)


def test_a_stack_page_is_sent_as_png_and_named_by_the_compare(client, shot_dir):
    """A stack's compare shows the page its figures are of (JSON images.shown); the viewer asks
    /api/image for that page."""
    pixels = load(str(shot_dir / PAIR[0])).pixels
    other = 255 - pixels
    assert cv2.imwritemulti(str(shot_dir / "s1.tif"), [pixels, pixels])
    assert cv2.imwritemulti(str(shot_dir / "s2.tif"), [pixels, other])
    c = client.post("/api/compare", json={"a": "s1.tif", "b": "s2.tif"}).json()
    assert c["verdict"] == "different" and c["images"] == {"a": 2, "b": 2, "differ": [2], "shown": 2}
    r = client.get("/api/image", params={"name": "s2.tif", "page": c["images"]["shown"]})
    assert r.headers["content-type"] == "image/png"
    assert np.array_equal(cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED), other)
    bad = client.get("/api/image", params={"name": "s2.tif", "page": 3})
    assert bad.status_code == 400 and "holds 2 images" in bad.json()["error"]


def test_heat_map_matches_the_compare_map(client, shot_dir):
    from scopecheck.compare.pair import compare_files
    from scopecheck.compare.pictures import heat

    r = client.get("/api/heat", params={"a": PAIR[0], "b": PAIR[1]})
    assert r.headers["content-type"] == "image/png"
    c = compare_files(str(shot_dir / PAIR[0]), str(shot_dir / PAIR[1]), want_map=True)
    got = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(got, heat(1.0 - c.ssim_map))


# --------------------------------------------------------------------------- guards

def test_non_loopback_needs_a_token(shot_dir):
    from scopecheck.serve.app import create_app

    with pytest.raises(InputError, match="needs --token"):
        create_app(str(shot_dir), host="0.0.0.0")


def test_token_required_off_loopback(shot_dir):
    with make_client(shot_dir, host="0.0.0.0", token="s3cret-token") as c:
        assert c.get("/api/shots").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/api/shots", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        assert c.get("/api/shots", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        r = c.get("/?token=s3cret-token", follow_redirects=False)
        assert r.status_code == 303 and "scopecheck_token=s3cret-token" in r.headers["set-cookie"]
        assert "samesite=strict" in r.headers["set-cookie"].lower()
        assert c.get("/api/shots").status_code == 200  # the cookie now carries it


def test_loopback_server_refuses_other_host_names(client):
    r = client.get("/api/shots", headers={"Host": "attacker.example:8765"})
    assert r.status_code == 403 and "loopback" in r.json()["error"]
    assert client.get("/api/shots", headers={"Host": "localhost:8765"}).status_code == 200


def test_cross_site_post_refused(client):
    r = client.post("/api/compare", json={"a": PAIR[0], "b": PAIR[1]}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    ok = client.post("/api/compare", json={"a": PAIR[0], "b": PAIR[1]}, headers={"Origin": "http://127.0.0.1"})
    assert ok.status_code == 200


def test_page_headers_and_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and "scopecheck workstation" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    paths = client.get("/openapi.json").json()["paths"]
    for p, method in (("/api/device", "get"), ("/api/shots", "get"), ("/api/shots", "post"),
                      ("/api/compare", "post"), ("/api/live.jpg", "get"), ("/api/live.mjpg", "get"),
                      ("/api/dedupe", "post"), ("/api/search", "post")):
        assert method in paths[p], p
    assert "CompareBody" in json.dumps(client.get("/openapi.json").json()["components"])


def test_report_download_is_the_compare_report(client, shot_dir):
    from scopecheck.compare.pair import compare_files
    from scopecheck.serve.report import build_report

    r = client.get("/api/report", params={"a": PAIR[0], "b": PAIR[1]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'filename="ihc_shot1_vs_ihc_particle.html"' in r.headers["content-disposition"]
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    c = compare_files(*(os.path.realpath(shot_dir / n) for n in PAIR), want_map=True)
    assert r.text == build_report(c)


def test_a_shot_s_warm_up_is_bounded_before_the_camera_is_taken(sim_client):
    """A warm-up of 10**12 frames held the shared camera for ever (and then the server's shutdown)."""
    for warmup in ("1000000000000", "1001"):
        r = sim_client.post("/api/shots", json={"frames": 2, "warmup": warmup})
        assert r.status_code == 400 and ("at most 1000" in r.text or "between 0 and 100000" in r.text), r.text
    r = sim_client.post("/api/shots", json={"frames": 2, "warmup": "x" * 5000})
    assert r.status_code in (400, 422) and len(r.text) < 2000

"""The workstation and the report in a real browser: headless Debian Chromium driven by Playwright.

Skipped where /usr/bin/chromium (or the playwright package) is missing; `.ci/run` installs it.
With SCOPECHECK_SCREENSHOTS=DIR set, the tests also save the README's screenshots into DIR
(`SCOPECHECK_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/serve/test_browser.py`).
"""
import json
import os
import shutil

import pytest

from tests.conftest import COMPARE_FIX, ROOT, run_cli
from tests.serve.conftest import PAIR, LiveServer, fill

SHOTS = os.environ.get("SCOPECHECK_SCREENSHOTS")
VIEWPORT = {"width": 1100, "height": 700}


def snap(page, name):
    if SHOTS:
        d = SHOTS if os.path.isabs(SHOTS) else os.path.join(ROOT, SHOTS)
        os.makedirs(d, exist_ok=True)
        page.screenshot(path=os.path.join(d, f"{name}.png"))


@pytest.fixture(scope="module")
def server(browser, tmp_path_factory):
    from scopecheck.serve.app import create_app

    d = tmp_path_factory.mktemp("browser") / "shots"
    d.mkdir()
    fill(d)
    shutil.copy(os.path.join(COMPARE_FIX, PAIR[0]), d / "copy_of_shot1.png")
    with LiveServer(create_app(str(d), device="sim", fps=10)) as s:
        s.dir = d
        yield s


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: pg.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.problems.append(f"page error: {e}"))
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def test_page_loads_live_view_without_console_errors(server, page):
    page.goto(server.url + "/")
    page.wait_for_selector("#live-status[data-state=live]")
    page.wait_for_function("() => document.querySelector('#focus').textContent !== '–'")
    page.wait_for_function("() => document.querySelector('#live-img').naturalWidth === 320")
    # the histogram was drawn from the frame's 64 bins (dark bars on the light background)
    dark = page.evaluate("""() => { const c = document.querySelector('#hist');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 100) n++; return n; }""")
    assert dark > 500
    assert page.locator("#controls tbody tr").count() == 4
    assert page.locator("tr[data-control=exposure] td.status").inner_text() in ("as found", "unsupported")
    snap(page, "live")
    assert page.problems == []


def test_shot_taken_in_the_browser_appears_in_the_gallery(server, page):
    page.goto(server.url + "/")
    page.wait_for_selector("#live-status[data-state=live]")
    page.fill("#shoot-form input[name=frames]", "4")
    page.click("#shoot")
    name = page.wait_for_selector(".shot-name").inner_text()
    assert name.startswith("shot_") and (server.dir / name).exists()
    page.click("nav a[data-tab=shots]")
    page.wait_for_selector(f"figure.card[data-name='{name}']")
    page.wait_for_function("n => (document.querySelector(`figure[data-name='${n}'] img`) || {}).naturalWidth > 0", arg=name)
    page.locator(f"figure.card[data-name='{name}'] .show-manifest").click()  # a locator survives re-renders
    manifest = page.wait_for_selector("#manifest:not([hidden])").inner_text()
    assert json.loads(manifest.split("\n", 1)[1])["image"]["file"] == name
    snap(page, "gallery")
    assert page.problems == []


def test_compare_view_shows_the_verdict_and_the_slider_moves_the_split(server, page):
    page.goto(server.url + "/#compare")
    page.wait_for_selector(f"#cmp-a option[value='{PAIR[0]}']", state="attached")
    page.select_option("#cmp-a", PAIR[0])
    page.select_option("#cmp-b", PAIR[1])
    page.click("#cmp-go")
    verdict = page.wait_for_selector(".sv-verdict").get_attribute("data-verdict")
    assert verdict == "different" == page.locator(".sv-verdict").inner_text()
    assert page.locator(".sv-region").count() == 2  # one changed region, drawn on both panes
    page.wait_for_function("() => [...document.querySelectorAll('.sv-img')].every(i => i.naturalWidth > 0)")

    # linked zoom: a wheel over one pane zooms both
    box = page.locator(".sv-pane[data-pane='0']").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    before = page.evaluate("() => scopecheckViewer.state.s")
    page.mouse.wheel(0, -400)
    page.wait_for_function("s => scopecheckViewer.state.s > s", arg=before)
    t0, t1 = (page.locator(f".sv-pane[data-pane='{i}'] .sv-world").evaluate("e => e.style.transform") for i in (0, 1))
    assert t0 == t1 and "scale" in t0
    page.keyboard.press("0")  # fit again

    # swipe: moving the slider moves the split line and B's clip
    page.click("button[data-mode=swipe]")
    split = page.locator(".sv-split")
    clip = page.locator(".sv-pane[data-pane='0'] .sv-b")
    left0, clip0 = split.evaluate("e => e.style.left"), clip.evaluate("e => e.style.clipPath")
    assert left0 == "50%"
    page.focus(".sv-amount")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert split.evaluate("e => e.style.left") == "55%"
    assert clip.evaluate("e => e.style.clipPath") != clip0
    # dragging the split line itself moves it too
    box = page.locator(".sv-pane[data-pane='0']").bounding_box()  # full width now
    x = box["x"] + box["width"] * 0.55
    page.mouse.move(x, box["y"] + 50)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 50, steps=4)
    page.mouse.up()
    assert 25 <= float(split.evaluate("e => e.style.left").rstrip("%")) <= 35
    snap(page, "compare")

    # keyboard 1 / 2 flip between A and B
    page.locator(".sv-pane[data-pane='0']").hover()
    page.keyboard.press("2")
    assert page.locator("#cmp-viewer").get_attribute("data-shown") == "b"
    assert page.locator(".sv-pane[data-pane='0'] .sv-a").evaluate("e => e.style.visibility") == "hidden"
    page.keyboard.press("1")
    assert page.locator("#cmp-viewer").get_attribute("data-shown") == "a"
    page.click("button[data-mode=heat]")
    assert float(page.locator(".sv-pane[data-pane='0'] .sv-heat").evaluate("e => e.style.opacity")) > 0
    page.wait_for_function("() => document.querySelector('.sv-heat').naturalWidth === 320")
    with page.expect_download() as download:
        page.click("#cmp-report")
    assert download.value.suggested_filename == "ihc_shot1_vs_ihc_particle.html"
    with open(download.value.path(), encoding="utf-8") as f:
        assert 'id="scopecheck-compare"' in f.read()
    assert page.problems == []


def test_recording_that_ends_shows_a_message_and_recovers(browser, page, tmp_path):
    from scopecheck.serve.app import create_app

    rec = os.path.join(ROOT, "fixtures", "recordings", "ihc_still_a", "frame_%04d.png")  # 11 frames
    with LiveServer(create_app(str(tmp_path), device=rec, fps=30)) as s:
        page.goto(s.url + "/")
        page.wait_for_function("() => /ended after \\d+ frame/.test(document.querySelector('#live-status').textContent)")
        page.wait_for_selector("#live-status[data-state=live]")  # reopened: frames flow again
        def seq():
            return page.evaluate("() => fetch('/api/live').then(r => r.json()).then(j => j.frame.seq)")
        first = seq()
        for _ in range(50):
            if seq() > first:
                break
            page.wait_for_timeout(100)
        assert seq() > first
        assert page.problems == []


def test_token_opens_the_page_once_then_a_cookie_carries_it(browser, tmp_path):
    from scopecheck.serve.app import create_app

    fill(tmp_path)
    # as started with --host 0.0.0.0 --token T (the test still listens on loopback only)
    with LiveServer(create_app(str(tmp_path), host="0.0.0.0", token="bench-token-1234")) as s:
        context = browser.new_context(viewport=VIEWPORT)
        assert context.new_page().goto(s.url + "/").status == 401
        pg = context.new_page()  # its own console: the 401 page's favicon request logs a late 401
        problems = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.goto(s.url + "/?token=bench-token-1234")
        assert pg.url == s.url + "/"  # the token left the address bar
        pg.click("nav a[data-tab=shots]")
        pg.wait_for_selector(f"figure.card[data-name='{PAIR[0]}']")
        pg.wait_for_function("() => [...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)")
        assert problems == []
        context.close()


def test_duplicates_with_thumbnails(server, page):
    page.goto(server.url + "/#dupes")
    page.click("#dedupe-go")
    group = page.wait_for_selector(".group[data-kind=exact]")
    assert group.query_selector_all(".thumb") and len(group.query_selector_all(".thumb")) == 2
    page.wait_for_function("() => [...document.querySelectorAll('.group img')].every(i => i.complete && i.naturalWidth > 0)")
    snap(page, "duplicates")
    assert page.problems == []


def test_report_renders_offline(browser, tmp_path):
    out = tmp_path / "report.html"
    a, b = (os.path.join(COMPARE_FIX, n) for n in PAIR)
    assert run_cli("compare", a, b, "--report", out).returncode == 1
    context = browser.new_context(viewport=VIEWPORT, offline=True)
    requests = []

    def only_the_file(route):
        requests.append(route.request.url)
        route.continue_() if route.request.url == out.as_uri() else route.abort()
    context.route("**/*", only_the_file)
    pg = context.new_page()
    problems = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.goto(out.as_uri())
    assert pg.wait_for_selector(".sv-verdict").inner_text() == "different"
    pg.wait_for_function("() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)")
    assert pg.locator(".sv-img").count() == 6  # A, B, heat in each of the two panes
    pg.click("button[data-mode=swipe]")
    pg.focus(".sv-amount")
    pg.keyboard.press("End")
    assert pg.locator(".sv-split").evaluate("e => e.style.left") == "100%"
    pg.keyboard.press("Home")
    assert pg.locator(".sv-split").evaluate("e => e.style.left") == "0%"
    pg.click("button[data-mode=heat]")
    assert pg.locator(".sv").get_attribute("data-mode") == "heat"
    snap(pg, "report")
    assert [u for u in requests if u != out.as_uri()] == []
    assert problems == []
    context.close()


def test_compare_view_of_a_crop_shows_the_window_both_were_judged_on(server, page):
    import cv2

    img = cv2.imread(os.path.join(COMPARE_FIX, PAIR[0]), cv2.IMREAD_UNCHANGED)
    assert cv2.imwrite(str(server.dir / "trimmed.png"), img[3:-2, 2:-4])  # B: A with its border trimmed
    page.goto(server.url + "/#compare")
    page.wait_for_selector("#cmp-a option[value='trimmed.png']", state="attached")
    page.select_option("#cmp-a", PAIR[0])
    page.select_option("#cmp-b", "trimmed.png")
    page.click("#cmp-go")
    assert page.wait_for_selector(".sv-verdict").get_attribute("data-verdict") == "near-identical"
    page.wait_for_function("() => [...document.querySelectorAll('.sv-img')].every(i => i.naturalWidth > 0)")
    world = page.locator(".sv-pane[data-pane='0'] .sv-world")
    assert world.evaluate("e => [e.style.width, e.style.height, e.style.overflow]") == [
        f"{img.shape[1] - 6}px", f"{img.shape[0] - 5}px", "hidden"]
    a = page.locator(".sv-pane[data-pane='0'] .sv-a")  # A shifted so that the window fills the view
    assert a.evaluate("e => [e.style.left, e.style.top, e.style.width]") == ["-2px", "-3px", f"{img.shape[1]}px"]
    b = page.locator(".sv-pane[data-pane='0'] .sv-b")
    assert b.evaluate("e => [e.style.left, e.style.width]") == ["", f"{img.shape[1] - 6}px"]
    assert page.problems == []


def test_compare_view_of_two_stacks_shows_the_page_that_differs(server, page):
    """Two TIFF stacks equal on page 1: the viewer loads page 2 of each, the page the verdict is of."""
    import cv2

    img = cv2.imread(os.path.join(COMPARE_FIX, PAIR[0]), cv2.IMREAD_UNCHANGED)
    assert cv2.imwritemulti(str(server.dir / "stack1.tif"), [img, img])
    assert cv2.imwritemulti(str(server.dir / "stack2.tif"), [img, 255 - img])
    page.goto(server.url + "/#compare")
    page.wait_for_selector("#cmp-a option[value='stack2.tif']", state="attached")
    page.select_option("#cmp-a", "stack1.tif")
    page.select_option("#cmp-b", "stack2.tif")
    page.click("#cmp-go")
    assert page.wait_for_selector(".sv-verdict").get_attribute("data-verdict") == "different"
    page.wait_for_function("() => [...document.querySelectorAll('.sv-img')].every(i => i.naturalWidth > 0)")
    srcs = page.evaluate("() => [...document.querySelectorAll('.sv-pane[data-pane=\"0\"] .sv-a, "
                         ".sv-pane[data-pane=\"0\"] .sv-b')].map(i => i.getAttribute('src'))")
    assert srcs and all(s.endswith("&page=2") for s in srcs), srcs
    assert page.problems == []

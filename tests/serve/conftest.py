"""Fixtures for the web workstation: a shot folder, an API client, a live server and Chromium."""
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import COMPARE_FIX, ROOT

pytest.importorskip("fastapi")

CHROMIUM = os.environ.get("SCOPECHECK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAIR = ("ihc_shot1.png", "ihc_particle.png")  # one local change: verdict "different"


def fill(directory):
    for name in PAIR:
        shutil.copy(os.path.join(COMPARE_FIX, name), directory / name)
    return directory


@pytest.fixture
def shot_dir(tmp_path):
    d = tmp_path / "shots"
    d.mkdir()
    return fill(d)


def make_client(directory, **kw):
    from fastapi.testclient import TestClient

    from scopecheck.serve.app import create_app

    return TestClient(create_app(str(directory), **kw), base_url="http://127.0.0.1")


@pytest.fixture
def client(shot_dir):
    with make_client(shot_dir) as c:
        yield c


@pytest.fixture
def sim_client(shot_dir):
    with make_client(shot_dir, device="sim", fps=20) as c:
        wait_live(c)
        yield c


def run_together(fn, n: int = 2, timeout: float = 60.0) -> None:
    """Run ``fn`` in ``n`` threads at once (two browsers, two users) and wait for all of them."""
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


def wait_live(c, timeout=10.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        st = c.get("/api/device").json()
        if st["state"] == "live":
            return st
        time.sleep(0.05)
    raise AssertionError(f"device never went live: {st}")


class LiveServer:
    """uvicorn in a thread on a free port (the real server the browser talks to)."""

    def __init__(self, app):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="on", timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        t0 = time.monotonic()
        while not self.server.started:
            if time.monotonic() - t0 > 20 or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc):
        self.server.config.app.state.stopping.set()
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright (never a downloaded browser); skips where absent."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def run_cli_many(*argvs, timeout=120):
    """Run several command lines at once (each as run_cli would); results in the same order."""
    procs = [subprocess.Popen([sys.executable, "-m", "scopecheck", *map(str, a)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT) for a in argvs]
    out = []
    for p, a in zip(procs, argvs):
        stdout, stderr = p.communicate(timeout=timeout)
        out.append(subprocess.CompletedProcess(a, p.returncode, stdout, stderr))
    return out

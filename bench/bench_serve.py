"""What the web workstation costs on top of the library it calls.

Side by side in this process, medians of repeats:

* compare: ``compare_files(A, B, want_map=True)`` called directly (the reference) against
  ``POST /api/compare`` through a real uvicorn server on loopback (HTTP, JSON, path checks, heat
  map rendered for the viewer), for the 320x240 fixture pair and a 1600x1200 pair;
* shot: ``capture_series`` on a freshly opened camera (what ``scopecheck capture`` runs) against
  ``POST /api/shots`` (the live camera is released, the same session runs, the live view reopens);
* live view: the per-frame work of the live thread (focus measure, histogram, clipping, JPEG) on a
  1280x960 frame against the 33 ms a frame lasts at 30 fps, and the frames per second a polling
  client receives from ``/api/live.jpg`` with the live rate set to 30 fps.

The camera is the simulator replaying 24 frames it rendered once (rendering through the sensor
model costs more than everything measured here), so the figures are the workstation's own.

usage: .venv/bin/python bench/bench_serve.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from typing import ClassVar

import cv2
import numpy as np
from scopecheck.capture.session import CaptureOptions, capture_series
from scopecheck.capture.simulated import SimulatedCamera
from scopecheck.compare.pair import compare_files
from timing import median_ms  # bench/timing.py: this script's folder is on sys.path

from scopecheck.serve.app import create_app
from scopecheck.serve.pictures import live_frame

FIX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "compare")


class Replay(SimulatedCamera):
    """The simulator, replaying frames it rendered once (controls behave as simulated)."""

    frames: ClassVar[dict[tuple[int, int], list[np.ndarray]]] = {}

    def _render(self):
        cached = Replay.frames.setdefault(self.size, [])
        if len(cached) < 24:
            cached.append(super()._render())
            return cached[-1]
        self._k = (getattr(self, "_k", -1) + 1) % len(cached)
        return cached[self._k]


def opener(size):
    return lambda device: Replay(size=size, ae_start=1.0)


def post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tests.serve.conftest import LiveServer  # the tests' uvicorn-in-a-thread helper

    d = tempfile.mkdtemp(prefix="bench_serve_")
    try:
        for n in ("ihc_shot1.png", "ihc_particle.png"):
            shutil.copy(os.path.join(FIX, n), d)
        for n in ("ihc_shot1.png", "ihc_particle.png"):  # 1600x1200 versions, with noise of their own
            img = cv2.resize(cv2.imread(os.path.join(FIX, n)), (1600, 1200), interpolation=cv2.INTER_CUBIC)
            noise = np.random.default_rng(len(n)).normal(0, 2.0, img.shape)
            cv2.imwrite(os.path.join(d, "big_" + n), np.clip(img + noise, 0, 255).astype(np.uint8))

        print(f"{'what':44} {'library':>10} {'through HTTP':>13} {'ratio':>6}")
        app = create_app(d, device="replay", opener=opener((640, 480)), fps=8)
        with LiveServer(app) as s:
            for label, a, b in (("compare 320x240", "ihc_shot1.png", "ihc_particle.png"),
                                ("compare 1600x1200", "big_ihc_shot1.png", "big_ihc_particle.png")):
                pa, pb = os.path.join(d, a), os.path.join(d, b)
                ref = median_ms(lambda pa=pa, pb=pb: compare_files(pa, pb, want_map=True), args.repeats)
                api = median_ms(lambda a=a, b=b: post(s.url + "/api/compare", {"a": a, "b": b}), args.repeats)
                print(f"{label:44} {ref:8.1f} ms {api:10.1f} ms {api / ref:6.2f}")
            opts = CaptureOptions(frames=16, warmup="auto")
            template = os.path.join(d, "ref_{n:03d}.png")
            ref = median_ms(lambda: capture_series(opener((640, 480))(None), template, opts, count=1),
                            args.repeats)
            api = median_ms(lambda: post(s.url + "/api/shots", {"frames": 16, "warmup": "auto"}), args.repeats)
            print(f"{'shot 640x480, 16 frames, auto warm-up':44} {ref:8.1f} ms {api:10.1f} ms {api / ref:6.2f}")

        frame = Replay(size=(1280, 960)).read()
        per = median_ms(lambda: live_frame(frame, seq=1, time=0.0), args.repeats * 3)
        print(f"live view: work per 1280x960 frame {per:.1f} ms = {per / 33.3:.2f} of a frame at 30 fps")
        warm = Replay(size=(1280, 960))
        for _ in range(30):  # render the replayed frames before the clock starts
            warm.read()
        app = create_app(d, device="replay", opener=opener((1280, 960)), fps=30)
        with LiveServer(app) as s:
            seq, n, size, t0 = 0, 0, 0, time.monotonic()
            while time.monotonic() - t0 < 4.0:
                with urllib.request.urlopen(f"{s.url}/api/live.jpg?after={seq}&timeout=2", timeout=10) as r:
                    if r.status == 200:
                        seq, n, size = int(r.headers["X-Frame-Seq"]), n + 1, len(r.read())
            fps = n / (time.monotonic() - t0)
            print(f"live view 1280x960 at 30 fps asked: a polling client got {fps:.1f} frames/s, "
                  f"JPEG {size / 1024:.0f} kB")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

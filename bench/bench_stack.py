"""Stacking cost per 1920x1080 BGR frame against the 33.3 ms budget of 30 fps, and the noise law.

Usage: ``.venv/bin/python bench/bench_stack.py [--frames N] [--repeats R] [--quick]``

Part 1 (cost): :class:`capture.stack.Stacker` (stale-frame check, float32 accumulate, noise
sampling on the first pairs) side by side with a naive reference that keeps every frame and calls
``np.mean`` over the list. Numbers are medians over ``--repeats`` runs of ``--frames`` frames each;
``add`` is the per-frame cost paid while the camera streams, ``finish`` the one-off division and
rounding per shot. The ratio column is per-frame cost / 33.3 ms: below 1 keeps up with 30 fps.

Part 2 (noise law): one simulated camera (320x240, settings locked, auto warm-up) takes two
back-to-back single frames and two back-to-back N-frame shots at depth 16; the ratio of the
single-frame difference noise to the N-average difference noise is printed next to sqrt(N).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scopecheck.capture.session import CaptureOptions, CaptureSession  # noqa: E402
from scopecheck.capture.simulated import SimulatedCamera  # noqa: E402
from scopecheck.capture.stack import Stacker  # noqa: E402

BUDGET_MS = 1000.0 / 30.0


def make_frames(k: int, h: int = 1080, w: int = 1920) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    base = np.linspace(40, 210, w, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    return [np.clip(base + rng.normal(0, 3, base.shape).astype(np.float32), 0, 255).astype(np.uint8)
            for _ in range(k)]


def bench_stacker(frames, n):
    s = Stacker(expected=n)
    t0 = time.perf_counter()
    for i in range(n):
        s.add(frames[i % len(frames)])
    t1 = time.perf_counter()
    s.result(depth=8)
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1000, (t2 - t1) * 1000


def bench_naive(frames, n):
    kept = []
    t0 = time.perf_counter()
    for i in range(n):
        kept.append(frames[i % len(frames)].copy())  # a camera hands out a fresh buffer per frame
    t1 = time.perf_counter()
    np.rint(np.mean(kept, axis=0)).astype(np.uint8)
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1000, (t2 - t1) * 1000


def noise_law(ns=(4, 16, 64)):
    """Two back-to-back shots of one locked session, as a user takes them."""
    rows = []
    for n in ns:
        cam = SimulatedCamera("v4l2", seed=n, size=(320, 240))
        with CaptureSession(cam, CaptureOptions(frames=n, warmup="auto", depth=16)) as s:
            s.start()
            a1, b1 = (s.camera.read().astype(np.float64) for _ in range(2))
            an, bn = (s.stack().image / 257.0 for _ in range(2))
        rows.append((n, float(np.std(a1 - b1) / np.std(an - bn)), math.sqrt(n)))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer frames and repeats (smoke run)")
    a = ap.parse_args(argv)
    n, reps = (8, 2) if a.quick else (a.frames, a.repeats)
    frames = make_frames(8)
    bench_stacker(frames, 2)
    bench_naive(frames, 2)  # warm caches / page faults
    st = [bench_stacker(frames, n) for _ in range(reps)]
    nv = [bench_naive(frames, n) for _ in range(reps)]
    s_add, s_fin = statistics.median(x[0] for x in st), statistics.median(x[1] for x in st)
    n_add, n_fin = statistics.median(x[0] for x in nv), statistics.median(x[1] for x in nv)
    s_tot, n_tot = s_add + s_fin / n, n_add + n_fin / n
    print(f"stacking {n} frames of 1920x1080x3 uint8, median of {reps} runs; budget {BUDGET_MS:.1f} ms/frame (30 fps)")
    print(f"{'':>24} {'add ms/frame':>13} {'finish ms':>10} {'total ms/frame':>15} {'/ budget':>9}")
    print(f"{'Stacker (float32 acc)':>24} {s_add:13.2f} {s_fin:10.1f} {s_tot:15.2f} {s_tot / BUDGET_MS:9.3f}")
    print(f"{'naive np.mean(list)':>24} {n_add:13.2f} {n_fin:10.1f} {n_tot:15.2f} {n_tot / BUDGET_MS:9.3f}")
    print(f"Stacker memory: one float32 accumulator + one previous frame "
          f"({(frames[0].size * 4 + frames[0].nbytes) / 2**20:.0f} MiB); naive keeps all {n} frames "
          f"({n * frames[0].nbytes / 2**20:.0f} MiB) and a float64 mean")
    print()
    print("noise law, 320x240 simulated camera (locked), difference of two back-to-back N-frame averages:")
    print(f"{'N':>4} {'single/avg noise':>17} {'sqrt(N)':>8} {'rel. error':>10}")
    for n_, ratio, ideal in noise_law((4, 16) if a.quick else (4, 16, 64)):
        print(f"{n_:>4} {ratio:17.3f} {ideal:8.3f} {ratio / ideal - 1:+10.2%}")


if __name__ == "__main__":
    main()

"""Speed of a whole `compare` of two 5 MP shots as a ratio to merely decoding the two files.

Two 2592x1944 PNG shots of one retina field (sensor model, independent noise; B with a small local
change) are written to a temp dir. Side by side in this process, medians of repeats:

* reference: read + ``cv2.imdecode`` of A, then of B, one after the other (the floor);
* ``compare_files(A, B)``: decode both in parallel, digests, metadata, dHash, raw SSIM, PSNR,
  registration, photometric normalisation, noise floor and regions;
* the same with nothing overlapped: the analysis, its independent parts and the SSIM one after
  another in one thread (beside the digests of the two files);
* the same pieces without the alignment analysis (the scope of the first compare issue);
* the same with the SSIM map and both pictures (``--diff``/``--sheet``) rendered.

``--interleave`` measures the reference and the compare alternately, one of each per repeat, and
also prints the median of the per-repeat ratios: on a loaded machine both then see the same load.
It also prints both CPU times (every thread of the process), the minor page faults of each (fresh
memory costs about 4 us a 4 KiB page on these machines: a frame-sized temporary allocated anew each
time would show here) and the load average before and after.

``--threads`` (Linux) prints where a compare's CPU goes: each thread's CPU time from the kernel's
``/proc/self/task/*/schedstat``, summed by pool (``prepare``: decode, digests, dHash; ``analyse``:
the analysis and SSIM chunks; ``analyse-part``; ``ssim-band``; ``MainThread``; threads Python did
not start, i.e. OpenCV's and OpenBLAS's own pools), and the system time and context switches of the
process, medians of repeats. The pools' sum is the process's CPU time: nothing is left unexplained.

usage: .venv/bin/python bench/bench_compare.py [--repeats 7] [--jpeg] [--interleave] [--threads]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scopecheck.capture.sensor import SensorModel, expose, load_scene, view  # noqa: E402
from concurrent.futures import Future  # noqa: E402

import scopecheck.compare.align as align  # noqa: E402
import scopecheck.compare.pixel_pair as pixel_pair  # noqa: E402
from scopecheck.compare.pair import _pool, compare_files, prepare  # noqa: E402
from scopecheck.compare.similarity import diff_stats, ssim  # noqa: E402
from scopecheck.compare.pictures import diff_picture, sheet_picture  # noqa: E402
from timing import median_ms  # noqa: E402


def make_shots(tmp: str, ext: str):
    scene = load_scene("retina", scale=2.0)
    rng = np.random.default_rng(0)
    size = (2592, 1944)
    field = view(scene, origin=(150.0, 450.0), size=size, blur=0.8)
    a = expose(field, rng=rng, model=SensorModel())
    changed = field.copy()
    cv2.circle(changed, (1800, 700), 90, (0.1, 0.1, 0.1), -1, lineType=cv2.LINE_AA)
    b = expose(changed, rng=rng, model=SensorModel())
    paths = []
    for name, img in (("a", a), ("b", b)):
        p = os.path.join(tmp, name + ext)
        cv2.imwrite(p, img)
        paths.append(p)
    return paths


def _usage() -> tuple[float, int]:
    """CPU time of this process, all threads (user + system), in ms, and its minor page faults."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return 1e3 * (r.ru_utime + r.ru_stime), r.ru_minflt


def interleaved(ref, fn, repeats: int) -> list[tuple[float, float, float, float, int, int]]:
    """(reference ms, fn ms, reference CPU ms, fn CPU ms, reference minor faults, fn minor faults)
    of each repeat, the two run one after the other, after a warm-up; CPU time and faults count
    every thread of the process."""
    ref(), fn()
    out = []
    for _ in range(repeats):
        (c0, f0), t0 = _usage(), time.perf_counter()
        ref()
        (c1, f1), t1 = _usage(), time.perf_counter()
        fn()
        t2 = time.perf_counter()
        c2, f2 = _usage()
        out.append((1e3 * (t1 - t0), 1e3 * (t2 - t1), c1 - c0, c2 - c1, f1 - f0, f2 - f1))
    return out


def _task_cpu_ms() -> dict[int, float]:
    """CPU time (ms) of each thread of this process by native id, from the scheduler's statistics."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[int(tid)] = int(f.read().split()[0]) / 1e6
        except (OSError, ValueError, IndexError):  # the thread ended meanwhile
            pass
    return out


def _pool_name(name: str) -> str:
    """The pool a thread belongs to: its name less the worker number (``analyse-part_2`` ->
    ``analyse-part``)."""
    head, _, tail = name.rpartition("_")
    return head if head and tail.isdigit() else name


def per_thread(fn, repeats: int) -> tuple[dict[str, float], float, float, float]:
    """Medians over ``repeats`` calls of ``fn`` (after a warm-up): CPU ms per pool of threads, the
    process's CPU ms (getrusage), its system ms and its context switches (voluntary + involuntary)."""
    fn()
    pools: dict[str, list[float]] = {}
    total, system, switches = [], [], []
    for _ in range(repeats):
        r0, before = resource.getrusage(resource.RUSAGE_SELF), _task_cpu_ms()
        fn()
        after, r1 = _task_cpu_ms(), resource.getrusage(resource.RUSAGE_SELF)
        names = {t.native_id: _pool_name(t.name) for t in threading.enumerate()}
        run: dict[str, float] = {}
        for tid, ms in after.items():
            pool = names.get(tid, "not started by Python (OpenCV, OpenBLAS)")
            run[pool] = run.get(pool, 0.0) + ms - before.get(tid, 0.0)
        for pool, ms in run.items():
            pools.setdefault(pool, []).append(ms)
        total.append(1e3 * (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime))
        system.append(1e3 * (r1.ru_stime - r0.ru_stime))
        switches.append(r1.ru_nvcsw + r1.ru_nivcsw - r0.ru_nvcsw - r0.ru_nivcsw)
    med = statistics.median
    # a pool absent from a run spent nothing in it
    return ({k: med(v + [0.0] * (repeats - len(v))) for k, v in pools.items()}, med(total), med(system),
            med(switches))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--jpeg", action="store_true", help="JPEG shots instead of PNG")
    ap.add_argument("--interleave", action="store_true",
                    help="also time reference and compare alternately (one of each per repeat)")
    ap.add_argument("--threads", action="store_true",
                    help="also print the compare's CPU time by pool of threads (Linux), its system time and "
                         "context switches")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = make_shots(tmp, ".jpg" if args.jpeg else ".png")

        def decode_both():
            for p in (pa, pb):
                with open(p, "rb") as f:
                    cv2.imdecode(np.frombuffer(f.read(), np.uint8), cv2.IMREAD_UNCHANGED)

        def compare_basic():
            return compare_files(pa, pb)

        class _Inline:  # runs the analysis in the calling thread: the pipeline before the overlap
            def submit(self, fn, *args, **kw):
                f: Future = Future()
                f.set_result(fn(*args, **kw))
                return f

        def compare_sequential():  # no overlap at all: the analysis, its parts and the SSIM in turn
            overlapped, parts = pixel_pair._analysis_pool, align._tasks
            pixel_pair._analysis_pool = align._tasks = _Inline  # type: ignore[assignment]
            try:
                return compare_files(pa, pb)
            finally:
                pixel_pair._analysis_pool, align._tasks = overlapped, parts

        def compare_no_alignment():
            # the same pieces minus compare.align: digests, metadata, dHash, raw SSIM, PSNR, diffs
            fa, fb = _pool().submit(prepare, pa), _pool().submit(prepare, pb)
            a, b = fa.result(), fb.result()
            ssim(a.luma, b.luma, data_range=255, want_map=False)
            diff_stats(a.image.pixels, b.image.pixels)

        def compare_pictures():
            c = compare_files(pa, pb, want_map=True)
            diff_picture(c.ssim_map)
            sheet_picture(c.a.image.pixels, c.b.image.pixels, c.ssim_map, a_name=pa, b_name=pb,
                          verdict=c.verdict, reason=c.reason)

        if args.interleave:
            load0 = os.getloadavg()[0]
            runs = interleaved(decode_both, compare_basic, args.repeats)
            walls = [c / r for r, c, *_ in runs]
            print(f"interleaved, {args.repeats} repeats: reference {statistics.median(r for r, *_ in runs):.1f} ms, "
                  f"compare {statistics.median(x[1] for x in runs):.1f} ms, "
                  f"median ratio {statistics.median(walls):.2f}x (range {min(walls):.2f}-{max(walls):.2f}x)")
            print(f"  CPU time, all threads: reference {statistics.median(x[2] for x in runs):.1f} ms, "
                  f"compare {statistics.median(x[3] for x in runs):.1f} ms, median ratio "
                  f"{statistics.median(x[3] / x[2] for x in runs):.2f}x; load average {load0:.2f} -> "
                  f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
            print(f"  minor page faults: reference median {statistics.median(x[4] for x in runs):.0f}, compare median "
                  f"{statistics.median(x[5] for x in runs):.0f} (max {max(x[5] for x in runs)})")
        if args.threads and os.path.isdir("/proc/self/task"):
            pools, total, system, switches = per_thread(compare_basic, args.repeats)
            print(f"CPU of a compare by pool of threads, medians of {args.repeats}: process {total:.0f} ms "
                  f"(system {system:.0f} ms, {switches:.0f} context switches), pools together "
                  f"{sum(pools.values()):.0f} ms")
            for pool, ms in sorted(pools.items(), key=lambda kv: -kv[1]):
                if ms >= 0.5:
                    print(f"  {pool:42s} {ms:6.1f} ms")
        ref = median_ms(decode_both, args.repeats)
        basic = median_ms(compare_basic, args.repeats)
        sequential = median_ms(compare_sequential, args.repeats)
        no_align = median_ms(compare_no_alignment, args.repeats)
        pics = median_ms(compare_pictures, args.repeats)
        c = compare_basic()
        kind = "JPEG" if args.jpeg else "PNG"
        print(f"2592x1944 {kind}, medians of {args.repeats}:")
        print(f"  decode A then B (reference)      {ref:7.1f} ms   1.00x")
        print(f"  compare (aligned, regions)       {basic:7.1f} ms   {basic / ref:.2f}x")
        print(f"    analysis after SSIM, not beside {sequential:6.1f} ms   {sequential / ref:.2f}x")
        print(f"    of which without alignment     {no_align:7.1f} ms   {no_align / ref:.2f}x")
        print(f"  compare + diff map + pictures    {pics:7.1f} ms   {pics / ref:.2f}x")
        print(f"  verdict: {c.verdict}: {c.reason}")


if __name__ == "__main__":
    main()

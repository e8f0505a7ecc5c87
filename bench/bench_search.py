"""Hamming search speed: per-query radius search and all-pairs grouping, against a plain numpy scan.

    .venv/bin/python bench/bench_search.py            # 1e5, 1e6, 1e7 queries; pairs at 1e5, 1e6
    .venv/bin/python bench/bench_search.py --quick    # 1e5 and 1e6 only, brute-force pairs extrapolated
    .venv/bin/python bench/bench_search.py --full     # also time the brute-force all-pairs at 1e5 (~10 s)
    .venv/bin/python bench/bench_search.py --pairs    # only the all-pairs section
    .venv/bin/python bench/bench_search.py --huge 1e8 # only the memory-mapped multi-index at 1e8
                                                      # (needs ~2.5 GB RAM and 2 x 3.7 GB of disk in out/)

Data: uniform random 64-bit hashes with 1 % planted near-copies (0-4 bits flipped), and a "skewed"
set whose bits are biased and correlated like real dHashes of similar pictures (bucket sizes of
the multi-index are then uneven). Queries are existing hashes with 0-6 bits flipped. Times are
medians over the queries (or over repeats), one core (numpy does not thread these operations).
Every method's answer is checked against the plain scan before it is timed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scopecheck.compare.hamming import hamming_scan  # noqa: E402
from scopecheck.compare.multiindex import MultiIndex, build_file  # noqa: E402
from scopecheck.compare.pairs import _plan, radius_pairs  # noqa: E402


def uniform(n, rng):
    h = rng.integers(0, 2**63, n, dtype=np.int64).view(np.uint64) * np.uint64(2)
    h |= rng.integers(0, 2, n).astype(np.uint64)
    return plant(h, rng)


def skewed(n, rng, p=None):
    """Bits biased (p from 0.1 to 0.9) and in runs: like dHashes of one kind of picture."""
    p = rng.uniform(0.1, 0.9, 64) if p is None else p
    bits = rng.integers(0, 256, (n, 64), dtype=np.uint8) < np.round(p * 256).astype(np.uint8)
    bits[:, 1::2] ^= bits[:, ::2] & (rng.integers(0, 2, (n, 32), dtype=np.uint8) == 1)  # neighbours correlated
    h = np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)
    return plant(h, rng)


def plant(h, rng):
    n = h.size
    k = max(1, n // 100)
    src = rng.integers(0, n, k)
    dst = rng.integers(0, n, k)
    out = h.copy()
    out[dst] = h[src]
    for _ in range(4):
        flip = rng.random(k) < 0.5
        out[dst[flip]] ^= np.uint64(1) << rng.integers(0, 64, int(flip.sum())).astype(np.uint64)
    return out


def queries(h, count, rng):
    q = h[rng.integers(0, h.size, count)].copy()
    for _ in range(6):
        flip = rng.random(count) < 0.5
        q[flip] ^= np.uint64(1) << rng.integers(0, 64, int(flip.sum())).astype(np.uint64)
    return [int(x) for x in q]


def plain_scan(h, q, r):
    d = np.bitwise_count(h ^ np.uint64(q))
    i = np.flatnonzero(d <= r)
    return i, d[i]


def median_ms_fn(fn, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return 1e3 * float(np.median(ts))


def median_ms(fn, qs):
    ts = []
    for q in qs:
        t = time.perf_counter()
        fn(q)
        ts.append(time.perf_counter() - t)
    return 1e3 * float(np.median(ts))


def bench_queries(sizes, r=10):
    print(f"\n== per-query radius search, r={r} (median ms per query; ratio = plain / method)")
    print(f"{'data':8s} {'N':>9s} {'plain numpy':>12s} {'blocked scan':>13s} {'multi-index':>12s} "
          f"{'build':>8s} {'scan x':>7s} {'MIH x':>7s} {'hits/q':>7s}")
    rng = np.random.default_rng(1)
    for name, make in (("uniform", uniform), ("skewed", skewed)):
        for n in sizes:
            h = make(n, rng)
            count = 300 if n <= 1_000_000 else 60
            qs = queries(h, count, rng)
            t = time.perf_counter()
            mih = MultiIndex(h)
            build = time.perf_counter() - t
            hits = 0
            for q in qs[:20]:  # correctness: identical answers
                ref = plain_scan(h, q, r)
                for got in (hamming_scan(h, q, max_distance=r), mih.query(q, max_distance=r)):
                    assert np.array_equal(ref[0], got[0]) and np.array_equal(ref[1], got[1])
                hits += ref[0].size
            t_plain = median_ms(lambda q, h=h: plain_scan(h, q, r), qs)
            t_scan = median_ms(lambda q, h=h: hamming_scan(h, q, max_distance=r), qs)
            t_mih = median_ms(lambda q, mih=mih: mih.query(q, max_distance=r), qs)
            print(f"{name:8s} {n:9.0e} {t_plain:12.3f} {t_scan:13.3f} {t_mih:12.3f} {build:7.2f}s "
                  f"{t_plain / t_scan:7.1f} {t_plain / t_mih:7.1f} {hits / 20:7.1f}")
            del h, mih


def brute_pairs(h, r, block=256):
    """Reference: blockwise brute force over all pairs (the 'plain numpy' way)."""
    out_i, out_j = [], []
    n = h.size
    for s in range(0, n, block):
        a = h[s:s + block]
        d = np.bitwise_count(a[:, None] ^ h[None, s:])
        ii, jj = np.nonzero(d <= r)
        jj = jj + s
        keep = jj > ii + s
        out_i.append(ii[keep] + s)
        out_j.append(jj[keep])
    return np.concatenate(out_i), np.concatenate(out_j)


def bench_pairs(sizes, r=4, full=False, repeats=5):
    print(f"\n== all pairs within r={r} (median of {repeats} runs, seconds; load average {os.getloadavg()[0]:.1f})")
    rng = np.random.default_rng(2)
    check_n = 20_000
    h = uniform(check_n, rng)
    i, j, _ = radius_pairs(h, max_distance=r)
    bi, bj = brute_pairs(h, r)
    o = np.lexsort((bj, bi))
    assert np.array_equal(i, bi[o]) and np.array_equal(j, bj[o]), "pigeonhole != brute force"
    t = time.perf_counter()
    brute_pairs(h, r)
    t_small = time.perf_counter() - t
    print(f"(check: pigeonhole == brute force on {check_n} hashes, {i.size} pairs; brute force took "
          f"{t_small:.2f} s there)")
    print("(pigeonhole: median wall time, and CPU time of this process, which other jobs on the machine "
          "inflate less; plan: chunks m, of which k exact; memory: peak of numpy's allocations, tracemalloc)")
    print(f"{'data':8s} {'N':>9s} {'pigeonhole':>11s} {'CPU':>7s} {'plan':>6s} {'memory':>9s} {'pairs':>9s} "
          f"{'brute force':>12s} {'ratio':>7s}")
    for name, make in (("uniform", uniform), ("skewed", skewed)):
        for n in sizes:
            h = make(n, rng)
            ts, cs = [], []
            for _ in range(repeats):
                t, c = time.perf_counter(), time.process_time()
                i, j, _ = radius_pairs(h, max_distance=r)
                ts.append(time.perf_counter() - t)
                cs.append(time.process_time() - c)
            t_pig = float(np.median(ts))
            uniq = np.unique(h)
            plan = _plan(uniq, r)
            plan_s = "brute" if plan is None else f"{len(plan[0])}/{plan[1]}"
            del uniq
            tracemalloc.start()
            radius_pairs(h, max_distance=r)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            if full and n <= 100_000:
                t = time.perf_counter()
                brute_pairs(h, r)
                t_bf, note = time.perf_counter() - t, ""
            else:
                t_bf, note = t_small * (n / check_n) ** 2, " (extrapolated n^2)"
            print(f"{name:8s} {n:9.0e} {t_pig:10.3f}s {float(np.median(cs)):6.3f}s {plan_s:>6s} {peak / 1e6:6.0f} MB "
                  f"{i.size:9d} {t_bf:11.1f}s {t_bf / t_pig:7.0f}{note}")


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_huge(n: int, radii=(4, 7, 10), kinds=("uniform", "skewed"), keep=False):
    """The memory-mapped multi-index at ``n`` hashes against the plain numpy scan, side by side."""
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "out", "bench_search")
    os.makedirs(folder, exist_ok=True)
    print(f"\n== memory-mapped multi-index at N={n:.0e} (ms per query; plain numpy scan side by side)")
    rng = np.random.default_rng(5)
    for name in kinds:
        h = np.empty(n, dtype=np.uint64)
        step = 1_000_000
        p = rng.uniform(0.1, 0.9, 64)  # one skewed distribution for the whole set
        for s in range(0, n, step):  # in slices: the generators hold a few arrays of their size
            k = min(step, n - s)
            h[s:s + k] = uniform(k, rng) if name == "uniform" else skewed(k, rng, p)
        path = os.path.join(folder, f"mih-{name}-{n:.0e}.bin")
        t = time.perf_counter()
        build_file(path, h)
        build = time.perf_counter() - t
        mih = MultiIndex.open(path)
        qs = queries(h, 200, rng)
        for q in qs[:5]:  # correctness first: identical answers to the plain scan
            for r in radii:
                ref = plain_scan(h, q, r)
                got = mih.query(q, max_distance=r)
                assert np.array_equal(ref[0], got[0]) and np.array_equal(ref[1], got[1]), (name, r)
        size = os.path.getsize(path)
        print(f"{name}: built in {build:.0f} s into {path}: {size / 1e9:.2f} GB ({size / n:.1f} bytes a hash), "
              f"layout {mih.layout}; the hashes themselves {h.nbytes / 1e9:.2f} GB")
        for r in radii:
            cost = np.array([mih.cost(q, max_distance=r) for q in qs[:50]])
            passes = []
            for _ in range(2):  # first pass maps the pages it touches; second pass: a warm index
                ts = []
                for q in qs:
                    t = time.perf_counter()
                    mih.query(q, max_distance=r)
                    ts.append(time.perf_counter() - t)
                passes.append((1e3 * float(np.median(ts)), 1e3 * float(np.percentile(ts, 95))))
            t_plain = median_ms(lambda q, h=h, r=r: plain_scan(h, q, r), qs[:5])
            (m1, p1), (m2, p2) = passes
            print(f"  r={r:2d}: multi-index {m2:6.2f} ms (p95 {p2:.2f}; first pass {m1:.2f}, p95 {p1:.2f}), "
                  f"plain numpy scan {t_plain:7.1f} ms ({t_plain / m2:.0f}x); "
                  f"{cost[:, 0].mean():.0f} buckets, {np.median(cost[:, 1]):.0f} candidates a query")
        print(f"  process RSS after the queries {_rss_mb():.0f} MB (mapped pages touched + the {h.nbytes / 1e6:.0f} MB "
              "of hashes the plain scan needs)")
        del mih, h
        if not keep:
            os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip 1e7")
    ap.add_argument("--full", action="store_true", help="time brute-force pairs at 1e5 instead of extrapolating")
    ap.add_argument("--huge", type=float, default=None, metavar="N",
                    help="only time the memory-mapped multi-index at N hashes (e.g. 1e8)")
    ap.add_argument("--kinds", default="uniform,skewed", help="with --huge: which data sets")
    ap.add_argument("--pairs", action="store_true", help="only the all-pairs section")
    args = ap.parse_args()
    print(f"numpy {np.__version__}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}")
    a = np.random.default_rng(0).integers(0, 2**63, 1_000_000, dtype=np.int64).view(np.uint64)
    print(f"calibration (scale the times by it on a busy machine): np.sort of 1e6 uint64 takes "
          f"{median_ms_fn(lambda: np.sort(a), 7):.1f} ms")
    if args.huge:
        bench_huge(int(args.huge), kinds=args.kinds.split(","))
        return
    sizes = [10_000, 30_000, 100_000, 1_000_000] + ([] if args.quick else [10_000_000])
    if not args.pairs:
        bench_queries(sizes)
    bench_pairs([100_000, 1_000_000], full=args.full)


if __name__ == "__main__":
    main()

"""Accuracy harness for the noise-aware verdict (issue 5): confusion matrix and region hit rate.

Labelled pairs are generated from real micrographs through the sensor model (capture/pairs.py).
A pair counts as *same* when the verdict is identical-file, identical-pixels or near-identical.
A local change is *hit* when a reported region overlaps the true box of the change.

usage: .venv/bin/python bench/bench_accuracy.py [--n 100] [--seed 1] [--size 320x240] [--show-misses]
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from scopecheck.capture.pairs import KINDS, labelled_pairs  # noqa: E402
from scopecheck.compare.pair import SAME_VERDICTS, compare_arrays  # noqa: E402


def overlaps(r, box) -> bool:
    x, y, w, h = box
    return r.x < x + w and x < r.x + r.width and r.y < y + h and y < r.y + r.height


def run(n: int, seed: int, size, show_misses: bool = False):
    table = collections.defaultdict(collections.Counter)
    hits = total_changes = 0
    misses = []
    t0 = time.perf_counter()
    for p in labelled_pairs(n, seed=seed, size=size):
        c = compare_arrays(p.a, p.b)
        same = c.verdict in SAME_VERDICTS
        table[p.kind]["same" if same else "different"] += 1
        if same != p.same:
            misses.append((p.kind, p.scene, p.detail, c.reason))
        if p.truth is not None:
            total_changes += 1
            hits += any(overlaps(r, p.truth) for r in c.regions)
    elapsed = time.perf_counter() - t0
    return table, hits, total_changes, misses, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="pairs per kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    table, hits, total, misses, elapsed = run(args.n, args.seed, size)
    print(f"accuracy harness: {args.n} pairs per kind, seed {args.seed}, {size[0]}x{size[1]}, "
          f"{elapsed:.1f} s\n")
    print(f"{'kind':16} {'truth':9} {'same':>6} {'different':>10}  rate")
    for kind in KINDS:
        row = table[kind]
        truth = "same" if kind in ("repeat_locked", "repeat_drift", "rescaled") else "different"
        n = row["same"] + row["different"]
        print(f"{kind:16} {truth:9} {row['same']:6d} {row['different']:10d}  {100 * row[truth] / max(n, 1):5.1f} % right")
    print(f"\nregions overlapping the true change: {hits}/{total} = {100 * hits / max(total, 1):.1f} %")
    if args.show_misses or len(misses) <= 20:
        for m in misses:
            print("miss:", *m, sep="  ")


if __name__ == "__main__":
    main()

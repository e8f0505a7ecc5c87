"""Real-data harness (issue 9): the verdict of ``compare`` on labelled pairs of real captures.

Sources and how the pairs are made: ``bench/bench_real_pairs.py`` and ``fixtures/real/README.md``.
The first run gathers the sources into the cache (``--cache``, default ``out/real-cache``) from
the installed scikit-image, the mahotas wheel and git snapshots under ``--mirrors``; later runs
reuse it. Prints a confusion matrix per category; a pair counts as *same* when the verdict is
identical-file, identical-pixels or near-identical.

usage: .venv/bin/python bench/bench_real.py [--cache DIR] [--mirrors DIR] [--quick] [--show-misses]
       [--figures]  (per-category figures the thresholds act on: margins)
       [--blind]    (the totals only: no miss is printed, as a blind held-out run needs)
       [--split NAME] (tuning | heldout | heldout2 | ... | heldout11: a held-out validation split, never
                     tuned on, in its own cache, default ``out/NAME-cache``; heldout = ``bench/bench_real_sources3.py``,
                     heldout2 = ``bench/bench_real_sources4.py``, heldout3 = ``bench/bench_real_sources5.py``,
                     heldout4 = ``bench/bench_real_sources6.py``, heldout5 = ``bench/bench_real_sources7.py``,
                     heldout6 = ``bench/bench_real_sources8.py``,
                     heldout7 = ``bench/bench_real_sources9.py``, heldout8 = ``bench/bench_real_sources10.py``,
                     heldout9 = ``bench/bench_real_sources11.py``, heldout10 = ``bench/bench_real_sources12.py``,
                     heldout11 = ``bench/bench_real_sources13.py``)
                     [--heldout] (same as --split heldout)
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_real_pairs import CATEGORIES, SAME, build_cache, labelled_pairs
from bench_real_sources3 import CATEGORIES3, SAME3, labelled_pairs3
from bench_real_sources4 import CATEGORIES4, SAME4, labelled_pairs4
from bench_real_sources5 import CATEGORIES5, SAME5, labelled_pairs5
from bench_real_sources6 import CATEGORIES6, SAME6, labelled_pairs6
from bench_real_sources7 import CATEGORIES7, SAME7, labelled_pairs7
from bench_real_sources8 import CATEGORIES8, SAME8, labelled_pairs8
from bench_real_sources9 import CATEGORIES9, SAME9, labelled_pairs9
from bench_real_sources10 import CATEGORIES10, SAME10, labelled_pairs10
from bench_real_sources11 import CATEGORIES11, SAME11, labelled_pairs11
from bench_real_sources12 import CATEGORIES12, SAME12, labelled_pairs12
from bench_real_sources13 import CATEGORIES13, SAME13, labelled_pairs13
from scopecheck.compare.pair import SAME_VERDICTS, compare_files


def run(root: str, *, quick: bool = False, match: str | None = None, pairs=None):
    table = collections.defaultdict(collections.Counter)
    misses, figures = [], collections.defaultdict(list)
    t0 = time.perf_counter()
    for p in pairs if pairs is not None else labelled_pairs(root, quick=quick):
        if match and match not in f"{p.category} {p.name}":
            continue
        c = compare_files(p.a, p.b)
        same = c.verdict in SAME_VERDICTS
        table[p.category]["same" if same else "different"] += 1
        an = c.analysis
        if an is not None:
            figures[p.category].append({"name": p.name, "same": same, "corr": an.correlation,
                                        "ssim": an.ssim_aligned, "shift": float(sum(v * v for v in an.shift) ** 0.5),
                                        "region": max((r.area for r in an.regions), default=0)
                                        / (c.a.image.width * c.a.image.height) * 100,
                                        "dhash": c.dhash_distance, "reason": c.reason,
                                        "sharpness": an.sharpness_change, "blur": an.blur,
                                        "objects": an.moved_objects})
        if same != p.same:
            fig = figures[p.category][-1] if an is not None else None
            misses.append((p.category, p.name, c.verdict, c.reason) + ((
                f"corr {fig['corr']:.3f} ssim {fig['ssim']:.3f} shift {fig['shift']:.1f} px region {fig['region']:.2f} % "
                f"dhash {fig['dhash']} sharp {fig['sharpness']:+.3f}",) if fig else ()))
    return table, misses, figures, time.perf_counter() - t0


def print_table(table, categories=CATEGORIES, same_categories=SAME) -> None:
    print(f"{'category':18} {'truth':9} {'same':>6} {'different':>10}  right")
    for cat in categories:
        row = table.get(cat)
        if not row:
            continue
        truth = "same" if cat in same_categories else "different"
        n = row["same"] + row["different"]
        print(f"{cat:18} {truth:9} {row['same']:6d} {row['different']:10d}  {100 * row[truth] / max(n, 1):5.1f} %")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", help="cache folder (default out/real-cache; with --split NAME out/NAME-cache)")
    ap.add_argument("--mirrors", default="/work/.mirror")
    ap.add_argument("--quick", action="store_true", help="a few pairs per category")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--blind", action="store_true",
                    help="print the totals only, never the misses (a blind split stays blind; by default up "
                         "to 40 misses are printed)")
    ap.add_argument("--figures", action="store_true", help="per-category extremes of the decision figures")
    ap.add_argument("--json", help="write the figures of every pair to this file")
    ap.add_argument("--match", help="only the pairs whose 'category name' contains this text")
    ap.add_argument("--split", choices=("tuning", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6",
                                           "heldout7", "heldout8", "heldout9", "heldout10", "heldout11"),
                    default="tuning",
                    help="which real set: the tuning set, or a held-out validation split (bench_real_sources3, "
                         "bench_real_sources4 .. bench_real_sources13) that is never tuned on")
    ap.add_argument("--heldout", action="store_true", help="same as --split heldout")
    args = ap.parse_args()
    if args.heldout:
        args.split = "heldout"
    log = lambda m: print(m, file=sys.stderr)
    categories, same_categories, pairs = CATEGORIES, SAME, None
    splits = {"heldout": (CATEGORIES3, SAME3, labelled_pairs3), "heldout2": (CATEGORIES4, SAME4, labelled_pairs4),
              "heldout3": (CATEGORIES5, SAME5, labelled_pairs5), "heldout4": (CATEGORIES6, SAME6, labelled_pairs6),
              "heldout5": (CATEGORIES7, SAME7, labelled_pairs7), "heldout6": (CATEGORIES8, SAME8, labelled_pairs8),
              "heldout7": (CATEGORIES9, SAME9, labelled_pairs9), "heldout8": (CATEGORIES10, SAME10, labelled_pairs10),
              "heldout9": (CATEGORIES11, SAME11, labelled_pairs11),
              "heldout10": (CATEGORIES12, SAME12, labelled_pairs12),
              "heldout11": (CATEGORIES13, SAME13, labelled_pairs13)}
    if args.split in splits:
        args.cache = args.cache or f"out/{args.split}-cache"
        categories, same_categories, make_pairs = splits[args.split]
        pairs = make_pairs(args.cache, quick=args.quick, mirrors=args.mirrors, log=log)
    else:
        args.cache = args.cache or "out/real-cache"
        if not os.path.isdir(os.path.join(args.cache, "src")):
            build_cache(args.cache, mirrors=args.mirrors, log=log)
    table, misses, figures, elapsed = run(args.cache, quick=args.quick, match=args.match, pairs=pairs)
    n = sum(sum(r.values()) for r in table.values())
    label = {"tuning": "", "heldout": " (held-out split)", "heldout2": " (held-out split 2)",
             "heldout3": " (held-out split 3)", "heldout4": " (held-out split 4)",
             "heldout5": " (held-out split 5)", "heldout6": " (held-out split 6)",
             "heldout7": " (held-out split 7)", "heldout8": " (held-out split 8)",
             "heldout9": " (held-out split 9)", "heldout10": " (held-out split 10)",
             "heldout11": " (held-out split 11)"}[args.split]
    print(f"real-data harness{label}: {n} pairs, {elapsed:.1f} s\n")
    print_table(table, categories, same_categories)
    if args.figures:
        print("\nper category: min/max aligned correlation, SSIM, shift px, largest region %, sharpness, dHash, "
              "objects moved on their own")
        for cat in categories:
            f = figures.get(cat)
            if not f:
                continue
            def rng(k, f=f):
                v = [x[k] for x in f]
                return f"{min(v):.3f}..{max(v):.3f}"
            print(f"{cat:18} corr {rng('corr')}  ssim {rng('ssim')}  shift {rng('shift')}  "
                  f"region {rng('region')}  sharp {rng('sharpness')}  "
                  f"dhash {min(x['dhash'] for x in f)}..{max(x['dhash'] for x in f)}  "
                  f"objects {min(x['objects'] for x in f)}..{max(x['objects'] for x in f)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=1)
    if misses and not args.blind and (args.show_misses or len(misses) <= 40):
        print()
        for m in misses:
            print("miss:", *m, sep="  ")


if __name__ == "__main__":
    main()

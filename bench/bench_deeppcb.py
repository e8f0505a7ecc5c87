"""DeepPCB: a defect-free template against a tested board with 1-12 marked defects -- truth `different`.

``tangsanli5201/DeepPCB`` (MIT; pinned snapshot under ``--mirrors``, the search tool's ``fetch``;
nothing shipped): 1500 pairs of 640x640 binarised PCB images, JPEG, each ``<id>_temp.jpg`` (the
template) against ``<id>_test.jpg`` (the tested board), the defects' boxes in ``<id>.txt`` (open,
short, mouse bite, spur, spurious copper, pinhole). Every pair is truly different. Found by session
19's probe of new real sources: 105 of 1500 read `near-identical` -- the worst error there is. The
cause, measured on ``13000026``: the edges of two binarised captures jitter by a pixel, that jitter
sets the local noise of the blocks dense with traces at its cap (3x the frame's), and a defect 2-4 px
wide reads 3.0x there (README, "New real sources probed in session 19"). Session 20's cause 34
judges the residual also without what a displacement of up to a pixel explains (README, cause 34).

As a control, each template against itself re-encoded at JPEG quality 90 (truth `same`).

    .venv/bin/python bench/bench_deeppcb.py [--mirrors /work/.mirror] [--cache out/deeppcb] [--every K] [--show-misses]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import cv2

sys.path.insert(0, os.path.dirname(__file__))
from bench_real_fetch import git_blob, put, write_jpg  # noqa: E402

REPO = ("tangsanli5201/DeepPCB", "08e98c4db5922613fb97176eb3d6497d48260cb1")


def _pairs(mirrors: str) -> list[tuple[str, str]]:
    """``(template path, test path)`` in the snapshot, in order."""
    git_dir = os.path.join(mirrors, REPO[0].replace("/", "+"), "repo")
    if not os.path.isdir(git_dir):
        return []
    names = subprocess.run(["git", "-C", git_dir, "ls-tree", "-r", "--name-only", REPO[1], "PCBData"],
                           capture_output=True, text=True, check=False).stdout.split()
    tests = set(n for n in names if n.endswith("_test.jpg"))
    return [(n, n[:-len("_temp.jpg")] + "_test.jpg") for n in sorted(names)
            if n.endswith("_temp.jpg") and n[:-len("_temp.jpg")] + "_test.jpg" in tests]


def _file(mirrors: str, path: str, cache: Path) -> Path | None:
    out = cache / Path(path).name
    if not out.exists():
        data = git_blob(os.path.join(mirrors, REPO[0].replace("/", "+")), REPO[1], path)
        if data is None:
            return None
        cache.mkdir(parents=True, exist_ok=True)
        put(str(out), data)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirrors", default="/work/.mirror", help="git snapshots (the search tool's fetch)")
    ap.add_argument("--cache", default="out/deeppcb", help="where the files read are copied")
    ap.add_argument("--every", type=int, default=1, help="every K-th pair only (a quicker subset)")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    from scopecheck.compare.pair import SAME_VERDICTS, compare_files

    pairs = _pairs(args.mirrors)[::max(1, args.every)]
    if not pairs:
        print(f"DeepPCB not found: fetch github:{REPO[0]} under --mirrors")
        return 0
    cache = Path(args.cache)
    caught = judged = same_ok = same_n = 0
    for temp, test in pairs:
        a, b = _file(args.mirrors, temp, cache), _file(args.mirrors, test, cache)
        if a is None or b is None:
            continue
        c = compare_files(a, b)
        judged += 1
        if c.verdict not in SAME_VERDICTS:
            caught += 1
        elif args.show_misses:
            print(f"miss: {a.name} v {b.name}: {c.verdict}: {c.reason[:150]}")
        again = write_jpg(str(cache), a.stem + "_q90", cv2.imread(str(a), cv2.IMREAD_UNCHANGED), 90)
        same_n += 1
        same_ok += compare_files(a, again).verdict in SAME_VERDICTS
    print(f"template v tested board (different): {caught}/{judged} read different")
    print(f"template v itself at JPEG q90 (same): {same_ok}/{same_n} read same")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The second seed's whole job -- which needle folders are not in the haystack yet -- against a
reference implementation of the seed's pipeline, on one generated archive, in one run.

    .venv/bin/python bench/bench_archive.py                 # 400 haystack + 120 needle JPEGs, 3 runs
    .venv/bin/python bench/bench_archive.py --images 1000 --runs 5

The archive (written once under ``out/bench_archive/``, reused by later runs) is made from
scikit-image's bundled photos: random crops of them, brightness-jittered, resized to 1600x1200 and
saved as JPEG (quality 90) in haystack folders of 50; needle folders hold exact copies, re-encoded
copies (quality 75) and new pictures. A PNG archive (``--png``, 60 + 30 files) is made the same way.

Measured, each as the median of ``--runs`` (ratios are against the seed reference of the same run):

* **seed** -- our own re-implementation of the seed's pipeline (imread, gray, INTER_LINEAR to 9x8,
  a Python bit loop, a dict of hashes; exact-hash matches), one process, whole ``python`` process.
* **scopecheck, fresh** -- one ``scopecheck search --haystack HAY --needles NEEDLES`` (no index:
  both folders hashed in memory), and ``scopecheck index HAY``, ``index NEEDLES`` and the same
  search as three processes; with ``--jobs 2`` (2 cores) and ``--jobs 1`` (per core). Text output
  (the folders to import), as the seed prints.
* **scopecheck, warm** -- the search again after the indexes: both are used and found up to date.
* **floor** -- reading the files and the reduced DCT decode alone (1/8, what the hash needs), one
  core, in-process; against it, ``hash_file`` over the same files in-process (OpenCV and numpy's
  BLAS limited to one thread: no helper thread does part of the work on another core). The two are
  timed file by file side by side, in wall and in CPU time, so a passing load weighs on both; the
  minor page faults of each (``getrusage`` of the thread) are counted the same way.
* **parts** (``--parts``) -- where ``hash_file``'s time over the floor goes: ``hash_file`` again with
  one of its parts replaced by the value it returned for the same file (so everything after it runs
  unchanged), alternating with the floor and the whole ``hash_file``; each part's cost is the CPU
  time it takes away, measured in place, right after the decode as in a real run.
* **Dask** -- ``scopecheck index HAY --scheduler local:1`` and ``local:2`` (cluster start included).
* **imagehash / imagededup** -- their dHash of every file, one process, when they are installed
  (bench-only: ``pip install imagehash imagededup``).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCOPECHECK = [sys.executable, "-m", "scopecheck"]
PHOTOS = ("astronaut", "motorcycle_left", "hubble_deep_field", "immunohistochemistry", "cat", "camera", "coins",
          "moon", "page", "brick", "grass", "gravel", "text", "horse", "colorwheel", "logo",
          "chelsea", "coffee", "rocket", "retina")  # the last four only for new needles
SIZE = (1600, 1200)


# --------------------------------------------------------------------------- the archive

def _photos() -> list[np.ndarray]:
    from skimage import data

    out = []
    for name in PHOTOS:
        try:
            im = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a photo that needs a download (pooch): skip it
            continue
        if im.dtype != np.uint8:
            im = (im.astype(np.float64) * (255.0 / max(1, im.max()))).astype(np.uint8)
        if im.ndim == 2:
            im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGR)
        out.append(np.ascontiguousarray(im[..., :3][..., ::-1]))
    return out


def _picture(photos, rng) -> np.ndarray:
    """A random crop of one of ``photos``, brightness-jittered, at SIZE."""
    im = photos[int(rng.integers(len(photos)))]
    h, w = im.shape[:2]
    s = rng.uniform(0.45, 0.9)
    ch, cw = max(16, int(h * s)), max(16, int(w * s))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    crop = im[y:y + ch, x:x + cw].astype(np.float32) * rng.uniform(0.8, 1.15) + rng.uniform(-12, 12)
    interp = cv2.INTER_AREA if cw > SIZE[0] else cv2.INTER_CUBIC
    return np.clip(cv2.resize(crop, SIZE, interpolation=interp), 0, 255).astype(np.uint8)


def make_archive(root: Path, *, images: int, ext: str = ".jpg") -> tuple[Path, Path]:
    """Haystack and needles folders under ``root`` (made once; a marker file records the size)."""
    hay, needles = root / "haystack", root / "needles"
    marker = root / f"made-{images}{ext}"
    if marker.exists():
        return hay, needles
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(2026)
    photos = _photos()
    # new needles come from photos the haystack never used (crops of one photo can be near-duplicates)
    photos, unseen = photos[:-4], photos[-4:]
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if ext == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    files = []
    for k in range(images):
        p = hay / f"{2010 + k // 50}" / f"IMG_{k:05d}{ext}"
        p.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(p), _picture(photos, rng), params)
        files.append(p)
    per = max(2, images // 12)
    picks = rng.choice(len(files), size=3 * per, replace=False)
    plan = {"imported_copies": picks[:per], "imported_reencoded": picks[per:2 * per]}
    for folder, ks in plan.items():
        (needles / folder).mkdir(parents=True, exist_ok=True)
        for k in ks.tolist():
            src = files[k]
            if folder == "imported_copies" or ext != ".jpg":
                shutil.copy(src, needles / folder / src.name)
            else:
                cv2.imwrite(str(needles / folder / src.name), cv2.imread(str(src)), [cv2.IMWRITE_JPEG_QUALITY, 75])
    for folder in ("new_a", "new_b"):
        (needles / folder).mkdir(parents=True, exist_ok=True)
        for k in range(per // 2):
            cv2.imwrite(str(needles / folder / f"NEW_{k:04d}{ext}"), _picture(unseen, rng), params)
    (needles / "partly").mkdir(parents=True, exist_ok=True)
    for k in picks[2 * per:2 * per + per // 2].tolist():
        shutil.copy(files[k], needles / "partly" / files[k].name)
    cv2.imwrite(str(needles / "partly" / f"NEW_partly{ext}"), _picture(unseen, rng), params)
    marker.write_text("ok\n")
    return hay, needles


def image_files(folder: Path) -> list[str]:
    exts = (".jpg", ".jpeg", ".png")
    return sorted(str(Path(d) / f) for d, _, fs in os.walk(folder) for f in fs if f.lower().endswith(exts))


# --------------------------------------------------------------------------- the seed's pipeline

SEED = r'''
import os, sys, cv2
def dhash(image, hash_size=8):
    resized = cv2.resize(image, (hash_size + 1, hash_size))   # INTER_LINEAR, as the seed
    diff = resized[:, 1:] > resized[:, :-1]
    return sum([2 ** i for (i, v) in enumerate(diff.flatten()) if v])
def paths(folder):
    for d, _, fs in os.walk(folder):
        for f in sorted(fs):
            if f.lower().endswith((".jpg", ".jpeg", ".png")):
                yield os.path.join(d, f)
hashes = {}
for p in paths(sys.argv[1]):
    image = cv2.imread(p)
    if image is None:
        continue
    hashes.setdefault(dhash(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)), []).append(p)
todo = set()
for p in paths(sys.argv[2]):
    image = cv2.imread(p)
    if image is not None and dhash(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)) not in hashes:
        todo.add(os.path.dirname(p))
print("\n".join(sorted(todo)))
'''


# Installed packages run from compiled bytecode; a PYTHONDONTWRITEBYTECODE environment (as on CI
# machines) would recompile every module of ours in every process, a cost no user pays.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
STARTUP = [sys.executable, "-c", "import sqlite3"]  # the floor of any Python tool reading an SQLite index


def timed(cmd, **kw) -> tuple[float, str]:
    kw.setdefault("env", ENV)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    dt = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({r.returncode}): {r.stderr.strip()}")
    return dt, r.stdout


def drop_indexes(*folders: Path):
    for f in folders:
        for sfx in ("", "-wal", "-shm", "-journal"):
            try:
                (f / (".scopecheck-index.sqlite" + sfx)).unlink()
            except FileNotFoundError:
                pass


def ours_fresh(hay: Path, needles: Path, jobs: int) -> tuple[float, str]:
    drop_indexes(hay, needles)
    total = 0.0
    for cmd in (["index", hay, "--jobs", jobs], ["index", needles, "--jobs", jobs]):
        total += timed([*SCOPECHECK, *map(str, cmd)])[0]
    dt, out = timed([*SCOPECHECK, "search", "--haystack", str(hay), "--needles", str(needles), "--jobs", str(jobs)])
    return total + dt, out


def ours_one_process(hay: Path, needles: Path, jobs: int) -> tuple[float, str]:
    """The same job as one ``search`` of two folders without indexes (hashed in memory)."""
    drop_indexes(hay, needles)
    return timed([*SCOPECHECK, "search", "--haystack", str(hay), "--needles", str(needles), "--jobs", str(jobs)])


def ours_warm(hay: Path, needles: Path) -> tuple[float, str]:
    return timed([*SCOPECHECK, "search", "--haystack", str(hay), "--needles", str(needles)])


def to_import(text: str) -> list[str]:
    """The folders the text output lists as having no image in the haystack."""
    lines = text.splitlines()
    if "folders with no image in the haystack:" not in lines:
        return []
    start = lines.index("folders with no image in the haystack:") + 1
    return sorted(ln.strip() for ln in lines[start:] if ln.startswith("  ") and not ln.startswith("   "))


# --------------------------------------------------------------------------- in-process floors

def floor_decode(p: str) -> None:
    with open(p, "rb") as f:
        buf = np.frombuffer(f.read(), np.uint8)
    cv2.imdecode(buf, cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_IGNORE_ORIENTATION)


def _faults() -> int:
    """Minor page faults of this thread so far (of the process where the thread's are not counted)."""
    return resource.getrusage(getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)).ru_minflt


def floor_and_ours(files) -> tuple[float, float, float, float, int, int]:
    """(floor wall, hash_file wall, floor CPU, hash_file CPU) in seconds over ``files``, timed file by
    file side by side (which of the two goes first alternates), so that a load that comes and goes
    weighs on both alike; then the minor page faults of each (floor, hash_file)."""
    from scopecheck.compare.record import hash_file

    wall, cpu, faults = [0.0, 0.0], [0.0, 0.0], [0, 0]
    steps = (floor_decode, hash_file)
    for k, p in enumerate(files):
        for which in ((0, 1) if k % 2 else (1, 0)):
            f0, w0, c0 = _faults(), time.perf_counter(), time.thread_time()
            steps[which](p)
            cpu[which] += time.thread_time() - c0
            wall[which] += time.perf_counter() - w0
            faults[which] += _faults() - f0
    return wall[0], wall[1], cpu[0], cpu[1], faults[0], faults[1]


PARTS = ("file SHA-256", "container walk (the guard)", "decoder message capture",
         "dHashes, thumbnail and flatness")


def parts_budget(files, runs: int) -> dict[str, float]:
    """CPU seconds per file: the floor, ``hash_file``, what each of :data:`PARTS` costs inside it, and
    ``hash_file`` with all of them replaced (``"without all"``: what the rest costs).

    Each part is measured by running ``hash_file`` with that part replaced by the value it returned
    for the same file (recorded beforehand), so the rest of ``hash_file`` does exactly the same work;
    the part's cost is the CPU time that takes away. All variants of a file run one after another,
    in an order that rotates from file to file, each after its own decode as in a real run."""
    import contextlib
    from unittest import mock

    from scopecheck.compare import load, quiet, record

    sha, walked, hashed = {}, {}, {}
    real_hashes = record.hashes_and_thumbnail
    for p in files:  # what each part returns for each file
        data = Path(p).read_bytes()
        sha[p] = record.file_sha256(data)
        walked[p] = load.check_input(data, path=p)[0]
    current = [""]  # the file being hashed (the stubs answer for it)

    def recording(y, *, sizes):
        hashed[current[0]] = real_hashes(y, sizes=sizes)
        return hashed[current[0]]

    with mock.patch.object(record, "hashes_and_thumbnail", recording):
        for p in files:
            current[0] = p
            record.hash_file(p)

    @contextlib.contextmanager
    def no_capture():
        yield quiet.Messages()

    stubs = {
        PARTS[0]: (record, "file_sha256", lambda data: sha[current[0]]),
        PARTS[1]: (load, "check_input", lambda data, **kw: (walked[current[0]], data)),
        PARTS[2]: (quiet, "captured", no_capture),
        PARTS[3]: (record, "hashes_and_thumbnail", lambda y, *, sizes: hashed[current[0]]),
    }

    def without(*parts):
        def run(p):
            with contextlib.ExitStack() as stack:
                for part in parts:
                    stack.enter_context(mock.patch.object(*stubs[part]))
                c0 = time.thread_time()
                record.hash_file(p)
                return time.thread_time() - c0
        return run

    def plain(fn):
        def run(p):
            c0 = time.thread_time()
            fn(p)
            return time.thread_time() - c0
        return run

    variants = {"floor": plain(floor_decode), "hash_file": plain(record.hash_file)}
    variants.update({part: without(part) for part in PARTS})
    variants["all"] = without(*PARTS)
    names = list(variants)
    cpu = dict.fromkeys(names, 0.0)
    for _ in range(runs):
        for k, p in enumerate(files):
            current[0] = p
            for name in names[k % len(names):] + names[:k % len(names)]:
                cpu[name] += variants[name](p)
    n = runs * len(files)
    whole = cpu["hash_file"]
    out = {"floor": cpu["floor"] / n, "hash_file": whole / n}
    out.update({part: (whole - cpu[part]) / n for part in PARTS})
    out["without all"] = cpu["all"] / n
    return out


def imagehash_job(files) -> float | None:
    try:
        import imagehash
        from PIL import Image
    except ImportError:
        return None
    t0 = time.perf_counter()
    for p in files:
        with Image.open(p) as im:
            imagehash.dhash(im)
    return time.perf_counter() - t0


def imagededup_job(folder: Path) -> float | None:
    code = ("import logging, sys, time; logging.disable(logging.WARNING); "
            "from imagededup.methods import DHash; t = time.perf_counter(); "
            "DHash(verbose=False).encode_images(image_dir=sys.argv[1], recursive=True, num_enc_workers=1); "
            "print(time.perf_counter() - t)")
    r = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return float(r.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main

def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=400, help="haystack images (default 400)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "out" / "bench_archive"))
    ap.add_argument("--png", type=int, default=60, help="haystack images of the PNG archive (0: skip)")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-peers", action="store_true", help="skip imagehash and imagededup")
    ap.add_argument("--parts", action="store_true", help="also measure what each part of hash_file costs over the floor")
    args = ap.parse_args()
    cv2.setNumThreads(1)  # per core means one thread: OpenCV's and numpy's BLAS (the dHash's matrix products)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    out = Path(args.out)
    hay, needles = make_archive(out / "jpeg", images=args.images)
    files = image_files(hay) + image_files(needles)
    seed_py = out / "seed_reference.py"
    seed_py.write_text(SEED)
    n = len(files)
    print(f"JPEG archive: {len(image_files(hay))} haystack + {len(image_files(needles))} needle files, "
          f"{SIZE[0]}x{SIZE[1]}, {sum(os.path.getsize(p) for p in files) / 1e6:.0f} MB; {args.runs} runs, medians; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows: dict[str, list[float]] = {}
    cpu_ratio: list[float] = []
    faults: list[tuple[float, float]] = []
    answers = {}
    for _ in range(args.runs):
        t, s = timed([sys.executable, str(seed_py), str(hay), str(needles)])
        rows.setdefault("seed", []).append(t)
        answers["seed"] = s.split()
        for jobs in (1, 2):
            t, s = ours_one_process(hay, needles, jobs)
            rows.setdefault(f"scopecheck search of 2 folders, no index, --jobs {jobs}", []).append(t)
        for jobs in (1, 2):
            t, s = ours_fresh(hay, needles, jobs)
            rows.setdefault(f"scopecheck index x2 + search, --jobs {jobs}", []).append(t)
            answers["ours"] = to_import(s)
        t, s = ours_warm(hay, needles)
        rows.setdefault("scopecheck search again, indexes warm", []).append(t)
        rows.setdefault("floor: python -c 'import sqlite3'", []).append(timed(STARTUP)[0])
        assert to_import(s) == answers["ours"], (to_import(s), answers["ours"])
        fw, ow, fc, oc, ff, of = floor_and_ours(files)
        faults.append((ff / n, of / n))
        rows.setdefault("floor: read + 1/8 DCT decode, 1 core", []).append(fw)
        rows.setdefault("hash_file in-process, 1 core", []).append(ow)
        cpu_ratio.append(oc / fc)
        ih = None if args.no_peers else imagehash_job(files)
        if ih is not None:
            rows.setdefault("imagehash dhash, 1 core (in-process)", []).append(ih)
        idd = None if args.no_peers else imagededup_job(out / "jpeg")
        if idd is not None:
            rows.setdefault("imagededup DHash, 1 worker (in-process)", []).append(idd)
        if not args.no_dask:
            for w in (1, 2):
                drop_indexes(hay)
                t, _ = timed([*SCOPECHECK, "index", str(hay), "--scheduler", f"local:{w}"])
                rows.setdefault(f"index HAY, Dask local:{w} (cluster start included)", []).append(t)
            drop_indexes(hay)
            rows.setdefault("index HAY, process pool --jobs 2", []).append(
                timed([*SCOPECHECK, "index", str(hay), "--jobs", "2"])[0])
    seed = median(rows["seed"])
    short = lambda fs: [os.path.basename(f) for f in fs]  # noqa: E731
    print(f"folders still to import -- seed (exact hash): {short(answers['seed'])}; scopecheck (within 7 bits, "
          f"re-encoded copies found): {short(answers['ours'])}")
    print(f"{'':55s} {'seconds':>8s} {'ms/file':>8s} {'vs seed':>8s}")
    for name, ts in rows.items():
        m = median(ts)
        print(f"{name:55s} {m:8.2f} {m / n * 1e3:8.2f} {seed / m:7.2f}x")
    floor = median(rows["floor: read + 1/8 DCT decode, 1 core"])
    mine = median(rows["hash_file in-process, 1 core"])
    print(f"hash_file / decode floor, per core: {mine / floor:.2f} (target <= 1.15); in CPU time (thread_time): "
          f"{median(cpu_ratio):.2f}; load average now {os.getloadavg()[0]:.1f}")
    print(f"minor page faults per file: floor {median([f for f, _ in faults]):.1f}, "
          f"hash_file {median([o for _, o in faults]):.1f}")
    if args.parts:
        parts = parts_budget(files, args.runs)
        fl, whole, bare = parts.pop("floor"), parts.pop("hash_file"), parts.pop("without all")
        print(f"where hash_file's CPU time over the floor goes (ms/file; load average now {os.getloadavg()[0]:.1f}): "
              f"floor {fl * 1e3:.3f}, hash_file {whole * 1e3:.3f} ({whole / fl:.2f}x), over the floor "
              f"{(whole - fl) * 1e3:.3f}; 1.15x leaves {0.15 * fl * 1e3:.3f}")
        for part, t in parts.items():
            print(f"  {part:40s} {t * 1e3:7.3f} ms  ({t / fl:5.1%} of the floor)")
        print(f"  (each part alone; together they take away {(whole - bare) * 1e3:.3f} ms: a part run after a "
              f"decode also warms the caches for the next)")
        print(f"  {'the rest, with all four replaced':40s} {(bare - fl) * 1e3:7.3f} ms  ({(bare - fl) / fl:5.1%} of the "
              f"floor: reading with its checks, the header, the decode's wrapper, the record)")
    warm, start = median(rows["scopecheck search again, indexes warm"]), median(rows[
        "floor: python -c 'import sqlite3'"])
    print(f"warm search vs seed, whole process: {seed / warm:.1f}x (target >= 30x); the Python start-up floor "
          f"(python -c 'import sqlite3') is {start:.2f} s of its {warm:.2f} s")
    for jobs in (1, 2):
        t = median(rows[f"scopecheck search of 2 folders, no index, --jobs {jobs}"])
        print(f"whole job, one search, --jobs {jobs}: {seed / t:.2f}x the seed "
              f"(target {'>= 3x on 2 cores' if jobs == 2 else '>= 1.6x per core'})")
    if args.png:
        phay, pneedles = make_archive(out / "png", images=args.png, ext=".png")
        pn = len(image_files(phay)) + len(image_files(pneedles))
        ps, po = [], []
        for _ in range(args.runs):
            ps.append(timed([sys.executable, str(seed_py), str(phay), str(pneedles)])[0])
            po.append(ours_one_process(phay, pneedles, 2)[0])
        print(f"PNG archive ({pn} files): seed {median(ps):.2f} s, scopecheck search (no index) --jobs 2 "
              f"{median(po):.2f} s: {median(ps) / median(po):.2f}x (target >= 1.0)")


if __name__ == "__main__":
    main()

"""A search of small fresh indexes without numpy: the Python kernel agrees with the numpy one, a
HashList haystack answers exactly as the arrays do, and the warm CLI search loads neither numpy
nor OpenCV (speed itself is measured in bench/bench_archive.py, never here)."""
from __future__ import annotations

import hashlib
import random
import subprocess
import sys

import numpy as np
import pytest

from scopecheck.compare import hamming
from scopecheck.compare.frozen import replace
from scopecheck.compare.hamming import HammingIndex, hamming_scan, scan_list
from scopecheck.compare.hashing import DHash
from scopecheck.compare.haystack import Entry, HashList, Haystack
from scopecheck.compare.search import match_needles


def test_python_scan_equals_the_numpy_kernel():
    rng = random.Random(5)
    base = [rng.getrandbits(64) for _ in range(40)]
    # near copies of a few hashes (1..12 bits flipped), duplicates and extremes
    hashes = base + [h ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for h in base[:20]]
    hashes += [base[0], 0, (1 << 64) - 1] + [base[1] ^ int("1" * k, 2) for k in range(1, 13)]
    arr = np.array(hashes, dtype=np.uint64)
    for q in [base[0], base[1], 0, (1 << 64) - 1, rng.getrandbits(64)]:
        for r in (0, 1, 4, 7, 10, 32, 64):
            i, d = hamming_scan(arr, q, max_distance=r)
            li, ld = scan_list(hashes, q, max_distance=r)
            assert li == i.tolist() and ld == d.tolist(), (q, r)
            idx = HammingIndex(hashes)  # a list: scanned in Python
            assert idx.query(q, max_distance=r) == (li, ld) and len(idx) == len(hashes)


def test_list_index_equals_the_scan_for_many_queries():
    """After its first few queries a list index answers from its pigeonhole dicts: the same indices
    and distances as the plain scan, at every radius (near copies, duplicates, skewed values)."""
    rng = random.Random(9)
    base = [rng.getrandbits(64) for _ in range(300)]
    hashes = base + [h ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64))
                     for h in base[:100]]
    hashes += [0, 0, (1 << 64) - 1] + [rng.getrandbits(8) for _ in range(50)]  # skewed: high runs all zero
    idx = HammingIndex(hashes)
    queries = base[:60] + [rng.getrandbits(64) for _ in range(20)] + [0, 5, (1 << 64) - 1]
    told = HammingIndex(hashes, queries=len(queries))  # builds its dicts at the first query
    for r in (0, 3, 7, 10, 15, 16, 40):
        for q in queries:
            assert idx.query(q, max_distance=r) == scan_list(hashes, q, max_distance=r), (q, r)
            assert told.query(q, max_distance=r) == scan_list(hashes, q, max_distance=r), (q, r)
        assert (r + 1 in told._list._tables) == (r + 1 <= told._list.MAX_RUNS), r


def _digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def _as_list(hay: Haystack) -> HashList:
    fine = b"".join(h.value.to_bytes(32, "big") for h in (e.dhash256 for e in hay.entries_at(range(len(hay)))))
    return HashList(hashes=hay.hashes.tolist(), flat=hay.flat.tolist(), sha_key=hay.sha_key.tolist(),
                    pix_key=hay.pix_key.tolist(), fetch=hay.fetch, errors=hay.errors, source=hay.source,
                    dhash256=fine, digests=hay.digests)


@pytest.mark.parametrize("max_distance", [0, 3, 7, 12])
def test_hashlist_search_equals_the_arrays(max_distance, monkeypatch):
    rng = random.Random(max_distance)
    entries = []
    values = [rng.getrandbits(64) for _ in range(60)]
    values += [v ^ (1 << rng.randrange(64)) ^ (1 << rng.randrange(64)) for v in values[:30]]
    for k, v in enumerate(values):
        entries.append(Entry(path=f"/h/{k // 20}/f{k}.png", dhash=DHash(8, v), flat=k % 17 == 0,
                             sha256=_digest(f"s{k % 50}"), pixel_sha256=_digest(f"p{k % 40}"),
                             dhash256=DHash(16, rng.getrandbits(256))))
    hay = Haystack.of(entries)
    lean = _as_list(hay)
    assert lean.arrays().hashes.tolist() == hay.hashes.tolist()
    assert (lean.arrays().dhash256 == hay.dhash256).all()
    needles = [replace(e, path=e.path.replace("/h/", "/n/")) for e in entries[::3]]
    needles += [Entry(path=f"/n/new/x{k}.png", dhash=DHash(8, values[k] ^ 0b1011), flat=False,
                      sha256=_digest(f"new{k}"), pixel_sha256=_digest(f"pnew{k}")) for k in range(10)]
    want = match_needles(needles, hay, max_distance=max_distance).to_json()
    assert match_needles(needles, lean, max_distance=max_distance).to_json() == want
    monkeypatch.setattr(hamming, "LIST_SCAN_MAX_PAIRS", 10)  # now converted to arrays first: same answer
    import scopecheck.compare.search as search
    monkeypatch.setattr(search, "LIST_SCAN_MAX_PAIRS", 10)
    assert match_needles(needles, lean, max_distance=max_distance).to_json() == want


def test_warm_search_loads_neither_numpy_nor_opencv(tmp_path):
    import cv2

    rng = np.random.default_rng(1)
    for folder in ("hay", "needles"):
        (tmp_path / folder).mkdir()
        for k in range(3):
            img = cv2.resize((rng.random((5, 6)) * 255).astype(np.uint8), (50, 40), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(tmp_path / folder / f"{folder}{k}.png"), img)
    cv2.imwrite(str(tmp_path / "needles" / "copy.png"), cv2.imread(str(tmp_path / "hay" / "hay0.png")))
    code = ("import sys; from scopecheck.cli import main; "
            "sys.exit(main(sys.argv[1:]) if sys.argv[1] == 'index' else (main(sys.argv[1:]), "
            "print(sorted(m for m in ('numpy', 'cv2', 'multiprocessing', 'scopecheck.compare.dedupe') "
            "if m in sys.modules)))[0])")
    for folder in ("hay", "needles"):
        r = subprocess.run([sys.executable, "-c", code, "index", str(tmp_path / folder), "--jobs", "1"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-c", code, "search", "--haystack", str(tmp_path / "hay"),
                        "--needles", str(tmp_path / "needles")], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr  # three new needles
    assert "1 of 4 found" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "[]"  # none of them was imported

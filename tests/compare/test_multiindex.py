"""compare.multiindex: exact against brute-force Python Hamming, in memory and memory-mapped."""
from __future__ import annotations

import os

import numpy as np
import pytest

from scopecheck.compare import multiindex
from scopecheck.compare.errors import InputError
from scopecheck.compare.hamming import HammingIndex
from scopecheck.compare.multiindex import (
    MultiIndex,
    build_file,
    plan_chunks,
    probe_radii,
)


def popcount(x: int) -> int:  # the independent reference: Python's own integer bit count
    return bin(x).count("1")  # noqa: FURB161 - deliberately not int.bit_count


def brute(values, q, r):
    return [(i, popcount(v ^ q)) for i, v in enumerate(values) if popcount(v ^ q) <= r]


def hashsets(seed):
    """Uniform, tightly clustered (many equal and 1-4 bit neighbours: big buckets) and skewed
    (biased, correlated bits like dHashes of one kind of picture) hashes."""
    rng = np.random.default_rng(seed)
    uniform = [int(v) for v in rng.integers(0, 2**63, 300, dtype=np.int64)]
    uniform = [(v << 1) | (v & 1) for v in uniform]
    centres = [int(v) << 1 for v in rng.integers(0, 2**63, 6, dtype=np.int64)]
    clustered = []
    for _ in range(500):
        v = centres[int(rng.integers(0, 6))]
        for _ in range(int(rng.integers(0, 5))):
            v ^= 1 << int(rng.integers(0, 64))
        clustered.append(v)
    p = rng.uniform(0.05, 0.95, 64)
    bits = rng.random((400, 64)) < p
    bits[:, 1::2] ^= bits[:, ::2]
    skewed = [int.from_bytes(np.packbits(b).tobytes(), "big") for b in bits]
    return {"uniform": uniform, "clustered": clustered, "skewed": skewed}


@pytest.mark.parametrize("layout", [None, [(0, 21), (21, 21), (42, 22)], [(0, 8)] + [(8 * k, 8) for k in range(1, 8)],
                                    [(0, 12), (12, 12), (24, 20), (44, 20)]])
@pytest.mark.parametrize("adapt", [False, True])
def test_queries_equal_brute_force(layout, adapt, monkeypatch):
    if adapt:  # every query re-splits its radius by counting candidates first
        monkeypatch.setattr(multiindex, "ADAPT_MIN_CANDIDATES", 0)
    for name, values in hashsets(11).items():
        arr = np.array(values, dtype=np.uint64)
        mih = MultiIndex(arr, layout=layout)
        for q in values[:6] + [0, 2**64 - 1, values[7] ^ 0b1011]:
            for r in (0, 1, 2, 3, 4, 5, 7, 10, 13, 20):
                idx, d = mih.query(q, max_distance=r)
                assert list(zip(idx.tolist(), d.tolist())) == brute(values, q, r), (name, layout, q, r)


def test_probe_radii_cover_every_split():
    for m in (2, 3, 4, 7):
        for r in range(24):
            qs = probe_radii(m, r)
            assert sum(q + 1 for q in qs) == r + 1
            # Pigeonhole: any split of r bits over m substrings leaves one within its probe radius.
            rng = np.random.default_rng(r)
            for _ in range(200):
                split = np.bincount(rng.integers(0, m, r), minlength=m) if r else np.zeros(m, int)
                assert any(d <= q for d, q in zip(split.tolist(), qs))


def test_plan_chunks_cover_64_bits():
    for n in (0, 10, 1000, 10**6, 10**8, 10**10):
        layout = plan_chunks(n)
        assert sum(w for _, w in layout) == 64 and all(w <= 24 for _, w in layout)
        assert [s for s, _ in layout] == [sum(w for _, w in layout[:k]) for k in range(len(layout))]
    assert len(plan_chunks(10**8)) == 3 and len(plan_chunks(10**6)) == 4


def test_memory_mapped_file_round_trip(tmp_path):
    values = hashsets(3)["clustered"]
    arr = np.array(values, dtype=np.uint64)
    path = tmp_path / "hay.mih"
    build_file(path, arr, layout=[(0, 16), (16, 16), (32, 16), (48, 16)])
    assert sorted(os.listdir(tmp_path)) == ["hay.mih"]  # no temporary file left
    mapped = MultiIndex.open(path, hashes=arr)
    assert mapped.mapped and not MultiIndex(arr).mapped and len(mapped) == arr.size
    mem = MultiIndex(arr, layout=[(0, 16), (16, 16), (32, 16), (48, 16)])
    assert mapped.nbytes == mem.nbytes == os.path.getsize(path) - 4096 - sum(
        -a.nbytes % 4096 for a in (*mem._sorted, *mem._pos, *mem._off))
    for q in values[:10]:
        for r in (0, 4, 10):
            got = mapped.query(q, max_distance=r)
            assert list(zip(got[0].tolist(), got[1].tolist())) == brute(values, q, r)
    mem.save(tmp_path / "again.mih", hashes=arr)
    assert (tmp_path / "again.mih").read_bytes() == path.read_bytes()


def test_open_refuses_other_hashes_and_damage(tmp_path):
    arr = np.arange(100, dtype=np.uint64)
    path = tmp_path / "a.mih"
    build_file(path, arr)
    with pytest.raises(InputError, match="other hashes"):
        MultiIndex.open(path, hashes=arr + np.uint64(1))
    data = path.read_bytes()
    (tmp_path / "short.mih").write_bytes(data[:5000])
    with pytest.raises(InputError, match="damaged"):
        MultiIndex.open(tmp_path / "short.mih")
    (tmp_path / "junk.mih").write_bytes(b"not an index")
    with pytest.raises(InputError, match="not a scopecheck multi-index"):
        MultiIndex.open(tmp_path / "junk.mih")
    with pytest.raises(InputError, match="cannot read"):
        MultiIndex.open(tmp_path / "missing.mih")
    with pytest.raises(InputError, match="cannot write"):
        build_file(tmp_path / "no" / "dir.mih", arr)
    assert sorted(os.listdir(tmp_path)) == ["a.mih", "junk.mih", "short.mih"]


def test_layout_validation():
    for bad in ([(0, 32), (32, 32)], [(0, 64)], [(0, 20), (21, 22), (43, 21)], [(0, 20), (20, 20)]):
        with pytest.raises(InputError, match="layout"):
            MultiIndex(np.arange(4, dtype=np.uint64), layout=bad)


def test_hamming_index_uses_it_for_large_arrays():
    idx = HammingIndex(np.arange(10, dtype=np.uint64), method="multi-index")
    assert idx.method == "multi-index" and isinstance(idx._mih, MultiIndex)
    assert idx.query(3, max_distance=1)[0].tolist() == [1, 2, 3, 7]
    assert MultiIndex(np.zeros(0, dtype=np.uint64)).query(5, max_distance=3)[0].size == 0


def test_hamming_index_maps_a_matching_saved_index(tmp_path):
    arr = np.array(hashsets(5)["uniform"], dtype=np.uint64)
    path = str(tmp_path / "db.sqlite.mih")
    build_file(path, arr)
    mapped = HammingIndex(arr, method="multi-index", mapped=path)
    assert mapped.mapped and mapped._mih.mapped
    stale = HammingIndex(arr[::-1], method="multi-index", mapped=path)  # other hashes: built in memory
    assert not stale.mapped
    q = int(arr[3])
    assert [i.tolist() for i in mapped.query(q, max_distance=9)] == \
        [i.tolist() for i in HammingIndex(arr, method="scan").query(q, max_distance=9)]


def test_refresh_sidecar_writes_keeps_and_removes(tmp_path):
    from scopecheck.compare.multiindex import refresh_sidecar, sidecar_path

    db = str(tmp_path / "idx.sqlite")
    arr = np.array(hashsets(8)["skewed"], dtype=np.uint64)
    path = refresh_sidecar(db, arr, min_size=10)
    assert path == sidecar_path(db) and MultiIndex.open(path, hashes=arr).n == arr.size
    stamp = os.stat(path).st_mtime_ns
    assert refresh_sidecar(db, arr, min_size=10) == path and os.stat(path).st_mtime_ns == stamp  # kept
    refresh_sidecar(db, arr[:-1], min_size=10)  # the index changed: rewritten
    assert MultiIndex.open(path, hashes=arr[:-1]).n == arr.size - 1
    assert refresh_sidecar(db, arr[:5], min_size=10) is None and not os.path.exists(path)  # small: removed


def test_adaptive_split_avoids_a_crowded_substring(monkeypatch):
    # Every hash has the same low 21 bits: probing that substring returns everything.
    rng = np.random.default_rng(4)
    values = [(int(v) << 21) | 0x15555 for v in rng.integers(0, 2**43, 3000, dtype=np.int64)]
    arr = np.array(values, dtype=np.uint64)
    mih = MultiIndex(arr, layout=[(0, 21), (21, 21), (42, 22)])
    q = values[10] ^ (1 << 30) ^ (1 << 50)
    monkeypatch.setattr(multiindex, "ADAPT_MIN_CANDIDATES", 10**12)
    fixed = mih.cost(q, max_distance=5)
    monkeypatch.setattr(multiindex, "ADAPT_MIN_CANDIDATES", 0)
    assert mih._adapt(q, 5, probe_radii(3, 5)) != probe_radii(3, 5)
    adapted = mih.cost(q, max_distance=5)
    assert adapted[1] < fixed[1] / 10, (adapted, fixed)
    got = mih.query(q, max_distance=5)
    assert list(zip(got[0].tolist(), got[1].tolist())) == brute(values, q, 5)

"""compare.search: kernels against brute-force Python Hamming, matching and grouping rules."""
from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import DHash
from scopecheck.compare.search import (
    DEFAULT_MAX_DISTANCE,
    Entry,
    HammingIndex,
    Haystack,
    MultiIndex,
    connected_groups,
    find_duplicates,
    hamming_scan,
    match_needles,
    radius_pairs,
    to_uint64,
)


def popcount(x: int) -> int:  # the independent reference: Python's own integer bit count
    return bin(x).count("1")


def clustered(rng, n, centres=25, flips=4):
    """Hashes in tight clusters (like real near-duplicates) plus exact repeats."""
    base = [int(v) for v in rng.integers(0, 2**63, centres, dtype=np.int64)]
    base = [(b << 1) | int(rng.integers(0, 2)) for b in base]
    out = []
    for _ in range(n):
        v = base[int(rng.integers(0, centres))]
        for _ in range(int(rng.integers(0, flips + 1))):
            v ^= 1 << int(rng.integers(0, 64))
        out.append(v)
    return out


def brute_pairs(values, r):
    return [(i, j, popcount(a ^ b)) for (i, a), (j, b) in itertools.combinations(enumerate(values), 2)
            if popcount(a ^ b) <= r]


@pytest.mark.parametrize("seed", range(4))
def test_scan_and_multi_index_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    values = clustered(rng, 600) + [int(v) for v in rng.integers(0, 2**63, 200, dtype=np.int64)]
    arr = np.array(values, dtype=np.uint64)
    mih = MultiIndex(arr)
    for q in values[:25] + [0, 2**64 - 1]:
        for r in (0, 1, 3, 4, 7, 10, 11, 13, 16, 20):
            want = [(i, popcount(v ^ q)) for i, v in enumerate(values) if popcount(v ^ q) <= r]
            for got in (hamming_scan(arr, q, max_distance=r), mih.query(q, max_distance=r)):
                assert list(zip(got[0].tolist(), got[1].tolist())) == want, (q, r)


def test_scan_blocks_boundary():
    # More than one 32768-element block, with hits on both sides of the boundary.
    arr = np.full(70_000, 2**64 - 1, dtype=np.uint64)
    arr[[0, 32767, 32768, 69_999]] = [1, 3, 7, 0]
    idx, d = hamming_scan(arr, 0, max_distance=2)
    assert idx.tolist() == [0, 32767, 69_999] and d.tolist() == [1, 2, 0]


@pytest.mark.parametrize("r", [0, 1, 2, 4, 6, 9])
def test_radius_pairs_equal_brute_force(r):
    rng = np.random.default_rng(100 + r)
    values = clustered(rng, 400, centres=12, flips=5)
    i, j, d = radius_pairs(np.array(values, dtype=np.uint64), max_distance=r)
    got = list(zip(i.tolist(), j.tolist(), d.tolist()))
    assert got == brute_pairs(values, r)


def test_radius_pairs_uniform_and_tiny():
    rng = np.random.default_rng(7)
    values = [int(v) for v in rng.integers(0, 2**63, 300, dtype=np.int64)]
    values[5] = values[9] ^ 0b101  # one planted pair at distance 2
    i, j, d = radius_pairs(np.array(values, dtype=np.uint64), max_distance=4)
    assert list(zip(i.tolist(), j.tolist(), d.tolist())) == brute_pairs(values, 4) == [(5, 9, 2)]
    assert radius_pairs(np.array([1], dtype=np.uint64), max_distance=4)[0].size == 0


def test_connected_groups_against_union_find():
    rng = np.random.default_rng(3)
    n = 200
    i = rng.integers(0, n, 150)
    j = rng.integers(0, n, 150)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in zip(i.tolist(), j.tolist()):
        parent[find(a)] = find(b)
    want = {}
    for x in range(n):
        want.setdefault(find(x), []).append(x)
    want = sorted(sorted(g) for g in want.values() if len(g) > 1)
    got = sorted(sorted(g.tolist()) for g in connected_groups(n, i, j))
    assert got == want


def test_hamming_index_chooses_method():
    small = HammingIndex(np.arange(10, dtype=np.uint64))
    assert small.method == "scan"
    assert HammingIndex(np.arange(10, dtype=np.uint64), method="multi-index").method == "multi-index"
    with pytest.raises(InputError, match="method"):
        HammingIndex(np.arange(3, dtype=np.uint64), method="fast")


@pytest.mark.parametrize("bad", [-1, 65, 2.5, True])
def test_distance_validation_names_value(bad):
    with pytest.raises(InputError, match="max-distance"):
        hamming_scan(np.zeros(3, dtype=np.uint64), 0, max_distance=bad)


def test_to_uint64_refuses_wide_hashes():
    assert to_uint64(["dhash:8:00000000000000ff", DHash(8, 3), 5]).tolist() == [255, 3, 5]
    with pytest.raises(InputError, match="64 bits"):
        to_uint64([DHash(16, 1)])


# --------------------------------------------------------------------------- matching rules

def digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def entry(path, value, *, flat=False, sha=None, pix=None):
    return Entry(path=path, dhash=str(DHash(8, value)), flat=flat, sha256=digest(sha or f"s-{path}"),
                 pixel_sha256=digest(pix or f"p-{path}"))


def test_match_needles_rules():
    hay = Haystack.of([
        entry("/h/a.png", 0x0F0F_0F0F_0F0F_0F0F),
        entry("/h/b.png", 0xFFFF_0000_FFFF_0000),
        entry("/h/blank.png", 0, flat=True, pix="p-blank"),
        entry("/h/other_blank.png", 0, flat=True),
    ])
    needles = [
        entry("/n/old/a_near.jpg", 0x0F0F_0F0F_0F0F_0F0F ^ 0b111),       # 3 bits away: found
        entry("/n/old/b_far.jpg", 0xFFFF_0000_FFFF_0000 ^ 0xFF),         # 8 bits: not at 7
        entry("/n/blank/white.png", 0, flat=True),                        # flat: never by distance
        entry("/n/blank/same_blank.png", 0, flat=True, pix="p-blank"),    # but found by pixels
        entry("/n/new/x.png", 0x1234_5678_9ABC_DEF0),
    ]
    res = match_needles(needles, hay, max_distance=7)
    by = {n.path: n for n in res.needles}
    assert [(m.path, m.distance) for m in by["/n/old/a_near.jpg"].matches] == [("/h/a.png", 3)]
    assert by["/n/old/b_far.jpg"].matches == ()
    assert by["/n/blank/white.png"].matches == ()
    assert [(m.path, m.pixel_equal, m.file_equal) for m in by["/n/blank/same_blank.png"].matches] == \
        [("/h/blank.png", True, False)]
    assert res.unmatched_folders == ("/n/new",)
    folders = {f.folder: (f.images, f.matched) for f in res.folders}
    assert folders == {"/n/old": (2, 1), "/n/blank": (2, 1), "/n/new": (1, 0)}
    assert not res.all_found
    assert match_needles(needles, hay, max_distance=8).needles[1].matches[0].distance == 8


def test_a_file_never_matches_itself(tmp_path):
    p = tmp_path / "a.png"
    p.write_bytes(b"x")
    hay = Haystack.of([entry(str(p), 99), entry(str(tmp_path / "b.png"), 99)])
    res = match_needles([entry(str(p), 99)], hay)
    assert [m.path for m in res.needles[0].matches] == [str(tmp_path / "b.png")]


def test_find_duplicates_kinds_and_flat():
    v = 0x0123_4567_89AB_CDEF
    hay = Haystack.of([
        entry("/a/1.png", v, sha="S1", pix="P1"),
        entry("/a/1 copy.png", v, sha="S1", pix="P1"),          # exact copy of 1
        entry("/a/1.tif", v, sha="S2", pix="P1"),               # same pixels, other bytes
        entry("/a/1_small.jpg", v ^ 0b11, sha="S3", pix="P3"),  # near: 2 bits from 1
        entry("/a/chain.jpg", v ^ 0b11 ^ (0b1111111 << 20)),    # 7 from 1_small, 9 from 1: chained
        entry("/a/far.png", v ^ ((1 << 40) - 1)),
        entry("/a/blank1.png", 0, flat=True),
        entry("/a/blank2.png", 0, flat=True),
    ])
    res = find_duplicates(hay, max_distance=DEFAULT_MAX_DISTANCE)
    kinds = [(g.kind, [m.path for m in g.members]) for g in res.groups]
    assert kinds == [
        ("exact", ["/a/1 copy.png", "/a/1.png"]),
        ("pixels", ["/a/1 copy.png", "/a/1.png", "/a/1.tif"]),
        ("near", ["/a/1 copy.png", "/a/1.png", "/a/1.tif", "/a/1_small.jpg", "/a/chain.jpg"]),
    ]
    assert res.groups[2].max_distance == 9
    assert res.flat == ("/a/blank1.png", "/a/blank2.png")
    assert find_duplicates(Haystack.of([entry("/x", 1), entry("/y", 2**40 - 1)])).groups == ()

"""compare.dedupe: groups that never chain strangers, links confirmed by the thumbnails' correlation.

The two cases of issue 10 part 2 on real pictures (scikit-image's bundled photos), the star cover
against brute-force invariants on random graphs, and the exact/same-pixel rules.
"""
from __future__ import annotations

import hashlib
import itertools
import os

import cv2
import numpy as np
import pytest
import skimage
import skimage.data

from scopecheck.compare.dedupe import connected_groups, find_duplicates, hamming256, star_groups
from scopecheck.compare.errors import InputError
from scopecheck.compare.hashing import DHash, area_average, dhash
from scopecheck.compare.haystack import DEFAULT_MAX_DISTANCE, Entry, Haystack
from scopecheck.compare.pairs import radius_pairs
from scopecheck.compare.record import hash_file
from scopecheck.compare.thumbs import DEFAULT_MIN_CORRELATION, link_correlations, thumbnail

D = DEFAULT_MAX_DISTANCE


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


@pytest.mark.parametrize("seed", range(5))
def test_star_groups_invariants_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = 120
    edges = {tuple(sorted(e)) for e in rng.integers(0, n, (260, 2)).tolist() if e[0] != e[1]}
    i = np.array([a for a, _ in edges])
    j = np.array([b for _, b in edges])
    d = rng.integers(0, 8, i.size)
    adj = {k: {} for k in range(n)}
    for a, b, w in zip(i.tolist(), j.tolist(), d.tolist()):
        adj[a][b] = adj[b][a] = w
    stars = star_groups(n, i, j, d)
    seen = set()
    for rep, members in stars:
        group = [rep, *members.tolist()]
        assert not seen & set(group), "groups overlap"
        seen |= set(group)
        assert members.size >= 1
        assert all(m in adj[rep] for m in members.tolist()), "a member is not linked to its representative"
        assert [adj[rep][m] for m in members.tolist()] == sorted(adj[rep][m] for m in members.tolist())
    # Maximal: no two ungrouped nodes are linked, so nothing more could be grouped.
    free = set(range(n)) - seen
    assert not any(b in free for a in free for b in adj[a])
    # Greedy by degree: the first representative has the largest degree of all.
    assert len(adj[stars[0][0]]) == max(len(v) for v in adj.values())


def test_hamming256_against_python_ints():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**63, (50, 4), dtype=np.int64).view(np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, (50, 4), dtype=np.int64).view(np.uint64)
    want = [sum(bin(int(x) ^ int(y)).count("1") for x, y in zip(ra, rb)) for ra, rb in zip(a, b)]  # noqa: FURB161
    assert hamming256(a, b).tolist() == want


# --------------------------------------------------------------------------- issue 10 part 2, case 1

def _stranger_with_the_same_layout(x: np.ndarray, z: np.ndarray, mix: float) -> np.ndarray:
    """``z``'s picture with ``x``'s 9x8 cell means (``mix`` of them): a different image whose
    64-bit dHash nearly equals ``x``'s, like the hand-cream tube and the colour wheel of the issue."""
    h, w = x.shape

    def up(c):
        return np.kron(c, np.ones((h // 8, w // 9)))

    zf = z.astype(np.float64)
    y = zf + mix * (up(area_average(x, 9, 8)) - up(area_average(zf, 9, 8)))
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def test_two_different_images_a_few_bits_apart_are_not_joined(tmp_path):
    x = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)[:504, :504]
    z = cv2.resize(skimage.data.coins(), (504, 504), interpolation=cv2.INTER_AREA)
    y = _stranger_with_the_same_layout(x, z, 0.7)
    files = {"astronaut.png": x, "coins_like_astronaut.png": y}
    for name, img in files.items():
        cv2.imwrite(str(tmp_path / name), img)
    # A copy of each (JPEG), so a chaining dedupe would join all four through the close pair.
    cv2.imwrite(str(tmp_path / "astronaut q75.jpg"), x, [cv2.IMWRITE_JPEG_QUALITY, 75])
    cv2.imwrite(str(tmp_path / "coins_like_astronaut q90.jpg"), y, [cv2.IMWRITE_JPEG_QUALITY, 90])
    recs = {p.name: hash_file(p) for p in sorted(tmp_path.iterdir())}
    close = recs["astronaut.png"].dhash - recs["coins_like_astronaut.png"].dhash
    assert 0 < close <= D, f"the strangers are {close} bits apart; the case needs 1..{D}"
    hay = Haystack.of([Entry.of(r) for r in recs.values()])
    thumbs = np.stack([np.frombuffer(r.thumb, np.uint8) for r in recs.values()])
    names = list(recs)
    r = link_correlations(thumbs, [names.index("astronaut.png")], [names.index("coins_like_astronaut.png")])
    assert r[0] < DEFAULT_MIN_CORRELATION, f"the strangers' thumbnails correlate at {r[0]:.3f}"
    chained = connected_groups(len(hay), *radius_pairs(hay.hashes, max_distance=D)[:2])
    assert [len(c) for c in chained] == [4]  # what the previous dedupe reported
    res = find_duplicates(hay)
    groups = sorted(sorted(os.path.basename(m.path) for m in g.members) for g in res.groups)
    assert groups == [["astronaut q75.jpg", "astronaut.png"],
                      ["coins_like_astronaut q90.jpg", "coins_like_astronaut.png"]]
    assert res.candidate_links > res.confirmed_links == 2


# --------------------------------------------------------------------------- issue 10 part 2, case 2

def test_overlapping_tiles_never_form_a_group_wider_than_d():
    sk = os.path.join(os.path.dirname(skimage.__file__), "data")
    img = cv2.imread(os.path.join(sk, "retina.jpg"), cv2.IMREAD_GRAYSCALE)[400:1300, 300:1200]
    entries = []
    for y, x in itertools.product(range(0, 900 - 256 + 1, 40), repeat=2):
        t = np.ascontiguousarray(img[y:y + 256, x:x + 256])
        digest = hashlib.sha256(t.tobytes()).hexdigest()
        h = dhash(t)
        entries.append(Entry(path=f"tile@{x},{y}", dhash=h, flat=h.flat, sha256=digest, pixel_sha256=digest,
                             dhash256=dhash(t, hash_size=16), thumb=thumbnail(t)))
    hay = Haystack.of(entries)
    # The case is real: chaining the links within D makes a group whose members are farther apart.
    comps = connected_groups(len(hay), *radius_pairs(hay.hashes, max_distance=D)[:2])
    widest = max(int(np.bitwise_count(hay.hashes[c][:, None] ^ hay.hashes[c][None, :]).max()) for c in comps)
    assert widest > D
    by = {e.path: e for e in entries}
    for least in (DEFAULT_MIN_CORRELATION, -1.0):  # with the confirmation, and with it switched off
        res = find_duplicates(hay, min_correlation=least)
        in_groups = [m.path for g in res.groups for m in g.members]
        assert len(in_groups) == len(set(in_groups))
        for g in res.groups:
            rep = by[g.representative]
            assert g.members[0].path == g.representative
            for m in g.members:
                d64 = by[m.path].dhash - rep.dhash
                assert m.distance == d64 <= D
                assert m.distance256 == by[m.path].dhash256 - rep.dhash256
                assert m.correlation is not None and m.correlation >= least
            assert g.radius == max(m.distance for m in g.members)
        if least == -1.0:  # stars alone already split the chain into many groups
            assert len(res.groups) > 1
        else:  # neighbours are 16 % of the frame apart, beyond the 3 % shifts searched: different fields
            assert res.confirmed_links < res.candidate_links / 10


# --------------------------------------------------------------------------- digest groups and flat frames

def digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


#: A 32x32 thumbnail: a smooth bump (every view of it correlates with its whole frame).
BUMP = (200 * np.exp(-np.add.outer((np.arange(32) - 15.5) ** 2, (np.arange(32) - 15.5) ** 2) / 200)).astype(
    np.uint8).tobytes()


def entry(path, value, *, flat=False, sha=None, pix=None, fine=None, thumb=BUMP):
    fine = value * (1 + (1 << 64) + (1 << 128) + (1 << 192)) if fine is None else fine  # 4 copies of the 64 bits
    return Entry(path=path, dhash=DHash(8, value), flat=flat, sha256=digest(sha or f"s-{path}"),
                 pixel_sha256=digest(pix or f"p-{path}"), dhash256=DHash(16, fine), thumb=thumb)


def test_find_duplicates_kinds_flat_and_no_chain():
    v = 0x0123_4567_89AB_CDEF
    hay = Haystack.of([
        entry("/a/1.png", v, sha="S1", pix="P1"),
        entry("/a/1 copy.png", v, sha="S1", pix="P1"),          # exact copy of 1
        entry("/a/1.tif", v, sha="S2", pix="P1"),               # same pixels, other bytes
        entry("/a/1_small.jpg", v ^ 0b11, sha="S3", pix="P3"),  # near: 2 bits from 1
        entry("/a/chain.jpg", v ^ 0b11 ^ (0b1111111 << 20)),    # 7 from 1_small, 9 from 1: not with 1
        entry("/a/far.png", v ^ ((1 << 40) - 1)),
        entry("/a/blank1.png", 0, flat=True),
        entry("/a/blank2.png", 0, flat=True),
    ])
    res = find_duplicates(hay, max_distance=D)
    kinds = [(g.kind, [m.path for m in g.members]) for g in res.groups]
    # 1_small is linked to four files (the three copies of 1 and chain.jpg): the representative.
    assert kinds == [
        ("exact", ["/a/1 copy.png", "/a/1.png"]),
        ("pixels", ["/a/1 copy.png", "/a/1.png", "/a/1.tif"]),
        ("near", ["/a/1_small.jpg", "/a/1 copy.png", "/a/1.png", "/a/1.tif", "/a/chain.jpg"]),
    ]
    near = res.groups[2]
    assert [m.distance for m in near.members] == [0, 2, 2, 2, 7] and near.radius == 7
    assert [m.distance256 for m in near.members] == [0, 8, 8, 8, 28]
    assert [m.correlation for m in near.members] == pytest.approx([1.0] * 5, abs=1e-5)  # the same bump
    assert res.flat == ("/a/blank1.png", "/a/blank2.png")
    assert find_duplicates(Haystack.of([entry("/x", 1), entry("/y", 2**40 - 1)])).groups == ()
    js = res.to_json()
    assert js["groups"][2]["representative"] == "/a/1_small.jpg" and js["groups"][2]["radius"] == 7
    assert js["min_correlation"] == DEFAULT_MIN_CORRELATION
    assert js["groups"][2]["files"][1]["correlation"] == pytest.approx(1.0)


def test_unconfirmed_link_is_not_a_group():
    a, b = 0xF0F0_F0F0_F0F0_F0F0, 0xF0F0_F0F0_F0F0_F0F0 ^ 0b1
    flipped = (255 - np.frombuffer(BUMP, np.uint8)).tobytes()  # the bump's negative: correlation -1
    hay = Haystack.of([entry("/a", a), entry("/b", b, thumb=flipped)])
    res = find_duplicates(hay)
    assert res.groups == () and (res.candidate_links, res.confirmed_links) == (1, 0)
    assert len(find_duplicates(hay, min_correlation=-1.0).groups) == 1


def test_validation_and_missing_thumbnail():
    hay = Haystack.of([entry("/a", 1), entry("/b", 1)])
    for bad in (1.5, -2, float("nan")):
        with pytest.raises(InputError, match="min-correlation"):
            find_duplicates(hay, min_correlation=bad)
    old = Haystack.of([entry("/a", 1, thumb=b""), entry("/b", 3, thumb=b"")], source="old.sqlite")
    with pytest.raises(InputError, match="re-index"):
        find_duplicates(old)

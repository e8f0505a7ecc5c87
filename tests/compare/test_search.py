"""compare.search: needle matching rules (which haystack files match a needle, and which never do)."""
from __future__ import annotations

import hashlib

from scopecheck.compare.hashing import DHash
from scopecheck.compare.search import Entry, Haystack, match_needles

# --------------------------------------------------------------------------- matching rules

def digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def entry(path, value, *, flat=False, sha=None, pix=None):
    return Entry(path=path, dhash=DHash(8, value), flat=flat, sha256=digest(sha or f"s-{path}"),
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

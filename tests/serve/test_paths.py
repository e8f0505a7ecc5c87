"""The shot directory: names resolved inside --dir only, listing bounded, manifests read."""
import json
import os

import pytest

from scopecheck.compare.errors import InputError
from scopecheck.serve.paths import MAX_DEPTH, OutsideError, ShotDir
from tests.serve.conftest import PAIR


def test_names_resolve_inside_only(shot_dir):
    d = ShotDir(shot_dir)
    assert d.image(PAIR[0]) == os.path.realpath(shot_dir / PAIR[0])
    assert d.image(str(shot_dir / PAIR[0])) == d.image("./" + PAIR[0])
    for bad in ("..", "../shots/../x.png", "/", os.path.realpath(shot_dir.parent)):
        with pytest.raises(OutsideError):
            d.resolve(bad)
    for bad in ("", "a\x00b.png", "x" * 5000):
        with pytest.raises(InputError, match="bad file name"):
            d.resolve(bad)
    (shot_dir / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="not an image file name"):
        d.image("notes.txt")
    with pytest.raises(InputError, match="not a regular file"):
        d.image(".")
    with pytest.raises(InputError):
        ShotDir(shot_dir / PAIR[0])  # a file is no shot directory


def test_listing_is_bounded_and_skips_hidden_and_deep(shot_dir):
    deep = shot_dir
    for i in range(MAX_DEPTH + 1):
        deep = deep / f"d{i}"
        deep.mkdir()
        (deep / "x.png").write_bytes((shot_dir / PAIR[0]).read_bytes())
    (shot_dir / ".hidden.png").write_bytes(b"x")
    d = ShotDir(shot_dir)
    names = [s.name for s in d.list()]
    assert ".hidden.png" not in names
    assert "d0/d1/d2/d3/x.png" in names and not any(n.count("/") > MAX_DEPTH for n in names)
    assert len(d.list(limit=3)) == 3


def test_manifest_fields_in_the_listing(shot_dir):
    doc = {"kind": "scopecheck-capture/1", "image": {"width": 320, "height": 240, "sha256": "ab" * 32,
                                                     "pixel_sha256": "cd" * 32}}
    (shot_dir / "ihc_shot1.manifest.json").write_text(json.dumps(doc))
    (shot_dir / "ihc_particle.manifest.json").write_text("not json")
    by_name = {s.name: s for s in ShotDir(shot_dir).list()}
    shot = by_name[PAIR[0]].to_json()
    assert shot["manifest"] == "ihc_shot1.manifest.json" and shot["pixel_sha256"] == "cd" * 32
    assert by_name[PAIR[1]].pixel_sha256 is None  # a broken manifest is listed, not trusted
    with pytest.raises(InputError, match="not JSON"):
        ShotDir(shot_dir).read_manifest(PAIR[1])

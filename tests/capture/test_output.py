"""-o names and templates; PNG and manifest published together or not at all (issue 8 A2, C, D)."""
from __future__ import annotations

import os
import re

import pytest

from scopecheck.capture import output
from scopecheck.capture.output import check_output, manifest_path_for, name_for, next_free, write_pair
from scopecheck.compare.errors import InputError, OutputExistsError


@pytest.mark.parametrize("template, message", [
    ("{n.foo}.png", "field {n.foo} is not allowed"),
    ("x{n[0]}.png", "field {n[0]} is not allowed"),
    ("{n!r}.png", "not an integer format"),
    ("{n:s}.png", "not an integer format"),
    ("{n:>{w}}.png", "not an integer format"),
    ("{}.png", "empty field"),
    ("{k}.png", "field {k} is not allowed"),
    ("{n}/shot.png", "only appear in the file name"),
    ("../{n}/shot.png", "only appear in the file name"),
    ("{n}{.png", "bad name template"),
    ("shot}.png", "bad name template"),
])
def test_bad_templates_are_one_input_error(tmp_path, template, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_output(str(tmp_path / template) if not template.startswith("..") else template)


@pytest.mark.parametrize("template, first", [("shot_{n:03d}.png", "shot_001.png"), ("s{n}.png", "s1.png"),
                                             ("s{n:4}.png", "s   1.png"), ("s{n:d}_{n:02d}.png", "s1_01.png")])
def test_good_templates_name_files_in_the_given_directory(tmp_path, template, first):
    t = str(tmp_path / template)
    check_output(t)
    assert name_for(t, 1) == str(tmp_path / first)
    assert os.path.dirname(name_for(t, 10 ** 9)) == str(tmp_path)


def test_next_free_skips_a_name_whose_manifest_exists(tmp_path):
    (tmp_path / "s1.manifest.json").write_text("{}")
    assert next_free(str(tmp_path / "s{n}.png")) == str(tmp_path / "s2.png")


def test_write_pair_refuses_when_either_exists_and_writes_nothing(tmp_path):
    p = str(tmp_path / "a.png")
    (tmp_path / "a.manifest.json").write_text("keep")
    with pytest.raises(OutputExistsError):
        write_pair(p, b"png", manifest_path_for(p), b"{}")
    assert sorted(os.listdir(tmp_path)) == ["a.manifest.json"]
    assert (tmp_path / "a.manifest.json").read_text() == "keep"


def test_a_kill_before_publishing_leaves_only_hidden_temporaries(tmp_path, monkeypatch):
    # Simulate SIGKILL after both temporaries were written: _publish never returns and nothing
    # cleans up (we stop the world by raising an exception the code cannot see in a real kill).
    seen = []

    def killed(tmp, path, overwrite):
        seen.extend(sorted(os.listdir(tmp_path)))
        raise SystemExit("killed")

    monkeypatch.setattr(output, "_publish", killed)
    monkeypatch.setattr(output, "_unlink", lambda p: None)  # a killed process removes nothing
    import numpy as np

    from scopecheck.capture.png import encode_png

    with pytest.raises(SystemExit):
        write_pair(str(tmp_path / "a.png"), encode_png(np.zeros((4, 4), np.uint8)), str(tmp_path / "a.manifest.json"),
                   b"{}")
    left = sorted(os.listdir(tmp_path))
    assert left == seen and len(left) == 2
    # hidden, named after their target, recognised as ours: the folder walker never lists them
    from scopecheck.compare.atomic import is_temp_name
    from scopecheck.compare.walk import walk_images

    assert all(n.startswith(".a.") and is_temp_name(n) for n in left)
    assert walk_images([str(tmp_path)]).files == ()  # a real PNG inside, yet never listed


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux sysfs (unwritable even for root)")
def test_unwritable_directory_is_one_input_error():
    with pytest.raises(InputError, match="cannot write"):
        write_pair("/sys/kernel/a.png", b"png", "/sys/kernel/a.manifest.json", b"{}")
    assert not os.path.exists("/sys/kernel/a.png")


def test_a_failed_overwrite_puts_the_old_manifest_back(tmp_path, monkeypatch):
    """The PNG cannot be published (here: the disk fills between the two renames): the manifest just
    published is taken back and the one it replaced is there again, byte for byte. Before, the old
    manifest was deleted."""
    p = str(tmp_path / "a.png")
    (tmp_path / "a.png").write_bytes(b"old png")
    (tmp_path / "a.manifest.json").write_text("old manifest")
    real = output._publish

    def full_disk_for_the_png(tmp, path, overwrite):
        if path == p:
            raise OSError(28, "No space left on device")
        real(tmp, path, overwrite)

    monkeypatch.setattr(output, "_publish", full_disk_for_the_png)
    with pytest.raises(InputError, match="no space left on device"):
        write_pair(p, b"new png", manifest_path_for(p), b"new manifest", overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["a.manifest.json", "a.png"]  # no temporary left either
    assert (tmp_path / "a.manifest.json").read_text() == "old manifest"
    assert (tmp_path / "a.png").read_bytes() == b"old png"


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_overwrite_replaces_files_only_and_says_so_before_any_frame(tmp_path, kind):
    """``-o x.png --overwrite`` with a directory or a FIFO at x.png (or at its manifest): refused by
    check_output, before a frame is read, and nothing is touched."""
    (tmp_path / "x.manifest.json").write_text("keep")
    target = tmp_path / "x.png"
    if kind == "directory":
        target.mkdir()
    else:
        os.mkfifo(target)
    with pytest.raises(InputError, match=f"x.png: cannot write: is a {'directory' if kind == 'directory' else 'FIFO'}, "
                                         "not a file to replace"):
        check_output(str(target))
    with pytest.raises(InputError, match="not a file to replace"):
        write_pair(str(target), b"png", str(tmp_path / "x.manifest.json"), b"{}", overwrite=True)
    assert (tmp_path / "x.manifest.json").read_text() == "keep"

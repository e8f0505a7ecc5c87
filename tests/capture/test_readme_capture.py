"""The README's capture console blocks are true: run in order in one scratch directory, same output.

Commands and their shown output (stdout and stderr, as a terminal shows them) are compared line by
line as multisets (stderr and stdout interleave differently through pipes). Output that depends on
the machine (`devices`) or on fresh simulator noise (unseeded `sim`) is compared with its numbers
masked; `compare`'s detail lines are cut in the README, so only its first line is checked.
"""
from __future__ import annotations

import os
import re
import shlex
from collections import Counter

from tests.conftest import ROOT

README = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def blocks():
    """(command, shown output lines) from every ```console block, in order."""
    out = []
    for body in re.findall(r"```console\n(.*?)```", README, re.S):
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return out


def _mask(lines):
    return Counter(re.sub(r"[0-9a-f]{16}|\d+(\.\d+)?", "#", line) for line in lines)


def test_capture_console_blocks(tmp_path, monkeypatch, capsys):
    from scopecheck import cli

    os.symlink(os.path.join(ROOT, "fixtures"), tmp_path / "fixtures")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path)
    cmds = blocks()
    assert len(cmds) >= 10
    for command, shown in cmds:
        args = shlex.split(command)
        assert args[0] == "scopecheck"
        code = cli.main(args[1:])  # in-process: the same entry point, without a new interpreter per line
        out, err = capsys.readouterr()
        got = out.splitlines() + err.splitlines()
        assert "Traceback" not in err, err
        if args[1] == "devices":
            assert code == 0
        elif args[1] == "compare":
            assert out.splitlines()[0].split(":")[0] == shown[0].split(":")[0], got
        elif "sim" in args and "--device" in args:
            assert _mask(got) == _mask(shown), (command, got)
        else:
            assert Counter(got) == Counter(shown), (command, got)
